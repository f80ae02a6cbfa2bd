"""Compact GeoJSON text: coordinates rounded to about a metre, geometries simplified in metres, not degrees."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

DIGITS = 5  # 1e-5 degrees is about 1.1 m of latitude: finer than any line a map draws at street zoom


def rounded(geoms: Sequence[shapely.Geometry] | np.ndarray, digits: int = DIGITS) -> np.ndarray:
    """Geometries with their coordinates rounded."""
    return shapely.transform(np.asarray(geoms, dtype=object), lambda xy: np.round(xy, digits))


def simplified(gdf: gpd.GeoDataFrame, metric_crs: str, tolerance_m: float) -> np.ndarray:
    """The layer's geometries simplified by `tolerance_m` metres (shared edges may part by up to that much)."""
    if tolerance_m <= 0:
        return np.asarray(gdf.geometry.values, dtype=object)
    return np.asarray(gdf.geometry.to_crs(metric_crs).simplify(tolerance_m).to_crs(gdf.crs).values, dtype=object)


def feature_collection(geoms: Iterable[shapely.Geometry], props: Iterable[Mapping[str, Any]]) -> str:
    """A GeoJSON FeatureCollection as text (GEOS writes the geometries; no dict round trip)."""
    parts = [
        '{"type":"Feature","properties":'
        + json.dumps(p, ensure_ascii=False, separators=(",", ":"))
        + ',"geometry":'
        + shapely.to_geojson(g)
        + "}"
        for g, p in zip(geoms, props, strict=True)
        if g is not None and not g.is_empty
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def point_features(lon: Sequence[float], lat: Sequence[float], props: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Point features as a dict, for a Dash property."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]},
                "properties": dict(p),
            }
            for x, y, p in zip(lon, lat, props, strict=True)
        ],
    }
