"""Campaigns (周期集群仗) in SQL shared by both backends (a mixin of SQLStore, like store/chronic.py), with their
history: every create and change is a campaign_events row written in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, fields
from datetime import date, datetime
from typing import Any

import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.errors import Conflict, Invalid, NotFound
from store.models import CAMPAIGN_KINDS, CAMPAIGN_NAME_MAX, Campaign, CampaignEvent, NewCampaign, as_utc
from store.schema import campaign_events, campaigns

CHANGEABLE = frozenset({"name", "kind", "area", "area_source", "districts", "starts_on", "ends_on", "matters"})
MAX_SOURCE = 2000  # area_source and the matters list, as stored


def _campaign(row: sa.Row[Any]) -> Campaign:
    m = dict(row._mapping)
    for k in ("created_at", "updated_at"):
        m[k] = as_utc(m[k])
    m["districts"] = tuple(d for d in m["districts"].split(",") if d)
    m["matters"] = tuple(x for x in m["matters"].split(",") if x)
    return Campaign(**m)


def _check(values: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a campaign's fields, refused (Invalid, naming the field) when they cannot be stored."""
    out = dict(values)
    if "name" in out:
        name = str(out["name"]).strip()
        if not name or len(name) > CAMPAIGN_NAME_MAX:
            raise Invalid(
                f"a campaign's name must be 1 to {CAMPAIGN_NAME_MAX} characters", code="campaign.name",
                max=CAMPAIGN_NAME_MAX,
            )  # fmt: skip
        out["name"] = name
    if "kind" in out and out["kind"] not in CAMPAIGN_KINDS:
        raise Invalid(
            f"unknown campaign kind {out['kind']!r}; kinds: {', '.join(CAMPAIGN_KINDS)}", code="campaign.kind",
            kind=str(out["kind"]),
        )  # fmt: skip
    if "area" in out:
        area = out["area"]
        if not isinstance(area, shapely.Geometry) or area.geom_type not in ("Polygon", "MultiPolygon"):
            raise Invalid("a campaign's area must be a polygon", code="campaign.area_shape")
    for key in ("districts", "matters"):
        if key in out:
            out[key] = ",".join(str(v) for v in out[key])
    for key in ("area_source", "matters", "districts"):
        if key in out and len(out[key]) > (255 if key == "districts" else MAX_SOURCE):
            raise Invalid(f"a campaign's {key} is too long", code="campaign.too_long", field=key)
    return out


def _dates_ok(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise Invalid(f"the campaign ends ({ends_on}) before it starts ({starts_on})", code="campaign.period")


def _json(value: Any) -> Any:
    if isinstance(value, shapely.Geometry):
        return value.wkt
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


class CampaignStore:
    """Campaigns and their history (a mixin: it uses the engine and the write transaction of the store)."""

    engine: Engine
    _write: Callable[[], AbstractContextManager[Connection]]

    def add_campaign(self, new: NewCampaign, actor: str, at: datetime) -> Campaign:
        """Store a new campaign (its id assigned) and its "create" event; Conflict if the name is taken."""
        row = _check({f.name: getattr(new, f.name) for f in fields(NewCampaign)})
        _dates_ok(new.starts_on, new.ends_on)
        with self._write() as conn:
            taken = conn.execute(sa.select(campaigns.c.id).where(campaigns.c.name == row["name"])).first()
            if taken is not None:
                raise Conflict(f"a campaign named {row['name']!r} exists", code="campaign.taken", name=row["name"])
            new_id = conn.execute(
                campaigns.insert()
                .values(**row, created_by=actor, created_at=at, updated_at=at, version=1)
                .returning(campaigns.c.id)
            ).scalar_one()
            conn.execute(
                campaign_events.insert().values(campaign_id=new_id, at=at, actor=actor, action="create", before={})
            )
        return self.get_campaign(int(new_id))

    def get_campaign(self, campaign_id: int) -> Campaign:
        """One campaign; NotFound if absent."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(campaigns).where(campaigns.c.id == campaign_id)).first()
        if row is None:
            raise NotFound(f"no campaign {campaign_id}", code="campaign.missing", id=str(campaign_id))
        return _campaign(row)

    def campaigns(self, districts: Sequence[str] | None = None) -> list[Campaign]:
        """Campaigns, latest start first; with `districts`, those whose area touches one of them."""
        q = sa.select(campaigns).order_by(campaigns.c.starts_on.desc(), campaigns.c.id.desc())
        with self.engine.connect() as conn:
            found = [_campaign(r) for r in conn.execute(q).all()]
        if districts is None:
            return found
        wanted = set(districts)
        return [c for c in found if wanted & set(c.districts)]

    def update_campaign(
        self, campaign_id: int, changes: dict[str, Any], version: int, actor: str, at: datetime
    ) -> Campaign:
        """Change a campaign's name, kind, area, period or matters if it is still at `version` (Conflict if
        someone changed it first), recording the values before in its history."""
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise Invalid(f"cannot change {', '.join(sorted(unknown))} of a campaign", code="campaign.field")
        old = self.get_campaign(campaign_id)
        _dates_ok(changes.get("starts_on", old.starts_on), changes.get("ends_on", old.ends_on))
        values = _check(changes)
        before = {k: _json(asdict(old)[k] if k != "area" else old.area) for k in changes}
        with self._write() as conn:
            if "name" in values:
                taken = conn.execute(
                    sa.select(campaigns.c.id).where(campaigns.c.name == values["name"], campaigns.c.id != campaign_id)
                ).first()
                if taken is not None:
                    raise Conflict(f"a campaign named {values['name']!r} exists", code="campaign.taken",
                                   name=values["name"])  # fmt: skip
            done = conn.execute(
                campaigns.update()
                .where(campaigns.c.id == campaign_id, campaigns.c.version == version)
                .values(**values, updated_at=at, version=version + 1)
            ).rowcount
            if done != 1:
                raise Conflict(
                    f"campaign {campaign_id} was changed by someone else (version {old.version}, not {version})",
                    code="campaign.version",
                )
            conn.execute(
                campaign_events.insert().values(
                    campaign_id=campaign_id, at=at, actor=actor, action="update", before=before
                )
            )
        return self.get_campaign(campaign_id)

    def campaign_events(self, campaign_id: int) -> list[CampaignEvent]:
        """A campaign's history, oldest first."""
        q = sa.select(campaign_events).where(campaign_events.c.campaign_id == campaign_id)
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(campaign_events.c.id)).all()
        return [CampaignEvent(**{**r._mapping, "at": as_utc(r.at)}) for r in rows]
