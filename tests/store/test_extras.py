"""Photos' rows, patrol cells, the webhook outbox and several cases changed at once: on both stores."""

from datetime import timedelta

import pytest

from store.errors import Conflict, Invalid, NotFound
from store.models import Media
from tests.store.test_conformance import T0, make_case

SHA = "ab" * 32


def photo(case_id, stage="report", sha=SHA):
    return Media(0, case_id, stage, sha, "image/jpeg", 1234, 640, 480, "sup", T0)


def test_a_case_and_its_photos_are_stored_together(store):
    from store.models import NewCase, Owners

    new = NewCase("06010", 118.1, 24.5, "supervisor", T0)
    case = store.create_case(new, Owners.from_json({"district": "350203"}), "reported", "sup", T0, [photo(0)])
    (row,) = store.media_of([case.id])
    assert (row.case_id, row.stage, row.sha256, row.width, row.uploaded_by) == (case.id, "report", SHA, 640, "sup")
    assert store.media_by_hash(SHA) == [row]
    with pytest.raises(Invalid, match="stage"):  # nothing is stored when a photo row is wrong
        store.create_case(new, Owners.from_json({"district": "350203"}), "reported", "sup", T0, [photo(0, "selfie")])
    assert len(store.cases()) == 1


def test_the_same_photo_is_kept_once_per_case_and_stage(store):
    case = make_case(store)
    store.add_media([photo(case.id), photo(case.id), photo(case.id, "check")])
    assert [m.stage for m in store.media_of([case.id])] == ["report", "check"]


def test_update_many_is_all_or_nothing(store):
    a, b = make_case(store), make_case(store)
    steps = [(a.id, a.version, {"state": "voided"}, "merge", ""), (b.id, b.version, {"reports": 2}, "merge_in", "")]
    after = store.update_many(steps, "acc", T0, [photo(b.id)])
    assert [c.state for c in after] == ["voided", "reported"] and after[1].reports == 2
    assert [e.action for e in store.events(b.id)] == ["report", "merge_in"]
    # a stale version of the second case: the first is not changed either, and no photo row is kept
    c, d = make_case(store), make_case(store)
    with pytest.raises(Conflict):
        store.update_many(
            [(c.id, c.version, {"state": "voided"}, "merge", ""), (d.id, d.version - 1, {"reports": 2}, "x", "")],
            "acc",
            T0,
            [photo(d.id, sha="cd" * 32)],
        )
    assert store.get_case(c.id).state == "reported" and store.get_case(d.id).reports == 1
    assert store.media_by_hash("cd" * 32) == []
    with pytest.raises(Invalid, match="cannot change"):
        store.update_many([(c.id, c.version, {"case_no": "X"}, "x", "")], "acc", T0)


def test_patrol_cells(store):
    store.add_user("sup.a", "password1", "supervisor", ["350203"])
    store.add_user("sup.b", "password1", "supervisor", ["350203"])
    assert store.set_patrol_cells("sup.a", ["350203001001001", "350203001001002", "350203001001001"]) == [
        "350203001001001",
        "350203001001002",
    ]
    store.set_patrol_cells("sup.b", ["350203001001002"])
    assert store.inspectors_of(["350203001001002", "350203001001001", "350203009009009"]) == {
        "350203001001001": ("sup.a",),
        "350203001001002": ("sup.a", "sup.b"),
    }
    store.update_user("sup.b", active=False)  # a disabled inspector takes no tasks
    assert store.inspectors_of(["350203001001002"]) == {"350203001001002": ("sup.a",)}
    assert store.set_patrol_cells("sup.a", []) == []
    with pytest.raises(NotFound):
        store.set_patrol_cells("nobody", ["350203001001001"])


def test_the_outbox_retries_and_gives_up(store):
    first = store.enqueue_delivery("urge", {"case_no": "A1"}, T0)
    second = store.enqueue_delivery("escalation", {"case_no": "A2"}, T0 + timedelta(minutes=1))
    assert [d.id for d in store.due_deliveries(T0)] == [first]
    store.record_attempt(first, T0, error="HTTP 500", next_at=T0 + timedelta(minutes=2))
    assert [d.id for d in store.due_deliveries(T0 + timedelta(minutes=1))] == [second]
    store.record_attempt(second, T0 + timedelta(minutes=1))  # delivered
    (again,) = store.due_deliveries(T0 + timedelta(minutes=2))
    assert (again.id, again.attempts, again.last_error) == (first, 1, "HTTP 500")
    store.record_attempt(first, T0 + timedelta(minutes=2), error="timeout", give_up=True)
    assert store.due_deliveries(T0 + timedelta(days=1)) == []
    (failed,) = store.deliveries(failed=True)
    assert (failed.id, failed.attempts, failed.payload) == (first, 2, {"case_no": "A1"})
    done = next(d for d in store.deliveries() if d.id == second)
    assert done.delivered_at is not None and not done.failed
