"""`xiuhua db upgrade` and `xiuhua users` on both backends."""

import pytest
from click.testing import CliRunner

from cli import main
from tests.pgutil import empty_database


@pytest.fixture(params=["embedded", "postgis"])
def url(request, tmp_path, monkeypatch, city_data_dir):
    monkeypatch.setenv("XIUHUA_DATA_DIR", str(city_data_dir))  # accounts are checked against the built city
    if request.param == "embedded":
        u = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    else:
        u = request.getfixturevalue("postgis_url")
        empty_database(u)
    monkeypatch.setenv("XIUHUA_DATABASE_URL", u)
    return u


def _run(*args, stdin=None):
    r = CliRunner().invoke(main, list(args), input=stdin)
    assert "Traceback" not in r.output
    return r


def test_db_upgrade_then_users(url):
    r = _run("users", "list")
    assert r.exit_code == 2 and "xiuhua db upgrade" in r.output
    assert _run("db", "upgrade").exit_code == 0
    again = _run("db", "upgrade")
    assert again.exit_code == 0 and "current" in again.output
    r = _run(
        "users",
        "add",
        "chen",
        "--role",
        "district_head",
        "--district",
        "350206",
        "--password-stdin",
        stdin="long enough\n",
    )
    assert r.exit_code == 0, r.output
    assert _run("users", "add", "chen", "--role", "wall", "--password-stdin", stdin="long enough\n").exit_code == 2
    r = _run("users", "add", "x", "--role", "mayor", "--password-stdin", stdin="long enough\n")
    assert r.exit_code == 2 and "unknown role" in r.output
    listed = _run("users", "list")
    assert "chen" in listed.output and "district_head" in listed.output and "350206" in listed.output
    r = _run("users", "set", "chen", "--disable", "--all-districts")
    assert r.exit_code == 0 and "disabled" in r.output and "districts all" in r.output
    assert _run("users", "set", "ghost", "--enable").exit_code == 2


def test_unreachable_database_is_one_line(monkeypatch):
    monkeypatch.setenv("XIUHUA_DATABASE_URL", "postgresql+psycopg://root@127.0.0.1:1/nope")
    r = _run("db", "upgrade")
    assert r.exit_code == 2 and "cannot use the database" in r.output


def test_patrol_cells(url, city_gpkg):
    from cities.codes import read_cells

    cells = read_cells(city_gpkg)
    huli = sorted(c for c, d in cells.items() if d == "350206")[:3]
    siming = next(c for c, d in sorted(cells.items()) if d == "350203")
    assert _run("db", "upgrade").exit_code == 0
    add = ("users", "add", "sup.x", "--role", "supervisor", "--district", "350206", "--password-stdin")
    assert _run(*add, stdin="long enough\n").exit_code == 0
    r = _run("users", "set", "sup.x", "--cells", ",".join(huli))
    assert r.exit_code == 0 and "3 patrol cells" in r.output, r.output
    listed = _run("users", "list")
    assert "sup.x" in listed.output and " 3 " in listed.output
    r = _run("users", "set", "sup.x", "--cells", f"{huli[0]},{siming}")
    assert r.exit_code == 2 and siming in r.output and "outside the account's districts" in r.output
    r = _run("users", "set", "sup.x", "--cells", "9999")
    assert r.exit_code == 2 and "unknown grid cell '9999'" in r.output
    assert _run("users", "set", "sup.x").exit_code == 2  # nothing to change
    r = _run("users", "set", "sup.x", "--cells", "")
    assert r.exit_code == 0 and "0 patrol cells" in r.output
    add = ("users", "add", "w", "--role", "wall", "--password-stdin")
    assert _run(*add, stdin="long enough\n").exit_code == 0
    r = _run("users", "set", "w", "--cells", huli[0])
    assert r.exit_code == 2 and "only inspectors" in r.output
