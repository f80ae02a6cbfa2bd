"""Helpers for the app tests (the app fixture itself is in tests/conftest.py: one per test process)."""

from __future__ import annotations

import re

from tests.conftest import DEMO_PASSWORD


def csrf_of(client) -> str:
    """The CSRF token the sign-in form carries (and, once set, the `_csrf_token` cookie dash-renderer echoes)."""
    page = client.get("/login").data.decode()
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, username: str, password: str = DEMO_PASSWORD, **extra):
    return client.post(
        "/auth/login", data={"username": username, "password": password, "csrf_token": csrf_of(client), **extra}
    )


def sign_out(client):
    return client.post("/auth/logout", data={"csrf_token": csrf_of(client)})


def callback_headers(client) -> dict[str, str]:
    """What dash-renderer sends with a callback: the token of the `_csrf_token` cookie."""
    cookie = client.get_cookie("_csrf_token")
    if cookie is None:
        client.get("/login")
        cookie = client.get_cookie("_csrf_token")
    return {"X-CSRFToken": cookie.value}


def district_figures(client, code):
    """The district page's figures callback, as dash-renderer posts it, for district `code`."""
    outs = [("district-kpis", "children"), ("district-squads", "children"), ("district-departments", "children")]
    return client.post(
        "/_dash-update-component",
        json={
            "output": ".." + "...".join(f"{i}.{p}" for i, p in outs) + "..",
            "outputs": [{"id": i, "property": p} for i, p in outs],
            "inputs": [{"id": "district-period", "property": "value", "value": "30d"},
                       {"id": "district-tick", "property": "n_intervals", "value": None}],
            "state": [{"id": "district-code", "property": "data", "value": code}],
            "changedPropIds": [],
        },
        headers=callback_headers(client),
    )  # fmt: skip
