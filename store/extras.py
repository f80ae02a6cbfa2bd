"""Photos' rows, inspectors' patrol cells and the webhook outbox, in SQL shared by both backends (a mixin of
SQLStore, like store/accounts.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.errors import Invalid, NotFound
from store.models import STAGES, Delivery, Media, as_utc
from store.schema import deliveries, media, patrol_cells, users


def _media(row: sa.Row[Any]) -> Media:
    m = dict(row._mapping)
    m["uploaded_at"] = as_utc(m["uploaded_at"])
    m["synthetic"], m["public"] = bool(m["synthetic"]), bool(m["public"])
    return Media(**m)


def _delivery(row: sa.Row[Any]) -> Delivery:
    m = dict(row._mapping)
    for k in ("created_at", "next_at", "delivered_at"):
        m[k] = None if m[k] is None else as_utc(m[k])
    m["failed"] = bool(m["failed"])
    return Delivery(**m)


def media_rows(items: Sequence[Media], case_id: int | None = None) -> list[dict[str, Any]]:
    """Photos as rows of `media` (case_id given: for photos of a case that is being created)."""
    rows = []
    for m in items:
        if m.stage not in STAGES:
            raise Invalid(f"unknown photo stage {m.stage!r}; stages: {', '.join(STAGES)}")
        row = asdict(m)
        row.pop("id")
        if case_id is not None:
            row["case_id"] = case_id
        rows.append(row)
    return rows


class ExtrasStore:
    """Photos, patrol cells and deliveries (a mixin: it uses the engine and the write transaction of the store)."""

    engine: Engine
    _write: Callable[[], AbstractContextManager[Connection]]

    # -- photos ------------------------------------------------------------------------------------
    def add_media(self, items: Sequence[Media]) -> list[Media]:
        """Store photo rows (a photo already stored for the same case and stage is kept once)."""
        if not items:
            return []
        with self._write() as conn:
            self._insert_media(conn, media_rows(items))
        return self.media_of([m.case_id for m in items])

    @staticmethod
    def _insert_media(conn: Connection, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            exists = conn.execute(
                sa.select(media.c.id).where(
                    media.c.case_id == row["case_id"], media.c.stage == row["stage"], media.c.sha256 == row["sha256"]
                )
            ).first()
            if exists is None:
                conn.execute(media.insert().values(**row))

    def media_of(self, case_ids: Sequence[int]) -> list[Media]:
        """The photos of some cases, oldest first."""
        ids = sorted(set(case_ids))
        if not ids:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(media).where(media.c.case_id.in_(ids)).order_by(media.c.id)).all()
        return [_media(r) for r in rows]

    def media_by_hash(self, sha256: str) -> list[Media]:
        """Every row of one file (the cases it belongs to): whoever may see one of them may see the file."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(media).where(media.c.sha256 == sha256[:64])).all()
        return [_media(r) for r in rows]

    # -- patrol cells --------------------------------------------------------------------------------
    def set_patrol_cells(self, username: str, cells: Sequence[str]) -> list[str]:
        """Replace the cells an inspector patrols; NotFound if the account is absent."""
        with self._write() as conn:
            if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first() is None:
                raise NotFound(f"no user {username!r}")
            conn.execute(patrol_cells.delete().where(patrol_cells.c.username == username))
            unique = sorted(set(cells))
            if unique:
                conn.execute(patrol_cells.insert(), [{"username": username, "cell": c} for c in unique])
        return self.patrol_cells(username)

    def patrol_cells(self, username: str) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(patrol_cells.c.cell).where(patrol_cells.c.username == username).order_by(patrol_cells.c.cell)
            ).all()
        return [r[0] for r in rows]

    def inspectors_of(self, cells: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """For each cell that some inspector patrols, who patrols it (active accounts only)."""
        wanted = sorted({c for c in cells if c})
        out: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 5000):
                rows = conn.execute(
                    sa.select(patrol_cells.c.cell, patrol_cells.c.username)
                    .join(users, users.c.username == patrol_cells.c.username)
                    .where(patrol_cells.c.cell.in_(wanted[start : start + 5000]), users.c.active.is_(True))
                    .order_by(patrol_cells.c.username)
                ).all()
                for cell, name in rows:
                    out.setdefault(cell, []).append(name)
        return {k: tuple(v) for k, v in out.items()}

    # -- webhook outbox ------------------------------------------------------------------------------
    def enqueue_delivery(self, kind: str, payload: dict[str, Any], at: datetime) -> int:
        with self._write() as conn:
            return int(
                conn.execute(
                    deliveries.insert()
                    .values(kind=kind[:32], payload=payload, created_at=at, next_at=at)
                    .returning(deliveries.c.id)
                ).scalar_one()
            )

    def due_deliveries(self, at: datetime, limit: int = 50) -> list[Delivery]:
        """Undelivered, not given up, due by `at`, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(deliveries)
                .where(deliveries.c.delivered_at.is_(None), deliveries.c.failed.is_(False), deliveries.c.next_at <= at)
                .order_by(deliveries.c.id)
                .limit(limit)
            ).all()
        return [_delivery(r) for r in rows]

    def record_attempt(
        self, delivery_id: int, at: datetime, error: str = "", next_at: datetime | None = None, give_up: bool = False
    ) -> None:
        """One attempt at a delivery: delivered (no error), or failed and retried at `next_at` (or given up)."""
        values: dict[str, Any] = {"attempts": deliveries.c.attempts + 1, "last_error": error[:2000]}
        if not error:
            values["delivered_at"] = at
        elif give_up:
            values["failed"] = True
        else:
            values["next_at"] = next_at or at
        with self._write() as conn:
            conn.execute(deliveries.update().where(deliveries.c.id == delivery_id).values(**values))

    def deliveries(self, failed: bool | None = None, limit: int = 200) -> list[Delivery]:
        """The newest deliveries (only those given up, with failed=True)."""
        q = sa.select(deliveries).order_by(deliveries.c.id.desc()).limit(limit)
        if failed is not None:
            q = q.where(deliveries.c.failed.is_(failed))
        with self.engine.connect() as conn:
            return [_delivery(r) for r in conn.execute(q).all()]
