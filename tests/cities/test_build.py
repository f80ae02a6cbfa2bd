"""The built demo city: counts, validity, exact nesting, no gaps or overlaps, codes, reproducibility."""

import hashlib
import re

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.audit import audit_layer
from geo.ownership import load_city

pytestmark = pytest.mark.slow


def test_layers_and_counts(city, city_config):
    L = city.layers
    assert len(L["districts"]) == 6
    subs = pd.read_csv(city_config.sources["subdistricts"], dtype=str)
    comms = pd.read_csv(city_config.sources["communities"], dtype=str)
    assert sorted(L["subdistricts"]["code"]) == sorted(subs["code"])
    assert sorted(L["communities"]["code"]) == sorted(comms["code"])
    names = dict(zip(comms["code"], comms["name"], strict=True))
    assert all(names[c] == n for c, n in zip(L["communities"]["code"], L["communities"]["name"], strict=True))
    assert 120 <= len(L["vendor_zones"]) <= 160
    assert L["vendor_zones"]["stalls"].sum() == 3600
    per_district = L["model_streets"].groupby("district_code").size()
    assert set(per_district.index) == set(L["districts"]["code"]) and per_district.between(1, 2).all()
    assert len(L["signboard_segments"]) >= 6
    assert len(L["squads"]) == 54 + 2 * 6


def test_everything_synthetic_is_flagged(city):
    for name, gdf in city.layers.items():
        assert gdf["synthetic"].dtype == bool
        assert gdf["synthetic"].all() == (name not in ("districts", "land")), name


def test_geometry_valid(city):
    for name, gdf in city.layers.items():
        assert shapely.is_valid(gdf.geometry.values).all(), name
        assert gdf.crs.to_epsg() == 4326


def test_cell_codes_well_formed_and_nested(city):
    cells = city.layers["grid_cells"]
    assert cells["code"].is_unique
    assert cells["code"].str.fullmatch(r"\d{15}").all()
    assert (cells["code"].str[:12] == cells["community_code"]).all()
    assert (cells["community_code"].str[:9] == cells["subdistrict_code"]).all()
    assert (cells["subdistrict_code"].str[:6] == cells["district_code"]).all()
    serial = cells["code"].str[12:].astype(int)
    assert serial.min() == 1 and serial.max() <= 999
    # serials are 1..n without holes in each community
    n = cells.groupby("community_code").size()
    assert (cells.groupby("community_code")["serial"].max() == n).all()


def test_cell_sizes_urban_and_rural(city):
    cells = city.layers["grid_cells"].merge(
        city.layers["subdistricts"][["code", "kind", "zone"]], left_on="subdistrict_code", right_on="code"
    )
    assert set(cells.loc[cells["kind"] == "street", "cell_size_m"]) == {100}
    assert set(cells.loc[cells["kind"] == "town", "cell_size_m"]) == {300}
    full = cells[cells["cell_size_m"] == 100]["area_m2"]
    assert full.median() == pytest.approx(10_000, rel=0.01)


@pytest.mark.parametrize(
    ("child", "parent", "key"),
    [
        ("grid_cells", "communities", "community_code"),
        ("communities", "subdistricts", "subdistrict_code"),
        ("subdistricts", "districts", "district_code"),
        ("subdistricts", "land", "district_code"),
    ],
)
def test_exact_nesting(city, child, parent, key):
    c = city.layers[child]
    p = city.layers[parent].set_index("code").geometry
    parents = p.loc[c[key]].values
    assert shapely.covers(parents, c.geometry.values).all()


@pytest.mark.parametrize("level", ["subdistricts", "communities", "grid_cells"])
def test_no_gaps_or_overlaps_over_the_land(city, level):
    land = shapely.union_all(city.layers["land"].geometry.values)
    findings = audit_layer(city.layers[level], "code", city.metric_crs, area=land)
    assert findings[findings["kind"].isin(["gap", "overlap"])].empty, findings.head()
    # and the unions are exactly the land, level by level
    union = shapely.coverage_union_all(city.layers[level].geometry.values)
    assert shapely.area(shapely.symmetric_difference(union, land)) < 1e-14


def test_districts_partition_without_overlap(city):
    d = city.layers["districts"].geometry.values
    for a in range(len(d)):
        for b in range(a + 1, len(d)):
            assert shapely.area(shapely.intersection(d[a], d[b])) == 0


def test_zones_lie_on_land_and_do_not_overlap(city):
    land = shapely.union_all(city.layers["land"].geometry.values)
    for name in ("vendor_zones", "storefront_zones", "model_streets", "signboard_segments"):
        g = city.layers[name].geometry.values
        assert shapely.covers(land, g).all(), name
        tree = shapely.STRtree(g)
        a, b = tree.query(g, predicate="intersects")
        assert (a == b).all(), name


def test_catalogue_tables(city, city_config):
    catalog = pd.read_csv(city_config.sources["matters"], dtype=str)
    assert sorted(city.matters["code"]) == sorted(catalog["code"])
    assert {"99001", "99002"} <= set(city.matters["code"])
    assert city.matters["deadline"].str.fullmatch(r"\d+(\.\d+)?[hd]").all()
    depts = set(city.departments["code"])
    for sup in city.matters["supporting_departments"]:
        assert set(filter(None, sup.split(";"))) <= depts
    assert city.rules[-1].rule == "territorial"
    lianwei = city.layers["squads"][city.layers["squads"]["type"] == "lianwei"]
    assert all("06001" in m and "08016" in m for m in lianwei["matters"])


def test_units_and_matters_have_english_names(city):
    # sub-districts, communities and squads: pinyin and the kind of unit, made by the build
    for layer, key in (("subdistricts", "code"), ("communities", "code"), ("squads", "id")):
        names = city.layers[layer].set_index(key)["name_en"]
        assert names.str.strip().ne("").all() and all(n.isascii() for n in names), layer
        assert names.is_unique or layer == "communities", layer  # two villages may share a name, squads never
    subs = city.layers["subdistricts"].set_index("code")["name_en"]
    assert subs["350203012"] == "Gulangyu Subdistrict" and subs["350213103"] == "Xinxu Town"
    comms = city.layers["communities"].set_index("code")["name_en"]
    assert comms["350203005007"] == "Zengcuo'an Community" and comms["350205001210"] == "Houjing Village"
    squads = city.layers["squads"].set_index("id")["name_en"]
    assert squads["SQ350203001"] == "Xiagang Subdistrict Enforcement Squad"
    assert squads["SQ350203LI"] == "Siming District Illegal Construction Squad"
    # matters: the catalogue's own translations, one per matter, carried into the built city
    en = city.matters.set_index("code")["name_en"]
    assert len(en) == 99 and en.is_unique and all(n.strip() and n.isascii() for n in en)
    assert en["06010"] == "Exposed garbage" and city.matters.set_index("code")["name_zh"]["06010"] == "暴露垃圾"


def test_a_catalogue_without_english_names_is_refused(city_config, tmp_path):
    import dataclasses

    from cities.catalog import load_catalog
    from geo.errors import InvalidInput

    matters = pd.read_csv(city_config.sources["matters"], dtype=str, keep_default_na=False)
    matters.loc[matters["code"] == "06010", "name_en"] = " "
    path = tmp_path / "matters.csv"
    matters.to_csv(path, index=False)
    cfg = dataclasses.replace(city_config, sources={**city_config.sources, "matters": path})
    with pytest.raises(InvalidInput, match=r"no English name \(name_en\) for 06010"):
        load_catalog(cfg)


def test_build_is_reproducible(city_config, city_gpkg, tmp_path):
    from cities.build import build_city

    again = build_city(city_config, lambda _m: None, tmp_path / "again.gpkg")
    first, second = load_city(city_gpkg), load_city(again)
    for name in first.layers:
        a, b = first.layers[name], second.layers[name]
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry")), name
        assert (shapely.to_wkb(a.geometry.values) == shapely.to_wkb(b.geometry.values)).all(), name
    for layer in ("matters", "routing_rules", "city_meta"):
        pa = pyogrio.read_dataframe(city_gpkg, layer=layer, read_geometry=False)
        pb = pyogrio.read_dataframe(again, layer=layer, read_geometry=False)
        assert pa.equals(pb)
    # and byte for byte, since GDAL's timestamps are pinned
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (city_gpkg, again)]
    assert digest[0] == digest[1]


def test_meta_names_its_crs_and_synthetic_note(city):
    assert re.fullmatch(r"EPSG:\d+", city.meta["metric_crs"])
    assert "synthetic" in city.meta["synthetic_note"]
    assert np.isfinite(city.lattice.size_m)
