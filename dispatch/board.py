"""The board: an in-memory snapshot of the cases the map and the wall show, kept current cheaply.

Every map move and every wall refresh reads the snapshot, never the database. The snapshot holds the open cases
and those reported or closed today; it follows the store by its revision (the newest event id), fetching only
the cases changed since, and rebuilds from scratch when the day turns. Deadline positions (overdue, at risk) are
recomputed at most once a minute, because they move with the clock, not with the data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from dispatch.workflow import CLOSED, RUNNING, UNTIMED, Workflow
from store.models import CaseFacts, active_since

# the four stages a map legend shows for open cases
STAGES: dict[str, tuple[str, ...]] = {
    "waiting": ("reported", "verifying", "accepted", "filed"),
    "working": RUNNING,
    "parked": ("parked",),
    "checking": UNTIMED,
}
STAGE_OF = {state: stage for stage, states in STAGES.items() for state in states}
LEVELS = ("district", "subdistrict", "community", "cell")
STATUS_TTL_S = 60.0

BBox = tuple[float, float, float, float]
T = TypeVar("T")


@dataclass(frozen=True)
class View:
    """What a map or a list shows: filters by matter class, stage, source, age and district scope."""

    classes: tuple[str, ...] = ()  # two-digit matter classes ("01" …); empty: all
    stages: tuple[str, ...] = ()  # keys of STAGES; empty: all open
    sources: tuple[str, ...] = ()
    within_h: float | None = None  # reported in the last so many hours
    districts: tuple[str, ...] = ()  # the user's scope; empty: every district


@dataclass(frozen=True)
class Snapshot:
    facts: tuple[CaseFacts, ...]
    revision: int
    day_start: datetime
    statuses_at: datetime
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    reported_s: NDArray[np.float64]  # POSIX seconds
    filed_s: NDArray[np.float64]  # NaN where not yet
    dispatched_s: NDArray[np.float64]
    closed_s: NDArray[np.float64]
    on_time: NDArray[np.int8]  # 1 closed on time, 0 late, -1 not known
    is_open: NDArray[np.bool_]
    overdue: NDArray[np.bool_]
    at_risk: NDArray[np.bool_]
    column: dict[str, NDArray[np.object_]] = field(repr=False)

    def select(self, view: View, now: datetime, bbox: BBox | None = None) -> NDArray[np.intp]:
        """Indices of the open cases the view shows, inside `bbox` if given."""
        m = self.is_open.copy()
        if view.classes:
            m &= np.isin(self.column["matter_class"], view.classes)
        if view.stages:
            m &= np.isin(self.column["stage"], view.stages)
        if view.sources:
            m &= np.isin(self.column["source"], view.sources)
        if view.within_h is not None:
            m &= self.reported_s >= now.timestamp() - view.within_h * 3600
        if view.districts:
            m &= np.isin(self.column["district"], view.districts)
        if bbox is not None:
            x0, y0, x1, y1 = bbox
            m &= (self.lon >= x0) & (self.lon <= x1) & (self.lat >= y0) & (self.lat <= y1)
        return np.flatnonzero(m)

    def count_by(self, level: str, idx: NDArray[np.intp]) -> dict[str, tuple[int, int]]:
        """Open and overdue counts of the selected cases per unit of a level (district … cell)."""
        codes = self.column[level][idx]
        keep = codes != None  # noqa: E711 (elementwise on an object array)
        codes, over = codes[keep].astype(str), self.overdue[idx][keep]
        if not len(codes):
            return {}
        uniq, inv = np.unique(codes, return_inverse=True)
        n = np.bincount(inv, minlength=len(uniq))
        o = np.bincount(inv, weights=over, minlength=len(uniq)).astype(int)
        return {str(c): (int(a), int(b)) for c, a, b in zip(uniq, n, o, strict=True)}

    def bins(self, idx: NDArray[np.intp], size_deg: float) -> list[tuple[float, float, int, int]]:
        """Hotspots: the selected cases binned on a square grid of `size_deg`; mean position, count, overdue."""
        if not len(idx):
            return []
        lon, lat, over = self.lon[idx], self.lat[idx], self.overdue[idx]
        key = np.floor(lon / size_deg).astype(np.int64) * 1_000_003 + np.floor(lat / size_deg).astype(np.int64)
        uniq, inv = np.unique(key, return_inverse=True)
        n = np.bincount(inv, minlength=len(uniq))
        mx = np.bincount(inv, weights=lon, minlength=len(uniq)) / n
        my = np.bincount(inv, weights=lat, minlength=len(uniq)) / n
        o = np.bincount(inv, weights=over, minlength=len(uniq)).astype(int)
        return [(float(a), float(b), int(c), int(d)) for a, b, c, d in zip(mx, my, n, o, strict=True)]


def snapshot_of(
    wf: Workflow, facts: Sequence[CaseFacts], now: datetime, revision: int = 0, day_start: datetime | None = None
) -> Snapshot:
    """Case records as arrays, with their deadline positions at `now`."""
    facts = tuple(sorted(facts, key=lambda f: f.id))

    def seconds(values: Sequence[datetime | None]) -> NDArray[np.float64]:
        return np.array([np.nan if v is None else v.timestamp() for v in values], dtype=float)

    is_open = np.array([f.state not in CLOSED for f in facts], dtype=bool)
    _, at_risk, overdue = wf.deadline_flags(facts, now)

    def col(values: Sequence[object]) -> NDArray[np.object_]:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out

    column = {
        "state": col([f.state for f in facts]),
        "stage": col([STAGE_OF.get(f.state) for f in facts]),
        "matter": col([f.matter for f in facts]),
        "matter_class": col([f.matter[:2] for f in facts]),
        "source": col([f.source for f in facts]),
        "urgency": col([f.urgency for f in facts]),
        **{name: col([getattr(f, name) for f in facts]) for name in (*LEVELS, "squad", "lead_department", "assignee")},
    }
    return Snapshot(
        facts=facts,
        revision=revision,
        day_start=day_start or now,
        statuses_at=now,
        lon=np.array([f.lon for f in facts], dtype=float),
        lat=np.array([f.lat for f in facts], dtype=float),
        reported_s=seconds([f.reported_at for f in facts]),
        filed_s=seconds([f.filed_at for f in facts]),
        dispatched_s=seconds([f.dispatched_at for f in facts]),
        closed_s=seconds([f.closed_at for f in facts]),
        on_time=np.array([-1 if f.closed_on_time is None else int(f.closed_on_time) for f in facts], dtype=np.int8),
        is_open=is_open,
        overdue=overdue,
        at_risk=at_risk,
        column=column,
    )


class Board:
    """The current snapshot for one process; safe to share between server threads."""

    def __init__(self, wf: Workflow, clock: Callable[[], datetime] | None = None) -> None:
        self.wf = wf
        self.clock = clock or wf.clock
        self._lock = threading.Lock()
        self._snap: Snapshot | None = None
        self._memo: dict[str, tuple[Snapshot, object]] = {}

    def day_start(self, now: datetime) -> datetime:
        """Midnight of `now`'s day in the city's time zone."""
        local = now.astimezone(self.wf.calendar.tz)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    def snapshot(self) -> Snapshot:
        """The snapshot, brought up to date with the store first (one cheap query when nothing changed)."""
        now = self.clock()
        store = self.wf.store
        with self._lock:
            snap, revision, start = self._snap, store.revision(), self.day_start(now)
            if snap is None or snap.day_start != start:
                snap = snapshot_of(self.wf, store.case_facts(active_since=start), now, revision, start)
            elif revision != snap.revision:
                changed = {f.id: f for f in store.case_facts(changed_after=snap.revision)}
                kept = [f for f in snap.facts if f.id not in changed]
                fresh = [f for f in changed.values() if active_since(f.reported_at, f.closed_at, start)]
                snap = snapshot_of(self.wf, kept + fresh, now, revision, start)
            elif (now - snap.statuses_at) > timedelta(seconds=STATUS_TTL_S):
                # the data is the same, only the clock moved: recompute the deadline flags alone
                _, at_risk, overdue = self.wf.deadline_flags(snap.facts, now)
                snap = replace(snap, statuses_at=now, at_risk=at_risk, overdue=overdue)
            self._snap = snap
            return snap

    def memo(self, snap: Snapshot, key: str, compute: Callable[[Snapshot], T]) -> T:
        """`compute(snap)`, worked out once per snapshot (every wall and map client shares it)."""
        with self._lock:
            hit = self._memo.get(key)
        if hit is not None and hit[0] is snap:
            return hit[1]  # type: ignore[return-value]
        value = compute(snap)
        with self._lock:
            self._memo[key] = (snap, value)
        return value
