"""`xiuhua export cases`: a CSV Excel reads as UTF-8, names in the city's language (or --lang), local times."""

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in r.output and r.exit_code == 0, r.output
    return r


@pytest.fixture
def two_cases(store, city_data_dir, tmp_path, monkeypatch):
    """The CLI on the test's store with two imported cases, reported at local times (no zone: the city's)."""
    monkeypatch.setenv("XIUHUA_DATA_DIR", str(city_data_dir))
    monkeypatch.setenv("XIUHUA_DATABASE_URL", store.url)
    monkeypatch.setenv("XIUHUA_VAR_DIR", str(tmp_path / "var"))
    src = tmp_path / "in.csv"
    src.write_text("matter,lon,lat,time\n06010,118.13,24.50,2026-11-27 09:00\n09006,118.14,24.49,2026-11-27 19:30\n")
    _run("import", "cases", src)
    return store


def _read(path):
    assert path.read_bytes().startswith(b"\xef\xbb\xbfid,")
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig").set_index("matter")


def test_export_cases_in_the_citys_language_by_default(two_cases, tmp_path):
    out = tmp_path / "cases.csv"
    _run("export", "cases", "--format", "csv", "--out", out)
    df = _read(out)
    assert df.loc["09006", "reported_at"] == "2026-11-27T19:30:00+08:00"  # as reported, not 11:30 UTC
    assert df.loc["06010", "matter_name"] == "暴露垃圾" and df.loc["09006", "matter_name"] == "占道经营"
    assert (df["state"] == "reported").all() and (df["state_name"] == "已上报").all()
    assert df["district_name"].str.endswith("区").all() and df.loc["09006", "squad_name"] == "莲前街道执法中队"
    assert (df["lead_department_name"] != df["lead_department"]).all()
    assert "ownership" not in df.columns


def test_export_cases_in_english(two_cases, tmp_path):
    out = tmp_path / "cases.xlsx"
    _run("export", "cases", "--format", "xlsx", "--lang", "en", "--out", out)
    df = pd.read_excel(out, dtype=str, keep_default_na=False).set_index("matter")
    assert df.loc["06010", "matter_name"] == "Exposed garbage" and (df["state_name"] == "reported").all()
    assert df.loc["09006", "reported_at"] == "2026-11-27T19:30:00+08:00"
    assert df.loc["09006", "squad_name"] == "Lianqian Subdistrict Enforcement Squad"
    for col in ("district_name", "subdistrict_name", "community_name", "lead_department_name"):
        assert df[col].map(lambda v: v.isascii() and v != "").all(), col
