"""One owners record for every way a case comes in or is re-owned, and one rule for "open or active since"."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely

from dispatch.calendar import WorkingCalendar
from dispatch.demo import seed_demo
from dispatch.io import import_cases
from dispatch.layers import apply, version_label
from dispatch.workflow import Workflow, owners_of
from store.models import NewCase, Owners, active_since

CAL = WorkingCalendar.load(Path(__file__).resolve().parents[2] / "data" / "xiamen" / "calendar.toml")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # a Thursday morning in Xiamen


@pytest.fixture
def wf(store, engine):
    return Workflow(store, engine, CAL, clock=lambda: NOW, layer_version="city:abc;vendor_zones:v3")


def test_the_record_round_trips(engine):
    o = engine.resolve(118.0894, 24.4798, "06036", NOW)
    owners = owners_of(o, "city:abc")
    assert Owners.from_json(owners.to_json()) == owners
    assert owners.columns() == {k: getattr(o, k) for k in owners.columns()}
    assert owners.to_json()["trace"][-1]["applies"] and owners.to_json()["layer_version"] == "city:abc"


def test_every_way_in_records_the_layer_versions(wf, store, tmp_path):
    sup = store.add_user("sup", "password1", "supervisor")
    reported = wf.report(sup, NewCase("06036", 118.0894, 24.4798, "supervisor", NOW))
    csv = tmp_path / "in.csv"
    csv.write_text("matter,lon,lat,time\n06010,118.13,24.50,2026-11-26 09:00\n")
    import_cases(wf, csv, None, "importer")
    seed_demo(wf, 40, 2, NOW, 3, "password1")
    stored = store.cases()
    assert len(stored) > 30
    for case in stored:
        assert case.owners.layer_version == "city:abc;vendor_zones:v3", case.case_no
        assert case.owners.columns() == {k: getattr(case, k) for k in case.owners.columns()}
    assert store.get_case(reported.id).owners.trace


def test_a_layer_version_re_owns_with_its_own_label(store, city, engine, tmp_path):
    cells = city.layers["grid_cells"]
    row = cells.iloc[3000]
    neighbour = cells[cells.touches(row.geometry) & (cells["community_code"] == row["community_code"])].iloc[0]
    merged = cells.drop(index=row.name).copy()
    merged.loc[neighbour.name, "geometry"] = shapely.union(neighbour.geometry, row.geometry)
    path = tmp_path / "cells.gpkg"
    merged[["code", "geometry"]].to_file(path)
    wf = Workflow(store, engine, CAL, clock=lambda: NOW, layer_version=version_label(store, city, NOW))
    p = shapely.point_on_surface(row.geometry)
    case = wf.report(store.add_user("sup", "password1", "supervisor"), NewCase("06036", p.x, p.y, "supervisor", NOW))
    assert case.owners.layer_version == wf.layer_version and "grid_cells" not in wf.layer_version
    import geopandas as gpd

    version, _ = apply(store, city, "grid_cells", gpd.read_file(path), path, "t", NOW + timedelta(hours=1))
    after = store.get_case(case.id)
    assert after.cell == neighbour["code"] and after.owners.cell == neighbour["code"]
    assert after.owners.layer_version.endswith(f"grid_cells:v{version.version}")


def test_active_since_is_one_rule_in_python_and_sql(wf, store):
    sup = store.add_user("sup", "password1", "supervisor")
    lead = store.add_user("lead", "password1", "shift_lead")
    since = NOW + timedelta(days=1)
    cases = []
    for dx, when in [(0, NOW - timedelta(days=5)), (1, NOW), (2, since), (3, since + timedelta(1))]:
        c = wf.report(sup, NewCase("06036", 118.08 + dx / 100, 24.48, "supervisor", when))
        cases.append(c)
    # one closed before `since`, one closed after it (voided: closed_at set)
    for c, at in ((cases[0], NOW - timedelta(days=4)), (cases[1], since + timedelta(hours=1))):
        c = wf.act(store.add_user(f"acc{c.id}", "password1", "acceptor"), c.id, "request_void", c.version, "dup")
        Workflow(store, wf.engine, CAL, clock=lambda at=at: at).act(lead, c.id, "approve_void", c.version)
    everything = store.cases()
    expected = {c.id for c in everything if active_since(c.reported_at, c.closed_at, since)}
    assert {c.id for c in store.cases(active_since=since)} == expected
    assert {f.id for f in store.case_facts(active_since=since)} == expected
    assert cases[0].id not in expected and cases[1].id in expected and len(expected) == 3
