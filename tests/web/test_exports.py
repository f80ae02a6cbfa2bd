"""A district's exports as a Chinese (or English) user opens them: a CSV Excel reads as UTF-8, names beside the
codes in the user's language, local times with their offset, ownership as plain columns, and an offline map with
a legend and popups in the user's language."""

from __future__ import annotations

import io
import json
import re
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest

from tests.web.conftest import sign_in
from web.i18n import t
from web.services import KEY

pytestmark = pytest.mark.slow
SHANGHAI = ZoneInfo("Asia/Shanghai")
LOCAL_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00"


@pytest.fixture
def head(client):
    sign_in(client, "head.350203")
    return client


def _csv(client, lang: str | None = None) -> pd.DataFrame:
    if lang:
        client.set_cookie("xiuhua_lang", lang)
    r = client.get("/export/district/350203/cases.csv?days=7")
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    return pd.read_csv(io.BytesIO(r.data), dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_the_csv_names_codes_in_chinese_and_writes_local_times(app, head):
    df = _csv(head)
    svc = app.server.config[KEY]
    city = svc.workflow.engine.city
    assert len(df) > 10 and "ownership" not in df.columns
    for state, name in zip(df["state"], df["state_name"], strict=True):
        assert name == t(f"state.{state}", "zh")
    matters = city.matters.set_index("code")["name_zh"]
    assert (df["matter_name"] == df["matter"].map(matters)).all()
    assert (df["district_name"] == "思明区").all()
    assert df.loc[df["subdistrict"] != "", "subdistrict_name"].str.endswith(("街道", "镇")).all()
    assert (df.loc[df["subdistrict"] == "", "subdistrict_name"] == "").all()  # no code (at sea), no name
    assert df.loc[df["squad"] != "", "squad_name"].str.endswith("中队").all()
    assert df.loc[df["assignee"] != "", "assignee_name"].ne("").all()
    # times: the city's zone with its offset, the same instants as stored
    assert df["reported_at"].str.fullmatch(LOCAL_TIME).all()
    case = svc.store.get_case(int(df["id"].iloc[0]))
    assert df["reported_at"].iloc[0] == case.reported_at.astimezone(SHANGHAI).isoformat(timespec="seconds")
    # the ownership answer as plain columns, without the JSON trace
    reasons = {r.rule: r.reason_zh for r in city.rules}
    assert (df["rule_reason"] == df["rule"].map(reasons)).all()
    assert {"flag", "supporting_departments", "vendor_zone", "boundary_distance_m", "layer_version"} <= set(df.columns)
    assert df["supporting_departments_name"].str.contains("街道办事处|城市管理", regex=True).any()
    assert not df.apply(lambda col: col.str.contains('"trace"')).any().any()
    # each row links to its case's page on the server it came from
    assert (df["case_url"] == "http://localhost/case/" + df["id"]).all()


def test_the_csv_in_english_names_everything_in_ascii(head):
    df = _csv(head, "en")
    assert (df["district_name"] == "Siming District").all()
    named = ["state", "matter", "source", "subdistrict", "community", "squad", "assignee", "lead_department"]
    for col in named:
        coded = df[col] != ""
        assert df.loc[coded, f"{col}_name"].map(lambda v: v.isascii() and v != "").all(), col
    assert df["rule_reason"].map(str.isascii).all()


def test_the_xlsx_has_the_same_columns_and_local_times(head):
    csv = _csv(head)
    r = head.get("/export/district/350203/cases.xlsx?days=7")
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(csv.columns) and len(rows) == len(csv) + 1
    header = list(rows[0])
    assert all(re.fullmatch(LOCAL_TIME, row[header.index("reported_at")]) for row in rows[1:])
    assert {row[header.index("state_name")] for row in rows[1:]} <= {t(f"state.{s}", "zh") for s in csv["state"]}


def _escaped(text: str) -> str:
    """How folium writes text into the page's GeoJSON (JSON with non-ASCII escaped)."""
    return json.dumps(text)[1:-1]


def test_the_offline_map_has_a_legend_and_popups_in_the_users_language(app, head):
    svc = app.server.config[KEY]
    html = head.get("/export/district/350203/map.html").data.decode()
    assert 'class="xiuhua-legend"' in html and "图例" in html and "社区着色" in html
    assert "<title>厦门市 思明区" in html
    open_case = next(c for c in svc.store.cases(districts=["350203"]) if c.state not in ("closed", "voided"))
    assert _escaped(open_case.case_no) in html
    assert _escaped(t(f"state.{open_case.state}", "zh")) in html  # the state's name, not its code
    assert _escaped(t("case.reported", "zh")) in html
    local = open_case.reported_at.astimezone(SHANGHAI)
    assert _escaped(f"{local:%Y-%m-%d %H:%M} (UTC+08:00)") in html
    head.set_cookie("xiuhua_lang", "en")
    english = head.get("/export/district/350203/map.html").data.decode()
    assert "Legend" in english and "Communities shaded by open cases" in english
    assert "<title>Xiamen Siming District" in english
    assert '"Case number"' in english and _escaped(t(f"state.{open_case.state}", "en")) in english
    # still whole on its own: Leaflet inline, nothing loaded from elsewhere
    assert "<script src=" not in english
    # (each popup links back to its case's page on the server the map came from: a link, not a load)
    assert '\\u003ca href=\\"http://localhost/case/' in english and "Case page" in english
    links = re.sub(r'href=\\?"http://localhost/case/\d+\\?"', "", english.replace('href="https://leafletjs.com"', ""))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", links)


def test_the_signboard_grades_go_into_the_layers_the_offline_map_and_the_live_map(app, head):
    import tempfile
    from pathlib import Path

    import geopandas as gpd

    city = app.server.config[KEY].workflow.engine.city
    sb = city.layers["signboard_segments"]
    mine = sb[sb["district_code"] == "350203"]
    r = head.get("/export/district/350203/layers.gpkg")
    assert r.status_code == 200
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layers.gpkg"
        path.write_bytes(r.data)
        got = gpd.read_file(path, layer="signboard_segments")
    assert sorted(zip(got["id"], got["grade"], strict=True)) == sorted(zip(mine["id"], mine["grade"], strict=True))
    html = head.get("/export/district/350203/map.html").data.decode()
    for _, seg in mine.iterrows():
        assert _escaped(seg["name"]) in html and _escaped(t(f"model.grade.{seg['grade']}", "zh")) in html
    assert "广告招牌路段" in html  # the legend's key for the segments, by grade
    live = json.loads(head.get("/api/layers/signboard_segments.geojson").data)
    # the live map's layer, scoped to the head's district, colours each segment by its grade
    assert {f["properties"]["code"]: f["properties"]["grade"] for f in live["features"]} == dict(
        zip(mine["id"], mine["grade"], strict=True)
    )
