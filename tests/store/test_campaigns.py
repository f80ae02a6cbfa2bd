"""Campaigns on both stores: add, list by district, get, update with a version check, and the history."""

from datetime import UTC, date, datetime, timedelta

import pytest
import shapely

from store.errors import Conflict, Invalid, NotFound
from store.models import NewCampaign

AT = datetime(2026, 11, 1, 2, tzinfo=UTC)
AREA = shapely.MultiPolygon([shapely.box(118.08, 24.47, 118.10, 24.49)])


def new(name="治难点 · 中山路", districts=("350203",), **kw):
    base = {"name": name, "kind": "difficult", "area": AREA, "area_source": "cells:A,B", "districts": districts,
            "starts_on": date(2026, 11, 1), "ends_on": date(2026, 11, 30), "matters": ("06036", "09006")}  # fmt: skip
    return NewCampaign(**{**base, **kw})


def test_add_get_list_by_district(store):
    a = store.add_campaign(new(), "lead", AT)
    b = store.add_campaign(new("通堵点", ("350206",), kind="congestion", matters=()), "admin", AT)
    got = store.get_campaign(a.id)
    assert got == a and got.version == 1 and got.created_by == "lead" and got.created_at == AT
    assert got.matters == ("06036", "09006") and got.districts == ("350203",) and got.area.equals(AREA)
    assert got.starts_on == date(2026, 11, 1) and store.get_campaign(b.id).matters == ()
    assert {c.id for c in store.campaigns()} == {a.id, b.id}
    assert [c.id for c in store.campaigns(districts=["350206"])] == [b.id]
    assert store.campaigns(districts=["350211"]) == []
    with pytest.raises(NotFound):
        store.get_campaign(999)


def test_update_checks_the_version_and_keeps_history(store):
    a = store.add_campaign(new(), "lead", AT)
    later = AT + timedelta(hours=1)
    b = store.update_campaign(a.id, {"ends_on": date(2026, 12, 15), "kind": "other"}, 1, "admin", later)
    assert (b.version, b.ends_on, b.kind, b.updated_at) == (2, date(2026, 12, 15), "other", later)
    with pytest.raises(Conflict, match="changed by someone else"):
        store.update_campaign(a.id, {"name": "x"}, 1, "lead", later)
    events = store.campaign_events(a.id)
    assert [(e.action, e.actor) for e in events] == [("create", "lead"), ("update", "admin")]
    assert events[1].before == {"ends_on": "2026-11-30", "kind": "difficult"} and events[1].at == later
    assert store.get_campaign(a.id).version == 2


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ({"name": "x" * 81}, "1 to 80"),
        ({"kind": "war"}, "unknown campaign kind"),
        ({"ends_on": date(2026, 10, 1)}, "ends .* before it starts"),
        ({"area": shapely.Point(118.09, 24.48)}, "must be a polygon"),
    ],
)
def test_refusals_store_nothing(store, bad, words):
    with pytest.raises(Invalid, match=words):
        store.add_campaign(new(**bad), "lead", AT)
    assert store.campaigns() == []
    a = store.add_campaign(new(), "lead", AT)
    with pytest.raises(Invalid, match=words):
        store.update_campaign(a.id, bad, 1, "lead", AT)
    assert store.get_campaign(a.id).version == 1 and len(store.campaign_events(a.id)) == 1


def test_names_are_unique(store):
    store.add_campaign(new(), "lead", AT)
    with pytest.raises(Conflict, match="exists"):
        store.add_campaign(new(), "lead", AT)
    other = store.add_campaign(new("扫盲点"), "lead", AT)
    with pytest.raises(Conflict, match="exists"):
        store.update_campaign(other.id, {"name": "治难点 · 中山路"}, 1, "lead", AT)
    assert len(store.campaigns()) == 2
