"""The city's own layers as compact GeoJSON text: whole for the small ones, by viewport for the grid."""

from __future__ import annotations

import threading
from collections import OrderedDict

import geopandas as gpd
import numpy as np
import shapely

from geo.ownership import City
from geo.registry import LAYERS, CityLayer
from layers.geojson import feature_collection, rounded, simplified

# small enough to send whole (a few hundred KB at most, gzipped far less), once per browser
STATIC: dict[str, CityLayer] = {name: layer for name, layer in LAYERS.items() if layer.simplify_m is not None}
STATIC_CACHE_SIZE = 48  # whole layers per (layer, scope): the eight layers for six scopes
CELL_LIMIT = 9000  # about 1.4 MB of GeoJSON, 200 KB gzipped: above this a viewport shows communities instead


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

    def static(self, name: str, districts: tuple[str, ...] = ()) -> str:
        """A whole small layer (only the features of `districts`, if given) as GeoJSON text."""
        spec = STATIC[name]
        key = (name, tuple(sorted(set(districts))))
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        gdf = self.city.layers[name]
        if districts:
            gdf = of_districts(gdf, name, key[1])
        geoms = rounded(simplified(gdf, self.city.metric_crs, spec.simplify_m or 0.0))
        ids = gdf[spec.id_field].astype(str)
        names = gdf[spec.name_field] if spec.name_field else [None] * len(gdf)
        props = [{"code": i, "name": n} for i, n in zip(ids, names, strict=True)]
        text = feature_collection(geoms, props)
        with self._lock:
            self._cache[key] = text
            while len(self._cache) > STATIC_CACHE_SIZE:
                self._cache.popitem(last=False)
        return text

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

    def bounds(self, districts: tuple[str, ...] = ()) -> tuple[float, float, float, float]:
        """The lon/lat bounds of the city, or of some districts."""
        d = self.city.layers["districts"]
        if districts:
            d = d[d["code"].astype(str).isin(districts)]
        x0, y0, x1, y1 = d.total_bounds
        return float(x0), float(y0), float(x1), float(y1)
