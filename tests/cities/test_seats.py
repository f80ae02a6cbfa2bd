"""Sub-districts are drawn around their real seats: each seat lies in its own sub-district, islands are whole."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.chinacoords import gcj02_to_wgs84

pytestmark = pytest.mark.slow

# seats no sub-district can hold, with the reason (README.md, SOURCES.md): none today
OFF_LAND: dict[str, str] = {}


@pytest.fixture(scope="module")
def seats(city_config):
    return pd.read_csv(city_config.sources["subdistrict_seats"], dtype={"code": str})


def _land_parts(city, district: str) -> np.ndarray:
    land = city.layers["land"]
    return shapely.get_parts(land.loc[land["code"] == district].geometry.values)


def _subdistricts_on(city, part) -> pd.Series:
    """Area (m², metric CRS) of each sub-district's land on a land part."""
    subs = city.layers["subdistricts"]
    inter = gpd.GeoSeries(shapely.intersection(subs.geometry.values, part), crs=subs.crs).to_crs("EPSG:4548")
    return pd.Series(inter.area.to_numpy(), index=subs["code"]).loc[lambda s: s > 1.0]


def test_every_seat_lies_in_its_own_subdistrict(city, seats):
    subs = city.layers["subdistricts"]
    pts = gpd.GeoSeries(gpd.points_from_xy(seats["lon"], seats["lat"]), crs="EPSG:4326")
    hit = subs.sindex.query(pts, predicate="within")
    holder = pd.Series(subs["code"].to_numpy()[hit[1]], index=hit[0]).reindex(range(len(seats)))
    wrong = {c: h for c, h in zip(seats["code"], holder, strict=True) if c != h and c not in OFF_LAND}
    assert wrong == {}  # seat code -> the sub-district it fell in
    assert sorted(seats["code"]) == sorted(subs["code"])  # every sub-district has a seat


def test_seats_are_the_converted_source_points(seats):
    """The WGS84 columns are the GCJ-02 source points converted; approximate rows have no source point."""
    src = seats.dropna(subset=["gcj02_lon"])
    lon, lat = gcj02_to_wgs84(src["gcj02_lon"].to_numpy(), src["gcj02_lat"].to_numpy())
    assert np.abs(lon - src["lon"].to_numpy()).max() < 1e-6 and np.abs(lat - src["lat"].to_numpy()).max() < 1e-6
    assert set(seats["method"]) <= {"town_point", "predecessor_point", "community_mean", "approximate"}
    assert seats.loc[seats["method"] == "approximate", "gcj02_lon"].isna().all()


@pytest.mark.parametrize(
    ("district", "subdistrict", "islands"),
    [
        ("350203", "350203012", {"Gulangyu": (118.0597, 24.4481)}),
        (
            "350213",
            "350213001",
            {"Dadeng": (118.3208, 24.5566), "Xiaodeng": (118.3826, 24.5590), "Jiaoyu": (118.4029, 24.5529)},
        ),
    ],
)
def test_islands_belong_wholly_to_their_subdistrict(city, district, subdistrict, islands):
    parts = _land_parts(city, district)
    for name, (lon, lat) in islands.items():
        part = [p for p in parts if shapely.contains_xy(p, lon, lat)]
        assert len(part) == 1, f"{name} is not on the land mask"
        on_it = _subdistricts_on(city, part[0])
        assert list(on_it.index) == [subdistrict], f"{name}: {on_it.to_dict()}"


# sub-districts whose largest piece is not the one around their seat: 杏林街道's seat is 300 m from 杏滨街道's,
# and its nearest-seat region across 马銮湾 (cut off by the water) is larger than the strip around its seat
STRANDED = {"350211003"}


def test_a_subdistrict_is_whole_around_its_seat(city, seats):
    """The seat's piece is the sub-district's largest (no seat stranded in a detached scrap), but for STRANDED."""
    subs = city.layers["subdistricts"].set_index("code")
    for code, lon, lat in zip(seats["code"], seats["lon"], seats["lat"], strict=True):
        if code in STRANDED:
            continue
        pieces = shapely.get_parts(subs.loc[code].geometry)
        areas = shapely.area(pieces)
        assert shapely.contains_xy(pieces[int(np.argmax(areas))], lon, lat), code
