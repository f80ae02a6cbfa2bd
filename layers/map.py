"""The one map every page shows: basemap, administrative areas (a choropleth), grid cells by viewport, zones,
incidents and hotspots, with a layer control, a legend and a scale bar. Pages fill its data by callbacks."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import dash_leaflet as dl
from dash import html

from layers.basemap import Basemap

SYNTHETIC = "synthetic"


def js(name: str) -> dict[str, str]:
    """A function from assets/xiuhua.js, as dash-leaflet takes it."""
    return {"variable": f"xiuhua.{name}"}


def city_map(
    prefix: str,
    basemap: Basemap,
    bounds: tuple[float, float, float, float],
    t: Callable[[str], str],
    *,
    zones: bool = True,
    metric: str = "open",
    at: tuple[float, float, float] | None = None,
) -> html.Div:
    """The map of a page; component ids are `<prefix>-map`, `<prefix>-areas`, `<prefix>-cells`, … . It opens on
    `bounds`, or on `at` (lon, lat, zoom) when given."""
    x0, y0, x1, y1 = bounds
    coords = js("toLatLng") if basemap.gcj02 else None
    synthetic_note = t("map.synthetic_attribution")

    def geo(name: str, style: str, **kw: Any) -> dl.GeoJSON:
        extra = {"coordsToLatLng": coords} if coords else {}
        return dl.GeoJSON(id=f"{prefix}-{name}", style=js(style), **extra, **kw)

    if basemap.kind == "offline":
        base = [
            dl.Pane(
                geo("land", "landStyle", url="/api/layers/land.geojson", interactive=False),
                name="land",
                style={"zIndex": 250},
            )
        ]
    else:
        base = [
            dl.TileLayer(
                url=basemap.url,
                attribution=basemap.attribution,
                subdomains=basemap.subdomains,
                maxZoom=basemap.max_zoom,
            )
        ]
    hideout = {"counts": {}, "metric": metric, "max": 1}
    overlays = [
        dl.Overlay(
            geo("areas", "areaStyle", hideout=hideout, attribution=synthetic_note), name=t("map.areas"), checked=True
        ),
        dl.Overlay(geo("cells", "areaStyle", hideout=hideout), name=t("map.cells"), checked=True),
        dl.Overlay(
            geo("districts", "lineStyle", url="/api/layers/districts.geojson", interactive=False),
            name=t("map.districts"),
            checked=True,
        ),
    ]
    if zones:
        overlays += [
            dl.Overlay(
                geo(n, "zoneStyle", url=f"/api/layers/{n}.geojson", hideout={"layer": n}),
                name=t(f"map.{n}"),
                checked=n in ("model_streets", "vendor_zones"),
            )
            for n in ("squads", "model_streets", "vendor_zones", "storefront_zones")
        ]
    overlays += [
        dl.Overlay(geo("hotspots", "areaStyle", pointToLayer=js("hotspot")), name=t("map.hotspots"), checked=True),
        dl.Overlay(
            geo(
                "cases",
                "areaStyle",
                pointToLayer=js("caseMarker"),
                clusterToLayer=js("cluster"),
                cluster=True,
                zoomToBoundsOnClick=True,
                superClusterOptions={"radius": 60, "maxZoom": 17},
            ),
            name=t("map.cases"),
            checked=True,
        ),
    ]
    legend = html.Div(
        [html.Div(t("legend.title"), className="legend-title")]
        + [html.Div([html.Span(className=f"dot stage-{s}"), t(f"stage.{s}")]) for s in STAGE_KEYS]
        + [
            html.Div([html.Span(className="dot overdue"), t("legend.overdue")]),
            html.Div([html.Span(className="dot urgent"), t("legend.urgent")]),
            html.Div([html.Span(className="swatch"), t(f"legend.metric.{metric}")], id=f"{prefix}-legend-metric"),
            html.Div(t("map.synthetic_badge"), className="legend-synthetic"),
        ],
        className="map-legend",
        id=f"{prefix}-legend",
    )
    return html.Div(
        [
            dl.Map(
                [
                    *base,
                    dl.LayersControl(overlays, position="topright", collapsed=True),
                    dl.ScaleControl(position="bottomleft", imperial=False),
                ],
                id=f"{prefix}-map",
                # trackViewport needs center and zoom even where bounds decide the first view
                center=[at[1], at[0]] if at else [(y0 + y1) / 2, (x0 + x1) / 2],
                zoom=at[2] if at else zoom_to_fit(bounds),
                trackViewport=True,
                preferCanvas=True,
                zoomSnap=0.25,
                maxZoom=basemap.max_zoom,
                className="city-map" + (" offline" if basemap.kind == "offline" else ""),
            ),
            legend,
        ],
        className="map-wrap",
    )


STAGE_KEYS = ("waiting", "working", "parked", "checking")


def zoom_to_fit(bounds: tuple[float, float, float, float], width_px: int = 1100, height_px: int = 650) -> float:
    """The web-mercator zoom (in quarter steps) at which `bounds` fit a map of about this many pixels."""
    x0, y0, x1, y1 = bounds

    def merc_y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    zx = math.log2(width_px * 360.0 / (256.0 * max(x1 - x0, 1e-6)))
    zy = math.log2(height_px * 2 * math.pi / (256.0 * max(merc_y(y1) - merc_y(y0), 1e-9)))
    return max(0.0, math.floor(min(zx, zy) * 4) / 4)


def parse_at(value: str | None) -> tuple[float, float, float] | None:
    """A map position from a page's `?at=lon,lat,zoom` (None if absent or not three sensible numbers)."""
    try:
        lon, lat, zoom = (float(v) for v in (value or "").split(","))
    except ValueError:
        return None
    return (lon, lat, zoom) if -180 <= lon <= 180 and -90 <= lat <= 90 and 0 <= zoom <= 20 else None
