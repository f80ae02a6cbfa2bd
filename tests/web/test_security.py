"""Defects found by trying Xiuhua as an attacker would; each test failed before its fix."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.web.conftest import callback_headers, csrf_of, district_figures, sign_in, sign_out

pytestmark = pytest.mark.slow


def _store(app):
    from web.services import KEY

    return app.server.config[KEY].store


def _account(app, name, role, districts=(), unit=None):
    store = _store(app)
    try:
        store.get_user(name)
    except Exception:
        store.add_user(name, "password1", role, districts, unit=unit)
    return name


def _client(app, address):
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


# -- open redirects --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "target", ["/%09/evil.example", "//evil.example", "/\\evil.example", "/%0a/", "https://evil.example/", "/%0d%0a"]
)
def test_next_stays_on_the_site(app, target):
    client = _client(app, "10.1.0.1")
    r = client.get(f"/auth/lang/en?next={target}")
    assert r.status_code == 303 and r.headers["Location"] == "/"
    r = sign_in(client, "dispatcher", next=target.replace("%09", "\t").replace("%0a", "\n"))
    assert r.status_code == 303 and r.headers["Location"] == "/dispatch"
    r = client.get(f"/login?next={target}")
    assert r.status_code == 200 and b"evil" not in r.data


def test_language_switch_goes_back_to_the_page_it_came_from(app):
    client = _client(app, "10.1.0.2")
    r = client.get("/auth/lang/en", headers={"Referer": "http://localhost/wall?at=118.1,24.5,13"})
    assert r.headers["Location"] == "/wall?at=118.1,24.5,13"
    r = client.get("/auth/lang/en", headers={"Referer": "http://evil.example/wall"})
    assert r.headers["Location"] == "/"


# -- sessions --------------------------------------------------------------------------------------------------
def test_a_cookie_replayed_after_sign_out_is_refused(app):
    client = _client(app, "10.1.0.3")
    sign_in(client, "dispatcher")
    cookie = client.get_cookie("session").value
    assert client.get("/api/layers/districts.geojson").status_code == 200
    sign_out(client)
    thief = _client(app, "10.1.0.4")
    thief.set_cookie("session", cookie)
    assert thief.get("/api/layers/districts.geojson").status_code == 401


def test_changing_an_account_ends_its_sessions(app):
    name = _account(app, "sec.changed", "dispatcher")
    client = _client(app, "10.1.0.5")
    sign_in(client, name, "password1")
    assert client.get("/api/layers/districts.geojson").status_code == 200
    _store(app).update_user(name, password="password2")  # what `xiuhua users set --password-stdin` does
    assert client.get("/api/layers/districts.geojson").status_code == 401
    _store(app).update_user(name, password="password1")


def test_the_cookie_does_not_last_a_month(app):
    client = _client(app, "10.1.0.6")
    r = sign_in(client, "wall")
    header = next(v for k, v in r.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    from email.utils import parsedate_to_datetime

    expires = parsedate_to_datetime(header.split("Expires=")[1].split(";")[0])
    from datetime import UTC, datetime, timedelta

    assert expires - datetime.now(UTC) <= timedelta(hours=168, minutes=1)


# -- sign-in throttle and CSRF ---------------------------------------------------------------------------------
def test_one_password_tried_across_many_accounts_is_limited_per_address(app):
    client = _client(app, "10.1.0.9")
    for k in range(30):
        assert "error=1" in sign_in(client, f"someone{k}", "Password1").headers["Location"]
    assert "error=locked" in sign_in(client, "dispatcher").headers["Location"]
    assert "error=locked" not in sign_in(_client(app, "10.1.0.10"), "dispatcher").headers["Location"]


def test_sign_in_needs_the_forms_token(app):
    client = _client(app, "10.1.0.11")
    # a cross-site form cannot sign the browser in as the attacker's account: no token, no session
    r = client.post("/auth/login", data={"username": "dispatcher", "password": "xiuhua-demo"})
    assert r.status_code == 303 and r.headers["Location"].startswith("/login")
    assert client.get("/api/layers/districts.geojson").status_code == 401
    r = client.post(
        "/auth/login",
        data={"username": "dispatcher", "password": "xiuhua-demo", "csrf_token": csrf_of(client)},
        headers={"Origin": "http://evil.example"},
    )
    assert r.status_code == 403


def test_sign_out_is_a_post_with_a_token(app):
    client = _client(app, "10.1.0.12")
    sign_in(client, "dispatcher")
    client.get("/auth/logout")  # a cross-site GET (an <img>) cannot sign you out
    assert client.post("/auth/logout").status_code == 400  # nor a cross-site form without the token
    assert client.get("/api/layers/districts.geojson").status_code == 200
    assert sign_out(client).status_code == 303
    assert client.get("/api/layers/districts.geojson").status_code == 401


def _wall_callback(client, headers):
    outs = [("wall-kpis", "children"), ("wall-league", "children"), ("wall-matters", "children"),
            ("wall-feed", "children"), ("wall-updated", "children")]  # fmt: skip
    return client.post(
        "/_dash-update-component",
        json={
            "output": ".." + "...".join(f"{i}.{p}" for i, p in outs) + "..",
            "outputs": [{"id": i, "property": p} for i, p in outs],
            "inputs": [{"id": "wall-tick", "property": "n_intervals", "value": 1}],
            "changedPropIds": [],
        },
        headers=headers,
    )


def test_callbacks_need_the_token_and_the_sites_origin(app):
    client = _client(app, "10.1.0.13")
    sign_in(client, "wall")
    good = callback_headers(client)
    assert _wall_callback(client, good).status_code == 200
    assert _wall_callback(client, {}).status_code == 400
    assert _wall_callback(client, {**good, "Origin": "http://evil.example"}).status_code == 403
    assert _wall_callback(client, {**good, "Origin": "http://localhost"}).status_code == 200


# -- hardening ---------------------------------------------------------------------------------------------------
def test_security_headers(app):
    client = _client(app, "10.1.0.14")
    for path in ("/login", "/assets/xiuhua.css"):
        r = client.get(path)
        r.close()
        csp = r.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self' 'sha256-" in csp and "unsafe-eval" not in csp
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"


def test_the_embedded_store_is_private(app, demo_env):
    path = Path(demo_env["XIUHUA_DATABASE_URL"].removeprefix("sqlite:///"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_anonymous_visitors_get_nothing_of_the_app(app):
    client = _client(app, "10.1.0.15")
    for path in ("/_dash-dependencies", "/_dash-layout", "/_dash-component-suites/x/y.js", "/_reload-hash"):
        assert client.get(path).status_code == 401, path
    assert client.post("/_dash-update-component", json={}).status_code in (400, 401)


def test_nonsense_requests_get_4xx_not_500(app):
    client = _client(app, "10.1.0.16")
    sign_in(client, "dispatcher")
    h = callback_headers(client)
    assert client.get("/_dash-component-suites/x/y.js").status_code == 404
    panel = {
        "output": "..dispatch-panel.children...dispatch-action.options...dispatch-action.value..."
        "dispatch-unit.options...dispatch-unit.value...dispatch-version.data..",
        "outputs": [{"id": i, "property": p} for i, p in (("dispatch-panel", "children"), ("dispatch-action",
                    "options"), ("dispatch-action", "value"), ("dispatch-unit", "options"), ("dispatch-unit",
                    "value"), ("dispatch-version", "data"))],
        "changedPropIds": ["dispatch-selected.data"],
    }  # fmt: skip
    for selected in ({"id": "x"}, {"id": [1]}, ["nope"], {"id": 1.5}):
        body = {**panel, "inputs": [{"id": "dispatch-selected", "property": "data", "value": selected}]}
        assert client.post("/_dash-update-component", json=body, headers=h).status_code == 400, selected
    outs = [("dispatch-message", "children"), ("dispatch-changed", "data"), ("dispatch-selected", "data")]
    deps = json.loads(client.get("/_dash-dependencies").data)
    submit = next(d["output"] for d in deps if d["output"].startswith("..dispatch-message.children"))
    for unit in (["CGJ"], {"a": 1}):
        body = {
            "output": submit,
            "outputs": [{"id": i, "property": p} for i, p in outs],
            "inputs": [{"id": "dispatch-submit", "property": "n_clicks", "value": 1}],
            "state": [{"id": "dispatch-selected", "property": "data", "value": {"id": 1}},
                      {"id": "dispatch-action", "property": "value", "value": "dispatch"},
                      {"id": "dispatch-unit", "property": "value", "value": unit},
                      {"id": "dispatch-reason", "property": "value", "value": ""},
                      {"id": "dispatch-changed", "property": "data", "value": 0},
                      {"id": "dispatch-version", "property": "data", "value": 1}],
            "changedPropIds": ["dispatch-submit.n_clicks"],
        }  # fmt: skip
        assert client.post("/_dash-update-component", json=body, headers=h).status_code == 400, unit
    body["output"] = "..dispatch-message.children...nothing.else.."
    assert client.post("/_dash-update-component", json=body, headers=h).status_code == 400
    # a body over what a step's photos may take is refused before anything reads it (a signed-in callback may
    # carry photos: web/photos.upload_limit; before that applied first, the CSRF check refused 2 MB and more)
    from web.photos import upload_limit
    from web.services import KEY

    limit = upload_limit(app.server.config[KEY].photos.max_bytes)
    assert client.post("/_dash-update-component", data=b"x" * (limit + 1), headers=h).status_code == 413


# -- scope -----------------------------------------------------------------------------------------------------
def test_a_wall_limited_to_a_district_shows_only_that_district(app):
    name = _account(app, "sec.disp203", "dispatcher", ["350203"])
    client = _client(app, "10.1.0.17")
    sign_in(client, name, "password1")
    r = _wall_callback(client, callback_headers(client))
    league = json.loads(r.data)["response"]["wall-league"]["children"]
    rows = league["props"]["children"][1]["props"]["children"]
    assert len(rows) == 1  # one district in the league table, not six
    assert client.get("/api/layers/subdistricts.geojson?d=350206").status_code == 403
    own = json.loads(client.get("/api/layers/subdistricts.geojson").data)["features"]
    assert own and all(f["properties"]["code"].startswith("350203") for f in own)


def test_a_district_page_without_a_district_is_refused(app):
    client = _client(app, "10.1.0.18")
    sign_in(client, "admin")
    for code in (None, "", "999999", ["350203"]):
        r = district_figures(client, code)
        assert r.status_code in (403, 404), code
    assert client.get("/export/district/999999/cases.csv").status_code == 404


def test_the_layer_cache_stays_bounded(app):
    client = _client(app, "10.1.0.19")
    sign_in(client, "admin")
    for k in range(300):
        assert client.get(f"/api/layers/districts.geojson?d=350203,{k}").status_code == 400
    for d in ("350203", "350203,350203", "350206,350203", "350203,350206"):
        assert client.get(f"/api/layers/districts.geojson?d={d}").status_code == 200
    from web.services import KEY

    cache = app.server.config[KEY].layers._cache
    assert len(cache) <= 48
    assert ("districts", ("350203", "350206")) in cache and ("districts", ("350203", "350203")) not in cache


def test_pages_with_a_users_data_are_not_kept_by_the_browser(app):
    client = _client(app, "10.1.0.20")
    sign_in(client, "dispatcher")
    for path in ("/dispatch", "/_dash-layout", "/export/district/350203/cases.csv"):
        r = client.get(path)
        r.close()
        assert r.headers["Cache-Control"] == "no-store", path  # Back after sign-out shows nothing
    r = client.get("/assets/xiuhua.css")
    r.close()
    assert r.headers.get("Cache-Control") != "no-store"


def test_an_account_without_a_page_is_told_so_and_not_left_signed_in(app, monkeypatch):
    # every role of the demo has a page now: take the unit's away, as a city that gives units no screen would
    monkeypatch.setattr("web.auth.HOMES", tuple(h for h in __import__("web.auth").auth.HOMES if h[0] != "page.unit"))
    client = _client(app, "10.1.0.21")
    r = sign_in(client, "unit.CGJ")
    assert r.status_code == 303 and "error=role" in r.headers["Location"]
    assert client.get("/api/layers/districts.geojson").status_code == 401
