"""Open311 GeoReport v2 (/open311/v2) against the spec's own examples: field names, list wrappers, XML element
names and nesting, errors; posting with a photo, following the case through the loop; keys, rate limits and
the call log. The API runs on both stores (a plain Flask app with the blueprint); the full app (sign-in gate,
CSRF, origins, public photos) on the seeded demo store."""

from __future__ import annotations

import io
import json
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import flask
import pytest
from PIL import Image

from dispatch import open311 as o3
from store.models import User

SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]  # fmt: skip
PERSONAL = {"first_name": "Zhangsan-Secret", "last_name": "Li-Secret", "email": "secret@example.org",
            "phone": "13900001234", "device_id": "dev-secret-42", "account_id": "acct-secret-7"}  # fmt: skip
V2 = "/open311/v2"


# -- a plain Flask app with the API, on either store ----------------------------------------------------
@pytest.fixture
def api(store, engine, city_config, tmp_path):
    from dispatch.calendar import WorkingCalendar
    from dispatch.media import PhotoStore
    from dispatch.workflow import Workflow
    from layers.basemap import parse_basemap
    from web import open311
    from web import photos as photo_routes
    from web.services import KEY, Services

    calendar = WorkingCalendar.load(city_config.sources["calendar"])
    svc = Services(city_config, store, lambda: Workflow(store, engine, calendar), parse_basemap("offline", None),
                   PhotoStore(tmp_path / "media", 10 * 1024 * 1024))  # fmt: skip
    server = flask.Flask("open311-test")
    server.config.update({KEY: svc, "XIUHUA_LANGUAGE": "zh", "XIUHUA_TZ": svc.workflow.calendar.tz},
                         SECRET_KEY="test", MAX_CONTENT_LENGTH=2 * 1024 * 1024)  # fmt: skip
    open311.init(server)
    photo_routes.init(server)
    return server


def _key(store, channel="app", rate=60, name=None):
    key, secret = o3.issue_key(store, name or f"k{uuid.uuid4().hex[:8]}", channel, rate, datetime.now(UTC))
    return key, secret


def _point(wf, district_index=0):
    """A point inside a community of the city (its representative point) and the community's name."""
    comm = wf.engine.city.layers["communities"].sort_values("code").iloc[district_index]
    p = comm.geometry.representative_point()
    return p.x, p.y, str(comm["name"])


def _jpeg(color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "JPEG")
    return buf.getvalue()


def _xml(resp):
    assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert resp.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(resp.data)


def _errors(resp, fmt):
    """The spec's error list: [{code, description}] / <errors><error><code/><description/></error></errors>."""
    if fmt == "json":
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
        body = resp.get_json()
        assert isinstance(body, list) and body and all(set(e) == {"code", "description"} for e in body)
        return body
    root = _xml(resp)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"] * len(root) and len(root)
    assert all([c.tag for c in e] == ["code", "description"] for e in root)
    return [{"code": e.findtext("code"), "description": e.findtext("description")} for e in root]


def _post(client, fmt="json", **data):
    return client.post(f"{V2}/requests.{fmt}", data=data)


# the spec's own examples (GeoReport_v2), trimmed to one item each: our answers must have their structure
SPEC_REQUESTS_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>638344</service_request_id><status>closed</status>
<status_notes>Duplicate request.</status_notes><service_name>Sidewalk and Curb Issues</service_name>
<service_code>006</service_code><description></description><agency_responsible></agency_responsible>
<service_notice></service_notice><requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
<updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime><expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime>
<address>8TH AVE and JUDAH ST</address><address_id>545483</address_id><zipcode>94122</zipcode>
<lat>37.762221815</lat><long>-122.4651145</long><media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg</media_url>
</request></service_requests>"""
SPEC_POST_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>293944</service_request_id><service_notice>The City will inspect
</service_notice><account_id/></request></service_requests>"""
SPEC_SERVICES_XML = """<?xml version="1.0" encoding="utf-8"?>
<services><service><service_code>001</service_code><service_name>Cans left out 24x7</service_name>
<description>Garbage or recycling cans</description><metadata>true</metadata><type>realtime</type>
<keywords>lorem, ipsum, dolor</keywords><group>sanitation</group></service></services>"""
SPEC_ERRORS_XML = """<?xml version="1.0" encoding="utf-8"?>
<errors><error><code>403</code><description>Invalid api_key received</description></error></errors>"""


def _shape(el):
    """An element's structure: its tag and its children's shapes (repeated items once)."""
    kids = []
    for child in el:
        s = _shape(child)
        if s not in kids:
            kids.append(s)
    return (el.tag, tuple(kids))


def test_structure_matches_the_spec_examples(api, store):
    c = api.test_client()
    lon, lat, _ = _point(api.config["XIUHUA"].workflow)
    _, secret = _key(store)
    posted = _post(c, "xml", api_key=secret, service_code="06001", lat=str(lat), long=str(lon))
    assert _shape(_xml(posted)) == _shape(ET.fromstring(SPEC_POST_XML.encode()))
    number = _xml(posted).findtext("request/service_request_id")
    assert _shape(_xml(c.get(f"{V2}/requests/{number}.xml"))) == _shape(ET.fromstring(SPEC_REQUESTS_XML.encode()))
    assert _shape(_xml(c.get(f"{V2}/requests.xml"))) == _shape(ET.fromstring(SPEC_REQUESTS_XML.encode()))
    assert _shape(_xml(c.get(f"{V2}/services.xml"))) == _shape(ET.fromstring(SPEC_SERVICES_XML.encode()))
    refused = _post(c, "xml", service_code="06001")
    assert _shape(_xml(refused)) == _shape(ET.fromstring(SPEC_ERRORS_XML.encode()))
    # JSON is the same lists of the same fields (the Spark convention)
    (item,) = c.get(f"{V2}/requests/{number}.json").get_json()
    assert list(item) == [e.tag for e in ET.fromstring(SPEC_REQUESTS_XML.encode())[0]]


def test_a_photo_larger_than_the_default_body_limit(api, store):
    import numpy as np

    c = api.test_client()
    lon, lat, _ = _point(api.config["XIUHUA"].workflow)
    _, secret = _key(store)
    noise = np.random.default_rng(1).integers(0, 255, (1400, 1400, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "JPEG", quality=95)
    assert buf.tell() > 2 * 1024 * 1024  # more than the app's 2 MB for forms
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    fields = MultiDict({"api_key": secret, "service_code": "06001", "lat": str(lat), "long": str(lon)})
    fields.add("media", FileStorage(io.BytesIO(buf.getvalue()), "big.jpg", content_type="image/jpeg"))
    boundary, body = encode_multipart(fields)  # in memory (the test client would spool a body this big to disk)
    r = c.post(f"{V2}/requests.json", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert r.status_code == 200, r.data


def test_a_body_over_the_limit_is_refused_in_the_spec_format(api, store, tmp_path):
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    from dispatch.media import PhotoStore

    api.config["XIUHUA"].photos = PhotoStore(tmp_path / "small", 100_000)  # so the body limit is about 1.8 MB
    _, secret = _key(store)
    fields = MultiDict({"api_key": secret, "service_code": "06001", "lat": "24.47", "long": "118.09"})
    fields.add("media", FileStorage(io.BytesIO(b"\xff" * 3 * 1024 * 1024), "huge.jpg"))
    boundary, body = encode_multipart(fields)
    before = len(store.cases())
    r = api.test_client().post(f"{V2}/requests.json", data=body,
                               content_type=f"multipart/form-data; boundary={boundary}")  # fmt: skip
    assert r.status_code == 413 and "MB" in _errors(r, "json")[0]["description"]
    assert len(store.cases()) == before


# -- discovery and services ----------------------------------------------------------------------------
def test_discovery(api):
    c = api.test_client()
    body = c.get(f"{V2}/discovery.json").get_json()
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    (ep,) = body["endpoints"]
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2" and ep["url"].endswith(V2)
    assert ep["formats"] == ["text/xml", "application/json"] and ep["type"] == "production"
    root = _xml(c.get(f"{V2}/discovery.xml"))
    assert root.tag == "discovery" and [e.tag for e in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert [e.tag for e in endpoint] == ["specification", "url", "changeset", "type", "formats"]
    assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]


def test_services_both_formats_and_languages(api):
    c = api.test_client()
    wf = api.config["XIUHUA"].workflow
    matters = wf.engine.city.matters.sort_values("code")
    body = c.get(f"{V2}/services.json").get_json()
    assert [s["service_code"] for s in body] == list(matters["code"])
    assert all(list(s) == SERVICE_FIELDS for s in body)
    first = body[0]
    assert first["service_name"] == matters.iloc[0]["name_zh"] and first["group"] == matters.iloc[0]["class_name_zh"]
    assert first["metadata"] is False and first["type"] == "realtime"
    en = c.get(f"{V2}/services.json?lang=en").get_json()[0]
    assert en["service_name"] == matters.iloc[0]["name_en"] and en["group"] == matters.iloc[0]["class_name_en"]
    by_header = c.get(f"{V2}/services.json", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_json()[0]
    assert by_header["service_name"] == en["service_name"]
    root = _xml(c.get(f"{V2}/services.xml"))
    assert root.tag == "services" and {e.tag for e in root} == {"service"} and len(root) == len(matters)
    assert [e.tag for e in root[0]] == SERVICE_FIELDS and root[0].findtext("metadata") == "false"


def test_service_definition_and_unknown_service(api):
    c = api.test_client()
    code = api.config["XIUHUA"].workflow.engine.city.matters["code"].iloc[0]
    assert c.get(f"{V2}/services/{code}.json").get_json() == {"service_code": code, "attributes": []}
    root = _xml(c.get(f"{V2}/services/{code}.xml"))
    assert root.tag == "service_definition" and [e.tag for e in root] == ["service_code", "attributes"]
    for fmt in ("json", "xml"):
        r = c.get(f"{V2}/services/99999.{fmt}")
        assert r.status_code == 404 and "99999" in _errors(r, fmt)[0]["description"]
    r = c.get(f"{V2}/services.html")
    assert r.status_code == 404 and _errors(r, "xml")


# -- posting and following a request -------------------------------------------------------------------
def test_post_requires_a_valid_key(api, store):
    c = api.test_client()
    wf = api.config["XIUHUA"].workflow
    lon, lat, _ = _point(wf)
    code = wf.engine.city.matters["code"].iloc[0]
    for fmt in ("json", "xml"):
        r = _post(c, fmt, service_code=code, lat=str(lat), long=str(lon))
        assert r.status_code == 403 and _errors(r, fmt)[0]["code"] in (403, "403")
        r = _post(c, fmt, api_key="nope", service_code=code, lat=str(lat), long=str(lon))
        assert r.status_code == 403
    key, secret = _key(store)
    assert _post(c, api_key=secret, service_code=code, lat=str(lat), long=str(lon)).status_code == 200
    store.revoke_api_key(key.name, datetime.now(UTC))
    r = _post(c, "xml", api_key=secret, service_code=code, lat=str(lat), long=str(lon))
    assert r.status_code == 403 and _errors(r, "xml")[0]["description"] == "api_key 无效或已吊销"


def test_post_with_photo_resolves_publishes_and_closes(api, store):
    c = api.test_client()
    wf = api.config["XIUHUA"].workflow
    lon, lat, _ = _point(wf, 3)
    code = next(str(m) for m in wf.engine.city.matters["code"] if m not in wf.stages)  # one stage: feedback at once
    _, secret = _key(store, channel="hotline")
    data = {"api_key": secret, "service_code": code, "lat": str(lat), "long": str(lon),
            "description": "垃圾堆放\n路口东侧", "media_url": "https://example.org/p.jpg",
            "attribute[WHERE]": "东侧", **PERSONAL, "media": (io.BytesIO(_jpeg()), "p.jpg")}  # fmt: skip
    r = c.post(f"{V2}/requests.xml", data=data, content_type="multipart/form-data")
    assert r.status_code == 200, r.data
    root = _xml(r)
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    assert [e.tag for e in root[0]] == ["service_request_id", "service_notice", "account_id"]
    number = root[0].findtext("service_request_id")
    (case,) = store.cases_by_number([number])
    # the same owners as the ownership engine gives for that point; in the intake queue; source by channel
    o = wf.engine.resolve(lon, lat, code, case.reported_at)
    assert (case.district, case.community, case.cell, case.squad) == (o.district, o.community, o.cell, o.squad)
    assert case.state == "reported" and case.source == "hotline" and case.updated_by.startswith("open311:")
    private = store.open_requests([case.id])[case.id]
    assert private.contact == PERSONAL and private.attributes == {"WHERE": "东侧"}
    (photo,) = store.media_of([case.id])
    assert photo.public and photo.stage == "report"

    got = c.get(f"{V2}/requests/{number}.json").get_json()
    assert len(got) == 1 and list(got[0]) == REQUEST_FIELDS
    req = got[0]
    assert req["status"] == "open" and req["service_code"] == code and req["description"] == "垃圾堆放\n路口东侧"
    assert req["media_url"].endswith(f"/photos/{photo.sha256}")
    assert req["requested_datetime"].endswith("+08:00") and req["expected_datetime"]
    assert abs(req["lat"] - lat) < 1e-6 and abs(req["long"] - lon) < 1e-6
    assert req["address"] and req["agency_responsible"]
    # the photo is served without sign-in (the view, never the original)
    for path, status in ((f"/photos/{photo.sha256}", 200), (f"/photos/{photo.sha256}/orig", 404)):
        with c.get(path) as got:
            assert got.status_code == status

    _close_through_loop(wf, case)
    closed = c.get(f"{V2}/requests/{number}.xml")
    item = _xml(closed).find("request")
    assert [e.tag for e in item] == REQUEST_FIELDS
    assert item.findtext("status") == "closed" and item.findtext("status_notes") == "已结案"
    assert item.findtext("expected_datetime") == ""
    en = c.get(f"{V2}/requests/{number}.json?lang=en").get_json()[0]
    assert en["status_notes"].startswith("Closed")


def _close_through_loop(wf, case):
    """send_verify → verify → file → dispatch → feedback → check_pass → close, each by a role the policy allows."""

    def user(role, unit=None, name=None):
        return User(0, name or f"t-{role}", role, role, (), unit)

    inspectors = wf.inspectors(case)
    inspector = user("supervisor", name=inspectors[0] if inspectors else None)
    case = wf.act(user("acceptor"), case.id, "send_verify", case.version)
    case = wf.act(inspector, case.id, "verify", case.version)
    case = wf.act(user("acceptor"), case.id, "file", case.version)
    case = wf.act(user("dispatcher"), case.id, "dispatch", case.version)
    case = wf.act(user("unit", case.assignee), case.id, "feedback", case.version)
    case = wf.act(inspector, case.id, "check_pass", case.version)
    case = wf.act(user("shift_lead"), case.id, "close", case.version)
    assert case.state == "closed"
    return case


def test_gcj02_and_address_string(api, store):
    from geo.chinacoords import wgs84_to_gcj02

    c = api.test_client()
    wf = api.config["XIUHUA"].workflow
    lon, lat, community = _point(wf, 5)
    (glon,), (glat,) = wgs84_to_gcj02([lon], [lat])
    _, secret = _key(store)
    r = _post(c, api_key=secret, service_code="06001", lat=str(glat), long=str(glon), coord_system="gcj02")
    assert r.status_code == 200
    (case,) = store.cases_by_number([r.get_json()[0]["service_request_id"]])
    assert abs(case.lon - lon) < 1e-5 and abs(case.lat - lat) < 1e-5  # stored as WGS84
    r = _post(c, api_key=secret, service_code="06001", address_string=community)
    assert r.status_code == 200, r.data
    (case,) = store.cases_by_number([r.get_json()[0]["service_request_id"]])
    assert wf.engine.resolve(case.lon, case.lat, "06001", case.reported_at).community == case.community
    assert case.community in set(wf.engine.city.layers["communities"].query("name == @community")["code"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_errors(api, store, fmt):
    c = api.test_client()
    wf = api.config["XIUHUA"].workflow
    lon, lat, _ = _point(wf)
    _, secret = _key(store)
    before = len(store.cases())
    cases = [
        ({"lat": str(lat), "long": str(lon)}, "service_code"),
        ({"service_code": "99999", "lat": str(lat), "long": str(lon)}, "99999"),
        ({"service_code": "06001"}, "address_string"),
        ({"service_code": "06001", "lat": str(lat)}, "long"),
        ({"service_code": "06001", "lat": "x", "long": "y"}, "long"),
        ({"service_code": "06001", "lat": "24.0", "long": "100.0"}, ""),  # outside the city: report.outside
        ({"service_code": "06001", "address_string": "没有这个社区"}, "没有这个社区"),
        ({"service_code": "06001", "lat": str(lat), "long": str(lon), "coord_system": "utm"}, "coord_system"),
        ({"service_code": "06001", "lat": str(lat), "long": str(lon), "description": "x" * 2001}, "description"),
        ({"service_code": "06001", "lat": str(lat), "long": str(lon), "first_name": "a\x00b"}, "first_name"),
        ({"service_code": "06001", "lat": str(lat), "long": str(lon), "media_url": "javascript:x"}, "media_url"),
    ]
    for data, named in cases:
        r = _post(c, fmt, api_key=secret, **data)
        assert r.status_code == 400, (data, r.data)
        assert named in _errors(r, fmt)[0]["description"]
    r = _post(c, fmt, api_key=secret, service_code="06001", lat="24.0", long="100.0")
    assert str(_errors(r, fmt)[0]["code"]) == "report.outside"
    assert len(store.cases()) == before  # nothing stored
    r = c.post(f"{V2}/requests.{fmt}", data={"api_key": secret, "service_code": "06001", "lat": str(lat),
               "long": str(lon), "media": (io.BytesIO(b"not a photo"), "x.jpg")},
               content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 400 and "x.jpg" in _errors(r, fmt)[0]["description"]
    assert len(store.cases()) == before
    for method in ("put", "delete"):
        r = getattr(c, method)(f"{V2}/requests.{fmt}")
        assert r.status_code == 405 and _errors(r, fmt)
    r = c.post(f"{V2}/services.{fmt}")
    assert r.status_code == 405 and _errors(r, fmt)


def test_rate_limit_and_call_log(api, store):
    c = api.test_client()
    wf = api.config["XIUHUA"].workflow
    lon, lat, _ = _point(wf)
    key, secret = _key(store, rate=2)
    # five posts span at most two one-minute windows, so one window holds three: whatever the time of day, the
    # first two pass and some later one is refused
    answers = [_post(c, "xml", api_key=secret, service_code="06001", lat=str(lat), long=str(lon)) for _ in range(5)]
    codes = [r.status_code for r in answers]
    assert codes[:2] == [200, 200] and 429 in codes and set(codes) == {200, 429}
    refused = next(r for r in answers if r.status_code == 429)
    assert "2" in _errors(refused, "xml")[0]["description"]
    c.get(f"{V2}/services.json?api_key={secret}")
    calls = store.api_calls_since(datetime.now(UTC) - timedelta(minutes=5))
    assert calls[key.name] == 6  # every call made with the key, refused ones too


# -- reading requests -----------------------------------------------------------------------------------
def test_get_requests_filters_and_no_personal_data(api, store):
    c = api.test_client()
    wf = api.config["XIUHUA"].workflow
    lon, lat, _ = _point(wf)
    _, secret = _key(store, channel="partner")
    numbers = []
    for code in ("06001", "06002"):
        r = _post(c, api_key=secret, service_code=code, lat=str(lat), long=str(lon), description=f"d{code}",
                  **PERSONAL)  # fmt: skip
        numbers.append(r.get_json()[0]["service_request_id"])
    (refused,) = store.cases_by_number([numbers[1]])
    assert refused.source == "superior"
    wf.act(User(0, "t-acc", "", "acceptor", (), None), refused.id, "refuse", refused.version, reason="内部备注 secret",
           refusal="not_a_case")  # fmt: skip
    everything = [c.get(f"{V2}/requests.{f}").data.decode() for f in ("json", "xml")]
    everything += [c.get(f"{V2}/requests/{n}.{f}").data.decode() for n in numbers for f in ("json", "xml")]
    for text in everything:
        assert not any(v in text for v in PERSONAL.values()) and "内部备注" not in text
    body = c.get(f"{V2}/requests.json").get_json()
    assert set(numbers) <= {r["service_request_id"] for r in body}
    assert all(list(r) == REQUEST_FIELDS for r in body)
    root = _xml(c.get(f"{V2}/requests.xml"))
    assert root.tag == "service_requests" and {e.tag for e in root} == {"request"}
    assert all([e.tag for e in item] == REQUEST_FIELDS for item in root)
    one = c.get(f"{V2}/requests.json?service_request_id={','.join(numbers)}").get_json()
    assert sorted(r["service_request_id"] for r in one) == sorted(numbers)
    by_status = {r["service_request_id"]: r for r in one}
    assert by_status[numbers[1]]["status"] == "closed" and "不予立案" in by_status[numbers[1]]["status_notes"]
    assert by_status[numbers[0]]["status"] == "open" and by_status[numbers[0]]["description"] == "d06001"
    closed = c.get(f"{V2}/requests.json?status=closed&service_code=06002").get_json()
    assert numbers[1] in {r["service_request_id"] for r in closed} and all(r["status"] == "closed" for r in closed)
    assert all(r["service_code"] == "06002" for r in closed)
    opened = c.get(f"{V2}/requests.json?status=open").get_json()
    assert numbers[1] not in {r["service_request_id"] for r in opened}
    past = c.get(f"{V2}/requests.json?start_date=2010-01-01T00:00:00Z&end_date=2010-02-01T00:00:00Z").get_json()
    assert past == []
    # a case of another source: published without its description
    other = [r for r in body if r["service_request_id"] not in numbers]
    assert all(r["description"] == "" for r in other)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_requests_errors(api, fmt):
    c = api.test_client()
    for query, named in [
        ("start_date=2010-01-01T00:00:00Z&end_date=2010-06-01T00:00:00Z", "90"),
        ("start_date=yesterday", "start_date"),
        ("start_date=2010-02-01T00:00:00Z&end_date=2010-01-01T00:00:00Z", "end_date"),
        ("status=pending", "status"),
    ]:
        r = c.get(f"{V2}/requests.{fmt}?{query}")
        assert r.status_code == 400 and named in _errors(r, fmt)[0]["description"], query
    r = c.get(f"{V2}/requests/B0000000000000000.{fmt}")
    assert r.status_code == 404 and "B0000000000000000" in _errors(r, fmt)[0]["description"]
    r = c.get(f"{V2}/tokens/123.{fmt}")
    assert r.status_code == 404 and _errors(r, fmt)
    r = c.get(f"{V2}/nothing.{fmt}")
    assert r.status_code == 404 and _errors(r, fmt)


# -- the full app: public routes, CSRF, origins --------------------------------------------------------
def test_in_the_app_without_sign_in_or_csrf(app):
    c = app.server.test_client()
    store = app.server.config["XIUHUA"].store
    wf = app.server.config["XIUHUA"].workflow
    lon, lat, _ = _point(wf)
    _, secret = _key(store)
    assert c.get(f"{V2}/services.json").status_code == 200
    r = c.post(f"{V2}/requests.json", data={"api_key": secret, "service_code": "06001", "lat": str(lat),
               "long": str(lon), "media": (io.BytesIO(_jpeg((10, 120, 10))), "a.jpg")},
               content_type="multipart/form-data", headers={"Origin": "https://partner.example"})  # fmt: skip
    assert r.status_code == 200, r.data
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    number = r.get_json()[0]["service_request_id"]
    url = c.get(f"{V2}/requests/{number}.json").get_json()[0]["media_url"]
    path = "/" + url.split("/", 3)[3]
    with c.get(path) as got:
        assert got.status_code == 200 and got.headers["Content-Type"].startswith("image/")
    with c.get(path + "/thumb") as got:
        assert got.status_code == 200
    # a photo that is not public still needs sign-in
    (case,) = store.cases_by_number([number])
    assert case.state == "reported"
    photo = app.server.config["XIUHUA"].photos.save(_jpeg((1, 2, 250)), "private.jpg")
    from store.models import NewCase

    staff = User(0, "t-acceptor", "", "acceptor", (), None)
    wf.report(staff, NewCase("06001", lon, lat, "hotline", datetime.now(UTC)), [photo])
    assert c.get(f"/photos/{photo.sha256}").status_code == 401
    assert c.post(f"{V2}/requests.json", data={"service_code": "06001"}).status_code == 403  # not a CSRF 400


# -- the store's part, on both backends -------------------------------------------------------------------
def test_store_keys_counters_and_log(store):
    from store.errors import Conflict, Invalid, NotFound

    now = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
    key, secret = o3.issue_key(store, "hotline-1", "hotline", 3, now)
    assert store.api_key_by_hash(o3.key_hash(secret)) == key and key.revoked_at is None
    with pytest.raises(Conflict):
        o3.issue_key(store, "hotline-1", "app", 3, now)
    with pytest.raises(Invalid):
        o3.issue_key(store, "x", "fax", 3, now)
    with pytest.raises(Invalid):
        o3.issue_key(store, "bad name!", "app", 3, now)
    counts = [store.count_api_post("hotline-1", timedelta(minutes=1), now + timedelta(seconds=s)) for s in (0, 10, 29)]
    assert counts == [1, 2, 3]
    assert store.count_api_post("hotline-1", timedelta(minutes=1), now + timedelta(seconds=31)) == 1  # next window
    assert store.count_api_post("other", timedelta(minutes=1), now + timedelta(seconds=31)) == 1
    store.log_api_call(now, "hotline-1", "POST", "/open311/v2/requests.json", 200)
    store.log_api_call(now - timedelta(days=2), "hotline-1", "GET", "/open311/v2/requests.json", 200)
    assert [(k.name, n) for k, n in o3.key_report(store, now + timedelta(minutes=1))] == [("hotline-1", 1)]
    revoked = store.revoke_api_key("hotline-1", now)
    assert revoked.revoked_at == now and store.revoke_api_key("hotline-1", now + timedelta(hours=1)).revoked_at == now
    with pytest.raises(NotFound):
        store.revoke_api_key("nobody", now)


def test_store_request_rows_and_queries(store, engine, city_config):
    from datetime import timezone

    from dispatch.calendar import WorkingCalendar
    from dispatch.workflow import Workflow
    from store.models import NewCase, OpenRequest

    wf = Workflow(store, engine, WorkingCalendar.load(city_config.sources["calendar"]))
    lon, lat, _ = _point(wf)
    at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    actor = User(0, "open311:t", "t", "acceptor", (), None)
    made = []
    for k, code in enumerate(("06001", "06002", "06001")):
        new = NewCase(code, lon, lat, "citizen", at + timedelta(days=k), f"d{k}")
        req = OpenRequest("t", {"phone": "1"}, {"a": "b"}, "https://x.example/p.jpg", "") if k != 1 else None
        made.append(wf.report(actor, new, request=req))
    private = store.open_requests([m.id for m in made])
    assert set(private) == {made[0].id, made[2].id} and private[made[0].id].contact == {"phone": "1"}
    assert [c.case_no for c in store.cases_by_number([made[1].case_no, "nope"])] == [made[1].case_no]
    window = store.cases_reported(at - timedelta(hours=1), at + timedelta(days=1, hours=1))
    assert [c.id for c in window] == [made[1].id, made[0].id]  # newest first
    assert [c.id for c in store.cases_reported(at, at + timedelta(days=3), ["06001"])] == [made[2].id, made[0].id]
    assert store.cases_reported(at, at + timedelta(days=3), None, ["closed"]) == []
    assert len(store.cases_reported(at, at + timedelta(days=3), limit=2)) == 2


def test_status_notes():
    from dataclasses import replace

    base = _case_like()
    assert o3.status(base) == "open" and o3.status_note(base) == ("received", {})
    assert o3.status_note(replace(base, state="dispatched")) == ("dispatched", {})
    assert o3.status(replace(base, state="voided")) == "closed"
    assert o3.status_note(replace(base, state="voided", flags=("refused:lawful",)))[0] == "refused_lawful"
    assert o3.status_note(replace(base, state="voided", duplicate_of=3, flags=("refused:duplicate",)))[0] == "duplicate"
    assert o3.status_note(replace(base, state="closed")) == ("closed", {})


def _case_like():
    from store.models import Case

    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Case(1, "B1", "reported", "06001", "citizen", "normal", "", 118.1, 24.5, now, "350203", None, None, None,
                None, None, None, {}, None, None, None, None, None, None, None, (), 1, now, "x")  # fmt: skip


def test_json_is_utf8_not_escaped(api):
    body = api.test_client().get(f"{V2}/services.json").data
    assert "市容".encode() in body and json.loads(body)
