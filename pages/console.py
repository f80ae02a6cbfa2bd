"""/dispatch: the dispatch console. The queue in tabs (to approve, to dispatch, parked), each by deadline; select
a case in the queue (the map flies to it) or on the map to see its owners and why, a warning near a boundary,
the suggested squad and alternatives; act with a reason. The queue and the map update at once after an action;
a conflict is said plainly."""

from __future__ import annotations

from typing import Any

import dash
import flask
from dash import Input, Output, State, callback, ctx, dcc, html

from dispatch.board import View
from layers.map import city_map, fly_to, parse_at
from pages import filters, maps
from pages.case_panel import case_view
from pages.filters import filter_bar
from pages.queue import queue_row, queue_table, queue_tabs, tab_label
from pages.shell import forbidden
from store.errors import Conflict, StoreError
from web import console, names
from web.auth import Denied, require
from web.i18n import error_text, t
from web.mapview import map_props
from web.services import services

dash.register_page(__name__, path="/dispatch", title="Xiuhua · dispatch")
TICK_MS = 15_000


def layout(at: str | None = None, **_: Any) -> html.Div:
    try:
        user = require("page.dispatch")
    except Denied as exc:
        return forbidden(exc)
    svc = services()
    # the queue opens on the requests waiting for approval when there are any (unfiltered, as the page opens)
    counts = console.tab_counts(console.queue(svc, user, View(), svc.workflow.clock()))
    return html.Div(
        [
            dcc.Interval(id="dispatch-tick", interval=TICK_MS),
            dcc.Store(id="dispatch-selected"),
            dcc.Store(id="dispatch-version"),  # the version the panel shows: an action applies to what was seen
            dcc.Store(id="dispatch-changed", data=0),
            filter_bar("dispatch"),
            html.Div(
                [
                    html.Div(
                        [
                            html.H3(t("dispatch.queue")),
                            queue_tabs(counts),
                            queue_table(),
                        ],
                        className="queue",
                    ),
                    html.Div(
                        city_map("dispatch", svc.basemap, svc.layers.bounds(), t, at=parse_at(at)),
                        className="console-map",
                    ),
                    html.Div(
                        [html.Div(t("dispatch.pick"), id="dispatch-panel"), action_form()], className="case-panel"
                    ),
                ],
                className="console-body",
            ),
        ],
        className="page console",
    )


def action_form() -> html.Div:
    return html.Div(
        [
            dcc.Dropdown(id="dispatch-action", placeholder=t("dispatch.action"), clearable=False),
            dcc.Dropdown(id="dispatch-unit", placeholder=t("dispatch.unit")),
            dcc.Textarea(id="dispatch-reason", placeholder=t("dispatch.reason"), className="reason"),
            html.Button(t("dispatch.submit"), id="dispatch-submit", n_clicks=0),
            html.Div(id="dispatch-message", role="status"),
        ],
        className="action-form",
        id="dispatch-form",
    )


def whole(value: Any) -> int:
    """An id or version from the browser: a whole number, or the request is refused (400), never a 500."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit() or len(str(value)) > 12:
        flask.abort(400, "expected a whole number")
    return int(value)


def selected_id(selected: Any) -> int:
    if not isinstance(selected, dict):
        flask.abort(400, "expected a selected case")
    return whole(selected.get("id"))


def unit_of(value: Any) -> str | None:
    """A unit code from the browser's dropdown: a string or nothing, else the request is refused (400)."""
    if value is not None and not isinstance(value, str):
        flask.abort(400, "expected a unit code")
    return value or None


def text(value: Any) -> str:
    """Free text from the browser: a string (or nothing), else the request is refused (400)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        flask.abort(400, "expected text")
    return value


@callback(
    Output("dispatch-queue", "data"),
    *[Output(f"dispatch-tab-{tab}", "label") for tab in console.TABS],
    Output("dispatch-queue", "page_current"),
    Output("dispatch-queue", "active_cell"),
    Output("dispatch-queue", "selected_cells"),
    Input("dispatch-changed", "data"),
    Input("dispatch-tick", "n_intervals"),
    Input("dispatch-tabs", "value"),
    *filters.inputs("dispatch"),
)
def refresh_queue(_changed: int, _tick: int | None, tab: Any, *values: Any) -> tuple[Any, ...]:
    user = require("page.dispatch")
    svc = services()
    rows = console.queue(svc, user, filters.view_of(*values), svc.workflow.clock())
    counts = console.tab_counts(rows)
    shown = [queue_row(r) for r in rows if r["tab"] == tab]
    # a new tab opens on its first page; a refresh leaves the dispatcher on the page they were reading
    page = 0 if ctx.triggered_id == "dispatch-tabs" else dash.no_update
    # the table keeps its active cell by position: when the rows change under it (another tab, an action), the
    # cell is let go, or a click on the new row in that place would pick nothing
    fresh = ctx.triggered_id in ("dispatch-tabs", "dispatch-changed")
    cell, cells = (None, []) if fresh else (dash.no_update, dash.no_update)
    return (shown, *(tab_label(k, n) for k, n in counts.items()), page, cell, cells)


@callback(
    Output("dispatch-selected", "data"),
    Output("dispatch-map", "viewport"),
    Input("dispatch-queue", "active_cell"),
    Input("dispatch-cases", "clickData"),
    prevent_initial_call=True,
)
def select(cell: dict[str, Any] | None, click: dict[str, Any] | None) -> tuple[Any, Any]:
    user = require("page.dispatch")
    if ctx.triggered_id == "dispatch-queue" and cell and cell.get("row_id") is not None:
        # picked in the queue: the map flies to the case, close enough that it stands alone (not in a hotspot
        # or a cluster), where it wears the selected ring
        case_id = whole(cell["row_id"])
        try:
            lon, lat = console.locate(services(), user, case_id)
        except StoreError:
            return {"id": case_id}, dash.no_update  # the panel says why
        return {"id": case_id}, fly_to(lon, lat, services().basemap)
    props = (click or {}).get("properties") or {}
    if ctx.triggered_id == "dispatch-cases" and not props.get("cluster") and props.get("id") is not None:
        return {"id": whole(props["id"])}, dash.no_update  # picked on the map: it is in sight already
    raise dash.exceptions.PreventUpdate  # a click on a cluster zooms in; it selects nothing


@callback(
    Output("dispatch-panel", "children"),
    Output("dispatch-action", "options"),
    Output("dispatch-action", "value"),
    Output("dispatch-unit", "options"),
    Output("dispatch-unit", "value"),
    Output("dispatch-version", "data"),
    Output("dispatch-message", "children", allow_duplicate=True),
    Output("dispatch-reason", "value"),
    Input("dispatch-selected", "data"),
    prevent_initial_call=True,
)
def show(selected: dict[str, Any] | None) -> tuple[Any, ...]:
    user = require("page.dispatch")
    if not selected:
        raise dash.exceptions.PreventUpdate
    # after an action (or a conflict) the panel reloads the same case: nothing is pre-selected, and the message
    # about what happened stays; a case picked afresh clears the last message (a stale "select a case first")
    after = isinstance(selected, dict) and "n" in selected
    message = dash.no_update if after else None
    reason = dash.no_update if after and selected.get("conflict") else ""
    try:
        p = console.panel(services(), user, selected_id(selected))
    except StoreError as exc:
        return html.P(error_text(exc), className="error"), [], None, [], None, None, message, reason
    actions = [{"label": t(f"action.{a}"), "value": a} for a in p.actions]
    units = [p.suggested, *p.alternatives] if p.suggested else list(p.alternatives)
    unit_options = [
        {"label": (t("dispatch.suggested") + " " if u == p.suggested else "") + names.squad(u), "value": u}
        for u in units
    ]
    preselected = None if after else p.default_action
    return case_view(p), actions, preselected, unit_options, p.suggested, p.case.version, message, reason


@callback(
    Output("dispatch-message", "children"),
    Output("dispatch-changed", "data"),
    Output("dispatch-selected", "data", allow_duplicate=True),
    Input("dispatch-submit", "n_clicks"),
    State("dispatch-selected", "data"),
    State("dispatch-action", "value"),
    State("dispatch-unit", "value"),
    State("dispatch-reason", "value"),
    State("dispatch-changed", "data"),
    State("dispatch-version", "data"),
    prevent_initial_call=True,
)
def submit(_n: int, selected: Any, action: Any, unit: Any, reason: Any, changed: int, version: Any) -> tuple[Any, ...]:
    user = require("page.dispatch")
    if not selected or not action or version is None:
        return html.P(t("dispatch.pick_first"), className="error"), dash.no_update, dash.no_update
    svc = services()
    case_id = selected_id(selected)
    try:
        case = console.act(svc, user, case_id, whole(version), text(action), unit_of(unit), text(reason))
    except Conflict as exc:
        return (
            html.P(t("dispatch.conflict", detail=error_text(exc)), className="error conflict"),
            changed + 1,
            {"id": case_id, "n": changed + 1, "conflict": True},
        )
    except StoreError as exc:
        return html.P(error_text(exc), className="error"), dash.no_update, dash.no_update
    done = t("dispatch.done", no=case.case_no, action=t(f"action.{action}"), state=t(f"state.{case.state}"))
    return html.P(done, className="ok"), changed + 1, {"id": case.id, "n": changed + 1}


@callback(
    *maps.outputs("dispatch"),
    Input("dispatch-map", "bounds"),
    Input("dispatch-map", "zoom"),
    State("dispatch-map", "center"),
    Input("dispatch-changed", "data"),
    Input("dispatch-tick", "n_intervals"),
    Input("dispatch-selected", "data"),
    *filters.inputs("dispatch"),
)
def refresh_map(
    bounds: Any, zoom: float | None, center: Any, _c: int, _t: int | None, selected: Any, *values: Any
) -> list[Any]:
    user = require("page.dispatch")
    if not bounds and not center:
        raise dash.exceptions.PreventUpdate
    svc = services()
    view = filters.view_of(*values, districts=tuple(user.districts))
    highlight = frozenset([selected_id(selected)]) if selected else frozenset()
    return maps.values(map_props(svc, view, bounds, zoom, svc.workflow.clock(), highlight=highlight, center=center))
