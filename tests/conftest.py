"""Shared fixtures. The demo city is built once per test session (per xdist worker that needs it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("XIUHUA_PASSWORD_PROFILE", "cheapest")  # fast, weak hashes: tests only
DATA = ROOT / "data"
DEMO_PASSWORD = "xiuhua-demo"


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
        if {"city_gpkg", "city", "engine", "city_data_dir", "demo_env"} & set(getattr(item, "fixturenames", ())):
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


# -- stores: the same tests run against both backends ----------------------------------------------
PG_ADMIN_URL = os.environ.get("XIUHUA_TEST_POSTGRES", "postgresql+psycopg://root@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgis_url():
    """A fresh PostGIS database for this session (dropped afterwards); skips where PostGIS is unavailable."""
    import sqlalchemy as sa

    name = f"xiuhua_test_{os.getpid()}"
    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        db = sa.create_engine(url)
        with db.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        db.dispose()
    except Exception as exc:  # no server, no PostGIS package: skip (a failure under CI=true)
        pytest.skip(f"PostGIS unavailable: {exc}")
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def _fresh(kind: str, request, tmp_path):
    from store import migrate
    from store.registry import open_store
    from tests.pgutil import empty_database

    if kind == "embedded":
        url = f"sqlite:///{tmp_path / 'xiuhua.sqlite'}"
    else:
        url = request.getfixturevalue("postgis_url")
        empty_database(url)
    store = open_store(url, check=False)
    migrate.upgrade(store.engine)
    store.check_schema()
    return store


@pytest.fixture(params=["embedded", "postgis"])
def store(request, tmp_path):
    s = _fresh(request.param, request, tmp_path)
    yield s
    s.close()


@pytest.fixture(scope="session")
def city_data_dir(city_gpkg, tmp_path_factory) -> Path:
    """A data directory whose xiamen city is the session's fresh build (for commands that read XIUHUA_DATA_DIR)."""
    root = tmp_path_factory.mktemp("data")
    (root / "xiamen" / "build").mkdir(parents=True)
    for src in (DATA / "xiamen").iterdir():
        if src.is_file():
            (root / "xiamen" / src.name).symlink_to(src)
    (root / "catalog").symlink_to(DATA / "catalog")
    (root / "xiamen" / "build" / "city.gpkg").symlink_to(city_gpkg)
    return root


@pytest.fixture(scope="session")
def demo_env(city_data_dir, tmp_path_factory) -> dict[str, str]:
    """XIUHUA_* settings for a seeded embedded store beside the session's fresh city build."""
    from datetime import UTC, datetime, timedelta

    from cities.config import load_config
    from dispatch.context import open_workflow
    from dispatch.demo import seed_demo
    from dispatch.media import PhotoStore
    from store import migrate
    from store.registry import open_store

    var = tmp_path_factory.mktemp("var")
    url = f"sqlite:///{var / 'xiuhua.sqlite'}"
    store = open_store(url, check=False)
    migrate.upgrade(store.engine)
    wf = open_workflow(store, load_config("xiamen", city_data_dir))
    # with the demo's synthetic photos, kept where the app looks for them (XIUHUA_VAR_DIR/media)
    seed_demo(wf, 1500, 4, datetime.now(UTC) - timedelta(minutes=5), 7, DEMO_PASSWORD, media=PhotoStore(var / "media"))
    _requests_waiting(wf)
    _filed_waiting(wf)
    _checks_waiting(wf)
    store.close()
    return {
        "XIUHUA_DATA_DIR": str(city_data_dir),
        "XIUHUA_VAR_DIR": str(var),
        "XIUHUA_DATABASE_URL": url,
        "XIUHUA_CITY": "xiamen",
        "XIUHUA_SECRET_KEY": "test-secret",
        "XIUHUA_PASSWORD_PROFILE": "cheapest",
    }


def _requests_waiting(wf) -> None:
    """Two requests waiting for the dispatcher, whatever the hour the history ends at (pages and browser tests
    open the console's "to approve" tab)."""
    from store.models import User

    for case in wf.store.cases(states=["dispatched"])[:2]:
        unit = User(0, f"unit.{case.assignee}", "", "unit", (), case.assignee)
        wf.act(unit, case.id, "request_extension", case.version, reason="需要协调其他部门 (test)", hours=4)


def _filed_waiting(wf, n: int = 12) -> None:
    """At least `n` cases waiting for dispatch, whatever the hour the history ends at (a history ending at
    night has few: the console's tests dispatch some of them)."""
    from datetime import UTC, datetime, timedelta

    from store.models import NewCase

    acceptor, lead = wf.store.get_user("acceptor"), wf.store.get_user("shiftlead")
    missing = n - len(wf.store.cases(states=["filed"]))
    for case in wf.store.cases(states=["closed"])[: max(0, missing)]:
        at = datetime.now(UTC) - timedelta(hours=1)
        new = NewCase("06036", case.lon, case.lat, "supervisor", at, "（合成演示数据）waiting for dispatch (test)")
        report = wf.report(acceptor, new)
        wf.act(lead, report.id, "file", report.version)


def _checks_waiting(wf, n: int = 2) -> None:
    """Cases handled by their unit and waiting for a check, whatever the hour (a night's history has none)."""
    from store.models import User

    if wf.store.cases(states=["handled", "checking", "checked"]):
        return
    dispatched = [c for c in wf.store.cases(states=["dispatched"]) if c.matter not in wf.stages]
    for case in dispatched[:n]:
        unit = User(0, f"unit.{case.assignee}", "", "unit", (), case.assignee)
        wf.act(unit, case.id, "feedback", case.version)


@pytest.fixture(scope="session")
def app(demo_env):
    """One app per test process (Dash imports the page modules once), on the seeded demo store."""
    from app import create_app
    from settings import Settings

    return create_app(Settings.from_env(demo_env))


@pytest.fixture
def client(app):
    return app.server.test_client()
