"""Sign-in, sessions and the server-side checks every page, callback and route makes.

- Sessions live in the store: the signed cookie holds only a random token, so signing out, a password, role,
  scope or unit change, or disabling the account ends them at once; they also end after an idle time and a
  maximum age (settings).
- Sign-in attempts are counted in the store (shared by every server process, kept over a restart): per account
  and address, and per address over all accounts; a name that does not exist costs as long as a wrong password.
- CSRF: the sign-in and sign-out forms carry a token, and dash-renderer sends the token of the `_csrf_token`
  cookie with every callback (Flask-WTF checks them all); a POST from a foreign Origin is refused as well.
- Access is the policy's (dispatch/policy.py): `require(what, district)` in every page, callback, route and
  export, and `gate` checks each callback request against its page's entry before Dash runs it.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import flask
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf, validate_csrf
from wtforms import ValidationError

from dispatch.policy import POLICY, Target, allows, refusal
from settings import Settings
from store.errors import Forbidden
from store.models import User
from web.i18n import COOKIE, LANGUAGES, error_text, language, t
from web.services import services

CSRF_COOKIE = "_csrf_token"  # the name dash-renderer reads; it sends the value as X-CSRFToken
# /open311/: the public Open311 API (web/open311.py), which authenticates posts by api_key alone
OPEN_PREFIXES = ("/login", "/auth/", "/assets/", "/_favicon", "/favicon.ico", "/open311/")
DATA_PREFIXES = ("/api/", "/export/", "/tiles/", "/_dash-", "/photos/", "/field/api/")
# a Dash callback's page, by the prefix of its first output's id ("intake-queue" -> page.intake)
CALLBACK_PAGES = {
    "wall": "page.wall",
    "dispatch": "page.dispatch",
    "district": "page.district",
    "intake": "page.intake",
    "unit": "page.unit",
    "case": "page.case",
    "scores": "page.scores",
    "campaigns": "page.campaigns",
}
# where an account lands after sign-in: the first page of this list its role may open
HOMES = (
    ("page.dispatch", "/dispatch"),
    ("page.intake", "/intake"),
    ("page.unit", "/unit"),
    ("page.field", "/field"),
    ("page.wall", "/wall"),
)
TOUCH_EVERY = timedelta(minutes=1)

bp = flask.Blueprint("auth", __name__)
csrf = CSRFProtect()


class Denied(Exception):
    """The request's user may not see or do this (401 when nobody is signed in)."""

    def __init__(self, message: str, status: int = 403, code: str = "", **params: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.params = status, code, params


def settings() -> Settings:
    found: Settings = flask.current_app.config["XIUHUA_SETTINGS"]
    return found


def _now() -> datetime:
    return datetime.now(UTC)


def current_user() -> User | None:
    """The signed-in, active account of this request's live session, if any."""
    if "xiuhua_user" in flask.g:
        cached: User | None = flask.g.xiuhua_user
        return cached
    token = flask.session.get("sid")
    user = None
    if isinstance(token, str):
        s = settings()
        user = services().store.session_user(
            token,
            _now(),
            timedelta(minutes=s.session_idle_minutes),
            timedelta(hours=s.session_max_hours),
            TOUCH_EVERY,
        )
        if user is None:
            flask.session.pop("sid", None)
    flask.g.xiuhua_user = user
    return user


def require(what: str, district: str | None = None, assignee: str | None = None) -> User:
    """The current user if the policy lets them do `what` (to `district`, where it is about one); Denied
    otherwise. Call it first in every page, callback, route and export."""
    user = current_user()
    if user is None:
        raise Denied("sign in first", 401, code="policy.signed_out")
    entry = POLICY[what]
    if district is not None and (not isinstance(district, str) or district not in services().layers.names["districts"]):
        raise Denied(f"no district {str(district)[:20]!r}", 404, code="no_district", district=str(district)[:20])
    target = Target(district, assignee) if (district is not None or entry.needs_district) else None
    problem = refusal(user, what, target)
    if problem is not None:
        raise Denied(str(problem), 403, code=problem.code, **problem.params)
    return user


def home_of(user: User) -> str:
    """Where a user lands after signing in."""
    if user.role == "district_head" and user.districts:
        return f"/district/{user.districts[0]}"
    for what, path in HOMES:
        if allows(user, what):
            return path
    return "/login?error=role"


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site; None for anything a browser could take elsewhere (an open
    redirect): absolute or protocol-relative URLs, backslashes, and control characters, which browsers drop
    (so "/\\t/evil.example" would become "//evil.example")."""
    if not target or len(target) > 2000 or not target.startswith("/") or "\\" in target:
        return None
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


def csrf_token() -> str:
    """The CSRF token for a form of the current session."""
    return str(generate_csrf())


def _login_redirect(**query: str | None) -> flask.Response:
    return flask.redirect("/login?" + urlencode({k: v for k, v in query.items() if v}), 303)


@bp.post("/auth/login")
def login() -> flask.Response:
    form = flask.request.form
    nxt = safe_next(form.get("next"))
    name = form.get("username", "").strip()[:64]
    password = form.get("password", "")[:1024]
    s, store, now = settings(), services().store, _now()
    address = flask.request.remote_addr or "?"
    keys = [f"user:{name.lower()}|{address}", f"addr:{address}"]
    # counted before the password is checked, atomically: concurrent guesses each take a place in the count
    per_account, per_address = store.count_attempts(keys, timedelta(seconds=s.sign_in_window_s), now)
    if per_account > s.sign_in_limit or per_address > s.sign_in_address_limit:
        return _login_redirect(error="locked", next=nxt)
    try:
        user = store.authenticate(name, password)
    except Forbidden:
        return _login_redirect(error="1", next=nxt)
    store.forgive_attempts(reset=keys[:1], decrement=keys[1:])
    if home_of(user).startswith("/login"):  # no page for this role yet: say so, and do not keep it signed in
        return _login_redirect(error="role", next=nxt)
    flask.session.clear()
    flask.g.pop("csrf_token", None)  # a new session gets a new CSRF token
    flask.session["sid"] = store.start_session(user.username, now)
    flask.session.permanent = True
    flask.g.xiuhua_user = user
    return flask.redirect(nxt or home_of(user), 303)


@bp.post("/auth/logout")
def logout() -> flask.Response:
    token = flask.session.get("sid")
    if isinstance(token, str):
        services().store.end_session(token)
    flask.session.clear()
    flask.g.pop("csrf_token", None)
    return flask.redirect("/login", 303)


def _same_site_referrer() -> str | None:
    """The page a link was followed from, if it is on this site."""
    ref = urlsplit(flask.request.referrer or "")
    if ref.netloc != flask.request.host:
        return None
    return safe_next(ref.path + (f"?{ref.query}" if ref.query else ""))


@bp.get("/auth/lang/<lang>")
def set_language(lang: str) -> flask.Response:
    if lang not in LANGUAGES:
        flask.abort(404)
    back = safe_next(flask.request.args.get("next")) or _same_site_referrer() or "/"
    resp = flask.redirect(back, 303)
    resp.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", secure=settings().secure_cookies)
    return resp


LOGIN_PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/assets/xiuhua.css"></head>
<body class="app lang-{lang}"><div class="login-page">
<form method="POST" action="/auth/login" class="login-form">
<h2>{title}</h2>
<label>{username}<input name="username" id="login-username" autofocus autocomplete="username" maxlength="64"></label>
<label>{password}<input name="password" type="password" id="login-password" autocomplete="current-password"
 maxlength="1024"></label>
<input type="hidden" name="next" value="{next}"><input type="hidden" name="csrf_token" value="{csrf}">
<button type="submit" id="login-submit">{submit}</button>
{message}
<p class="hint">{hint}</p>
<p class="hint"><a href="/auth/lang/{other}" id="login-lang">{switch}</a></p>
</form></div></body></html>"""


@bp.get("/login")
def login_page() -> flask.Response:
    """The sign-in form: plain HTML (no Dash), so nothing of the app is served before sign-in."""
    error = flask.request.args.get("error", "")
    message = {"1": t("login.failed"), "role": t("login.no_page"), "locked": t("login.locked")}.get(error)
    nxt = safe_next(flask.request.args.get("next")) or ""
    lang = language()
    page = LOGIN_PAGE.format(
        lang=lang,
        title=html.escape(t("login.title")),
        username=html.escape(t("login.username")),
        password=html.escape(t("login.password")),
        submit=html.escape(t("login.submit")),
        hint=html.escape(t("login.demo_hint")),
        next=html.escape(nxt, quote=True),
        csrf=generate_csrf(),
        message=f'<p class="error" id="login-error">{html.escape(message)}</p>' if message else "",
        other="en" if lang == "zh" else "zh",
        switch=html.escape(t("nav.switch_language")),
    )
    return flask.Response(page, mimetype="text/html")


def _callback_page(payload: Any) -> tuple[str | None, str | None]:
    """The policy entry of the page a Dash callback request belongs to (by its outputs' id prefix), and the
    district it names (the district page's `district-code` store)."""
    if not isinstance(payload, dict):
        return None, None
    outputs = payload.get("outputs")
    first = outputs[0] if isinstance(outputs, list) and outputs else outputs
    ident = first.get("id") if isinstance(first, dict) else None
    if isinstance(ident, str) and ident.startswith("_pages_"):
        return "route.pages", None
    prefix = ident.split("-", 1)[0] if isinstance(ident, str) else None
    district = None
    for item in [*(payload.get("inputs") or []), *(payload.get("state") or [])]:
        if isinstance(item, dict) and item.get("id") == "district-code":
            district = item.get("value") if isinstance(item.get("value"), str) else None
    return CALLBACK_PAGES.get(prefix or ""), district


def _foreign_origin() -> bool:
    origin = flask.request.headers.get("Origin")
    if origin is None:
        return False  # not a browser's cross-site request (browsers send Origin with every POST)
    own = flask.request.host_url.rstrip("/")
    return origin != own and origin not in settings().trusted_origins


def gate() -> flask.Response | None:
    """Before every request: refuse foreign-origin posts; anonymous visitors of pages go to sign-in, of data
    and Dash's own routes get 401; a callback request must pass its page's policy entry."""
    req = flask.request
    path = req.path
    # the Open311 API uses no cookie, so a post from another site's page gains nothing it lacks: let it through
    if req.method not in ("GET", "HEAD", "OPTIONS") and not path.startswith("/open311/") and _foreign_origin():
        return flask.Response("cross-site request refused", 403, mimetype="text/plain")
    if path.startswith(OPEN_PREFIXES):
        return None
    if path.startswith("/photos/") and req.method in ("GET", "HEAD"):
        return None  # web/photos.py decides: a public photo is served to anyone, any other only to its viewers
    user = current_user()
    if user is None:
        if path.startswith(DATA_PREFIXES) or path == "/_reload-hash":
            return flask.Response("sign in first", 401, mimetype="text/plain")
        return flask.redirect("/login?" + urlencode({"next": req.full_path.rstrip("?")}), 303)
    if path == "/_dash-update-component":
        what, district = _callback_page(req.get_json(silent=True))
        if what is None:
            return flask.Response("unknown callback", 403, mimetype="text/plain")
        require(what, district)
    return None


def denied(exc: Denied) -> flask.Response:
    return flask.Response(error_text(exc), exc.status, mimetype="text/plain")


def csrf_failed(exc: CSRFError) -> flask.Response:
    if flask.request.path == "/auth/login":  # an old sign-in form (its token expired with a session): try again
        return _login_redirect(next=safe_next(flask.request.form.get("next")))
    return flask.Response(f"CSRF check failed: {exc.description}", 400, mimetype="text/plain")


def _csrf_cookie(resp: flask.Response) -> flask.Response:
    """Keep the `_csrf_token` cookie (which dash-renderer echoes) valid for the current session."""
    if flask.request.path.startswith(("/assets/", "/_dash-component-suites/")) or resp.status_code >= 500:
        return resp
    try:
        validate_csrf(flask.request.cookies.get(CSRF_COOKIE, ""))
        if "csrf_token" not in flask.g:
            return resp
    except ValidationError:
        pass
    resp.set_cookie(CSRF_COOKIE, generate_csrf(), samesite="Strict", secure=settings().secure_cookies, httponly=False)
    return resp


def init(server: flask.Flask, settings_: Settings) -> None:
    server.config.update(
        XIUHUA_SETTINGS=settings_,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which the store bounds
        SESSION_COOKIE_SECURE=settings_.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings_.session_max_hours),
    )
    csrf.init_app(server)
    server.register_blueprint(bp)
    server.before_request(gate)
    server.after_request(_csrf_cookie)
    server.register_error_handler(Denied, denied)
    server.register_error_handler(CSRFError, csrf_failed)
