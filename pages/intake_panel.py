"""What the intake page shows about one report: its photos, facts, owners, the link to its case page, and the
cases it may repeat, each with a button that merges the report into it."""

from __future__ import annotations

from datetime import datetime

from dash import html

from dispatch.duplicates import Candidate
from pages.case_panel import deadline_row, when
from store.errors import NotFound
from web import intake, names
from web.i18n import t
from web.photos import photo_url
from web.services import services


def age(now: datetime, at: datetime) -> str:
    hours = max(0.0, (now - at).total_seconds() / 3600)
    if hours < 1:
        return t("intake.age_now")
    return t("intake.age_h", n=f"{hours:.0f}") if hours < 48 else t("intake.age_d", n=f"{hours / 24:.0f}")


def photos_view(p: intake.Panel) -> html.Div:
    if not p.photos:
        return html.Div(t("intake.no_photos"), className="muted", id="intake-photos")
    return html.Div(
        [
            html.A(
                html.Img(src=photo_url(m.sha256, thumb=True), alt=t(f"intake.stage.{m.stage}"), className="thumb"),
                href=photo_url(m.sha256),
                target="_blank",
                rel="noopener",
                title=f"{t(f'intake.stage.{m.stage}')} · {when(m.uploaded_at)}",
            )
            for m in p.photos
        ],
        className="photos",
        id="intake-photos",
    )


def people_name(username: str) -> str:
    try:
        u = services().store.get_user(username)
        return u.display_name or u.username
    except NotFound:  # a unit's system actor or a removed account: the name as logged
        return username


def report_view(p: intake.Panel) -> html.Div:
    c = p.case
    waiting = None
    if c.state == "verifying":
        who = ", ".join(p.inspectors) if p.inspectors else t("intake.any_inspector")
        waiting = html.Div(t("intake.waits_inspector", who=who), className="note", id="intake-waiting")
    if p.request is not None:  # a void request: who asked, when and why, before anyone approves or rejects it
        who = people_name(p.request.actor)
        waiting = html.Div(
            t("intake.void_request", who=who, when=when(p.request.at), reason=p.request.reason or "—"),
            className="note",
            id="intake-void-request",
        )
    warn = (
        html.Div(t("dispatch.near_boundary", metres=f"{p.boundary_m:.0f}"), className="warning", id="intake-warning")
        if p.near_boundary
        else None
    )
    facts = [
        (t("case.state"), t(f"state.{c.state}")),
        (t("case.matter"), names.matter(c.matter)),
        (t("case.source"), t(f"source.{c.source}")),
        (t("case.urgency"), t(f"urgency.{c.urgency}")),
        (t("case.reported"), when(c.reported_at)),
        deadline_row(p.deadline),
        (t("intake.reports"), html.Span(str(c.reports), id="intake-reports")),
        (t("case.description"), c.description or "—"),
        (t("table.cell"), c.cell or "—"),
        (t("table.community"), names.area("communities", c.community)),
        (t("table.subdistrict"), names.area("subdistricts", c.subdistrict)),
        (t("table.district"), names.area("districts", c.district)),
        (t("case.squad"), names.squad(c.squad)),
        (t("case.lead"), names.department(c.lead_department)),
    ]
    return html.Div(
        [
            html.Div(
                [
                    html.H3(c.case_no, id="intake-case-no"),
                    html.A(t("intake.case_page"), href=f"/case/{c.id}", id="intake-case-link", target="_blank"),
                ],
                className="intake-head",
            ),
            warn,
            waiting,
            photos_view(p),
            html.Table(html.Tbody([html.Tr([html.Th(k), html.Td(v)]) for k, v in facts]), className="facts"),
            duplicates_view(p),
        ]
    )


def duplicates_view(p: intake.Panel) -> html.Div | None:
    if intake.TAB_OF.get(p.case.state) != "new":
        return None
    now = services().workflow.clock()
    may_merge = "merge" in p.actions
    if not p.duplicates:
        return html.Div([html.H4(t("intake.duplicates", n=0)), html.P(t("intake.no_duplicates"))], id="intake-dups")
    return html.Div(
        [
            html.H4(t("intake.duplicates", n=len(p.duplicates))),
            html.Table(html.Tbody([candidate_row(c, now, may_merge) for c in p.duplicates]), className="dups"),
        ],
        id="intake-dups",
    )


def candidate_row(c: Candidate, now: datetime, may_merge: bool) -> html.Tr:
    button = (
        html.Button(
            t("intake.merge_into"),
            id={"type": "intake-merge", "into": c.id, "v": c.version},
            n_clicks=0,
            className="merge",
        )
        if may_merge
        else None
    )
    return html.Tr(
        [
            html.Td(html.A(c.case_no, href=f"/case/{c.id}", target="_blank")),
            html.Td(t(f"state.{c.state}")),
            html.Td(t("intake.metres", n=f"{c.distance_m:.0f}")),
            html.Td(age(now, c.reported_at)),
            html.Td(button),
        ],
        className="dup",
    )
