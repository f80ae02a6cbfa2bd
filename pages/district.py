"""/district/<code>: a district head's review of their own district: the grid choropleth (open, overdue,
repeat problems per cell), a cell's cases, squads' and departments' figures for a period, and exports."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dash_table, dcc, html

from dispatch.board import View
from dispatch.policy import allows
from dispatch.stats import Figures
from layers.map import city_map, metric_key, parse_at
from pages import maps
from pages.shell import forbidden
from web import names, scores
from web.auth import Denied, require
from web.casepage import case_url
from web.i18n import language, t
from web.mapview import map_props
from web.review import PERIODS, cell_cases, period_days, review
from web.services import services

dash.register_page(__name__, path_template="/district/<code>", title="Xiuhua · district")
METRICS = ("open", "overdue", "repeat")


def layout(code: str | None = None, at: str | None = None, **_: Any) -> html.Div:
    try:
        require("page.district", code)
    except Denied as exc:
        if exc.status == 404:
            return html.Div(html.H2(t("error.no_district", district=str(code)[:20])), className="page forbidden")
        return forbidden(exc)
    svc = services()
    exports = [
        html.A(t(f"export.{k}"), href=href, id=f"district-export-{k.replace('.', '-')}", className="export")
        for k, href in export_links(str(code), "30d").items()
    ]
    return html.Div(
        [
            dcc.Store(id="district-code", data=code),
            dcc.Interval(id="district-tick", interval=60_000),
            html.Div(
                [
                    html.H2(names.area("districts", code), id="district-title"),
                    dcc.RadioItems(
                        id="district-period",
                        value="30d",
                        inline=True,
                        options=[{"label": t(f"period.{p}"), "value": p} for p in PERIODS],
                    ),
                    dcc.RadioItems(
                        id="district-metric",
                        value="open",
                        inline=True,
                        options=[{"label": t(f"legend.metric.{m}"), "value": m} for m in METRICS],
                    ),
                    html.Div(exports, className="exports"),
                ],
                className="district-head",
            ),
            html.Div(id="district-kpis", className="kpis small"),
            html.Div(
                [
                    html.Div(
                        city_map("district", svc.basemap, svc.layers.bounds((code,)), t, at=parse_at(at)),
                        className="review-map",
                    ),
                    html.Div(
                        [
                            html.H3(t("district.cell_cases"), id="district-cell-title"),
                            dash_table.DataTable(
                                id="district-cell-cases",
                                page_size=10,
                                style_as_list_view=True,
                                # the case number links to the case's page
                                columns=[
                                    {
                                        "name": t(f"queue.{c}"),
                                        "id": c,
                                        **({"presentation": "markdown"} if c == "no" else {}),
                                    }
                                    for c in ("no", "state", "matter", "reported")
                                ],
                                markdown_options={"link_target": "_self"},
                            ),
                            html.Div(id="district-scores"),
                            html.H3(t("district.squads")),
                            html.Div(id="district-squads"),
                            html.H3(t("district.departments")),
                            html.Div(id="district-departments"),
                        ],
                        className="review-side",
                    ),
                ],
                className="review-body",
            ),
        ],
        className="page district",
    )


def _rate(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


FIGURES = ("reported", "closed", "open", "overdue", "on_time")


def figure_label(key: str, period: str) -> str:
    """A figure's name: counts over the period say which period; open and overdue are counted now."""
    return t(f"review.{key}", days=period_days(period))


def _table(rows: list[tuple[str, Figures]], name: Any, period: str) -> html.Table:
    head = html.Tr([html.Th(t("table.unit")), *(html.Th(figure_label(k, period)) for k in FIGURES)])
    body = [
        html.Tr(
            [
                html.Td(name(u)),
                html.Td(f.reported),
                html.Td(f.closed),
                html.Td(f.open),
                html.Td(f.overdue),
                html.Td(_rate(f.on_time_rate)),
            ]
        )
        for u, f in rows
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="league")


@callback(
    Output("district-kpis", "children"),
    Output("district-squads", "children"),
    Output("district-departments", "children"),
    Input("district-period", "value"),
    Input("district-tick", "n_intervals"),
    State("district-code", "data"),
)
def refresh_figures(period: str, _tick: int | None, code: str) -> tuple[Any, ...]:
    require("page.district", code)
    r = review(services(), code, period)
    f = r.total
    kpis = [
        html.Div(
            [
                html.Div(str(v), className="kpi-value", id=f"district-kpi-{k}"),
                html.Div(figure_label(k, period), className="kpi-label", id=f"district-kpi-{k}-label"),
            ],
            className="kpi",
        )
        for k, v in (
            ("reported", f.reported),
            ("closed", f.closed),
            ("open", f.open),
            ("overdue", f.overdue),
            ("on_time", _rate(f.on_time_rate)),
        )
    ]
    return kpis, _table(r.squads, names.squad, period), _table(r.departments, names.department, period)


EXPORTS = ("cases.csv", "cases.xlsx", "layers.gpkg", "map.html")
PERIODIC = ("cases.csv", "cases.xlsx", "map.html")  # the exports that hold the period's cases


def export_links(code: str, period: str) -> dict[str, str]:
    """Each export's link for the period the page shows (the layers are not by period)."""
    days = PERIODS.get(period, 30)
    return {k: f"/export/district/{code}/{k}" + (f"?days={days}" if k in PERIODIC else "") for k in EXPORTS}


@callback(
    *[Output(f"district-export-{k.replace('.', '-')}", "href") for k in EXPORTS],
    Input("district-period", "value"),
    State("district-code", "data"),
    prevent_initial_call=True,
)
def export_hrefs(period: str, code: str) -> list[str]:
    """The downloads follow the period chosen on the page."""
    require("page.district", code)
    return list(export_links(code, period).values())


@callback(
    Output("district-legend-metric", "children"),
    Input("district-metric", "value"),
    State("district-code", "data"),
)
def legend_metric(metric: str, code: str) -> list[Any]:
    """The legend names the metric the map shows (and shows its ramp)."""
    require("page.district", code)
    return metric_key(metric if metric in METRICS else "open", t)


@callback(
    *maps.outputs("district"),
    Input("district-map", "bounds"),
    Input("district-map", "zoom"),
    State("district-map", "center"),
    Input("district-metric", "value"),
    Input("district-period", "value"),
    Input("district-tick", "n_intervals"),
    State("district-code", "data"),
)
def refresh_map(
    bounds: Any, zoom: float | None, center: Any, metric: str, period: str, _t: Any, code: str
) -> list[Any]:
    require("page.district", code)
    if not bounds and not center:
        raise dash.exceptions.PreventUpdate
    svc = services()
    metric = metric if metric in METRICS else "open"
    counts = review(svc, code, period).repeats if metric == "repeat" else None
    now = svc.workflow.clock()
    props = map_props(svc, View(districts=(code,)), bounds, zoom, now, metric=metric, counts=counts, center=center)
    return maps.values(props)


@callback(
    Output("district-cell-cases", "data"),
    Output("district-cell-title", "children"),
    Input("district-cells", "clickData"),
    State("district-period", "value"),
    State("district-code", "data"),
    prevent_initial_call=True,
)
def drill_down(click: dict[str, Any] | None, period: str, code: str) -> tuple[Any, ...]:
    require("page.district", code)
    cell = str(((click or {}).get("properties") or {}).get("code") or "")
    if not cell.startswith(code):
        raise dash.exceptions.PreventUpdate  # not a cell of this district
    r = review(services(), code, period)
    tz = services().workflow.calendar.tz
    rows = [
        {
            "no": f"[{f.case_no}]({case_url(f.id)})",  # markdown: a case number is letters and digits only
            "state": t(f"state.{f.state}"),
            "matter": names.matter(f.matter),
            "reported": f"{f.reported_at.astimezone(tz):%m-%d %H:%M}",
        }
        for f in cell_cases(r, cell)
    ]
    return rows, t("district.cell_cases_of", cell=cell, n=len(rows))


@callback(
    Output("district-scores", "children"),
    Input("district-tick", "n_intervals"),
    State("district-code", "data"),
)
def district_score(_tick: int | None, code: str) -> Any:
    """This month's evaluation of the district, each indicator with its formula and numbers (for whoever may see
    scores: the district's head, shift leads, admins), and a link to the full page."""
    user = require("page.district", code)
    if not allows(user, "page.scores"):
        return []
    period = scores.months(services().workflow.clock(), 1)[0]
    ev, r = scores.evaluation(), scores.result(user, "district", period)
    mine = next((s for s in r.scores if s.group == code), None)
    if mine is None:
        return []
    lang = language()
    lines = [
        html.Li(f"{ev.indicators[k].name(lang)} = {v.numbers} = {scores.percent(v.value)}", id=f"district-score-{k}")
        for k, v in mine.values.items()
    ]
    total = "—" if mine.total is None else f"{mine.total:.1f}"
    return [
        html.H3(t("district.score", period=period, total=total, grade=mine.grade or "—"), id="district-score-title"),
        html.Ul(lines, className="explain"),
        dcc.Link(t("district.score_more"), href=f"/scores?level=district&period={period}&unit={code}"),
    ]
