"""Helpers for the app tests (the app fixture itself is in tests/conftest.py: one per test process)."""

from __future__ import annotations

from tests.conftest import DEMO_PASSWORD


def sign_in(client, username: str, password: str = DEMO_PASSWORD):
    return client.post("/auth/login", data={"username": username, "password": password})
