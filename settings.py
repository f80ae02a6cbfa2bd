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

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        return cls(
            data_dir=Path(e.get("XIUHUA_DATA_DIR", HERE / "data")),
            city=e.get("XIUHUA_CITY", "xiamen"),
            database_url=e.get("XIUHUA_DATABASE_URL", f"sqlite:///{HERE / 'var' / 'xiuhua.sqlite'}"),
        )
