"""Effective-dated versions of the city's layers and their features.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from store.schema import AnyGeometry

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "layer_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("layer", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("feature_count", sa.Integer, nullable=False),
        sa.Column("reassigned", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("layer", "version"),
    )
    op.create_table(
        "layer_features",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("layer_versions.id"), nullable=False, index=True),
        sa.Column("feature_id", sa.String(64), nullable=False),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("geom", AnyGeometry(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_layer_features_geom", "layer_features", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("layer_features")
    op.drop_table("layer_versions")
