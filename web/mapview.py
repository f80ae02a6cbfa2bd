"""What a map shows for a viewport: which level of areas, their counts, cells, incidents or hotspots.

A map move costs one small callback (counts and incidents, gzipped) plus, at street zoom, one cacheable
request for the grid cells of a snapped box around the viewport; the area outlines are fetched once.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from dispatch.board import View
from layers.cases import incidents, mark_scale
from layers.city import CELL_LIMIT
from layers.map import area_hideout
from web.services import Services

EMPTY: dict[str, Any] = {"type": "FeatureCollection", "features": []}
SNAP_DEG = 0.02  # cell requests cover the viewport snapped outwards to this grid, so small pans reuse them
PLURAL = {"subdistrict": "subdistricts", "community": "communities"}
GCJ_PAD_DEG = 0.01  # a GCJ-02 basemap reports GCJ bounds: pad by more than the shift (< 700 m) instead


def level_for(zoom: float) -> str:
    """The administrative level a choropleth shows at a zoom (cells from street zoom on)."""
    return "subdistrict" if zoom < 13 else "community" if zoom < 15 else "cell"


def label_level(zoom: float) -> str | None:
    """Which names the map writes at a zoom: none over the whole city, sub-districts at mid zoom, communities
    closer in, grid cells' codes at the highest zooms (where a cell is wide enough for its code)."""
    return None if zoom < 12 else "subdistricts" if zoom < 14 else "communities" if zoom < 18 else "grid_cells"


def viewport(bounds: Any, pad: float = 0.0) -> tuple[float, float, float, float]:
    """A lon/lat box from dash-leaflet's [[south, west], [north, east]]; ValueError if it is not one."""
    try:
        (s, w), (n, e) = bounds
        box = (float(w) - pad, float(s) - pad, float(e) + pad, float(n) + pad)
    except (TypeError, ValueError):
        raise ValueError(f"not a viewport: {bounds!r}") from None
    if not all(math.isfinite(v) for v in box) or box[0] > box[2] or box[1] > box[3]:
        raise ValueError(f"not a viewport: {bounds!r}")
    return box


def around(center: Any, zoom: float, width_px: int = 1920, height_px: int = 1080) -> list[list[float]]:
    """Bounds for a map that has reported only its center and zoom yet (it opened on a position, not a box)."""
    lat, lon = (float(v) for v in center)
    half_lon = width_px / 2 * 360.0 / (256.0 * 2.0**zoom)
    half_lat = half_lon * height_px / width_px * math.cos(math.radians(lat))
    return [[lat - half_lat, lon - half_lon], [lat + half_lat, lon + half_lon]]


def height_px(box: tuple[float, float, float, float], zoom: float) -> float:
    """The height in CSS pixels of a web-mercator map showing this lon/lat box at this zoom."""

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    return (merc(box[3]) - merc(box[1])) / (2 * math.pi) * 256.0 * 2.0**zoom


def snapped(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    f = SNAP_DEG
    return (math.floor(x0 / f) * f, math.floor(y0 / f) * f, math.ceil(x1 / f) * f, math.ceil(y1 / f) * f)


def map_props(
    svc: Services,
    view: View,
    bounds: Any,
    zoom: float | None,
    now: datetime,
    metric: str = "open",
    highlight: frozenset[int] = frozenset(),
    counts: dict[str, dict[str, tuple[int, int]]] | None = None,
    center: Any = None,
) -> dict[str, Any]:
    """The data properties of a page's map (see layers.map.city_map) for a viewport and filters; `counts`
    replaces the open/overdue counts of the choropleth by level (e.g. repeat problems)."""
    zoom = 11.0 if zoom is None else float(zoom)
    if not bounds and center:
        bounds = around(center, zoom)
    box = viewport(bounds, GCJ_PAD_DEG if svc.basemap.gcj02 else 0.0)
    scale = mark_scale(height_px(viewport(bounds), zoom))
    snap = svc.board.snapshot()
    everything = snap.select(view, now)
    level = level_for(zoom)
    scope = ",".join(view.districts)
    cells_url = None
    if level == "cell":
        cx0, cy0, cx1, cy1 = snapped(box)
        # the layer itself says when a box holds too many cells; ask it once, then hand the browser the URL
        if svc.layers.cell_count((cx0, cy0, cx1, cy1), view.districts) <= CELL_LIMIT:
            cells_url = f"/api/cells.geojson?bbox={cx0:.2f},{cy0:.2f},{cx1:.2f},{cy1:.2f}" + (
                f"&d={scope}" if scope else ""
            )
        else:
            level = "community"
    # the choropleth counts open (and overdue) cases, unless the page brings its own per level (repeats)
    by_unit = counts.get(level, {}) if counts is not None else snap.count_by(level, everything)
    pick = 1 if metric == "overdue" else 0
    top = max((c[pick] for c in by_unit.values()), default=0)
    hideout = area_hideout(by_unit, metric, top)
    in_view = snap.select(view, now, box)
    cases = incidents(snap, in_view, zoom, highlight, scale)
    labelled = label_level(zoom)
    labels = svc.layers.labels(labelled, box, view.districts) if labelled else EMPTY
    points = cases.pop("kind") == "points"
    scale = cases.pop("scale", [])
    return {
        "level": level,
        "areas_url": None
        if level == "cell"
        else f"/api/layers/{PLURAL[level]}.geojson" + (f"?d={scope}" if scope else ""),
        "areas_hideout": hideout if level != "cell" else area_hideout({}, metric),
        "cells_url": cells_url,
        "cells_hideout": hideout if level == "cell" else area_hideout({}, metric),
        "cases": cases if points else EMPTY,
        "hotspots": EMPTY if points else cases,
        "labels": labels,
        "labels_hideout": {"kind": labelled},
        "heat_scale": scale,
        "in_view": len(in_view),
        "cell_limit": CELL_LIMIT,
    }
