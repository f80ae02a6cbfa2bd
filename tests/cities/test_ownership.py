"""Ownership on the demo city: scenarios, bulk == single, agreement with geopandas."""

from datetime import datetime

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import InvalidInput

pytestmark = pytest.mark.slow
NOON = datetime(2026, 11, 27, 12, 0)


def _inside(gdf, n=0):
    p = shapely.point_on_surface(gdf.geometry.values[n])
    return p.x, p.y


def test_point_in_a_cell_nests_and_names_its_owners(engine, city):
    cell = city.layers["grid_cells"].iloc[1234]
    o = engine.resolve(*_inside(city.layers["grid_cells"], 1234), "06010", NOON)
    assert o.cell == cell["code"]
    assert (o.community, o.subdistrict, o.district) == (cell["code"][:12], cell["code"][:9], cell["code"][:6])
    assert o.lead_department == "SZYL"
    assert o.squad is None and o.rule == "department-only"  # exposed garbage: sanitation, not a squad
    assert o.trace[-1].applies and all(not s.applies for s in o.trace[:-1])
    assert o.trace[-1].zh and o.trace[-1].en


def test_street_vending_inside_a_vendor_point_in_and_out_of_hours(engine, city):
    vz = city.layers["vendor_zones"]
    row = vz[vz["hours"] == "17:30-23:30"].iloc[0]
    lon, lat = _inside(vz, int(np.flatnonzero(vz["id"] == row["id"])[0]))
    open_ = engine.resolve(lon, lat, "09006", datetime(2026, 11, 27, 19, 0))
    assert open_.vendor_zone == row["id"] and open_.vendor_zone_open
    assert open_.flag == "lawful_in_zone" and open_.squad is None
    closed = engine.resolve(lon, lat, "09006", datetime(2026, 11, 27, 10, 0))
    assert closed.vendor_zone_open is False and closed.flag == "outside_hours"
    assert closed.squad == f"SQ{closed.subdistrict}"


def test_storefront_extension_window(engine, city):
    lon, lat = _inside(city.layers["storefront_zones"])
    assert engine.resolve(lon, lat, "09005", datetime(2026, 11, 27, 12, 0)).flag == "lawful_in_zone"
    assert engine.resolve(lon, lat, "09005", datetime(2026, 11, 27, 15, 0)).flag == "outside_hours"


def test_illegal_construction_goes_to_the_district_lianwei_squad(engine, city):
    lon, lat = _inside(city.layers["grid_cells"], 500)
    o = engine.resolve(lon, lat, "06001", NOON)
    squads = city.layers["squads"].set_index("id")
    assert squads.loc[o.squad, "type"] == "lianwei" and squads.loc[o.squad, "district_code"] == o.district


def test_model_street_custodian(engine, city):
    ms = city.layers["model_streets"]
    lon, lat = _inside(ms)
    o = engine.resolve(lon, lat, "06036", NOON)  # piled sundries: a squad matter
    assert o.model_street == ms["id"].iloc[0]
    assert o.squad == ms["custodian_squad"].iloc[0] and o.rule == "model-street"


def test_sea_point_has_a_district_but_no_cell(engine, city):
    sea = shapely.difference(city.layers["districts"].geometry.values[0], city.layers["land"].geometry.values[0])
    p = shapely.point_on_surface(sea)
    o = engine.resolve(p.x, p.y, "06010", NOON)
    assert o.district == city.layers["districts"]["code"].iloc[0] and o.cell is None and o.subdistrict is None


def test_a_report_beyond_the_land_goes_to_the_nearest_subdistrict_of_its_district(engine, city):
    # a pier or a beach: inside the district, outside its land; the routing table's "offshore" rule (data) names
    # the squad of the district's nearest sub-district, and the trace says so
    districts = city.layers["districts"]
    sea = shapely.difference(districts.geometry.values[0], city.layers["land"].geometry.values[0])
    p = shapely.point_on_surface(sea)
    o = engine.resolve(p.x, p.y, "06036", NOON)
    subs = city.layers["subdistricts"]
    subs = subs[subs["district_code"] == o.district].to_crs(city.metric_crs)
    here = gpd.GeoSeries([p], crs="EPSG:4326").to_crs(city.metric_crs).iloc[0]
    nearest = subs.iloc[int(subs.distance(here).to_numpy().argmin())]["code"]
    assert o.rule == "offshore" and o.squad == f"SQ{nearest}" and o.trace[-1].applies
    assert "最近的街道" in o.trace[-1].zh
    row = engine.resolve_many([p.x], [p.y], ["06036"], [NOON]).iloc[0]
    assert row["squad"] == o.squad and engine.row_to_ownership(row) == o
    # a department-only matter there stays with its department, as on land
    assert engine.resolve(p.x, p.y, "06010", NOON).squad is None


def test_outside_the_city_nothing(engine):
    o = engine.resolve(2.35, 48.85, "06010", NOON)
    assert (o.district, o.cell, o.squad) == (None, None, None)


def test_unknown_matter_is_refused(engine):
    with pytest.raises(InvalidInput, match="unknown matter"):
        engine.resolve(118.1, 24.5, "12345", NOON)


def test_boundary_distance_is_metric_and_small_near_a_shared_edge(engine, city):
    comm = city.layers["communities"]
    a = comm.geometry.values[0]
    # a vertex of a community that another community shares is on a boundary: distance ~0
    coords = shapely.get_coordinates(a)
    shared = [c for c in coords if shapely.intersects(comm.geometry.values[1:], shapely.Point(c)).any()]
    o = engine.resolve(float(shared[0][0]), float(shared[0][1]), "06010", NOON)
    assert o.boundary_distance_m == pytest.approx(0, abs=1e-6)


def _vertex_points(city, n):
    coords = shapely.get_coordinates(city.layers["grid_cells"].geometry.values[:: max(1, 68000 // n)])
    return coords


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.floats(117.85, 118.45), st.floats(24.40, 24.92)), min_size=1, max_size=40),
    st.integers(0, 24 * 60 - 1),
    st.sampled_from(["06010", "09006", "09005", "06001", "07003", "06036", "99001"]),
    st.integers(0, 10_000),
)
def test_bulk_equals_single(engine, city, pts, minute, matter, vertex_pick):
    vx = _vertex_points(city, 2000)
    pts = [*pts, tuple(vx[vertex_pick % len(vx)])]  # a point exactly on cell vertices: the boundary rule
    zones = city.layers["vendor_zones"].geometry.values
    pts.append(_inside(city.layers["vendor_zones"], vertex_pick % len(zones)))
    lon = np.array([p[0] for p in pts])
    lat = np.array([p[1] for p in pts])
    at = datetime(2026, 11, 27, minute // 60, minute % 60)
    df = engine.resolve_many(lon, lat, np.full(len(lon), matter), np.full(len(lon), np.datetime64(at)))
    for k, row in df.iterrows():
        bulk = engine.row_to_ownership(row)
        single = engine.resolve(float(lon[k]), float(lat[k]), matter, at)
        assert bulk == single


def test_memberships_agree_with_geopandas_sjoin(engine, city):
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = city.layers["districts"].total_bounds
    lon = rng.uniform(minx, maxx, 20_000)
    lat = rng.uniform(miny, maxy, 20_000)
    found = engine.memberships(lon, lat)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    for name, idx in engine.index.items():
        layer = city.layers[name]
        field = "code" if name in ("districts", "grid_cells") else "id"
        j = gpd.sjoin(pts, layer[[field, "geometry"]], predicate="within", how="left")
        j = j[~j.index.duplicated()]
        expect = j[field].fillna("").to_numpy()
        got = np.where(found[name] >= 0, idx.ids[np.maximum(found[name], 0)], "")
        assert (got == expect).all(), name
