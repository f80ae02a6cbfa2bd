"""/campaigns: campaigns (周期集群仗 — 治难点, 通堵点, 扫盲点), running ones first; a chosen campaign's cases in its
area week by week against as many weeks before it, closure and on-time rates for both windows, the worst cells, and two
maps side by side (before | during). Rendered on the server from the address (?campaign=…), so every view is a link.
A district head sees the campaigns whose area touches their districts, and counts only their districts' cases."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

import dash
import dash_leaflet as dl
import numpy as np
import shapely
from dash import Input, Output, State, callback, dcc, html

from dispatch.campaigns import AREA_LAYERS, KINDS, CampaignFigures, Window, figures_of, running_first, state_of
from dispatch.policy import allows
from geo.chinacoords import wgs84_to_gcj02
from pages.maps import base_layers
from pages.shell import forbidden
from store.errors import StoreError
from store.models import Campaign
from web import campaigns as web_campaigns
from web import names
from web.auth import Denied, require
from web.i18n import error_text, t
from web.services import services

dash.register_page(__name__, path="/campaigns", title="Xiuhua · campaigns")
MAX_POINTS = 1500  # cases drawn on each map


def _href(**q: str | int | None) -> str:
    return "/campaigns?" + urlencode({k: v for k, v in q.items() if v})


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def layout(campaign: str | None = None, **_: Any) -> html.Div:
    try:
        user = require("page.campaigns")
    except Denied as exc:
        return forbidden(exc)
    svc = services()
    tz, now = svc.workflow.calendar.tz, svc.workflow.clock()
    found = running_first(svc.store.campaigns(districts=user.districts or None), now, tz)
    head = html.Tr([html.Th(t(f"campaigns.{k}")) for k in ("name", "kind", "period", "state", "districts", "matters")])
    rows = [
        html.Tr(
            [
                html.Td(dcc.Link(c.name, href=_href(campaign=c.id))),
                html.Td(t(f"campaigns.kinds.{c.kind}")),
                html.Td(f"{c.starts_on} → {c.ends_on}"),
                html.Td(t(f"campaigns.states.{state_of(c, now, tz)}")),
                html.Td(" ".join(names.area("districts", d) for d in c.districts)),
                html.Td(", ".join(names.matter(m) for m in c.matters) or t("campaigns.all_matters")),
            ],
            id=f"campaigns-row-{c.id}",
            className="on" if str(c.id) == campaign else "",
        )
        for c in found
    ]
    body: Any = (
        html.Table([html.Thead(head), html.Tbody(rows)], className="league", id="campaigns-table")
        if rows
        else html.P(t("campaigns.none"), id="campaigns-none", className="hint")
    )
    parts: list[Any] = [html.H2(t("campaigns.title")), html.P(t("campaigns.intro"), className="hint"), body]
    if allows(user, "action.campaign_create"):
        parts.append(_form())
    chosen = next((c for c in found if str(c.id) == campaign), None)
    if chosen is not None:
        f = figures_of(svc.store, chosen, now, tz, user.districts)
        parts.append(_detail(chosen, f))
    return html.Div(parts, className="page campaigns-page")


def _form() -> html.Details:
    """The form a shift lead or admin creates a campaign with (an area by codes or an uploaded file)."""
    field = {"className": "field"}
    return html.Details(
        [
            html.Summary(t("campaigns.new")),
            html.Div(
                [
                    html.Label([t("campaigns.name"), dcc.Input(id="campaigns-new-name", maxLength=80)], **field),
                    html.Label(
                        [
                            t("campaigns.kind"),
                            dcc.Dropdown(
                                [{"label": t(f"campaigns.kinds.{k}"), "value": k} for k in KINDS],
                                KINDS[0],
                                id="campaigns-new-kind",
                                clearable=False,
                            ),
                        ],
                        **field,
                    ),
                    html.Label([t("campaigns.from"), dcc.Input(id="campaigns-new-from", type="date")], **field),
                    html.Label([t("campaigns.to"), dcc.Input(id="campaigns-new-to", type="date")], **field),
                    html.Label(
                        [
                            t("campaigns.matters"),
                            dcc.Input(
                                id="campaigns-new-matters", maxLength=2000, placeholder=t("campaigns.matters_hint")
                            ),
                        ],
                        **field,
                    ),
                    html.Label(
                        [
                            t("campaigns.area_by"),
                            dcc.RadioItems(
                                [{"label": t(f"campaigns.by.{b}"), "value": b} for b in (*AREA_LAYERS, "file", "draw")],
                                "cells",
                                id="campaigns-new-by",
                                inline=True,
                            ),
                        ],
                        **field,
                    ),
                    dcc.Textarea(
                        id="campaigns-new-codes",
                        placeholder=t("campaigns.codes_hint"),
                        maxLength=20000,
                        style={"width": "100%"},
                    ),
                    dcc.Upload(
                        html.Div(t("campaigns.upload")),
                        id="campaigns-new-file",
                        className="upload",
                        style={
                            "border": "1px dashed #9ca3af",
                            "padding": "10px",
                            "textAlign": "center",
                            "cursor": "pointer",
                        },
                    ),
                    html.P(t("campaigns.draw_hint"), className="hint"),
                    _draw_map(),
                    html.Button(t("campaigns.create"), id="campaigns-new-create", n_clicks=0),
                    html.P(t("campaigns.create_hint"), className="hint", id="campaigns-create-hint"),
                    html.Div(id="campaigns-new-message", role="status"),
                ],
                className="campaigns-form",
                style={"maxWidth": "640px", "display": "grid", "gap": "6px", "margin": "8px 0 16px"},
            ),
        ],
        id="campaigns-new",
    )


@callback(
    Output("campaigns-new-message", "children"),
    Input("campaigns-new-create", "n_clicks"),
    State("campaigns-new-name", "value"),
    State("campaigns-new-kind", "value"),
    State("campaigns-new-from", "value"),
    State("campaigns-new-to", "value"),
    State("campaigns-new-matters", "value"),
    State("campaigns-new-by", "value"),
    State("campaigns-new-codes", "value"),
    State("campaigns-new-file", "contents"),
    State("campaigns-new-file", "filename"),
    State("campaigns-new-draw", "geojson"),
    prevent_initial_call=True,
)
def create(_n: int, *values: Any) -> Any:
    try:
        made = web_campaigns.create(require("page.campaigns"), *values)
    except (Denied, StoreError) as exc:
        return html.Span(error_text(exc), className="error", id="campaigns-new-error")
    return dcc.Link(t("campaigns.created", name=made.name), href=_href(campaign=made.id), id="campaigns-new-link")


def _detail(c: Campaign, f: CampaignFigures) -> html.Div:
    tz = services().workflow.calendar.tz
    weeks = html.Table(
        [
            html.Thead(html.Tr([html.Th(t(f"campaigns.{k}")) for k in ("week", "before", "during", "change")])),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(t("campaigns.week_n", n=w.index + 1, day=f"{w.during_start.astimezone(tz):%m-%d}")),
                            html.Td(w.before, className="num"),
                            html.Td(w.during, className="num"),
                            html.Td(f"{w.during - w.before:+d}", className="num"),
                        ]
                    )
                    for w in f.weeks
                ]
            ),
        ],
        className="league",
        id="campaigns-weeks",
    )

    def rate_row(label: str, w: Window) -> html.Tr:
        span = f"{w.start.astimezone(tz):%Y-%m-%d} → {w.end.astimezone(tz):%Y-%m-%d %H:%M}"
        cells: list[Any] = [label, span, w.reported, w.closed, _pct(w.closure_rate), _pct(w.on_time_rate)]
        return html.Tr([html.Td(v) for v in cells], id=f"campaigns-rate-{label}")

    keys = ("window", "span", "reported", "closed", "closure_rate", "on_time_rate")
    rates = html.Table(
        [
            html.Thead(html.Tr([html.Th(t(f"campaigns.{k}")) for k in keys])),
            html.Tbody([rate_row(t("campaigns.before"), f.before), rate_row(t("campaigns.during"), f.during)]),
        ],
        className="league",
        id="campaigns-rates",
    )
    worst = html.Table(
        [
            html.Thead(html.Tr([html.Th(t(f"campaigns.{k}")) for k in ("cell", "community", "during", "before")])),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(cell),
                            html.Td(names.area("communities", f.cell_communities.get(cell))),
                            html.Td(n, className="num"),
                            html.Td(b, className="num"),
                        ]
                    )
                    for cell, n, b in f.worst_cells
                ]
            ),
        ],
        className="league",
        id="campaigns-worst",
    )
    title = f"{c.name} · {t(f'campaigns.kinds.{c.kind}')} · {c.starts_on} → {c.ends_on}"
    maps = html.Div(
        [
            html.Div([html.H4(t("campaigns.before")), _map(c, f.before_points, "before")], className="half"),
            html.Div([html.H4(t("campaigns.during")), _map(c, f.during_points, "during")], className="half"),
        ],
        style={"display": "grid", "gridTemplateColumns": "1fr 1fr", "gap": "12px"},
        id="campaigns-maps",
    )
    return html.Div(
        [
            html.H3(title, id="campaigns-title"),
            html.P(t("campaigns.how"), className="hint"),
            html.H4(t("campaigns.rates")),
            rates,
            html.P(t("campaigns.rates_how"), className="hint"),
            maps,
            html.H4(t("campaigns.by_week")),
            weeks,
            html.H4(t("campaigns.worst")),
            worst,
        ],
        className="campaigns-detail",
        id="campaigns-detail",
    )


def _draw_map() -> html.Div:
    """A map to draw the area on (polygons and rectangles), centred on the city."""
    svc = services()
    minx, miny, maxx, maxy = (float(v) for v in svc.workflow.engine.city.layers["districts"].total_bounds)
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    if svc.basemap.gcj02:
        x, y = wgs84_to_gcj02(lon, lat)
        lon, lat = float(x), float(y)
    off = dict.fromkeys(("polyline", "circle", "circlemarker", "marker"), False)
    draw = dl.FeatureGroup([dl.EditControl(id="campaigns-new-draw", draw=off, position="topright")])
    return html.Div(
        dl.Map(
            [*base_layers(svc.basemap), draw],
            center=[lat, lon],
            zoom=12,
            maxZoom=svc.basemap.max_zoom,
            className="city-map",
            id="campaigns-new-map",
            style={"height": "320px"},
        ),
        className="map-wrap",
    )


def _map(c: Campaign, points: np.ndarray, which: str) -> html.Div:
    """The campaign's area (an outline) and the cases of one window (dots)."""
    basemap = services().basemap

    def shift(xy: np.ndarray) -> np.ndarray:
        if not basemap.gcj02 or not len(xy):
            return xy
        x, y = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    area = shapely.transform(c.area, shift)
    shown = shift(points[:MAX_POINTS])
    base = base_layers(basemap)
    outline = dl.GeoJSON(
        data={"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(area)},
        style={"color": "#1d4ed8", "weight": 2, "fill": False, "dashArray": "6 4"},
        interactive=False,
    )
    colour = "#6b7280" if which == "before" else "#dc2626"
    marks = [
        dl.CircleMarker(
            center=[float(lat), float(lon)],
            radius=4,
            pathOptions={"color": colour, "fillColor": colour, "fillOpacity": 0.7, "weight": 1},
        )
        for lon, lat in shown.tolist()
    ]
    minx, miny, maxx, maxy = area.bounds
    # the zoom that fits the area into a map about 700 × 360 px (256 px tiles), at most the basemap's
    span = max(maxx - minx, (maxy - miny) * 2, 1e-4)
    zoom = int(min(basemap.max_zoom, 18, max(10, math.floor(math.log2(700 * 360 / (256 * span))))))
    return html.Div(
        dl.Map(
            [*base, outline, *marks],
            center=[(miny + maxy) / 2, (minx + maxx) / 2],
            zoom=zoom,
            maxZoom=basemap.max_zoom,
            className="city-map campaigns-map",
            id=f"campaigns-map-{which}",
            style={"height": "360px"},
        ),
        className="map-wrap",
    )
