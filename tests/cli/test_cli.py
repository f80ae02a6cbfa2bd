"""The xiuhua command: happy paths on literal files, and clear errors (exit 2, no traceback) on bad input."""

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from cli import main

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _run(*args):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def squares(tmp_path):
    """Two 0.01-degree squares around Xiamen, ids W and E, in EPSG:4326."""
    gdf = gpd.GeoDataFrame(
        {"name": ["W", "E"], "dept": ["d1", "d2"]},
        geometry=[shapely.box(118.00, 24.50, 118.01, 24.51), shapely.box(118.01, 24.50, 118.02, 24.51)],
        crs="EPSG:4326",
    )
    path = tmp_path / "squares.gpkg"
    gdf.to_file(path)
    return path


@pytest.fixture
def points(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("id,lon,lat\n1,118.005,24.505\n2,118.015,24.505\n3,118.03,24.505\n4,118.01,24.505\n")
    return path


def test_every_command_has_help():
    for cmd in ([], ["build-city"], ["summary"], ["resolve"], ["audit"]):
        r = _run(*cmd, "--help")
        assert r.exit_code == 0 and "Usage" in r.output


def test_resolve_against_layers(tmp_path, squares, points):
    out = tmp_path / "out.csv"
    r = _run(
        "resolve",
        "--points",
        str(points),
        "--layer",
        f"sq={squares}:name",
        "--layer",
        f"dept={squares}:dept",
        "--out",
        str(out),
    )
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert df["sq"].tolist() == ["W", "E", "", "E"]  # the shared edge goes to the id that sorts first: E < W
    assert df["dept"].tolist() == ["d1", "d2", "", "d1"]
    assert list(df.columns[:3]) == ["id", "lon", "lat"]


def test_resolve_gcj02_input_is_shifted_back(tmp_path, squares):
    from geo.chinacoords import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(118.0095, 24.505)  # 50 m west of the W|E edge, written in GCJ-02
    pts = tmp_path / "gcj.csv"
    pts.write_text(f"lon,lat\n{float(lon)},{float(lat)}\n")
    out = tmp_path / "o.csv"
    assert (
        _run(
            "resolve", "--points", str(pts), "--crs", "gcj02", "--layer", f"sq={squares}:name", "--out", str(out)
        ).exit_code
        == 0
    )
    assert pd.read_csv(out)["sq"].tolist() == ["W"]
    # read as WGS84 it would land ~500 m away, in E or beyond
    assert _run("resolve", "--points", str(pts), "--layer", f"sq={squares}:name", "--out", str(out)).exit_code == 0
    assert pd.read_csv(out, keep_default_na=False)["sq"].tolist() != ["W"]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("id,x,y\n1,118.0,24.5\n", ["--lat-col", "y"], "no column 'lon'"),
        ("id,lon,lat\n1,118.0,24.5\n2,abc,24.5\n3,,\n", [], "row 3"),
        ("id,lon,lat\n1,nan,24.5\n", [], "row 2"),
        ("id,lon,lat\n1,118.0,24.5\n", ["--crs", "EPSG:999999"], "unknown CRS"),
    ],
)
def test_bad_points_are_named(tmp_path, squares, content, args, message):
    pts = tmp_path / "bad.csv"
    pts.write_text(content)
    r = _run("resolve", "--points", str(pts), "--layer", f"sq={squares}", *args, "--out", str(tmp_path / "o.csv"))
    assert r.exit_code == 2
    assert message in r.output and ("bad.csv" in r.output or "CRS" in r.output)
    assert not (tmp_path / "o.csv").exists()


def test_invalid_geometry_names_the_feature(tmp_path, points):
    bowtie = shapely.Polygon([(118.0, 24.5), (118.02, 24.52), (118.02, 24.5), (118.0, 24.52)])
    path = tmp_path / "bad.geojson"
    gpd.GeoDataFrame(
        {"id": ["ok", "bow"]}, geometry=[shapely.box(118, 24.5, 118.01, 24.51), bowtie], crs="EPSG:4326"
    ).to_file(path)
    r = _run("resolve", "--points", str(points), "--layer", f"b={path}", "--out", str(tmp_path / "o.csv"))
    assert r.exit_code == 2
    assert "feature 1 (id bow)" in r.output and "invalid geometry" in r.output


def test_unreadable_and_missing_files(tmp_path, points):
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"not a geopackage")
    r = _run("resolve", "--points", str(points), "--layer", f"j={junk}", "--out", str(tmp_path / "o.csv"))
    assert r.exit_code == 2 and "cannot read" in r.output and "junk.gpkg" in r.output
    r = _run("resolve", "--points", str(tmp_path / "nope.csv"), "--layer", f"j={junk}", "--out", "o.csv")
    assert r.exit_code == 2 and "nope.csv" in r.output
    r = _run("resolve", "--points", str(points), "--layer", "nonsense", "--out", "o.csv")
    assert r.exit_code == 2 and "NAME=FILE" in r.output


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_layer_without_crs_is_refused(tmp_path, points):
    shp = tmp_path / "nocrs.shp"
    gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.box(118, 24.5, 118.01, 24.51)]).to_file(shp)
    r = _run("resolve", "--points", str(points), "--layer", f"n={shp}", "--out", str(tmp_path / "o.csv"))
    assert r.exit_code == 2 and "declares no CRS" in r.output


def test_audit_reports_gap_and_overlap(tmp_path):
    layer = gpd.GeoDataFrame(
        {"dept": ["A", "B", "C"]},
        geometry=[
            shapely.box(118.00, 24.50, 118.011, 24.51),
            shapely.box(118.01, 24.50, 118.02, 24.51),
            shapely.box(118.021, 24.50, 118.03, 24.51),
        ],
        crs="EPSG:4326",
    )
    lp, ap = tmp_path / "l.gpkg", tmp_path / "area.geojson"
    layer.to_file(lp)
    gpd.GeoDataFrame(geometry=[shapely.box(118.0, 24.5, 118.03, 24.51)], crs="EPSG:4326").to_file(ap)
    out = tmp_path / "report.geojson"
    r = _run("audit", "--layer", f"depts={lp}:dept", "--area", str(ap), "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "overlap" in r.output and "gap" in r.output
    feats = json.loads(out.read_text())["features"]
    kinds = {f["properties"]["kind"]: f["properties"] for f in feats}
    assert kinds["overlap"]["claimants"] == "A;B"
    assert kinds["gap"]["area_m2"] > 10_000


def test_unknown_city_is_a_clear_error():
    r = _run("build-city", "atlantis")
    assert r.exit_code == 2 and "known cities: xiamen" in r.output
