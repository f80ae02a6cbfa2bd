"""The app through Flask's test client: sign-in, server-side role and district checks, data routes, exports."""

from __future__ import annotations

import io
import json
import re

import pytest
import shapely

from tests.web.conftest import district_figures, sign_in, sign_out

pytestmark = pytest.mark.slow


def test_anonymous_visitors_are_sent_to_sign_in(client):
    r = client.get("/dispatch")
    assert r.status_code == 303 and r.headers["Location"].startswith("/login?next=%2Fdispatch")
    assert client.get("/api/layers/districts.geojson").status_code == 401
    assert client.get("/export/district/350203/cases.csv").status_code == 401
    assert client.get("/login").status_code == 200


def test_wrong_password_and_open_redirects_are_refused(client):
    r = sign_in(client, "dispatcher", "wrong")
    assert r.status_code == 303 and "error=1" in r.headers["Location"]
    r = sign_in(client, "dispatcher", next="//evil.example")
    assert r.headers["Location"] == "/dispatch"  # not the foreign site


def test_guessing_is_throttled(app):
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    for _ in range(5):
        assert "error=1" in sign_in(client, "acceptor", "guess").headers["Location"]
    # now even the right password is refused for a while, and the page says why
    assert "error=locked" in sign_in(client, "acceptor").headers["Location"]
    assert client.get("/wall").status_code == 303
    # another address is not locked out by this one's guesses
    other = app.server.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.8"
    assert sign_in(other, "acceptor").headers["Location"] == "/intake"


def test_each_role_lands_on_its_page(client):
    assert sign_in(client, "dispatcher").headers["Location"] == "/dispatch"
    sign_out(client)
    assert sign_in(client, "wall").headers["Location"] == "/wall"
    sign_out(client)
    assert sign_in(client, "head.350203").headers["Location"] == "/district/350203"


def test_a_district_head_sees_only_their_district(client, app):
    sign_in(client, "head.350203")
    assert client.get("/export/district/350206/cases.csv").status_code == 403
    assert client.get("/export/district/350206/layers.gpkg").status_code == 403
    assert client.get("/api/layers/communities.geojson?d=350206").status_code == 403
    own = json.loads(client.get("/api/layers/communities.geojson").data)
    assert own["features"] and all(f["properties"]["code"].startswith("350203") for f in own["features"])
    cells = client.get("/api/cells.geojson?bbox=118.0,24.4,118.2,24.6")
    assert cells.status_code == 200
    assert all(f["properties"]["code"].startswith("350203") for f in json.loads(cells.data)["features"])
    # a callback asked for another district's data is refused on the server, whatever the layout showed
    r = district_figures(client, "350206")
    assert r.status_code == 403


def test_a_district_head_sees_the_neighbours_land_as_an_outline_only(client, app):
    # issue 9, item 12a: land, not sea, around a scoped user's district, with no data of the other districts
    from web.services import KEY

    city = app.server.config[KEY].layers.city
    sign_in(client, "head.350203")
    assert client.get("/api/layers/land.geojson?d=350206").status_code == 403
    r = client.get("/api/layers/land.geojson")
    land = json.loads(r.data)
    own = [f for f in land["features"] if not f["properties"].get("other")]
    (other,) = [f for f in land["features"] if f["properties"].get("other")]
    assert own and all(f["properties"]["code"].startswith("350203") for f in own)
    assert other["properties"] == {"other": True}  # an outline: no code, no name
    others = city.layers["districts"][city.layers["districts"]["code"].astype(str) != "350203"]
    for code, name in zip(others["code"].astype(str), others["name"], strict=True):
        assert code not in r.text and name not in r.text
    # one merged outline: it covers the neighbours' land but draws none of the boundaries between them
    outline = shapely.geometry.shape(other["geometry"])
    land = city.layers["land"].set_index(city.layers["land"]["code"].astype(str)).geometry
    assert outline.contains(shapely.point_on_surface(land["350206"]))
    shared = shapely.intersection(land["350211"].boundary, land["350212"].boundary)  # 集美 and 同安 meet inland
    assert shared.length > 0.01
    assert outline.contains(shapely.line_interpolate_point(shared, 0.5, normalized=True))
    # an account that covers the whole city gets every district's land by name, and no outline
    sign_out(client)
    sign_in(client, "dispatcher")
    every = json.loads(client.get("/api/layers/land.geojson").data)["features"]
    assert not any(f["properties"].get("other") for f in every)
    assert {f["properties"]["code"] for f in every} == set(city.layers["land"]["code"].astype(str))


def test_bad_map_requests_get_clear_answers(client):
    sign_in(client, "dispatcher")
    r = client.get("/api/cells.geojson?bbox=118,24,nope,25")
    assert r.status_code == 400 and b"min_lon,min_lat,max_lon,max_lat" in r.data
    assert client.get("/api/cells.geojson?bbox=117,23,119,26").status_code == 413  # the whole city: zoom in
    assert client.get("/api/layers/secret.geojson").status_code == 404
    assert client.get("/tiles/1/1/1").status_code == 404  # no MBTiles basemap configured


def test_responses_are_gzipped(client):
    sign_in(client, "dispatcher")
    r = client.get("/api/layers/communities.geojson", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("Content-Encoding") == "gzip"


def test_exports(client):
    sign_in(client, "head.350203")
    csv = client.get("/export/district/350203/cases.csv?days=7")
    # a UTF-8 byte-order mark first: Excel on a Chinese Windows reads the file as UTF-8, not GBK
    assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbfid,case_no,case_url,state,state_name,")
    rows = csv.data.decode("utf-8-sig").splitlines()
    assert len(rows) > 10 and all(",350203," in r for r in rows[1:])
    xlsx = client.get("/export/district/350203/cases.xlsx?days=7")
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.max_row == len(rows)
    assert client.get("/export/district/350203/cases.csv?days=0").status_code == 400
    html = client.get("/export/district/350203/map.html").data.decode()
    assert "L.map(" in html or "L.map (" in html
    # nothing is loaded from elsewhere (Leaflet's own attribution link is a link, not a load)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html.replace('href="https://leafletjs.com"', ""))
    assert "<script src=" not in html and "leafletjs.com" in html  # Leaflet is inline
    gpkg = client.get("/export/district/350203/layers.gpkg")
    assert gpkg.status_code == 200 and gpkg.data[:16] == b"SQLite format 3\x00"
