"""Typed settings from XIUHUA_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    city: str
    database_url: str
    var_dir: Path  # writable: the embedded store and the session key live here by default
    secret_key: str | None  # signs session cookies; None: a random key kept in var_dir/secret_key
    basemap: str  # "offline" (default), "osm", "tianditu", "amap", "xyz:<url template>" or "mbtiles:<path>"
    tianditu_key: str | None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        var_dir = Path(e.get("XIUHUA_VAR_DIR", HERE / "var"))
        return cls(
            data_dir=Path(e.get("XIUHUA_DATA_DIR", HERE / "data")),
            city=e.get("XIUHUA_CITY", "xiamen"),
            database_url=e.get("XIUHUA_DATABASE_URL", f"sqlite:///{var_dir / 'xiuhua.sqlite'}"),
            var_dir=var_dir,
            secret_key=e.get("XIUHUA_SECRET_KEY") or None,
            basemap=e.get("XIUHUA_BASEMAP", "offline"),
            tianditu_key=e.get("XIUHUA_TIANDITU_KEY") or None,
        )
