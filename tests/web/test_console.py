"""The dispatch console's services on both stores, with a clock the test moves: the queue's dispatch deadlines
and the suggestion for cases that were lawful where and when they were reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import shapely

from dispatch.board import Board, View
from dispatch.calendar import WorkingCalendar
from dispatch.workflow import Workflow
from store.models import NewCase
from web import console

pytestmark = pytest.mark.slow
CAL = WorkingCalendar.load(Path(__file__).resolve().parents[2] / "data" / "xiamen" / "calendar.toml")
START = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # Thursday 09:00 in Xiamen


@pytest.fixture
def svc(store, engine):
    clock = {"now": START}
    wf = Workflow(store, engine, CAL, clock=lambda: clock["now"])
    users = {r: store.add_user(r, "password1", r) for r in ("supervisor", "acceptor", "shift_lead", "dispatcher")}
    # the services the console reads (store, workflow, board), without the web app around them
    return SimpleNamespace(store=store, workflow=wf, board=Board(wf), clock=clock, users=users)


def test_the_queue_shows_the_dispatch_deadline_and_when_it_has_passed(svc, city):
    u, wf = svc.users, svc.workflow
    p = shapely.point_on_surface(city.layers["grid_cells"].geometry.iloc[10])
    c = wf.report(u["supervisor"], NewCase("06036", p.x, p.y, "supervisor", START))
    c = wf.act(u["acceptor"], c.id, "accept", c.version)
    c = wf.act(u["shift_lead"], c.id, "file", c.version)
    svc.clock["now"] = START + timedelta(minutes=30)
    (row,) = console.queue(svc, u["dispatcher"], View(), svc.clock["now"])
    assert row["due"] == CAL.add(c.filed_at, 3600) and not row["overdue"]  # 派遣时限: 1 working hour
    svc.clock["now"] = START + timedelta(hours=2)
    (row,) = console.queue(svc, u["dispatcher"], View(), svc.clock["now"])
    assert row["due"] < svc.clock["now"] and row["overdue"]


def test_no_unit_is_suggested_for_a_lawful_case(svc, city):
    # a report of trading inside a vendor point in its hours, stored before such reports were refused
    u, wf, store = svc.users, svc.workflow, svc.store
    zones = city.layers["vendor_zones"]
    zone = zones[zones["hours"] == "18:00-01:00"].iloc[0]
    p = shapely.point_on_surface(zone.geometry)
    at = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)  # 19:00 in Xiamen
    owners = wf.owners(wf.engine.resolve(p.x, p.y, "09006", at))
    assert owners.flag == "lawful_in_zone" and owners.lead_department
    c = store.create_case(NewCase("09006", p.x, p.y, "hotline", at), owners, "filed", "acceptor", at)
    panel = console.panel(svc, u["dispatcher"], c.id)
    assert panel.suggested is None and panel.alternatives == ()
    assert "request_void" in panel.actions
