"""The stores' spatial queries agree with geo/ on the demo city (PostGIS computes them in SQL)."""

from datetime import UTC, datetime

import numpy as np
import pytest
import shapely

from dispatch.workflow import owners_of
from store.models import NewCase

pytestmark = pytest.mark.slow
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def _points_in(poly, n, rng):
    minx, miny, maxx, maxy = poly.bounds
    pad = 0.3 * max(maxx - minx, maxy - miny)  # some just outside, too
    return rng.uniform(minx - pad, maxx + pad, n), rng.uniform(miny - pad, maxy + pad, n)


def test_cases_in_cells_zones_and_viewports_agree_with_geo(store, engine, city):
    rng = np.random.default_rng(11)
    cells = city.layers["grid_cells"].iloc[[100, 5000, 20000, 40000, 60000]]
    zones = city.layers["vendor_zones"].iloc[:3]
    polys = [*cells.geometry.values, *zones.geometry.values]
    lon, lat = zip(*[_points_in(p, 40, rng) for p in polys], strict=True)
    lon, lat = np.concatenate(lon), np.concatenate(lat)
    ids = []
    for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
        o = engine.resolve(x, y, "09006", T0)
        c = store.create_case(NewCase("09006", x, y, "supervisor", T0), owners_of(o, "test"), "reported", "t", T0)
        ids.append((c.id, o))
    for code, poly in zip(cells["code"], cells.geometry.values, strict=True):
        expect = {cid for cid, o in ids if o.cell == code}
        assert expect and {c.id for c in store.cases_in_polygon(poly)} == expect
    for zid, poly in zip(zones["id"], zones.geometry.values, strict=True):
        expect = {cid for cid, o in ids if o.vendor_zone == zid}
        assert expect and {c.id for c in store.cases_in_polygon(poly)} == expect
    box = shapely.bounds(polys[0]).tolist()
    inside = (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])
    assert {c.id for c in store.cases_in_bbox(tuple(box))} == {ids[k][0] for k in np.flatnonzero(inside)}
