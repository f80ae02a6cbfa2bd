import numpy as np
import pytest

from geo.crs import check_points, from_wgs84, parse_crs, require_same_crs, to_wgs84
from geo.errors import CRSMismatchError, InvalidInput

XIAMEN = (117.8, 24.3, 118.6, 25.0)


@pytest.mark.parametrize("name", ["wgs84", "WGS84", "EPSG:4326", "epsg:4548", "gcj02", "bd09", "cgcs2000"])
def test_parse_known(name):
    parse_crs(name)


@pytest.mark.parametrize("name", ["EPSG:999999", "mars", ""])
def test_parse_unknown_says_what_is_accepted(name):
    with pytest.raises(InvalidInput, match="unknown CRS"):
        parse_crs(name)


@pytest.mark.parametrize("name", ["gcj02", "bd09", "EPSG:4548", "EPSG:3857"])
def test_to_and_from_wgs84_round_trip(name):
    crs = parse_crs(name)
    lon, lat = np.array([118.08, 118.3]), np.array([24.48, 24.7])
    x, y = from_wgs84(lon, lat, crs)
    back = to_wgs84(x, y, crs)
    np.testing.assert_allclose(back[0], lon, atol=1e-9)
    np.testing.assert_allclose(back[1], lat, atol=1e-9)


def test_crs_mismatch_raises():
    require_same_crs("EPSG:4326", "EPSG:4326", "x")
    with pytest.raises(CRSMismatchError, match="EPSG:4548"):
        require_same_crs("EPSG:4548", "EPSG:4326", "the layer")
    with pytest.raises(CRSMismatchError, match="no CRS"):
        require_same_crs(None, "EPSG:4326", "the layer")


def test_check_points_flags_swapped_outside_invalid():
    lon = np.array([118.1, 24.5, 2.35, np.nan, 500.0])
    lat = np.array([24.5, 118.1, 48.85, 24.5, 24.5])
    c = check_points(lon, lat, XIAMEN)
    assert c.swapped.tolist() == [False, True, False, False, False]
    assert c.outside.tolist() == [False, False, True, False, False]
    assert c.invalid.tolist() == [False, False, False, True, True]
