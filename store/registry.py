"""Choose a backend by URL scheme; only app.py and cli.py call this."""

from __future__ import annotations

import sqlalchemy as sa

from store.base import Store
from store.embedded import EmbeddedStore
from store.errors import Invalid
from store.postgis import PostGISStore

BACKENDS: dict[str, type[EmbeddedStore] | type[PostGISStore]] = {
    "sqlite": EmbeddedStore,
    "postgresql": PostGISStore,
}


def open_store(url: str, check: bool = True) -> Store:
    """A store for a database URL: sqlite:///path.sqlite or postgresql+psycopg://user@host/db."""
    try:
        backend = sa.engine.make_url(url).get_backend_name()
    except sa.exc.ArgumentError:
        raise Invalid(f"not a database URL: {url!r}") from None
    if backend not in BACKENDS:
        raise Invalid(f"unsupported database {backend!r} in {url!r}; use sqlite:/// or postgresql+psycopg://")
    return BACKENDS[backend](url, check=check)
