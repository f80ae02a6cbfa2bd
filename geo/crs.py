"""Coordinate reference systems: storage in EPSG:4326 (lon/lat), metric work in the city's projected CRS.

Besides EPSG codes this module knows the two Chinese web-map systems, GCJ-02 ("gcj02", Amap/Tencent) and
BD-09 ("bd09", Baidu), which no EPSG code describes. A mismatch between two CRSs raises instead of warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from geo import chinacoords
from geo.errors import CRSMismatchError, InvalidInput

STORAGE_CRS = "EPSG:4326"
OFFSET_SYSTEMS = {"gcj02": "GCJ-02", "bd09": "BD-09"}
_ALIASES = {
    "wgs84": "EPSG:4326",
    "wgs-84": "EPSG:4326",
    "cgcs2000": "EPSG:4490",
    "gcj-02": "gcj02",
    "bd-09": "bd09",
}


@dataclass(frozen=True)
class InputCRS:
    """A CRS as a user names it: an EPSG/PROJ CRS or one of the offset systems gcj02/bd09."""

    name: str
    pyproj_crs: pyproj.CRS | None  # None for gcj02/bd09, which are WGS84 plus an obfuscating offset

    @property
    def is_offset(self) -> bool:
        return self.pyproj_crs is None


def parse_crs(text: str) -> InputCRS:
    """Parse 'wgs84', 'gcj02', 'bd09', 'EPSG:n' or anything pyproj accepts; raise InvalidInput otherwise."""
    key = text.strip()
    alias = _ALIASES.get(key.lower(), key)
    if alias.lower() in OFFSET_SYSTEMS:
        return InputCRS(alias.lower(), None)
    try:
        crs = pyproj.CRS.from_user_input(alias)
    except pyproj.exceptions.CRSError:
        raise InvalidInput(f"unknown CRS {text!r}: use wgs84, gcj02, bd09 or an EPSG code such as EPSG:4548") from None
    return InputCRS(crs.to_string(), crs)


@lru_cache(maxsize=64)
def transformer(source: str, target: str) -> pyproj.Transformer:
    """A cached, always lon/lat-ordered (x, y) transformer between two CRSs."""
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def to_wgs84(x: ArrayLike, y: ArrayLike, crs: InputCRS) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert coordinates from any input CRS to WGS84 lon/lat."""
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if crs.name == "gcj02":
        return chinacoords.gcj02_to_wgs84(xa, ya)
    if crs.name == "bd09":
        return chinacoords.bd09_to_wgs84(xa, ya)
    assert crs.pyproj_crs is not None
    if crs.pyproj_crs.equals(pyproj.CRS.from_epsg(4326)):
        return xa, ya
    lon, lat = transformer(crs.pyproj_crs.to_string(), STORAGE_CRS).transform(xa, ya)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: InputCRS) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS84 lon/lat to any output CRS (the inverse of to_wgs84)."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    if crs.name == "gcj02":
        return chinacoords.wgs84_to_gcj02(lon_a, lat_a)
    if crs.name == "bd09":
        return chinacoords.wgs84_to_bd09(lon_a, lat_a)
    assert crs.pyproj_crs is not None
    x, y = transformer(STORAGE_CRS, crs.pyproj_crs.to_string()).transform(lon_a, lat_a)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def require_same_crs(actual: object, expected: object, what: str) -> None:
    """Raise CRSMismatchError unless two CRSs are equal (geopandas only warns; we refuse)."""
    if actual is None:
        raise CRSMismatchError(f"{what} has no CRS; expected {expected}")
    a = pyproj.CRS.from_user_input(actual)
    b = pyproj.CRS.from_user_input(expected)
    if not a.equals(b):
        raise CRSMismatchError(f"{what} is in {a.to_string()}, expected {b.to_string()}")


def project_geometries(geoms: NDArray[np.object_], source: str, target: str) -> NDArray[np.object_]:
    """Reproject an array of shapely geometries vertex by vertex (same vertices in, same vertices out)."""
    tr = transformer(source, target)

    def _apply(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, _apply))


@dataclass(frozen=True)
class PointCheck:
    """Per-point findings of check_points."""

    invalid: NDArray[np.bool_]  # NaN, infinite, or not a longitude/latitude at all
    swapped: NDArray[np.bool_]  # outside the city, but inside it with lon and lat exchanged
    outside: NDArray[np.bool_]  # valid, not swapped, and outside the city's extent


def check_points(lon: ArrayLike, lat: ArrayLike, city_bounds: tuple[float, float, float, float]) -> PointCheck:
    """Flag invalid coordinates, swapped lat/lon, and points outside the city's bounding box."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    minx, miny, maxx, maxy = city_bounds
    finite = np.isfinite(lon_a) & np.isfinite(lat_a)
    invalid = ~finite | (np.abs(lat_a) > 90) | (np.abs(lon_a) > 180)
    inside = (lon_a >= minx) & (lon_a <= maxx) & (lat_a >= miny) & (lat_a <= maxy)
    inside_swapped = (lat_a >= minx) & (lat_a <= maxx) & (lon_a >= miny) & (lon_a <= maxy)
    swapped = finite & ~inside & inside_swapped
    outside = ~invalid & ~inside & ~swapped
    return PointCheck(invalid=invalid & ~swapped, swapped=swapped, outside=outside)
