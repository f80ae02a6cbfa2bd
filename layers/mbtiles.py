"""A local MBTiles file as the basemap (raster tiles), for an intranet with no tile server."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

FORMATS = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


class MBTiles:
    """Read-only access to an MBTiles 1.3 file; one connection per thread (sqlite3's rule)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        meta = dict(self._db().execute("SELECT name, value FROM metadata").fetchall())
        fmt = str(meta.get("format", "png")).lower()
        if fmt not in FORMATS:
            raise ValueError(f"{path}: MBTiles format {fmt!r} is not a raster format ({', '.join(FORMATS)})")
        self.mimetype = FORMATS[fmt]
        self.attribution = str(meta.get("attribution", ""))

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.db = db
        return db

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ (z, x, y), or None; MBTiles rows count from the south (TMS)."""
        row = (
            self._db()
            .execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, (1 << z) - 1 - y),
            )
            .fetchone()
        )
        return bytes(row[0]) if row else None
