"""Arbitrary polygon layers from files (any format and CRS geopandas reads), checked and indexed for look-ups."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import NDArray

from geo.crs import STORAGE_CRS, parse_crs, project_geometries, to_wgs84
from geo.errors import InvalidInput
from geo.index import LayerIndex
from geo.lattice import Lattice
from geo.points import refuse_swapped

MAX_SQUARES = 1_000_000
# how far (degrees, about 1 km) a feature's representative point may lie beyond the city's bounding box
CITY_MARGIN_DEG = 0.01


@dataclass(frozen=True)
class LayerSpec:
    name: str
    path: Path
    id_field: str | None


def parse_layer_spec(text: str) -> LayerSpec:
    """NAME=FILE[:ID_FIELD] -> LayerSpec (a ':' followed by a path separator is part of the path)."""
    if "=" not in text:
        raise InvalidInput(f"--layer {text!r}: expected NAME=FILE[:ID_FIELD]")
    name, rest = text.split("=", 1)
    path, id_field = rest, None
    if ":" in rest:
        head, tail = rest.rsplit(":", 1)
        if tail and "/" not in tail and "\\" not in tail:
            path, id_field = head, tail
    if not name or not path:
        raise InvalidInput(f"--layer {text!r}: expected NAME=FILE[:ID_FIELD]")
    return LayerSpec(name, Path(path), id_field)


def read_polygon_file(
    path: Path,
    what: str,
    id_field: str | None = None,
    crs_text: str | None = None,
    repair: bool | None = None,
    city_bounds: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read a polygon layer from any file geopandas reads, check it, return it in EPSG:4326 with every field
    and an 'owner_id' column (text). crs_text overrides the declared CRS (gcj02/bd09 are shifted back);
    repair=True repairs invalid polygons, False refuses them, None refuses without offering --repair; with
    city_bounds (lon/lat), every feature must lie on the city (see refuse_off_city)."""
    where = f"layer {what}: {path}"
    if not path.is_file():
        raise InvalidInput(f"layer {what}: file not found: {path}")
    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        # a GeoPackage may hold many layers: silently taking the first would replace one layer by another
        if len(names) > 1 and what not in names:
            raise InvalidInput(
                f"{where} holds {len(names)} layers ({', '.join(names[:6])}{' …' if len(names) > 6 else ''}) "
                f"and none is named {what!r}; give a file with that layer, or with only one"
            )
        gdf = gpd.read_file(path, layer=what if len(names) > 1 else None)
    except InvalidInput:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ...
        raise InvalidInput(f"layer {what}: cannot read {path}: {exc}") from None
    if gdf.empty:
        raise InvalidInput(f"{where} has no features")
    if id_field is not None and id_field not in gdf.columns:
        raise InvalidInput(f"{where} has no field {id_field!r}; fields: {', '.join(map(str, gdf.columns))}")
    if crs_text is not None:
        crs = parse_crs(crs_text)
        if crs.is_offset:  # GCJ-02 / BD-09: shift every vertex back to WGS84

            def back(c: NDArray[np.float64]) -> NDArray[np.float64]:
                return np.column_stack(to_wgs84(c[:, 0], c[:, 1], crs))

            gdf = gdf.set_crs(STORAGE_CRS, allow_override=True)
            gdf["geometry"] = shapely.transform(np.asarray(gdf.geometry.values), back)
        else:
            gdf = gdf.set_crs(crs.pyproj_crs, allow_override=True)
    elif gdf.crs is None:
        raise InvalidInput(f"{where} declares no CRS; add a .prj, or say which (wgs84, gcj02, bd09, EPSG:n)")
    field = id_field or next((f for f in ("id", "code", "name") if f in gdf.columns), None)
    ids = gdf[field].astype(str) if field else pd.Series(gdf.index.astype(str), index=gdf.index)
    geoms = np.asarray(gdf.geometry.values)
    for n, g in enumerate(geoms):
        if g is None or g.is_empty:
            raise InvalidInput(f"{where} feature {n} (id {ids.iloc[n]}) has no geometry")
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            raise InvalidInput(f"{where} feature {n} (id {ids.iloc[n]}) is a {g.geom_type}, not a polygon")
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    if len(invalid) and not repair:
        n = int(invalid[0])
        raise InvalidInput(
            f"{where} feature {n} (id {ids.iloc[n]}) has invalid geometry: {shapely.is_valid_reason(geoms[n])}"
            + (f" (and {len(invalid) - 1} more)" if len(invalid) > 1 else "")
            + ("; fix it, or use --repair" if repair is False else "")
        )
    if len(invalid):
        fixed = shapely.make_valid(geoms[invalid])
        geoms[invalid] = [
            shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"]) for g in fixed
        ]
    out = gdf.drop(columns="geometry").assign(owner_id=ids.to_numpy())
    result = gpd.GeoDataFrame(out, geometry=geoms, crs=gdf.crs).to_crs(STORAGE_CRS)
    if city_bounds is not None:
        refuse_off_city(result, where, crs_text or gdf.crs.to_string(), city_bounds)
    return result


def refuse_off_city(
    gdf: gpd.GeoDataFrame, where: str, declared: str, city_bounds: tuple[float, float, float, float]
) -> None:
    """Raise InvalidInput, naming the first features and the likely cause, unless every feature's
    representative point lies within the city's lon/lat bounds (plus CITY_MARGIN_DEG). Degrees declared as a
    metric CRS land near (0, 0); swapped axes or a wrong zone land far away."""
    points = shapely.point_on_surface(np.asarray(gdf.geometry.values))
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    ids = gdf["owner_id"].astype(str).to_numpy()

    def named(idx: NDArray[np.int64]) -> str:
        shown = ", ".join(f"{k} (id {ids[k]})" for k in idx[:3])
        return f"features {shown}" + (f" and {len(idx) - 3} more" if len(idx) > 3 else "")

    hint = f"check the CRS the file declares ({declared}) and its axis order, or give --crs"
    m = CITY_MARGIN_DEG
    minx, miny, maxx, maxy = city_bounds
    outside = np.flatnonzero(refuse_swapped(where, lon, lat, (minx - m, miny - m, maxx + m, maxy + m), named, hint))
    if len(outside):
        k = outside[0]
        near_origin = abs(lon[k]) < 1 and abs(lat[k]) < 1
        cause = (
            f"the coordinates look like degrees in a file that declares {declared}; give --crs wgs84"
            if near_origin
            else hint
        )
        raise InvalidInput(
            f"{where}: {named(outside)} lie outside the city (the first at lon {lon[k]:.5f}, lat {lat[k]:.5f}); "
            + cause
        )


def read_polygons(spec: LayerSpec) -> gpd.GeoDataFrame:
    """A --layer NAME=FILE[:ID_FIELD] as 'owner_id' + geometry, in EPSG:4326."""
    gdf = read_polygon_file(spec.path, spec.name, spec.id_field)
    return gdf[["owner_id", "geometry"]]


def index_layers(layers: dict[str, gpd.GeoDataFrame], metric_crs: str) -> tuple[Lattice, dict[str, LayerIndex]]:
    """One lattice over all layers (at most MAX_SQUARES squares) and a LayerIndex per layer."""
    bounds = []
    for gdf in layers.values():
        m = project_geometries(np.asarray(gdf.geometry.values), STORAGE_CRS, metric_crs)
        bounds.append(shapely.total_bounds(m))
    b = np.array(bounds)
    box = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    area = max((box[2] - box[0]) * (box[3] - box[1]), 1.0)
    size = max(10.0, math.ceil(math.sqrt(area / MAX_SQUARES)))
    lattice = Lattice.covering(metric_crs, box, size)
    cores = lattice.cores()
    index = {
        name: LayerIndex(gdf["owner_id"].to_numpy().astype(str), np.asarray(gdf.geometry.values), lattice, cores)
        for name, gdf in layers.items()
    }
    return lattice, index
