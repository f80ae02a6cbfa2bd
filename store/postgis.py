"""The production store: PostgreSQL + PostGIS through geoalchemy2; points carry a GIST-indexed geometry."""

from __future__ import annotations

import shapely
import sqlalchemy as sa
from geoalchemy2 import functions as gf
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine

from store.base import BBox
from store.schema import cases
from store.sql import SQLStore


class PostGISStore(SQLStore):
    insert = staticmethod(insert)
    greatest = sa.func.greatest

    def _make_engine(self, url: str) -> Engine:
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)

    def _bbox_clause(self, bbox: BBox) -> sa.ColumnElement[bool]:
        # && uses the GIST index; ST_Covers keeps points on the box's edges, as the SQLite backend does
        envelope = gf.ST_MakeEnvelope(*bbox, 4326)
        return sa.and_(cases.c.geom.op("&&")(envelope), gf.ST_Covers(envelope, cases.c.geom))

    def _polygon_candidates(self, polygon: shapely.Geometry) -> sa.ColumnElement[bool]:
        return gf.ST_Covers(gf.ST_GeomFromText(shapely.to_wkt(polygon, rounding_precision=-1), 4326), cases.c.geom)
