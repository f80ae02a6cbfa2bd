"""Photos over HTTP: uploads checked and kept (dispatch/media.PhotoStore), and files served only to whoever may
open a case they belong to (the policy's "route.photo"): the upright, metadata-free view or the thumbnail; the
original as uploaded is never served.

URLs: /photos/<sha256> (the view) and /photos/<sha256>/thumb. Pages build them with `photo_url`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence

import flask

from dispatch.media import MAX_PER_STEP, Photo, PhotoStore
from dispatch.policy import Target, allows
from store.errors import Invalid
from web.auth import Denied, current_user
from web.services import services

bp = flask.Blueprint("photos", __name__)
UPLOAD_PATHS = ("/_dash-update-component", "/field/api/")  # requests that may carry photos


def photo_store() -> PhotoStore:
    return services().photos


def photo_url(sha256: str, thumb: bool = False) -> str:
    return f"/photos/{sha256}/thumb" if thumb else f"/photos/{sha256}"


def upload_limit(max_photo_bytes: int) -> int:
    """The largest request that may carry photos: a step's photos as base64 (Dash uploads), and a margin."""
    return MAX_PER_STEP * max_photo_bytes * 4 // 3 + 1024 * 1024


def save_all(files: Sequence[tuple[str, bytes]]) -> list[Photo]:
    """Check every photo first (so a bad one refuses them all, naming it), then keep them."""
    store = photo_store()
    if len(files) > MAX_PER_STEP:
        raise Invalid(f"at most {MAX_PER_STEP} photos per step", code="photo.count", limit=MAX_PER_STEP)
    for name, data in files:
        store.check(data, name)
    return [store.save(data, name) for name, data in files]


def from_data_urls(contents: Iterable[str | None], names: Iterable[str | None]) -> list[tuple[str, bytes]]:
    """dcc.Upload's `data:<type>;base64,<data>` strings as (file name, bytes); the type it claims is ignored."""
    out = []
    for k, (text, name) in enumerate(zip(contents, names, strict=False)):
        label = str(name or f"photo {k + 1}")[:80]
        if not isinstance(text, str) or "," not in text:
            raise Invalid(f"{label}: not a file", code="photo.type", name=label)
        try:
            out.append((label, base64.b64decode(text.split(",", 1)[1], validate=True)))
        except (binascii.Error, ValueError):
            raise Invalid(f"{label}: not a file", code="photo.type", name=label) from None
    return out


def may_see(sha256: str) -> bool:
    """Whether the current user may open some case this file belongs to, or anyone may see it (a photo marked
    public: one posted through Open311)."""
    user = current_user()
    store = services().store
    rows = store.media_by_hash(sha256)
    if any(row.public for row in rows):
        return True
    if user is None:
        return False
    for row in rows:
        case = store.get_case(row.case_id)
        if allows(user, "route.photo", Target(case.district, case.assignee)):
            return True
    return False


def _send(sha256: str, kind: str) -> flask.Response:
    try:
        path = photo_store().path(kind, sha256)
    except Invalid:
        return flask.Response("no such photo", 404, mimetype="text/plain")
    if not may_see(sha256):
        raise Denied("you may not see this photo", 404 if current_user() else 401)  # 404: do not confirm it exists
    if not path.is_file():
        return flask.Response("no such photo", 404, mimetype="text/plain")
    resp = flask.send_file(path, max_age=0, conditional=True)
    resp.headers["Cache-Control"] = "private, max-age=3600"
    resp.headers["Content-Disposition"] = "inline"
    return resp


@bp.get("/photos/<sha256>")
def view(sha256: str) -> flask.Response:
    return _send(sha256, "view")


@bp.get("/photos/<sha256>/thumb")
def thumb(sha256: str) -> flask.Response:
    return _send(sha256, "thumb")


def _allow_uploads() -> None:
    """Requests that may carry photos may be larger than the app's 2 MB default (only once signed in)."""
    req = flask.request
    if req.path.startswith(UPLOAD_PATHS) and current_user() is not None:
        req.max_content_length = upload_limit(photo_store().max_bytes)


def init(server: flask.Flask) -> None:
    server.register_blueprint(bp)
    # first of all: Flask-WTF's CSRF check reads a multipart form (/field/api/) before later hooks would run
    server.before_request_funcs.setdefault(None, []).insert(0, _allow_uploads)
