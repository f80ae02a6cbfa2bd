"""Chronic places on both stores: stored and read back, filtered by state and district, changed, refused."""

from datetime import timedelta

import pytest

from store.errors import Invalid, NotFound
from store.models import ChronicPlace
from tests.store.test_conformance import T0, make_case


def place(district="350203", case_ids=(), state="open"):
    return ChronicPlace(0, "06010", "350203001001001", district, 118.1, 24.5, None, tuple(case_ids), T0,
                        T0 + timedelta(days=2), state, 14, 50.0, T0, T0)  # fmt: skip


def test_places_are_stored_filtered_and_changed(store):
    a, b = make_case(store), make_case(store)
    siming = store.add_chronic_place(place(case_ids=(b.id, a.id)))
    huli = store.add_chronic_place(place("350206", state="quiet"))
    assert siming.id != huli.id and siming.case_ids == tuple(sorted((a.id, b.id)))
    assert siming.last_at == T0 + timedelta(days=2) and siming.last_at.tzinfo is not None
    assert store.get_chronic_place(siming.id) == siming
    assert [p.id for p in store.chronic_places(districts=["350203"])] == [siming.id]
    assert [p.id for p in store.chronic_places(states=["quiet"])] == [huli.id]
    later = T0 + timedelta(days=3)
    c = make_case(store)
    changed = store.update_chronic_place(
        siming.id, {"fast_track_case_id": c.id, "case_ids": (*siming.case_ids, c.id), "last_at": later}, later
    )
    assert changed.fast_track_case_id == c.id and changed.case_ids[-1] == c.id and changed.updated_at == later
    assert [p.id for p in store.chronic_places()] == [siming.id, huli.id]  # newest recurrence first


def test_bad_changes_are_refused(store):
    p = store.add_chronic_place(place())
    with pytest.raises(Invalid, match="cannot change matter"):
        store.update_chronic_place(p.id, {"matter": "09006"}, T0)
    with pytest.raises(Invalid, match="unknown chronic place state"):
        store.update_chronic_place(p.id, {"state": "asleep"}, T0)
    with pytest.raises(NotFound):
        store.update_chronic_place(p.id + 99, {"state": "closed"}, T0)
    with pytest.raises(NotFound):
        store.get_chronic_place(p.id + 99)
    assert store.get_chronic_place(p.id) == p
