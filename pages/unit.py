"""/unit: a handling unit's own cases (处置单位). Urges at the top; the cases waiting for it, urged first, then by the
working time left (overdue red, at risk amber); the cases it has handled below; all on the map (it flies to the
one picked). Feed back with after-photos, complete a stage, ask to return (naming the owner), for an extension or
to park. Nothing is pre-selected; a conflict is said plainly."""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from dispatch.board import STAGE_OF
from layers.geojson import point_features
from layers.map import city_map, fly_to
from pages.case_panel import deadline_row, when
from pages.console import selected_id, text, unit_of, whole
from pages.shell import forbidden
from store.errors import Conflict, StoreError
from web import names, unit
from web.auth import Denied, require
from web.i18n import error_text, t
from web.photos import photo_url
from web.services import services

dash.register_page(__name__, path="/unit", title="Xiuhua · unit")
TICK_MS = 30_000
DONE = ("handled", "checking")


def layout(**_: Any) -> html.Div:
    try:
        require("page.unit")
    except Denied as exc:
        return forbidden(exc)
    svc = services()
    return html.Div(
        [
            dcc.Interval(id="unit-tick", interval=TICK_MS),
            dcc.Store(id="unit-selected"),
            dcc.Store(id="unit-version"),
            dcc.Store(id="unit-changed", data=0),
            html.Div(id="unit-urges", className="unit-urges", role="alert"),
            html.Div(
                [
                    html.Div(
                        [
                            html.H3(t("unit.open")),
                            html.Div(id="unit-open", className="unit-list"),
                            html.H3(t("unit.done")),
                            html.Div(id="unit-done", className="unit-list done"),
                        ],
                        className="unit-side",
                    ),
                    html.Div(city_map("unit", svc.basemap, svc.layers.bounds(), t, zones=False), className="unit-map"),
                    html.Div([html.Div(t("unit.pick"), id="unit-panel"), action_form()], className="case-panel"),
                ],
                className="unit-body",
            ),
        ],
        className="page unit",
    )


def action_form() -> html.Div:
    owners = sorted(services().workflow.units_for(""))
    return html.Div(
        [
            dcc.Dropdown(id="unit-action", placeholder=t("unit.action"), clearable=False),
            html.Div(
                dcc.Dropdown(
                    id="unit-owner",
                    options=[{"label": f"{names.squad(u)} ({u})", "value": u} for u in owners],
                    placeholder=t("unit.owner"),
                ),
                id="unit-owner-box",
                style={"display": "none"},
            ),
            html.Div(
                [
                    html.Label(t("unit.hours"), htmlFor="unit-hours"),
                    dcc.Input(id="unit-hours", type="number", min=1, max=720, step=1),
                ],
                id="unit-hours-box",
                style={"display": "none"},
            ),
            dcc.Textarea(id="unit-text", placeholder=t("unit.text"), className="reason", maxLength=2000),
            html.Div(
                [
                    dcc.Upload(
                        html.Div(t("unit.upload")),
                        id="unit-upload",
                        multiple=True,
                        accept="image/*",
                        className="unit-upload",
                    ),
                    html.Div(id="unit-upload-list", className="upload-list"),
                ],
                id="unit-upload-box",
                style={"display": "none"},
            ),
            html.Button(t("unit.submit"), id="unit-submit", n_clicks=0),
            html.Div(id="unit-message", role="status"),
        ],
        className="action-form",
        id="unit-form",
    )


def left_text(r: dict[str, Any]) -> str:
    if r["state"] in DONE:
        return ""  # its clock no longer runs (the state says where it is)
    if r["paused"]:
        return t("case.paused")
    if r["left_s"] is None:
        return when(r["due"])
    hours = r["left_s"] / 3600
    return t("unit.overdue_by", h=f"{-hours:.1f}") if hours < 0 else t("unit.left", h=f"{hours:.1f}")


def card(r: dict[str, Any], selected: int | None) -> html.Div:
    cls = "unit-case" + (" overdue" if r["overdue"] else " at-risk" if r["at_risk"] else "")
    cls += " selected" if r["id"] == selected else ""
    tags = [html.Span(t("unit.urged"), className="tag urged")] if r["urged"] else []
    tags += [html.Span(t("unit.reworked"), className="tag reworked")] if r["reworked"] else []
    tags += [html.Span(t("urgency.urgent"), className="tag urgent")] if r["urgent"] else []
    return html.Div(
        [
            html.Button(
                [
                    html.Span(r["no"], className="no"),
                    html.Span(left_text(r), className="left"),
                    html.Span(names.matter(r["matter"]), className="matter"),
                    html.Span([t(f"state.{r['state']}"), *tags], className="state"),
                ],
                id={"type": "unit-pick", "id": r["id"]},
                className="pick",
                n_clicks=0,
            ),
            dcc.Link(t("unit.open_case"), href=f"/case/{r['id']}", className="case-link"),
        ],
        className=cls,
        id=f"unit-case-{r['id']}",
    )


def banner(urges: list[tuple[dict[str, Any], str]]) -> list[Any]:
    if not urges:
        return []
    return [
        html.Strong(t("unit.urges", n=len(urges))),
        html.Ul([html.Li([html.B(r["no"]), " · ", names.matter(r["matter"]), " — ", reason]) for r, reason in urges]),
    ]


def marks(rows: list[dict[str, Any]], selected: int | None) -> dict[str, Any]:
    props = [
        {"id": r["id"], "no": r["no"], "stage": STAGE_OF.get(r["state"]), "urgent": r["urgent"],
         "over": r["overdue"], "risk": r["at_risk"], "hl": r["id"] == selected}
        for r in rows
    ]  # fmt: skip
    return point_features([r["lon"] for r in rows], [r["lat"] for r in rows], props)


@callback(
    Output("unit-open", "children"),
    Output("unit-done", "children"),
    Output("unit-urges", "children"),
    Output("unit-cases", "data"),
    Input("unit-changed", "data"),
    Input("unit-tick", "n_intervals"),
    Input("unit-selected", "data"),
)
def refresh(_changed: int, _tick: int | None, selected: Any) -> tuple[Any, ...]:
    user = require("page.unit")
    svc = services()
    rows = unit.cases(svc, user, svc.workflow.clock())
    chosen = selected_id(selected) if selected else None
    running = [card(r, chosen) for r in rows if r["state"] not in DONE]
    done = [card(r, chosen) for r in rows if r["state"] in DONE]
    return (
        running or html.P(t("unit.none"), className="empty"),
        done or html.P(t("unit.none_done"), className="empty"),
        banner(unit.urges(svc, user, rows)),
        marks(rows, chosen),
    )


@callback(
    Output("unit-selected", "data"),
    Output("unit-map", "viewport"),
    Input({"type": "unit-pick", "id": ALL}, "n_clicks"),
    Input("unit-cases", "clickData"),
    prevent_initial_call=True,
)
def select(_clicks: list[int | None], click: dict[str, Any] | None) -> tuple[Any, Any]:
    user = require("page.unit")
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and ctx.triggered and ctx.triggered[0].get("value"):
        case_id = whole(trigger.get("id"))
        try:
            p = unit.panel(services(), user, case_id)
        except StoreError:
            return {"id": case_id}, dash.no_update  # the panel says why
        return {"id": case_id}, fly_to(p.case.lon, p.case.lat, services().basemap)
    props = (click or {}).get("properties") or {}
    if trigger == "unit-cases" and not props.get("cluster") and props.get("id") is not None:
        return {"id": whole(props["id"])}, dash.no_update
    raise dash.exceptions.PreventUpdate  # a list re-drawn (no click), or a cluster


@callback(
    Output("unit-panel", "children"),
    Output("unit-action", "options"),
    Output("unit-action", "value"),
    Output("unit-version", "data"),
    Output("unit-message", "children", allow_duplicate=True),
    Output("unit-text", "value"),
    Output("unit-upload", "contents"),
    Output("unit-hours", "value"),
    Output("unit-owner", "value"),
    Input("unit-selected", "data"),
    prevent_initial_call=True,
)
def show(selected: Any) -> tuple[Any, ...]:
    user = require("page.unit")
    if not selected:
        raise dash.exceptions.PreventUpdate
    after = isinstance(selected, dict) and "n" in selected  # after an action the message stays
    message = dash.no_update if after else None
    keep = after and selected.get("keep")  # a refused action: what was typed stays
    fresh = (dash.no_update,) * 4 if keep else ("", None, None, None)
    try:
        p = unit.panel(services(), user, selected_id(selected))
    except StoreError as exc:
        return html.P(error_text(exc), className="error"), [], None, None, message, *fresh
    actions = [{"label": t(f"action.{a}"), "value": a} for a in p.actions]
    return case_view(p), actions, None, p.case.version, message, *fresh


def case_view(p: unit.Panel) -> html.Div:
    c = p.case
    rows = [
        (t("case.state"), t(f"state.{c.state}")),
        (t("case.matter"), names.matter(c.matter)),
        deadline_row(p.deadline),
        (t("table.community"), names.area("communities", c.community)),
        (t("case.description"), c.description),
    ]
    if p.stages:
        rows.append((t("unit.stage"), f"{p.stage}/{len(p.stages)} · {p.stages[p.stage - 1]}"))
    thumbs = [
        html.A(html.Img(src=photo_url(m.sha256, thumb=True), alt=t(f"unit.photo.{m.stage}")),
               href=photo_url(m.sha256), target="_blank", className=f"thumb {m.stage}")
        for m in p.photos
    ]  # fmt: skip
    return html.Div(
        [
            html.H3(
                [c.case_no, " ", dcc.Link(t("unit.open_case"), href=f"/case/{c.id}", className="case-link")],
                id="unit-case-no",
            ),
            html.Table(html.Tbody([html.Tr([html.Th(k), html.Td(v)]) for k, v in rows]), className="facts"),
            html.Div(thumbs, className="thumbs") if thumbs else None,
            html.P(t("unit.no_action"), className="muted") if not p.actions else None,
        ]
    )


@callback(
    Output("unit-owner-box", "style"),
    Output("unit-hours-box", "style"),
    Output("unit-upload-box", "style"),
    Input("unit-action", "value"),
)
def fields(action: Any) -> tuple[dict[str, str], ...]:
    require("page.unit")

    def shown(on: bool) -> dict[str, str]:
        return {} if on else {"display": "none"}

    return shown(action in unit.OWNER_ACTIONS), shown(action in unit.HOURS_ACTIONS), shown(action in unit.WITH_PHOTOS)


@callback(Output("unit-upload-list", "children"), Input("unit-upload", "filename"), Input("unit-upload", "contents"))
def upload_list(filenames: Any, contents: Any) -> Any:
    require("page.unit")
    if not contents or not isinstance(filenames, list):
        return t("unit.no_photos")
    return t("unit.photos", n=len(filenames), names="、".join(str(n)[:40] for n in filenames[:6]))


@callback(
    Output("unit-message", "children"),
    Output("unit-changed", "data"),
    Output("unit-selected", "data", allow_duplicate=True),
    Input("unit-submit", "n_clicks"),
    State("unit-selected", "data"),
    State("unit-action", "value"),
    State("unit-text", "value"),
    State("unit-owner", "value"),
    State("unit-hours", "value"),
    State("unit-upload", "contents"),
    State("unit-upload", "filename"),
    State("unit-changed", "data"),
    State("unit-version", "data"),
    prevent_initial_call=True,
)
def submit(
    _n: int, selected: Any, action: Any, note: Any, owner: Any, hours: Any, contents: Any, filenames: Any,
    changed: int, version: Any,
) -> tuple[Any, ...]:  # fmt: skip
    user = require("page.unit")
    if not selected or not action or version is None:
        return html.P(t("unit.pick_first"), className="error"), dash.no_update, dash.no_update
    case_id = selected_id(selected)
    files = contents if isinstance(contents, list) else []
    names_ = filenames if isinstance(filenames, list) else []
    try:
        case = unit.act(
            services(), user, case_id, whole(version), text(action), text(note), unit_of(owner), hours, files, names_
        )
    except Conflict as exc:
        msg = html.P(t("dispatch.conflict", detail=error_text(exc)), className="error conflict")
        return msg, changed + 1, {"id": case_id, "n": changed + 1, "keep": True}
    except StoreError as exc:
        return html.P(error_text(exc), className="error"), dash.no_update, dash.no_update
    done = t("dispatch.done", no=case.case_no, action=t(f"action.{action}"), state=t(f"state.{case.state}"))
    return html.P(done, className="ok"), changed + 1, {"id": case.id, "n": changed + 1}
