"""Typed settings from XIUHUA_* environment variables; a bad value is refused at start, naming the variable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _int(e: dict[str, str] | os._Environ[str], name: str, default: int, lo: int, hi: int) -> int:
    raw = e.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a whole number from {lo} to {hi}") from None
    if not lo <= value <= hi:
        raise ValueError(f"{name}={raw!r}: expected a whole number from {lo} to {hi}")
    return value


def _bool(e: dict[str, str] | os._Environ[str], name: str, default: bool) -> bool:
    raw = e.get(name)
    if raw is None:
        return default
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    raise ValueError(f"{name}={raw!r}: expected true or false")


def _origins(raw: str) -> tuple[str, ...]:
    found = []
    for item in filter(None, (p.strip() for p in raw.split(","))):
        parts = urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"XIUHUA_TRUSTED_ORIGINS: {item!r} is not an origin like https://xiuhua.example.gov.cn")
        found.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(found)


def _webhook(raw: str) -> str | None:
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"XIUHUA_WEBHOOK_URL: {raw[:80]!r} is not an http(s) URL")
    return raw


def _secret(raw: str, url: str) -> str | None:
    if not raw:
        return None
    if not url:
        raise ValueError("XIUHUA_WEBHOOK_SECRET is set but XIUHUA_WEBHOOK_URL is not: set both, or neither")
    if not 16 <= len(raw) <= 256 or not raw.isprintable():
        raise ValueError("XIUHUA_WEBHOOK_SECRET: expected 16 to 256 printable characters")
    return raw


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    city: str
    database_url: str
    var_dir: Path  # writable: the embedded store and the session key live here by default
    secret_key: str | None  # signs session cookies; None: a random key kept in var_dir/secret_key
    basemap: str  # "offline" (default), "osm", "tianditu", "amap", "xyz:<url template>" or "mbtiles:<path>"
    tianditu_key: str | None
    # security
    secure_cookies: bool = False  # cookies only over HTTPS: set it when a TLS proxy serves the app
    session_idle_minutes: int = 480  # a session unused this long ends (a wall polls, so it stays)
    session_max_hours: int = 168  # and every session ends this long after sign-in
    sign_in_limit: int = 5  # attempts per account and address in the window
    sign_in_address_limit: int = 30  # failed attempts per address in the window, over all accounts
    sign_in_window_s: int = 300
    trusted_origins: tuple[str, ...] = ()  # origins besides the app's own that may post (a proxy's public URL)
    # photos and notifications
    media_dir: Path | None = None  # where photos are kept by content hash; None: var_dir/media
    photo_max_mb: int = 10  # the largest photo accepted
    webhook_url: str | None = None  # JSON POSTs of notifications (an SMS or work-messaging gateway)
    escalate_after_hours: int = 8  # working hours overdue after which a case escalates to shift lead and head
    webhook_secret: str | None = None  # signs each POST (X-Xiuhua-Signature: sha256=<HMAC of the body>)
    webhook_attempts: int = 8  # tries per message (back-off 1, 2, 4 … minutes) before it is given up

    @property
    def media_root(self) -> Path:
        return self.media_dir or self.var_dir / "media"

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
            secure_cookies=_bool(e, "XIUHUA_SECURE_COOKIES", False),
            session_idle_minutes=_int(e, "XIUHUA_SESSION_IDLE_MINUTES", 480, 1, 7 * 24 * 60),
            session_max_hours=_int(e, "XIUHUA_SESSION_MAX_HOURS", 168, 1, 90 * 24),
            sign_in_limit=_int(e, "XIUHUA_SIGN_IN_LIMIT", 5, 1, 1000),
            sign_in_address_limit=_int(e, "XIUHUA_SIGN_IN_ADDRESS_LIMIT", 30, 1, 100_000),
            sign_in_window_s=_int(e, "XIUHUA_SIGN_IN_WINDOW_S", 300, 1, 24 * 3600),
            trusted_origins=_origins(e.get("XIUHUA_TRUSTED_ORIGINS", "")),
            media_dir=Path(e["XIUHUA_MEDIA_DIR"]) if e.get("XIUHUA_MEDIA_DIR") else None,
            photo_max_mb=_int(e, "XIUHUA_PHOTO_MAX_MB", 10, 1, 100),
            webhook_url=_webhook(e.get("XIUHUA_WEBHOOK_URL", "")),
            escalate_after_hours=_int(e, "XIUHUA_ESCALATE_AFTER_HOURS", 8, 1, 24 * 30),
            webhook_secret=_secret(e.get("XIUHUA_WEBHOOK_SECRET", ""), e.get("XIUHUA_WEBHOOK_URL", "")),
            webhook_attempts=_int(e, "XIUHUA_WEBHOOK_ATTEMPTS", 8, 1, 30),
        )
