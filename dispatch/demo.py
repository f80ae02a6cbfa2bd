"""Deterministic demo history: weeks of cases that went through the real workflow rules.

Each case is reported at a plausible time and place, then moved along the closed loop by Workflow.plan (the
same checks and changes as live actions) with plausible delays, until it is closed or `until` is reached.
Everything is drawn from a seeded generator, so the same arguments give the same history. All of it is
synthetic (every case carries the flag "synthetic"; its photos are drawn pictures, marked synthetic too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from dispatch import synthetic
from dispatch.calendar import OutsideCalendar
from dispatch.media import PhotoStore
from dispatch.workflow import NO_CASE_FLAGS, Workflow
from store.base import Store
from store.errors import Invalid
from store.models import Case, Event, NewCase, Owners, User, arrival, change, new_case

# Shares of reports by matter, as a city's patrols and hotlines see them (demo defaults)
MATTER_WEIGHTS = {
    "06010": 14, "06042": 6, "06011": 4, "06012": 5, "06036": 6, "06014": 2, "06029": 2, "06027": 2,
    "06028": 2, "06040": 1, "06013": 2, "06041": 3, "09006": 11, "09001": 5, "09005": 8, "09009": 7,
    "09010": 6, "09011": 3, "07001": 6, "07003": 2, "07006": 2, "06001": 2, "08016": 1, "08004": 2,
    "08005": 1, "99001": 2, "99002": 1, "09004": 1,
}  # fmt: skip
SOURCE_WEIGHTS = {"supervisor": 55, "hotline": 20, "video": 15, "citizen": 10}
# reports by hour of day: quiet nights, morning and afternoon patrols, evening street trading
HOURLY = np.array([1, 0.5, 0.3, 0.3, 0.4, 0.8, 2, 4, 7, 9, 9, 7, 5, 6, 8, 9, 9, 8, 7, 7, 6, 4, 3, 2], dtype=float)
ZONE_MATTERS = {"09006": "vendor_zones", "09001": "vendor_zones", "09005": "storefront_zones"}


@dataclass(frozen=True)
class DemoActors:
    acceptor: User
    shift_lead: User
    dispatcher: User
    supervisors: dict[str, User]  # by district

    def unit(self, code: str | None) -> User:
        """The handling unit a case is assigned to, as the actor of its steps."""
        if code is None:
            raise ValueError("a dispatched case has an assignee")
        return User(0, f"unit.{code}", code, "unit", (), code)


def demo_users(districts: list[str], units: list[str]) -> list[dict[str, Any]]:
    """The demo accounts: one per role, a supervisor and a district head per district, some units."""
    rows: list[dict[str, Any]] = [
        {"username": "admin", "role": "admin"}, {"username": "acceptor", "role": "acceptor"},
        {"username": "shiftlead", "role": "shift_lead"}, {"username": "dispatcher", "role": "dispatcher"},
        {"username": "wall", "role": "wall"},
    ]  # fmt: skip
    for d in districts:
        rows.append({"username": f"sup.{d}", "role": "supervisor", "districts": [d]})
        rows.append({"username": f"head.{d}", "role": "district_head", "districts": [d]})
    rows += [{"username": f"unit.{u}", "role": "unit", "unit": u} for u in units]
    return rows


def demo_patrols(cells: pd.DataFrame, districts: list[str], per_district: int = 2) -> dict[str, list[str]]:
    """Each district inspector's patrol cells: every cell of the district's first `per_district` sub-districts
    (by code). Cells elsewhere are nobody's, so every inspector of the district takes their tasks."""
    out = {}
    for d in districts:
        mine = cells[cells["district_code"] == d]
        subs = sorted(set(mine["subdistrict_code"]))[:per_district]
        out[f"sup.{d}"] = sorted(mine.loc[mine["subdistrict_code"].isin(subs), "code"].astype(str))
    return out


@dataclass
class _Run:
    """Where one simulated case has got to."""

    case: Case
    at: datetime


class HistoryMaker:
    def __init__(self, workflow: Workflow, actors: DemoActors, seed: int) -> None:
        self.wf = workflow
        self.actors = actors
        self.rng = np.random.default_rng(seed)
        self.city = workflow.engine.city

    # -- where and when ----------------------------------------------------------------------------
    def points(self, matters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        cells = self.city.layers["grid_cells"]
        urban = cells[cells["cell_size_m"] == cells["cell_size_m"].min()]
        centres = urban.geometry.representative_point()
        hot = rng.choice(len(centres), 300, replace=False)
        pick = rng.choice(hot, len(matters))
        lon = centres.x.to_numpy()[pick] + rng.normal(0, 0.006, len(matters))
        lat = centres.y.to_numpy()[pick] + rng.normal(0, 0.006, len(matters))
        for matter, layer in ZONE_MATTERS.items():  # trading happens around the zones made for it
            m = np.flatnonzero((matters == matter) & (rng.random(len(matters)) < 0.4))
            zones = self.city.layers[layer].geometry.representative_point()
            z = rng.integers(len(zones), size=len(m))
            lon[m] = zones.x.to_numpy()[z] + rng.normal(0, 0.0002, len(m))
            lat[m] = zones.y.to_numpy()[z] + rng.normal(0, 0.0002, len(m))
        return lon, lat

    def _times(self, n: int, until: datetime, days: int) -> list[datetime]:
        rng = self.rng
        tz = self.wf.calendar.tz
        end_local = until.astimezone(tz)
        day = rng.integers(0, days, n)
        hour = rng.choice(24, n, p=HOURLY / HOURLY.sum())
        minute = rng.integers(0, 60, n)
        start_day = (end_local - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
        out = []
        for d, h, mi in zip(day.tolist(), hour.tolist(), minute.tolist(), strict=True):
            t = (start_day + timedelta(days=d + 1, hours=h, minutes=mi)).astimezone(UTC)
            out.append(t if t <= until else until - timedelta(minutes=int(rng.integers(1, 600))))
        return out

    # -- the cases ---------------------------------------------------------------------------------
    def make(
        self, n: int, until: datetime, days: int, progress: Callable[[int], None] | None = None
    ) -> list[tuple[Case, list[Event]]]:
        rng = self.rng
        codes = np.array(list(MATTER_WEIGHTS))
        w = np.array(list(MATTER_WEIGHTS.values()), dtype=float)
        matters = rng.choice(codes, n, p=w / w.sum())
        sources = rng.choice(list(SOURCE_WEIGHTS), n, p=np.array(list(SOURCE_WEIGHTS.values())) / 100)
        lon, lat = self.points(matters)
        times = self._times(n, until, days)
        answers = self.wf.engine.resolve_many(lon, lat, matters, pd.Series(times))
        records = answers.to_dict("records")
        history = []
        order = sorted(range(n), key=lambda k: times[k])
        for done, k in enumerate(order):
            owners = self.wf.owners(self.wf.engine.row_to_ownership(records[k]))
            if owners.cell is None:
                continue  # at sea or outside the land: no patrol would have reported it there
            if owners.flag in NO_CASE_FLAGS:
                continue  # lawful there and then (trading in its zone, in its hours): no case
            history.append(
                self._one(
                    "",  # the store numbers it, from the counter live reports use (so --append never collides)
                    str(matters[k]),
                    str(sources[k]),
                    float(lon[k]),
                    float(lat[k]),
                    times[k],
                    owners,
                    until,
                )
            )
            if progress and done % 1000 == 999:
                progress(1000)
        return history

    def _one(
        self,
        case_no: str,
        matter: str,
        source: str,
        lon: float,
        lat: float,
        at: datetime,
        owners: Owners,
        until: datetime,
    ) -> tuple[Case, list[Event]]:
        rng = self.rng
        a = self.actors
        sup = a.supervisors[str(owners.district)]
        urgency = "urgent" if rng.random() < 0.06 else "normal"
        reporter = sup.username if source == "supervisor" else a.acceptor.username
        new = NewCase(matter, lon, lat, source, at, "（合成演示数据）synthetic demo case", urgency)
        case = new_case(new, owners, "reported", reporter, at, case_no, ("synthetic",))
        events = [arrival(case, reporter, at)]
        state = _Run(case, at)

        def step(user: User, action: str, minutes: float, reason: str = "", **params: Any) -> bool:
            c, t = state.case, state.at
            if minutes == float("inf"):
                return False
            when = t + timedelta(minutes=float(minutes))
            if when > until:
                return False
            try:
                changes = self.wf.plan(user, c, action, when, reason, **params)
            except OutsideCalendar:
                return False  # its deadline would fall after the calendar's last declared year: the case waits
            events.append(change(c, changes, user.username, action, reason, when))
            state.case = replace(c, **changes, version=c.version + 1, updated_at=when, updated_by=user.username)
            state.at = when
            return True

        def minutes(lo: float, hi: float) -> float:
            return float(rng.uniform(lo, hi))

        def working(seconds: float) -> float:
            """Minutes until `seconds` of working time have passed (inf: not within the calendar's years)."""
            try:
                return (self.wf.calendar.add(state.at, seconds) - state.at).total_seconds() / 60
            except OutsideCalendar:
                return float("inf")

        if source == "supervisor" and rng.random() < 0.08:
            step(sup, "self_handle", minutes(5, 30))
            return state.case, events
        if source == "supervisor":
            ok = step(a.acceptor, "accept", minutes(2, 15))
        else:
            ok = step(a.acceptor, "send_verify", minutes(3, 20)) and step(sup, "verify", minutes(15, 120))
        if not ok:
            return state.case, events
        if rng.random() < 0.03:
            _ = step(a.acceptor, "request_void", minutes(5, 60), "重复上报 duplicate report") and step(
                a.shift_lead, "approve_void", minutes(5, 60)
            )
            return state.case, events
        if not (step(a.shift_lead, "file", minutes(3, 30)) and step(a.dispatcher, "dispatch", minutes(3, 45))):
            return state.case, events
        if rng.random() < 0.05:  # "not ours": back to the dispatcher, then to the lead department
            unit = a.unit(state.case.assignee)
            if not (
                step(
                    unit,
                    "request_return",
                    minutes(30, 240),
                    "非本单位职责 not our responsibility",
                    disputed_owner=owners.lead_department,
                )
                and step(a.dispatcher, "approve_return", minutes(10, 90))
                and step(a.dispatcher, "dispatch", minutes(5, 30), unit=owners.lead_department)
            ):
                return state.case, events
        unit = a.unit(state.case.assignee)
        wants_time = rng.random() < 0.03
        if wants_time and not (
            step(
                unit,
                "request_extension",
                minutes(60, 300),
                "需协调多部门 needs other departments",
                hours=float(rng.choice([4, 7, 14])),
            )
            and step(a.dispatcher, "approve_extension", minutes(10, 120))
        ):
            return state.case, events
        if rng.random() < 0.01:
            _ = step(unit, "request_park", minutes(60, 600), "当事人不在 owner absent") and step(
                a.dispatcher, "approve_park", minutes(10, 120)
            )
            return state.case, events
        stage, stages = self.wf.stage(state.case)
        while stage and stage < len(stages):  # staged matters: each stage done within its own deadline
            if not step(unit, "complete_stage", working(float(rng.uniform(0.3, 1.1)) * stages[stage - 1][1])):
                return state.case, events
            stage += 1
        for attempt in range(2):
            c = state.case
            share = float(rng.lognormal(np.log(0.55), 0.5))  # of the allowed working time; > 1 is late
            if not step(unit, "feedback", working(share * (c.work_seconds or 3600.0))):
                return state.case, events
            fail = attempt == 0 and rng.random() < 0.05
            if not (
                step(a.acceptor, "send_check", minutes(5, 60))
                and step(
                    sup, "check_fail" if fail else "check_pass", minutes(20, 180), "仍未整改 not fixed" if fail else ""
                )
            ):
                return state.case, events
            if state.case.state == "checked":
                break
        step(a.shift_lead, "close", minutes(5, 60))
        return state.case, events


def seed_demo(
    workflow: Workflow,
    n: int,
    days: int,
    until: datetime,
    seed: int,
    password: str,
    progress: Callable[[int], None] | None = None,
    media: PhotoStore | None = None,
) -> tuple[int, list[str]]:
    """Demo accounts (when missing) and n cases over `days` days up to `until`; returns (cases, new accounts).
    With `media`, the steps that take photos get synthetic ones (dispatch/synthetic.py), kept there."""
    store = workflow.store
    city = workflow.engine.city
    districts = sorted(city.layers["districts"]["code"])
    squads = city.layers["squads"]
    # unit accounts for the squads of one district (the first by code) and for every department
    units = sorted(squads.loc[squads["district_code"] == districts[0], "id"]) + sorted(city.departments["code"])
    existing = {u.username for u in store.list_users()}
    added = []
    for row in demo_users(districts, units):
        if row["username"] not in existing:
            store.add_user(row["username"], password, row["role"], row.get("districts", ()), unit=row.get("unit"))
            added.append(row["username"])
    for name, cells in demo_patrols(city.layers["grid_cells"], districts).items():
        if name in added:  # an account that was there keeps the cells someone gave it
            store.set_patrol_cells(name, cells)
    history = HistoryMaker(workflow, demo_actors(store, districts), seed).make(n, until, days, progress)
    photos = synthetic.photos_of(history, synthetic.pictures(media)) if media is not None else []
    return store.insert_history(history, photos), added


def demo_actors(store: Store, districts: list[str]) -> DemoActors:
    """The demo accounts seed_demo made, as the actors of simulated steps."""
    users = {u.username: u for u in store.list_users()}
    missing = [u for u in ("acceptor", "shiftlead", "dispatcher", *(f"sup.{d}" for d in districts)) if u not in users]
    if missing:
        raise Invalid(f"the demo accounts are missing ({', '.join(missing[:3])} …): run `xiuhua seed-demo` first")
    return DemoActors(
        users["acceptor"], users["shiftlead"], users["dispatcher"], {d: users[f"sup.{d}"] for d in districts}
    )


# the next step a live demo takes for a case in each state: (who, action, reason)
NEXT_STEP: dict[str, tuple[str, str, str]] = {
    "verifying": ("supervisor", "verify", ""),
    "accepted": ("shift_lead", "file", ""),
    "filed": ("dispatcher", "dispatch", ""),
    "dispatched": ("unit", "feedback", ""),
    "handled": ("acceptor", "send_check", ""),
    "checking": ("supervisor", "check_pass", ""),
    "checked": ("shift_lead", "close", ""),
    "parked": ("dispatcher", "unpark", ""),
    "return_requested": ("dispatcher", "approve_return", ""),
    "extension_requested": ("dispatcher", "approve_extension", ""),
    "park_requested": ("dispatcher", "approve_park", ""),
    "void_requested": ("shift_lead", "approve_void", ""),
}


class LiveDemo:
    """Keeps a demo store moving: new synthetic reports, and open cases taken one real step further."""

    def __init__(self, workflow: Workflow, actors: DemoActors, seed: int) -> None:
        self.wf = workflow
        self.actors = actors
        self.maker = HistoryMaker(workflow, actors, seed)
        self.rng = self.maker.rng

    def _actor(self, who: str, case: Case) -> User:
        a = self.actors
        if who == "unit":
            return a.unit(case.assignee)
        if who == "supervisor":
            return a.supervisors[case.district or ""]
        return {"acceptor": a.acceptor, "shift_lead": a.shift_lead, "dispatcher": a.dispatcher}[who]

    def tick(self, new_cases: int, moves: int) -> tuple[int, int]:
        """Report `new_cases` cases now and move up to `moves` open cases one step; returns what was done."""
        from dispatch.workflow import OPEN
        from store.errors import StoreError

        now = self.wf.clock()
        codes = np.array(list(MATTER_WEIGHTS))
        w = np.array(list(MATTER_WEIGHTS.values()), dtype=float)
        matters = self.rng.choice(codes, new_cases, p=w / w.sum())
        lon, lat = self.maker.points(matters)
        added = 0
        for m, x, y in zip(matters.tolist(), lon.tolist(), lat.tolist(), strict=True):
            o = self.wf.engine.resolve(x, y, m, now)
            if o.district is None or o.flag in NO_CASE_FLAGS:
                continue  # outside the city, or lawful there and then: no case
            source = "supervisor" if self.rng.random() < 0.6 else "hotline"
            reporter = self.actors.supervisors[o.district] if source == "supervisor" else self.actors.acceptor
            self.wf.report(reporter, NewCase(m, x, y, source, now, "（合成演示数据）live demo case"))
            added += 1
        moved = 0
        candidates = self.wf.store.cases(states=OPEN, limit=2000)
        for k in self.rng.permutation(len(candidates))[: moves * 2].tolist():
            case = candidates[k]
            stage, stages = self.wf.stage(case)
            if case.state == "reported":
                step = ("acceptor", "accept" if case.source == "supervisor" else "send_verify", "")
            elif case.state == "dispatched" and stage and stage < len(stages):
                step = ("unit", "complete_stage", "")
            elif case.state in NEXT_STEP:
                step = NEXT_STEP[case.state]
            else:
                continue
            who, action, reason = step
            try:
                self.wf.act(self._actor(who, case), case.id, action, case.version, reason)
                moved += 1
            except (StoreError, ValueError):
                continue  # someone (a real user) moved it first, or it cannot take that step
            if moved >= moves:
                break
        return added, moved
