"""Duplicate reports (重复上报): for a new report, the cases of the same matter close by that it may repeat.

A case is a candidate for a report when it has the report's matter, lies within the matter class's radius
(metres, in the city's metric CRS), is not the report itself and was not voided (refused, merged or voided:
nothing to join), and is open, or was reported or closed within the class's hours of the report ("recent").
The radius and hours are data: a city's `[duplicates]` table in city.toml, per two-digit matter class.

`DuplicateIndex` keeps the candidates of the whole city in memory, bucketed on a metric grid by matter, so a
lookup reads a few buckets whatever the number of open cases; it follows the store by its revision (the cases
changed since, not a reload) and rebuilds itself every hour, as the window of recent cases moves. A report
older than the index's window is looked up with the store's bounding-box query instead.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from geo.crs import transformer
from store.base import Store
from store.errors import Invalid
from store.models import Case, CaseFacts

STORAGE = "EPSG:4326"
DEFAULT_RADIUS_M = 50.0
DEFAULT_HOURS = 72.0
REBUILD_S = 3600.0  # the window of recent cases moves with the clock: start afresh this often
MAX_SHOWN = 20  # the nearest this many are listed beside a report
LIMITS = {"radius_m": (1.0, 2000.0), "hours": (1.0, 24.0 * 90)}


@dataclass(frozen=True)
class Window:
    """How near and how recent a case must be to repeat a report."""

    radius_m: float = DEFAULT_RADIUS_M
    hours: float = DEFAULT_HOURS


@dataclass(frozen=True)
class DuplicateRules:
    """The city's windows: one by default, others per two-digit matter class."""

    default: Window = Window()
    by_class: Mapping[str, Window] = field(default_factory=dict)

    def window(self, matter: str) -> Window:
        return self.by_class.get(matter[:2], self.default)

    @property
    def max_radius_m(self) -> float:
        return max([self.default.radius_m, *(w.radius_m for w in self.by_class.values())])

    @property
    def max_hours(self) -> float:
        return max([self.default.hours, *(w.hours for w in self.by_class.values())])


def _window(raw: Any, base: Window, where: str) -> Window:
    if not isinstance(raw, Mapping):
        raise Invalid(f"{where}: expected a table like {{ radius_m = 50, hours = 72 }}", code="duplicates.config")
    unknown = sorted(set(raw) - set(LIMITS) - {"note"})
    if unknown:
        raise Invalid(f"{where}: unknown setting {unknown[0]!r} (radius_m, hours)", code="duplicates.config")
    values = {}
    for key, (lo, hi) in LIMITS.items():
        value = raw.get(key, getattr(base, key))
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise Invalid(f"{where}: {key} must be a number from {lo:g} to {hi:g}", code="duplicates.config")
        values[key] = float(value)
    return Window(**values)


def rules_from(raw: Mapping[str, Any], where: str = "[duplicates]") -> DuplicateRules:
    """A city's `[duplicates]` table as rules: `radius_m`, `hours` and `[duplicates.classes]` "NN" = {…}
    (a class leaves out what it keeps of the default); Invalid names the setting that is wrong."""
    default = _window({k: v for k, v in raw.items() if k != "classes"}, Window(), where)
    classes = raw.get("classes", {})
    if not isinstance(classes, Mapping):
        raise Invalid(f"{where}.classes: expected a table of matter classes", code="duplicates.config")
    by_class = {}
    for key, value in classes.items():
        if not (isinstance(key, str) and len(key) == 2 and key.isdigit()):
            raise Invalid(
                f"{where}.classes: {str(key)[:8]!r} is not a two-digit matter class", code="duplicates.config"
            )
        by_class[key] = _window(value, default, f"{where}.classes.{key}")
    return DuplicateRules(default, by_class)


@dataclass(frozen=True)
class Candidate:
    """A case a report may repeat, and how far it lies from the report."""

    id: int
    case_no: str
    state: str
    matter: str
    reported_at: datetime
    closed_at: datetime | None
    distance_m: float
    version: int


@dataclass(frozen=True)
class _Entry:
    fact: CaseFacts
    x: float
    y: float
    key: tuple[str, int, int]


def qualifies(report: Case | CaseFacts, other: Case | CaseFacts, window: Window) -> bool:
    """Whether `other` may be what `report` repeats, distance aside: same matter, not itself, not voided, and
    open or reported or closed within the window's hours of the report."""
    if other.id == report.id or other.matter != report.matter or other.state == "voided":
        return False
    if other.closed_at is None:
        return True
    span = timedelta(hours=window.hours)
    at = report.reported_at
    return abs(other.reported_at - at) <= span or abs(other.closed_at - at) <= span


def candidate(other: Case | CaseFacts, distance_m: float) -> Candidate:
    return Candidate(
        other.id,
        other.case_no,
        other.state,
        other.matter,
        other.reported_at,
        other.closed_at,
        distance_m,
        other.version,
    )


class DuplicateIndex:
    """The store's open and recent cases on a metric grid by matter; safe to share between server threads."""

    def __init__(self, store: Store, rules: DuplicateRules, metric_crs: str, rebuild_s: float = REBUILD_S) -> None:
        self.store, self.rules = store, rules
        self.cell_m = rules.max_radius_m  # a radius never reaches past the neighbouring buckets
        self._to_metric = transformer(STORAGE, metric_crs)
        self._rebuild_s = rebuild_s
        self._lock = threading.Lock()
        self._entries: dict[int, _Entry] = {}
        self._buckets: dict[tuple[str, int, int], set[int]] = {}
        self._revision = -1
        self._built: datetime | None = None
        self.since: datetime | None = None  # cases closed before this are not held

    def __len__(self) -> int:
        return len(self._entries)

    # -- keeping up with the store ---------------------------------------------------------------------
    def refresh(self, now: datetime) -> None:
        """Bring the index up to date: the cases changed since the last revision, or all afresh every hour."""
        with self._lock:
            revision = self.store.revision()
            if self._built is None or (now - self._built).total_seconds() > self._rebuild_s:
                # two windows back: a report waiting up to a window still finds what closed a window before it
                since = now - timedelta(hours=2 * self.rules.max_hours)
                facts = self.store.case_facts(active_since=since)
                self._entries, self._buckets = {}, {}
                self._add(facts)
                self._revision, self._built, self.since = revision, now, since
            elif revision != self._revision:
                changed = self.store.case_facts(changed_after=self._revision)
                for f in changed:
                    self._remove(f.id)
                self._add(changed)
                self._revision = revision

    def _add(self, facts: Sequence[CaseFacts]) -> None:
        keep = [f for f in facts if f.state != "voided"]
        if not keep:
            return
        x, y = self._to_metric.transform(np.array([f.lon for f in keep]), np.array([f.lat for f in keep]))
        for f, fx, fy in zip(keep, np.atleast_1d(x), np.atleast_1d(y), strict=True):
            key = self._key(f.matter, float(fx), float(fy))
            self._entries[f.id] = _Entry(f, float(fx), float(fy), key)
            self._buckets.setdefault(key, set()).add(f.id)

    def _remove(self, case_id: int) -> None:
        old = self._entries.pop(case_id, None)
        if old is not None:
            bucket = self._buckets[old.key]
            bucket.discard(case_id)
            if not bucket:
                del self._buckets[old.key]

    def _key(self, matter: str, x: float, y: float) -> tuple[str, int, int]:
        return matter, math.floor(x / self.cell_m), math.floor(y / self.cell_m)

    # -- looking up ----------------------------------------------------------------------------------
    def by_number(self, case_no: str, now: datetime) -> CaseFacts | None:
        """An open or recent case (not voided) by its number, for a duplicate named by hand."""
        self.refresh(now)
        with self._lock:
            return next((e.fact for e in self._entries.values() if e.fact.case_no == case_no), None)

    def find(self, report: Case | CaseFacts, now: datetime, limit: int = MAX_SHOWN) -> list[Candidate]:
        """The cases `report` may repeat, nearest first (then the newest), at most `limit`."""
        self.refresh(now)
        return self.lookup(report, limit)

    def find_many(self, reports: Sequence[Case | CaseFacts], now: datetime) -> dict[int, list[Candidate]]:
        """`find` for many reports (one look at the store), by report id."""
        self.refresh(now)
        return {r.id: self.lookup(r, MAX_SHOWN) for r in reports}

    def lookup(self, report: Case | CaseFacts, limit: int = MAX_SHOWN) -> list[Candidate]:
        """`find` without looking at the store first (after `refresh`)."""
        window = self.rules.window(report.matter)
        assert self.since is not None
        if report.reported_at - timedelta(hours=window.hours) < self.since:
            return find_in_store(self.store, report, window, self._to_metric, limit)
        x, y = self._to_metric.transform(report.lon, report.lat)
        _, ix, iy = self._key(report.matter, x, y)
        reach = math.ceil(window.radius_m / self.cell_m)
        found = []
        with self._lock:
            for dx in range(-reach, reach + 1):
                for dy in range(-reach, reach + 1):
                    for cid in self._buckets.get((report.matter, ix + dx, iy + dy), ()):
                        e = self._entries[cid]
                        d = math.hypot(e.x - x, e.y - y)
                        if d <= window.radius_m and qualifies(report, e.fact, window):
                            found.append(candidate(e.fact, d))
        return ranked(found, limit)


def ranked(found: list[Candidate], limit: int) -> list[Candidate]:
    return sorted(found, key=lambda c: (round(c.distance_m, 3), -c.reported_at.timestamp(), c.id))[:limit]


def find_in_store(
    store: Store, report: Case | CaseFacts, window: Window, to_metric: Any, limit: int
) -> list[Candidate]:
    """The same answer as DuplicateIndex.find, from the store's bounding-box query (no index kept)."""
    x, y = to_metric.transform(report.lon, report.lat)
    r = window.radius_m * 1.01  # the box in degrees is a little larger than the circle; distances decide
    back = to_metric.transform(
        np.array([x - r, x + r, x - r, x + r]), np.array([y - r, y - r, y + r, y + r]), direction="INVERSE"
    )
    bbox = (float(np.min(back[0])), float(np.min(back[1])), float(np.max(back[0])), float(np.max(back[1])))
    found = []
    for c in store.cases_in_bbox(bbox):
        if not qualifies(report, c, window):
            continue
        cx, cy = to_metric.transform(c.lon, c.lat)
        d = math.hypot(cx - x, cy - y)
        if d <= window.radius_m:
            found.append(candidate(c, d))
    return ranked(found, limit)
