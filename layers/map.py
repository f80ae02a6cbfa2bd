"""The one map every page shows: basemap, administrative areas (a choropleth), grid cells by viewport, zones,
incidents and hotspots, with a layer control, a legend and a scale bar. Pages fill its data by callbacks."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import dash_leaflet as dl
from dash import html

from geo.chinacoords import wgs84_to_gcj02
from geo.registry import LAYERS
from layers.basemap import Basemap
from layers.cases import COMMON_MAP_PX, HEAT_CLASSES, MAX_MARK_SCALE

SYNTHETIC = "synthetic"
# Colours are decided here, once: the layers' hideouts hand them to the style functions in assets/xiuhua.js and the
# legend draws its keys from the same values, so the two cannot disagree.
STAGE_COLOURS = {"waiting": "#f59f00", "working": "#1c7ed6", "parked": "#868e96", "checking": "#37b24d"}
SCALE = {"px": COMMON_MAP_PX, "most": MAX_MARK_SCALE}  # marks grow on taller maps, as hotspot bins do (layers.cases)
MARKER = {"stages": STAGE_COLOURS, "overdue": "#e03131", "selected": "#111111", "edge": "#ffffff", **SCALE}
# the choropleth's ramp per metric (low, middle, high), for the areas' style and the legend's swatch
METRIC_RAMPS = {
    "open": ("#fff5eb", "#fd8d3c", "#a63603"),
    "overdue": ("#fff5f0", "#fb6a4a", "#99000d"),
    "repeat": ("#f2f0f7", "#9e9ac8", "#54278f"),
}
HEAT_COLOURS = ("#ffe066", "#ffa94d", "#f76707", "#e03131", "#a61e4d")  # yellow to deep red: more incidents
ZONE_STYLES = {  # line and fill colour, fill opacity, line weight
    "squads": ("#7048e8", 0.02, 1),
    "model_streets": ("#e64980", 0.15, 4),
    "vendor_zones": ("#0ca678", 0.35, 1),
    "storefront_zones": ("#f08c00", 0.35, 1),
    "signboard_segments": ("#1098ad", 0.25, 3),  # the colour of a segment without a grade
}
# a signboard segment's colour by its grade (geo.registry.SIGNBOARD_GRADES): map and legend
GRADE_COLOURS = {"premium": "#b8860b", "standard": "#1098ad", "controlled": "#495057"}
assert set(GRADE_COLOURS) == set(LAYERS["signboard_segments"].grades)
ZONES_SHOWN = ("model_streets", "vendor_zones")  # checked in the layer control when a page opens
assert set(ZONE_STYLES) == {n for n, layer in LAYERS.items() if layer.overlay}, "geo/registry's overlays need a style"
STREET_ZOOM = 18  # where the map goes to show one incident: above the clusters' last zoom (17), single points
assert len(HEAT_COLOURS) == HEAT_CLASSES


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
    case_links: bool = True,
) -> html.Div:
    """The map of a page; component ids are `<prefix>-map`, `<prefix>-areas`, `<prefix>-cells`, … . It opens on
    `bounds` fitted to whatever size the map has, or on `at` (lon, lat, zoom) when given."""
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
    hideout = area_hideout({}, metric)
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
                geo(n, "zoneStyle", url=f"/api/layers/{n}.geojson", hideout=zone_hideout(n)),
                name=t(f"map.{n}"),
                checked=n in ZONES_SHOWN,
            )
            for n in ZONE_STYLES
        ]
    # names of sub-districts and communities, and cells' codes, by viewport (web.mapview.label_level): text in a
    # pane of its own above the areas, which lets every click through to the incidents and areas below
    overlays += [
        dl.Overlay(
            dl.GeoJSON(
                id=f"{prefix}-labels",
                pointToLayer=js("label"),
                hideout={"kind": None},
                interactive=False,
                **({"coordsToLatLng": coords} if coords else {}),
            ),
            name=t("map.labels"),
            checked=True,
        )
    ]
    # Leaflet's GeoJSON restyles every marker that pointToLayer made with the layer's `style` (and dash-leaflet
    # gives clustered layers a grey default style), so the markers' style function must be the layer's style
    overlays += [
        dl.Overlay(
            geo("hotspots", "hotspotStyle", pointToLayer=js("hotspot"), hideout={"ramp": HEAT_COLOURS, **SCALE}),
            name=t("map.hotspots"),
            checked=True,
        ),
        dl.Overlay(
            geo(
                "cases",
                "caseStyle",
                # an incident's popup links to its case page (/case/<id>), unless the page is a kiosk
                hideout={**MARKER, "link": "/case/", "open": t("casepage.open")} if case_links else MARKER,
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
    return html.Div(
        [
            dl.Map(
                [
                    *base,
                    dl.LayersControl(overlays, position="topright", collapsed=True),
                    dl.ScaleControl(position="bottomleft", imperial=False),
                ],
                id=f"{prefix}-map",
                # trackViewport needs a center; the map fits `bounds` when it has no zoom (react-leaflet's
                # MapContainer prefers center and zoom to bounds); the center is the one fitting gives, or
                # dash-leaflet would pan to it at once (one more map move, one more callback)
                center=[at[1], at[0]] if at else [mercator_middle(y0, y1), (x0 + x1) / 2],
                **({"zoom": at[2]} if at else {"bounds": [[y0, x0], [y1, x1]], "boundsOptions": {"padding": [8, 8]}}),
                trackViewport=True,
                preferCanvas=True,
                zoomSnap=0.25,
                maxZoom=basemap.max_zoom,
                className="city-map" + (" offline" if basemap.kind == "offline" else ""),
            ),
            legend(prefix, t, metric, zones),
        ],
        className="map-wrap",
    )


def mercator_middle(lat0: float, lat1: float) -> float:
    """The latitude halfway between two on a web-mercator map (where Leaflet centres bounds it fits)."""

    def y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    return math.degrees(2 * math.atan(math.exp((y(lat0) + y(lat1)) / 2)) - math.pi / 2)


def area_hideout(counts: dict[str, Any], metric: str, top: int = 1) -> dict[str, Any]:
    """What the areas' style function needs: the counts per area, the metric (which count), its ramp, the top."""
    ramp = METRIC_RAMPS.get(metric, METRIC_RAMPS["open"])
    return {"counts": counts, "metric": metric, "max": max(top, 1), "ramp": ramp}


def metric_key(metric: str, t: Callable[[str], str]) -> list[Any]:
    """The legend's key for the choropleth: the metric's ramp and its name."""
    ramp = METRIC_RAMPS.get(metric, METRIC_RAMPS["open"])
    return [
        html.Span(className="swatch", style={"background": f"linear-gradient(90deg, {', '.join(ramp)})"}),
        html.Span(t(f"legend.metric.{metric}"), className="legend-label"),
    ]


def zone_hideout(layer: str) -> dict[str, Any]:
    colour, fill, weight = ZONE_STYLES[layer]
    grades = {"grades": GRADE_COLOURS} if LAYERS[layer].grades else {}
    return {"layer": layer, "color": colour, "fill": fill, "weight": weight, **grades}


def legend(prefix: str, t: Callable[[str], str], metric: str, zones: bool) -> html.Div:
    """What every mark on the map means: incidents by stage, overdue, urgent and selected; the hotspots' heat scale
    (`<prefix>-legend-heat`, filled with the hotspots by `heat_legend`); the choropleth; zones; boundaries."""

    def row(key: Any, label: str, **kw: Any) -> html.Div:
        return html.Div([key, html.Span(label, className="legend-label")], className="legend-row", **kw)

    def dot(cls: str, fill: str, ring: str | None = None) -> html.Span:
        style = {"background": fill} | ({"borderColor": ring} if ring else {})
        return html.Span(className=f"dot {cls}", style=style)

    waiting = STAGE_COLOURS["waiting"]
    incidents = [html.Div(t("legend.incidents"), className="legend-head")]
    incidents += [
        row(dot(f"stage-{s}", c), t(f"stage.{s}"), id=f"{prefix}-legend-{s}") for s, c in STAGE_COLOURS.items()
    ]
    incidents += [
        row(dot("overdue", waiting, MARKER["overdue"]), t("legend.overdue"), id=f"{prefix}-legend-overdue"),
        row(dot("urgent", waiting), t("legend.urgent"), id=f"{prefix}-legend-urgent"),
        row(dot("selected", waiting, MARKER["selected"]), t("legend.selected"), id=f"{prefix}-legend-selected"),
        row(html.Span("12", className="cluster-key"), t("legend.cluster")),
    ]
    areas = [
        html.Div(id=f"{prefix}-legend-heat", className="legend-heat"),
        html.Div(t("legend.areas"), className="legend-head"),
        html.Div(metric_key(metric, t), className="legend-row", id=f"{prefix}-legend-metric"),
        row(html.Span(className="line-district"), t("map.districts")),
    ]
    if zones:
        areas += [
            row(html.Span(className="swatch zone", style={"borderColor": c, "background": c + "66"}), t(f"map.{n}"))
            for n, (c, _fill, _w) in ZONE_STYLES.items()
            if not LAYERS[n].grades
        ]
        areas += [  # a graded layer: a key per grade
            row(
                html.Span(className="swatch zone", style={"borderColor": c, "background": c + "66"}),
                f"{t('map.signboard_segments')} · {t(f'model.grade.{g}')}",
                id=f"{prefix}-legend-grade-{g}",
            )
            for g, c in GRADE_COLOURS.items()
        ]
    return html.Div(
        [
            html.Div(t("legend.title"), className="legend-title"),
            html.Div(incidents, className="legend-col"),
            html.Div(areas, className="legend-col"),
            html.Div(t("map.synthetic_badge"), className="legend-synthetic"),
        ],
        className="map-legend",
        id=f"{prefix}-legend",
    )


def heat_legend(scale: list[tuple[int, int]], t: Callable[[str], str]) -> list[Any]:
    """The hotspots' colour scale for the legend: a swatch per class, labelled with its lowest count."""
    if not scale:
        return []
    keys = [
        html.Span(
            [html.Span(className=f"heat-swatch heat-{c}", style={"background": HEAT_COLOURS[c]}), f"{low}+"],
            className="heat-key",
            **{"data-from": low, "data-heat": c},
        )
        for low, c in scale
    ]
    return [html.Div(t("legend.hotspots"), className="legend-head"), html.Div(keys, className="heat-scale")]


def fly_to(lon: float, lat: float, basemap: Basemap, zoom: float = STREET_ZOOM) -> dict[str, Any]:
    """A map `viewport` that flies to a WGS84 point at street zoom (in GCJ-02 on a GCJ-02 basemap, where the
    layers are drawn shifted)."""
    if basemap.gcj02:
        glon, glat = wgs84_to_gcj02([lon], [lat])
        lon, lat = float(glon[0]), float(glat[0])
    return {"center": [lat, lon], "zoom": min(zoom, basemap.max_zoom), "transition": "flyTo"}


def parse_at(value: str | None) -> tuple[float, float, float] | None:
    """A map position from a page's `?at=lon,lat,zoom` (None if absent or not three sensible numbers)."""
    try:
        lon, lat, zoom = (float(v) for v in (value or "").split(","))
    except ValueError:
        return None
    return (lon, lat, zoom) if -180 <= lon <= 180 and -90 <= lat <= 90 and 0 <= zoom <= 20 else None
