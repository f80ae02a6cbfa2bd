"""The unit page's callbacks called as functions, on cases made for each test (reported, filed and dispatched to a
squad of the demo city by the demo accounts)."""

from __future__ import annotations

import base64
import io

import dash
import pytest
import shapely
from PIL import Image

from tests.pages.test_callbacks import page, signed_in
from web.auth import Denied

pytestmark = pytest.mark.slow
SQUAD_DISTRICT = "350203"  # the demo makes unit accounts for this district's squads and every department


def svc(app):
    from web.services import KEY

    return app.server.config[KEY]


def jpeg(colour=(200, 40, 40)) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, "JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def text_url(data: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


_made = iter(range(10_000))


def dispatched(app, matter="06036", beside=None):
    """A fresh case in a cell of the district (of the sub-district of case `beside`), dispatched to the cell's squad;
    (case, the squad's account)."""
    from datetime import UTC, datetime

    from store.models import NewCase

    s = svc(app)
    wf, store = s.workflow, s.store
    cells = wf.engine.city.layers["grid_cells"]
    mine = cells[cells["district_code"] == SQUAD_DISTRICT]
    if beside is not None:
        mine = mine[mine["subdistrict_code"] == beside.subdistrict]
    cell = mine.iloc[(next(_made) * 37) % len(mine)]
    p = shapely.point_on_surface(cell.geometry)
    users = {u: store.get_user(u) for u in ("sup." + SQUAD_DISTRICT, "acceptor", "shiftlead", "dispatcher")}
    case = wf.report(users["sup." + SQUAD_DISTRICT], NewCase(matter, p.x, p.y, "supervisor", datetime.now(UTC)))
    case = wf.act(users["acceptor"], case.id, "accept", case.version)
    case = wf.act(users["shiftlead"], case.id, "file", case.version)
    case = wf.act(users["dispatcher"], case.id, "dispatch", case.version, unit=f"SQ{cell['subdistrict_code']}")
    return case, f"unit.{case.assignee}"


def submit(case_id, version, action, note="", owner=None, hours=None, contents=None, names=None):
    return page("unit").submit(1, {"id": case_id}, action, note, owner, hours, contents, names, 0, version)


def test_feedback_with_a_photo_keeps_it_as_the_feedback_photo(app):
    case, account = dispatched(app)
    with signed_in(app, account):
        # the case is listed, and its panel offers feedback, with nothing pre-selected
        open_cards, *_ = page("unit").refresh(0, None, None)
        assert f"unit-case-{case.id}" in str(open_cards)
        _panel, actions, chosen, version, *_ = page("unit").show({"id": case.id})
        assert {"label": "处置反馈", "value": "feedback"} in [dict(a) for a in actions] and chosen is None
        msg, changed, selected = submit(case.id, version, "feedback", "已清理", contents=[jpeg()], names=["after.jpg"])
        assert "ok" in str(msg) and changed == 1 and selected["id"] == case.id
        # it leaves the open list for the handled one
        open_cards, done_cards, *_ = page("unit").refresh(1, None, None)
        assert f"unit-case-{case.id}" not in str(open_cards) and f"unit-case-{case.id}" in str(done_cards)
    rows = svc(app).store.media_of([case.id])
    assert [(m.stage, m.uploaded_by, m.content_type) for m in rows] == [("feedback", account, "image/jpeg")]
    assert svc(app).store.get_case(case.id).state == "handled"


@pytest.mark.parametrize(
    ("action", "params", "state"),
    [
        ("request_return", {"owner": "CGJ"}, "return_requested"),
        ("request_extension", {"hours": 6}, "extension_requested"),
        ("request_park", {}, "park_requested"),
    ],
)
def test_requests_change_the_state(app, action, params, state):
    case, account = dispatched(app)
    with signed_in(app, account):
        msg, *_ = submit(case.id, case.version, action, "需要协调 (test)", **params)
        assert "ok" in str(msg), msg
    after = svc(app).store.get_case(case.id)
    assert after.state == state
    if action == "request_return":
        assert "disputed:CGJ" in after.flags


def test_a_return_names_the_owner_and_an_extension_its_hours(app):
    case, account = dispatched(app)
    with signed_in(app, account):
        msg, *_ = submit(case.id, case.version, "request_return", "不归我们")
        assert "需注明" in str(msg)
        msg, *_ = submit(case.id, case.version, "request_return", "不归我们", owner="NOBODY")
        assert "error" in str(msg)
        for hours in (None, 0, 10_000, "abc", float("nan")):
            msg, *_ = submit(case.id, case.version, "request_extension", "x", hours=hours)
            assert "1 到 720" in str(msg) or "1–720" in str(msg) or "error" in str(msg), hours
    assert svc(app).store.get_case(case.id).version == case.version


def test_another_units_case_is_refused_and_not_listed(app):
    case, _account = dispatched(app)
    with signed_in(app, "unit.CGJ"):
        open_cards, done_cards, _banner, marks = page("unit").refresh(0, None, None)
        assert f"unit-case-{case.id}" not in str(open_cards) + str(done_cards)
        assert case.id not in [f["properties"]["id"] for f in marks["features"]]
        panel, actions, *_ = page("unit").show({"id": case.id})
        assert "不是本单位" in str(panel) and actions == []
        msg, changed, _ = submit(case.id, case.version, "feedback", "x", contents=[jpeg()], names=["a.jpg"])
        assert "error" in str(msg) and changed is dash.no_update
        msg, *_ = submit(case.id, case.version, "request_park", "x")
        assert "error" in str(msg)
    assert svc(app).store.get_case(case.id).version == case.version
    assert svc(app).store.media_of([case.id]) == []
    with signed_in(app, "dispatcher"), pytest.raises(Denied):  # not a unit: the page's callbacks refuse
        page("unit").refresh(0, None, None)


def test_bad_uploads_are_refused_translated_and_nothing_changes(app, monkeypatch):
    case, account = dispatched(app)
    s = svc(app)
    with signed_in(app, account):
        msg, *_ = submit(case.id, case.version, "feedback", "x", contents=[text_url(b"not a photo")], names=["a.txt"])
        assert "a.txt：不是 JPEG、PNG、WebP 或 HEIC 照片" in str(msg)
        msg, *_ = submit(case.id, case.version, "feedback", "x", contents=["nonsense"], names=["b.jpg"])
        assert "b.jpg" in str(msg) and "error" in str(msg)
        msg, *_ = submit(case.id, case.version, "feedback", "x", contents=[], names=[])
        assert "至少一张" in str(msg)
        seven = [f"{k}.jpg" for k in range(7)]
        msg, *_ = submit(case.id, case.version, "feedback", "x", contents=[jpeg()] * 7, names=seven)
        assert "最多 6 张" in str(msg)
        monkeypatch.setattr(s.photos, "max_bytes", 500)
        msg, *_ = submit(case.id, case.version, "feedback", "x", contents=[jpeg()], names=["big.jpg"])
        assert "big.jpg" in str(msg) and "上限" in str(msg)
        monkeypatch.undo()
        # a good photo, but a stale version: the conflict is said, and no photo row is kept
        msg, _changed, selected = submit(case.id, case.version - 1, "feedback", "x", contents=[jpeg()], names=["c.jpg"])
        assert "冲突" in str(msg) and selected.get("keep")
    after = s.store.get_case(case.id)
    assert after.version == case.version and after.state == "dispatched"
    assert s.store.media_of([case.id]) == []


def test_urged_cases_come_first_with_their_reason(app):
    first, account = dispatched(app)
    urged, _ = dispatched(app, beside=first)
    s = svc(app)
    assert urged.assignee == first.assignee
    s.workflow.act(s.store.get_user("dispatcher"), urged.id, "urge", urged.version, reason="市领导关注，今天必须处理")
    with signed_in(app, account):
        open_cards, _done, banner, _marks = page("unit").refresh(0, None, None)
        assert "市领导关注，今天必须处理" in str(banner) and urged.case_no in str(banner)
        ids = [c.id for c in open_cards]
        assert ids.index(f"unit-case-{urged.id}") < ids.index(f"unit-case-{first.id}")


def test_the_page_is_the_units_only(app):
    with signed_in(app, "unit.CGJ"):
        assert page("unit").layout().className == "page unit"
    with signed_in(app, "dispatcher"):
        assert page("unit").layout().id == "forbidden"
