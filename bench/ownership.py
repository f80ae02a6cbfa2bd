"""Ownership look-ups on the demo city: our lattice index against geopandas.sjoin, and single-point latency.

Baseline: geopandas.sjoin(points, layer, predicate="within") for each layer, on the same points in the same
process. Our answers must be identical, point for point, or the benchmark fails.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np

from cities.build import build_city
from cities.config import load_config
from geo.ownership import OwnershipEngine, load_city

DATA = Path(__file__).resolve().parent.parent / "data"
COMPARED = [
    "districts",
    "subdistricts",
    "communities",
    "grid_cells",
    "vendor_zones",
    "storefront_zones",
    "model_streets",
    "signboard_segments",
]


def incidents(city, n: int, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic synthetic incidents: 70 % clustered around urban cells, 30 % uniform over the city box."""
    rng = np.random.default_rng(seed)
    cells = city.layers["grid_cells"]
    urban = cells[cells["cell_size_m"] == cells["cell_size_m"].min()]
    centres = urban.geometry.representative_point()
    hot = rng.choice(len(centres), 400, replace=False)
    n_cluster = int(n * 0.7)
    pick = rng.choice(hot, n_cluster)
    spread = 0.004  # about 400 m
    lon_c = centres.x.to_numpy()[pick] + rng.normal(0, spread, n_cluster)
    lat_c = centres.y.to_numpy()[pick] + rng.normal(0, spread, n_cluster)
    minx, miny, maxx, maxy = city.layers["districts"].total_bounds
    lon_u = rng.uniform(minx, maxx, n - n_cluster)
    lat_u = rng.uniform(miny, maxy, n - n_cluster)
    return np.concatenate([lon_c, lon_u]), np.concatenate([lat_c, lat_u])


def _ours(engine: OwnershipEngine, found: dict[str, np.ndarray], layer: str) -> np.ndarray:
    cell_idx = found["grid_cells"]
    cells = np.where(cell_idx >= 0, engine.index["grid_cells"].ids[np.maximum(cell_idx, 0)], "")
    if layer == "subdistricts":
        return np.where(cell_idx >= 0, cells.astype("U9"), "")
    if layer == "communities":
        return np.where(cell_idx >= 0, cells.astype("U12"), "")
    k = found[layer]
    return np.where(k >= 0, engine.index[layer].ids[np.maximum(k, 0)], "")


def run(n_points: int, n_single: int) -> None:
    cfg = load_config("xiamen", DATA)
    if not cfg.gpkg.exists():
        print("building the demo city first …")
        build_city(cfg, lambda _m: None)
    city = load_city(cfg.gpkg)
    t0 = time.perf_counter()
    engine = OwnershipEngine(city)
    t_index = time.perf_counter() - t0
    lon, lat = incidents(city, n_points)
    print(
        f"\n== bulk ownership: {n_points:,} incidents x {len(COMPARED)} layers "
        f"({len(city.layers['grid_cells']):,} grid cells) =="
    )

    t0 = time.perf_counter()
    found = engine.memberships(lon, lat)
    t_ours = time.perf_counter() - t0

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    t_base = 0.0
    rows = []
    for layer in COMPARED:
        gdf = city.layers[layer]
        field = "code" if "code" in gdf.columns else "id"
        t0 = time.perf_counter()
        joined = gpd.sjoin(pts, gdf[[field, "geometry"]], predicate="within", how="left")
        dt = time.perf_counter() - t0
        t_base += dt
        if joined.index.has_duplicates:
            raise SystemExit(f"{layer}: some incidents fall in two polygons; the layer overlaps itself")
        expect = joined[field].fillna("").to_numpy().astype(str)
        got = _ours(engine, found, layer)
        bad = int((got != expect).sum())
        if bad:
            raise SystemExit(f"{layer}: {bad} incidents differ from geopandas.sjoin — the benchmark fails")
        rows.append((layer, dt, int((expect != "").sum())))
    for layer, dt, hits in rows:
        print(f"  geopandas.sjoin within  {layer:<19} {dt:7.2f} s   {hits:>9,} inside")
    print(f"  geopandas.sjoin, all layers        {t_base:7.2f} s   (baseline)")
    print(f"  xiuhua lattice index, all layers   {t_ours:7.2f} s   identical answers for every incident")
    print(f"  one-off index build                {t_index:7.2f} s")
    print(
        f"  ratio: {t_base / t_ours:5.1f}x faster than geopandas  (target >= 10x); "
        f"{t_base / (t_ours + t_index):4.1f}x counting the index build"
    )

    t0 = time.perf_counter()
    at = np.full(n_points, np.datetime64("2026-11-27T19:00"))
    engine.resolve_many(lon, lat, np.full(n_points, "09006"), at, with_distance=True)
    t_full = time.perf_counter() - t0
    print(
        f"  full answer (zones, rules, squads, departments, boundary distance): {t_full:5.2f} s "
        f"= {t_full / n_points * 1e6:.2f} µs per incident"
    )

    print(f"\n== single point, {n_single:,} incidents ==")
    sample = slice(0, n_single)
    slon, slat = lon[sample].tolist(), lat[sample].tolist()
    to_metric = engine.to_metric
    member, full = [], []
    when = datetime(2026, 11, 27, 19, 0)
    for a, b in zip(slon, slat, strict=True):
        t0 = time.perf_counter()
        x, y = to_metric.transform(a, b)
        engine.membership_one(a, b, x, y)
        member.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        engine.resolve(a, b, "09006", when)
        full.append(time.perf_counter() - t0)
    base = []
    probe = gpd.GeoDataFrame(geometry=gpd.points_from_xy(slon[:200], slat[:200]), crs="EPSG:4326")
    for k in range(200):
        one = probe.iloc[[k]]
        t0 = time.perf_counter()
        for layer in COMPARED:
            gpd.sjoin(one, city.layers[layer][["geometry"]], predicate="within")
        base.append(time.perf_counter() - t0)

    def med(v: list[float]) -> float:
        return statistics.median(v) * 1e6

    p95 = sorted(member)[int(0.95 * len(member))] * 1e6
    print(f"  geopandas.sjoin per point, all layers  median {med(base):9.1f} µs   (baseline)")
    print(
        f"  xiuhua, all layers (membership)        median {med(member):9.1f} µs   p95 {p95:.1f} µs"
        f"   (target <= 50 µs)   ratio {med(base) / med(member):.0f}x"
    )
    print(f"  xiuhua, full answer with rule trace    median {med(full):9.1f} µs")
