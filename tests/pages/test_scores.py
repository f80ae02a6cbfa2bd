"""/scores: each unit's score with its formula and numbers, the cases behind a count, by the policy's scope;
and the XLSX of a period's scores."""

from __future__ import annotations

import io
import warnings
from datetime import UTC, datetime

import openpyxl
import pytest

from tests.pages.test_callbacks import page, signed_in
from web.auth import Denied

pytestmark = pytest.mark.slow
PERIOD = f"{datetime.now(UTC):%Y-%m}"  # the demo history ends now


def _text(node) -> str:
    if isinstance(node, str | int | float):
        return str(node)
    if node is None:
        return ""
    kids = getattr(node, "children", None)
    if isinstance(kids, list | tuple):
        return " ".join(_text(k) for k in kids)
    return _text(kids)


def _find(node, ident):
    if getattr(node, "id", None) == ident:
        return node
    kids = getattr(node, "children", None)
    for k in kids if isinstance(kids, list | tuple) else [kids]:
        if k is not None and not isinstance(k, str | int | float):
            found = _find(k, ident)
            if found is not None:
                return found
    return None


def test_a_district_head_sees_their_district_and_the_cases_behind_a_count(app):
    scores = page("scores")
    with signed_in(app, "head.350203"):
        view = scores.layout(level="district", period=PERIOD)
        rows = _find(view, "scores-table").children[1].children
        assert len(rows) == 1 and "思明区" in _text(rows[0])  # only their own district
        assert _find(view, "scores-level-inspector") is None  # people's scores are not theirs
        view = scores.layout(level="district", period=PERIOD, unit="350203", counter="closed")
        explain = _text(_find(view, "scores-explain-on_time_closing"))
        assert "按期结案率" in explain and "÷" in explain and "%" in explain
        closed = _text(_find(view, "scores-counter-closed"))
        n = int(closed.rsplit(":", 1)[1])
        links = _find(view, "scores-cases").children
        assert n > 0 and len(links) == min(n, scores.MAX_CASES)
        assert all(li.children.href.startswith("/case/") for li in links)
        # the counted cases really closed in the district within the period
        from web.services import services

        store = services().store
        some = [store.get_case(int(li.children.href.rsplit("/", 1)[1])) for li in links[:20]]
        assert all(c.district == "350203" and c.closed_at is not None for c in some)
        view = scores.layout(level="inspector", period=PERIOD)  # not open to a head: the first level instead
        assert _find(view, "scores-level-inspector") is None


def test_people_levels_for_a_shift_lead_and_no_page_for_a_dispatcher(app):
    scores = page("scores")
    with signed_in(app, "shiftlead"):
        view = scores.layout(level="dispatcher", period=PERIOD)
        assert "dispatcher" in _text(_find(view, "scores-table"))
    with signed_in(app, "dispatcher"):
        assert _find(scores.layout(), "forbidden") is not None
        with pytest.raises(Denied):
            from web.scores import result
            from web.services import services

            result(services().store.get_user("dispatcher"), "district", PERIOD)


def test_the_xlsx_of_a_period(client):
    from tests.web.conftest import sign_in

    sign_in(client, "head.350203")
    r = client.get(f"/export/scores/district/{PERIOD}.xlsx")
    assert r.status_code == 200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    header = [c.value for c in sheet[1]]
    assert "按期结案率" in header and "综合得分" in header and sheet.max_row == 2
    assert client.get("/export/scores/district/2026-13.xlsx").status_code == 400
    assert client.get(f"/export/scores/mayor/{PERIOD}.xlsx").status_code == 404
    assert client.get(f"/export/scores/inspector/{PERIOD}.xlsx").status_code == 403


def test_the_district_page_shows_its_score_with_the_formulas(app):
    district = page("district")
    with signed_in(app, "head.350203"):
        block = district.district_score(None, "350203")
        text = " ".join(_text(b) for b in block)
        assert "本月考评" in text and "按期结案率 = " in text and "÷" in text
        assert block[-1].href.startswith("/scores?level=district")
    with signed_in(app, "dispatcher"):  # may open the district page, not the scores
        assert district.district_score(None, "350203") == []
