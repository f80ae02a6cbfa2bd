"""Sign-in with the store's accounts, and the server-side checks every page, callback and route makes.

The session cookie holds only the user name (signed, HttpOnly, SameSite=Lax); the account is read from the
store on every request, so disabling an account or narrowing its districts takes effect at once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from urllib.parse import urlencode

import flask

from store.errors import Forbidden, NotFound
from store.models import User
from web.i18n import COOKIE, LANGUAGES
from web.services import services

# which roles may open each page; district scope is checked on top of this
PAGE_ROLES: dict[str, tuple[str, ...]] = {
    "wall": ("wall", "admin", "shift_lead", "dispatcher", "acceptor"),
    "dispatch": ("dispatcher", "shift_lead", "admin"),
    "district": ("district_head", "admin", "shift_lead", "dispatcher"),
}
OPEN_PREFIXES = ("/login", "/auth/", "/assets/", "/_dash-", "/_reload-hash", "/_favicon", "/favicon.ico")

bp = flask.Blueprint("auth", __name__)


class Denied(Exception):
    """The request's user may not see or do this (401 when nobody is signed in)."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


def current_user() -> User | None:
    """The signed-in, active account of this request, if any."""
    if "xiuhua_user" in flask.g:
        cached: User | None = flask.g.xiuhua_user
        return cached
    name = flask.session.get("user")
    user = None
    if name:
        try:
            user = services().store.get_user(name)
        except NotFound:
            user = None
        if user is not None and not user.active:
            user = None
    flask.g.xiuhua_user = user
    return user


def allowed(user: User | None, page: str, district: str | None = None) -> bool:
    """Whether `user` may open `page` (for `district`, where the page is about one)."""
    if user is None or user.role not in PAGE_ROLES[page]:
        return False
    return district is None or user.covers(district)


def require(page: str, district: str | None = None) -> User:
    """The current user if allowed on `page` (and `district`); Denied otherwise. Call it first in every callback."""
    user = current_user()
    if user is None:
        raise Denied("sign in first", 401)
    if not allowed(user, page, district):
        raise Denied(f"{user.username} ({user.role}) may not open {page}" + (f" for {district}" if district else ""))
    return user


def home_of(user: User) -> str:
    """Where a user lands after signing in."""
    if user.role == "district_head" and user.districts:
        return f"/district/{user.districts[0]}"
    if user.role in PAGE_ROLES["dispatch"]:
        return "/dispatch"
    if user.role in PAGE_ROLES["wall"]:
        return "/wall"
    return "/login?error=role"


def _safe_next(target: str | None) -> str | None:
    # only paths on this site: never an absolute or protocol-relative URL (an open redirect)
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


class Throttle:
    """At most `limit` failed sign-ins per account and address in `window_s`; then refuse until they age out.
    Per process, in memory: enough to stop guessing through one server (argon2 slows each guess too)."""

    def __init__(self, limit: int = 5, window_s: float = 300.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._lock = threading.Lock()
        self._failed: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failed.setdefault(key, deque())
        while times and times[0] < now - self.window_s:
            times.popleft()
        return times

    def blocked(self, key: tuple[str, str], now: float) -> bool:
        with self._lock:
            return len(self._recent(key, now)) >= self.limit

    def failed(self, key: tuple[str, str], now: float) -> None:
        with self._lock:
            self._recent(key, now).append(now)

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failed.pop(key, None)


THROTTLE = Throttle()


@bp.post("/auth/login")
def login() -> flask.Response:
    form = flask.request.form
    nxt = _safe_next(form.get("next"))
    name = form.get("username", "").strip()
    key, now = (name.lower(), flask.request.remote_addr or ""), time.monotonic()
    if THROTTLE.blocked(key, now):
        return flask.redirect("/login?" + urlencode({"error": "locked", **({"next": nxt} if nxt else {})}), 303)
    try:
        user = services().store.authenticate(name, form.get("password", ""))
    except Forbidden:
        THROTTLE.failed(key, now)
        query = {"error": "1", **({"next": nxt} if nxt else {})}
        return flask.redirect("/login?" + urlencode(query), 303)
    THROTTLE.succeeded(key)
    flask.session.clear()
    flask.session["user"] = user.username
    flask.session.permanent = True
    return flask.redirect(nxt or home_of(user), 303)


@bp.get("/auth/logout")
def logout() -> flask.Response:
    flask.session.clear()
    return flask.redirect("/login", 303)


@bp.get("/auth/lang/<lang>")
def set_language(lang: str) -> flask.Response:
    if lang not in LANGUAGES:
        flask.abort(404)
    resp = flask.redirect(_safe_next(flask.request.args.get("next")) or "/", 303)
    resp.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax")
    return resp


def gate() -> flask.Response | None:
    """Before every request: anonymous visitors of pages go to sign-in; of data routes, get 401."""
    path = flask.request.path
    if path.startswith(OPEN_PREFIXES) or current_user() is not None:
        return None
    if path.startswith(("/api/", "/export/", "/tiles/")):
        return flask.Response("sign in first", 401, mimetype="text/plain")
    return flask.redirect("/login?" + urlencode({"next": flask.request.full_path.rstrip("?")}), 303)


def denied(exc: Denied) -> flask.Response:
    return flask.Response(str(exc), exc.status, mimetype="text/plain")


def init(server: flask.Flask) -> None:
    server.register_blueprint(bp)
    server.before_request(gate)
    server.register_error_handler(Denied, denied)
