"""Chronic places (疑难杂症): where one matter keeps recurring, the repeats, and the place's fast-track case.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chronic_places",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("matter", sa.String(8), nullable=False),
        sa.Column("cell", sa.String(15), nullable=True),
        sa.Column("district", sa.String(6), nullable=True, index=True),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("fast_track_case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("case_ids", sa.JSON, nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(8), nullable=False, index=True),
        sa.Column("quiet_days", sa.Integer, nullable=False),
        sa.Column("radius_m", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("chronic_places")
