"""Chronic places (疑难杂症) in SQL shared by both backends (a mixin of SQLStore, like store/extras.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.errors import Invalid, NotFound
from store.models import CHRONIC_STATES, ChronicPlace, as_utc
from store.schema import chronic_places

CHANGEABLE = frozenset({"fast_track_case_id", "case_ids", "last_at", "state", "lon", "lat", "cell"})


def _place(row: sa.Row[Any]) -> ChronicPlace:
    m = dict(row._mapping)
    for k in ("first_at", "last_at", "created_at", "updated_at"):
        m[k] = as_utc(m[k])
    m["case_ids"] = tuple(int(i) for i in m["case_ids"])
    return ChronicPlace(**m)


def _values(changes: dict[str, Any]) -> dict[str, Any]:
    values = dict(changes)
    if "case_ids" in values:
        values["case_ids"] = sorted({int(i) for i in values["case_ids"]})
    if values.get("state", "open") not in CHRONIC_STATES:
        raise Invalid(f"unknown chronic place state {values['state']!r}; states: {', '.join(CHRONIC_STATES)}")
    return values


class ChronicStore:
    """Chronic places (a mixin: it uses the engine and the write transaction of the store)."""

    engine: Engine
    _write: Callable[[], AbstractContextManager[Connection]]

    def add_chronic_place(self, place: ChronicPlace) -> ChronicPlace:
        """Store a new chronic place (its id assigned)."""
        row = _values(asdict(place))
        row.pop("id")
        with self._write() as conn:
            new_id = conn.execute(chronic_places.insert().values(**row).returning(chronic_places.c.id)).scalar_one()
        return self.get_chronic_place(int(new_id))

    def get_chronic_place(self, place_id: int) -> ChronicPlace:
        """One chronic place; NotFound if absent."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(chronic_places).where(chronic_places.c.id == place_id)).first()
        if row is None:
            raise NotFound(f"no chronic place {place_id}")
        return _place(row)

    def chronic_places(
        self, states: Sequence[str] | None = None, districts: Sequence[str] | None = None
    ) -> list[ChronicPlace]:
        """Chronic places, newest recurrence first, optionally by state and district."""
        q = sa.select(chronic_places).order_by(chronic_places.c.last_at.desc(), chronic_places.c.id.desc())
        if states is not None:
            q = q.where(chronic_places.c.state.in_(list(states)))
        if districts is not None:
            q = q.where(chronic_places.c.district.in_(list(districts)))
        with self.engine.connect() as conn:
            return [_place(r) for r in conn.execute(q).all()]

    def update_chronic_place(self, place_id: int, changes: dict[str, Any], at: datetime) -> ChronicPlace:
        """Change a chronic place's fast-track case, repeats, last report, state or position."""
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise Invalid(f"cannot change {', '.join(sorted(unknown))} of a chronic place")
        with self._write() as conn:
            done = conn.execute(
                chronic_places.update().where(chronic_places.c.id == place_id).values(**_values(changes), updated_at=at)
            ).rowcount
        if done != 1:
            raise NotFound(f"no chronic place {place_id}")
        return self.get_chronic_place(place_id)
