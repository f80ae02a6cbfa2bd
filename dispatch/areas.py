"""Place a report by the name (or code) of its sub-district or community, for channels that give no position
(the 12345 hotline, partner systems' files): the area's point that surely lies on its land, flagged
"located_by_area" until an acceptor places it exactly (the workflow's "relocate").

A name may be a community's or a sub-district's, as the city's layers give it, or its code; "街道 社区" (or
"街道/社区") names a community within a sub-district where the community's name alone is not unique.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import shapely

LOCATED_BY_AREA = "located_by_area"
_SPLIT = re.compile(r"[/／\s]+")
# the official names end in the committee's title ("何厝社区居委会"); callers say "何厝社区"
_COMMITTEE = re.compile(r"(居委会|居民委员会|村委会|村民委员会)$")


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    lon: float
    lat: float


class AreaIndex:
    """Sub-districts and communities by name and by code."""

    def __init__(self, subdistricts: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> None:
        self._by_code: dict[str, Place] = {}
        self._by_name: dict[str, list[Place]] = {}
        self._parent: dict[str, str] = {}
        for layer in (subdistricts, communities):
            points = shapely.point_on_surface(layer.geometry.values)
            english = layer["name_en"].astype(str) if "name_en" in layer.columns else layer["name"].astype(str)
            rows = zip(layer["code"].astype(str), layer["name"].astype(str), english, points, strict=True)
            for code, name, name_en, p in rows:
                place = Place(code, name, round(float(p.x), 6), round(float(p.y), 6))
                self._by_code[code] = place
                for alias in dict.fromkeys((name, _COMMITTEE.sub("", name), name_en)):
                    self._by_name.setdefault(alias, []).append(place)
        for code in communities["code"].astype(str):
            self._parent[code] = code[:9]

    def find(self, text: str) -> list[Place]:
        """The areas `text` may mean: one (found), several (ambiguous) or none (unknown)."""
        key = text.strip()
        if key in self._by_code:
            return [self._by_code[key]]
        if key in self._by_name:
            return list(self._by_name[key])
        parts = [p for p in _SPLIT.split(key) if p]
        if len(parts) == 2:  # sub-district and community
            outer = self.find(parts[0])
            inner = self._by_name.get(_COMMITTEE.sub("", parts[1]), []) + self._by_name.get(parts[1], [])
            inner = list(dict.fromkeys(inner))
            return [c for c in inner if any(self._parent.get(c.code) == o.code for o in outer)]
        return []


_INDEXES: dict[int, tuple[object, AreaIndex]] = {}


def area_index(city: Any) -> AreaIndex:
    """The index of a loaded city's areas (kept per city: a new layer version is a new city)."""
    found = _INDEXES.get(id(city))
    if found is None or found[0] is not city:
        if len(_INDEXES) > 4:
            _INDEXES.clear()
        found = _INDEXES[id(city)] = (city, AreaIndex(city.layers["subdistricts"], city.layers["communities"]))
    return found[1]
