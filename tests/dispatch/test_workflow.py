"""The closed loop on both stores: every transition, roles, district scope, deadlines, conflicts."""

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely

from dispatch.calendar import WorkingCalendar
from dispatch.workflow import Workflow
from store.errors import Conflict, Forbidden, Invalid
from store.models import NewCase

pytestmark = pytest.mark.slow
CAL = WorkingCalendar.load(Path(__file__).resolve().parents[2] / "data" / "xiamen" / "calendar.toml")
START = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # Thursday 09:00 in Xiamen


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def flow(store, engine, city):
    clock = Clock()
    wf = Workflow(store, engine, CAL, clock)
    cell = city.layers["grid_cells"]
    siming = cell[cell["district_code"] == "350203"].iloc[200]
    p = shapely.point_on_surface(siming.geometry)
    sub = siming["subdistrict_code"]
    users = {
        "sup": store.add_user("sup", "password1", "supervisor", ["350203"]),
        "acc": store.add_user("acc", "password1", "acceptor"),
        "lead": store.add_user("lead", "password1", "shift_lead"),
        "disp": store.add_user("disp", "password1", "dispatcher"),
        "unit": store.add_user("unit", "password1", "unit", unit=f"SQ{sub}"),
        "other_unit": store.add_user("other", "password1", "unit", unit="SQ350206001"),
        "head_huli": store.add_user("head", "password1", "district_head", ["350206"]),
        "wall": store.add_user("wall", "password1", "wall"),
    }
    return wf, clock, users, (p.x, p.y), sub


def new(lon_lat, matter="06036", source="supervisor", urgency="normal"):
    return NewCase(matter=matter, lon=lon_lat[0], lat=lon_lat[1], source=source, reported_at=START, urgency=urgency)


def run(wf, case, *steps):
    for user, action, kw in steps:
        case = wf.act(user, case.id, action, case.version, **kw)
    return case


def to_dispatched(wf, u, point, **kw):
    c = wf.report(u["sup"], new(point, **kw))
    return run(wf, c, (u["acc"], "accept", {}), (u["lead"], "file", {}), (u["disp"], "dispatch", {}))


def test_the_closed_loop(flow):
    wf, clock, u, point, sub = flow
    c = wf.report(u["sup"], new(point))
    assert c.state == "reported" and c.squad == f"SQ{sub}" and c.ownership["trace"][-1]["applies"]
    c = run(wf, c, (u["acc"], "accept", {}), (u["lead"], "file", {}))
    assert c.state == "filed" and c.work_seconds == 7 * 3600  # 06036: 1 working day
    clock.advance(minutes=30)
    c = wf.act(u["disp"], c.id, "dispatch", c.version)
    assert c.assignee == f"SQ{sub}" and c.deadline_at == CAL.add(clock.now, 7 * 3600)
    status = wf.deadline(c)
    assert status.seconds_left == 7 * 3600 and not status.overdue and not status.at_risk
    clock.advance(hours=3)
    c = run(
        wf,
        c,
        (u["unit"], "feedback", {}),
        (u["acc"], "send_check", {}),
        (u["sup"], "check_pass", {}),
        (u["lead"], "close", {}),
    )
    assert c.state == "closed" and c.closed_on_time and c.closed_at == clock.now
    actions = [e.action for e in wf.store.events(c.id)]
    assert actions == ["report", "accept", "file", "dispatch", "feedback", "send_check", "check_pass", "close"]


def test_public_reports_are_verified_first(flow):
    wf, _, u, point, _ = flow
    c = wf.report(u["acc"], new(point, source="hotline"))
    with pytest.raises(Invalid, match="verify first"):
        wf.act(u["acc"], c.id, "accept", c.version)
    c = run(wf, c, (u["acc"], "send_verify", {}), (u["sup"], "verify", {}))
    assert c.state == "accepted"


def test_wrong_state_is_refused_and_says_why(flow):
    wf, _, u, point, _ = flow
    c = wf.report(u["sup"], new(point))
    with pytest.raises(Invalid, match="it is reported, and dispatch needs filed"):
        wf.act(u["disp"], c.id, "dispatch", c.version)


def test_district_scope_and_assignee(flow):
    wf, _, u, point, _ = flow
    c = to_dispatched(wf, u, point)
    with pytest.raises(Forbidden, match="outside head's scope"):
        wf.act(u["head_huli"], c.id, "urge", c.version, reason="hurry")
    with pytest.raises(Forbidden, match="assigned to"):
        wf.act(u["other_unit"], c.id, "feedback", c.version)
    huli_sup = wf.store.add_user("sup2", "password1", "supervisor", ["350206"])
    with pytest.raises(Forbidden, match="district 350203 is outside sup2"):
        wf.report(huli_sup, new(point))


def test_return_goes_back_to_the_dispatcher_with_the_disputed_owner(flow):
    wf, _, u, point, _ = flow
    c = to_dispatched(wf, u, point)
    with pytest.raises(Invalid, match="disputed_owner"):
        wf.act(u["unit"], c.id, "request_return", c.version, reason="not ours")
    c = wf.act(u["unit"], c.id, "request_return", c.version, reason="not ours", disputed_owner="SZYL")
    c = wf.act(u["disp"], c.id, "approve_return", c.version)
    assert c.state == "filed" and c.assignee is None and "disputed:SZYL" in c.flags and "returned" in c.flags
    c = wf.act(u["disp"], c.id, "dispatch", c.version, unit="SZYL")
    assert c.assignee == "SZYL"


def test_extension_moves_the_deadline(flow):
    wf, _, u, point, _ = flow
    c = to_dispatched(wf, u, point)
    before = c.deadline_at
    c = wf.act(u["unit"], c.id, "request_extension", c.version, reason="needs a crane", hours=14)
    c = wf.act(u["disp"], c.id, "approve_extension", c.version)
    assert c.state == "dispatched" and c.deadline_at == CAL.add(before, 14 * 3600) and "extended" in c.flags


def test_parking_pauses_the_clock(flow):
    wf, clock, u, point, _ = flow
    c = to_dispatched(wf, u, point)
    left = CAL.between(clock.now, c.deadline_at)
    c = run(wf, c, (u["unit"], "request_park", {"reason": "owner abroad"}), (u["disp"], "approve_park", {}))
    clock.advance(days=10)
    assert wf.deadline(c).paused and not wf.deadline(c).overdue
    c = wf.act(u["disp"], c.id, "unpark", c.version)
    assert CAL.between(clock.now, c.deadline_at) == pytest.approx(left)


def test_overdue_and_at_risk(flow):
    wf, clock, u, point, _ = flow
    c = to_dispatched(wf, u, point)
    clock.advance(hours=5, minutes=30)  # Thursday 14:30, after the lunch break
    assert wf.deadline(c).seconds_left == CAL.between(clock.now, c.deadline_at) == 4 * 3600
    clock.now = c.deadline_at - timedelta(minutes=30)
    assert wf.deadline(c).at_risk and not wf.deadline(c).overdue
    clock.now = c.deadline_at + timedelta(hours=1)
    assert wf.deadline(c).overdue
    c = wf.act(u["unit"], c.id, "feedback", c.version)
    assert c.closed_on_time is False


def test_void_request_approved_or_rejected(flow):
    wf, _, u, point, _ = flow
    c = to_dispatched(wf, u, point)
    c = wf.act(u["disp"], c.id, "request_void", c.version, reason="duplicate")
    c = wf.act(u["lead"], c.id, "reject_void", c.version, reason="not a duplicate")
    assert c.state == "dispatched"
    c = wf.act(u["disp"], c.id, "request_void", c.version, reason="duplicate of another")
    c = wf.act(u["lead"], c.id, "approve_void", c.version)
    assert c.state == "voided"


def test_urging_and_self_handling(flow):
    wf, _, u, point, _ = flow
    c = to_dispatched(wf, u, point)
    c = wf.act(u["lead"], c.id, "urge", c.version, reason="third complaint")
    assert c.state == "dispatched" and "urged" in c.flags
    small = wf.report(u["sup"], new(point))
    small = wf.act(u["sup"], small.id, "self_handle", small.version)
    assert small.state == "closed" and "self_handled" in small.flags


def test_rework_after_a_failed_check(flow):
    wf, _, u, point, _ = flow
    c = to_dispatched(wf, u, point)
    c = run(
        wf,
        c,
        (u["unit"], "feedback", {}),
        (u["acc"], "send_check", {}),
        (u["sup"], "check_fail", {"reason": "still there"}),
    )
    assert c.state == "dispatched" and "reworked" in c.flags


def test_two_dispatchers_at_once(flow):
    wf, _, u, point, _ = flow
    c = wf.report(u["sup"], new(point))
    c = run(wf, c, (u["acc"], "accept", {}), (u["lead"], "file", {}))
    other = wf.store.add_user("disp2", "password1", "dispatcher")
    outcome: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def go(user, unit):
        barrier.wait()
        try:
            wf.act(user, c.id, "dispatch", c.version, unit=unit)
            outcome[user.username] = "won"
        except Conflict as exc:
            outcome[user.username] = str(exc)

    threads = [threading.Thread(target=go, args=(u["disp"], "JDB")), threading.Thread(target=go, args=(other, "CGJ"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(v == "won" for v in outcome.values()) == [False, True]
    loser = next(v for v in outcome.values() if v != "won")
    winner = next(k for k, v in outcome.items() if v == "won")
    assert f"changed by {winner}" in loser


def test_unknown_inputs_are_refused(flow):
    wf, _, u, point, _ = flow
    with pytest.raises(Invalid, match="unknown matter"):
        wf.report(u["sup"], new(point, matter="12345"))
    with pytest.raises(Invalid, match="outside the city"):
        wf.report(u["sup"], new((2.35, 48.85)))
    with pytest.raises(Invalid, match="unknown source"):
        wf.report(u["sup"], new(point, source="rumour"))
    c = wf.report(u["sup"], new(point))
    with pytest.raises(Invalid, match="unknown action"):
        wf.act(u["sup"], c.id, "teleport", c.version)
    with pytest.raises(Invalid, match="needs a reason"):
        wf.act(u["lead"], c.id, "urge", c.version)


def test_staged_deadlines_for_illegal_construction(flow):
    wf, clock, u, point, _ = flow
    c = to_dispatched(wf, u, point, matter="06001")  # 私搭乱建: stop work 4 h -> penalty 7 d -> demolition 15 d
    lianwei = wf.store.add_user("lw", "password1", "unit", unit=c.assignee)
    assert c.deadline_at == CAL.add(c.dispatched_at, 4 * 3600) and wf.stage(c)[0] == 1
    with pytest.raises(Invalid, match="stage 1 of 3 \\(stop_work\\)"):
        wf.act(lianwei, c.id, "feedback", c.version)
    clock.advance(hours=2)
    c = wf.act(lianwei, c.id, "complete_stage", c.version)
    assert wf.stage(c)[0] == 2 and c.deadline_at == CAL.add(clock.now, 7 * 7 * 3600)
    c = wf.act(lianwei, c.id, "complete_stage", c.version)
    assert wf.stage(c)[0] == 3 and c.work_seconds == 15 * 7 * 3600
    with pytest.raises(Invalid, match="no further stage"):
        wf.act(lianwei, c.id, "complete_stage", c.version)
    c = wf.act(lianwei, c.id, "feedback", c.version)
    assert c.state == "handled" and c.closed_on_time


def test_unparking_keeps_the_overdue_time(flow):
    # parked two working hours after its deadline, the case comes back two working hours overdue, not just due
    wf, clock, u, point, _ = flow
    c = to_dispatched(wf, u, point)
    clock.now = CAL.add(c.deadline_at, 2 * 3600)
    c = run(wf, c, (u["unit"], "request_park", {"reason": "owner abroad"}), (u["disp"], "approve_park", {}))
    assert wf.deadline(c).overdue and wf.deadline(c).paused
    clock.advance(days=10)
    c = wf.act(u["disp"], c.id, "unpark", c.version)
    assert CAL.between(clock.now, c.deadline_at) == pytest.approx(-2 * 3600)
    status = wf.deadline(c)
    assert status.overdue and status.seconds_left == pytest.approx(-2 * 3600) and not status.paused


def test_a_deadline_past_the_declared_years_is_refused_and_names_the_calendar(flow):
    # Thursday 31 December 16:00: a day's work would end in 2027, whose holidays are not declared yet
    wf, clock, u, point, _ = flow
    clock.now = datetime(2026, 12, 31, 8, 0, tzinfo=UTC)
    c = wf.report(u["sup"], new(point))
    c = run(wf, c, (u["acc"], "accept", {}), (u["lead"], "file", {}))
    with pytest.raises(Invalid, match=r"calendar\.toml declares 2026 only; add \[years\.2027\]"):
        wf.act(u["disp"], c.id, "dispatch", c.version)
    assert wf.store.get_case(c.id).state == "filed"
    # the console still shows it: its dispatch deadline (16:00 + 1 working hour) is in 2026
    assert wf.deadline(c).deadline_at == datetime(2026, 12, 31, 9, 0, tzinfo=UTC)
    clock.now = datetime(2027, 1, 4, 1, 0, tzinfo=UTC)  # and past the calendar: overdue, no number invented
    status = wf.deadline(c)
    assert status.overdue and status.seconds_left is None


def _zone_point(city, layer, hours):
    zones = city.layers[layer]
    row = zones[(zones["hours"] == hours) & (zones["district_code"] == "350203")].iloc[0]
    p = shapely.point_on_surface(row.geometry)
    return row["id"], (p.x, p.y)


@pytest.mark.parametrize(
    "layer, hours, matter, open_at, closed_at",
    [
        ("vendor_zones", "18:00-01:00", "09006", (2026, 11, 26, 11, 0), (2026, 11, 26, 2, 0)),
        ("storefront_zones", "07:00-09:00;11:00-13:30;17:00-21:30", "09005", (2026, 11, 26, 4), (2026, 11, 26, 7)),
    ],
)
def test_a_lawful_report_is_no_case(flow, city, layer, hours, matter, open_at, closed_at):
    # trading inside its zone, in the zone's hours, is lawful (不立案): the report is refused and says why
    wf, _, u, _, _ = flow
    zone, p = _zone_point(city, layer, hours)
    lawful = NewCase(matter, p[0], p[1], "hotline", datetime(*open_at, tzinfo=UTC))
    with pytest.raises(Invalid, match=f"{zone}.*{hours}"):
        wf.report(u["acc"], lawful)
    assert wf.store.cases() == []
    # the same place out of hours is a case, for the sub-district's squad
    c = wf.report(u["acc"], NewCase(matter, p[0], p[1], "hotline", datetime(*closed_at, tzinfo=UTC)))
    assert "outside_hours" in c.flags and c.squad == f"SQ{c.subdistrict}"


def test_a_stored_lawful_case_is_not_dispatched_by_default(flow, city):
    # cases filed before lawful reports were refused: no unit is assumed for them (void them, or name one)
    wf, _, u, _, _ = flow
    _, p = _zone_point(city, "vendor_zones", "18:00-01:00")
    at = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)

    owners = wf.owners(wf.engine.resolve(p[0], p[1], "09006", at))
    c = wf.store.create_case(NewCase("09006", p[0], p[1], "hotline", at), owners, "reported", "acc", at)
    c = run(wf, c, (u["acc"], "send_verify", {}), (u["sup"], "verify", {}), (u["lead"], "file", {}))
    with pytest.raises(Invalid, match="lawful"):
        wf.act(u["disp"], c.id, "dispatch", c.version)
    c = wf.act(u["disp"], c.id, "dispatch", c.version, unit=f"SQ{c.subdistrict}")
    assert c.assignee == f"SQ{c.subdistrict}"


def test_filing_and_dispatch_have_their_own_time_limits(flow):
    # 立案时限 2 working hours from the report, 派遣时限 1 from filing (data/xiamen/calendar.toml [steps])
    wf, clock, u, point, _ = flow
    c = wf.report(u["sup"], new(point))
    status = wf.deadline(c)
    assert status.deadline_at == CAL.add(START, 2 * 3600) and status.seconds_left == 2 * 3600
    assert not status.overdue and not status.at_risk
    clock.advance(hours=1, minutes=45)
    assert wf.deadline(c).at_risk
    clock.advance(minutes=20)
    assert wf.deadline(c).overdue
    c = run(wf, c, (u["acc"], "accept", {}), (u["lead"], "file", {}))
    status = wf.deadline(c)
    assert status.deadline_at == CAL.add(clock.now, 3600) and not status.overdue  # the dispatch clock
    clock.advance(hours=4)  # 11:05 + 4 h = 15:05: 55 min before lunch and 35 after
    left, at_risk, overdue = wf.deadline_flags([c], clock.now)
    assert left[0] == pytest.approx(-30 * 60) and overdue[0] and not at_risk[0]
    c = wf.act(u["disp"], c.id, "dispatch", c.version)
    assert not wf.deadline(c).overdue and wf.deadline(c).deadline_at == c.deadline_at  # now the unit's clock
