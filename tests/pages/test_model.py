"""/model: the model streets and dog-keeping model communities of the user's districts, one of them with its
figures for the last 30 days beside its district's (checked here against the store's cases counted by hand), the
district scope, and the roles refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.pages.test_callbacks import page, signed_in
from tests.pages.test_scores import _find, _text

pytestmark = pytest.mark.slow
CLOSED = ("closed", "voided")


def _busiest_street(app):
    """The model street with the most cases in the demo store, and those cases (by their ownership answer)."""
    from web.services import KEY

    svc = app.server.config[KEY]
    wf = svc.workflow
    since = wf.clock() - timedelta(days=30)
    streets = wf.engine.city.layers["model_streets"]
    best = None
    for r in streets.itertuples():
        on = [c for c in svc.store.cases(districts=[r.district_code], active_since=since)
              if c.ownership["zones"].get("model_street") == r.id]  # fmt: skip
        if best is None or len(on) > len(best[1]):
            best = (r, on)
    return best


def test_the_lists_follow_the_district_scope(app):
    from web.services import KEY

    city = app.server.config[KEY].workflow.engine.city
    streets = city.layers["model_streets"]
    comms = city.layers["communities"]
    mine = streets[streets["district_code"] == "350203"]["id"].tolist()
    theirs = streets[streets["district_code"] != "350203"]["id"].tolist()
    dog = comms[comms["dog_model"].astype(bool)]
    assert len(dog) == 6 and sorted(dog["district_code"]) == sorted(city.layers["districts"]["code"])
    with signed_in(app, "head.350203"):
        view = page("model").layout()
        assert mine and all(_find(view, f"model-row-{s}") is not None for s in mine)
        assert all(_find(view, f"model-row-{s}") is None for s in theirs)
        siming_dog = dog[dog["district_code"] == "350203"]["code"].iloc[0]
        assert _find(view, f"model-row-{siming_dog}") is not None
        # another district's street by its address: the same answer as an unknown one, no figures
        view = page("model").layout(street=theirs[0])
        assert _find(view, "model-detail") is None and _find(view, "model-error") is not None
    with signed_in(app, "dispatcher"):
        view = page("model").layout()
        assert all(_find(view, f"model-row-{s}") is not None for s in mine + theirs)
        assert _find(page("model").layout(street="nonsense<>"), "model-error") is not None


def test_a_street_s_figures_are_its_cases_counted_by_hand(app):
    from web.services import KEY

    wf = app.server.config[KEY].workflow
    street, on = _busiest_street(app)
    assert on, "the demo store has cases on a model street"
    now = wf.clock()
    since = now - timedelta(days=30)
    reported = [c for c in on if since <= c.reported_at <= now]
    seen: dict[tuple[str, str], int] = {}
    for c in reported:
        seen[(c.cell, c.matter)] = seen.get((c.cell, c.matter), 0) + 1
    repeats = sum(n - 1 for n in seen.values() if n > 1)
    closed = [c for c in on if c.state == "closed" and c.closed_at and since <= c.closed_at <= now]
    on_time = sum(1 for c in closed if c.closed_on_time)
    late = sum(1 for c in closed if c.closed_on_time is False)
    with signed_in(app, f"head.{street.district_code}"):
        view = page("model").layout(street=street.id)
    assert street.name in _text(_find(view, "model-title"))

    def here(key):
        return _find(view, f"model-fig-{key}").children[1].children

    assert here("reported") == str(len(reported))
    assert here("repeats") == str(repeats)
    closed_on_time, closed_late, overdue = (int(v) for v in here("rated").split(" / "))
    assert (closed_on_time, closed_late) == (on_time, late)
    open_now = [c for c in on if c.state not in CLOSED]
    assert here("open") == str(len(open_now))
    assert overdue <= len(open_now)
    rate = here("on_time")
    total = on_time + late + overdue
    assert rate == (f"{100 * on_time / total:.1f}%" if total else "—（无可评）")
    # every case listed is one of the street's, linked to its page; the map is there
    links = _find(view, "model-cases").children
    assert {li.children[0].href for li in links} == {f"/case/{c.id}" for c in on} if on else True
    assert _find(view, "model-map") is not None


def test_a_community_page(app):
    from web.services import KEY

    city = app.server.config[KEY].workflow.engine.city
    comms = city.layers["communities"]
    code = comms[comms["dog_model"].astype(bool) & (comms["district_code"] == "350206")]["code"].iloc[0]
    with signed_in(app, "head.350206"):
        view = page("model").layout(community=code)
        assert _find(view, "model-figures") is not None and _find(view, "model-map") is not None
    with signed_in(app, "head.350203"):
        assert _find(page("model").layout(community=code), "model-detail") is None


@pytest.mark.parametrize("who", ["wall", "acceptor", "sup.350203", "unit.CGJ"])
def test_other_roles_are_refused(app, who):
    with signed_in(app, who):
        assert _find(page("model").layout(), "forbidden") is not None
