"""Chronic places (疑难杂症): the same matter reported again and again at one place.

A place is chronic when at least k cases of one matter were reported within the last d days in the same grid
cell, or each within radius_m of another (k, d, radius_m and quiet_days per matter class, as data: the
city's city.toml [chronic] table). Pure: case facts in, places out; distances in the city's metric CRS.
"""

from __future__ import annotations

import threading
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from cities.config import CityConfig
from store.errors import Invalid
from store.models import CaseFacts

FAST_TRACK = "fast_track"  # the flag of a chronic place's fast-track case
PLACE_FLAG = "chronic:"  # chronic:<place id>
RULE_KEYS = ("k", "days", "radius_m", "quiet_days")


@dataclass(frozen=True)
class Rule:
    k: int  # reports that make a place chronic
    days: int  # within this many days
    radius_m: float  # of one another (or in the same grid cell)
    quiet_days: int  # the fast-track case closes only after this many days without a recurrence


@dataclass(frozen=True)
class ChronicConfig:
    default: Rule
    classes: Mapping[str, Rule]  # by two-digit matter class code
    metric_crs: str

    def rule(self, matter: str) -> Rule:
        return self.classes.get(matter[:2], self.default)


@dataclass(frozen=True)
class Place:
    """A chronic place as found: its matter, where (the cell most of its cases lie in, their centroid), and
    the cases that make it."""

    matter: str
    cell: str | None
    district: str | None
    lon: float
    lat: float
    case_ids: tuple[int, ...]
    first_at: datetime
    last_at: datetime


def _rule(raw: Any, where: str, base: Rule | None) -> Rule:
    if not isinstance(raw, dict):
        raise Invalid(f"{where}: expected a table of {', '.join(RULE_KEYS)}", code="chronic.config", where=where)
    unknown = sorted(set(raw) - set(RULE_KEYS))
    if unknown:
        raise Invalid(f"{where}: unknown settings {', '.join(unknown)}", code="chronic.config", where=where)
    values: dict[str, Any] = {} if base is None else dict(base.__dict__)
    for key in RULE_KEYS:
        if key in raw:
            v = raw[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0 or (key != "radius_m" and v != int(v)):
                raise Invalid(f"{where}: {key} must be a positive number", code="chronic.config", where=where)
            values[key] = float(v) if key == "radius_m" else int(v)
    missing = [k for k in RULE_KEYS if k not in values]
    if missing:
        raise Invalid(f"{where}: missing {', '.join(missing)}", code="chronic.config", where=where)
    if values["k"] < 2:
        raise Invalid(f"{where}: k must be at least 2 (a repeat)", code="chronic.config", where=where)
    return Rule(**values)


def load_config(city_toml: Path, metric_crs: str) -> ChronicConfig:
    """The [chronic] table of a city.toml: `default = {k, days, radius_m, quiet_days}` and overrides by class."""
    raw = tomllib.loads(city_toml.read_text(encoding="utf-8")).get("chronic")
    if not isinstance(raw, dict) or "default" not in raw:
        raise Invalid(f"{city_toml}: no [chronic] table with a default", code="chronic.config", where=str(city_toml))
    default = _rule(raw["default"], f"{city_toml} [chronic] default", None)
    classes = {}
    for key, value in raw.items():
        if key == "default":
            continue
        if not (len(key) == 2 and key.isdigit()):
            raise Invalid(
                f"{city_toml} [chronic]: {key!r} is not a two-digit matter class", code="chronic.config", where=key
            )
        classes[key] = _rule(value, f"{city_toml} [chronic] {key}", default)
    return ChronicConfig(default, classes, metric_crs)


def city_config(city: CityConfig) -> ChronicConfig:
    """A city's chronic-place rules (its city.toml [chronic] table), measured in its metric CRS."""
    return load_config(city.root / "city.toml", city.metric_crs)


def counts(case: CaseFacts) -> bool:
    """Whether a case counts as a report of its place: not voided (refused, or merged into the case it
    repeats, which counts once), and not a fast-track case itself."""
    return case.state != "voided" and FAST_TRACK not in case.flags


@lru_cache(maxsize=32)
def _transformer(metric_crs: str, _thread: int) -> Transformer:
    # slow to make (~0.15 s): once per CRS and thread (a pyproj Transformer is not shared between threads)
    return Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)


def project(lon: Sequence[float], lat: Sequence[float], metric_crs: str) -> np.ndarray:
    """Lon/lat points in the metric CRS, as an (n, 2) array of metres."""
    tr = _transformer(metric_crs, threading.get_ident())
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.column_stack([x, y])


def _xy(facts: Sequence[CaseFacts], metric_crs: str) -> np.ndarray:
    return project([c.lon for c in facts], [c.lat for c in facts], metric_crs)


def detect(facts: Sequence[CaseFacts], now: datetime, config: ChronicConfig) -> list[Place]:
    """Chronic places among the cases: per matter, groups of cases reported within the rule's last d days that
    lie in the same cell or within radius_m of one another (chained), with at least k cases; largest first."""
    by_matter: dict[str, list[CaseFacts]] = {}
    for c in facts:
        if counts(c) and c.reported_at <= now and c.reported_at > now - timedelta(days=config.rule(c.matter).days):
            by_matter.setdefault(c.matter, []).append(c)
    places: list[Place] = []
    for matter, group in sorted(by_matter.items()):
        rule = config.rule(matter)
        if len(group) < rule.k:
            continue
        xy = _xy(group, config.metric_crs)
        pairs = cKDTree(xy).query_pairs(rule.radius_m, output_type="ndarray")
        # the same cell links too: each case to the first case of its cell
        cells = np.array([c.cell or "" for c in group], dtype=object)
        _, first, inverse = np.unique(cells, return_index=True, return_inverse=True)
        same = np.flatnonzero(cells != "")
        links = np.vstack([pairs.reshape(-1, 2), np.column_stack([same, first[inverse[same]]])])
        n = len(group)
        graph = coo_matrix((np.ones(len(links)), (links[:, 0], links[:, 1])), shape=(n, n))
        _, label = connected_components(graph, directed=False)
        sizes = np.bincount(label)
        for lab in np.flatnonzero(sizes >= rule.k):
            members = [group[i] for i in np.flatnonzero(label == lab)]
            places.append(_place(matter, members))
    return sorted(places, key=lambda p: (-len(p.case_ids), p.matter, p.first_at))


def _place(matter: str, members: list[CaseFacts]) -> Place:
    def most(values: list[str | None]) -> str | None:
        found = Counter(v for v in values if v)
        return min(found, key=lambda v: (-found[v], v)) if found else None

    times = [c.reported_at for c in members]
    return Place(
        matter=matter,
        cell=most([c.cell for c in members]),
        district=most([c.district for c in members]),
        lon=float(np.mean([c.lon for c in members])),
        lat=float(np.mean([c.lat for c in members])),
        case_ids=tuple(sorted(c.id for c in members)),
        first_at=min(times),
        last_at=max(times),
    )


def near(facts: Sequence[CaseFacts], lon: float, lat: float, cell: str | None, radius_m: float,
         metric_crs: str) -> list[CaseFacts]:  # fmt: skip
    """The cases among `facts` that lie in the cell, or within radius_m of the point (a place's recurrences)."""
    if not facts:
        return []
    xy = _xy(facts, metric_crs)
    centre = project([lon], [lat], metric_crs)[0]
    d = np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1])
    return [c for c, dist in zip(facts, d.tolist(), strict=True) if dist <= radius_m or (cell and c.cell == cell)]
