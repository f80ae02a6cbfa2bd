"""Composition root: create_app(settings) wires the store, the workflow, the board and the map layers into a
Dash app. Nothing happens at import time; `xiuhua serve` runs the result under waitress."""

from __future__ import annotations

import os
import secrets
import time
from datetime import datetime
from pathlib import Path

import dash
import flask

from cities.config import load_config
from dispatch.context import open_workflow
from dispatch.media import PhotoStore
from dispatch.notify import sweep, with_outbox
from dispatch.webhook import Sender
from layers.basemap import parse_basemap
from layers.mbtiles import MBTiles
from settings import Settings
from store.base import Store
from store.registry import open_store
from web import api, auth, exports, field, headers, open311, scores
from web import photos as photo_routes
from web.services import KEY, Services

HERE = Path(__file__).resolve().parent


def secret_key(settings: Settings) -> str:
    """XIUHUA_SECRET_KEY, else a random key kept in the var folder (so sessions survive a restart)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.var_dir / "secret_key"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others, not even briefly
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def _server_timing(server: flask.Flask) -> None:
    """Every response says how long the app worked on it (Server-Timing), for operators and the benchmarks."""

    @server.before_request
    def _start() -> None:
        flask.g.xiuhua_t0 = time.perf_counter()

    @server.after_request
    def _stop(resp: flask.Response) -> flask.Response:
        t0 = flask.g.get("xiuhua_t0")
        if t0 is not None:
            resp.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - t0) * 1000:.1f}"
        return resp


def create_app(settings: Settings | None = None, store: Store | None = None) -> dash.Dash:
    """The app for a city and a store; refuses a store whose schema is out of date."""
    settings = settings or Settings.from_env()
    basemap = parse_basemap(settings.basemap, settings.tianditu_key)
    store = store or open_store(settings.database_url)
    store.check_schema()
    cfg = load_config(settings.city, settings.data_dir)
    tiles = MBTiles(basemap.path) if basemap.path is not None else None
    photos = PhotoStore(settings.media_root, settings.photo_max_mb * 1024 * 1024)
    # with a webhook, every step that tells someone keeps a message in the outbox (dispatch/notify.Outbox)
    wrap = with_outbox if settings.webhook_url else (lambda wf: wf)
    svc = Services(cfg, store, lambda: wrap(open_workflow(store, cfg)), basemap, photos, tiles)
    svc.board.snapshot()  # built now, so the first visitor does not wait for it

    server = flask.Flask(__name__)
    server.config.update(
        {KEY: svc, "XIUHUA_LANGUAGE": cfg.language, "XIUHUA_TZ": svc.workflow.calendar.tz},
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,  # forms and callbacks are small; a bigger body is refused (413)
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "application/javascript",
            "text/javascript",
            "application/json",
            "application/geo+json",
        ],
        COMPRESS_MIN_SIZE=500,
    )
    _server_timing(server)
    auth.init(server, settings)
    api.init(server)
    exports.init(server)
    photo_routes.init(server)
    scores.init(server)
    open311.init(server)
    field.init(server)
    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        assets_path_ignore=["^field$"],  # the phone page's own files (and its Leaflet): not on Dash's pages
        serve_locally=True,
        compress=True,
        suppress_callback_exceptions=True,
        title=f"绣花 Xiuhua · {cfg.name_en}",
        update_title=None,
    )
    from pages.shell import shell  # the page modules are importable only once Dash has set pages up

    app.layout = shell
    headers.init(server, app.csp_hashes, basemap)
    server.register_error_handler(404, _not_found)
    server.register_error_handler(dash.exceptions.DependencyException, _not_found)  # /_dash-component-suites/x/y
    server.register_error_handler(KeyError, _unknown_callback)
    if settings.webhook_url:
        _start_sender(settings, svc)
    return app


def _start_sender(settings: Settings, svc: Services) -> Sender:
    """The background webhook sender: escalates what is overdue past the limit, then sends what is due."""
    assert settings.webhook_url

    def escalate(now: datetime) -> None:
        sweep(svc.workflow, now, settings.escalate_after_hours)

    sender = Sender(svc.store, settings.webhook_url, settings.webhook_secret, escalate,
                    attempts=settings.webhook_attempts)  # fmt: skip
    sender.start()
    return sender


def _unknown_callback(exc: KeyError) -> flask.Response:
    # Dash raises KeyError for a callback request naming outputs no callback has (a forged or stale request)
    if flask.request.path == "/_dash-update-component" and "Callback function not found" in str(exc):
        return flask.Response("no such callback", 400, mimetype="text/plain")
    raise exc


def _not_found(exc: Exception) -> flask.Response:
    return flask.Response("not found", 404, mimetype="text/plain")
