"""Layer versions (preview, apply, re-resolve in one transaction) and case import/export, on both stores."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from dispatch import layers as lay
from dispatch.io import export_cases, import_cases
from dispatch.table import Labels
from geo.errors import InvalidInput
from store.models import NewCase
from tests.dispatch.conftest import CAL, NOW

pytestmark = pytest.mark.slow


def _merged_cells(city, tmp_path):
    """A grid change: one cell merged into its neighbour; returns (file, gone cell, absorbing cell, a point)."""
    cells = city.layers["grid_cells"]
    row = cells.iloc[3000]
    same = cells[(cells["community_code"] == row["community_code"]) & (cells["code"] != row["code"])]
    nb = same[same.geometry.touches(row.geometry)].iloc[0]
    new = cells[cells["code"] != row["code"]].copy()
    new.loc[new["code"] == nb["code"], "geometry"] = shapely.union(nb.geometry, row.geometry)
    path = tmp_path / "cells.gpkg"
    new[["code", "community_code", "geometry"]].to_file(path)
    p = shapely.point_on_surface(row.geometry)
    return path, row["code"], nb["code"], (p.x, p.y)


def test_preview_then_apply_reowns_open_cases(wf, store, city, tmp_path):
    path, gone, into, (x, y) = _merged_cells(city, tmp_path)
    sup = store.add_user("sup", "password1", "supervisor")
    moved = wf.report(sup, NewCase("06036", x, y, "supervisor", NOW))
    closed = wf.report(sup, NewCase("06036", x, y, "supervisor", NOW))
    closed = wf.act(sup, closed.id, "self_handle", closed.version)
    assert moved.cell == gone
    gdf = lay.read_layer_file(path, "grid_cells", city=city)
    changes = lay.preview(store, city, "grid_cells", gdf, NOW)
    assert [c.case.id for c in changes] == [moved.id] and changes[0].after.cell == into
    assert store.get_case(moved.id).cell == gone  # preview writes nothing
    version, _ = lay.apply(store, city, "grid_cells", gdf, path, "admin", NOW)
    assert (version.layer, version.version, version.reassigned) == ("grid_cells", 1, 1)
    after = store.get_case(moved.id)
    assert after.cell == into and after.ownership["cell"] == into
    assert after.ownership["layer_version"].startswith("city:") and after.ownership["layer_version"].endswith(
        "grid_cells:v1"
    )
    assert lay.version_label(store, city, NOW).endswith(";grid_cells:v1")
    ev = store.events(moved.id)[-1]
    assert ev.action == "reassign" and ev.before["cell"] == gone and "grid_cells version 1" in ev.reason
    assert store.get_case(closed.id).cell == gone  # closed cases keep the owner they were closed with
    rebuilt = lay.current_city(store, city, NOW)
    assert gone not in set(rebuilt.layers["grid_cells"]["code"])
    assert len(store.layer_features(version.id)) == len(city.layers["grid_cells"]) - 1


def test_bad_layer_files_are_refused(city, tmp_path):
    vz = city.layers["vendor_zones"].copy()
    vz.drop(columns="hours").to_file(tmp_path / "nohours.gpkg")
    with pytest.raises(InvalidInput, match="needs the field"):
        lay.read_layer_file(tmp_path / "nohours.gpkg", "vendor_zones", city=city)
    bow = vz.copy()
    bow.loc[bow.index[2], "geometry"] = shapely.Polygon(
        [(118.0, 24.5), (118.01, 24.51), (118.01, 24.5), (118.0, 24.51)]
    )
    bow.to_file(tmp_path / "bow.gpkg")
    with pytest.raises(InvalidInput, match=f"feature 2 \\(id {vz['id'].iloc[2]}\\) has invalid geometry"):
        lay.read_layer_file(tmp_path / "bow.gpkg", "vendor_zones", city=city)
    repaired = lay.read_layer_file(tmp_path / "bow.gpkg", "vendor_zones", repair=True, city=city)
    assert shapely.is_valid(repaired.geometry.values).all()
    with pytest.raises(InvalidInput, match="cannot be replaced"):
        lay.read_layer_file(tmp_path / "bow.gpkg", "land", city=city)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_gcj02_layer_is_shifted_back(city, tmp_path):
    from geo.chinacoords import wgs84_to_gcj02

    vz = city.layers["vendor_zones"].iloc[:5].copy()
    shifted = vz.copy()
    shifted["geometry"] = shapely.transform(
        vz.geometry.values, lambda c: __import__("numpy").column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1]))
    )
    shifted.set_crs(None, allow_override=True).to_file(tmp_path / "gcj.geojson")
    back = lay.read_layer_file(tmp_path / "gcj.geojson", "vendor_zones", crs_text="gcj02", city=city)
    assert shapely.hausdorff_distance(back.geometry.values[0], vz.geometry.values[0]) < 1e-8


def test_import_and_export_cases(wf, store, tmp_path):
    csv = tmp_path / "in.csv"
    csv.write_text(
        "matter,wkt,source,time,description\n"
        "06010,POINT (118.13 24.50),hotline,2026-11-27 09:00,垃圾\n"
        "9006,POINT (118.14 24.49),citizen,2026-11-27 19:30,摆摊\n",
        encoding="utf-8",
    )
    assert import_cases(wf, csv, None, "importer") == 2
    cases = store.cases()
    assert {c.matter for c in cases} == {"06010", "09006"} and all(c.case_no.startswith("B") for c in cases)
    assert store.events(cases[0].id)[0].action == "import"
    labels = Labels("en", CAL.tz, {"matter": {"06010": "Exposed garbage"}, "state": {"reported": "reported!"}})
    for fmt, name in (
        ("csv", "c.csv"),
        ("geojson", "c.geojson"),
        ("gpkg", "c.gpkg"),
        ("fgb", "c.fgb"),
        ("shp", "c.shp"),
    ):
        assert export_cases(cases, tmp_path / name, fmt, labels) == 2
    back = gpd.read_file(tmp_path / "c.gpkg")
    assert set(back["case_no"]) == {c.case_no for c in cases} and back.crs.to_epsg() == 4326
    assert "trace" in back["ownership"].iloc[0]  # the GeoPackage keeps the whole answer, trace and all
    shp = gpd.read_file(tmp_path / "c.shp")
    assert {"matter_nm", "reason", "boundary_m", "layer_ver"} <= set(shp.columns)
    csv_rows = pd.read_csv(tmp_path / "c.csv", dtype=str, encoding="utf-8-sig").set_index("matter")
    assert csv_rows["wkt"].str.startswith("POINT").all()
    # the local time of the file (no zone given: the city's), written back in the city's zone with its offset
    assert csv_rows.loc["09006", "reported_at"] == "2026-11-27T19:30:00+08:00"
    assert csv_rows.loc["06010", "reported_at"] == "2026-11-27T09:00:00+08:00"
    assert csv_rows.loc["06010", "matter_name"] == "Exposed garbage" and csv_rows.loc["09006", "matter_name"] == "09006"
    assert (csv_rows["state_name"] == "reported!").all()
    assert "ownership" not in csv_rows.columns and "trace" not in (tmp_path / "c.csv").read_text(encoding="utf-8")
    reasons = {r.rule: r.reason_en for r in wf.engine.city.rules}  # the deciding rule's reason, in English
    assert csv_rows["rule"].notna().all() and (csv_rows["rule_reason"] == csv_rows["rule"].map(reasons)).all()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("matter,lon,lat\n06010,118.13,24.50\n12345,118.13,24.50\n", "unknown matter codes at rows 3"),
        ("matter,lon,lat\n06010,24.50,118.13\n", "swapped"),
        ("matter,lon,lat\n06010,2.35,48.85\n", "outside the city"),
        ("matter,lon,lat\n06010,abc,24.5\n", "unparsable or missing coordinates at row 2"),
        ("matter,lon,lat,source\n06010,118.13,24.50,rumour\n", "unknown sources"),
        ("matter,lon,lat,time\n06010,118.13,24.50,yesterday-ish\n", "unparsable time"),
        ("x,y\n1,2\n", "no column .lon."),
    ],
)
def test_bad_case_files_change_nothing(wf, store, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=message):
        import_cases(wf, path, None, "importer")
    assert store.cases() == []


def test_lawful_rows_are_not_imported(wf, store, city, tmp_path):
    # the second row is trading inside a vendor point during its hours: lawful, no case; nothing is imported
    zones = city.layers["vendor_zones"]
    p = shapely.point_on_surface(zones[zones["hours"] == "18:00-01:00"].geometry.iloc[0])
    path = tmp_path / "in.csv"
    path.write_text(
        f"matter,lon,lat,time\n09006,{p.x},{p.y},2026-11-27 10:00\n09006,{p.x},{p.y},2026-11-27 19:30\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match="rows 3 are lawful"):
        import_cases(wf, path, None, "importer")
    assert store.cases() == []
