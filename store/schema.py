"""Tables, shared by both backends; geometry is PostGIS geometry(Point, 4326) or WKB in SQLite."""

from __future__ import annotations

from typing import Any

import shapely
import sqlalchemy as sa
from geoalchemy2 import Geometry
from geoalchemy2.elements import WKBElement
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData()


class PointGeometry(TypeDecorator[shapely.Geometry]):
    """A lon/lat point: geometry(Point, 4326) on PostGIS (GIST-indexed), WKB bytes on SQLite."""

    impl = sa.LargeBinary
    cache_ok = True
    # what geoalchemy2's DDL hooks read off a spatial column: we create the GIST index in the migration
    geometry_type = "POINT"
    srid = 4326
    dimension = 2
    spatial_index = False
    use_N_D_index = False
    use_typmod = None
    nullable = False

    def load_dialect_impl(self, dialect: Dialect | None) -> Any:
        # geoalchemy2 asks with dialect=None when it inspects columns
        if dialect is None:
            return sa.LargeBinary()
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Geometry(self.geometry_type, srid=4326, spatial_index=False))
        return dialect.type_descriptor(sa.LargeBinary())

    def process_bind_param(self, value: shapely.Geometry | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return WKBElement(shapely.to_wkb(value), srid=4326)
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> shapely.Geometry | None:
        if value is None:
            return None
        data = bytes(value.data) if isinstance(value, WKBElement) else bytes(value)
        return shapely.from_wkb(data)


class AnyGeometry(PointGeometry):
    """Any lon/lat geometry (layer features): geometry(Geometry, 4326) on PostGIS, WKB on SQLite."""

    geometry_type = "GEOMETRY"
    cache_ok = True


def utc_datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(128), nullable=False, server_default=""),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("districts", sa.String(255), nullable=False, server_default=""),
    sa.Column("unit", sa.String(64)),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", utc_datetime(), nullable=False),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_no", sa.String(32), nullable=False, unique=True),
    sa.Column("state", sa.String(32), nullable=False, index=True),
    sa.Column("matter", sa.String(5), nullable=False, index=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("urgency", sa.String(16), nullable=False, server_default="normal"),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("reporter", sa.String(64), nullable=False, server_default=""),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("geom", PointGeometry(), nullable=False),
    sa.Column("reported_at", utc_datetime(), nullable=False),
    sa.Column("district", sa.String(6), index=True),
    sa.Column("subdistrict", sa.String(9)),
    sa.Column("community", sa.String(12)),
    sa.Column("cell", sa.String(15), index=True),
    sa.Column("squad", sa.String(32)),
    sa.Column("lead_department", sa.String(32)),
    sa.Column("assignee", sa.String(32)),
    sa.Column("ownership", sa.JSON, nullable=False),
    sa.Column("deadline_at", utc_datetime()),
    sa.Column("work_seconds", sa.Float),
    sa.Column("paused_at", utc_datetime()),
    sa.Column("filed_at", utc_datetime()),
    sa.Column("dispatched_at", utc_datetime()),
    sa.Column("closed_at", utc_datetime()),
    sa.Column("closed_on_time", sa.Boolean),
    sa.Column("flags", sa.String(255), nullable=False, server_default=""),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("updated_at", utc_datetime(), nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.Column("reports", sa.Integer, nullable=False, server_default="1"),  # this report and those merged into it
    sa.Column("duplicate_of", sa.Integer),  # a duplicate report: the case it was merged into
    sa.Index("ix_cases_lon_lat", "lon", "lat"),
)

case_events = sa.Table(
    "case_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("at", utc_datetime(), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("from_state", sa.String(32)),
    sa.Column("to_state", sa.String(32)),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("before", sa.JSON, nullable=False),
    sa.Column("after", sa.JSON, nullable=False),
)

case_numbers = sa.Table(
    "case_numbers",  # the last serial used per case-number prefix (kind + matter + date)
    metadata,
    sa.Column("prefix", sa.String(24), primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

layer_versions = sa.Table(
    "layer_versions",  # effective-dated: a boundary change is a new version, never an edit
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("layer", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("effective_from", utc_datetime(), nullable=False),
    sa.Column("source", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("feature_count", sa.Integer, nullable=False),
    sa.Column("reassigned", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", utc_datetime(), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.UniqueConstraint("layer", "version"),
)

layer_features = sa.Table(
    "layer_features",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("layer_versions.id"), nullable=False, index=True),
    sa.Column("feature_id", sa.String(64), nullable=False),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Column("geom", AnyGeometry(), nullable=False),
)

sessions = sa.Table(
    "sessions",  # server-side sign-in sessions: the cookie holds a random token, the table its hash
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # sha256 of the token
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", utc_datetime(), nullable=False),
    sa.Column("seen_at", utc_datetime(), nullable=False),
)

sign_in_attempts = sa.Table(
    "sign_in_attempts",  # fixed-window counters of sign-in attempts, per account+address and per address
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("window_start", utc_datetime(), nullable=False, index=True),
    sa.Column("count", sa.Integer, nullable=False),
)

media = sa.Table(
    "media",  # photos: the files live on disk by content hash (dispatch/media.py), the rows say whose they are
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
    sa.Column("stage", sa.String(16), nullable=False),  # report, verify, feedback, check
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("content_type", sa.String(32), nullable=False),
    sa.Column("bytes", sa.Integer, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("uploaded_by", sa.String(64), nullable=False),
    sa.Column("uploaded_at", utc_datetime(), nullable=False),
    sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("case_id", "stage", "sha256"),
)

patrol_cells = sa.Table(
    "patrol_cells",  # the grid cells an inspector (role supervisor) patrols: their verify and check tasks
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("cell", sa.String(15), primary_key=True, index=True),
)

deliveries = sa.Table(
    "deliveries",  # the webhook outbox: kept until delivered, retried with back-off; failures stay visible
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", utc_datetime(), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_at", utc_datetime(), nullable=False, index=True),
    sa.Column("delivered_at", utc_datetime()),
    sa.Column("failed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
)

# -- Open311 (migration 0005) ---------------------------------------------------------------------------
api_keys = sa.Table(
    "api_keys",  # a client of the Open311 API: only the sha256 of its key is kept
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("channel", sa.String(16), nullable=False),  # hotline, app or partner
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("rate_per_minute", sa.Integer, nullable=False, server_default="60"),
    sa.Column("created_at", utc_datetime(), nullable=False),
    sa.Column("revoked_at", utc_datetime()),
)

api_calls = sa.Table(
    "api_calls",  # every call made with a key
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", utc_datetime(), nullable=False, index=True),
    sa.Column("key_name", sa.String(64), nullable=False, index=True),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.String(255), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
)

api_rate = sa.Table(
    "api_rate",  # fixed-window counters of each key's POSTs (shared by every server process)
    metadata,
    sa.Column("key_name", sa.String(64), primary_key=True),
    sa.Column("window_start", utc_datetime(), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
)

open311_requests = sa.Table(
    "open311_requests",  # the private part of a request posted through Open311: never published
    metadata,
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), primary_key=True),
    sa.Column("key_name", sa.String(64), nullable=False, index=True),
    sa.Column("contact", sa.JSON, nullable=False),  # first_name, last_name, email, phone, device_id, account_id
    sa.Column("attributes", sa.JSON, nullable=False),
    sa.Column("media_url", sa.String(500), nullable=False, server_default=""),
    sa.Column("address_string", sa.String(255), nullable=False, server_default=""),
)

chronic_places = sa.Table(
    "chronic_places",  # places where one matter keeps recurring, each with its one fast-track case
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("matter", sa.String(8), nullable=False),
    sa.Column("cell", sa.String(15)),
    sa.Column("district", sa.String(6), index=True),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("fast_track_case_id", sa.Integer, sa.ForeignKey("cases.id")),
    sa.Column("case_ids", sa.JSON, nullable=False),
    sa.Column("first_at", utc_datetime(), nullable=False),
    sa.Column("last_at", utc_datetime(), nullable=False),
    sa.Column("state", sa.String(8), nullable=False, index=True),
    sa.Column("quiet_days", sa.Integer, nullable=False),
    sa.Column("radius_m", sa.Float, nullable=False),
    sa.Column("created_at", utc_datetime(), nullable=False),
    sa.Column("updated_at", utc_datetime(), nullable=False),
)

campaigns = sa.Table(
    "campaigns",  # 周期集群仗: a named push on an area, a period and some matters
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(80), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("area", AnyGeometry(), nullable=False),
    sa.Column("area_source", sa.String(2000), nullable=False),
    sa.Column("districts", sa.String(255), nullable=False),  # comma list: the districts the area touches
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("matters", sa.String(2000), nullable=False),  # comma list of matter codes; empty: every matter
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", utc_datetime(), nullable=False),
    sa.Column("updated_at", utc_datetime(), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

campaign_events = sa.Table(
    "campaign_events",  # a campaign's history: who created or changed what, when (the values before)
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False, index=True),
    sa.Column("at", utc_datetime(), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("before", sa.JSON, nullable=False),
)
