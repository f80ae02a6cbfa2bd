"""The district review's unit tables count each case against the unit that was given it (its assignee), not the
squad the map suggested (issue 12: the squad league counted the suggestion)."""

import pytest

from web.review import review

pytestmark = pytest.mark.slow


def test_units_answer_for_the_cases_they_were_given(app):
    from web.services import KEY

    svc = app.server.config[KEY]
    with app.server.test_request_context():
        r = review(svc, "350203", "30d")
    squads = set(svc.workflow.engine.city.layers["squads"]["id"])
    assert r.squads and all(u in squads for u, _ in r.squads)
    assert all(u not in squads for u, _ in r.departments)
    given = {}
    for f in r.facts:
        if f.assignee and f.reported_at >= r.since:
            given[f.assignee] = given.get(f.assignee, 0) + 1
    shown = {u: f.reported for u, f in (*r.squads, *r.departments)}
    assert {u: n for u, n in shown.items() if n} == given
    # some case went to a unit other than the squad the map suggested: it counts for the unit that had it
    moved = [f for f in r.facts if f.assignee and f.assignee != f.squad and f.reported_at >= r.since]
    assert moved
