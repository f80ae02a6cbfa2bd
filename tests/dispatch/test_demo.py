"""The demo history: deterministic, and every case's log is a legal path through the workflow."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dispatch.calendar import WorkingCalendar
from dispatch.demo import seed_demo
from dispatch.workflow import ACTIONS, Workflow
from store import migrate
from store.registry import open_store

pytestmark = pytest.mark.slow
CAL = WorkingCalendar.load(Path(__file__).resolve().parents[2] / "data" / "xiamen" / "calendar.toml")
UNTIL = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def _seed(store, engine, n, seed=5):
    wf = Workflow(store, engine, CAL)
    count, _ = seed_demo(wf, n, 7, UNTIL, seed, "demo-password")
    return wf, count


def test_every_log_is_a_legal_path(store, engine):
    _, count = _seed(store, engine, 300)
    cases = store.cases()
    assert count == len(cases) > 250
    for c in cases:
        events = store.events(c.id)
        assert events[0].action == "report" and "synthetic" in c.flags
        state = "reported"
        for e in events[1:]:
            assert e.from_state == state, (c.case_no, e.action)
            assert state in ACTIONS[e.action].from_states
            assert e.at <= UNTIL
            state = e.to_state
        assert state == c.state and c.version == len(events)
        if c.state == "dispatched":
            assert c.deadline_at is not None and c.assignee
        assert "lawful_in_zone" not in c.flags  # trading in its zone, in its hours, is no case
    assert {u.username for u in store.list_users()} >= {"admin", "dispatcher", "wall", "sup.350203", "head.350206"}


def test_the_history_is_deterministic(engine, tmp_path):
    rows = []
    for k in range(2):
        s = open_store(f"sqlite:///{tmp_path / f'{k}.sqlite'}", check=False)
        migrate.upgrade(s.engine)
        _seed(s, engine, 200, seed=9)
        rows.append([(c.case_no, c.state, c.deadline_at, c.flags, c.lon, c.lat) for c in s.cases()])
        s.close()
    assert rows[0] == rows[1]


def test_the_history_looks_like_a_city(engine, tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'big.sqlite'}", check=False)
    migrate.upgrade(s.engine)
    wf, _ = _seed(s, engine, 2000)
    cases = s.cases()
    flags = [f for c in cases for f in c.flags]
    assert flags.count("returned") > 20 and flags.count("self_handled") > 20
    states = s.count_by_state()
    assert states["closed"] > 1000 and states.get("voided", 0) > 10 and states.get("dispatched", 0) > 10
    closed = [c for c in cases if c.state == "closed" and "self_handled" not in c.flags]
    late = sum(c.closed_on_time is False for c in closed)
    assert 0.03 < late / len(closed) < 0.4
    open_ = [c for c in cases if c.state == "dispatched"]
    assert any(wf.deadline(c, UNTIL).overdue for c in open_)
    matters = {c.matter for c in cases}
    assert {"06010", "09006", "09005", "07001", "06001"} <= matters
    assert all(c.cell and c.subdistrict for c in cases)  # no case in the sea: patrols report on land
    s.close()


def test_live_demo_adds_and_moves_cases(store, engine):
    from dispatch.demo import LiveDemo, demo_actors

    wf, count = _seed(store, engine, 150)
    before = {c.id: c.version for c in store.cases()}
    live = LiveDemo(wf, demo_actors(store, sorted(engine.city.layers["districts"]["code"])), seed=1)
    added, moved = live.tick(4, 6)
    after = store.cases()
    assert added >= 1 and len(after) == count + added
    assert moved >= 1 and sum(c.version > before[c.id] for c in after if c.id in before) == moved


def test_a_history_up_to_the_end_of_the_calendar(store, engine):
    # the last days of the calendar's last declared year: no deadline is made up for the next year; the cases
    # whose next deadline would fall there wait, and the board and the wall figures work then and after
    from dispatch.board import Board
    from dispatch.stats import figures

    end = datetime(2026, 12, 31, 10, 0, tzinfo=UTC)  # 18:00 in Xiamen, the last working minute of 2026
    wf = Workflow(store, engine, CAL, clock=lambda: end)
    count, _ = seed_demo(wf, 400, 5, end, 3, "demo-password")
    cases = store.cases()
    assert count == len(cases) > 300
    last = datetime(2027, 1, 1, tzinfo=CAL.tz)
    assert all(c.deadline_at is None or c.deadline_at <= last for c in cases)
    assert any(c.state == "filed" and c.filed_at < end - timedelta(days=1) for c in cases)
    for now in (end, datetime(2027, 1, 4, 2, 0, tzinfo=UTC)):
        snap = Board(wf, clock=lambda now=now: now).snapshot()
        assert snap.is_open.sum() == sum(c.state not in ("closed", "voided") for c in cases)
        assert figures(wf, list(snap.facts), now - timedelta(days=7), now).overdue > 0
