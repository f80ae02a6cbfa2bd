"""Users, cases with their ownership answer, the append-only case event log, case numbers.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from store.schema import PointGeometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(128), nullable=False, server_default=""),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("districts", sa.String(255), nullable=False, server_default=""),
        sa.Column("unit", sa.String(64)),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", _ts(), nullable=False),
    )
    op.create_table(
        "cases",
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
        sa.Column("reported_at", _ts(), nullable=False),
        sa.Column("district", sa.String(6), index=True),
        sa.Column("subdistrict", sa.String(9)),
        sa.Column("community", sa.String(12)),
        sa.Column("cell", sa.String(15), index=True),
        sa.Column("squad", sa.String(32)),
        sa.Column("lead_department", sa.String(32)),
        sa.Column("assignee", sa.String(32)),
        sa.Column("ownership", sa.JSON, nullable=False),
        sa.Column("deadline_at", _ts()),
        sa.Column("work_seconds", sa.Float),
        sa.Column("paused_at", _ts()),
        sa.Column("filed_at", _ts()),
        sa.Column("dispatched_at", _ts()),
        sa.Column("closed_at", _ts()),
        sa.Column("closed_on_time", sa.Boolean),
        sa.Column("flags", sa.String(255), nullable=False, server_default=""),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_cases_lon_lat", "cases", ["lon", "lat"])
    if postgres:
        op.create_index("ix_cases_geom", "cases", ["geom"], postgresql_using="gist")
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(32)),
        sa.Column("to_state", sa.String(32)),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("before", sa.JSON, nullable=False),
        sa.Column("after", sa.JSON, nullable=False),
    )
    op.create_table(
        "case_numbers",
        sa.Column("prefix", sa.String(24), primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )
    if postgres:
        # the audit log is append-only, whoever connects
        op.execute(
            "CREATE FUNCTION xiuhua_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'case_events is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events "
            "FOR EACH ROW EXECUTE FUNCTION xiuhua_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER case_events_no_{verb.lower()} BEFORE {verb} ON case_events "
                "BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END"
            )


def downgrade() -> None:
    for table in ("case_numbers", "case_events", "cases", "users"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS xiuhua_append_only()")
