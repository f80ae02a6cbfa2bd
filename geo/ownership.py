"""Who owns an incident: district, sub-district, community, grid cell, zones, squad and departments, and why.

The grid cell is found by the boundary rule of geo.index; its parents follow from its 15-digit code, so the
answer always nests. Then the routing table decides the squad (geo.rules); the matter's configuration gives
the departments. `resolve` (one point) and `resolve_many` (arrays) give identical answers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from geo.crs import STORAGE_CRS, project_geometries, require_same_crs, transformer
from geo.errors import InvalidInput
from geo.index import LayerIndex
from geo.lattice import Lattice
from geo.registry import GRADED_ZONES, INDEXED, LAYERS, TIMED_ZONES, ZONE_LAYERS
from geo.rules import WHY_EN, WHY_ZH, Facts, Rule, decide, decide_many, rules_from_table, why_not, window_mask


@dataclass(frozen=True)
class TraceStep:
    rule: str
    applies: bool
    zh: str
    en: str


@dataclass(frozen=True)
class Ownership:
    lon: float
    lat: float
    matter: str
    district: str | None
    subdistrict: str | None
    community: str | None
    cell: str | None
    vendor_zone: str | None
    vendor_zone_open: bool | None
    storefront_zone: str | None
    storefront_zone_open: bool | None
    model_street: str | None
    signboard_segment: str | None
    rule: str | None
    squad: str | None
    flag: str | None
    lead_department: str | None
    supporting_departments: tuple[str, ...]
    boundary_distance_m: float | None
    trace: tuple[TraceStep, ...]


@dataclass
class City:
    """A built city: its layers (EPSG:4326), tables and metadata, as read from its GeoPackage."""

    layers: dict[str, gpd.GeoDataFrame]
    matters: pd.DataFrame
    departments: pd.DataFrame
    rules: list[Rule]
    meta: dict[str, str]

    @property
    def metric_crs(self) -> str:
        return self.meta["metric_crs"]

    @property
    def lattice(self) -> Lattice:
        g = json.loads(self.meta["lattice"])
        return Lattice(self.metric_crs, g["x0"], g["y0"], g["size_m"], g["nx"], g["ny"])


def load_city(gpkg: Path) -> City:
    """Read a city GeoPackage built by `xiuhua build-city`."""
    if not gpkg.is_file():
        raise InvalidInput(f"no built city at {gpkg}; run `xiuhua build-city <city>` first")
    names = {row[0] for row in pyogrio.list_layers(gpkg)}
    layers = {}
    for name in LAYERS:
        if name not in names:
            raise InvalidInput(f"{gpkg}: layer {name!r} is missing")
        gdf = gpd.read_file(gpkg, layer=name)
        require_same_crs(gdf.crs, STORAGE_CRS, f"{gpkg} layer {name}")
        layers[name] = gdf
    tables = {
        n: pyogrio.read_dataframe(gpkg, layer=n, read_geometry=False)
        for n in ("matters", "departments", "routing_rules", "city_meta")
    }
    meta = dict(zip(tables["city_meta"]["key"], tables["city_meta"]["value"], strict=True))
    return City(layers, tables["matters"], tables["departments"], rules_from_table(tables["routing_rules"]), meta)


def _masked(mask: NDArray[np.bool_], values: ArrayLike) -> NDArray[np.object_]:
    """values where mask holds, None elsewhere."""
    res = np.full(len(mask), None, dtype=object)
    res[mask] = np.asarray(values, dtype=object)[mask]
    return res


class BoundaryDistance:
    """Distance in metres to the nearest administrative boundary (shared edges, not the coastline).

    Exact, and fast in bulk: boundaries are split into pieces of at most PIECE_M; a KD-tree over the pieces'
    midpoints gives the K nearest; a piece whose midpoint is farther than (distance to the best piece + half
    a piece) cannot be nearer, so when the K-th midpoint is that far the answer is exact. Points for which
    it is not fall back to shapely's nearest-neighbour search. One point goes through the same code.
    """

    PIECE_M = 50.0
    K = 12

    def __init__(self, polygon_layers: list[NDArray[np.object_]], metric_crs: str) -> None:
        segs = []
        for geoms in polygon_layers:
            rings = shapely.get_rings(shapely.get_parts(geoms))
            coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
            same = ring_idx[1:] == ring_idx[:-1]
            a, b = coords[:-1][same], coords[1:][same]
            key = np.where((a[:, 0] < b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] <= b[:, 1])), 0, 1)
            lo = np.where(key[:, None] == 0, a, b)
            hi = np.where(key[:, None] == 0, b, a)
            pairs = np.concatenate([lo, hi], axis=1)
            uniq, counts = np.unique(pairs, axis=0, return_counts=True)
            segs.append(uniq[counts >= 2])  # an edge two polygons share is a boundary between owners
        shared = np.unique(np.concatenate(segs), axis=0)
        lines = shapely.linestrings(shared.reshape(-1, 2, 2))
        metric = shapely.segmentize(project_geometries(lines, STORAGE_CRS, metric_crs), self.PIECE_M)
        coords, idx = shapely.get_coordinates(metric, return_index=True)
        same = idx[1:] == idx[:-1]
        self.a = coords[:-1][same]
        self.b = coords[1:][same]
        self.half = float(np.max(np.hypot(*(self.b - self.a).T))) / 2
        self.kd = cKDTree((self.a + self.b) / 2)
        self.tree = shapely.STRtree(shapely.linestrings(np.stack([self.a, self.b], axis=1)))

    def _to(self, px: NDArray[np.float64], py: NDArray[np.float64], seg: NDArray[np.int64]) -> NDArray[np.float64]:
        """Exact point-to-segment distances; px, py broadcast against seg. Mirrored by _to_one."""
        ax, ay = self.a[seg, 0], self.a[seg, 1]
        dx, dy = self.b[seg, 0] - ax, self.b[seg, 1] - ay
        t = np.minimum(np.maximum(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0), 1.0)
        ex, ey = px - (ax + t * dx), py - (ay + t * dy)
        return np.sqrt(ex * ex + ey * ey)

    def _to_one(self, px: float, py: float, seg: int) -> float:
        """_to for one point and one segment, the same IEEE operations in the same order."""
        ax, ay = float(self.a[seg, 0]), float(self.a[seg, 1])
        dx, dy = float(self.b[seg, 0]) - ax, float(self.b[seg, 1]) - ay
        t = min(max(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0), 1.0)
        ex, ey = px - (ax + t * dx), py - (ay + t * dy)
        return math.sqrt(ex * ex + ey * ey)

    def many(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.full(len(x), np.nan)
        ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        if not len(ok):
            return out
        k = min(self.K, len(self.a))
        mid_d, seg = self.kd.query(np.column_stack([x[ok], y[ok]]), k=k)
        mid_d, seg = mid_d.reshape(len(ok), k), seg.reshape(len(ok), k)
        d = self._to(x[ok][:, None], y[ok][:, None], seg).min(axis=1)
        unsure = np.flatnonzero(mid_d[:, -1] <= d + self.half)
        if len(unsure):
            pts = shapely.points(x[ok][unsure], y[ok][unsure])
            near = self.tree.query(pts, predicate="dwithin", distance=d[unsure] + self.half)
            dd = self._to(x[ok][unsure][near[0]], y[ok][unsure][near[0]], near[1])
            best = d[unsure].copy()
            np.minimum.at(best, near[0], dd)
            d[unsure] = best
        out[ok] = d
        return out

    def one(self, x: float, y: float) -> float:
        p = shapely.Point(x, y)
        _, dist = self.tree.query_nearest(p, return_distance=True)
        # every piece GEOS finds within a micrometre of the nearest, measured by the same formula as many()
        near = self.tree.query(p, predicate="dwithin", distance=float(dist.min()) + 1e-6)
        return min(self._to_one(x, y, int(k)) for k in near)


class OwnershipEngine:
    """Resolves points against a built city. Build once (a few seconds), then query many times."""

    def __init__(self, city: City) -> None:
        self.city = city
        self.lattice = city.lattice
        cores = self.lattice.cores()
        id_field = {name: LAYERS[name].id_field for name in INDEXED}
        self.index = {
            name: LayerIndex(
                city.layers[name][id_field[name]].to_numpy().astype(str),
                np.asarray(city.layers[name].geometry.values),
                self.lattice,
                cores,
            )
            for name in INDEXED
        }
        self.tz = ZoneInfo(city.meta["timezone"])
        self.to_metric = transformer(STORAGE_CRS, self.lattice.metric_crs)
        m = city.matters.set_index("code")
        self.matter_squad_type = m["squad_type"].to_dict()
        self.matter_lead = m["lead_department"].to_dict()
        self.matter_support = {k: tuple(filter(None, v.split(";"))) for k, v in m["supporting_departments"].items()}
        self.windows = {
            z: np.stack(
                [
                    window_mask(h)
                    for h in city.layers[ZONE_LAYERS[z]].set_index("id").loc[self.index[ZONE_LAYERS[z]].ids, "hours"]
                ]
            )
            for z in TIMED_ZONES
        }
        # a graded zone's grade per index position ("" where a layer version carries none)
        self.grades = {
            z: city.layers[ZONE_LAYERS[z]]
            .set_index("id")
            .reindex(self.index[ZONE_LAYERS[z]].ids)
            .get("grade", pd.Series("", index=self.index[ZONE_LAYERS[z]].ids))
            .fillna("")
            .astype(str)
            .to_numpy()
            for z in GRADED_ZONES
        }
        sq = city.layers["squads"]
        self.district_squad = {(r.district_code, r.type): r.id for r in sq.itertuples() if r.type != "subdistrict"}
        self.subdistrict_squad = {r.subdistrict_code: r.id for r in sq.itertuples() if r.type == "subdistrict"}
        subs = city.layers["subdistricts"].sort_values("code")
        metric = project_geometries(np.asarray(subs.geometry.values), STORAGE_CRS, self.lattice.metric_crs)
        codes = subs["code"].astype(str).to_numpy()
        self.subs_of = {
            d: (
                codes[subs["district_code"].astype(str).to_numpy() == d],
                metric[subs["district_code"].astype(str).to_numpy() == d],
            )
            for d in sorted(set(subs["district_code"].astype(str)))
        }
        ms = city.layers["model_streets"].set_index("id")["custodian_squad"]
        self.custodian = ms.to_dict()
        self.boundaries = BoundaryDistance(
            [
                np.asarray(city.layers["communities"].geometry.values),
                np.asarray(city.layers["districts"].geometry.values),
            ],
            self.lattice.metric_crs,
        )

    # -- helpers shared by both paths -------------------------------------------------------------
    def _check_matter(self, code: str) -> None:
        if code not in self.matter_squad_type:
            raise InvalidInput(f"unknown matter code {code!r}: see the matters table (e.g. 06010, 09006)")

    def _minute(self, at: datetime) -> int:
        local = at.astimezone(self.tz) if at.tzinfo else at
        return local.hour * 60 + local.minute

    def nearest_subdistrict(
        self, district: NDArray[np.object_], x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> NDArray[np.object_]:
        """For points beyond the land: the nearest sub-district of their own district (ties: the smallest code).
        One code path for one point and for many, so both give the same answer."""
        out = np.full(len(x), None, dtype=object)
        for d in set(district.tolist()) - {None}:
            codes, geoms = self.subs_of.get(str(d), (np.array([]), np.array([])))
            rows = np.flatnonzero(district == d)
            if not len(codes) or not len(rows):
                continue
            dist = shapely.distance(shapely.points(x[rows], y[rows])[:, None], geoms[None, :])
            out[rows] = codes[np.argmin(dist, axis=1)]
        return out

    def grade_of(self, zone: str, zone_id: str) -> str:
        """The grade of a graded zone ("" when it has none)."""
        ids = self.index[ZONE_LAYERS[zone]].ids
        k = int(np.searchsorted(ids, zone_id))
        return str(self.grades[zone][k]) if k < len(ids) and ids[k] == zone_id else ""

    def _squad(
        self, rule: Rule | None, district: str | None, sub: str | None, street: str | None, nearest: str | None = None
    ) -> str | None:
        if rule is None or rule.owner == "none":
            return None
        if rule.owner == "subdistrict_squad":
            return self.subdistrict_squad.get(sub) if sub else None
        if rule.owner == "nearest_subdistrict_squad":
            return self.subdistrict_squad.get(nearest) if nearest else None
        if rule.owner.startswith("district_squad"):
            return self.district_squad.get((district, rule.owner.split(":")[1])) if district else None
        return self.custodian.get(street) if street else None  # custodian

    def trace(self, facts: Facts, decided: int) -> tuple[TraceStep, ...]:
        """Each rule considered, in order, with why it did or did not apply (Chinese and English)."""
        steps = []
        for rule in self.city.rules[: decided + 1 if decided >= 0 else None]:
            reason = why_not(rule, facts)
            if reason is None:
                steps.append(TraceStep(rule.rule, True, rule.reason_zh, rule.reason_en))
            else:
                steps.append(
                    TraceStep(rule.rule, False, f"不适用：{WHY_ZH[reason]}", f"does not apply: {WHY_EN[reason]}")
                )
        return tuple(steps)

    # -- one point ---------------------------------------------------------------------------------
    def resolve(self, lon: float, lat: float, matter: str, at: datetime) -> Ownership:
        """The full ownership answer for one point (WGS84 lon/lat), matter code and time."""
        self._check_matter(matter)
        x, y = self.to_metric.transform(lon, lat)
        found = self.membership_one(lon, lat, x, y)
        ids = {name: (str(self.index[name].ids[k]) if k >= 0 else None) for name, k in found.items()}
        minute = self._minute(at)
        in_zones, open_zones = set(), set()
        for z, layer in ZONE_LAYERS.items():
            if found[layer] >= 0:
                in_zones.add(z)
                if z in self.grades and self.grades[z][found[layer]]:
                    in_zones.add(f"{z}:{self.grades[z][found[layer]]}")
                if z in self.windows and self.windows[z][found[layer], minute]:
                    open_zones.add(z)
        if found["grid_cells"] < 0 and found["districts"] >= 0:
            in_zones.add("offshore")
            near = self.nearest_subdistrict(np.array([ids["districts"]], dtype=object), np.array([x]), np.array([y]))
            ids["nearest_subdistrict"] = near[0]
        return self._answer(
            lon,
            lat,
            matter,
            ids,
            frozenset(in_zones),
            frozenset(open_zones),
            self.boundaries.one(x, y) if np.isfinite(x) else None,
        )

    def _answer(
        self,
        lon: float,
        lat: float,
        matter: str,
        ids: dict[str, str | None],
        in_zones: frozenset[str],
        open_zones: frozenset[str],
        distance: float | None,
        decided: int | None = None,
    ) -> Ownership:
        cell = ids["grid_cells"]
        district = cell[:6] if cell else ids["districts"]
        sub = cell[:9] if cell else None
        facts = Facts(matter, self.matter_squad_type[matter], in_zones, open_zones)
        k = decide(self.city.rules, facts) if decided is None else decided
        rule = self.city.rules[k] if k >= 0 else None
        return Ownership(
            lon=float(lon),
            lat=float(lat),
            matter=matter,
            district=district,
            subdistrict=sub,
            community=cell[:12] if cell else None,
            cell=cell,
            vendor_zone=ids["vendor_zones"],
            vendor_zone_open=("vendor_zone" in open_zones) if ids["vendor_zones"] else None,
            storefront_zone=ids["storefront_zones"],
            storefront_zone_open=("storefront_zone" in open_zones) if ids["storefront_zones"] else None,
            model_street=ids["model_streets"],
            signboard_segment=ids["signboard_segments"],
            rule=rule.rule if rule else None,
            squad=self._squad(rule, district, sub, ids["model_streets"], ids.get("nearest_subdistrict")),
            flag=(rule.flag or None) if rule else None,
            lead_department=self.matter_lead[matter],
            supporting_departments=self.matter_support[matter],
            boundary_distance_m=None if distance is None or not np.isfinite(distance) else float(distance),
            trace=self.trace(facts, k),
        )

    def membership_one(self, lon: float, lat: float, x: float, y: float) -> dict[str, int]:
        """memberships() for one point whose metric coordinates (x, y) are known."""
        i, j, near = self.lattice.locate_one(x, y)
        return {name: idx.locate_one(lon, lat, i, j, near) for name, idx in self.index.items()}

    # -- many points -------------------------------------------------------------------------------
    def memberships(self, lon: ArrayLike, lat: ArrayLike) -> dict[str, NDArray[np.int64]]:
        """For each indexed layer, the index (into its sorted ids) of the polygon owning each point, or -1."""
        lon_a = np.asarray(lon, dtype=float)
        lat_a = np.asarray(lat, dtype=float)
        flat, near = self.lattice.flat_index(*self.lattice.projection(lon_a, lat_a))
        return {name: idx.locate(lon_a, lat_a, flat, near) for name, idx in self.index.items()}

    def resolve_many(
        self, lon: ArrayLike, lat: ArrayLike, matter: ArrayLike, at: ArrayLike, with_distance: bool = True
    ) -> pd.DataFrame:
        """resolve() for arrays; one row per point, the trace as the deciding rule (see `trace`)."""
        lon_a = np.asarray(lon, dtype=float)
        lat_a = np.asarray(lat, dtype=float)
        mat = np.asarray(matter).astype(str)
        for code in np.unique(mat):
            self._check_matter(str(code))
        raw = at if isinstance(at, pd.Series) else pd.Series(list(np.asarray(at, dtype=object)))
        try:
            times = pd.to_datetime(raw)  # naive times are the city's local time
        except ValueError:  # aware times, possibly in several zones
            times = pd.to_datetime(raw, utc=True)
        if times.dt.tz is not None:
            times = times.dt.tz_convert(self.tz)
        minute = (times.dt.hour * 60 + times.dt.minute).to_numpy()
        found = self.memberships(lon_a, lat_a)
        out = {name: _masked(k >= 0, self.index[name].ids[np.maximum(k, 0)]) for name, k in found.items()}
        has_cell = found["grid_cells"] >= 0
        cell_s = np.where(has_cell, out["grid_cells"].astype(str), "")
        district = np.where(has_cell, cell_s.astype("U6").astype(object), out["districts"])
        sub = _masked(has_cell, cell_s.astype("U9"))
        comm = _masked(has_cell, cell_s.astype("U12"))
        in_zone = {z: found[layer] >= 0 for z, layer in ZONE_LAYERS.items()}
        in_zone["offshore"] = ~has_cell & (found["districts"] >= 0)
        for z, grades in GRADED_ZONES.items():
            k = found[ZONE_LAYERS[z]]
            of = self.grades[z][np.maximum(k, 0)] if len(self.grades[z]) else np.full(len(lon_a), "")
            for g in grades:
                in_zone[f"{z}:{g}"] = in_zone[z] & (of == g)
        nearest = np.full(len(lon_a), None, dtype=object)
        if in_zone["offshore"].any():
            off = np.flatnonzero(in_zone["offshore"])
            ox, oy = self.lattice.to_metric(lon_a[off], lat_a[off])
            nearest[off] = self.nearest_subdistrict(district[off], ox, oy)
        open_zone = {z: np.zeros(len(lon_a), dtype=bool) for z in ZONE_LAYERS}
        for z in TIMED_ZONES:
            inside = in_zone[z]
            open_zone[z][inside] = self.windows[z][found[ZONE_LAYERS[z]][inside], minute[inside]]
        types = {m: self.matter_squad_type[m] for m in np.unique(mat).tolist()}
        squad_type = np.array([types[m] for m in mat.tolist()], dtype=str)
        decided = decide_many(self.city.rules, mat, squad_type, in_zone, open_zone)
        rules = self.city.rules
        df = pd.DataFrame(
            {
                "lon": lon_a,
                "lat": lat_a,
                "matter": mat,
                "district": district,
                "subdistrict": sub,
                "community": comm,
                "cell": out["grid_cells"],
                "vendor_zone": out["vendor_zones"],
                "vendor_zone_open": _masked(in_zone["vendor_zone"], open_zone["vendor_zone"]),
                "storefront_zone": out["storefront_zones"],
                "storefront_zone_open": _masked(in_zone["storefront_zone"], open_zone["storefront_zone"]),
                "model_street": out["model_streets"],
                "signboard_segment": out["signboard_segments"],
                "rule_index": decided,
                "rule": [rules[k].rule if k >= 0 else None for k in decided.tolist()],
            }
        )
        rule_list = [rules[k] if k >= 0 else None for k in decided.tolist()]
        df["nearest_subdistrict"] = nearest
        df["squad"] = [
            self._squad(r, d, s, ms, ns)
            for r, d, s, ms, ns in zip(
                rule_list, district.tolist(), sub.tolist(), out["model_streets"].tolist(), nearest.tolist(), strict=True
            )
        ]
        df["flag"] = [(r.flag or None) if r else None for r in rule_list]
        lead = {m: self.matter_lead[m] for m in np.unique(mat).tolist()}
        support = {m: ";".join(self.matter_support[m]) for m in lead}
        df["lead_department"] = [lead[m] for m in mat.tolist()]
        df["supporting_departments"] = [support[m] for m in mat.tolist()]
        if with_distance:
            x, y = self.lattice.to_metric(lon_a, lat_a)
            df["boundary_distance_m"] = self.boundaries.many(x, y)
        return df

    def row_to_ownership(self, row: Mapping[Any, Any] | pd.Series) -> Ownership:
        """Turn one resolve_many row (a Series, or a dict from to_dict("records")) into an Ownership."""
        v = {k: (None if _is_missing(row[k]) else row[k]) for k in row.keys()}  # noqa: SIM118 (Series too)
        offshore = v["cell"] is None and v["district"] is not None
        in_zones = frozenset(
            [
                *(z for z in ZONE_LAYERS if v[z] is not None),
                *(["offshore"] if offshore else []),
                *(f"{z}:{g}" for z in GRADED_ZONES if v[z] is not None and (g := self.grade_of(z, str(v[z])))),
            ]
        )
        open_zones = frozenset(z for z in TIMED_ZONES if v[f"{z}_open"] is not None and bool(v[f"{z}_open"]))
        ids = {
            "grid_cells": v["cell"],
            "districts": v["district"],
            "vendor_zones": v["vendor_zone"],
            "storefront_zones": v["storefront_zone"],
            "model_streets": v["model_street"],
            "signboard_segments": v["signboard_segment"],
            "nearest_subdistrict": v.get("nearest_subdistrict"),
        }
        dist = v.get("boundary_distance_m")
        return self._answer(
            float(row["lon"]),
            float(row["lat"]),
            str(v["matter"]),
            ids,
            in_zones,
            open_zones,
            None if dist is None else float(dist),
            decided=int(row["rule_index"]),
        )


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA
