"""/ sends each user to their page."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from web.auth import current_user, home_of

dash.register_page(__name__, path="/", title="Xiuhua")


def layout(**_: Any) -> html.Div:
    user = current_user()
    return html.Div(dcc.Location(id="home-go", href=home_of(user) if user else "/login", refresh=True))
