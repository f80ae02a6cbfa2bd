"""The embedded store: one SQLite file, no server. Points are found by their lon/lat columns."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import shapely
import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Connection, Engine

from store.base import BBox
from store.models import Case
from store.schema import cases
from store.sql import SQLStore


class EmbeddedStore(SQLStore):
    insert = staticmethod(insert)
    greatest = sa.func.max  # SQLite's two-argument max() is a scalar function

    def _make_engine(self, url: str) -> Engine:
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            _private_file(Path(path))
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # writers take the write lock at BEGIN, so two of them queue instead of failing half-way
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

        return _without_pysqlite_begin(engine)

    def _serialise_writes(self, conn: Connection) -> None:
        pass  # BEGIN IMMEDIATE (above) already queues writers: ids commit in the order they are drawn

    def _bbox_clause(self, bbox: BBox) -> sa.ColumnElement[bool]:
        minx, miny, maxx, maxy = bbox
        return sa.and_(cases.c.lon.between(minx, maxx), cases.c.lat.between(miny, maxy))

    def _polygon_candidates(self, polygon: shapely.Geometry) -> sa.ColumnElement[bool]:
        minx, miny, maxx, maxy = (float(v) for v in shapely.bounds(polygon))
        return self._bbox_clause((minx, miny, maxx, maxy))

    def _polygon_exact(self, polygon: shapely.Geometry, found: list[Case]) -> list[Case]:
        if not found:
            return found
        shapely.prepare(polygon)
        inside = shapely.covers(polygon, shapely.points([c.lon for c in found], [c.lat for c in found]))
        return [c for c, ok in zip(found, inside, strict=True) if ok]


def _private_file(path: Path) -> None:
    """The database holds password hashes and sessions: only its owner may read it (SQLite gives its -wal and
    -shm files the same mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


def _without_pysqlite_begin(engine: Engine) -> Engine:
    """pysqlite opens transactions itself; let SQLAlchemy's BEGIN (IMMEDIATE, above) do it instead."""

    @sa.event.listens_for(engine, "connect")
    def _no_autobegin(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    return engine
