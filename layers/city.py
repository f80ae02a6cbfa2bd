"""The city's own layers as compact GeoJSON text: whole for the small ones, by viewport for the grid."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.ops import polylabel

from geo.ownership import City
from geo.registry import LAYERS, CityLayer
from layers.geojson import feature_collection, point_features, rounded, simplified

# small enough to send whole (a few hundred KB at most, gzipped far less), once per browser
STATIC: dict[str, CityLayer] = {name: layer for name, layer in LAYERS.items() if layer.simplify_m is not None}
STATIC_CACHE_SIZE = 48  # whole layers per (layer, scope): the eight layers for six scopes
CELL_LIMIT = 9000  # about 1.4 MB of GeoJSON, 200 KB gzipped: above this a viewport shows communities instead
LABEL_LIMIT = 800  # labels in one view (about 20 KB gzipped); more would cover the map: then none
LABEL_DIGITS = 5  # label positions to about a metre


def label_point(geom: shapely.Geometry) -> shapely.Point:
    """Where an area's name goes: the pole of inaccessibility of its largest part (inside, away from edges)."""
    if geom.geom_type == "MultiPolygon":
        geom = max(geom.geoms, key=lambda g: g.area)
    return polylabel(geom, 1e-4)  # degrees: about 10 m


def of_districts(gdf: gpd.GeoDataFrame, layer: str, districts: tuple[str, ...]) -> gpd.GeoDataFrame:
    """The features of a city layer that belong to some districts."""
    return gdf[gdf[LAYERS[layer].district_field].astype(str).isin(districts)]


class CityLayers:
    """GeoJSON for one city, cached per district scope; safe to share between server threads."""

    def __init__(self, city: City) -> None:
        self.city = city
        self._lock = threading.Lock()
        # bounded (least recently used first out): the scope key is normalised by the caller, but an attacker
        # (or 64 subsets of six districts) must not grow it without end
        self._cache: OrderedDict[tuple[str, tuple[str, ...]], str] = OrderedDict()
        cells = city.layers["grid_cells"]
        self._cell_geoms = rounded(cells.geometry.values)
        self._cell_codes = cells["code"].astype(str).to_numpy()
        self._cell_district = cells["district_code"].astype(str).to_numpy()
        self._tree = shapely.STRtree(cells.geometry.values)
        self.names = {
            level: dict(zip(city.layers[level]["code"].astype(str), city.layers[level]["name"], strict=True))
            for level in ("districts", "subdistricts", "communities")
        }
        self.names["squads"] = dict(zip(city.layers["squads"]["id"], city.layers["squads"]["name"], strict=True))
        d = city.layers["districts"]
        self.district_names_en = dict(zip(d["code"].astype(str), d["name_en"], strict=True))
        # where each label goes, worked out once: areas by name, grid cells by code at their centres
        self._labels: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        for level in ("subdistricts", "communities"):
            gdf = city.layers[level]
            pts = [label_point(g) for g in gdf.geometry.values]
            xy = np.round(np.array([(p.x, p.y) for p in pts]).reshape(-1, 2), LABEL_DIGITS)
            district = gdf[LAYERS[level].district_field].astype(str).to_numpy()
            self._labels[level] = (xy[:, 0], xy[:, 1], gdf["name"].astype(str).to_numpy(), district)
        centres = shapely.get_coordinates(shapely.centroid(self._cell_geoms))
        centres = np.round(centres, LABEL_DIGITS)
        self._labels["grid_cells"] = (centres[:, 0], centres[:, 1], self._cell_codes, self._cell_district)

    def _cached(self, key: tuple[str, tuple[str, ...]], make: Callable[[], str]) -> str:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        text = make()
        with self._lock:
            self._cache[key] = text
            while len(self._cache) > STATIC_CACHE_SIZE:
                self._cache.popitem(last=False)
        return text

    def _features(self, name: str, gdf: gpd.GeoDataFrame) -> tuple[list[Any], list[dict[str, Any]]]:
        spec = STATIC[name]
        geoms = rounded(simplified(gdf, self.city.metric_crs, spec.simplify_m or 0.0))
        ids = gdf[spec.id_field].astype(str)
        names = gdf[spec.name_field] if spec.name_field else [None] * len(gdf)
        props = [{"code": i, "name": n} for i, n in zip(ids, names, strict=True)]
        if spec.grades and "grade" in gdf.columns:  # a signboard segment's grade colours it (layers/map.py)
            for p, g in zip(props, gdf["grade"].fillna("").astype(str), strict=True):
                p["grade"] = g
        return list(geoms), props

    def static(self, name: str, districts: tuple[str, ...] = ()) -> str:
        """A whole small layer (only the features of `districts`, if given) as GeoJSON text."""
        scope = tuple(sorted(set(districts)))

        def make() -> str:
            gdf = self.city.layers[name]
            return feature_collection(*self._features(name, of_districts(gdf, name, scope) if scope else gdf))

        return self._cached((name, scope), make)

    def land(self, districts: tuple[str, ...] = ()) -> str:
        """The land as GeoJSON text: the districts' own (code, name), and for a scoped view the rest of the city's
        land as one outline with nothing else (`other`), so that neighbours read as land, not as sea. The outline
        is basemap (what any tile basemap shows), merged so that it holds no district's boundary, name or code:
        a scoped user sees no data of the districts outside their scope."""
        scope = tuple(sorted(set(districts)))
        if not scope:
            return self.static("land")

        def make() -> str:
            gdf = self.city.layers["land"]
            mine = gdf[LAYERS["land"].district_field].astype(str).isin(scope)
            geoms, props = self._features("land", gdf[mine])
            merged = gpd.GeoDataFrame(geometry=[shapely.union_all(gdf[~mine].geometry.values)], crs=gdf.crs)
            outline = rounded(simplified(merged, self.city.metric_crs, STATIC["land"].simplify_m or 0.0))
            return feature_collection([*geoms, *outline], [*props, {"other": True}])

        return self._cached(("land:outline", scope), make)

    def _cell_hits(self, bbox: tuple[float, float, float, float], districts: tuple[str, ...]) -> np.ndarray:
        hits = self._tree.query(shapely.box(*bbox), predicate="intersects")
        if districts:
            hits = hits[np.isin(self._cell_district[hits], districts)]
        return np.sort(hits)

    def cell_count(self, bbox: tuple[float, float, float, float], districts: tuple[str, ...] = ()) -> int:
        """How many grid cells meet a lon/lat box."""
        return len(self._cell_hits(bbox, districts))

    def cells(self, bbox: tuple[float, float, float, float], districts: tuple[str, ...] = ()) -> str | None:
        """The grid cells meeting a lon/lat box as GeoJSON text; None if there are more than CELL_LIMIT."""
        hits = self._cell_hits(bbox, districts)
        if len(hits) > CELL_LIMIT:
            return None
        return feature_collection(self._cell_geoms[hits], ({"code": c} for c in self._cell_codes[hits]))

    def labels(
        self, level: str, bbox: tuple[float, float, float, float], districts: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Label points (their `text`) of one level ("subdistricts", "communities" or "grid_cells") inside a
        lon/lat box, as a GeoJSON dict; none when more than LABEL_LIMIT would crowd the view."""
        x, y, text, district = self._labels[level]
        x0, y0, x1, y1 = bbox
        keep = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        if districts:
            keep &= np.isin(district, districts)
        idx = np.flatnonzero(keep)
        if len(idx) > LABEL_LIMIT:
            idx = idx[:0]
        return point_features(x[idx].tolist(), y[idx].tolist(), ({"text": str(text[i])} for i in idx))

    def bounds(self, districts: tuple[str, ...] = ()) -> tuple[float, float, float, float]:
        """The lon/lat bounds of the city, or of some districts."""
        d = self.city.layers["districts"]
        if districts:
            d = d[d["code"].astype(str).isin(districts)]
        x0, y0, x1, y1 = d.total_bounds
        return float(x0), float(y0), float(x1), float(y1)
