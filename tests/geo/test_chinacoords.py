import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import chinacoords as cc

# Reference values published with wandergis/coordTransform (README) and eviltransform's tests
P = (116.404, 39.915)
WGS_TO_GCJ = (116.41024449916938, 39.91640428150164)
GCJ_TO_BD = (116.41036949371029, 39.92133699351021)
BD_TO_GCJ_APPROX = (116.39762729119315, 39.90865673957631)  # their closed-form inverse is approximate


def test_forward_matches_published_reference():
    assert cc.wgs84_to_gcj02(*P) == pytest.approx(WGS_TO_GCJ, abs=1e-12)
    assert cc.gcj02_to_bd09(*P) == pytest.approx(GCJ_TO_BD, abs=1e-12)


def test_exact_inverse_is_within_decimetres_of_the_published_approximation():
    lon, lat = cc.bd09_to_gcj02(*P)
    assert _metres(lon, lat, *BD_TO_GCJ_APPROX) < 0.1
    assert cc.gcj02_to_bd09(lon, lat) == pytest.approx(P, abs=1e-10)


def test_offset_in_xiamen_is_hundreds_of_metres():
    lon, lat = cc.wgs84_to_gcj02(118.089, 24.479)
    dx = (lon - 118.089) * 111_320 * np.cos(np.radians(24.479))
    dy = (lat - 24.479) * 110_574
    assert 300 < np.hypot(dx, dy) < 700


def _metres(lon1, lat1, lon2, lat2):
    return np.hypot((lon1 - lon2) * 111_320 * np.cos(np.radians(lat1)), (lat1 - lat2) * 110_574)


china = st.tuples(st.floats(73.0, 135.0), st.floats(18.0, 53.0))


@given(china)
def test_gcj02_round_trip_under_a_centimetre(p):
    back = cc.gcj02_to_wgs84(*cc.wgs84_to_gcj02(*p))
    assert _metres(*p, *back) < 0.01


@given(china)
def test_bd09_round_trip_under_a_centimetre(p):
    back = cc.bd09_to_wgs84(*cc.wgs84_to_bd09(*p))
    assert _metres(*p, *back) < 0.01


@given(st.tuples(st.floats(-180.0, 70.0), st.floats(-80.0, 80.0)))
def test_identity_outside_china(p):
    lon, lat = cc.wgs84_to_gcj02(*p)
    assert (float(lon), float(lat)) == p
    lon2, lat2 = cc.gcj02_to_wgs84(*p)
    assert (float(lon2), float(lat2)) == p


def test_vectorised_equals_scalar():
    lon = np.array([118.0, 118.1, 10.0])
    lat = np.array([24.4, 24.5, 50.0])
    vx, vy = cc.wgs84_to_gcj02(lon, lat)
    for k in range(3):
        sx, sy = cc.wgs84_to_gcj02(lon[k], lat[k])
        assert (vx[k], vy[k]) == (sx, sy)
