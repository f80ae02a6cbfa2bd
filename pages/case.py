"""/case/<id>: one case on one printable page: its header, deadlines, owners and why, a map, the timeline from the
event log, and its photos by step. Whoever may open the case (the policy's "page.case") sees it; anyone else sees
the same "no such case" as for a number that does not exist. The page has no server callbacks (a unit, whose
access depends on the case, opens it too); the print button is the browser's own."""

from __future__ import annotations

from typing import Any

import dash
import dash_leaflet as dl
import shapely
from dash import ClientsideFunction, Input, Output, clientside_callback, html

from dispatch.policy import allows
from layers.map import js
from pages.case_panel import trace_view
from pages.shell import forbidden
from store.models import Media
from web import casepage, names
from web.auth import Denied, current_user
from web.i18n import t
from web.photos import photo_url
from web.services import services

dash.register_page(__name__, path_template="/case/<case_id>", title="Xiuhua · case")


def layout(case_id: str | None = None, **_: Any) -> html.Div:
    svc = services()
    try:
        v = casepage.load(svc, case_id)
    except Denied as exc:
        return forbidden(exc)
    except casepage.Hidden:
        return html.Div(
            [html.H2(t("casepage.not_found_title")), html.P(t("casepage.not_found", id=str(case_id or "")[:20]))],
            className="page forbidden",
            id="case-missing",
        )
    tz = svc.workflow.calendar.tz
    return html.Div(
        [
            header(v),
            html.Div(
                [
                    html.Section([html.H3(t("casepage.deadlines")), deadlines(v, tz)], className="case-block"),
                    html.Section(
                        [html.H3(t("casepage.owners")), owners(v), html.H4(t("dispatch.why")), trace(v)],
                        className="case-block",
                    ),
                    html.Section(case_map(v), className="case-block case-map-block"),
                ],
                className="case-top",
            ),
            html.Section([html.H3(t("casepage.timeline")), timeline(v)], className="case-block"),
            html.Section([html.H3(t("casepage.photos")), photos(v, tz)], className="case-block case-photos-block"),
        ],
        className="page case-page",
        id="case-page",
    )


def header(v: casepage.CaseView) -> html.Div:
    c = v.case
    badges: list[Any] = [
        html.Span(t(f"state.{c.state}"), className=f"badge state-{c.state}", id="case-state"),
        html.Span(t(f"urgency.{c.urgency}"), className=f"badge urgency-{c.urgency}"),
        html.Span(t(f"source.{c.source}"), className="badge"),
    ]
    if c.reports > 1:
        badges.append(html.Span(t("casepage.reports", n=c.reports), className="badge", id="case-reports"))
    if c.duplicate_of is not None:
        badges.append(
            html.Span(
                [t("casepage.duplicate_of") + " ", html.A(v.duplicate_no, href=casepage.case_url(c.duplicate_of))],
                className="badge",
                id="case-duplicate-of",
            )
        )
    if "synthetic" in c.flags:
        badges.append(html.Span(t("app.synthetic_banner"), className="badge synthetic"))
    return html.Div(
        [
            html.H2([html.Span(c.case_no, id="case-no"), " ", html.Span(names.matter(c.matter), id="case-matter")]),
            html.Div(badges, className="case-badges"),
            html.P(c.description, className="case-description") if c.description else None,
            html.Button(t("casepage.print"), id="case-print", className="link-button case-print"),
        ],
        className="case-header",
    )


def table(rows: list[tuple[str, Any]], ident: str) -> html.Table:
    return html.Table(html.Tbody([html.Tr([html.Th(k), html.Td(val)]) for k, val in rows]), className="facts", id=ident)


def deadlines(v: casepage.CaseView, tz: Any) -> html.Table:
    c, d = v.case, v.deadline
    label = t(f"case.deadline_step.{d.step}") if d.step else t("case.deadline")
    notes = [t("case.overdue")] if d.overdue else []
    notes += [t("case.paused")] if d.paused else []
    due = casepage.local(d.deadline_at, tz) + "".join(t("case.note", note=n) for n in notes)
    return table(
        [
            (label, html.Span(due, className="overdue" if d.overdue else None, id="case-deadline")),
            (t("casepage.left"), casepage.hours_left(d.seconds_left)),
            (t("case.reported"), casepage.local(c.reported_at, tz)),
            (t("casepage.filed"), casepage.local(c.filed_at, tz)),
            (t("casepage.dispatched"), casepage.local(c.dispatched_at, tz)),
            (t("casepage.closed"), casepage.local(c.closed_at, tz)),
        ],
        "case-deadlines",
    )


def owners(v: casepage.CaseView) -> html.Table:
    c = v.case
    supporting = t("casepage.sep").join(names.department(d) for d in c.owners.supporting_departments) or "—"
    return table(
        [
            (t("table.district"), names.area("districts", c.district)),
            (t("table.subdistrict"), names.area("subdistricts", c.subdistrict)),
            (t("table.community"), names.area("communities", c.community)),
            (t("table.cell"), c.cell or "—"),
            (t("casepage.squad"), names.squad(c.squad)),
            (t("case.lead"), names.department(c.lead_department)),
            (t("casepage.supporting"), supporting),
            (t("case.assignee"), names.squad(c.assignee)),
        ],
        "case-owners",
    )


def trace(v: casepage.CaseView) -> html.Div:
    return trace_view(v.case.ownership.get("trace", []), prefix="case")


def case_map(v: casepage.CaseView) -> html.Div:
    """The case, and its grid cell's outline; the city's land under it for those who may see the map layers."""
    c = v.case
    svc = services()
    layers: list[Any] = []
    user = current_user()
    if svc.basemap.kind == "offline":
        if user is not None and allows(user, "route.map"):
            land = dl.GeoJSON(url="/api/layers/land.geojson", style=js("landStyle"), interactive=False)
            layers.append(dl.Pane(land, name="land", style={"zIndex": 250}))  # under the case, however late it loads
    else:
        layers.append(dl.TileLayer(url=svc.basemap.url, attribution=svc.basemap.attribution, maxZoom=19))
    cell = cell_outline(c.cell)
    if cell is not None:
        layers.append(dl.GeoJSON(data=cell, style={"color": "#5c5470", "weight": 2, "fillOpacity": 0.05}))
    layers.append(
        dl.CircleMarker(
            center=[c.lat, c.lon], radius=9, color="#111111", weight=3, fillColor="#e03131", fillOpacity=0.9
        )
    )
    if svc.basemap.gcj02:  # the marker and the outline are WGS-84; a GCJ-02 basemap would put them off by ~500 m
        layers = [x for x in layers if not isinstance(x, dl.TileLayer)]
    return html.Div(
        dl.Map(
            layers,
            center=[c.lat, c.lon],
            zoom=17,
            maxZoom=19,
            scrollWheelZoom=False,
            className="case-map",
            id="case-map",
        ),
        className="case-map-wrap",
    )


def cell_outline(code: str | None) -> dict[str, Any] | None:
    if not code:
        return None
    cells = services().workflow.engine.city.layers["grid_cells"]
    hit = cells[cells["code"] == code]
    if hit.empty:
        return None
    geom = shapely.geometry.mapping(hit.geometry.iloc[0])
    return {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": geom, "properties": {}}]}


def timeline(v: casepage.CaseView) -> html.Table:
    tz = services().workflow.calendar.tz
    head = html.Tr([html.Th(t(f"casepage.col.{k}")) for k in ("when", "who", "what", "state", "reason", "changes")])
    rows = []
    for k, s in enumerate(v.steps):
        state = f"{s.before} → {s.after}" if s.before and s.after and s.before != s.after else (s.after or "")
        rows.append(
            html.Tr(
                [
                    html.Td(casepage.local(s.at, tz), className="nowrap"),
                    html.Td(s.who),
                    html.Td(s.action, className="action"),
                    html.Td(state),
                    html.Td(s.reason),
                    html.Td(html.Ul([html.Li(change(ch)) for ch in s.changes]) if s.changes else ""),
                ],
                className="timeline-row",
                id=f"case-step-{k}",
            )
        )
    return html.Table([html.Thead(head), html.Tbody(rows)], className="timeline", id="case-timeline")


def change(ch: casepage.Change) -> list[Any]:
    after: Any = html.A(ch.after, href=casepage.case_url(ch.link)) if ch.link is not None else ch.after
    return [html.Span(ch.label, className="field"), ": ", ch.before, " → ", after]


def photos(v: casepage.CaseView, tz: Any) -> html.Div:
    if not v.photos:
        return html.Div(t("casepage.no_photos"), id="case-photos")
    return html.Div(
        [
            html.Div(
                [
                    html.H4(t(f"casepage.stage.{stage}")),
                    html.Div([photo(m, tz, lambda u: v.people.get(u, u)) for m in items], className="photo-grid"),
                ],
                className=f"photo-stage stage-{stage}",
                id=f"case-photos-{stage}",
            )
            for stage, items in v.photos.items()
        ],
        id="case-photos",
    )


def photo(m: Media, tz: Any, who: Any) -> html.Figure:
    note = [html.Span(t("casepage.synthetic"), className="synthetic-tag")] if m.synthetic else []
    return html.Figure(
        [
            html.A(
                html.Img(src=photo_url(m.sha256, thumb=True), alt=t(f"casepage.stage.{m.stage}")),
                href=photo_url(m.sha256),
                target="_blank",
            ),
            html.Figcaption([*note, f"{casepage.local(m.uploaded_at, tz)} · {who(m.uploaded_by)}"]),
        ],
        className="photo",
    )


# the print button: the browser prints the page (no server round trip; print.css lays it out)
clientside_callback(
    ClientsideFunction(namespace="xiuhua_case", function_name="print"),
    Output("case-print", "title"),
    Input("case-print", "n_clicks"),
    prevent_initial_call=True,
)
