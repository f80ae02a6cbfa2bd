"""Incidents on the map: single points (clustered in the browser) when a viewport holds few enough, else
hotspots (server-side bins) so that a map move never ships more than a few hundred KB."""

from __future__ import annotations

from typing import Any

from dispatch.board import Snapshot
from layers.geojson import point_features

POINT_LIMIT = 4000  # about 500 KB of GeoJSON, 60 KB gzipped
BIN_PX = 48  # a hotspot bin is about this many screen pixels wide


def bin_size_deg(zoom: float) -> float:
    """The width in degrees of BIN_PX pixels at a web-mercator zoom level."""
    return BIN_PX * 360.0 / (256.0 * 2.0**zoom)


def incidents(snap: Snapshot, idx: Any, zoom: float, highlight: frozenset[int] = frozenset()) -> dict[str, Any]:
    """GeoJSON for the selected cases: points, or hotspots when there are too many or the map is far out."""
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
    fc = point_features([b[0] for b in bins], [b[1] for b in bins], [{"n": b[2], "over": b[3]} for b in bins])
    fc["kind"] = "hotspots"
    return fc
