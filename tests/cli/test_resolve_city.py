"""`xiuhua resolve` against the built demo city, and `summary`."""

import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from cli import main

pytestmark = pytest.mark.slow


@pytest.fixture
def env(city_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("XIUHUA_DATA_DIR", str(city_data_dir))
    monkeypatch.setenv("XIUHUA_DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite'}")
    return tmp_path


def _run(*args):
    r = CliRunner().invoke(main, list(args))
    assert "Traceback" not in r.output
    return r


def test_resolve_against_the_city(env, city):
    vz = city.layers["vendor_zones"]
    row = vz[vz["hours"] == "17:30-23:30"].iloc[0]
    p = shapely.point_on_surface(row.geometry)
    pts = env / "pts.csv"
    pts.write_text(
        f"id,lon,lat,matter,time\n1,{p.x},{p.y},09006,2026-11-27 19:00\n2,{p.x},{p.y},06001,2026-11-27 10:00\n"
    )
    out = env / "out.csv"
    r = _run("resolve", "--points", str(pts), "--out", str(out))
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert df["xh_vendor_zone"].tolist() == [row["id"], row["id"]]
    assert df["xh_flag"].iloc[0] == "lawful_in_zone" and df["xh_squad"].iloc[0] == ""
    assert df["xh_rule"].iloc[1] == "illegal-construction" and df["xh_squad"].iloc[1].startswith("SQ")
    assert df["xh_cell"].str.len().tolist() == [15, 15]


def test_swapped_and_missing_matter_are_refused(env):
    pts = env / "swapped.csv"
    pts.write_text("lon,lat,matter\n24.50,118.13,06010\n")
    r = _run("resolve", "--points", str(pts), "--out", str(env / "o.csv"))
    assert r.exit_code == 2 and "swapped" in r.output and "row" in r.output
    pts.write_text("lon,lat\n118.13,24.50\n")
    r = _run("resolve", "--points", str(pts), "--out", str(env / "o.csv"))
    assert r.exit_code == 2 and "--matter" in r.output
    assert not (env / "o.csv").exists()


def test_summary_names_the_layers_and_says_when_the_store_is_not_ready(env):
    r = _run("summary")
    assert r.exit_code == 0 and "grid_cells" in r.output and "xiuhua db upgrade" in r.output
