"""The web services without a browser: map payloads per viewport, the console's queue, panel and actions,
and the message catalogue."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import flask
import pytest

from dispatch.board import View
from store.errors import Conflict, Forbidden
from web import console, mapview
from web.i18n import LANGUAGES, catalogue, t

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def svc(app):
    from web.services import KEY

    with app.server.test_request_context():
        yield app.server.config[KEY]


def gz(obj) -> int:
    return len(gzip.compress(json.dumps(obj).encode()))


@pytest.mark.parametrize("zoom", [10, 12, 13.5, 15, 16.5])
def test_a_map_move_stays_small(svc, zoom):
    # a 1920x1080 viewport around the old town, at each zoom: the callback payload and the cells it asks for
    span_lon = 1920 * 360 / (256 * 2**zoom)
    span_lat = 1080 * 360 / (256 * 2**zoom) * 0.91
    bounds = [[24.46 - span_lat / 2, 118.09 - span_lon / 2], [24.46 + span_lat / 2, 118.09 + span_lon / 2]]
    props = mapview.map_props(svc, View(), bounds, zoom, svc.workflow.clock())
    assert props["level"] == ("subdistrict" if zoom < 13 else "community" if zoom < 15 else "cell")
    if props["areas_url"]:  # the URL names a layer the data route serves
        from layers.city import STATIC

        assert props["areas_url"].split("/")[-1].split(".")[0] in STATIC
    size = gz(props)
    if props["cells_url"]:
        box = tuple(float(v) for v in props["cells_url"].split("bbox=")[1].split("&")[0].split(","))
        size += len(gzip.compress(svc.layers.cells(box).encode()))
    assert size < 300_000


def _box(zoom: float, lon: float = 118.09, lat: float = 24.46) -> list[list[float]]:
    span_lon = 1920 * 360 / (256 * 2**zoom)
    span_lat = 1080 * 360 / (256 * 2**zoom) * 0.91
    return [[lat - span_lat / 2, lon - span_lon / 2], [lat + span_lat / 2, lon + span_lon / 2]]


@pytest.mark.parametrize(
    ("zoom", "level"), [(11, None), (12.5, "subdistricts"), (14, "communities"), (16.5, "communities"), (18, "cells")]
)
def test_the_map_names_places_from_mid_zoom(svc, zoom, level):
    # issue 9, item 12b: sub-districts, then communities, then (at the highest zooms) cells' codes, for the view only
    layers = svc.layers
    props = mapview.map_props(svc, View(), _box(zoom), zoom, svc.workflow.clock())
    texts = [f["properties"]["text"] for f in props["labels"]["features"]]
    if level is None:
        assert texts == []
        return
    assert texts and props["labels_hideout"]["kind"] == {"cells": "grid_cells"}.get(level, level)
    if level == "cells":
        assert all(re.fullmatch(r"\d{15}", c) for c in texts)
    else:
        assert set(texts) <= set(layers.names[level].values())
    (s, w), (n, e) = _box(zoom)
    assert all(w <= f["geometry"]["coordinates"][0] <= e and s <= f["geometry"]["coordinates"][1] <= n
               for f in props["labels"]["features"])  # fmt: skip
    assert gz(props["labels"]) < 20_000
    # a scoped view names only its own district's places
    scoped = mapview.map_props(svc, View(districts=("350206",)), _box(zoom), zoom, svc.workflow.clock())
    names = {v: k for k, v in layers.names["subdistricts"].items()}
    if level == "subdistricts":
        assert all(names[f["properties"]["text"]].startswith("350206") for f in scoped["labels"]["features"])
    assert len(scoped["labels"]["features"]) < len(texts)


def test_scoped_views_hold_only_their_district(svc):
    now = svc.workflow.clock()
    props = mapview.map_props(svc, View(districts=("350203",)), [[24.3, 117.8], [24.7, 118.4]], 11, now)
    assert props["areas_url"].endswith("?d=350203")
    assert all(code.startswith("350203") for code in props["areas_hideout"]["counts"])
    with pytest.raises(ValueError, match="not a viewport"):
        mapview.map_props(svc, View(), [[24.7, 118.4], [24.3, "x"]], 11, now)


def test_queue_panel_and_actions(svc):
    dispatcher = svc.store.get_user("dispatcher")
    rows = console.queue(svc, dispatcher, View(), svc.workflow.clock())
    assert rows and all(r["state"] in console.QUEUE_STATES for r in rows)
    # by tab (requests to approve, then cases to dispatch, then parked ones), each by deadline
    tabs = [r["tab"] for r in rows]
    assert tabs == sorted(tabs, key=list(console.TABS).index)
    assert all(console.TAB_OF[r["state"]] == r["tab"] for r in rows)
    for tab in console.TABS:
        dues = [r["due"] for r in rows if r["tab"] == tab and r["due"] is not None]
        assert dues == sorted(dues)
    assert console.tab_counts(rows) == {tab: tabs.count(tab) for tab in console.TABS}
    filed = next(r for r in rows if r["state"] == "filed")
    p = console.panel(svc, dispatcher, filed["id"])
    assert p.actions[0] == "dispatch" and "urge" in p.actions
    assert p.suggested == (p.case.squad or p.case.lead_department) and p.suggested not in p.alternatives
    assert p.near_boundary == (p.boundary_m is not None and p.boundary_m < console.BOUNDARY_WARNING_M)
    # a district head of another district may not open it
    other = next(u for u in svc.store.list_users() if u.role == "district_head" and u.districts[0] != p.case.district)
    with pytest.raises(Forbidden):
        console.panel(svc, other, filed["id"])
    unit = p.alternatives[0] if p.alternatives else p.suggested
    done = console.act(svc, dispatcher, p.case.id, p.case.version, "dispatch", unit, "")
    assert done.state == "dispatched" and done.assignee == unit
    # the same form sent again, from the version it showed, is a conflict that names who changed it
    with pytest.raises(Conflict, match="dispatcher"):
        console.act(svc, dispatcher, p.case.id, p.case.version, "dispatch", unit, "")
    assert filed["id"] not in {r["id"] for r in console.queue(svc, dispatcher, View(), svc.workflow.clock())}


def test_near_a_boundary_the_alternatives_include_the_neighbour(svc, city):
    # a point 5 m inside a sub-district edge: the squad across the line is offered
    subs = city.layers["subdistricts"].to_crs(city.metric_crs)
    a = subs.iloc[0]
    edge = a.geometry.boundary.intersection(subs[subs.index != subs.index[0]].union_all().boundary)
    import shapely

    from geo.crs import transformer

    mid = shapely.line_interpolate_point(shapely.get_geometry(shapely.line_merge(edge), 0), 0.5, normalized=True)
    inside = shapely.Point(mid.x, mid.y).buffer(5).intersection(a.geometry).centroid
    lon, lat = transformer(city.metric_crs, "EPSG:4326").transform([inside.x], [inside.y])
    from store.models import NewCase

    sup = svc.store.get_user(f"sup.{a['district_code']}")
    case = svc.workflow.report(sup, NewCase("06036", float(lon[0]), float(lat[0]), "supervisor", svc.workflow.clock()))
    alts = console.alternatives(svc.workflow, case)
    assert case.squad and any(u.startswith("SQ") and u != case.squad for u in alts)


def test_every_message_has_both_languages_and_every_key_used_exists():
    for key, texts in catalogue().items():
        assert set(texts) == set(LANGUAGES), key
        assert all(texts.values()), key
    used = set()
    for path in [*ROOT.glob("pages/*.py"), *ROOT.glob("layers/*.py"), *ROOT.glob("web/*.py")]:
        used |= set(re.findall(r'\bt\("([a-z_]+(?:\.[a-z_0-9]+)+)"', path.read_text()))
    missing = sorted(k for k in used if k not in catalogue())
    assert not missing
    app = flask.Flask("t")
    with app.test_request_context(headers={"Cookie": "xiuhua_lang=en"}):
        assert (
            t("nav.wall") == "Wall display"
            and t("dispatch.boundary", metres="12") == "12 m from the nearest administrative boundary"
        )
    with app.test_request_context(headers={"Cookie": "xiuhua_lang=zh"}):
        assert t("nav.wall") == "指挥大屏"


def test_a_new_layer_version_is_picked_up_without_a_restart(svc, tmp_path):
    from dispatch.layers import apply

    before = svc.workflow
    city = before.engine.city
    assert not svc.follow_layers(force=True)  # nothing new
    # the same vendor zones stored as a new version: no case changes owner, but the version is new
    _, changes = apply(
        svc.store, city, "vendor_zones", city.layers["vendor_zones"], tmp_path / "v.gpkg", "admin", before.clock()
    )
    assert changes == []
    assert svc.follow_layers(force=True)
    assert svc.workflow is not before and "vendor_zones:v" in svc.workflow.layer_version
    assert svc.layers.city is svc.workflow.engine.city
