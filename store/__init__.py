"""Persistence: one typed interface (store.base.Store), an embedded SQLite backend and a PostGIS backend."""
