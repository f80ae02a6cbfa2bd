"""/scores: the evaluation (考评) of a month at a level — each unit's indicators, composite score, grade and rank;
a unit's formulas in words and with its numbers put in, its trend by month, and the very cases behind each
count. Rendered on the server from the address (?level=…&period=…&unit=…&counter=…), so every view is a link."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
from dash import dcc, html

from dispatch.evaluation import COUNTERS, EvaluationError
from pages.shell import forbidden
from web.auth import Denied, current_user, require
from web.i18n import error_text, language, t
from web.scores import evaluation, levels_for, months, percent, result, trend, unit_name
from web.services import services

dash.register_page(__name__, path="/scores", title="Xiuhua · scores")
MAX_CASES = 300


def _href(**q: str | None) -> str:
    return "/scores?" + urlencode({k: v for k, v in q.items() if v})


def layout(level: str | None = None, period: str | None = None, unit: str | None = None,
           counter: str | None = None, **_: Any) -> html.Div:  # fmt: skip
    try:
        user = require("page.scores")
    except Denied as exc:
        return forbidden(exc)
    assert current_user() is not None
    svc = services()
    open_levels = levels_for(user)
    choices = months(svc.workflow.clock())
    level = level if level in open_levels else open_levels[0]
    period = period if period in choices else choices[0]
    try:
        ev = evaluation()
        r = result(user, level, period)
    except (Denied, EvaluationError, ValueError) as exc:
        return html.Div([html.H2(t("scores.title")), html.P(error_text(exc), id="scores-error")], className="page")
    lang = language()
    keys = list(ev.schemes[level].weights)
    nav = html.Div(
        [
            html.Div(
                [
                    dcc.Link(
                        t(f"scores.level.{lv}"),
                        href=_href(level=lv, period=period),
                        className="chip" + (" on" if lv == level else ""),
                        id=f"scores-level-{lv}",
                    )
                    for lv in open_levels
                ],
                className="chips",
            ),
            html.Div(
                [
                    dcc.Link(
                        p,
                        href=_href(level=level, period=p),
                        className="chip" + (" on" if p == period else ""),
                        id=f"scores-period-{p}",
                    )
                    for p in choices
                ],
                className="chips",
            ),
            html.A(
                t("scores.xlsx"), href=f"/export/scores/{level}/{period}.xlsx", id="scores-xlsx", className="export"
            ),
        ],
        className="scores-nav",
    )
    weights = " + ".join(f"{ev.indicators[k].name(lang)} {ev.schemes[level].weights[k]:g}%" for k in keys)
    head = html.Tr(
        [html.Th(t("scores.rank")), html.Th(t("scores.unit"))]
        + [html.Th(ev.indicators[k].name(lang)) for k in keys]
        + [html.Th(t("scores.total")), html.Th(t("scores.grade"))]
    )
    body = []
    for s in r.scores:
        link = dcc.Link(unit_name(level, s.group), href=_href(level=level, period=period, unit=s.group))
        body.append(
            html.Tr(
                [html.Td(s.rank or "—"), html.Td(link)]
                + [html.Td(percent(s.values[k].value), title=s.values[k].numbers) for k in keys]
                + [
                    html.Td("—" if s.total is None else f"{s.total:.1f}"),
                    html.Td(s.grade or "—", className=f"grade grade-{s.grade}"),
                ],
                className="on" if s.group == unit else "",
                id=f"scores-row-{s.group}",
            )
        )
    parts: list[Any] = [
        html.H2(t("scores.title")),
        nav,
        html.P(t("scores.scheme", level=t(f"scores.level.{level}"), weights=weights), id="scores-scheme"),
        html.Table([html.Thead(head), html.Tbody(body)], className="league scores", id="scores-table"),
        html.P(t("scores.honest"), className="hint"),
    ]
    chosen = next((s for s in r.scores if s.group == unit), None)
    if chosen is not None:
        parts.append(_detail(level, period, chosen, keys, counter, r, user))
    return html.Div(parts, className="page scores-page")


def _detail(level: str, period: str, s: Any, keys: list[str], counter: str | None, r: Any, user: Any) -> html.Div:
    ev, lang = evaluation(), language()

    def word(name: str) -> str:
        return t(f"counter.{name}")

    lines = []
    for k in keys:
        ind, v = ev.indicators[k], s.values[k]
        zero = "" if v.value is not None or ind.zero is not None else f" ({t('scores.not_rated')})"
        lines.append(
            html.Li(
                [
                    html.B(ind.name(lang)),
                    f" = {ind.formula.in_words(word)} = {v.numbers} = {percent(v.value)}{zero}",
                    html.Span(f" × {ev.schemes[level].weights[k]:g}%", className="weight"),
                ],
                id=f"scores-explain-{k}",
            )
        )
    counters = [
        html.Li(
            dcc.Link(
                f"{word(c)}: {s.counts.get(c, 0)}",
                href=_href(level=level, period=period, unit=s.group, counter=c),
                id=f"scores-counter-{c}",
            )
        )
        for c in COUNTERS
        if level in COUNTERS[c]
    ]
    history = trend(user, level, s.group, period)
    top = max((v or 0 for _, v, _ in history), default=0) or 100
    bars = html.Div(
        [
            html.Div(
                [
                    html.Span(p, className="bar-label"),
                    html.Span(style={"width": f"{(v or 0) / top * 100:.0f}%"}, className="bar"),
                    html.Span("—" if v is None else f"{v:.1f} {g}", className="bar-value"),
                ],
                className="bar-row",
            )
            for p, v, g in history
        ],
        className="bars",
        id="scores-trend",
    )
    out: list[Any] = [
        html.H3(
            t(
                "scores.detail",
                unit=unit_name(level, s.group),
                total="—" if s.total is None else f"{s.total:.1f}",
                grade=s.grade or "—",
            )
        ),
        html.Ul(lines, className="explain"),
        html.H4(t("scores.counters")),
        html.Ul(counters, className="counters"),
        html.H4(t("scores.trend")),
        bars,
    ]
    if counter in COUNTERS and level in COUNTERS[counter]:
        ids = r.cases_of(s.group, counter)
        store = services().store
        shown = [store.get_case(i) for i in list(dict.fromkeys(ids))[:MAX_CASES]]
        out += [
            html.H4(t("scores.cases_of", counter=word(counter), n=len(ids)), id="scores-cases-title"),
            html.Ul(
                [html.Li(dcc.Link(c.case_no, href=f"/case/{c.id}")) for c in shown],
                className="case-links",
                id="scores-cases",
            ),
        ]
    return html.Div(out, className="scores-detail", id="scores-detail")
