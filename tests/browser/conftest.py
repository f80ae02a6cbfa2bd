"""Real headless Chromium (Debian's, through chromium-driver) against `xiuhua serve` on 127.0.0.1."""

from __future__ import annotations

import pytest

from bench import browser


@pytest.fixture(scope="session")
def base_url(demo_env):
    reason = browser.missing()
    if reason:
        pytest.skip(reason)  # a failure under CI=true (tests/conftest.py)
    with browser.served(demo_env) as url:
        yield url


@pytest.fixture
def chrome(base_url):
    with browser.chrome(1600, 1000) as driver:
        yield driver
        # every page a test opened: clean console, and nothing fetched from outside this machine
        requests = browser.network(driver)
        assert browser.foreign(requests) == []
        assert browser.console_errors(driver) == []
