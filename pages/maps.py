"""The map's callback outputs, shared by every page that shows layers.map.city_map."""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import Output

from layers.basemap import Basemap
from layers.map import heat_legend
from web.i18n import t

FIELDS = (
    ("areas", "url", "areas_url"),
    ("areas", "hideout", "areas_hideout"),
    ("cells", "url", "cells_url"),
    ("cells", "hideout", "cells_hideout"),
    ("cases", "data", "cases"),
    ("hotspots", "data", "hotspots"),
    ("labels", "data", "labels"),
    ("labels", "hideout", "labels_hideout"),
)
EMPTY = {"type": "FeatureCollection", "features": []}


def outputs(prefix: str) -> list[Output]:
    return [Output(f"{prefix}-{c}", p) for c, p, _ in FIELDS] + [
        Output(f"{prefix}-areas", "data"),
        Output(f"{prefix}-cells", "data"),
        Output(f"{prefix}-legend-heat", "children"),
    ]


def values(props: dict[str, Any]) -> list[Any]:
    """The outputs' values, in order; an area or cell layer with no URL is emptied; the legend shows the
    hotspots' scale while there are hotspots."""
    out = [props[k] for _, _, k in FIELDS]
    return [
        *out,
        EMPTY if props["areas_url"] is None else None,
        EMPTY if props["cells_url"] is None else None,
        heat_legend(props["heat_scale"], t),
    ]


def base_layers(basemap: Basemap) -> list[Any]:
    """The layers under a page's own marks: the city's land (offline, in a pane of its own below the marks, however
    late it loads) or the configured tiles."""
    if basemap.kind == "offline":
        land = dl.GeoJSON(url="/api/layers/land.geojson", style={"variable": "xiuhua.landStyle"}, interactive=False)
        return [dl.Pane(land, name="land", style={"zIndex": 250})]
    return [
        dl.TileLayer(
            url=basemap.url, attribution=basemap.attribution, subdomains=basemap.subdomains, maxZoom=basemap.max_zoom
        )
    ]
