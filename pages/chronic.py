"""/chronic: chronic places (疑难杂症) — each place's matter, where it is, how often it recurred, its state and its
fast-track case; a chosen place's repeats on a map. Rendered on the server from the address (?place=…&state=…),
so every view is a link. A district head sees their districts' places (the policy's `page.chronic`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import dash
import dash_leaflet as dl
from dash import dcc, html

from dispatch.chronic import city_config
from geo.chinacoords import wgs84_to_gcj02
from pages.maps import base_layers
from pages.shell import forbidden
from store.errors import StoreError
from store.models import CHRONIC_STATES, Case, ChronicPlace
from web import names
from web.auth import Denied, require
from web.i18n import t
from web.services import services

dash.register_page(__name__, path="/chronic", title="Xiuhua · chronic places")
MAX_REPEATS = 500  # repeats drawn on the map


def _href(**q: str | int | None) -> str:
    return "/chronic?" + urlencode({k: v for k, v in q.items() if v})


def _when(at: datetime) -> str:
    return f"{at.astimezone(services().workflow.calendar.tz):%Y-%m-%d %H:%M}"


def _where(place: ChronicPlace, case: Case | None) -> str:
    """District, sub-district, community and cell: the fast-track case's, or its first repeat's until it has one."""
    if case is None and place.case_ids:
        try:
            case = services().store.get_case(place.case_ids[0])
        except StoreError:
            case = None
    sub = names.area("subdistricts", case.subdistrict) if case else "—"
    com = names.area("communities", case.community) if case else "—"
    return f"{names.area('districts', place.district)} {sub} {com} · {place.cell or '—'}"


def layout(place: str | None = None, state: str | None = None, **_: Any) -> html.Div:
    try:
        user = require("page.chronic")
    except Denied as exc:
        return forbidden(exc)
    store = services().store
    wanted = [state] if state in CHRONIC_STATES else None
    places = store.chronic_places(states=wanted, districts=user.districts or None)
    cases = {p.id: store.get_case(p.fast_track_case_id) for p in places if p.fast_track_case_id is not None}
    chips = html.Div(
        [
            dcc.Link(
                t(f"chronic.states.{s}") if s else t("chronic.all"),
                href=_href(state=s),
                className="chip" + (" on" if s == (state if wanted else None) else ""),
                id=f"chronic-state-{s or 'all'}",
            )
            for s in (None, *CHRONIC_STATES)
        ],
        className="chips",
        id="chronic-states",
    )
    head = html.Tr(
        [html.Th(t(f"chronic.{k}")) for k in ("matter", "place", "repeats", "first", "last", "state", "case")]
    )
    rows = []
    for p in places:
        case = cases.get(p.id)
        link = dcc.Link(case.case_no, href=f"/case/{case.id}") if case else "—"
        rows.append(
            html.Tr(
                [
                    html.Td(dcc.Link(names.matter(p.matter), href=_href(place=p.id, state=state))),
                    html.Td(_where(p, case)),
                    html.Td(len(p.case_ids), className="num"),
                    html.Td(_when(p.first_at)),
                    html.Td(_when(p.last_at)),
                    html.Td(t(f"chronic.states.{p.state}"), className=f"chronic-{p.state}"),
                    html.Td(link),
                ],
                id=f"chronic-row-{p.id}",
                className="on" if str(p.id) == place else "",
            )
        )
    body: Any = (
        html.Table([html.Thead(head), html.Tbody(rows)], className="league chronic", id="chronic-table")
        if rows
        else html.P(t("chronic.none"), id="chronic-none", className="hint")
    )
    parts: list[Any] = [html.H2(t("chronic.title")), html.P(t("chronic.intro"), className="hint"), chips, body]
    chosen = next((p for p in places if str(p.id) == place), None)
    if chosen is not None:
        parts.append(_detail(chosen, cases.get(chosen.id)))
    return html.Div(parts, className="page chronic-page")


def _detail(place: ChronicPlace, case: Case | None) -> html.Div:
    svc = services()
    rule = city_config(svc.city).rule(place.matter)
    repeats: list[Case] = []
    for i in place.case_ids[-MAX_REPEATS:]:
        try:
            repeats.append(svc.store.get_case(i))
        except StoreError:
            continue
    title = t("chronic.selected", matter=names.matter(place.matter), place=_where(place, case), n=len(place.case_ids))
    rules = t("chronic.rules", k=rule.k, days=rule.days, radius=f"{place.radius_m:g}", quiet=place.quiet_days)
    links = html.Ul(
        [
            html.Li([dcc.Link(c.case_no, href=f"/case/{c.id}"), f" {_when(c.reported_at)} · {t(f'state.{c.state}')}"])
            for c in reversed(repeats)
        ],
        className="case-links",
        id="chronic-repeats",
    )
    return html.Div(
        [
            html.H3(title, id="chronic-title"),
            html.P(rules, className="hint"),
            _map(place, repeats, case),
            html.P(t("chronic.legend"), className="hint"),
            links,
        ],
        className="chronic-detail",
        id="chronic-detail",
    )


def _map(place: ChronicPlace, repeats: list[Case], case: Case | None) -> html.Div:
    """The place's repeats (dots), its radius (a ring) and its fast-track case (a larger ring)."""
    basemap = services().basemap

    def ll(lon: float, lat: float) -> list[float]:
        if basemap.gcj02:
            x, y = wgs84_to_gcj02(lon, lat)
            lon, lat = float(x), float(y)
        return [lat, lon]

    base = base_layers(basemap)
    marks: list[Any] = [
        dl.Circle(
            center=ll(place.lon, place.lat),
            radius=place.radius_m,
            pathOptions={"color": "#b45309", "fill": False, "weight": 2, "dashArray": "6 4"},
        )
    ]
    marks += [
        dl.CircleMarker(
            center=ll(c.lon, c.lat),
            radius=6,
            pathOptions={"color": "#7f1d1d", "fillColor": "#dc2626", "fillOpacity": 0.8, "weight": 1},
            children=dl.Tooltip(f"{c.case_no} {_when(c.reported_at)}"),
        )
        for c in repeats
    ]
    if case is not None:
        marks.append(
            dl.CircleMarker(
                center=ll(case.lon, case.lat),
                radius=11,
                pathOptions={"color": "#1d4ed8", "fill": False, "weight": 3},
                children=dl.Tooltip(f"{t('chronic.case')} {case.case_no}"),
            )
        )
    return html.Div(
        dl.Map(
            [*base, *marks],
            center=ll(place.lon, place.lat),
            zoom=17,
            maxZoom=basemap.max_zoom,
            className="city-map chronic-map",
            id="chronic-map",
            style={"height": "420px"},
        ),
        className="map-wrap",
    )
