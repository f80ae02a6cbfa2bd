"""Open311 GeoReport v2 at /open311/v2: services (the city's matter catalogue), service requests (cases) to read
and to post, in JSON and XML (each resource ends in .json or .xml).

Public routes: no sign-in and no CSRF token (web/auth.py lets them through); a POST is authenticated by its
`api_key` alone (`xiuhua api-keys add`), counted against the key's rate limit, and every call made with a key is
logged. Errors are the spec's list of {code, description}, in the format asked for, translated (`lang=en` or
Accept-Language; Chinese by default). The logic is dispatch/open311.py; this module reads HTTP and writes
JSON/XML (XML built with ElementTree).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import flask
from werkzeug.exceptions import HTTPException

from dispatch import open311 as o3
from dispatch.workflow import Workflow
from store.errors import Forbidden, Invalid, NotFound, StoreError
from store.models import ApiKey, Case, Media, OpenRequest
from web.i18n import error_text, t
from web.names import city_names
from web.photos import photo_store, save_all, upload_limit
from web.services import services

PREFIX = "/open311/v2"
SPEC = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
CHANGESET = "2026-12-02T00:00:00Z"  # when this API's interface last changed (discovery's changeset)
REQUEST_FIELDS = ("service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url")  # fmt: skip
FORMATS_MIME = ("text/xml", "application/json")
RESOURCES = ("discovery", "services", "requests", "tokens")

bp = flask.Blueprint("open311", __name__, url_prefix=PREFIX)


class ApiError(Exception):
    """An error answered in the spec's format: HTTP status, and the error's code and description."""

    def __init__(self, status: int, description: str, code: int | str | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.code = status, description, code if code is not None else status


# -- formats -------------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml(parent: ET.Element, name: str, value: Any) -> None:
    """One field under `parent`: a list becomes a wrapper of items (the spec's ⇊), a dict a nested element."""
    el = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for k, v in value.items():
            _xml(el, k, v)
    elif isinstance(value, list):
        item = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}[name]
        for v in value:
            _xml(el, item, v)
    else:
        el.text = _text(value)


def render(fmt: str, root: str, item: str | None, body: Any, status: int = 200) -> flask.Response:
    """`body` (a list of dicts under root/item, or one dict as root) as JSON or XML."""
    if fmt == "json":
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    else:
        top = ET.Element(root)
        for entry in body if item is not None else [body]:
            parent = ET.SubElement(top, item) if item is not None else top
            for k, v in entry.items():
                _xml(parent, k, v)
        data = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="unicode")
    resp = flask.Response(data, status, content_type=FORMATS[fmt])
    # any web page may call the API: it uses no cookie (a POST is authenticated by its api_key alone)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def errors(fmt: str, status: int, items: Sequence[tuple[int | str, str]]) -> flask.Response:
    return render(fmt, "errors", "error", [{"code": c, "description": d} for c, d in items], status)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        flask.g.open311_fmt = "xml"
        raise ApiError(404, t("open311.error.format", fmt=fmt[:10]))
    flask.g.open311_fmt = fmt
    return fmt


# -- request context --------------------------------------------------------------------------------
def _language() -> None:
    """The answer's language: ?lang=, else Accept-Language (English if preferred), else Chinese."""
    req = flask.request
    chosen = req.args.get("lang") or (req.form.get("lang") if req.method == "POST" else None) or ""
    lang = chosen.strip().lower()[:2]
    if lang not in ("zh", "en"):
        best = req.accept_languages.best_match(["zh", "en"])
        lang = "en" if best == "en" else "zh"
    flask.g.xiuhua_lang = lang


def _api_key(required: bool) -> ApiKey | None:
    """The request's client: its key (POST form or query string) if valid; ApiError 403 if missing or wrong."""
    req = flask.request
    raw = (req.form.get("api_key") if req.method == "POST" else None) or req.args.get("api_key") or ""
    if not raw:
        if required:
            raise ApiError(403, t("open311.error.key_missing"))
        return None
    key = services().store.api_key_by_hash(o3.key_hash(raw[:200]))
    if key is None or key.revoked_at is not None:
        raise ApiError(403, t("open311.error.key_invalid"))
    flask.g.open311_key = key.name
    return key


def _names() -> tuple[Workflow, Callable[[str, str | None], str]]:
    wf = services().workflow
    names = city_names(wf.engine.city)
    lang = flask.g.get("xiuhua_lang", "zh")
    return wf, lambda kind, code: names.name(kind, code, lang) if code else ""


def _w3c(at: datetime | None, tz: Any) -> str | None:
    return None if at is None else at.astimezone(tz).isoformat(timespec="seconds")


# -- services ----------------------------------------------------------------------------------------
def _service(row: dict[str, Any], name: Callable[[str, str | None], str]) -> dict[str, Any]:
    code = str(row["code"])
    other = "en" if flask.g.get("xiuhua_lang") == "zh" else "zh"
    group = name("class", code[:2])
    return {
        "service_code": code,
        "service_name": name("matter", code),
        "description": t(
            "open311.service_description", group=group, name=name("matter", code), deadline=row.get("deadline", "")
        ),
        "metadata": False,  # the catalogue asks no attributes of any matter
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys(filter(None, [str(row.get(f"name_{other}", "") or ""), group]))),
        "group": group,
    }


@bp.get("/discovery.<fmt>")
def discovery(fmt: str) -> flask.Response:
    _format(fmt)
    body = {
        "changeset": CHANGESET,
        "contact": t("open311.contact"),
        "key_service": t("open311.key_service"),
        "endpoints": [
            {
                "specification": SPEC,
                "url": flask.request.host_url.rstrip("/") + PREFIX,
                "changeset": CHANGESET,
                "type": "production",
                "formats": list(FORMATS_MIME),
            }
        ],
    }
    return render(fmt, "discovery", None, body)


@bp.get("/services.<fmt>")
def service_list(fmt: str) -> flask.Response:
    _format(fmt)
    _api_key(required=False)
    wf, name = _names()
    rows = wf.engine.city.matters.sort_values("code").to_dict("records")
    return render(fmt, "services", "service", [_service(r, name) for r in rows])


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str) -> flask.Response:
    _format(fmt)
    _api_key(required=False)
    wf, _ = _names()
    if code not in set(wf.engine.city.matters["code"].astype(str)):
        raise ApiError(404, t("open311.error.service", service=code[:16]))
    return render(fmt, "service_definition", None, {"service_code": code, "attributes": []})


# -- requests ----------------------------------------------------------------------------------------
def _media_url(case: Case, photos: dict[int, list[Media]], private: dict[int, OpenRequest]) -> str | None:
    public = [m for m in photos.get(case.id, []) if m.public]
    if public:
        return flask.request.host_url.rstrip("/") + f"/photos/{public[0].sha256}"
    req = private.get(case.id)
    return req.media_url or None if req is not None else None


def _requests(cases: list[Case]) -> list[dict[str, Any]]:
    """Cases as the spec's service requests: nothing personal, nothing staff typed."""
    store = services().store
    wf, name = _names()
    tz = wf.calendar.tz
    ids = [c.id for c in cases]
    private = store.open_requests(ids)
    photos: dict[int, list[Media]] = {}
    for m in store.media_of(ids) if ids else []:
        photos.setdefault(m.case_id, []).append(m)
    out = []
    for c in cases:
        note, params = o3.status_note(c)
        if note == "duplicate" and c.duplicate_of is not None:
            params = {"case_no": store.get_case(c.duplicate_of).case_no}
        is_open = o3.status(c) == "open"
        address = " ".join(filter(None, [name("community", c.community), name("subdistrict", c.subdistrict)]))
        item = {
            "service_request_id": c.case_no,
            "status": o3.status(c),
            "status_notes": t(f"open311.note.{note}", **params),
            "service_name": name("matter", c.matter),
            "service_code": c.matter,
            "description": c.description if c.id in private else "",
            "agency_responsible": name("department", c.lead_department) or None,
            "service_notice": t("open311.notice") if is_open else None,
            "requested_datetime": _w3c(c.reported_at, tz),
            "updated_datetime": _w3c(c.updated_at, tz),
            "expected_datetime": _w3c(wf.due(c), tz) if is_open else None,
            "address": address or None,
            "address_id": None,
            "zipcode": None,
            "lat": round(c.lat, 7),
            "long": round(c.lon, 7),
            "media_url": _media_url(c, photos, private),
        }
        out.append({k: item[k] for k in REQUEST_FIELDS})
    return out


@bp.get("/requests.<fmt>")
def request_list(fmt: str) -> flask.Response:
    _format(fmt)
    _api_key(required=False)
    args = flask.request.args
    store = services().store
    ids = o3.codes(args.get("service_request_id", ""), "service_request_id", o3.MAX_RESULTS)
    if ids:  # overrides every other argument
        found = store.cases_by_number(ids)
    else:
        start, end = o3.period(args.get("start_date", ""), args.get("end_date", ""), datetime.now(UTC))
        matters = o3.codes(args.get("service_code", ""), "service_code") or None
        states = o3.statuses(args.get("status", ""))
        found = store.cases_reported(start, end, matters, states, o3.MAX_RESULTS)
    return render(fmt, "service_requests", "request", _requests(found))


@bp.get("/requests/<request_id>.<fmt>")
def request_one(request_id: str, fmt: str) -> flask.Response:
    _format(fmt)
    _api_key(required=False)
    found = services().store.cases_by_number([request_id[:40]])
    if not found:
        raise ApiError(404, t("open311.error.request", id=request_id[:40]))
    return render(fmt, "service_requests", "request", _requests(found))


@bp.get("/tokens/<token>.<fmt>")
def token(token: str, fmt: str) -> flask.Response:
    # every service is realtime: a POST answers with the service_request_id, so no token is ever issued
    _format(fmt)
    raise ApiError(404, t("open311.error.token", token=token[:40]))


@bp.post("/requests.<fmt>")
def post_request(fmt: str) -> flask.Response:
    _format(fmt)
    key = _api_key(required=True)
    assert key is not None
    store, wf = services().store, services().workflow
    now = datetime.now(UTC)
    if store.count_api_post(key.name, o3.RATE_WINDOW, now) > key.rate_per_minute:
        raise ApiError(429, t("open311.error.rate", limit=key.rate_per_minute))
    sub = o3.submission(flask.request.form.to_dict(flat=False), key, wf.engine.city, now)
    actor = o3.system_user(key)
    wf.check_report(actor, sub.new)  # position, matter and text first: no photo is kept for a refused request
    files = []
    for f in flask.request.files.getlist("media"):
        try:
            files.append((f.filename or "media", f.read()))
        finally:
            f.close()  # a large upload is spooled to a temporary file: close it at once
    case = wf.report(actor, sub.new, save_all(files), sub.request, public=True)
    body = [{"service_request_id": case.case_no, "service_notice": t("open311.notice"), "account_id": None}]
    return render(fmt, "service_requests", "request", body)


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def other(rest: str) -> flask.Response:
    """Any other path or method: 405 for a resource of the API, 404 for anything else, in the spec's format."""
    base, _, fmt = rest.rpartition(".")
    flask.g.open311_fmt = fmt if fmt in FORMATS else "xml"
    known = base in ("discovery", "services", "requests") or (base.split("/")[0] in RESOURCES and base.count("/") == 1)
    if known and flask.request.method == "OPTIONS":
        resp = flask.Response(status=204)
        resp.headers["Access-Control-Allow-Origin"] = "*"
        resp.headers["Access-Control-Allow-Methods"] = "GET, POST" if base == "requests" else "GET"
        return resp
    if known:
        raise ApiError(405, t("open311.error.method", method=flask.request.method))
    raise ApiError(404, t("open311.error.resource", path=rest[:60]))


# -- errors and the log -------------------------------------------------------------------------------
@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> flask.Response:
    resp = errors(flask.g.get("open311_fmt", "xml"), exc.status, [(exc.code, exc.description)])
    if exc.status == 405:
        resp.headers["Allow"] = "GET, POST" if flask.request.path.startswith(PREFIX + "/requests.") else "GET"
    return resp


@bp.errorhandler(StoreError)
def _store_error(exc: StoreError) -> flask.Response:
    status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Forbidden) else 400
    code = exc.code if isinstance(exc, Invalid) and exc.code else status
    return errors(flask.g.get("open311_fmt", "xml"), status, [(code, error_text(exc))])


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> flask.Response:
    status = exc.code or 400
    key = {413: "open311.error.too_large"}.get(status)
    text = t(key, mb=upload_limit(photo_store().max_bytes) // (1024 * 1024)) if key else str(exc.name)
    return errors(flask.g.get("open311_fmt", "xml"), status, [(status, text)])


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> flask.Response:
    flask.current_app.logger.exception("Open311 %s %s failed", flask.request.method, flask.request.path)
    return errors(flask.g.get("open311_fmt", "xml"), 500, [(500, t("open311.error.internal"))])


@bp.before_request
def _before() -> None:
    fmt = flask.request.path.rpartition(".")[2]
    flask.g.open311_fmt = fmt if fmt in FORMATS else "xml"  # errors raised before the view knows its format
    if flask.request.method == "POST":  # before anything reads the body: a request may carry photos
        flask.request.max_content_length = upload_limit(photo_store().max_bytes)
    _language()


@bp.after_request
def _log(resp: flask.Response) -> flask.Response:
    name = flask.g.get("open311_key")
    if name:
        req = flask.request
        services().store.log_api_call(datetime.now(UTC), name, req.method, req.path, resp.status_code)
    return resp


def init(server: flask.Flask) -> None:
    from web.auth import csrf  # the API authenticates posts by api_key, not by a session's CSRF token

    csrf.exempt(bp)
    server.register_blueprint(bp)
