"""The inspector's phone page (/field): report a case where they stand, and do their verify and check tasks.

No Dash: one small HTML page (templates/field.html), assets/field/field.js and field.css, and Leaflet from
assets/field/vendor, so it loads over a slow mobile network. Its JSON endpoints (/field/api/…) check the policy's
"page.field" first and leave every other decision to the workflow (report, act: scope, patrol cells, states,
versions). Errors come back as JSON {"error": <text in the user's language>, "code": …} with a 4xx status.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import flask
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from dispatch.limits import LIMITS
from dispatch.media import MAX_PER_STEP
from dispatch.policy import Target, refusal
from dispatch.workflow import NO_CASE_FLAGS, TASK_ACTION
from store.errors import Conflict, Invalid, NotFound, StoreError, changed_by
from store.models import Case, NewCase, User
from web import names
from web.auth import Denied, csrf_token, denied, require
from web.console import BOUNDARY_WARNING_M
from web.i18n import catalogue, error_text, language, t
from web.photos import photo_url, save_all
from web.services import services

bp = flask.Blueprint("field", __name__, template_folder="templates")
# what an inspector may do to a task, by the state it is in (the workflow checks again)
TASK_ACTIONS = {"verifying": ("verify", "verify_fail"), "handled": ("check_pass", "check_fail"),
                "checking": ("check_pass", "check_fail")}  # fmt: skip
NEEDS_PHOTO = ("check_pass", "check_fail")  # a check documents what the inspector saw
RECENT = 6  # the inspector's recent matters listed first


def _error(status: int, code: str, text: str) -> flask.Response:
    resp = flask.jsonify(error=text, code=code)
    resp.status_code = status
    return resp


def _invalid(code: str, message: str, **params: Any) -> Invalid:
    return Invalid(message, code=code, **params)


@bp.errorhandler(Denied)
def _denied(exc: Denied) -> flask.Response:
    if not flask.request.path.startswith("/field/api/"):
        return denied(exc)  # the page itself: as every other page says it
    return _error(exc.status, exc.code or "forbidden", error_text(exc))


@bp.errorhandler(StoreError)
def _store_error(exc: StoreError) -> flask.Response:
    status = 409 if isinstance(exc, Conflict) else 404 if isinstance(exc, NotFound) else 403
    status = 400 if isinstance(exc, Invalid) else status
    return _error(status, getattr(exc, "code", "") or type(exc).__name__.lower(), error_text(exc))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> flask.Response:
    mb = services().photos.max_bytes // (1024 * 1024)
    return _error(413, "fieldpage.too_large", t("error.fieldpage.too_large", mb=mb, n=MAX_PER_STEP))


@bp.errorhandler(CSRFError)
def _csrf(exc: CSRFError) -> flask.Response:
    return _error(400, "fieldpage.csrf", t("error.fieldpage.csrf"))


# -- the page -----------------------------------------------------------------------------------------
def matters(user: User) -> list[dict[str, Any]]:
    """The city's matters (code, name), the inspector's recent ones first (flagged `recent`)."""
    city = services().workflow.engine.city
    named, lang = names.city_names(city), language()
    recent = services().store.reported_matters(user.username, RECENT)
    order = {code: k for k, code in enumerate(recent)}
    rows = [
        {"code": code, "name": named.name("matter", code, lang), "recent": code in order}
        for code in city.matters["code"].astype(str)
    ]
    return sorted(rows, key=lambda r: (order.get(r["code"], len(order)), r["code"]))


@bp.get("/field")
def page() -> str:
    user = require("page.field")
    svc = services()
    lang = language()
    bounds = svc.layers.bounds(tuple(user.districts))
    basemap = svc.basemap
    # online tiles in WGS84 only; GCJ-02 tiles and MBTiles (behind route.map) fall back to the offline land
    tiles = basemap.url if basemap.kind == "tiles" and not basemap.gcj02 else None
    config = {
        "lang": lang,
        "bounds": bounds,
        "tiles": tiles,
        "subdomains": basemap.subdomains,
        "attribution": basemap.attribution,
        "matters": matters(user),
        "maxPhotos": MAX_PER_STEP,
        "maxPhotoMb": svc.photos.max_bytes // (1024 * 1024),
        "maxDescription": LIMITS["description"],
        "text": {k.split(".", 1)[1]: v for k, v in _texts(lang).items()},
    }
    return flask.render_template(
        "field.html",
        lang=lang,
        t=lambda key, **kw: t(f"fieldpage.{key}", **kw),
        user=user,
        csrf=csrf_token(),
        config=config,
        other="en" if lang == "zh" else "zh",
        switch=t("nav.switch_language"),
    )


def _texts(lang: str) -> dict[str, str]:
    return {k: v[lang] for k, v in catalogue().items() if k.startswith("fieldpage.")}


@bp.get("/field/api/map")
def map_layers() -> flask.Response:
    """The inspector's land (their districts, the rest as an outline) and patrol cells, as one GeoJSON object."""
    user = require("page.field")
    svc = services()
    cells = svc.store.patrol_cells(user.username)
    grid = svc.workflow.engine.city.layers["grid_cells"]
    mine = grid[grid["code"].isin(cells)][["code", "geometry"]]
    land, patrol = svc.layers.land(tuple(user.districts)), mine.to_json(drop_id=True)
    return flask.Response(f'{{"land":{land},"cells":{patrol}}}', mimetype="application/json")


# -- where: the owner answer ----------------------------------------------------------------------------
def _point(args: Any) -> tuple[float, float]:
    try:
        lon, lat = float(args.get("lon", "")), float(args.get("lat", ""))
    except (TypeError, ValueError):
        raise _invalid("fieldpage.position", "lon and lat must be numbers") from None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise _invalid("fieldpage.position", "lon and lat must be numbers")
    return lon, lat


def _matter(code: Any, required: bool) -> str | None:
    known = set(services().workflow.allowance)
    if not code:
        if required:
            raise _invalid("fieldpage.no_matter", "choose a matter")
        return None
    if code not in known:
        raise _invalid("report.matter", f"unknown matter code {str(code)[:8]!r}", matter=str(code)[:8])
    return str(code)


def owner_answer(user: User, lon: float, lat: float, matter: str | None, at: datetime) -> dict[str, Any]:
    """Who would own a report here: cell, community, sub-district, district, squad (for a matter), the distance
    to the nearest boundary; refused outside the city and outside the inspector's districts."""
    wf = services().workflow
    code = matter or str(wf.engine.city.matters["code"].iloc[0])  # the areas do not depend on the matter
    o = wf.engine.resolve(lon, lat, code, at)
    if o.district is None:
        raise _invalid("report.outside", "outside the city")
    problem = refusal(user, "action.report", Target(o.district))
    if problem is not None:
        raise problem
    distance = o.boundary_distance_m
    near = distance is not None and distance < BOUNDARY_WARNING_M
    lawful = bool(matter) and o.flag in NO_CASE_FLAGS
    return {
        "district": names.area("districts", o.district),
        "subdistrict": names.area("subdistricts", o.subdistrict),
        "community": names.area("communities", o.community),
        "cell": o.cell or "—",
        "squad": names.squad(o.squad or o.lead_department) if matter else None,
        "boundary_m": None if distance is None else round(distance),
        "near_boundary": near,
        "warning": t("fieldpage.near_boundary", metres=f"{distance:.0f}") if near else None,
        "lawful": t("error.report.lawful") if lawful else None,
    }


@bp.get("/field/api/resolve")
def resolve() -> flask.Response:
    user = require("page.field")
    lon, lat = _point(flask.request.args)
    matter = _matter(flask.request.args.get("matter"), required=False)
    return flask.jsonify(owner_answer(user, lon, lat, matter, services().workflow.clock()))


# -- report -----------------------------------------------------------------------------------------
def _files() -> list[tuple[str, bytes]]:
    files = flask.request.files.getlist("photos")
    if len(files) > MAX_PER_STEP:
        raise _invalid("photo.count", f"at most {MAX_PER_STEP} photos per step", limit=MAX_PER_STEP)
    return [(str(f.filename or f"photo {k + 1}")[:80], f.read()) for k, f in enumerate(files)]


@bp.post("/field/api/report")
def report() -> tuple[flask.Response, int]:
    user = require("page.field")
    form = flask.request.form
    matter = _matter(form.get("matter"), required=True)
    assert matter is not None
    lon, lat = _point(form)
    wf = services().workflow
    new = NewCase(matter, lon, lat, "supervisor", wf.clock(), form.get("description", ""), reporter=user.username)
    files = _files()
    wf.check_report(user, new)  # everything but the photos is checked before any photo is kept
    case = wf.report(user, new, photos=save_all(files))
    return flask.jsonify(id=case.id, case_no=case.case_no, state=t(f"state.{case.state}")), 201


# -- tasks ------------------------------------------------------------------------------------------
def task_view(case: Case, photos: list[Any], tz: Any) -> dict[str, Any]:
    wf = services().workflow
    due = wf.due(case)
    return {
        "id": case.id,
        "case_no": case.case_no,
        "version": case.version,
        "state": case.state,
        "state_name": t(f"state.{case.state}"),
        "kind": "verify" if TASK_ACTION[case.state] == "verify" else "check",
        "actions": [{"action": a, "name": t(f"action.{a}")} for a in TASK_ACTIONS[case.state]],
        "matter": names.matter(case.matter),
        "description": case.description,
        "lon": case.lon,
        "lat": case.lat,
        "where": " · ".join(
            x for x in (names.area("subdistricts", case.subdistrict), names.area("communities", case.community)) if x
        )
        + (f" · {case.cell}" if case.cell else ""),
        "deadline": f"{due.astimezone(tz):%Y-%m-%d %H:%M}" if due else "—",
        "reported": f"{case.reported_at.astimezone(tz):%Y-%m-%d %H:%M}",
        "photos": [
            {
                "thumb": photo_url(m.sha256, thumb=True),
                "view": photo_url(m.sha256),
                "stage": t(f"fieldpage.photo_{m.stage}"),
            }
            for m in photos
            if m.stage in ("report", "feedback", "verify")
        ],
    }


@bp.get("/field/api/tasks")
def tasks() -> flask.Response:
    user = require("page.field")
    svc = services()
    found = svc.workflow.tasks(user)[:200]
    media: dict[int, list[Any]] = {}
    for m in svc.store.media_of([c.id for c in found]):
        media.setdefault(m.case_id, []).append(m)
    tz = svc.workflow.calendar.tz
    return flask.jsonify(tasks=[task_view(c, media.get(c.id, []), tz) for c in found])


@bp.post("/field/api/tasks/<int:case_id>")
def act(case_id: int) -> flask.Response:
    user = require("page.field")
    form = flask.request.form
    action = form.get("action", "")
    if action not in {a for pair in TASK_ACTIONS.values() for a in pair}:
        raise _invalid("fieldpage.action", f"{action[:24]!r} is not an inspector's task action")
    try:
        version = int(form.get("version", ""))
    except ValueError:
        raise _invalid("param.type", "version must be a number", name="version") from None
    reason = form.get("reason", "").strip()
    files = _files()
    if action in NEEDS_PHOTO and not files:
        raise _invalid("fieldpage.photo_needed", "a check needs at least one photo")
    wf = services().workflow
    case = wf.store.get_case(case_id)
    if case.version != version:  # said before any photo is kept: someone else changed the case
        raise changed_by(case.case_no, case.updated_by, case.updated_at)
    wf.plan(user, case, action, wf.clock(), reason)  # every other check, before any photo is kept
    done = wf.act(user, case_id, action, version, reason, photos=save_all(files))
    return flask.jsonify(
        case_no=done.case_no,
        state=t(f"state.{done.state}"),
        message=t("fieldpage.done", no=done.case_no, action=t(f"action.{action}"), state=t(f"state.{done.state}")),
    )


def init(server: flask.Flask) -> None:
    server.register_blueprint(bp)
