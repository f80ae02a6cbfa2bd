"""/intake: the acceptor's page (受理). New reports from every channel, checked cases to close and void requests,
in tabs with counts, oldest first; a report's photos, owners and the cases it may repeat (merge with one click);
send to verify, file, refuse, merge, close, send back for rework, approve or reject voiding. After an action the
box is cleared and the next item of the queue is picked."""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, dash_table, dcc, html

from dispatch.board import View
from layers.map import city_map, fly_to, parse_at
from pages import maps
from pages.case_panel import when
from pages.console import selected_id, text, whole
from pages.intake_panel import report_view
from pages.shell import forbidden
from store.errors import Conflict, StoreError
from web import intake, names
from web.auth import Denied, require
from web.i18n import error_text, t
from web.mapview import map_props
from web.services import services

dash.register_page(__name__, path="/intake", title="Xiuhua · intake")
TICK_MS = 15_000
COLUMNS = {"no": "150px", "state": "22%", "matter": "auto", "dups": "44px", "due": "62px"}


def layout(at: str | None = None, **_: Any) -> html.Div:
    try:
        user = require("page.intake")
    except Denied as exc:
        return forbidden(exc)
    svc = services()
    counts = intake.tab_counts(intake.queue(svc, user, svc.workflow.clock()))
    return html.Div(
        [
            dcc.Interval(id="intake-tick", interval=TICK_MS),
            dcc.Store(id="intake-selected"),
            dcc.Store(id="intake-version"),  # the version the panel shows: an action applies to what was seen
            dcc.Store(id="intake-changed", data=0),
            html.Div(
                [
                    html.Div([html.H3(t("intake.queue")), tabs(counts), table()], className="queue"),
                    html.Div(
                        city_map("intake", svc.basemap, svc.layers.bounds(), t, at=parse_at(at)),
                        className="console-map",
                    ),
                    html.Div([html.Div(t("intake.pick"), id="intake-panel"), action_form()], className="case-panel"),
                ],
                className="console-body intake-body",
            ),
        ],
        className="page console intake",
    )


def tabs(counts: dict[str, int]) -> dcc.Tabs:
    return dcc.Tabs(
        [
            dcc.Tab(
                label=t(f"intake.tab.{tab}", n=n),
                value=tab,
                id=f"intake-tab-{tab}",
                className="queue-tab",
                selected_className="queue-tab selected",
            )
            for tab, n in counts.items()
        ],
        id="intake-tabs",
        value="new",
        className="queue-tabs",
        parent_className="queue-tabs-wrap",
    )


def table() -> dash_table.DataTable:
    return dash_table.DataTable(
        id="intake-queue",
        columns=[{"name": t(f"intake.col.{c}"), "id": c} for c in COLUMNS],
        page_size=18,
        page_current=0,
        style_as_list_view=True,
        style_table={"width": "100%", "overflowX": "hidden"},
        css=[{"selector": "table", "rule": "table-layout: fixed; width: 100%;"}],
        style_cell={"whiteSpace": "normal", "height": "auto", "textAlign": "left", "padding": "3px 4px"},
        style_cell_conditional=[{"if": {"column_id": c}, "width": w} for c, w in COLUMNS.items() if w != "auto"],
        style_data_conditional=[
            {"if": {"filter_query": "{overdue} = 1"}, "color": "#c0392b", "fontWeight": "bold"},
            {"if": {"filter_query": "{dups} > 0", "column_id": "dups"}, "backgroundColor": "#fff3bf"},
        ],
    )


def row(r: dict[str, Any]) -> dict[str, Any]:
    state = t(f"state.{r['state']}") + (t("intake.on_site") if r["state"] == "verifying" else "")
    return {
        "id": r["id"],
        "no": r["no"] + (" ⚡" if r["urgent"] else ""),
        "state": f"{state} · {t('source.' + r['source'])}",
        "matter": names.matter(r["matter"]),
        "dups": r["dups"] or "",
        "due": when(r["due"]),
        "overdue": 1 if r["overdue"] else 0,
    }


def action_form() -> html.Div:
    return html.Div(
        [
            dcc.Dropdown(id="intake-action", placeholder=t("intake.action"), clearable=False),
            html.Div(
                dcc.RadioItems(
                    id="intake-urgency",
                    options=[{"label": t(f"urgency.{u}"), "value": u} for u in ("normal", "urgent")],
                    value="normal",
                    inline=True,
                ),
                id="intake-urgency-wrap",
                style={"display": "none"},
            ),
            html.Div(
                dcc.Dropdown(
                    id="intake-refusal",
                    options=[{"label": t(f"intake.refusal.{k}"), "value": k} for k in intake.KINDS],
                    placeholder=t("intake.refusal_kind"),
                ),
                id="intake-refusal-wrap",
                style={"display": "none"},
            ),
            html.Div(
                dcc.Input(id="intake-into", placeholder=t("intake.into"), maxLength=intake.MAX_CASE_NO),
                id="intake-into-wrap",
                style={"display": "none"},
            ),
            dcc.Textarea(id="intake-reason", placeholder=t("intake.reason"), className="reason", maxLength=500),
            html.Button(t("dispatch.submit"), id="intake-submit", n_clicks=0),
            html.Div(id="intake-message", role="status"),
        ],
        className="action-form",
        id="intake-form",
    )


@callback(
    Output("intake-queue", "data"),
    *[Output(f"intake-tab-{tab}", "label") for tab in intake.TABS],
    Output("intake-queue", "page_current"),
    Output("intake-queue", "active_cell"),
    Output("intake-queue", "selected_cells"),
    Input("intake-changed", "data"),
    Input("intake-tick", "n_intervals"),
    Input("intake-tabs", "value"),
)
def refresh_queue(_changed: int, _tick: int | None, tab: Any) -> tuple[Any, ...]:
    user = require("page.intake")
    svc = services()
    rows = intake.queue(svc, user, svc.workflow.clock())
    counts = intake.tab_counts(rows)
    shown = [row(r) for r in rows if r["tab"] == tab]
    page = 0 if ctx.triggered_id == "intake-tabs" else dash.no_update
    fresh = ctx.triggered_id in ("intake-tabs", "intake-changed")  # rows moved under the table's active cell
    cell, cells = (None, []) if fresh else (dash.no_update, dash.no_update)
    return (shown, *(t(f"intake.tab.{k}", n=n) for k, n in counts.items()), page, cell, cells)


@callback(
    Output("intake-selected", "data"),
    Output("intake-map", "viewport"),
    Input("intake-queue", "active_cell"),
    Input("intake-cases", "clickData"),
    prevent_initial_call=True,
)
def select(cell: dict[str, Any] | None, click: dict[str, Any] | None) -> tuple[Any, Any]:
    user = require("page.intake")
    if ctx.triggered_id == "intake-queue" and cell and cell.get("row_id") is not None:
        case_id = whole(cell["row_id"])
        try:
            lon, lat = intake.locate(services(), user, case_id)
        except StoreError:
            return {"id": case_id}, dash.no_update  # the panel says why
        return {"id": case_id}, fly_to(lon, lat, services().basemap)
    props = (click or {}).get("properties") or {}
    if ctx.triggered_id == "intake-cases" and not props.get("cluster") and props.get("id") is not None:
        return {"id": whole(props["id"])}, dash.no_update
    raise dash.exceptions.PreventUpdate


@callback(
    Output("intake-map", "viewport", allow_duplicate=True),
    Input("intake-changed", "data"),
    State("intake-selected", "data"),
    prevent_initial_call=True,
)
def follow(_changed: int, selected: Any) -> Any:
    """After an action picks the next item, the map goes there too (the panel and the map show one case)."""
    user = require("page.intake")
    if not selected or selected.get("id") is None:
        raise dash.exceptions.PreventUpdate
    try:
        lon, lat = intake.locate(services(), user, whole(selected["id"]))
    except StoreError:
        raise dash.exceptions.PreventUpdate from None
    return fly_to(lon, lat, services().basemap)


@callback(
    Output("intake-panel", "children"),
    Output("intake-action", "options"),
    Output("intake-action", "value"),
    Output("intake-version", "data"),
    Output("intake-message", "children", allow_duplicate=True),
    Output("intake-reason", "value"),
    Output("intake-refusal", "value"),
    Output("intake-into", "value"),
    Output("intake-urgency", "value"),
    Input("intake-selected", "data"),
    prevent_initial_call=True,
)
def show(selected: dict[str, Any] | None) -> tuple[Any, ...]:
    user = require("page.intake")
    if not selected:
        return html.P(t("intake.pick")), [], None, None, dash.no_update, "", None, "", "normal"
    # after an action the next item is picked: nothing is pre-selected and the message of the action stays
    after = isinstance(selected, dict) and "n" in selected
    message = dash.no_update if after else None
    try:
        p = intake.panel(services(), user, selected_id(selected))
    except StoreError as exc:
        return html.P(error_text(exc), className="error"), [], None, None, message, "", None, "", "normal"
    actions = [{"label": t(f"action.{a}"), "value": a} for a in p.actions]
    first = None if after else p.default_action
    return report_view(p), actions, first, p.case.version, message, "", None, "", "normal"


@callback(
    Output("intake-urgency-wrap", "style"),
    Output("intake-refusal-wrap", "style"),
    Output("intake-into-wrap", "style"),
    Input("intake-action", "value"),
)
def fields(action: Any) -> tuple[dict[str, str], ...]:
    require("page.intake")
    shown, hidden = {"display": "block"}, {"display": "none"}
    return tuple(shown if action == a else hidden for a in ("file", "refuse", "merge"))


def done(case: Any, action: str) -> html.P:
    return html.P(
        t("dispatch.done", no=case.case_no, action=t(f"action.{action}"), state=t(f"state.{case.state}")),
        className="ok",
    )


def outcome(run: Any, case_id: int, action: str, changed: int, rows: Any) -> tuple[Any, ...]:
    """Take an action and say how it went; after it, the next item of the queue the user saw is picked (after a
    conflict, the same case, reloaded)."""
    try:
        case = run()
    except Conflict as exc:
        msg = html.P(t("dispatch.conflict", detail=error_text(exc)), className="error conflict")
        return msg, changed + 1, {"id": case_id, "n": changed + 1}
    except StoreError as exc:
        return html.P(error_text(exc), className="error"), dash.no_update, dash.no_update
    nxt = intake.next_in(rows if isinstance(rows, list) else [], case_id)
    return done(case, action), changed + 1, ({"id": nxt, "n": changed + 1} if nxt is not None else None)


@callback(
    Output("intake-message", "children"),
    Output("intake-changed", "data"),
    Output("intake-selected", "data", allow_duplicate=True),
    Input("intake-submit", "n_clicks"),
    State("intake-selected", "data"),
    State("intake-action", "value"),
    State("intake-urgency", "value"),
    State("intake-refusal", "value"),
    State("intake-into", "value"),
    State("intake-reason", "value"),
    State("intake-changed", "data"),
    State("intake-version", "data"),
    State("intake-queue", "data"),
    prevent_initial_call=True,
)
def submit(
    _n: int, selected: Any, action: Any, urgency: Any, refusal: Any, into: Any, reason: Any, changed: int,
    version: Any, rows: Any,
) -> tuple[Any, ...]:  # fmt: skip
    user = require("page.intake")
    if not selected or not action or version is None:
        return html.P(t("intake.pick_first"), className="error"), dash.no_update, dash.no_update
    case_id, seen, act = selected_id(selected), whole(version), text(action)
    args = (text(reason), text(urgency) or None, text(refusal) or None, text(into))
    return outcome(lambda: intake.act(services(), user, case_id, seen, act, *args), case_id, act, changed, rows)


@callback(
    Output("intake-message", "children", allow_duplicate=True),
    Output("intake-changed", "data", allow_duplicate=True),
    Output("intake-selected", "data", allow_duplicate=True),
    Input({"type": "intake-merge", "into": ALL, "v": ALL}, "n_clicks"),
    State("intake-selected", "data"),
    State("intake-changed", "data"),
    State("intake-version", "data"),
    State("intake-queue", "data"),
    prevent_initial_call=True,
)
def merge(clicks: list[Any], selected: Any, changed: int, version: Any, rows: Any) -> tuple[Any, ...]:
    user = require("page.intake")
    button = ctx.triggered_id
    if not isinstance(button, dict) or not any(clicks) or not selected or version is None:
        raise dash.exceptions.PreventUpdate  # the buttons were drawn, not clicked
    case_id, seen, into, into_v = (
        selected_id(selected),
        whole(version),
        whole(button.get("into")),
        whole(button.get("v")),
    )
    return outcome(lambda: intake.merge(services(), user, case_id, seen, into, into_v), case_id, "merge", changed, rows)


@callback(
    *maps.outputs("intake"),
    Input("intake-map", "bounds"),
    Input("intake-map", "zoom"),
    State("intake-map", "center"),
    Input("intake-changed", "data"),
    Input("intake-tick", "n_intervals"),
    Input("intake-selected", "data"),
)
def refresh_map(bounds: Any, zoom: float | None, center: Any, _c: int, _t: int | None, selected: Any) -> list[Any]:
    user = require("page.intake")
    if not bounds and not center:
        raise dash.exceptions.PreventUpdate
    svc = services()
    highlight = frozenset([selected_id(selected)]) if selected else frozenset()
    view = View(districts=tuple(user.districts))
    return maps.values(map_props(svc, view, bounds, zoom, svc.workflow.clock(), highlight=highlight, center=center))
