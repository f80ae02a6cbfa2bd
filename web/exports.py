"""Exports of a district for its head: cases as CSV or XLSX, the layers as a GeoPackage, and a static map as
one HTML file that works offline (Leaflet inlined: no CDN, no tiles)."""

from __future__ import annotations

import html as html_text
import json
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import flask
import folium
import geopandas as gpd

from dispatch.io import export_cases
from dispatch.table import Labels
from dispatch.workflow import CLOSED
from geo.registry import LAYERS as REGISTRY
from layers.city import of_districts
from layers.map import GRADE_COLOURS
from store.models import Case
from web.auth import require
from web.i18n import language, t
from web.names import case_labels
from web.services import services

bp = flask.Blueprint("exports", __name__)
VENDOR = Path(__file__).resolve().parent / "vendor" / "leaflet"  # Leaflet 1.9.4 from npm, BSD-2-Clause
LAYERS = tuple(name for name, layer in REGISTRY.items() if layer.export)  # a district's layers export
URGENT, NORMAL = "#c0392b", "#1c7ed6"  # the offline map's dots for urgent and normal cases
SEA = "#cfe3f0"  # the offline map's background (it has no tiles); the legend's swatches sit on it too
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
        export_cases(_district_cases(code, days), path, fmt, _labels())
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


def _labels() -> Labels:
    """Names in the reader's language, times in the city's zone."""
    wf = services().workflow
    return case_labels(wf.engine.city, language(), wf.calendar.tz, flask.request.url_root)


def _local(labels: Labels, at: datetime) -> str:
    local = at.astimezone(labels.tz)
    return f"{local:%Y-%m-%d %H:%M} (UTC{local.isoformat()[-6:]})"


def _cases_layer(cases_: list[Case], labels: Labels) -> folium.GeoJson:
    """Open cases as one GeoJSON layer of dots (urgent red, normal blue) with a tooltip and a popup in the reader's
    language. folium writes properties into the page as HTML, so each value is escaped here."""
    esc = html_text.escape
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
            "properties": {
                "no": esc(c.case_no),
                "matter": esc(f"{c.matter} {labels.name('matter', c.matter)}"),
                "state": esc(labels.name("state", c.state)),
                "reported": esc(_local(labels, c.reported_at)),
                # a link back to the case's page on the server the map came from (folium writes it as HTML)
                "link": f'<a href="{esc(labels.base_url.rstrip("/"))}/case/{c.id}">{esc(t("casepage.open"))}</a>',
                "urgent": c.urgency == "urgent",
            },
        }
        for c in cases_
    ]
    fields = ["no", "matter", "state", "reported", "link"]
    aliases = [esc(t(f"case.{k}")) for k in ("no", "matter", "state", "reported")] + [esc(t("casepage.case_url"))]
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=t("map.cases"),
        marker=folium.CircleMarker(radius=4, weight=1, fill=True, fill_opacity=0.85),
        style_function=lambda f: {"color": URGENT if f["properties"]["urgent"] else NORMAL},
        tooltip=folium.GeoJsonTooltip(fields[:2], aliases=aliases[:2]),
        popup=folium.GeoJsonPopup(fields, aliases=aliases),
    )


def _signboard_layer(segments: gpd.GeoDataFrame) -> folium.GeoJson:
    """The district's signboard segments, coloured by grade (as on the live map), named with their grade."""
    esc = html_text.escape
    grade = [str(g) if g in GRADE_COLOURS else "" for g in segments.get("grade", [""] * len(segments))]
    seg = segments[["id", "name", "geometry"]].assign(
        name=lambda d: d["name"].astype(str).map(esc),
        grade=grade,
        grade_name=[esc(t(f"model.grade.{g}")) if g else "" for g in grade],
    )
    return folium.GeoJson(
        json.loads(seg.to_json()),
        name=t("map.signboard_segments"),
        style_function=lambda f: {
            "color": GRADE_COLOURS.get(f["properties"]["grade"], "#1098ad"),
            "weight": 3,
            "fillOpacity": 0.3,
        },
        tooltip=folium.GeoJsonTooltip(
            ["name", "grade_name"], aliases=[esc(t("map.signboard_segments")), esc(t("model.grade_label"))]
        ),
    )


def _legend(title: str, top: int) -> str:
    """A fixed legend: what the shading and the dots mean, and that the data are synthetic."""
    esc = html_text.escape
    steps = sorted({0, top // 2, top})
    shades = "".join(
        f'<span class="sw" style="background:linear-gradient({fill},{fill}),{SEA}"></span>{n} '
        for n, fill in ((n, f"rgba(217,72,15,{0.1 + 0.7 * n / max(top, 1):.2f})") for n in steps)
    )
    dot = '<span class="dot" style="background:{}"></span>{}'
    sw = '<span class="sw" style="background:{}"></span>{}'
    grades = " ".join(sw.format(c, esc(t(f"model.grade.{g}"))) for g, c in GRADE_COLOURS.items())
    return f"""
<div class="xiuhua-legend">
  <b>{esc(title)}</b><br><b>{esc(t("legend.title"))}</b>
  <div>{esc(t("export.map_shading"))}</div><div class="row">{shades}</div>
  <div>{dot.format(URGENT, esc(t("urgency.urgent")))} {dot.format(NORMAL, esc(t("urgency.normal")))}</div>
  <div>{esc(t("map.signboard_segments"))}: {grades}</div>
  <div class="note">{esc(t("map.synthetic_attribution"))}</div>
</div>
<style>
.xiuhua-legend{{position:absolute;z-index:1000;top:10px;right:10px;background:#fff;padding:8px 10px;
  border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.4);font:13px/1.5 sans-serif;max-width:280px}}
.xiuhua-legend .sw{{display:inline-block;width:18px;height:12px;border:1px solid #445;margin:0 3px;
  vertical-align:middle}}
.xiuhua-legend .dot{{display:inline-block;width:10px;height:10px;border-radius:50%;margin:0 4px;
  vertical-align:middle}}
.xiuhua-legend .row{{white-space:nowrap}}
.xiuhua-legend .note{{color:#666;font-size:11px}}
.leaflet-popup-content th,.leaflet-tooltip th{{white-space:nowrap;text-align:left;padding-right:8px}}
</style>"""


def offline_map(code: str, days: int) -> str:
    """A folium map of the district's communities (shaded by open cases) and its open cases, in the reader's
    language, with a legend; Leaflet is inlined, so it opens with no network."""
    svc = services()
    labels = _labels()
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
    root.header.add_child(folium.Element(f"<style>.folium-map{{background:{SEA}}}</style>"))
    top = max(open_by.values(), default=0)
    comm = lay["communities"][["code", "geometry"]].assign(
        label=lambda d: [html_text.escape(labels.name("community", str(k))) for k in d["code"]],
        open=lambda d: d["code"].astype(str).map(open_by).fillna(0).astype(int),
    )
    folium.GeoJson(
        json.loads(comm.to_json()),
        name=t("table.community"),
        style_function=lambda f: {
            "color": "#445",
            "weight": 1,
            "fillColor": "#d9480f",
            "fillOpacity": 0.1 + 0.7 * f["properties"]["open"] / max(top, 1),
        },
        tooltip=folium.GeoJsonTooltip(
            ["label", "open"], aliases=[html_text.escape(t("table.community")), html_text.escape(t("kpi.open"))]
        ),
    ).add_to(m)
    if len(lay["signboard_segments"]):
        _signboard_layer(lay["signboard_segments"]).add_to(m)
    _cases_layer(cases_, labels).add_to(m)
    m.fit_bounds([[y0, x0], [y1, x1]])
    city = svc.city.name if labels.lang == "zh" else svc.city.name_en
    district = labels.name("district", code) if len(lay["districts"]) else code
    title = f"{city} {district} · {t('app.synthetic_banner')}"
    root.header.add_child(folium.Element(f"<title>{html_text.escape(title)}</title>"))
    root.html.add_child(folium.Element(_legend(f"{district} · {t('kpi.open')} {len(cases_)}", top)))
    return str(root.render())


@bp.get("/export/district/<code>/map.html")
def map_html(code: str) -> flask.Response:
    require("export.district", code)
    resp = flask.Response(offline_map(code, _days()), mimetype="text/html")
    resp.headers["Content-Disposition"] = f'attachment; filename="map-{code}.html"'
    return resp


def init(server: flask.Flask) -> None:
    server.register_blueprint(bp)
