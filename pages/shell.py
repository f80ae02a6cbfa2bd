"""The frame around every page: title, navigation for the user's role, language switch, sign-out."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from dispatch.policy import Target, allows
from store.models import User
from web.auth import Denied, csrf_token, current_user, settings
from web.i18n import error_text, language, t
from web.notices import counts
from web.services import services


def city_name() -> str:
    cfg = services().city
    return cfg.name if language() == "zh" else cfg.name_en


# the pages in the top bar, in order, each shown to whoever the policy lets open it: (page, label, path)
NAV = (
    ("wall", "nav.wall", "/wall"),
    ("intake", "nav.intake", "/intake"),
    ("dispatch", "nav.dispatch", "/dispatch"),
    ("unit", "nav.unit", "/unit"),
    ("field", "nav.field", "/field"),
    ("scores", "nav.scores", "/scores"),
    ("chronic", "nav.chronic", "/chronic"),
    ("model", "model.nav", "/model"),
    ("campaigns", "campaigns.nav", "/campaigns"),
)


def nav() -> html.Nav:
    user = current_user()
    links = []
    if user is not None:
        for page, label, path in NAV:
            if allows(user, f"page.{page}"):
                link = html.A if page == "field" else dcc.Link  # /field is a plain page, not Dash
                links.append(link(t(label), href=path, id=f"nav-{page}"))
        codes = user.districts or tuple(sorted(services().layers.names["districts"]))
        if codes and allows(user, "page.district", Target(codes[0])):
            links.append(dcc.Link(t("nav.district"), href=f"/district/{codes[0]}", id="nav-district"))
        links.append(notices(user))
    other = "en" if language() == "zh" else "zh"
    # the layout is fetched by /_dash-layout: the language switch goes back to the page it came from (Referer)
    right: list[Any] = [html.A(t("nav.switch_language"), href=f"/auth/lang/{other}", id="nav-lang")]
    if user is not None and user.role == "wall":
        # a kiosk: nobody at the wall signs out or switches language (on /wall the wall's own title replaces the bar)
        right = []
    elif user is not None:
        right += [
            html.Span(f"{user.display_name or user.username} · {t(f'role.{user.role}')}", className="nav-user"),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf_token", value=csrf_token()),
                    html.Button(t("nav.sign_out"), type="submit", id="nav-logout", className="link-button"),
                ],
                method="POST",
                action="/auth/logout",
                className="logout-form",
            ),
        ]
    return html.Nav(
        [
            html.Div(
                [html.Span("绣花", className="brand-zh"), html.Span(" Xiuhua · "), city_name()], className="brand"
            ),
            html.Div(links, className="nav-links"),
            html.Span(t("app.synthetic_banner"), className="synthetic-badge", id="synthetic-badge"),
            html.Div(right, className="nav-right"),
        ],
        className="top-nav",
    )


def notices(user: User) -> html.Span:
    """Small badges with the user's counts of new tasks, urges, returns and overdue cases, each a link to its page
    (dispatch/notify.py decides what counts; nothing is shown when nothing waits)."""
    found = counts(services(), user, settings().escalate_after_hours)
    return html.Span(
        [
            dcc.Link(
                t(f"notify.{b.kind}", n=b.count), href=b.href, className=f"badge {b.kind}", id=f"nav-badge-{b.kind}"
            )
            for b in found
        ],
        className="nav-badges",
        id="nav-badges",
        title=t("notify.title"),
    )


def shell() -> html.Div:
    """The app layout (a function, so each page load sees the signed-in user and the chosen language)."""
    return html.Div([nav(), dash.page_container], className=f"app lang-{language()}", lang=language())


def forbidden(exc: Denied) -> html.Div:
    """What a page shows instead of itself when the user may not open it (the server decided)."""
    return html.Div(
        [html.H2(t("error.forbidden")), html.P(error_text(exc))], className="page forbidden", id="forbidden"
    )
