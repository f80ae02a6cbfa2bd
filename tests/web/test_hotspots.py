"""Hotspots in a map's payload carry their heat class, and the payload carries the scale the legend shows."""

from __future__ import annotations

import pytest

from dispatch.board import View
from layers.cases import COMMON_MAP_PX, heat_of
from pages.maps import values
from web import mapview

pytestmark = pytest.mark.slow


@pytest.fixture
def svc(app):
    from web.services import KEY

    with app.server.test_request_context():
        yield app.server.config[KEY]


def test_hotspots_carry_their_heat_and_the_legend_its_scale(svc):
    bounds = [[24.3, 117.8], [24.8, 118.4]]
    props = mapview.map_props(svc, View(), bounds, 10, svc.workflow.clock())
    spots = [f["properties"] for f in props["hotspots"]["features"]]
    scale = [tuple(pair) for pair in props["heat_scale"]]
    assert spots and scale and props["cases"]["features"] == []
    assert all(p["heat"] == heat_of(p["n"], scale) for p in spots)
    assert max(spots, key=lambda p: p["n"])["heat"] == scale[-1][1]
    legend = values(props)[-1]  # the last output: the legend's heat scale
    assert len(legend[1].children) == len(scale)
    # at street zoom there are incidents, no hotspots, and the legend's scale is empty
    street = mapview.map_props(svc, View(), [[24.45, 118.08], [24.47, 118.1]], 16, svc.workflow.clock())
    assert street["hotspots"]["features"] == [] and street["heat_scale"] == [] and values(street)[-1] == []


def test_a_tall_map_bins_as_a_common_one_a_zoom_level_out(svc):
    # a 4K wall at 100 % shows the city a zoom level in from a 1080p one: it should read the same, as hotspots
    def box(height_px, zoom):
        half = height_px / 2 * 360 / (256 * 2**zoom) * 0.91  # degrees of latitude, near 24.5 N
        return [[24.55 - half, 117.9], [24.55 + half, 118.3]]

    now = svc.workflow.clock()
    common = mapview.map_props(svc, View(), box(COMMON_MAP_PX * 0.9, 12), 12, now)
    wall_4k = mapview.map_props(svc, View(), box(COMMON_MAP_PX * 1.8, 12), 12, now)
    assert common["cases"]["features"] and not common["hotspots"]["features"]
    assert wall_4k["hotspots"]["features"] and not wall_4k["cases"]["features"]
    assert mapview.height_px(mapview.viewport(box(1000, 12)), 12) == pytest.approx(1000, rel=0.01)
