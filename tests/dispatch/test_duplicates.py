"""Duplicate reports on both stores: same matter, within the radius and the hours, per matter class; never the
report itself or a voided case; the index and the store's bounding-box query give the same answer."""

from datetime import timedelta

import pytest
import shapely

from dispatch.duplicates import DuplicateIndex, DuplicateRules, Window, find_in_store, rules_from
from geo.crs import transformer
from store.errors import Invalid
from store.models import NewCase, User
from tests.dispatch.conftest import NOW

pytestmark = pytest.mark.slow
METRIC = "EPSG:4548"
RULES = rules_from({"radius_m": 50, "hours": 72, "classes": {"08": {"radius_m": 150, "hours": 168}}})
SUP = User(0, "sup", "", "supervisor", (), None)
ACC = User(0, "acc", "", "acceptor", (), None)
LEAD = User(0, "lead", "", "shift_lead", (), None)


@pytest.fixture
def origin(city):
    cells = city.layers["grid_cells"]
    p = shapely.point_on_surface(cells[cells["district_code"] == "350203"].iloc[200].geometry)
    return transformer("EPSG:4326", METRIC).transform(p.x, p.y)


def at(origin, east_m, north_m=0.0):
    return transformer(METRIC, "EPSG:4326").transform(origin[0] + east_m, origin[1] + north_m)


def report(wf, origin, east_m=0.0, matter="06036", hours_ago=0.0):
    lon, lat = at(origin, east_m)
    new = NewCase(matter, lon, lat, "supervisor", NOW - timedelta(hours=hours_ago), "test report")
    return wf.report(SUP, new)


def ids(found):
    return [c.id for c in found]


def index(wf, rules=RULES):
    return DuplicateIndex(wf.store, rules, METRIC)


def both(wf, rules, case):
    """The index's answer, checked against the store's bounding-box query."""
    found = index(wf, rules).find(case, NOW)
    assert found == find_in_store(wf.store, case, rules.window(case.matter), transformer("EPSG:4326", METRIC), 20)
    return found


def test_finds_the_same_matter_nearby_nearest_first(wf, origin):
    new = report(wf, origin)
    near = report(wf, origin, 30, hours_ago=5)
    nearer = report(wf, origin, 10, hours_ago=60)
    report(wf, origin, 10, matter="06010")  # another matter, as near
    report(wf, origin, 60)  # the same matter, a little too far
    found = both(wf, RULES, new)
    assert ids(found) == [nearer.id, near.id]
    assert [round(c.distance_m) for c in found] == [10, 30]
    assert found[0].version == nearer.version and found[0].case_no == nearer.case_no


def test_not_older_than_the_hours_unless_still_open(wf, origin):
    new = report(wf, origin)
    old_closed = report(wf, origin, 5, hours_ago=100)
    wf.act(ACC, old_closed.id, "refuse", old_closed.version, reason="test", refusal="not_a_case")
    old_open = report(wf, origin, 8, hours_ago=100)  # still waiting: what the report repeats, whatever its age
    assert ids(both(wf, RULES, new)) == [old_open.id]


def test_a_case_closed_within_the_hours_is_recent(wf, origin, store):
    new = report(wf, origin)
    done = report(wf, origin, 5, hours_ago=200)
    done = wf.act(LEAD, done.id, "file", done.version)
    # closed an hour ago (set directly: the workflow's clock is NOW; what matters is the closing time)
    store.update_case(done.id, done.version, {"state": "closed", "closed_at": NOW - timedelta(hours=1)}, "t", "close",
                      "", NOW)  # fmt: skip
    assert ids(both(wf, RULES, new)) == [done.id]
    gone = store.get_case(done.id)
    store.update_case(gone.id, gone.version, {"closed_at": NOW - timedelta(hours=80)}, "t", "close", "", NOW)
    assert both(wf, RULES, new) == []


def test_never_itself_nor_a_voided_case(wf, origin):
    new = report(wf, origin)
    target = report(wf, origin, 3)
    dup = report(wf, origin, 4)
    wf.act(ACC, dup.id, "merge", dup.version, into=target.id, into_version=target.version)
    refused = report(wf, origin, 6)
    wf.act(ACC, refused.id, "refuse", refused.version, reason="test", refusal="lawful")
    found = both(wf, RULES, new)
    assert ids(found) == [target.id] and found[0].version == target.version + 1  # the merge counted a report


def test_the_class_windows_are_honoured(wf, origin):
    new = report(wf, origin, matter="08004")
    far = report(wf, origin, 120, matter="08004", hours_ago=150)  # within class 08's 150 m and 168 h
    assert ids(both(wf, RULES, new)) == [far.id]
    assert both(wf, DuplicateRules(), new) == []  # the defaults alone (50 m) leave it out
    narrow = rules_from({"classes": {"06": {"radius_m": 20}}})
    new06 = report(wf, origin, 500)
    near06 = report(wf, origin, 530)
    assert ids(both(wf, RULES, new06)) == [near06.id] and both(wf, narrow, new06) == []


def test_the_index_follows_the_store(wf, origin):
    new = report(wf, origin)
    idx = index(wf)
    assert idx.find(new, NOW) == []
    near = report(wf, origin, 12)
    assert ids(idx.find(new, NOW)) == [near.id]  # the changed cases are fetched, not the whole store
    assert idx.by_number(near.case_no, NOW).id == near.id
    wf.act(ACC, near.id, "refuse", near.version, reason="test", refusal="not_a_case")
    assert idx.find(new, NOW) == [] and idx.by_number(near.case_no, NOW) is None
    assert ids(idx.find_many([new, near], NOW)[near.id]) == [new.id]


def test_a_report_older_than_the_index_is_looked_up_in_the_store(wf, origin):
    idx = index(wf, rules_from({"hours": 1}))
    old = report(wf, origin, hours_ago=30)  # older than the index's two windows
    near = report(wf, origin, 7, hours_ago=30)
    idx.refresh(NOW)
    assert idx.since is not None and old.reported_at - timedelta(hours=1) < idx.since
    assert ids(idx.find(old, NOW)) == [near.id]


@pytest.mark.parametrize(
    "raw",
    [
        {"radius_m": -1},
        {"radius_m": "50"},
        {"hours": True},
        {"radius": 50},
        {"classes": {"6": {"radius_m": 10}}},
        {"classes": {"06": 10}},
        {"classes": []},
    ],
)
def test_bad_settings_are_named(raw):
    with pytest.raises(Invalid) as info:
        rules_from(raw, "city.toml [duplicates]")
    assert info.value.code == "duplicates.config" and "city.toml [duplicates]" in str(info.value)


def test_a_class_keeps_what_it_leaves_out():
    rules = rules_from({"radius_m": 40, "hours": 10, "classes": {"09": {"radius_m": 30}}})
    assert rules.window("09009") == Window(30, 10) and rules.window("06036") == Window(40, 10)
    assert rules.max_radius_m == 40 and rules.max_hours == 10
