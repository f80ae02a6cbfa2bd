"""Chronic-place detection (疑难杂症) over 100k cases: synthetic case facts clustered around hotspots with numpy
(seeded), 30 days, the demo's matters, the city's [chronic] rules and metric CRS. Timed: `detect`; the baseline
is projecting the same points to the metric CRS (which detect does once per matter)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np

from bench.store import DATA
from cities.config import load_config
from dispatch.chronic import city_config, detect, project
from dispatch.demo import MATTER_WEIGHTS
from store.models import CaseFacts

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def facts(n: int, seed: int = 7) -> list[CaseFacts]:
    rng = np.random.default_rng(seed)
    matters = np.array(list(MATTER_WEIGHTS))
    weights = np.array(list(MATTER_WEIGHTS.values()), dtype=float)
    hot = np.column_stack([rng.uniform(117.95, 118.25, 3000), rng.uniform(24.42, 24.62, 3000)])
    pick = rng.integers(len(hot), size=n)
    lon = hot[pick, 0] + rng.normal(0, 0.002, n)
    lat = hot[pick, 1] + rng.normal(0, 0.002, n)
    matter = rng.choice(matters, n, p=weights / weights.sum())
    ago = rng.uniform(0, 30 * 86400, n)
    cells = (np.floor(lon / 0.001).astype(int) * 1000 + np.floor(lat / 0.001).astype(int) % 1000).astype(str)
    return [
        CaseFacts(
            i,
            f"A{i:08d}",
            "reported",
            str(matter[i]),
            "supervisor",
            "normal",
            float(lon[i]),
            float(lat[i]),
            "350203",
            None,
            None,
            str(cells[i]),
            None,
            None,
            NOW - timedelta(seconds=float(ago[i])),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            (),
            1,
        )
        for i in range(n)
    ]


def run(n: int = 100_000) -> None:
    cfg = load_config("xiamen", DATA)
    rules = city_config(cfg)
    print(f"\n== chronic places: detect over {n:,} cases (30 days, {len(MATTER_WEIGHTS)} matters) ==")
    cases = facts(n)
    t0 = time.perf_counter()
    project([c.lon for c in cases], [c.lat for c in cases], rules.metric_crs)
    base = time.perf_counter() - t0
    t0 = time.perf_counter()
    places = detect(cases, NOW, rules)
    took = time.perf_counter() - t0
    print(f"  projection of {n:,} points (baseline): {base * 1000:.0f} ms")
    print(f"  detect: {took:.2f} s, {len(places):,} places ({took / base:.1f}× the baseline)")
