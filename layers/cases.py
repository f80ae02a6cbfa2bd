"""Incidents on the map: single points (clustered in the browser) when a viewport holds few enough, else
hotspots (server-side bins) so that a map move never ships more than a few hundred KB."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from dispatch.board import Snapshot
from layers.geojson import point_features

POINT_LIMIT = 4000  # about 500 KB of GeoJSON, 60 KB gzipped
BIN_PX = 48  # a hotspot bin is about this many screen pixels wide
HEAT_CLASSES = 5  # colours of the hotspot ramp (layers.map.HEAT_COLOURS)
COMMON_MAP_PX = 900  # maps up to this many CSS pixels high draw marks at their size; taller ones (a 4K wall)…
MAX_MARK_SCALE = 2.0  # …draw them, and hotspot bins, up to this much larger (the browser does the same)


def bin_size_deg(zoom: float) -> float:
    """The width in degrees of BIN_PX pixels at a web-mercator zoom level."""
    return BIN_PX * 360.0 / (256.0 * 2.0**zoom)


def heat_scale(counts: Sequence[int]) -> list[tuple[int, int]]:
    """The hotspot colour classes for these bin counts, as (lowest count, colour index) pairs: lower bounds spaced
    evenly on a square-root scale up to the largest count, rounded to two significant digits, so the hottest bins
    stand out without the rest fading into one colour; the hottest class always takes the last colour. Empty when
    there are no counts."""
    top = max(counts, default=0)
    if top < 1:
        return []
    lows = [1]
    for k in range(1, HEAT_CLASSES):
        low = round(float(f"{top * (k / HEAT_CLASSES) ** 2:.2g}"))
        if low > lows[-1]:
            lows.append(low)
    first = HEAT_CLASSES - len(lows)
    return [(low, first + k) for k, low in enumerate(lows)]


def heat_of(n: int, scale: Sequence[tuple[int, int]]) -> int:
    """The colour index of a count on a heat scale."""
    return max(colour for low, colour in scale if low <= n)


def mark_scale(map_height_px: float) -> float:
    """How much larger marks and hotspot bins are on a map this many CSS pixels high (1 on common screens)."""
    return min(MAX_MARK_SCALE, max(1.0, map_height_px / COMMON_MAP_PX))


def incidents(
    snap: Snapshot, idx: Any, zoom: float, highlight: frozenset[int] = frozenset(), scale: float = 1.0
) -> dict[str, Any]:
    """GeoJSON for the selected cases: points, or hotspots when there are too many or the map is far out. On a
    map whose marks are `scale` times larger (mark_scale), the map counts as that much further out."""
    zoom -= math.log2(scale)
    if len(idx) <= POINT_LIMIT and zoom >= 12:
        facts = [snap.facts[i] for i in idx]
        props = [
            {
                "id": f.id,
                "no": f.case_no,
                "stage": snap.column["stage"][i],
                "urgent": f.urgency == "urgent",
                "over": bool(snap.overdue[i]),
                "risk": bool(snap.at_risk[i]),
                "hl": f.id in highlight,
            }
            for f, i in zip(facts, idx, strict=True)
        ]
        fc = point_features([f.lon for f in facts], [f.lat for f in facts], props)
        fc["kind"] = "points"
        return fc
    bins = snap.bins(idx, bin_size_deg(zoom))
    scale = heat_scale([b[2] for b in bins])
    props = [{"n": b[2], "over": b[3], "heat": heat_of(b[2], scale)} for b in bins]
    fc = point_features([b[0] for b in bins], [b[1] for b in bins], props)
    fc["kind"] = "hotspots"
    fc["scale"] = scale
    return fc
