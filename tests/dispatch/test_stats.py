"""Wall and review figures: the honest on-time rate counts open overdue cases, on both stores."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely

from dispatch.calendar import WorkingCalendar
from dispatch.stats import figures, league, repeats, top_matters
from dispatch.workflow import Workflow
from store.models import NewCase

pytestmark = pytest.mark.slow
CAL = WorkingCalendar.load(Path(__file__).resolve().parents[2] / "data" / "xiamen" / "calendar.toml")
START = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # Thursday 09:00 in Xiamen


def test_honest_on_time_rate(store, engine, city):
    clock = {"now": START}
    wf = Workflow(store, engine, CAL, clock=lambda: clock["now"])
    cell = city.layers["grid_cells"]
    row = cell[cell["district_code"] == "350203"].iloc[300]
    p = shapely.point_on_surface(row.geometry)
    u = {r: store.add_user(r, "password1", r) for r in ("supervisor", "acceptor", "shift_lead", "dispatcher")}

    def dispatched(matter="06036"):
        c = wf.report(u["supervisor"], NewCase(matter, p.x, p.y, "supervisor", clock["now"]))
        for who, action in (("acceptor", "accept"), ("shift_lead", "file"), ("dispatcher", "dispatch")):
            c = wf.act(u[who], c.id, action, c.version)
        return c

    def finish(c):
        unit = store.add_user(f"u{c.id}", "password1", "unit", unit=c.assignee)
        for who, action in (
            (unit, "feedback"),
            (u["acceptor"], "send_check"),
            (u["supervisor"], "check_pass"),
            (u["shift_lead"], "close"),
        ):
            c = wf.act(who, c.id, action, c.version)
        return c

    a, b, overdue = dispatched(), dispatched(), dispatched()
    unfiled = wf.report(u["supervisor"], NewCase("06036", p.x, p.y, "supervisor", START))
    selfie = wf.report(u["supervisor"], NewCase("06010", p.x, p.y, "supervisor", START))
    wf.act(u["supervisor"], selfie.id, "self_handle", selfie.version)
    clock["now"] = START + timedelta(hours=1)
    assert finish(a).closed_on_time
    clock["now"] = START + timedelta(days=4)  # Monday 09:00: b and the third case are past their deadlines
    fresh = dispatched("07001")
    late = finish(b)
    assert late.closed_on_time is False
    now = clock["now"] + timedelta(minutes=5)
    facts = store.case_facts(active_since=START - timedelta(hours=1))
    f = figures(wf, facts, START - timedelta(hours=1), now)
    assert (f.reported, f.closed, f.closed_on_time, f.closed_late, f.overdue) == (6, 3, 2, 1, 2)
    assert f.open == 3 and f.dispatched == 4
    # the case never filed is overdue (立案时限) but was never the unit's: the on-time rate rates the handling
    assert wf.deadline(store.get_case(unfiled.id), now).overdue and f.overdue_handling == 1
    assert f.on_time_rate == pytest.approx(2 / 4) and f.closed_only_rate == pytest.approx(2 / 3)
    assert (
        wf.deadline(store.get_case(overdue.id), now).overdue and not wf.deadline(store.get_case(fresh.id), now).overdue
    )
    [(district, df)] = league(wf, facts, START - timedelta(hours=1), now)
    assert district == "350203" and df == f
    by_lead = dict(league(wf, facts, START - timedelta(hours=1), now, by="lead_department"))
    assert sum(x.reported for x in by_lead.values()) <= f.reported
    # the four 06036 cases share a cell: three of them repeat a matter already reported there
    assert repeats(facts, START - timedelta(hours=1))[row["code"]] == (3, 1)
    assert top_matters(facts, START - timedelta(hours=1), now)[0] == ("06036", 4)
    # a day with nothing to rate has no rate, rather than 100 %
    empty = figures(wf, [], START, now)
    assert empty.on_time_rate is None and empty.closed_only_rate is None
