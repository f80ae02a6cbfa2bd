"""Chronic places (疑难杂症): the detector on hand-placed cases, and the fast track on both stores — one case per
place, filed urgent and urged; closing refused until the place is quiet; a recurrence reopens it."""

from datetime import UTC, datetime, timedelta

import pytest
from pyproj import Transformer

from dispatch.chronic import ChronicConfig, Rule, detect, load_config
from dispatch.chronic import city_config as city_config_of
from dispatch.fast_track import SYSTEM, run
from store.errors import Invalid
from store.models import CaseFacts, NewCase
from tests.dispatch.test_workflow import run as steps

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
CRS = "EPSG:4548"
CONFIG = ChronicConfig(Rule(k=3, days=14, radius_m=50, quiet_days=14), {"09": Rule(4, 7, 30, 7)}, CRS)
BASE = (118.0894, 24.4798)
_to, _from = (Transformer.from_crs(a, b, always_xy=True) for a, b in (("EPSG:4326", CRS), (CRS, "EPSG:4326")))


def at_m(dx: float, dy: float = 0.0) -> tuple[float, float]:
    """A point dx, dy metres from BASE (in the metric CRS)."""
    x, y = _to.transform(*BASE)
    return _from.transform(x + dx, y + dy)


def fact(i, dx=0.0, days_ago=1.0, matter="06036", cell=None, state="reported", flags=()):
    lon, lat = at_m(dx)
    return CaseFacts(
        i, f"A{i:05d}", state, matter, "supervisor", "normal", lon, lat, "350203", None, None,
        cell or f"c{i}", None, None, NOW - timedelta(days=days_ago), None, None, None, None, None, None, None,
        tuple(flags), 1,
    )  # fmt: skip


def test_k_reports_make_a_place_and_k_minus_one_do_not():
    two = [fact(1), fact(2, dx=20)]
    assert detect(two, NOW, CONFIG) == []
    (place,) = detect([*two, fact(3, dx=40)], NOW, CONFIG)
    assert place.case_ids == (1, 2, 3) and place.matter == "06036" and place.district == "350203"
    assert place.first_at == NOW - timedelta(days=1) and place.last_at == NOW - timedelta(days=1)


def test_radius_chains_and_the_same_cell_links_whatever_the_distance():
    # 0 -- 45 m -- 90 m: each within 50 m of the next
    assert len(detect([fact(1), fact(2, dx=45), fact(3, dx=90)], NOW, CONFIG)) == 1
    assert detect([fact(1), fact(2, dx=45), fact(3, dx=120)], NOW, CONFIG) == []  # 75 m from the nearest
    same_cell = [fact(1, cell="X"), fact(2, dx=300, cell="X"), fact(3, dx=600, cell="X")]
    assert [p.case_ids for p in detect(same_cell, NOW, CONFIG)] == [(1, 2, 3)]


@pytest.mark.parametrize(
    "third",
    [
        fact(3, matter="06010"),  # another matter
        fact(3, dx=76),  # farther than the radius from either (51 m from case 2)
        fact(3, days_ago=14.01),  # older than the window
        fact(3, days_ago=-1),  # after `now`
        fact(3, state="voided", flags=("refused:duplicate",)),  # merged into case 1: counted there once
        fact(3, state="voided", flags=("refused:not_a_case",)),  # refused
        fact(3, flags=("fast_track", "chronic:1")),  # a fast-track case itself
    ],
)
def test_what_does_not_count(third):
    assert detect([fact(1), fact(2, dx=25), third], NOW, CONFIG) == []


def test_rules_by_matter_class():
    vendors = [fact(i, dx=i * 5, matter="09006") for i in range(1, 4)]
    assert detect(vendors, NOW, CONFIG) == []  # class 09 needs 4
    assert len(detect([*vendors, fact(4, dx=20, matter="09006")], NOW, CONFIG)) == 1
    assert detect([fact(i, dx=i * 5, matter="09006", days_ago=8) for i in range(1, 6)], NOW, CONFIG) == []


def test_the_city_rules_are_data_and_bad_ones_are_named(city_config, tmp_path):
    rules = city_config_of(city_config)
    assert rules.metric_crs == city_config.metric_crs and rules.rule("09006") == rules.classes["09"]
    assert rules.rule("06036").days == 30 and rules.rule("06036").k == rules.default.k  # an override keeps the rest
    bad = tmp_path / "city.toml"
    for text, words in [
        ("x = 1", "no .chronic. table"),
        ("[chronic]\ndefault = { k = 3, days = 14, radius_m = 50 }", "missing quiet_days"),
        ("[chronic]\ndefault = { k = 1, days = 14, radius_m = 50, quiet_days = 3 }", "at least 2"),
        ("[chronic]\ndefault = { k = 3, days = -2, radius_m = 50, quiet_days = 3 }", "days must be a positive"),
        ('[chronic]\ndefault = { k = 3, days = 2, radius_m = 50, quiet_days = 3 }\n"9x" = { k = 2 }', "'9x'"),
        ('[chronic]\ndefault = { k = 3, days = 2, radius_m = 50, quiet_days = 3 }\n"09" = { kk = 2 }', "kk"),
    ]:
        bad.write_text(text)
        with pytest.raises(Invalid, match=words):
            load_config(bad, CRS)


# -- the fast track, on both stores -------------------------------------------------------------------------------
@pytest.fixture
def place_flow(flow):
    wf, clock, u, point, _sub = flow
    config = ChronicConfig(Rule(3, 14, 50, 14), {}, CRS)

    def report(minutes_later=0):
        clock.advance(minutes=minutes_later)
        new = NewCase("06036", point[0], point[1], "supervisor", clock.now)
        return wf.report(u["sup"], new)

    return wf, clock, u, config, report


def _fast_track_cases(wf):
    return [c for c in wf.store.cases() if "fast_track" in c.flags]


@pytest.mark.slow
def test_one_fast_track_case_filed_urgent_and_urged(place_flow):
    wf, clock, _u, config, report = place_flow
    a, b = report(), report(60)
    assert run(wf, config, clock.now).created == [] and wf.store.chronic_places() == []
    c = report(60)
    out = run(wf, config, clock.now)
    (place,) = out.created
    (case,) = _fast_track_cases(wf)
    assert place.case_ids == (a.id, b.id, c.id) and place.fast_track_case_id == case.id and place.state == "open"
    assert case.state == "filed" and case.urgency == "urgent" and case.source == "superior"
    assert {"fast_track", f"chronic:{place.id}", "urged"} <= set(case.flags)
    assert case.work_seconds == wf.allowance["06036"] / 2  # the shorter deadline class
    assert all(n in case.description for n in (a.case_no, b.case_no, c.case_no))
    events = wf.store.events(case.id)
    assert [e.action for e in events] == ["report", "fast_track", "urge"] and events[0].actor == SYSTEM.username
    assert a.case_no in events[2].reason and f"chronic place {place.id}" in events[2].reason
    # a second run makes no second place or case; a dry run stores nothing
    again = run(wf, config, clock.now)
    assert again.created == [] and again.new == [] and len(_fast_track_cases(wf)) == 1
    report(30)
    dry = run(wf, config, clock.now, dry_run=True)
    assert list(dry.attached.values()) == [[dry.attached[place.id][0]]]
    assert wf.store.get_chronic_place(place.id).case_ids == place.case_ids


@pytest.mark.slow
def test_closing_waits_for_quiet_days_and_a_recurrence_reopens(place_flow):
    wf, clock, u, config, report = place_flow
    for _ in range(3):
        report(30)
    run(wf, config, clock.now)
    (case,) = _fast_track_cases(wf)
    case = steps(
        wf, case, (u["disp"], "dispatch", {}), (u["unit"], "feedback", {}), (u["acc"], "send_check", {}),
        (u["sup"], "check_pass", {}),
    )  # fmt: skip
    with pytest.raises(Invalid) as refused:
        wf.act(u["lead"], case.id, "close", case.version)
    assert refused.value.code == "chronic.not_quiet" and refused.value.params["days"] == 14
    later = report(60)  # a repeat while open: noted on the case, counted into the place
    out = run(wf, config, clock.now)
    (place,) = wf.store.chronic_places()
    assert out.attached == {place.id: [later.id]} and later.id in place.case_ids and place.last_at == later.reported_at
    case = wf.store.get_case(case.id)
    assert wf.store.events(case.id)[-1].action == "repeat" and later.case_no in wf.store.events(case.id)[-1].reason
    clock.advance(days=13)
    with pytest.raises(Invalid, match="without a recurrence"):
        wf.act(u["lead"], case.id, "close", case.version)
    clock.advance(days=1, minutes=1)
    assert run(wf, config, clock.now).quiet == [place.id]
    case = wf.act(u["lead"], case.id, "close", case.version)
    assert case.state == "closed"
    assert run(wf, config, clock.now).closed == [place.id]
    assert wf.store.get_chronic_place(place.id).state == "closed"
    again = report(60)  # the matter recurs: the place's case reopens
    out = run(wf, config, clock.now)
    assert out.reopened == [place.id] and out.created == []
    case = wf.store.get_case(case.id)
    assert case.state == "filed" and case.closed_at is None and "reopened" in case.flags and case.assignee is None
    place = wf.store.get_chronic_place(place.id)
    assert place.state == "open" and again.id in place.case_ids
    with pytest.raises(Invalid, match="it is filed"):
        wf.act(u["lead"], case.id, "reopen", case.version, reason="x")


@pytest.mark.slow
def test_a_duplicate_merged_into_its_case_counts_once(place_flow):
    wf, clock, u, config, report = place_flow
    a, b = report(), report(10)
    steps(wf, b, (u["acc"], "merge", {"into": a.id, "into_version": wf.store.get_case(a.id).version}))
    report(10)
    assert run(wf, config, clock.now).created == []
    report(10)
    (place,) = run(wf, config, clock.now).created
    assert b.id not in place.case_ids and len(place.case_ids) == 3
