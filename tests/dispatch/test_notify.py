"""The top bar's counts per role on a small set of cases, escalation past the limit (once), and the outbox messages
workflow steps make."""

from datetime import timedelta

import numpy as np
import pytest
import shapely

from dispatch.notify import ESCALATED, badges, escalate_due, facts_of, sweep, with_outbox
from dispatch.workflow import Workflow
from store.models import NewCase
from tests.dispatch.test_policy import CAL, PARAMS, PATHS, Clock

pytestmark = pytest.mark.slow


@pytest.fixture
def world(store, engine, city):
    clock = Clock()
    wf = with_outbox(Workflow(store, engine, CAL, clock))
    cells = city.layers["grid_cells"]
    cell = cells[cells["district_code"] == "350203"].iloc[200]
    p = shapely.point_on_surface(cell.geometry)
    squad = f"SQ{cell['subdistrict_code']}"
    people = {
        "sup": store.add_user("sup", "password1", "supervisor", ["350203"]),
        "acc": store.add_user("acc", "password1", "acceptor"),
        "lead": store.add_user("lead", "password1", "shift_lead"),
        "disp": store.add_user("disp", "password1", "dispatcher"),
        "unit": store.add_user("unit", "password1", "unit", unit=squad),
        "other_unit": store.add_user("other", "password1", "unit", unit="SQ350206001"),
        "head": store.add_user("head", "password1", "district_head", ["350203"]),
        "head_huli": store.add_user("head2", "password1", "district_head", ["350206"]),
    }
    return wf, people, (p.x, p.y), squad, clock


def make(wf, people, point, squad, state):
    case = wf.report(people["sup"], NewCase("06036", point[0], point[1], "supervisor", wf.clock()))
    for who, action in PATHS[state]:
        params = {"unit": squad} if action == "dispatch" else PARAMS.get(action, {})
        case = wf.act(people[who], case.id, action, case.version, reason="because", **params)
    return case


def counts(wf, user, now, after_h=8.0):
    facts = [f for f in wf.store.case_facts(active_since=now) if f.state not in ("closed", "voided")]
    _, _, overdue = wf.deadline_flags(facts, now)
    return {b.kind: b.count for b in badges(user, facts_of(wf, facts, overdue, now, after_h))}


def test_counts_per_role(world):
    wf, people, point, squad, clock = world
    for state in ("reported", "reported", "filed", "dispatched", "dispatched", "return_requested", "void_requested"):
        make(wf, people, point, squad, state)
    checked = make(wf, people, point, squad, "checked")
    urged = make(wf, people, point, squad, "dispatched")
    wf.act(people["disp"], urged.id, "urge", urged.version, reason="快")
    reworked = make(wf, people, point, squad, "handled")
    wf.act(people["acc"], reworked.id, "rework", reworked.version, reason="没修好")
    now = clock.now + timedelta(minutes=1)  # nothing is overdue yet
    assert counts(wf, people["acc"], now) == {"new_reports": 2, "to_close": 1}
    assert counts(wf, people["disp"], now) == {"to_dispatch": 1, "to_approve": 1, "returns": 1}
    assert counts(wf, people["lead"], now) == {"void_requests": 1}
    # the unit: its dispatched cases (2, the urged one and the one back for rework); not the one it asked to return
    assert counts(wf, people["unit"], now) == {"unit_waiting": 4, "urged": 1, "returned": 1}
    assert counts(wf, people["other_unit"], now) == {}  # another squad's cases are not its business
    assert counts(wf, people["head_huli"], now) == {}
    assert checked.state == "checked"


def test_escalation_past_the_limit_once(world):
    wf, people, point, squad, clock = world
    late = make(wf, people, point, squad, "dispatched")
    # 3 working hours past the unit's deadline: overdue; with a 2 h limit escalated, with a 4 h limit not yet
    now = wf.calendar.add(late.deadline_at, 3 * 3600)
    assert counts(wf, people["head"], now, after_h=4) == {"overdue": 1}
    assert counts(wf, people["head"], now, after_h=2) == {"overdue": 1, "escalated": 1}
    assert counts(wf, people["lead"], now, after_h=2) == {"escalated": 1}
    assert counts(wf, people["head_huli"], now, after_h=2) == {}
    clock.now = now
    assert sweep(wf, now, 4) == []
    done = sweep(wf, now, 2)
    assert [c.id for c in done] == [late.id] and ESCALATED in done[0].flags
    assert wf.store.events(late.id)[-1].actor == "system"
    assert sweep(wf, now, 2) == []  # once per case
    messages = [d for d in wf.store.deliveries() if d.kind == "escalation"]
    assert len(messages) == 1 and messages[0].payload["case"]["no"] == late.case_no
    assert messages[0].payload["to"]["roles"] == ["shift_lead", "district_head"]


def test_escalate_skips_a_case_changed_meanwhile(world):
    wf, people, point, squad, _clock = world
    late = make(wf, people, point, squad, "dispatched")
    now = wf.calendar.add(late.deadline_at, 10 * 3600)
    facts = [f for f in wf.store.case_facts(active_since=now) if f.id == late.id]
    snap = facts_of(wf, facts, np.array([True]), now, 1)
    wf.act(people["disp"], late.id, "urge", late.version, reason="快")  # the sweep's record is stale now
    assert escalate_due(wf, snap, now) == []
    assert ESCALATED not in wf.store.get_case(late.id).flags


def test_steps_that_tell_someone_keep_a_message(world):
    wf, people, point, squad, _clock = world
    case = make(wf, people, point, squad, "dispatched")
    wf.act(people["disp"], case.id, "urge", case.version, reason="今天处理")
    kinds = [(d.kind, d.payload["to"]) for d in reversed(wf.store.deliveries())]
    assert kinds == [("dispatched", {"unit": squad}), ("urge", {"unit": squad})]
    urge = wf.store.deliveries()[0]
    assert urge.payload["reason"] == "今天处理" and urge.payload["case"]["url"] == f"/case/{case.id}"
