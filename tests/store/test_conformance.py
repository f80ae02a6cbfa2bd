"""One conformance suite, run against the embedded (SQLite) and the PostGIS store in the same session."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import shapely
import sqlalchemy as sa

from store import migrate
from store.errors import Conflict, Forbidden, Invalid, NotFound, SchemaOutOfDate
from store.models import NewCase, Owners
from store.registry import open_store

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def make_case(store, lon=118.1, lat=24.5, matter="06010", source="supervisor", state="reported", **owners):
    new = NewCase(matter=matter, lon=lon, lat=lat, source=source, reported_at=T0)
    return store.create_case(new, Owners.from_json({"district": "350203", **owners}), state, "tester", T0)


def test_refuses_an_out_of_date_schema(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'empty.sqlite'}", check=False)
    with pytest.raises(SchemaOutOfDate, match="xiuhua db upgrade"):
        s.check_schema()
    migrate.upgrade(s.engine)
    s.check_schema()
    s.close()


def test_unknown_url_is_a_clear_error():
    with pytest.raises(Invalid, match="unsupported database"):
        open_store("mysql://x@y/z", check=False)
    with pytest.raises(Invalid, match="not a database URL"):
        open_store("::::", check=False)


def test_users_and_passwords(store):
    u = store.add_user("wang.fang", "correct horse", "dispatcher", ["350203"], "王芳")
    assert (u.role, u.districts, u.display_name) == ("dispatcher", ("350203",), "王芳")
    assert store.authenticate("wang.fang", "correct horse") == u
    with pytest.raises(Forbidden):
        store.authenticate("wang.fang", "wrong password")
    with pytest.raises(Forbidden):
        store.authenticate("nobody", "correct horse")
    with pytest.raises(Conflict):
        store.add_user("wang.fang", "another one", "supervisor")
    with pytest.raises(Invalid, match="unknown role"):
        store.add_user("x", "long enough", "mayor")
    with pytest.raises(Invalid, match="8 characters"):
        store.add_user("y", "short", "wall")
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2") and "correct horse" not in stored
    assert [x.username for x in store.list_users()] == ["wang.fang"]
    with pytest.raises(NotFound):
        store.get_user("nobody")


def test_accounts_can_change_and_be_disabled(store):
    store.add_user("zhou", "first password", "supervisor", ["350203"])
    u = store.update_user("zhou", role="shift_lead", districts=[], password="second password")
    assert (u.role, u.districts) == ("shift_lead", ())
    assert store.authenticate("zhou", "second password").username == "zhou"
    with pytest.raises(Forbidden):
        store.authenticate("zhou", "first password")
    store.update_user("zhou", active=False)
    with pytest.raises(Forbidden):
        store.authenticate("zhou", "second password")
    with pytest.raises(NotFound):
        store.update_user("nobody", active=False)
    with pytest.raises(Invalid, match="nothing to change"):
        store.update_user("zhou")
    with pytest.raises(Invalid, match="unknown role"):
        store.update_user("zhou", role="mayor")


def test_create_and_read_a_case(store):
    c = make_case(store, cell="350203001001001", squad="SQ350203001")
    assert c.case_no.startswith("A0601020261127") and c.case_no.endswith("00001")
    assert make_case(store).case_no.endswith("00002")
    assert (c.state, c.version, c.cell, c.squad) == ("reported", 1, "350203001001001", "SQ350203001")
    assert c.ownership["cell"] == "350203001001001"
    assert store.get_case(c.id) == c
    [ev] = store.events(c.id)
    assert (ev.action, ev.to_state, ev.actor) == ("report", "reported", "tester")
    with pytest.raises(NotFound):
        store.get_case(999_999)
    with pytest.raises(Invalid):
        make_case(store, lon=500.0)


def test_update_checks_the_version_and_logs_before_and_after(store):
    c = make_case(store)
    later = T0 + timedelta(minutes=5)
    c2 = store.update_case(c.id, 1, {"state": "accepted"}, "li", "accept", "", later)
    assert (c2.state, c2.version, c2.updated_by) == ("accepted", 2, "li")
    with pytest.raises(Conflict, match=r"changed by li at 2026-11-27 01:05:00"):
        store.update_case(c.id, 1, {"state": "voided"}, "zhao", "approve_void", "", later)
    assert store.get_case(c.id).state == "accepted"
    ev = store.events(c.id)[-1]
    assert (ev.before, ev.after, ev.from_state, ev.to_state) == (
        {"state": "reported"},
        {"state": "accepted"},
        "reported",
        "accepted",
    )
    with pytest.raises(Invalid, match="cannot change"):
        store.update_case(c.id, 2, {"case_no": "X"}, "li", "hack", "", later)


def test_the_event_log_is_append_only(store):
    make_case(store)
    for sql in ("DELETE FROM case_events", "UPDATE case_events SET actor = 'someone else'"):
        with pytest.raises(sa.exc.DBAPIError), store.engine.begin() as conn:
            conn.execute(sa.text(sql))


def test_reassign_many_is_one_transaction(store):
    a, b = make_case(store), make_case(store)
    n = store.reassign_many({a.id: {"cell": "X1"}, b.id: {"cell": "X2"}}, "admin", "grid change", T0)
    assert n == 2 and store.get_case(a.id).cell == "X1" and store.events(b.id)[-1].action == "reassign"
    with pytest.raises(NotFound):
        store.reassign_many({a.id: {"cell": "Y"}, 424242: {"cell": "Z"}}, "admin", "bad", T0)
    assert store.get_case(a.id).cell == "X1"  # nothing half-written


def test_spatial_queries_include_edges(store):
    inside = make_case(store, lon=118.10, lat=24.50)
    edge = make_case(store, lon=118.20, lat=24.50)
    far = make_case(store, lon=118.40, lat=24.80)
    got = {c.id for c in store.cases_in_bbox((118.05, 24.45, 118.20, 24.55))}
    assert got == {inside.id, edge.id}
    poly = shapely.Polygon([(118.05, 24.45), (118.20, 24.45), (118.20, 24.55), (118.05, 24.55)])
    assert {c.id for c in store.cases_in_polygon(poly)} == {inside.id, edge.id}
    tri = shapely.Polygon([(118.05, 24.45), (118.12, 24.45), (118.05, 24.52)])
    assert {c.id for c in store.cases_in_polygon(tri)} == set()
    assert far.id not in {c.id for c in store.cases_in_bbox((118.0, 24.0, 118.3, 24.6), states=["reported"])}
    with pytest.raises(Invalid):
        store.cases_in_bbox((118.3, 24.0, 118.0, 24.6))


def test_listing_and_counts(store):
    a = make_case(store)
    make_case(store)
    store.update_case(a.id, 1, {"state": "accepted"}, "li", "accept", "", T0)
    assert store.count_by_state() == {"reported": 1, "accepted": 1}
    assert [c.id for c in store.cases(states=["accepted"])] == [a.id]
    assert len(store.cases(districts=["350203"])) == 2 and store.cases(districts=["350206"]) == []


def test_revision_grows_with_every_change_and_facts_match_cases(store):
    r0 = store.revision()
    a = make_case(store, lon=118.11, lat=24.51)
    r1 = store.revision()
    store.update_case(a.id, 1, {"state": "accepted", "urgency": "urgent"}, "li", "accept", "", T0)
    r2 = store.revision()
    assert r0 < r1 < r2
    assert store.revision() == r2  # reading changes nothing
    assert [f.id for f in store.case_facts(changed_after=r1)] == [a.id]
    assert store.case_facts(changed_after=r2) == []
    assert [f.id for f in store.case_facts(districts=["350203"])] == [a.id]
    assert store.case_facts(districts=["350206"]) == []
    (facts,) = store.case_facts()
    case = store.get_case(a.id)
    for name in facts.__dataclass_fields__:
        assert getattr(facts, name) == getattr(case, name), name


def test_concurrent_updates_exactly_one_wins(store):
    c = make_case(store)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        barrier.wait()
        try:
            store.update_case(c.id, 1, {"state": "accepted"}, f"user{n}", "accept", "", T0)
            results.append("won")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict"] * 7 + ["won"]
    assert store.get_case(c.id).version == 2
    assert [e.action for e in store.events(c.id)] == ["report", "accept"]


def test_reported_matters_newest_first_each_once(store):
    for matter, reporter in [("06010", "sup.a"), ("09006", "sup.a"), ("06010", "sup.a"), ("07001", "sup.b")]:
        new = NewCase(matter=matter, lon=118.1, lat=24.5, source="supervisor", reported_at=T0, reporter=reporter)
        store.create_case(new, Owners.from_json({"district": "350203"}), "reported", reporter, T0)
    assert store.reported_matters("sup.a") == ["06010", "09006"]
    assert store.reported_matters("sup.a", limit=1) == ["06010"]
    assert store.reported_matters("sup.b") == ["07001"]
    assert store.reported_matters("nobody") == []
