import numpy as np
import pytest
import shapely

from geo.crs import transformer
from geo.errors import BuildError
from geo.grid import cut_coverage
from geo.gridcode import cell_codes
from geo.lattice import Lattice

CRS = "EPSG:4548"


def _poly(coords_m):
    lon, lat = transformer(CRS, "EPSG:4326").transform(*zip(*coords_m, strict=True))
    return shapely.Polygon(zip(lon, lat, strict=True))


def test_cut_coverage_nests_exactly():
    # two polygons sharing a slanted edge, cut by a 100 m lattice
    a = _poly([(600_000, 2_710_000), (600_430, 2_710_000), (600_210, 2_710_370), (600_000, 2_710_300)])
    b = _poly([(600_430, 2_710_000), (600_650, 2_710_120), (600_500, 2_710_390), (600_210, 2_710_370)])
    lattice = Lattice(CRS, 599_900.0, 2_709_900.0, 100.0, 9, 7)
    p = cut_coverage(lattice, np.array([a, b]))
    assert shapely.is_valid(p.geometry).all()
    assert shapely.coverage_is_valid(p.geometry)
    for k, poly in enumerate((a, b)):
        union = shapely.coverage_union_all(p.geometry[p.owner == k])
        assert shapely.area(shapely.symmetric_difference(union, poly)) == pytest.approx(0, abs=1e-18)
    # every piece lies in the lattice square it is labelled with (noded vertices on a square's edge may sit
    # a rounding error off it, which is why the coverage, not each square, is the exact reference)
    quads = lattice.quads(p.i, p.j)
    assert shapely.within(shapely.point_on_surface(p.geometry), quads).all()
    assert (shapely.area(shapely.difference(p.geometry, quads)) < 1e-16).all()


def test_cell_codes_run_west_to_east_then_north_to_south():
    comm = np.array(["350203001001"] * 4)
    x = np.array([150.0, 50.0, 150.0, 50.0])
    y = np.array([50.0, 50.0, 150.0, 150.0])
    codes = cell_codes(comm, x, y, np.full(4, 100.0))
    assert codes.tolist() == ["350203001001004", "350203001001003", "350203001001002", "350203001001001"]


def test_serial_overflow_is_an_error_not_a_wrap():
    n = 1000
    comm = np.array(["350203001001"] * n)
    with pytest.raises(BuildError, match="overflow"):
        cell_codes(comm, np.arange(n) * 100.0, np.zeros(n), np.full(n, 100.0))
    ok = cell_codes(comm[:999], np.arange(999) * 100.0, np.zeros(999), np.full(999, 100.0))
    assert ok[-1].endswith("999") and len(set(ok)) == 999


def test_bad_community_code_is_an_error():
    with pytest.raises(BuildError, match="12 digits"):
        cell_codes(np.array(["3502"]), np.zeros(1), np.zeros(1), np.ones(1))
