"""A layer version must lie on the city: a wrong declared CRS or swapped axes are refused before anything is
stored or re-owned (both stores)."""

import pytest
import shapely
from click.testing import CliRunner

from cli import main

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::RuntimeWarning")]


def _run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in r.output
    return r


def _error(r):
    errors = [line for line in r.output.splitlines() if line.startswith("error:")]
    assert r.exit_code == 2 and len(errors) == 1, r.output
    return errors[0]


@pytest.fixture
def open_case(env, city, tmp_path):
    """An open case inside the first vendor zone, which a misplaced vendor_zones version would re-own."""
    p = shapely.point_on_surface(city.layers["vendor_zones"].geometry.iloc[0])
    src = tmp_path / "case.csv"
    src.write_text(f"matter,lon,lat,time\n09006,{p.x},{p.y},2026-11-26 04:00\n")  # outside every zone's hours
    assert _run("import", "cases", src).exit_code == 0
    (case,) = env.cases()
    assert case.ownership["zones"]["vendor_zone"] == city.layers["vendor_zones"]["id"].iloc[0]
    return case


@pytest.mark.parametrize("command", ["apply", "preview"])
def test_degrees_declared_as_web_mercator_are_refused(env, city, open_case, tmp_path, command):
    zones = city.layers["vendor_zones"]
    path = tmp_path / "vendor.geojson"
    zones.set_crs("EPSG:3857", allow_override=True).to_file(path)  # the numbers are degrees
    error = _error(_run("layers", command, "vendor_zones", path))
    assert "vendor.geojson" in error and f"features 0 (id {zones['id'].iloc[0]})" in error
    assert "outside the city" in error and "EPSG:3857" in error and "--crs wgs84" in error
    assert env.layer_versions() == [] and "vendor_zones" not in _run("layers", "list").output
    assert env.get_case(open_case.id) == open_case


def test_swapped_axes_are_refused(env, city, open_case, tmp_path):
    zones = city.layers["vendor_zones"].copy()
    zones["geometry"] = shapely.transform(zones.geometry.values, lambda xy: xy[:, ::-1])
    path = tmp_path / "swapped.gpkg"
    zones.to_file(path)
    error = _error(_run("layers", "apply", "vendor_zones", path))
    assert "swapped.gpkg" in error and "swapped" in error and f"id {zones['id'].iloc[0]}" in error
    assert env.layer_versions() == [] and env.get_case(open_case.id) == open_case
    # the same zones the right way round are a layer on the city, and are taken
    city.layers["vendor_zones"].to_file(path)
    assert _run("layers", "apply", "vendor_zones", path).exit_code == 0
    assert [v.layer for v in env.layer_versions()] == ["vendor_zones"]
