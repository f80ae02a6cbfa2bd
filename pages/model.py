"""/model: the model streets (样板街区) and dog-keeping model communities (养犬管理示范社区) of the user's districts,
and one of them (?street=ID or ?community=CODE) with its figures for the last 30 days beside its district's and a
small map of it and its cases. Rendered on the server from the address, so every view is a link. A district head
sees their districts' (the policy's `page.model`)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import dash
import dash_leaflet as dl
import shapely
from dash import dcc, html

from dispatch.showcase import PERIOD_DAYS, Comparison, ModelPlace, compare, places
from geo.chinacoords import wgs84_to_gcj02
from pages.maps import base_layers
from pages.shell import forbidden
from web import names
from web.auth import Denied, require
from web.i18n import t
from web.services import services

dash.register_page(__name__, path="/model", title="Xiuhua · model streets")
MAX_CASES = 300  # cases listed and drawn on the map


def _href(**q: str | None) -> str:
    return "/model?" + urlencode({k: v for k, v in q.items() if v})


def _when(at: datetime) -> str:
    return f"{at.astimezone(services().workflow.calendar.tz):%Y-%m-%d %H:%M}"


def _pct(v: float | None) -> str:
    return t("model.none_rated") if v is None else f"{100 * v:.1f}%"


def _num(v: float | None, digits: int = 1) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def layout(street: str | None = None, community: str | None = None, **_: Any) -> html.Div:
    try:
        user = require("page.model")
    except Denied as exc:
        return forbidden(exc)
    wf = services().workflow
    scope = tuple(user.districts)
    lists = {kind: places(wf, kind, scope) for kind in ("street", "community")}
    wanted = ("street", street) if street else ("community", community) if community else None
    parts: list[Any] = [
        html.H2(t("model.title")),
        html.P(t("model.intro", days=PERIOD_DAYS), className="hint"),
    ]
    if wanted is not None:
        kind, item = wanted
        place = next((p for p in lists[kind] if p.id == item), None)
        if place is None:  # unknown, or outside the user's districts: the same answer for both
            parts.append(html.P(t("model.unknown", item=str(item)[:40]), id="model-error", className="error"))
        else:
            parts.append(_detail(compare(wf, place, wf.clock())))
            parts.append(dcc.Link(t("model.back"), href="/model", id="model-back"))
            return html.Div(parts, className="page model-page")
    parts += [_table("street", lists["street"]), _table("community", lists["community"])]
    return html.Div(parts, className="page model-page")


def _table(kind: str, items: list[ModelPlace]) -> html.Div:
    title = t("model.streets" if kind == "street" else "model.communities")
    if not items:
        return html.Div([html.H3(title), html.P(t("model.none"), className="hint", id=f"model-{kind}-none")])
    head = html.Tr([html.Th(t(f"model.{k}")) for k in ("name", "district", "area")])
    rows = [
        html.Tr(
            [
                html.Td(dcc.Link(p.name, href=_href(**{kind: p.id}))),
                html.Td(names.area("districts", p.district)),
                html.Td(f"{p.area_km2:.3f}", className="num"),
            ],
            id=f"model-row-{p.id}",
        )
        for p in items
    ]
    return html.Div(
        [html.H3(title), html.Table([html.Thead(head), html.Tbody(rows)], className="league", id=f"model-{kind}s")]
    )


def _detail(c: Comparison) -> html.Div:
    p = c.place
    mine, dist = c.item, c.district

    def row(key: str, here: str, there: str) -> html.Tr:
        return html.Tr(
            [html.Th(t(f"model.{key}")), html.Td(here, className="num"), html.Td(there, className="num")],
            id=f"model-fig-{key}",
        )

    def rated(s: Any) -> str:
        f = s.figures
        return f"{f.closed_on_time} / {f.closed_late} / {f.overdue_handling}"

    table = html.Table(
        [
            html.Thead(
                html.Tr([html.Th(t("model.figure")), html.Th(t("model.here")), html.Th(t("model.district_avg"))])
            ),
            html.Tbody(
                [
                    row("reported", str(mine.cases), str(dist.cases)),
                    row("per_km2", _num(mine.per_km2), _num(dist.per_km2)),
                    row("repeats", str(mine.repeats), str(dist.repeats)),
                    row("repeat_share", _pct(mine.repeat_share), _pct(dist.repeat_share)),
                    row("on_time", _pct(mine.figures.on_time_rate), _pct(dist.figures.on_time_rate)),
                    row("rated", rated(mine), rated(dist)),
                    row("open", str(mine.figures.open), str(dist.figures.open)),
                ]
            ),
        ],
        className="league",
        id="model-figures",
    )
    facts = sorted(c.facts, key=lambda f: f.reported_at, reverse=True)[:MAX_CASES]
    links: Any = (
        html.Ul(
            [
                html.Li(
                    [
                        dcc.Link(f.case_no, href=f"/case/{f.id}"),
                        f" {_when(f.reported_at)} · {names.matter(f.matter)} · {t(f'state.{f.state}')}",
                    ]
                )
                for f in facts
            ],
            className="case-links",
            id="model-cases",
        )
        if facts
        else html.P(t("model.no_cases"), className="hint", id="model-cases")
    )
    kind_title = t("model.streets" if p.kind == "street" else "model.communities")
    return html.Div(
        [
            html.H3(f"{p.name} · {names.area('districts', p.district)}", id="model-title"),
            html.P(f"{kind_title} · {p.id} · {p.area_km2:.3f} km²", className="hint"),
            table,
            html.P(t("model.map_hint", days=PERIOD_DAYS), className="hint"),
            _map(p, facts),
            html.H4(t("model.case_list")),
            links,
        ],
        className="model-detail",
        id="model-detail",
    )


def _map(place: ModelPlace, facts: list[Any]) -> html.Div:
    """The place's outline and its cases as dots."""
    basemap = services().basemap

    def ll(lon: float, lat: float) -> list[float]:
        if basemap.gcj02:
            x, y = wgs84_to_gcj02(lon, lat)
            lon, lat = float(x), float(y)
        return [lat, lon]

    base = base_layers(basemap)
    geom = place.geometry
    polys = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    outline = [
        dl.Polygon(
            positions=[ll(x, y) for x, y in poly.exterior.coords],
            pathOptions={"color": "#e64980", "weight": 3, "fillOpacity": 0.12},
        )
        for poly in polys
    ]
    dots = [
        dl.CircleMarker(
            center=ll(f.lon, f.lat),
            radius=6,
            pathOptions={
                "color": "#7f1d1d",
                "fillColor": "#c0392b" if f.urgency == "urgent" else "#1c7ed6",
                "fillOpacity": 0.85,
                "weight": 1,
            },
            children=dl.Tooltip(f"{f.case_no} {names.matter(f.matter)}"),
        )
        for f in facts
    ]
    x0, y0, x1, y1 = (float(v) for v in shapely.bounds(geom))
    # a center and a zoom (as /chronic's map): the whole place fits the map's 380 px of height
    span = max(x1 - x0, (y1 - y0) * 1.2, 1e-4)
    zoom = max(11, min(17, int(math.log2(360 * 1.4 / span))))
    return html.Div(
        dl.Map(
            [*base, *outline, *dots],
            center=ll((x0 + x1) / 2, (y0 + y1) / 2),
            zoom=zoom,
            maxZoom=basemap.max_zoom,
            className="city-map model-map" + (" offline" if basemap.kind == "offline" else ""),
            id="model-map",
            style={"height": "380px"},
        ),
        className="map-wrap",
    )
