"""One app per test process, on an embedded store seeded with a few days of the demo history."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO_PASSWORD


@pytest.fixture(scope="session")
def app(demo_env):
    from app import create_app
    from settings import Settings

    return create_app(Settings.from_env(demo_env))


@pytest.fixture
def client(app):
    return app.server.test_client()


def sign_in(client, username: str, password: str = DEMO_PASSWORD):
    return client.post("/auth/login", data={"username": username, "password": password})
