"""Photos over HTTP: served only to who may open a case holding them (others get 404, the signed-out 401), with no
EXIF or GPS in what is served, thumbnails at most 320 px; bad uploads refused with the translated photo error."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from store.errors import Invalid
from tests.web.conftest import sign_in, sign_out
from web.i18n import error_text
from web.services import KEY

pytestmark = pytest.mark.slow


def jpeg_with_gps(colour: str = "teal") -> bytes:
    img = Image.new("RGB", (1200, 900), colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (24.0, 27.0, 1.5), 3: "E", 4: (118.0, 5.0, 2.5)}  # GPSInfo
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def encoded(fmt: str, colour: str = "navy", size: tuple[int, int] = (640, 480)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, fmt)
    return buf.getvalue()


def fetch(client, url: str) -> tuple[int, bytes, str]:
    """Status, body and type of a GET (the response closed: a served file is not left open)."""
    r = client.get(url)
    try:
        return r.status_code, r.get_data(), r.mimetype
    finally:
        r.close()


def status(client, url: str) -> int:
    return fetch(client, url)[0]


@pytest.fixture(scope="module")
def held(app):
    """A case assigned to a unit that has an account, with an uploaded photo (GPS in its EXIF) on it."""
    from web.photos import save_all

    svc = app.server.config[KEY]
    units = {u.unit for u in svc.store.list_users() if u.role == "unit"}
    case = next(c for c in svc.store.cases(states=["dispatched", "handled", "closed"]) if c.assignee in units)
    with app.server.test_request_context():
        (photo,) = save_all([("gps.jpg", jpeg_with_gps())])
    svc.store.add_media([photo.row(case.id, "feedback", f"unit.{case.assignee}", datetime.now(UTC))])
    other_unit = sorted(units - {case.assignee})[0]
    other_district = next(d for d in sorted(svc.layers.names["districts"]) if d != case.district)
    return case, photo, other_unit, other_district


def test_a_photo_is_served_to_who_may_see_its_case_and_hidden_from_the_rest(client, held):
    case, photo, other_unit, other_district = held
    url = f"/photos/{photo.sha256}"
    assert status(client, url) == 401  # signed out
    for who in ("dispatcher", f"head.{case.district}", f"unit.{case.assignee}"):
        sign_in(client, who)
        assert status(client, url) == 200, who
        assert status(client, url + "/thumb") == 200, who
        sign_out(client)
    for who in (f"head.{other_district}", f"unit.{other_unit}", "wall"):
        sign_in(client, who)
        assert status(client, url) == 404, who  # the same as for a photo that does not exist
        assert status(client, url + "/thumb") == 404, who
        sign_out(client)
    sign_in(client, "dispatcher")
    assert status(client, "/photos/" + "0" * 64) == 404
    assert status(client, "/photos/not-a-hash") == 404


def test_what_is_served_has_no_exif_or_gps_and_the_thumbnail_is_small(client, held):
    _case, photo, *_ = held
    sign_in(client, "dispatcher")
    code, data, _ = fetch(client, f"/photos/{photo.sha256}")
    img = Image.open(io.BytesIO(data))
    assert code == 200 and img.format == "JPEG" and img.size == (1200, 900)
    assert not img.getexif() and b"Exif" not in data and b"PhoneMaker" not in data
    thumb = Image.open(io.BytesIO(fetch(client, f"/photos/{photo.sha256}/thumb")[1]))
    assert max(thumb.size) <= 320 and not thumb.getexif()
    # the upload itself was not changed: it had the GPS the served copy lacks
    original = Image.open(io.BytesIO(jpeg_with_gps()))
    assert original.getexif().get_ifd(0x8825)


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("notes.txt", b"just some text, not a picture", "不是 JPEG、PNG、WebP 或 HEIC 照片"),
        ("empty.jpg", b"", "文件是空的"),
        ("huge.jpg", b"\xff\xd8" + b"\0" * (11 * 1024 * 1024), "超过了每张照片 10 MB 的上限"),
    ],
)
def test_bad_uploads_are_refused_with_the_translated_photo_error(app, name, data, words):
    from web.photos import save_all

    with app.server.test_request_context():
        with pytest.raises(Invalid) as caught:
            save_all([("fine.png", encoded("PNG")), (name, data)])
        assert name in error_text(caught.value) and words in error_text(caught.value)
    svc = app.server.config[KEY]
    # checked all before any is kept: the good photo of the refused batch was not stored either
    fine = __import__("hashlib").sha256(encoded("PNG")).hexdigest()
    assert not svc.photos.path("view", fine).exists()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted(app, fmt):
    from web.photos import save_all

    with app.server.test_request_context():
        (photo,) = save_all([(f"p.{fmt.lower()}", encoded(fmt, "olive"))])
    assert photo.content_type == f"image/{fmt.lower()}" and (photo.width, photo.height) == (640, 480)


def test_heic_is_accepted_and_served_as_jpeg(app, client, held):
    pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif is not installed")
    from web.photos import save_all

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    try:
        Image.new("RGB", (320, 240), "maroon").save(buf, "HEIF")
    except (KeyError, OSError, ValueError) as exc:  # a libheif built without an encoder
        pytest.skip(f"pillow-heif cannot write HEIC here: {exc}")
    case, *_ = held
    with app.server.test_request_context():
        (photo,) = save_all([("iphone.heic", buf.getvalue())])
    assert photo.content_type == "image/heic"
    svc = app.server.config[KEY]
    svc.store.add_media([photo.row(case.id, "report", "dispatcher", datetime.now(UTC))])
    sign_in(client, "dispatcher")
    code, data, mimetype = fetch(client, f"/photos/{photo.sha256}")
    assert code == 200 and mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(data)).format == "JPEG"
