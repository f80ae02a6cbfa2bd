"""Arbitrary polygon layers from files (any format and CRS geopandas reads), checked and indexed for look-ups."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import STORAGE_CRS, project_geometries
from geo.errors import InvalidInput
from geo.index import LayerIndex
from geo.lattice import Lattice

MAX_SQUARES = 1_000_000


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


def read_polygons(spec: LayerSpec) -> gpd.GeoDataFrame:
    """Read a polygon layer, check it, return it in EPSG:4326 with an 'owner_id' column."""
    if not spec.path.is_file():
        raise InvalidInput(f"layer {spec.name}: file not found: {spec.path}")
    try:
        gdf = gpd.read_file(spec.path)
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ...
        raise InvalidInput(f"layer {spec.name}: cannot read {spec.path}: {exc}") from None
    if gdf.crs is None:
        raise InvalidInput(f"layer {spec.name}: {spec.path} declares no CRS; add a .prj or convert it first")
    if spec.id_field is not None and spec.id_field not in gdf.columns:
        raise InvalidInput(
            f"layer {spec.name}: {spec.path} has no field {spec.id_field!r}; fields: {', '.join(map(str, gdf.columns))}"
        )
    field = spec.id_field or next((f for f in ("id", "code", "name") if f in gdf.columns), None)
    ids = gdf[field].astype(str) if field else gdf.index.astype(str)
    geoms = np.asarray(gdf.geometry.values)
    for n, g in enumerate(geoms):
        if g is None or g.is_empty:
            raise InvalidInput(f"layer {spec.name}: {spec.path} feature {n} (id {ids.iloc[n]}) has no geometry")
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            raise InvalidInput(
                f"layer {spec.name}: {spec.path} feature {n} (id {ids.iloc[n]}) is a {g.geom_type}, not a polygon"
            )
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    if len(invalid):
        n = int(invalid[0])
        why = shapely.is_valid_reason(geoms[n])
        raise InvalidInput(
            f"layer {spec.name}: {spec.path} feature {n} (id {ids.iloc[n]}) has invalid geometry: {why}"
            + (f" (and {len(invalid) - 1} more)" if len(invalid) > 1 else "")
        )
    out = gpd.GeoDataFrame({"owner_id": ids.to_numpy()}, geometry=geoms, crs=gdf.crs).to_crs(STORAGE_CRS)
    return out


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
