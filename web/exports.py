"""Exports of a district for its head: cases as CSV or XLSX, the layers as a GeoPackage, and a static map as
one HTML file that works offline (Leaflet inlined: no CDN, no tiles)."""

from __future__ import annotations

import html as html_text
import json
import tempfile
from datetime import timedelta
from pathlib import Path

import flask
import folium
import geopandas as gpd

from dispatch.io import export_cases
from dispatch.workflow import CLOSED
from layers.city import of_districts
from web.auth import require
from web.services import services

bp = flask.Blueprint("exports", __name__)
VENDOR = Path(__file__).resolve().parent / "vendor" / "leaflet"  # Leaflet 1.9.4 from npm, BSD-2-Clause
LAYERS = (
    "districts",
    "subdistricts",
    "communities",
    "grid_cells",
    "squads",
    "vendor_zones",
    "storefront_zones",
    "model_streets",
)
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
    "html": "text/html",
}


def _days() -> int:
    raw = flask.request.args.get("days", "30")
    if not raw.isdigit() or not 1 <= int(raw) <= 366:
        flask.abort(flask.Response(f"days={raw!r}: give a whole number of days from 1 to 366", 400))
    return int(raw)


def _district_cases(code: str, days: int) -> list:  # type: ignore[type-arg]
    svc = services()
    since = svc.workflow.clock() - timedelta(days=days)
    return svc.store.cases(districts=[code], active_since=since)


def _send(path: Path, name: str, fmt: str) -> flask.Response:
    data = path.read_bytes()
    resp = flask.Response(data, mimetype=MIMETYPES[fmt])
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@bp.get("/export/district/<code>/cases.<fmt>")
def cases(code: str, fmt: str) -> flask.Response:
    require("export.district", code)
    if fmt not in ("csv", "xlsx"):
        return flask.Response(f"cases export as {fmt!r}: use csv or xlsx", 404)
    days = _days()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"cases.{fmt}"
        export_cases(_district_cases(code, days), path, fmt)
        return _send(path, f"cases-{code}-{days}d.{fmt}", fmt)


def district_layers(code: str) -> dict[str, gpd.GeoDataFrame]:
    city = services().workflow.engine.city
    return {name: of_districts(city.layers[name], name, (code,)) for name in LAYERS}


@bp.get("/export/district/<code>/layers.gpkg")
def layers(code: str) -> flask.Response:
    require("export.district", code)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layers.gpkg"
        for name, gdf in district_layers(code).items():
            gdf.to_file(path, layer=name, driver="GPKG")
        return _send(path, f"layers-{code}.gpkg", "gpkg")


def offline_map(code: str, days: int) -> str:
    """A folium map of the district's communities (open cases) and open cases, with Leaflet inlined."""
    svc = services()
    lay = district_layers(code)
    cases_ = [c for c in _district_cases(code, days) if c.state not in CLOSED]
    open_by: dict[str, int] = {}
    for c in cases_:
        if c.community:
            open_by[c.community] = open_by.get(c.community, 0) + 1
    x0, y0, x1, y1 = lay["districts"].total_bounds
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    m.default_js, m.default_css = [], []  # no CDN: Leaflet goes inline below
    root = m.get_root()
    root.header.add_child(folium.Element(f"<style>{(VENDOR / 'leaflet.css').read_text()}</style>"))
    root.header.add_child(folium.Element(f"<script>{(VENDOR / 'leaflet.js').read_text()}</script>"))
    root.header.add_child(folium.Element("<style>.folium-map{background:#cfe3f0}</style>"))
    top = max(open_by.values(), default=1)
    comm = lay["communities"].assign(open=lambda d: d["code"].astype(str).map(open_by).fillna(0).astype(int))
    folium.GeoJson(
        json.loads(comm[["code", "name", "open", "geometry"]].to_json()),
        name="communities",
        style_function=lambda f: {
            "color": "#445",
            "weight": 1,
            "fillColor": "#d9480f",
            "fillOpacity": 0.1 + 0.7 * f["properties"]["open"] / top,
        },
        tooltip=folium.GeoJsonTooltip(["name", "open"]),
    ).add_to(m)
    for c in cases_:
        folium.CircleMarker(
            (c.lat, c.lon),
            radius=3,
            color="#c0392b" if c.urgency == "urgent" else "#1c7ed6",
            weight=1,
            fill=True,
            fill_opacity=0.8,
            tooltip=html_text.escape(f"{c.case_no} {c.state}"),
        ).add_to(m)
    m.fit_bounds([[y0, x0], [y1, x1]])
    title = (
        f"{svc.city.name} {lay['districts']['name'].iloc[0]} · synthetic demo data" if len(lay["districts"]) else code
    )
    root.header.add_child(folium.Element(f"<title>{html_text.escape(title)}</title>"))
    return str(root.render())


@bp.get("/export/district/<code>/map.html")
def map_html(code: str) -> flask.Response:
    require("export.district", code)
    resp = flask.Response(offline_map(code, _days()), mimetype="text/html")
    resp.headers["Content-Disposition"] = f'attachment; filename="map-{code}.html"'
    return resp


def init(server: flask.Flask) -> None:
    server.register_blueprint(bp)
