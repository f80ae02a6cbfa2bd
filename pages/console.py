"""/dispatch: the dispatch console. The queue sorted by deadline; select a case on the map or in the queue to
see its owners and why, a warning near a boundary, the suggested squad and alternatives; act with a reason.
The queue and the map update at once after an action; a conflict is said plainly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import flask
from dash import Input, Output, State, callback, ctx, dash_table, dcc, html

from layers.map import city_map, parse_at
from pages import filters, maps
from pages.filters import filter_bar
from pages.shell import forbidden
from store.errors import Conflict, StoreError
from web import console, names
from web.auth import Denied, require
from web.i18n import error_text, language, t
from web.mapview import map_props
from web.services import services

dash.register_page(__name__, path="/dispatch", title="Xiuhua · dispatch")
TICK_MS = 15_000


def layout(at: str | None = None, **_: Any) -> html.Div:
    try:
        require("page.dispatch")
    except Denied as exc:
        return forbidden(exc)
    svc = services()
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
                            dash_table.DataTable(
                                id="dispatch-queue",
                                columns=[{"name": t(f"queue.{c}"), "id": c} for c in ("no", "state", "matter", "due")],
                                page_size=18,
                                style_as_list_view=True,
                                cell_selectable=True,
                                style_data_conditional=[
                                    {
                                        "if": {"filter_query": "{overdue} = true"},
                                        "color": "#c0392b",
                                        "fontWeight": "bold",
                                    }
                                ],
                            ),
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


def _when(at: datetime | None) -> str:
    return "—" if at is None else f"{at.astimezone(services().workflow.calendar.tz):%m-%d %H:%M}"


@callback(
    Output("dispatch-queue", "data"),
    Input("dispatch-changed", "data"),
    Input("dispatch-tick", "n_intervals"),
    *filters.inputs("dispatch"),
)
def refresh_queue(_changed: int, _tick: int | None, *values: Any) -> list[dict[str, Any]]:
    user = require("page.dispatch")
    svc = services()
    rows = console.queue(svc, user, filters.view_of(*values), svc.workflow.clock())
    return [
        {
            "id": r["id"],
            "no": r["no"] + (" ⚡" if r["urgent"] else ""),
            "state": t(f"state.{r['state']}"),
            "matter": names.matter(r["matter"]),
            "due": _when(r["due"]),
            "overdue": r["overdue"],
            "where": names.area("subdistricts", r["subdistrict"]),
        }
        for r in rows
    ]


@callback(
    Output("dispatch-selected", "data"),
    Input("dispatch-queue", "active_cell"),
    Input("dispatch-cases", "clickData"),
    prevent_initial_call=True,
)
def select(cell: dict[str, Any] | None, click: dict[str, Any] | None) -> dict[str, Any]:
    require("page.dispatch")
    if ctx.triggered_id == "dispatch-queue" and cell and cell.get("row_id") is not None:
        return {"id": whole(cell["row_id"])}
    props = (click or {}).get("properties") or {}
    if ctx.triggered_id == "dispatch-cases" and not props.get("cluster") and props.get("id") is not None:
        return {"id": whole(props["id"])}
    raise dash.exceptions.PreventUpdate  # a click on a cluster zooms in; it selects nothing


@callback(
    Output("dispatch-panel", "children"),
    Output("dispatch-action", "options"),
    Output("dispatch-action", "value"),
    Output("dispatch-unit", "options"),
    Output("dispatch-unit", "value"),
    Output("dispatch-version", "data"),
    Input("dispatch-selected", "data"),
    prevent_initial_call=True,
)
def show(selected: dict[str, Any] | None) -> tuple[Any, ...]:
    user = require("page.dispatch")
    if not selected:
        raise dash.exceptions.PreventUpdate
    try:
        p = console.panel(services(), user, selected_id(selected))
    except StoreError as exc:
        return html.P(error_text(exc), className="error"), [], None, [], None, None
    actions = [{"label": t(f"action.{a}"), "value": a} for a in p.actions]
    units = [p.suggested, *p.alternatives] if p.suggested else list(p.alternatives)
    unit_options = [
        {"label": (t("dispatch.suggested") + " " if u == p.suggested else "") + names.squad(u), "value": u}
        for u in units
    ]
    first = p.actions[0] if p.actions else None
    return case_view(p), actions, first, unit_options, p.suggested, p.case.version


def case_view(p: console.Panel) -> html.Div:
    c = p.case
    lang = language()
    rows = [
        (t("case.no"), c.case_no),
        (t("case.state"), t(f"state.{c.state}")),
        (t("case.matter"), names.matter(c.matter)),
        (t("case.source"), t(f"source.{c.source}")),
        (t("case.urgency"), t(f"urgency.{c.urgency}")),
        (t("case.reported"), _when(c.reported_at)),
        (t("case.deadline"), _when(c.deadline_at)),
        (t("table.district"), names.area("districts", c.district)),
        (t("table.subdistrict"), names.area("subdistricts", c.subdistrict)),
        (t("table.community"), names.area("communities", c.community)),
        (t("table.cell"), c.cell or "—"),
        (t("case.squad"), names.squad(c.squad)),
        (t("case.lead"), names.department(c.lead_department)),
        (t("case.assignee"), names.squad(c.assignee)),
        (t("case.description"), c.description),
    ]
    trace = c.ownership.get("trace", [])
    why = html.Ol([html.Li(step[lang], className="applies" if step["applies"] else "skipped") for step in trace])
    warn = (
        html.Div(t("dispatch.near_boundary", metres=f"{p.boundary_m:.0f}"), className="warning", id="dispatch-warning")
        if p.near_boundary
        else None
    )
    return html.Div(
        [
            html.H3(c.case_no, id="dispatch-case-no"),
            warn,
            html.Table(html.Tbody([html.Tr([html.Th(k), html.Td(v)]) for k, v in rows]), className="facts"),
            html.H4(t("dispatch.why")),
            why,
            html.P(t("dispatch.boundary", metres="—" if p.boundary_m is None else f"{p.boundary_m:.0f}")),
        ]
    )


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
            {"id": case_id, "n": changed + 1},
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
