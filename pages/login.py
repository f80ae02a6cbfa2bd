"""Sign-in: a plain form posted to /auth/login (no callback), so it works before any session exists."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from web.i18n import t

dash.register_page(__name__, path="/login", title="Xiuhua · sign in")


def layout(error: str | None = None, next: str | None = None, **_: Any) -> html.Div:
    message = {"1": t("login.failed"), "role": t("login.no_page"), "locked": t("login.locked")}.get(error or "")
    return html.Div(
        html.Form(
            [
                html.H2(t("login.title")),
                html.Label(
                    [
                        t("login.username"),
                        dcc.Input(name="username", id="login-username", autoFocus=True, autoComplete="username"),
                    ]
                ),
                html.Label(
                    [
                        t("login.password"),
                        dcc.Input(
                            name="password", type="password", id="login-password", autoComplete="current-password"
                        ),
                    ]
                ),
                dcc.Input(type="hidden", name="next", value=next or ""),
                html.Button(t("login.submit"), type="submit", id="login-submit"),
                html.P(message, className="error", id="login-error") if message else None,
                html.P(t("login.demo_hint"), className="hint"),
            ],
            method="POST",
            action="/auth/login",
            className="login-form",
        ),
        className="login-page",
    )
