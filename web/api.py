"""Map data routes: the city's small layers whole, the grid by box. Scoped users get only their districts."""

from __future__ import annotations

import math

import flask

from layers.city import STATIC
from web.auth import Denied, require
from web.services import services

bp = flask.Blueprint("api", __name__)
GEOJSON = "application/geo+json"


def scope_of(requested: str | None) -> tuple[str, ...]:
    """The districts a map data request covers, normalised (sorted, unique, known to the city): those asked
    for (each must be in the user's scope), else the user's own scope (empty: the whole city)."""
    user = require("route.map")
    raw = requested or ""
    if len(raw) > 200:
        raise Denied("d= names too many districts", 400)
    known = services().layers.names["districts"]
    asked = tuple(sorted(set(filter(None, raw.split(",")))))
    for d in asked:
        if d not in known:
            raise Denied(f"d={d!r} is not a district of this city", 400)
        require("route.map", d)
    return asked or tuple(sorted(user.districts))


def _geojson(text: str) -> flask.Response:
    resp = flask.Response(text, mimetype=GEOJSON)
    resp.headers["Cache-Control"] = "private, max-age=300"
    return resp


@bp.get("/api/layers/<name>.geojson")
def layer(name: str) -> flask.Response:
    if name not in STATIC:
        return flask.Response(f"no layer {name!r}; layers: {', '.join(STATIC)}", 404, mimetype="text/plain")
    districts = scope_of(flask.request.args.get("d"))
    layers = services().layers
    # the land is the offline basemap: a scoped user's own districts, and the rest of the land as an outline
    return _geojson(layers.land(districts) if name == "land" else layers.static(name, districts))


@bp.get("/api/cells.geojson")
def cells() -> flask.Response:
    raw = flask.request.args.get("bbox", "")
    try:
        box = tuple(float(v) for v in raw.split(","))
        if len(box) != 4 or not all(math.isfinite(v) for v in box) or box[0] > box[2] or box[1] > box[3]:
            raise ValueError
    except ValueError:
        return flask.Response(f"bbox={raw!r} is not min_lon,min_lat,max_lon,max_lat", 400, mimetype="text/plain")
    text = services().layers.cells(box, scope_of(flask.request.args.get("d")))  # type: ignore[arg-type]
    if text is None:
        return flask.Response("too many cells in this box: zoom in", 413, mimetype="text/plain")
    return _geojson(text)


@bp.get("/tiles/<int:z>/<int:x>/<int:y>")
def tile(z: int, x: int, y: int) -> flask.Response:
    require("route.map")
    svc = services()
    if svc.tiles is None:
        return flask.Response("no MBTiles basemap is configured (XIUHUA_BASEMAP=mbtiles:<path>)", 404)
    data = svc.tiles.tile(z, x, y) if 0 <= z <= 24 and 0 <= x < (1 << z) and 0 <= y < (1 << z) else None
    if data is None:
        return flask.Response(status=204)  # outside the file's coverage: the map shows the sea colour
    resp = flask.Response(data, mimetype=svc.tiles.mimetype)
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


def init(server: flask.Flask) -> None:
    server.register_blueprint(bp)
