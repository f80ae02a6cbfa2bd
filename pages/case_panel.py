"""What the dispatch console shows about one case: its facts, the deadline of the step that runs, and why it
belongs to its owner (the deciding rule first, the rules that did not apply folded below)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import html

from web import console, names
from web.casepage import case_url
from web.i18n import language, t
from web.services import services


def when(at: datetime | None) -> str:
    return "—" if at is None else f"{at.astimezone(services().workflow.calendar.tz):%m-%d %H:%M}"


def case_view(p: console.Panel) -> html.Div:
    c = p.case
    rows = [
        (t("case.no"), c.case_no),
        (t("case.state"), t(f"state.{c.state}")),
        (t("case.matter"), names.matter(c.matter)),
        (t("case.source"), t(f"source.{c.source}")),
        (t("case.urgency"), t(f"urgency.{c.urgency}")),
        (t("case.reported"), when(c.reported_at)),
        (t("intake.reports"), str(c.reports)),  # this report and the duplicates merged into it
        deadline_row(p.deadline),
        (t("table.district"), names.area("districts", c.district)),
        (t("table.subdistrict"), names.area("subdistricts", c.subdistrict)),
        (t("table.community"), names.area("communities", c.community)),
        (t("table.cell"), c.cell or "—"),
        (t("case.squad"), names.squad(c.squad)),
        (t("case.lead"), names.department(c.lead_department)),
        (t("case.assignee"), names.squad(c.assignee)),
        (t("case.description"), c.description),
    ]
    warn = (
        html.Div(t("dispatch.near_boundary", metres=f"{p.boundary_m:.0f}"), className="warning", id="dispatch-warning")
        if p.near_boundary
        else None
    )
    return html.Div(
        [
            html.H3(
                [
                    html.Span(c.case_no, id="dispatch-case-no"),
                    html.A(
                        t("casepage.open"),
                        href=case_url(c.id),
                        target="_blank",
                        rel="noopener",
                        id="dispatch-case-link",
                        className="case-link",
                    ),
                ]
            ),
            warn,
            html.Table(html.Tbody([html.Tr([html.Th(k), html.Td(v)]) for k, v in rows]), className="facts"),
            html.H4(t("dispatch.why")),
            trace_view(c.ownership.get("trace", [])),
            html.P(t("dispatch.boundary", metres="—" if p.boundary_m is None else f"{p.boundary_m:.0f}")),
        ]
    )


def deadline_row(d: Any) -> tuple[str, Any]:
    """The deadline of the clock that runs now, named by its step (filing, dispatch, handling), with whether it
    has passed or is paused; the unit's deadline when no clock runs."""
    label = t(f"case.deadline_step.{d.step}") if d.step else t("case.deadline")
    notes = [t("case.overdue")] if d.overdue else []
    notes += [t("case.paused")] if d.paused else []
    value = when(d.deadline_at) + "".join(t("case.note", note=n) for n in notes)
    return label, html.Span(value, id="dispatch-deadline", className="overdue" if d.overdue else None)


def trace_view(trace: list[dict[str, Any]], prefix: str = "dispatch") -> html.Div:
    """Why this owner: the deciding rule first, by name and in words; the rules that did not apply folded below,
    each by name with why not."""
    lang = language()
    svc = services()
    decided, skipped = console.decision(trace)
    if decided is None:
        head = html.P(t("dispatch.no_rule"), className="rule applies", id=f"{prefix}-rule")
    else:
        name = console.rule_name(svc, decided["rule"], lang)
        reason = decided[lang]
        words = reason if reason.startswith(name) else t("dispatch.rule", rule=name, reason=reason)
        head = html.P(words, className="rule applies", id=f"{prefix}-rule")
    if not skipped:
        return html.Div(head, className="trace")
    folded = html.Details(
        [
            html.Summary(t("dispatch.skipped", n=len(skipped))),
            html.Ol(
                [
                    html.Li(
                        [html.Span(console.rule_name(svc, s["rule"], lang), className="rule-name"), " — ", s[lang]],
                        className="skipped",
                    )
                    for s in skipped
                ]
            ),
        ],
        id=f"{prefix}-skipped",
    )
    return html.Div([head, folded], className="trace")
