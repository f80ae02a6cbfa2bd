"""The board's snapshot follows the store incrementally and answers viewport, aggregate and filter questions."""

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely
import sqlalchemy as sa

from dispatch.board import Board, View
from dispatch.calendar import WorkingCalendar
from dispatch.workflow import Workflow
from store.models import NewCase

pytestmark = pytest.mark.slow
CAL = WorkingCalendar.load(Path(__file__).resolve().parents[2] / "data" / "xiamen" / "calendar.toml")
START = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # Thursday 09:00 in Xiamen


def test_snapshot_follows_the_store(store, engine, city):
    clock = {"now": START}
    wf = Workflow(store, engine, CAL, clock=lambda: clock["now"])
    cells = city.layers["grid_cells"]
    here = [shapely.point_on_surface(g) for g in cells[cells["district_code"] == "350203"].geometry.iloc[[10, 900]]]
    there = shapely.point_on_surface(cells[cells["district_code"] == "350206"].geometry.iloc[50])
    u = {r: store.add_user(r, "password1", r) for r in ("supervisor", "acceptor", "shift_lead", "dispatcher")}

    def report(p, matter="06036"):
        return wf.report(u["supervisor"], NewCase(matter, p.x, p.y, "supervisor", clock["now"]))

    a, b, c = report(here[0]), report(here[1], "07001"), report(there)
    board = Board(wf)
    snap = board.snapshot()
    assert {f.id for f in snap.facts} == {a.id, b.id, c.id} and snap.revision == store.revision()
    assert board.snapshot() is snap  # nothing changed: the same snapshot, no rebuild

    # move one case on: the next snapshot sees the change (and only fetched that case)
    a = wf.act(u["acceptor"], a.id, "accept", a.version)
    a = wf.act(u["shift_lead"], a.id, "file", a.version)
    a = wf.act(u["dispatcher"], a.id, "dispatch", a.version)
    snap = board.snapshot()
    now = clock["now"]
    assert {snap.facts[i].id for i in snap.select(View(stages=("working",)), now)} == {a.id}
    assert {snap.facts[i].id for i in snap.select(View(classes=("07",)), now)} == {b.id}
    assert {snap.facts[i].id for i in snap.select(View(districts=("350206",)), now)} == {c.id}
    x0, y0, x1, y1 = here[0].buffer(1e-4).bounds
    assert [snap.facts[i].id for i in snap.select(View(), now, (x0, y0, x1, y1))] == [a.id]

    everything = snap.select(View(), now)
    by_district = snap.count_by("district", everything)
    assert by_district == {"350203": (2, 0), "350206": (1, 0)}
    assert sum(n for n, _ in snap.count_by("cell", everything).values()) == 3
    assert sum(n for _, _, n, _ in snap.bins(everything, 0.5)) == 3

    # four days on, the dispatched case is overdue; statuses move with the clock without any data change
    clock["now"] = START + timedelta(days=4)
    snap = board.snapshot()
    # the vectorised deadline flags agree with the one-case answer
    for i, f in enumerate(snap.facts):
        one = wf.deadline(f, clock["now"])
        assert (bool(snap.overdue[i]), bool(snap.at_risk[i])) == (one.overdue, one.at_risk)
    # … and so is the case reported four days ago and never filed (立案时限: 2 working hours)
    assert snap.count_by("district", snap.select(View(), clock["now"]))["350203"] == (2, 2)
    assert list(snap.select(View(within_h=1), clock["now"])) == []

    # a voided case leaves the map but stays in today's figures; the open ones stay
    c = wf.act(u["acceptor"], c.id, "request_void", c.version, reason="duplicate")
    c = wf.act(u["shift_lead"], c.id, "approve_void", c.version, reason="duplicate")
    assert c.state == "voided"
    snap = board.snapshot()
    assert c.id in {f.id for f in snap.facts}  # voided today
    assert {snap.facts[i].id for i in snap.select(View(), clock["now"])} == {a.id, b.id}


def test_a_deadline_in_an_undeclared_year_never_breaks_the_board(store, engine, city):
    # a case stored with a deadline in 2027 (before the calendar refused such deadlines, or imported): the board
    # and the wall figures still work; past its deadline instant it is overdue, before it at risk, and no working
    # time is made up for the undeclared year
    from dispatch.stats import figures

    clock = {"now": datetime(2026, 12, 31, 0, 30, tzinfo=UTC)}  # Thursday 08:30 in Xiamen
    wf = Workflow(store, engine, CAL, clock=lambda: clock["now"])
    p = shapely.point_on_surface(city.layers["grid_cells"].geometry.iloc[10])
    u = {r: store.add_user(r, "password1", r) for r in ("supervisor", "acceptor", "shift_lead", "dispatcher")}
    c = wf.report(u["supervisor"], NewCase("06036", p.x, p.y, "supervisor", clock["now"]))
    c = wf.act(u["acceptor"], c.id, "accept", c.version)
    c = wf.act(u["shift_lead"], c.id, "file", c.version)
    c = wf.act(u["dispatcher"], c.id, "dispatch", c.version)  # + 7 working hours: 18:00, the end of 2026's working time
    in_2027 = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)
    c = store.update_case(c.id, c.version, {"deadline_at": in_2027}, "legacy", "approve_extension", "", c.updated_at)
    board = Board(wf)
    for now, overdue, at_risk in [
        (datetime(2026, 12, 1, 1, 0, tzinfo=UTC), False, False),  # a month of working time ahead, at least
        (datetime(2026, 12, 31, 9, 0, tzinfo=UTC), False, True),  # the declared year holds less than an hour
        (datetime(2027, 1, 4, 1, 0, tzinfo=UTC), False, True),
        (datetime(2027, 1, 6, 1, 0, tzinfo=UTC), True, False),
    ]:
        clock["now"] = now
        snap = board.snapshot()
        assert (bool(snap.overdue[0]), bool(snap.at_risk[0])) == (overdue, at_risk), now
        status = wf.deadline(c, now)
        assert (status.overdue, status.at_risk, status.seconds_left) == (overdue, at_risk, None)
        assert figures(wf, list(snap.facts), now - timedelta(days=40), now).overdue == int(overdue)


def test_the_board_never_skips_a_commit(store, engine, city):
    # Two dispatches at once; the one that draws the lower event id commits last. The board follows the highest
    # committed id, so it must never see the second commit before the first (PostgreSQL draws ids from a
    # sequence at INSERT time: unless event appends are serialised, ids commit out of order).
    wf = Workflow(store, engine, CAL, clock=lambda: START)
    cells = city.layers["grid_cells"]
    here = [shapely.point_on_surface(g) for g in cells[cells["district_code"] == "350203"].geometry.iloc[[10, 900]]]
    u = {r: store.add_user(r, "password1", r) for r in ("supervisor", "acceptor", "shift_lead", "dispatcher")}
    filed = []
    for p in here:
        c = wf.report(u["supervisor"], NewCase("06036", p.x, p.y, "supervisor", START))
        c = wf.act(u["acceptor"], c.id, "accept", c.version)
        filed.append(wf.act(u["shift_lead"], c.id, "file", c.version))
    a, b = filed
    board = Board(wf)
    assert board.snapshot().revision == store.revision()

    errors: list[BaseException] = []

    def dispatch(case):
        try:
            wf.act(u["dispatcher"], case.id, "dispatch", case.version)
        except BaseException as exc:
            errors.append(exc)

    slow, fast = threading.Thread(target=dispatch, args=(a,)), threading.Thread(target=dispatch, args=(b,))
    written, let_commit = threading.Event(), threading.Event()

    def hold_commit(_conn):
        if threading.current_thread() is slow:
            written.set()
            assert let_commit.wait(30)

    sa.event.listen(store.engine, "commit", hold_commit)
    try:
        slow.start()
        assert written.wait(30)  # a's dispatch and its event are written, not committed
        fast.start()
        fast.join(1.0)  # b's dispatch commits now, or waits for a's if appends are serialised
        board.snapshot()  # the board looks while a is still uncommitted
        let_commit.set()
        slow.join(30)
        fast.join(30)
    finally:
        let_commit.set()
        sa.event.remove(store.engine, "commit", hold_commit)
    assert not errors
    snap = board.snapshot()
    assert {f.id: f.state for f in snap.facts} == {a.id: "dispatched", b.id: "dispatched"}
