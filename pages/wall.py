"""/wall: the command centre's big screen. Dark, hands-off, one screen at 1920×1080 and at 3840×2160 (type sized
by the viewport, no scrollbar): a title with the city, the date and a clock that ticks in the browser; the figures;
the map framed to the city; a slot for running campaigns and alerts. It refreshes itself every 10 s without flicker
and without touching the map's view (only the layers' data and the figures change)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import numpy as np
from dash import Input, Output, State, callback, dcc, html

from dispatch.board import Snapshot, View, snapshot_of
from dispatch.stats import Figures, league_of, tally, top_matters
from dispatch.workflow import Workflow
from layers.map import city_map, parse_at
from pages import maps
from pages.shell import city_name, forbidden
from web import names
from web.auth import Denied, require
from web.i18n import language, t
from web.mapview import map_props
from web.services import services

dash.register_page(__name__, path="/wall", title="Xiuhua · wall")
REFRESH_MS = 10_000
KPIS = ("reported", "filed", "dispatched", "closed", "overdue", "at_risk")


def layout(at: str | None = None, **_: Any) -> html.Div:
    try:
        user = require("page.wall")
    except Denied as exc:
        return forbidden(exc)
    svc = services()
    bounds = svc.layers.bounds(user.districts)
    clock = {"data-tz": str(svc.workflow.calendar.tz), "data-lang": language()}
    return html.Div(
        [
            dcc.Interval(id="wall-tick", interval=REFRESH_MS),
            html.Header(
                [
                    html.H1([html.Span("绣花", className="brand-zh"), t("wall.title", city=city_name())]),
                    html.Span(t("app.synthetic_banner"), className="synthetic-badge"),
                    html.Div(
                        [
                            html.Span(id="wall-date", className="wall-date", **{"data-clock": "date"}, **clock),
                            html.Span(id="wall-clock", className="wall-clock", **{"data-clock": "clock"}, **clock),
                        ],
                        className="wall-time",
                    ),
                ],
                className="wall-head",
            ),
            html.Div(id="wall-kpis", className="kpis"),
            html.Div(
                [
                    html.Div(
                        city_map("wall", svc.basemap, bounds, t, zones=False, at=parse_at(at), case_links=False),
                        className="wall-map",
                    ),
                    html.Div(
                        [
                            # filled by a later issue: campaigns and alerts that are running
                            html.Section(
                                [html.H3(t("wall.alerts")), html.Div(t("wall.no_alerts"), id="wall-alerts")],
                                className="wall-alerts",
                            ),
                            html.Section([html.H3(t("wall.league")), html.Div(id="wall-league")]),
                            html.Section([html.H3(t("wall.top_matters")), html.Div(id="wall-matters")]),
                            html.Section(
                                [html.H3(t("wall.feed")), html.Ul(id="wall-feed", className="feed")],
                                className="wall-feed",
                            ),
                        ],
                        className="wall-side",
                    ),
                ],
                className="wall-body",
            ),
            html.Footer(html.Div(id="wall-updated", className="updated"), className="wall-foot"),
        ],
        # a kiosk for the wall account only: a shift lead or dispatcher looking at the wall keeps the navigation
        className="page wall dark" + (" kiosk" if user.role == "wall" else ""),
    )


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def scoped(wf: Workflow, snap: Snapshot, districts: tuple[str, ...]) -> Snapshot:
    """The snapshot of some districts only (the whole one for an account that covers the city)."""
    if not districts:
        return snap
    facts = [f for f in snap.facts if f.district in districts]
    return snapshot_of(wf, facts, snap.statuses_at, snap.revision, snap.day_start)


def wall_figures(snap: Snapshot) -> tuple[Figures, list[tuple[str, Figures]], list[tuple[str, int]], list[Any]]:
    now = snap.statuses_at
    latest = [snap.facts[i] for i in np.argsort(-snap.reported_s, kind="stable")[:8]]
    return (
        tally(snap, snap.day_start, now),
        league_of(snap, snap.day_start, now),
        top_matters(snap.facts, snap.day_start, now, 8),
        latest,
    )


@callback(
    Output("wall-kpis", "children"),
    Output("wall-league", "children"),
    Output("wall-matters", "children"),
    Output("wall-feed", "children"),
    Output("wall-updated", "children"),
    Input("wall-tick", "n_intervals"),
)
def refresh_figures(_tick: int | None) -> tuple[Any, ...]:
    user = require("page.wall")
    svc = services()
    board = svc.board
    snap = board.snapshot()
    scope = tuple(sorted(user.districts))  # a wall limited to some districts shows only theirs
    f, league, matters, latest = board.memo(
        snap, f"wall:{','.join(scope)}", lambda s: wall_figures(scoped(svc.workflow, s, scope))
    )
    kpis = [
        html.Div(
            [
                html.Div(str(getattr(f, k)), className="kpi-value", id=f"wall-kpi-{k}"),
                html.Div(t(f"kpi.{k}"), className="kpi-label"),
            ],
            className=f"kpi kpi-{k}",
        )
        for k in KPIS
    ]
    kpis.append(
        html.Div(
            [
                html.Div(_rate(f.on_time_rate), className="kpi-value", id="wall-kpi-on_time"),
                html.Div(t("kpi.on_time"), className="kpi-label"),
                html.Div(t("kpi.closed_only", rate=_rate(f.closed_only_rate)), className="kpi-note"),
            ],
            className="kpi kpi-rate",
        )
    )
    head = html.Tr([html.Th(t(k)) for k in ("table.district", "kpi.open", "kpi.overdue", "kpi.on_time")])
    rows = [
        html.Tr(
            [html.Td(names.area("districts", d)), html.Td(x.open), html.Td(x.overdue), html.Td(_rate(x.on_time_rate))]
        )
        for d, x in league
    ]
    table = html.Table([html.Thead(head), html.Tbody(rows)], className="league")
    top = html.Ol([html.Li([names.matter(m), html.Span(str(n), className="count")]) for m, n in matters])
    feed = [
        html.Li(
            [
                html.Span(f"{fa.reported_at.astimezone(services().workflow.calendar.tz):%H:%M}", className="time"),
                names.matter(fa.matter),
                html.Span(names.area("subdistricts", fa.subdistrict), className="where"),
            ],
            className="feed-urgent" if fa.urgency == "urgent" else None,
        )
        for fa in latest
    ]
    # the time of this refresh, not of the snapshot's deadline statuses (those move about once a minute)
    updated = t("wall.updated", time=f"{_now().astimezone(services().workflow.calendar.tz):%H:%M:%S}")
    return kpis, table, top, feed, updated


@callback(
    *maps.outputs("wall"),
    Input("wall-tick", "n_intervals"),
    Input("wall-map", "bounds"),
    Input("wall-map", "zoom"),
    State("wall-map", "center"),
)
def refresh_map(_tick: int | None, bounds: Any, zoom: float | None, center: Any) -> list[Any]:
    user = require("page.wall")
    # without ?at= the map first fits the city, then reports the zoom and bounds it shows: wait for those
    if zoom is None or (not bounds and not center):
        raise dash.exceptions.PreventUpdate
    svc = services()
    view = View(districts=tuple(sorted(user.districts)))
    return maps.values(map_props(svc, view, bounds, zoom, _now(), center=center))


def _now() -> datetime:
    return services().workflow.clock()
