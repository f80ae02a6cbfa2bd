"""The inspector's phone page (/field) and its JSON endpoints, through the Flask test client on the demo store."""

from __future__ import annotations

import io
import re

import pytest
import shapely
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from store.models import NewCase, User
from tests.web.conftest import sign_in

pytestmark = pytest.mark.slow


def _svc(app):
    from web.services import KEY

    return app.server.config[KEY]


def jpeg(size=(64, 48), colour=(200, 60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def _inspector(app, client, name="sup.350203", lang="zh"):
    client.set_cookie("xiuhua_lang", lang)
    assert sign_in(client, name).status_code == 303
    page = client.get("/field")
    assert page.status_code == 200
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.data.decode()).group(1)
    return {"X-CSRFToken": token}


def _patrol_point(app, name="sup.350203"):
    """A point inside one of the inspector's patrol cells (the demo gives each some)."""
    svc = _svc(app)
    cell = svc.store.patrol_cells(name)[0]
    grid = svc.workflow.engine.city.layers["grid_cells"]
    p = shapely.point_on_surface(grid[grid["code"] == cell].geometry.iloc[0])
    return cell, p.x, p.y


def _district_point(app, district):
    grid = _svc(app).workflow.engine.city.layers["grid_cells"]
    cells = grid[(grid["district_code"] == district) & (grid["cell_size_m"] == grid["cell_size_m"].min())]
    p = shapely.point_on_surface(cells.geometry.iloc[len(cells) // 2])
    return p.x, p.y


def _verify_task(app, x, y):
    """A hotline report sent to the inspectors to verify."""
    wf = _svc(app).workflow
    acceptor = wf.store.get_user("acceptor")
    case = wf.report(acceptor, NewCase("06036", x, y, "hotline", wf.clock(), "test: verify me"))
    return wf.act(acceptor, case.id, "send_verify", case.version)


def _check_task(app, x, y):
    """An inspector's report taken to "handled" by a unit, with a feedback photo."""
    svc = _svc(app)
    wf, store = svc.workflow, svc.store
    sup, acceptor = store.get_user("sup.350203"), store.get_user("acceptor")
    case = wf.report(sup, NewCase("06036", x, y, "supervisor", wf.clock(), "test: check me"))
    case = wf.act(acceptor, case.id, "accept", case.version)
    case = wf.act(store.get_user("shiftlead"), case.id, "file", case.version)
    case = wf.act(store.get_user("dispatcher"), case.id, "dispatch", case.version)
    unit = User(0, f"unit.{case.assignee}", "", "unit", (), case.assignee)
    photo = svc.photos.save(jpeg(colour=(10, 200, 10)), "after.jpg")
    return wf.act(unit, case.id, "feedback", case.version, photos=[photo])


def test_the_page_is_the_inspectors_and_light(app):
    client = app.server.test_client()
    assert client.get("/field").status_code == 303  # anonymous: to sign-in
    assert client.get("/field/api/tasks").status_code == 401
    headers = _inspector(app, client)
    page = client.get("/field").data.decode()
    assert "上报" in page and "/assets/field/field.js" in page and "<script>" not in page  # no inline script
    assert "dash" not in page.lower()
    client.set_cookie("xiuhua_lang", "en")
    assert "Report" in client.get("/field").data.decode()
    assert headers
    for other in ("dispatcher", "acceptor", "wall", "head.350203"):
        c = app.server.test_client()
        sign_in(c, other)
        page = c.get("/field")
        assert page.status_code == 403 and page.mimetype == "text/plain"
        r = c.get("/field/api/tasks")
        assert r.status_code == 403 and r.is_json and r.json["code"] == "policy.role"


def test_field_assets_stay_off_the_dash_pages(app):
    client = app.server.test_client()
    sign_in(client, "dispatcher")
    page = client.get("/dispatch").data.decode()
    assert "field.js" not in page and "field/vendor" not in page
    for path in ("/assets/field/field.js", "/assets/field/vendor/leaflet.js", "/assets/field/field.css"):
        with client.get(path) as r:
            assert r.status_code == 200


def test_resolve_names_the_owners_and_refuses_outside(app):
    client = app.server.test_client()
    _inspector(app, client, lang="en")
    cell, x, y = _patrol_point(app)
    r = client.get(f"/field/api/resolve?lon={x}&lat={y}&matter=06036")
    assert r.status_code == 200, r.data
    assert r.json["cell"] == cell and r.json["squad"] and r.json["community"] != "—"
    assert isinstance(r.json["boundary_m"], int)
    assert client.get(f"/field/api/resolve?lon={x}&lat={y}").json["squad"] is None  # no matter yet: no squad
    r = client.get("/field/api/resolve?lon=0&lat=0&matter=06036")
    assert r.status_code == 400 and r.json == {"error": "That position lies outside the city", "code": "report.outside"}
    ox, oy = _district_point(app, "350206")
    r = client.get(f"/field/api/resolve?lon={ox}&lat={oy}&matter=06036")
    assert r.status_code == 403 and r.json["code"] == "policy.district" and "350206" in r.json["error"]
    for bad in ("lon=x&lat=1", "lon=nan&lat=1", "lat=24", f"lon={x}&lat={y}&matter=99999"):
        r = client.get(f"/field/api/resolve?{bad}")
        assert r.status_code == 400 and r.is_json and r.json["error"], bad


def test_a_report_with_photos_gets_a_case_number_and_its_photo_is_served(app):
    client = app.server.test_client()
    headers = _inspector(app, client)
    cell, x, y = _patrol_point(app)
    data = {"matter": "06036", "lon": str(x), "lat": str(y), "description": "路边堆物 (test)"}
    data["photos"] = [(io.BytesIO(jpeg()), "a.jpg"), (io.BytesIO(jpeg(colour=(1, 2, 3))), "b.jpg")]
    r = _post(client, headers, "/field/api/report", **data)
    assert r.status_code == 201, r.data
    svc = _svc(app)
    case = svc.store.get_case(r.json["id"])
    assert r.json["case_no"] == case.case_no and case.cell == cell and case.source == "supervisor"
    (m1, m2) = svc.store.media_of([case.id])
    assert {m1.stage, m2.stage} == {"report"} and m1.uploaded_by == "sup.350203"
    with client.get(f"/photos/{m1.sha256}/thumb") as r:
        assert r.status_code == 200 and r.mimetype.startswith("image/")
    assert svc.store.reported_matters("sup.350203")[0] == "06036"
    page = client.get("/field").data.decode()
    assert '"code": "06036", "name": "' in page and '"recent": true' in page


def _post(client, headers, url, photos=(), **fields):
    """A multipart POST, its body encoded in memory (the test client would spool a large one to a temporary file
    that nothing closes)."""
    data = MultiDict(fields)
    for stream, name in photos:
        data.add("photos", FileStorage(stream, filename=name, content_type="image/jpeg"))
    boundary, body = encode_multipart(data)
    return client.post(url, data=body, headers=headers, content_type=f"multipart/form-data; boundary={boundary}")


def test_bad_reports_are_refused_with_a_message_and_keep_nothing(app):
    client = app.server.test_client()
    headers = _inspector(app, client, lang="en")
    svc = _svc(app)
    _, x, y = _patrol_point(app)
    before = svc.store.count_by_state()
    ok = {"matter": "06036", "lon": str(x), "lat": str(y)}
    r = _post(client, headers, "/field/api/report", **{**ok, "matter": ""}, photos=[(io.BytesIO(jpeg()), "a.jpg")])
    assert r.status_code == 400 and r.json["code"] == "fieldpage.no_matter" and r.json["error"] == "Choose a matter"
    r = _post(client, headers, "/field/api/report", **{**ok, "lon": "0", "lat": "0"})
    assert r.status_code == 400 and r.json["code"] == "report.outside"
    r = _post(client, headers, "/field/api/report", **ok, photos=[(io.BytesIO(b"not a photo"), "x.jpg")])
    assert r.status_code == 400 and r.json["code"] == "photo.type" and "x.jpg" in r.json["error"]
    big = jpeg() + b"\0" * (11 * 1024 * 1024)
    r = _post(client, headers, "/field/api/report", **ok, photos=[(io.BytesIO(big), "big.jpg")])
    assert r.status_code == 400 and r.json["code"] == "photo.too_large" and "big.jpg" in r.json["error"]
    seven = [(io.BytesIO(jpeg(colour=(k, 0, 0))), f"{k}.jpg") for k in range(7)]
    r = _post(client, headers, "/field/api/report", **ok, photos=seven)
    assert r.status_code == 400 and r.json["code"] == "photo.count"
    r = _post(client, headers, "/field/api/report", **ok, description="x" * 2001)
    assert r.status_code == 400 and r.json["code"] == "text.too_long"
    r = _post(client, {}, "/field/api/report", **ok)  # no CSRF token
    assert r.status_code == 400 and r.json["code"] == "fieldpage.csrf"
    assert svc.store.count_by_state() == before


def test_an_upload_over_the_request_limit_is_413_json(app):
    client = app.server.test_client()
    headers = _inspector(app, client)
    limit = client.application.config.get("MAX_CONTENT_LENGTH")
    huge = b"\0" * (100 * 1024 * 1024)
    r = _post(client, headers, "/field/api/report", matter="06036", photos=[(io.BytesIO(huge), "huge.jpg")])
    assert limit and r.status_code == 413 and r.json["code"] == "fieldpage.too_large"


def test_verify_and_check_tasks(app):
    client = app.server.test_client()
    headers = _inspector(app, client, lang="en")
    _, x, y = _patrol_point(app)
    verify = _verify_task(app, x, y)
    check = _check_task(app, x, y)
    tasks = {t["id"]: t for t in client.get("/field/api/tasks").json["tasks"]}
    assert tasks[verify.id]["kind"] == "verify" and [a["action"] for a in tasks[verify.id]["actions"]] == [
        "verify",
        "verify_fail",
    ]
    t = tasks[check.id]
    assert t["kind"] == "check" and t["photos"] and t["photos"][0]["thumb"].endswith("/thumb")
    with client.get(t["photos"][0]["thumb"]) as r:
        assert r.status_code == 200
    # not confirmed needs a reason; a check needs a photo; a stale version is a conflict
    url = f"/field/api/tasks/{verify.id}"
    r = _post(client, headers, url, action="verify_fail", version=str(verify.version))
    assert r.status_code == 400 and r.json["code"] == "action.needs_reason"
    r = _post(client, headers, url, action="dispatch", version=str(verify.version))
    assert r.status_code == 400 and r.json["code"] == "fieldpage.action"
    r = _post(client, headers, url, action="verify", version=str(verify.version), reason="on site")
    assert r.status_code == 200 and r.json["case_no"] == verify.case_no
    r = _post(client, headers, url, action="verify", version=str(verify.version))
    assert r.status_code == 409 and r.json["code"] == "conflict.changed_by" and verify.case_no in r.json["error"]
    url = f"/field/api/tasks/{check.id}"
    r = _post(client, headers, url, action="check_pass", version=str(check.version))
    assert r.status_code == 400 and r.json["code"] == "fieldpage.photo_needed"
    photo = [(io.BytesIO(jpeg(colour=(5, 5, 250))), "fixed.jpg")]
    r = _post(client, headers, url, action="check_pass", version=str(check.version), photos=photo)
    assert r.status_code == 200, r.data
    svc = _svc(app)
    assert svc.store.get_case(check.id).state == "checked"
    assert [m.stage for m in svc.store.media_of([check.id])] == ["feedback", "check"]
    ids = {t["id"] for t in client.get("/field/api/tasks").json["tasks"]}
    assert verify.id not in ids and check.id not in ids


def test_other_districts_and_other_inspectors_cells_are_refused(app):
    svc = _svc(app)
    ox, oy = _district_point(app, "350206")
    elsewhere = _verify_task(app, ox, oy)  # in Huli: not sup.350203's district
    cell, x, y = _patrol_point(app)
    mine = _verify_task(app, x, y)
    client = app.server.test_client()
    headers = _inspector(app, client)
    ids = {t["id"] for t in client.get("/field/api/tasks").json["tasks"]}
    assert mine.id in ids and elsewhere.id not in ids
    r = _post(client, headers, f"/field/api/tasks/{elsewhere.id}", action="verify", version=str(elsewhere.version))
    assert r.status_code == 403 and r.json["code"] == "policy.district"
    # another inspector takes over the cell: its tasks are theirs
    svc.store.add_user("sup.other", "long enough", "supervisor", ["350203"])
    try:
        svc.store.set_patrol_cells("sup.other", [cell])
        svc.store.set_patrol_cells("sup.350203", [c for c in svc.store.patrol_cells("sup.350203") if c != cell])
        assert mine.id not in {t["id"] for t in client.get("/field/api/tasks").json["tasks"]}
        r = _post(client, headers, f"/field/api/tasks/{mine.id}", action="verify", version=str(mine.version))
        assert r.status_code == 403 and r.json["code"] == "policy.patrol"
    finally:
        svc.store.set_patrol_cells("sup.other", [])
        svc.store.update_user("sup.other", active=False)
        svc.store.set_patrol_cells("sup.350203", sorted({*svc.store.patrol_cells("sup.350203"), cell}))
    r = _post(client, headers, "/field/api/tasks/999999999", action="verify", version="1")
    assert r.status_code == 404 and r.is_json


def test_the_map_layers_are_the_inspectors(app):
    client = app.server.test_client()
    _inspector(app, client)
    r = client.get("/field/api/map")
    assert r.status_code == 200
    codes = {f["properties"]["code"] for f in r.json["cells"]["features"]}
    assert codes == set(_svc(app).store.patrol_cells("sup.350203"))
    assert r.json["land"]["features"]
