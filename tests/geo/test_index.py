"""The boundary rule on tiny literal shapes, and lattice look-ups against exact predicates."""

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.crs import transformer
from geo.index import EMPTY, MIXED, LayerIndex
from geo.lattice import Lattice

CRS = "EPSG:4548"


def metric_box(x0, y0, x1, y1):
    tr = transformer(CRS, "EPSG:4326")
    xs, ys = [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]
    lon, lat = tr.transform(xs, ys)
    return shapely.Polygon(zip(lon, lat, strict=True))


@pytest.fixture(scope="module")
def layer():
    """Four polygons around (600000, 2710000): A | B side by side, C below both with a hole, D inside C's hole."""
    a = metric_box(600_000, 2_710_000, 600_150, 2_710_200)
    b = metric_box(600_150, 2_710_000, 600_300, 2_710_200)
    c_outer = metric_box(600_000, 2_709_700, 600_300, 2_710_000)
    hole = metric_box(600_100, 2_709_800, 600_200, 2_709_900)
    c = shapely.Polygon(c_outer.exterior.coords, [hole.exterior.coords])
    d = metric_box(600_120, 2_709_820, 600_180, 2_709_880)
    lattice = Lattice(CRS, 599_900.0, 2_709_600.0, 100.0, 6, 8)
    return LayerIndex(np.array(["B", "A", "C", "D"]), np.array([b, a, c, d]), lattice, lattice.cores())


def _lonlat(x, y):
    lon, lat = transformer(CRS, "EPSG:4326").transform(x, y)
    return float(lon), float(lat)


def _owner(layer, lon, lat):
    x, y = layer.lattice.projection(np.array([lon]), np.array([lat]))
    flat, near = layer.lattice.flat_index(x, y)
    bulk = layer.locate(np.array([lon]), np.array([lat]), flat, near)[0]
    i, j, near_one = layer.lattice.locate_one(*transformer("EPSG:4326", CRS).transform(lon, lat))
    one = layer.locate_one(lon, lat, i, j, near_one)
    assert bulk == one
    return None if bulk < 0 else str(layer.ids[bulk])


def test_interior_points(layer):
    assert _owner(layer, *_lonlat(600_050, 2_710_100)) == "A"
    assert _owner(layer, *_lonlat(600_250, 2_710_100)) == "B"
    assert _owner(layer, *_lonlat(600_050, 2_709_750)) == "C"
    assert _owner(layer, *_lonlat(600_150, 2_709_850)) == "D"  # inside D, inside C's hole
    assert _owner(layer, *_lonlat(600_110, 2_709_810)) is None  # in the hole, outside D
    assert _owner(layer, *_lonlat(599_950, 2_710_100)) is None


@pytest.mark.parametrize(
    ("xy", "expected"),
    [
        ((600_150, 2_710_200), "A"),  # corner shared by A and B: the smaller id wins
        ((600_000, 2_710_000), "A"),  # shared by A and C
        ((600_150, 2_710_000), "A"),  # shared by A, B and C
        ((600_300, 2_710_000), "B"),  # shared by B and C
        ((600_100, 2_709_800), "C"),  # on C's inner ring: C contains its boundary
        ((600_000, 2_710_200), "A"),  # A's outer corner
    ],
)
def test_boundary_rule_on_shared_vertices(layer, xy, expected):
    lon, lat = _lonlat(*xy)  # the same transform that made the polygons' vertices, so exactly on them
    assert _owner(layer, lon, lat) == expected


def test_lattice_classes(layer):
    sq = layer.squares
    assert (sq == EMPTY).any() and (sq == MIXED).any() and (sq >= 0).any()


@settings(max_examples=300, deadline=None)
@given(st.floats(599_900, 600_400), st.floats(2_709_600, 2_710_300))
def test_lattice_answers_equal_exact_predicates(layer, x, y):
    lon, lat = _lonlat(x, y)
    exact = layer.exact(np.array([lon]), np.array([lat]))[0]
    got = _owner(layer, lon, lat)
    assert got == (None if exact < 0 else str(layer.ids[exact]))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 3), st.floats(0, 1))
def test_points_on_polygon_boundaries_follow_the_rule(layer, k, t):
    rings = shapely.get_parts(shapely.boundary(layer.geoms[k]))
    ring = rings[min(int(t * len(rings)), len(rings) - 1)]
    p = shapely.line_interpolate_point(ring, t, normalized=True)
    covering = [str(layer.ids[n]) for n in range(len(layer.ids)) if shapely.intersects(layer.geoms[n], p)]
    got = _owner(layer, p.x, p.y)
    assert got == (min(covering) if covering else None)
