"""Open311: API keys (only their sha256 is kept), the log of API calls, per-key rate counters, and the private
record of a request posted through Open311 (the reporter's contact, the client's media URL and attributes),
which no GET ever publishes.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("rate_per_minute", sa.Integer, nullable=False, server_default="60"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "api_calls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("key_name", sa.String(64), nullable=False, index=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
    )
    op.create_table(
        "api_rate",
        sa.Column("key_name", sa.String(64), primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "open311_requests",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("key_name", sa.String(64), nullable=False, index=True),
        sa.Column("contact", sa.JSON, nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("media_url", sa.String(500), nullable=False, server_default=""),
        sa.Column("address_string", sa.String(255), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("open311_requests")
    op.drop_table("api_rate")
    op.drop_table("api_calls")
    op.drop_table("api_keys")
