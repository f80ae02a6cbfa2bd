"""Security headers on every response: a Content-Security-Policy that allows only this site (and an online
basemap's tile host when one is configured), no framing, no MIME sniffing, no referrer to other sites."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from urllib.parse import urlsplit

import flask

from layers.basemap import Basemap

CACHEABLE = ("/assets/", "/_dash-component-suites/", "/api/", "/tiles/", "/_favicon")  # code, or data they scope


def tile_origin(basemap: Basemap) -> str | None:
    """The origin an online basemap's tiles come from ({s} subdomains become a wildcard)."""
    if basemap.kind != "tiles" or not basemap.url:
        return None
    parts = urlsplit(basemap.url.replace("{s}", "x"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = (
        parts.netloc.replace(parts.hostname, "*." + parts.hostname.split(".", 1)[1])
        if "{s}" in basemap.url
        else (parts.netloc)
    )
    return f"{parts.scheme}://{host}"


@lru_cache(maxsize=8)
def policy(script_hashes: tuple[str, ...], basemap: Basemap) -> str:
    tiles = tile_origin(basemap)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' " + " ".join(script_hashes),  # Dash's one inline script, by its hash
            "style-src 'self' 'unsafe-inline'",  # Dash and Leaflet set element styles
            "img-src 'self' data: blob:" + (f" {tiles}" if tiles else ""),
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def init(server: flask.Flask, script_hashes: Callable[[], Sequence[str]], basemap: Basemap) -> None:
    """`script_hashes` is asked on each response: Dash adds inline scripts (its pages' clientside callbacks)
    only once it has set itself up, at the first request."""

    @server.after_request
    def _headers(resp: flask.Response) -> flask.Response:
        resp.headers.setdefault("Content-Security-Policy", policy(tuple(script_hashes()), basemap))
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if not flask.request.path.startswith(CACHEABLE):
            # pages, layouts and callbacks hold a signed-in user's data: never kept, so Back after sign-out
            # shows nothing of it
            resp.headers["Cache-Control"] = "no-store"
        return resp
