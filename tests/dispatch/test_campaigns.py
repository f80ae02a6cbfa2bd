"""Campaigns (周期集群仗): areas from the city's cells, communities and model streets or a file, the refusals, and the
figures on hand-made case facts (weeks during against as many before, closure and on-time rates, worst cells)."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import shapely

from dispatch.campaigns import (
    MAX_AREA_KM2,
    area_from_codes,
    area_from_file,
    area_from_geojson,
    check_area,
    draft,
    figures,
    in_area,
    running_first,
    state_of,
)
from store.errors import Invalid
from store.models import Campaign, CaseFacts, NewCampaign

TZ = ZoneInfo("Asia/Shanghai")
SQUARE = shapely.box(118.08, 24.47, 118.10, 24.49)  # about 2 × 2.2 km on Xiamen island
CRS = "EPSG:4548"


def fact(i, lon=118.09, lat=24.48, reported=None, closed=None, on_time=None, deadline=None, state=None,
         matter="06036", cell="C1"):  # fmt: skip
    return CaseFacts(
        i, f"A{i:05d}", state or ("closed" if closed else "dispatched"), matter, "supervisor", "normal", lon, lat,
        "350203", None, None, cell, None, None, reported, None, None, deadline, None, None, closed, on_time, (), 1,
    )  # fmt: skip


def campaign(matters=(), starts=date(2026, 11, 2), ends=date(2026, 11, 15)):
    return NewCampaign("test", "difficult", shapely.MultiPolygon([SQUARE]), "file:x", ("350203",), starts, ends,
                       tuple(matters))  # fmt: skip


def local(day, hour=10):
    return datetime(2026, 11, day, hour, tzinfo=TZ) if day > 0 else datetime(2026, 10, 31 + day, hour, tzinfo=TZ)


def test_cases_by_week_during_against_as_many_weeks_before():
    # the campaign runs 2–15 Nov (two weeks); before it: 19 Oct – 1 Nov
    facts = [
        fact(1, reported=local(3)),  # during, week 1
        fact(2, reported=local(10)),  # during, week 2
        fact(3, reported=local(11)),  # during, week 2
        fact(4, reported=local(-5)),  # 26 Oct: before, week 2
        fact(5, reported=local(-11)),  # 20 Oct: before, week 1
        fact(6, reported=local(-12)),  # 19 Oct: before, week 1
        fact(7, reported=local(-13)),  # 18 Oct: too early
        fact(8, reported=local(16)),  # after the campaign
        fact(9, reported=local(4), lon=118.2),  # outside the area
        fact(10, reported=local(4), state="voided"),  # refused or merged
    ]
    f = figures(facts, campaign(), datetime(2026, 12, 1, tzinfo=UTC), TZ)
    assert f.state == "ended"
    assert (f.before.end - f.before.start) == (f.during.end - f.during.start) == timedelta(days=14)
    assert [(w.before, w.during) for w in f.weeks] == [(2, 1), (1, 2)]
    assert (f.before.reported, f.during.reported) == (3, 3)
    assert len(f.before_points) == 3 and len(f.during_points) == 3


def test_a_running_campaign_compares_the_days_so_far_with_as_many_days_before():
    facts = [fact(1, reported=local(3)), fact(2, reported=local(-1)), fact(3, reported=local(-5))]
    now = datetime(2026, 11, 5, 0, tzinfo=TZ)  # three days in
    f = figures(facts, campaign(), now, TZ)
    assert f.state == "running" and f.during.end == now and f.before.start == now - timedelta(days=6)
    assert (f.before.reported, f.during.reported) == (1, 1)
    assert [(w.before, w.during) for w in f.weeks] == [(1, 1)]


def test_matters_filter_and_worst_cells():
    facts = [
        fact(1, reported=local(3), cell="B"),
        fact(2, reported=local(4), cell="A"),
        fact(3, reported=local(5), cell="A"),
        fact(4, reported=local(5), cell="A", matter="09006"),
        fact(5, reported=local(-3), cell="A"),
    ]
    facts[1:3] = [replace(facts[1], community="X1"), replace(facts[2], community="X1")]
    f = figures(facts, campaign(matters=["06036"]), datetime(2026, 12, 1, tzinfo=UTC), TZ)
    assert f.worst_cells == (("A", 2, 1), ("B", 1, 0)) and f.cell_communities == {"A": "X1"}
    assert in_area(facts, campaign(matters=["09006"])).tolist() == [False, False, False, True, False]


def test_closure_and_honest_on_time_rates_per_window():
    facts = [
        # during: closed on time, closed late, open past its deadline at the end, open with time left
        fact(1, reported=local(3), closed=local(4), on_time=True),
        fact(2, reported=local(3), closed=local(6), on_time=False),
        fact(3, reported=local(3), deadline=local(5)),
        fact(4, reported=local(3), deadline=local(20)),
        # before: one closed on time in the window, one reported before but closed only during the campaign
        fact(5, reported=local(-4), closed=local(-3), on_time=True),
        fact(6, reported=local(-4), closed=local(5), on_time=True),
    ]
    f = figures(facts, campaign(), datetime(2026, 12, 1, tzinfo=UTC), TZ)
    assert (f.during.reported, f.during.closed, f.during.closure_rate) == (4, 2, 0.5)
    # closed in the window: 1, 2 and 6 (on time: 1 and 6), open past the deadline at its end: 3
    assert (f.during.closed_on_time, f.during.closed_late, f.during.overdue_open) == (2, 1, 1)
    assert f.during.on_time_rate == 0.5
    assert (f.before.reported, f.before.closed, f.before.closure_rate) == (2, 1, 0.5)
    # case 6 was open at the before window's end but its deadline (none) had not passed
    assert (f.before.closed_on_time, f.before.overdue_open, f.before.on_time_rate) == (1, 0, 1.0)
    empty = figures([], campaign(), datetime(2026, 12, 1, tzinfo=UTC), TZ)
    assert empty.during.closure_rate is None and empty.during.on_time_rate is None and empty.worst_cells == ()


def test_states_and_running_first():
    def stored(i, starts, ends):
        return Campaign(**{**campaign(starts=starts, ends=ends).__dict__, "id": i})

    now = datetime(2026, 11, 10, tzinfo=TZ)
    ended, running, upcoming = (stored(1, date(2026, 10, 1), date(2026, 10, 9)),
                                stored(2, date(2026, 11, 1), date(2026, 11, 30)),
                                stored(3, date(2026, 12, 1), date(2026, 12, 9)))  # fmt: skip
    assert [state_of(c, now, TZ) for c in (ended, running, upcoming)] == ["ended", "running", "upcoming"]
    assert [c.id for c in running_first([ended, upcoming, running], now, TZ)] == [2, 3, 1]


# -- areas on the built city ----------------------------------------------------------------------------------------
def test_area_from_cells_communities_and_model_streets(city):
    cells = city.layers["grid_cells"]["code"].astype(str).tolist()[:3]
    area, source = area_from_codes(city.layers, "cells", [*cells, cells[0]])
    assert source == "cells:" + ",".join(cells)
    shape, districts, km2 = check_area(area, city.layers["districts"], city.metric_crs)
    assert districts and 0 < km2 < MAX_AREA_KM2 and shape.geom_type == "MultiPolygon"
    community = str(city.layers["communities"]["code"].iloc[0])
    assert area_from_codes(city.layers, "communities", [community])[1] == f"communities:{community}"
    street = str(city.layers["model_streets"]["id"].iloc[0])
    street_area, _ = area_from_codes(city.layers, "model_streets", [street])
    assert street_area.area > 0


@pytest.mark.parametrize(
    ("by", "codes", "words"),
    [("cells", ["NOPE"], "unknown cells: NOPE"), ("cells", [" "], "no cells"), ("streets", ["x"], "not 'streets'")],
)
def test_bad_codes_are_named(city, by, codes, words):
    with pytest.raises(Invalid, match=words):
        area_from_codes(city.layers, by, codes)


def test_area_from_a_file_and_its_refusals(city, tmp_path):
    districts = city.layers["districts"]
    inside = shapely.box(*shapely.point_on_surface(districts.geometry.iloc[0]).buffer(0.005).bounds)
    path = tmp_path / "area.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(inside)}]}))  # fmt: skip
    area, source = area_from_file(path)
    assert source == "file:area.geojson" and check_area(area, districts, city.metric_crs)[1]
    with pytest.raises(Invalid, match="outside every district"):
        check_area(shapely.box(0, 0, 0.01, 0.01), districts, city.metric_crs)
    with pytest.raises(Invalid, match="more than 50 km"):
        check_area(shapely.box(*districts.total_bounds), districts, city.metric_crs)
    with pytest.raises(Invalid, match="file not found"):
        area_from_file(tmp_path / "missing.geojson")
    (tmp_path / "bad.geojson").write_text("{")
    with pytest.raises(Invalid, match="cannot read"):
        area_from_file(tmp_path / "bad.geojson")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"name": "x" * 81}, "1 to 80"),
        ({"name": "  "}, "1 to 80"),
        ({"kind": "war"}, "unknown kind 'war'"),
        ({"ends_on": date(2026, 11, 1)}, "end after it starts"),
        ({"ends_on": date(2027, 11, 2)}, "at most 366 days"),
        ({"matters": ["99999"]}, "unknown matters: 99999"),
    ],
)
def test_draft_refusals(city, changes, words):
    args = {"name": "治难点 · 中山路", "kind": "difficult", "area": SQUARE, "area_source": "file:x",
            "starts_on": date(2026, 11, 1), "ends_on": date(2026, 11, 30), "matters": ["06036"],
            "catalogue": {"06036"}, "districts": city.layers["districts"], "metric_crs": city.metric_crs}  # fmt: skip
    assert draft(**args).name == "治难点 · 中山路"
    with pytest.raises(Invalid, match=words):
        draft(**{**args, **changes})


def test_a_drawn_area_and_its_refusals():
    def collection(*geoms):
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(g)} for g in geoms]}  # fmt: skip

    two = collection(shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1))
    area, source = area_from_geojson(two)
    assert source == "drawn" and area.equals(shapely.box(0, 0, 2, 1))
    for bad, words in [
        ({"type": "FeatureCollection", "features": []}, "no area drawn"),
        (None, "no area drawn"),
        (collection(shapely.Point(0, 0)), "polygons or rectangles"),
        ({"features": [{"geometry": {"type": "Polygon", "coordinates": "x"}}]}, "not GeoJSON"),
        (collection(shapely.Point(0, 0).buffer(1, quad_segs=6000)), "too many vertices"),
    ]:
        with pytest.raises(Invalid, match=words):
            area_from_geojson(bad)
