"""Helpers for tests that use a PostGIS database."""

import sqlalchemy as sa

from store.schema import metadata


def empty_database(url: str) -> None:
    """Drop everything the migrations create, so the next test starts from an empty schema."""
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {', '.join([*metadata.tables, 'alembic_version'])} CASCADE"))
        conn.execute(sa.text("DROP FUNCTION IF EXISTS xiuhua_append_only() CASCADE"))
    eng.dispose()
