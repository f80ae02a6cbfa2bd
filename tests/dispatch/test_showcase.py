"""A model street's figures (dispatch/showcase.py) against cases made for the test and counted by hand: cases on
the street by their ownership answer, repeats in one grid cell, the honest on-time rate (an open case past its
deadline counts against it), and the district's side per km²."""

from __future__ import annotations

import pytest
import shapely

from dispatch.showcase import compare, places
from dispatch.stats import figures
from tests.dispatch.test_workflow import new, run

pytestmark = pytest.mark.slow
MATTER = "06036"


def test_a_street_against_its_district(flow, city, store):
    wf, clock, u, elsewhere, _sub = flow
    street = next(p for p in places(wf, "street", ("350203",)))
    custodian = city.layers["model_streets"].set_index("id").loc[street.id, "custodian_squad"]
    u["ms"] = store.add_user("unit.ms", "password1", "unit", unit=custodian)
    p = shapely.point_on_surface(street.geometry)
    on = (p.x, p.y)

    def dispatched(point):
        c = wf.report(u["sup"], new(point, matter=MATTER))
        return run(wf, c, (u["acc"], "accept", {}), (u["lead"], "file", {}), (u["disp"], "dispatch", {}))

    closed = run(
        wf,
        dispatched(on),
        (u["ms"], "feedback", {}),
        (u["acc"], "send_check", {}),
        (u["sup"], "check_pass", {}),
        (u["lead"], "close", {}),
    )
    assert closed.closed_on_time and closed.ownership["zones"]["model_street"] == street.id
    late = dispatched(on)  # stays open, and will be past its deadline
    repeat = wf.report(u["sup"], new(on, matter=MATTER))  # a third report of the matter in the same cell
    away = dispatched(elsewhere)
    assert away.ownership["zones"]["model_street"] is None
    clock.advance(days=10)
    assert wf.deadline(late).overdue
    c = compare(wf, street, clock.now)
    assert {f.id for f in c.facts} == {closed.id, late.id, repeat.id}
    assert (c.item.cases, c.item.repeats) == (3, 2)  # three of one matter in one cell: two repeats
    f = c.item.figures
    assert (f.closed_on_time, f.closed_late, f.overdue_handling, f.open) == (1, 0, 1, 2)
    assert f.on_time_rate == pytest.approx(0.5)
    assert c.item.per_km2 == pytest.approx(3 / street.area_km2)
    assert c.item.repeat_share == pytest.approx(2 / 3)
    # the district: the street's cases and the one elsewhere, per km² of its land
    assert c.district.cases == 4 and c.district.repeats == 2
    assert c.district.figures == figures(wf, store.case_facts(districts=["350203"]), c.since, c.now)
    assert c.district.figures.overdue_handling == 2 and c.district.figures.on_time_rate == pytest.approx(1 / 3)
    assert c.district.area_km2 > 50 * street.area_km2
