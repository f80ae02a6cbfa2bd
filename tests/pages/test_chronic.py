"""/chronic: the list of chronic places by the policy's scope (a district head: their districts), and a chosen
place's repeats on a map with links to the cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store.models import ChronicPlace
from tests.pages.test_callbacks import page, signed_in
from tests.pages.test_scores import _find, _text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def places(app):
    """Two places on the demo store, one in Siming (350203) and one in Huli (350206), each with repeats of its
    district and one of them standing for its fast-track case (the page only reads them)."""
    from web.services import KEY

    store, now = app.server.config[KEY].store, datetime.now(UTC)
    made = {}
    for district in ("350203", "350206"):
        repeats = [c for c in store.cases(districts=[district], limit=50) if c.cell][:4]
        first = repeats[0]
        made[district] = store.add_chronic_place(
            ChronicPlace(0, first.matter, first.cell, district, first.lon, first.lat, first.id,
                         tuple(c.id for c in repeats), min(c.reported_at for c in repeats),
                         max(c.reported_at for c in repeats), "open", 14, 50.0, now, now)
        )  # fmt: skip
    return made


def test_a_district_head_sees_only_their_districts_places(app, places):
    chronic = page("chronic")
    mine, theirs = places["350203"], places["350206"]
    with signed_in(app, "head.350203"):
        view = chronic.layout()
        assert _find(view, f"chronic-row-{mine.id}") is not None
        assert _find(view, f"chronic-row-{theirs.id}") is None
        row = _text(_find(view, f"chronic-row-{mine.id}"))
        assert "思明区" in row and str(len(mine.case_ids)) in row and "复发中" in row
        view = chronic.layout(place=str(theirs.id))  # another district's place is not shown by its address
        assert _find(view, "chronic-detail") is None
    with signed_in(app, "admin"):
        view = chronic.layout(state="open")
        assert _find(view, f"chronic-row-{mine.id}") is not None and _find(view, f"chronic-row-{theirs.id}")
        assert _find(chronic.layout(state="closed"), f"chronic-row-{mine.id}") is None


def test_a_chosen_place_shows_its_repeats_on_a_map(app, places):
    chronic = page("chronic")
    place = places["350203"]
    with signed_in(app, "shiftlead"):
        view = chronic.layout(place=str(place.id))
        assert _find(view, "chronic-map") is not None
        links = _find(view, "chronic-repeats").children
        assert len(links) == len(place.case_ids)
        assert {li.children[0].href for li in links} == {f"/case/{i}" for i in place.case_ids}
        assert "50" in _text(_find(view, "chronic-detail"))  # the rule in words: the radius


@pytest.mark.parametrize("who", ["wall", "acceptor", "sup.350203"])
def test_other_roles_are_refused(app, who):
    with signed_in(app, who):
        assert _find(page("chronic").layout(), "forbidden") is not None
