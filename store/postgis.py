"""The production store: PostgreSQL + PostGIS through geoalchemy2; points carry a GIST-indexed geometry."""

from __future__ import annotations

import shapely
import sqlalchemy as sa
from geoalchemy2 import functions as gf
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from store.base import BBox
from store.schema import cases
from store.sql import SQLStore


class PostGISStore(SQLStore):
    insert = staticmethod(insert)
    greatest = sa.func.greatest

    def _make_engine(self, url: str) -> Engine:
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)

    def _serialise_writes(self, conn: Connection) -> None:
        # ids come from a sequence at INSERT time, so two transactions could commit out of id order and a reader
        # following max(id) would skip the one that commits last. This lock (which conflicts with itself, and
        # with INSERT's, not with readers) is held to the commit: writers queue, and ids commit in order.
        conn.exec_driver_sql("LOCK TABLE case_events IN SHARE ROW EXCLUSIVE MODE")

    def _bbox_clause(self, bbox: BBox) -> sa.ColumnElement[bool]:
        # && uses the GIST index; ST_Covers keeps points on the box's edges, as the SQLite backend does
        envelope = gf.ST_MakeEnvelope(*bbox, 4326)
        return sa.and_(cases.c.geom.op("&&")(envelope), gf.ST_Covers(envelope, cases.c.geom))

    def _polygon_candidates(self, polygon: shapely.Geometry) -> sa.ColumnElement[bool]:
        return gf.ST_Covers(gf.ST_GeomFromText(shapely.to_wkt(polygon, rounding_precision=-1), 4326), cases.c.geom)
