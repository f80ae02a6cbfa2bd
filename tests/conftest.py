"""Shared fixtures. The demo city is built once per test session (per xdist worker that needs it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


@pytest.fixture(scope="session")
def city_config():
    from cities.config import load_config

    return load_config("xiamen", DATA)


@pytest.fixture(scope="session")
def city_gpkg(city_config, tmp_path_factory) -> Path:
    """A freshly built demo city (never the developer's data/xiamen/build copy)."""
    from cities.build import build_city

    out = tmp_path_factory.mktemp("city") / "city.gpkg"
    return build_city(city_config, lambda _m: None, out)


@pytest.fixture(scope="session")
def city(city_gpkg):
    from geo.ownership import load_city

    return load_city(city_gpkg)


@pytest.fixture(scope="session")
def engine(city):
    from geo.ownership import OwnershipEngine

    return OwnershipEngine(city)


def pytest_collection_modifyitems(config, items):
    # everything that needs the built city runs on one xdist worker, so the city is built once
    for item in items:
        if {"city_gpkg", "city", "engine"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("city"))


def pytest_sessionfinish(session, exitstatus):
    """Under CI=true a skipped test is a failure: PostGIS and browser tests must really run there."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CI=true: {len(skipped)} test(s) skipped; skips are failures in CI", red=True)
        session.exitstatus = 1
