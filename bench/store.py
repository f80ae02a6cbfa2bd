"""Store benchmarks on both backends.

1. One case: report (ownership resolved by geo/) + commit; median and p95, embedded vs PostGIS.
2. Re-resolve after a grid change: N case points against the new grid, in-process (the lattice index)
   vs in PostGIS SQL (a GIST join with the same boundary rule); the answers must be identical.
3. Import of cases from a GeoPackage, per backend.
4. Dispatch throughput: filed cases dispatched by several dispatchers at once (threads), per backend.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa

from bench.ownership import incidents
from cities.config import load_config
from dispatch.calendar import WorkingCalendar
from dispatch.io import import_cases
from dispatch.workflow import NO_CASE_FLAGS, Workflow
from geo.ownership import OwnershipEngine, load_city
from store import migrate
from store.models import NewCase
from store.registry import open_store

DATA = Path(__file__).resolve().parent.parent / "data"
PG_ADMIN = "postgresql+psycopg://root@127.0.0.1:5432/postgres"
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def fresh_postgis(name: str) -> str | None:
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        eng = sa.create_engine(url)
        with eng.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        eng.dispose()
        return url
    except Exception as exc:  # no server or no PostGIS: say so, bench the rest
        print(f"  (PostGIS unavailable, its figures are skipped: {str(exc).splitlines()[0]})")
        return None


def _fresh(url: str):
    s = open_store(url, check=False)
    migrate.upgrade(s.engine)
    return s


def _stats(v: list[float]) -> str:
    v = sorted(v)
    return f"median {statistics.median(v) * 1e3:6.2f} ms   p95 {v[int(0.95 * len(v))] * 1e3:6.2f} ms"


def dispatch_throughput(
    url: str, engine: OwnershipEngine, calendar: WorkingCalendar, n_cases: int, n_threads: int
) -> tuple[float, list[float]]:
    """Cases dispatched per second by `n_threads` dispatchers at once, and each dispatch's latency."""
    store = _fresh(url)
    wf = Workflow(store, engine, calendar, clock=lambda: NOW)
    sup = store.add_user("sup", "bench-password", "supervisor")
    acc = store.add_user("acc", "bench-password", "acceptor")
    lead = store.add_user("lead", "bench-password", "shift_lead")
    dispatchers = [store.add_user(f"disp{k}", "bench-password", "dispatcher") for k in range(n_threads)]
    lon, lat = incidents(engine.city, n_cases * 2, seed=11)
    filed = []
    for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
        try:
            c = wf.report(sup, NewCase("06010", x, y, "supervisor", NOW))
        except Exception:  # outside the city
            continue
        c = wf.act(acc, c.id, "accept", c.version)
        filed.append(wf.act(lead, c.id, "file", c.version))
        if len(filed) == n_cases:
            break
    latencies: list[float] = []
    barrier = threading.Barrier(n_threads)

    def work(k: int) -> None:
        barrier.wait()
        for c in filed[k::n_threads]:
            t0 = time.perf_counter()
            wf.act(dispatchers[k], c.id, "dispatch", c.version)
            latencies.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.perf_counter() - t0
    store.close()
    return len(latencies) / dt, latencies


def run(n_points: int, n_import: int, n_single: int = 300, n_dispatch: int = 600) -> None:
    cfg = load_config("xiamen", DATA)
    city = load_city(cfg.gpkg)
    engine = OwnershipEngine(city)
    calendar = WorkingCalendar.load(cfg.sources["calendar"])
    work = Path(tempfile.mkdtemp(prefix="xiuhua-bench-"))
    pg = fresh_postgis("xiuhua_bench")
    backends = {"embedded": f"sqlite:///{work / 'bench.sqlite'}"} | ({"postgis": pg} if pg else {})

    print(f"\n== one case: report (ownership by geo/) + commit, {n_single} cases ==")
    lon, lat = incidents(city, n_single, seed=1)
    for name, url in backends.items():
        store = _fresh(url)
        wf = Workflow(store, engine, calendar, clock=lambda: NOW)
        sup = store.add_user("bench", "bench-password", "supervisor")
        times = []
        for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
            t0 = time.perf_counter()
            try:
                wf.report(sup, NewCase("06010", x, y, "supervisor", NOW))
            except Exception:  # a point outside the city is refused; not part of the timing
                continue
            times.append(time.perf_counter() - t0)
        print(f"  {name:<9} {_stats(times)}   ({len(times)} cases)")
        store.close()

    print(f"\n== re-resolve {n_points:,} case points after a grid change ==")
    cells = city.layers["grid_cells"]
    rng = np.random.default_rng(3)
    merged = cells.copy()
    for k in rng.choice(len(cells), 500, replace=False):  # 500 cells redrawn: each joins a neighbour
        row = merged.iloc[k]
        if row.geometry is None:
            continue
        same = merged[(merged["community_code"] == row["community_code"]) & merged.geometry.notna()]
        nb = same[same.geometry.touches(row.geometry) & (same["code"] != row["code"])]
        if len(nb):
            merged.loc[nb.index[0], "geometry"] = shapely.union(nb.geometry.iloc[0], row.geometry)
            merged.loc[merged.index[k], "geometry"] = None
    merged = merged[merged.geometry.notna()].reset_index(drop=True)
    lon, lat = incidents(city, n_points, seed=7)
    t0 = time.perf_counter()
    new_engine = OwnershipEngine(replace(city, layers={**city.layers, "grid_cells": merged}))
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = new_engine.memberships(lon, lat)["grid_cells"]
    t_mem = time.perf_counter() - t0
    ours = np.where(found >= 0, new_engine.index["grid_cells"].ids[np.maximum(found, 0)], "")
    print(f"  in-process lattice index: {t_mem:6.2f} s (+ {t_build:.1f} s index build)")
    if pg:
        eng = sa.create_engine(pg)
        with eng.begin() as conn:
            conn.execute(sa.text("CREATE TABLE bench_cells (code text, geom geometry(Geometry, 4326))"))
            conn.execute(sa.text("CREATE TABLE bench_points (id int, geom geometry(Point, 4326))"))
        raw = eng.raw_connection()
        try:
            with raw.cursor() as cur:
                with cur.copy("COPY bench_cells (code, geom) FROM STDIN") as cp:
                    ewkb = shapely.to_wkb(shapely.set_srid(merged.geometry.values, 4326), hex=True, include_srid=True)
                    for code, g in zip(merged["code"], ewkb, strict=True):
                        cp.write_row((code, g))
                with cur.copy("COPY bench_points (id, geom) FROM STDIN") as cp:
                    wkb = shapely.to_wkb(shapely.set_srid(shapely.points(lon, lat), 4326), hex=True, include_srid=True)
                    for i, g in enumerate(wkb):
                        cp.write_row((i, g))
            raw.commit()
        finally:
            raw.close()
        with eng.begin() as conn:
            conn.execute(sa.text("CREATE INDEX ON bench_cells USING gist (geom)"))
            conn.execute(sa.text("CREATE INDEX ON bench_points USING gist (geom)"))
            conn.execute(sa.text("ANALYZE bench_cells"))
            conn.execute(sa.text("ANALYZE bench_points"))
        t0 = time.perf_counter()
        with eng.connect() as conn:
            rows = conn.execute(
                sa.text(
                    # the boundary rule in SQL: among the cells covering a point, the smallest code wins
                    "SELECT DISTINCT ON (p.id) p.id, c.code FROM bench_points p "
                    "JOIN bench_cells c ON ST_Covers(c.geom, p.geom) ORDER BY p.id, c.code"
                )
            ).all()
        t_sql = time.perf_counter() - t0
        eng.dispose()
        theirs = np.full(n_points, "", dtype=object)
        for i, code in rows:
            theirs[i] = code
        bad = int((theirs.astype(str) != ours.astype(str)).sum())
        if bad:
            raise SystemExit(f"PostGIS and geo/ disagree on {bad} points — the benchmark fails")
        print(f"  PostGIS SQL (GIST join, same rule): {t_sql:6.2f} s   identical answers for every point")
        print(
            f"  ratio: in-process {t_sql / t_mem:.0f}x faster than PostGIS "
            f"({t_sql / (t_mem + t_build):.1f}x counting the index build)"
        )

    print(f"\n== import {n_import:,} cases from a GeoPackage ==")
    lon, lat = incidents(city, n_import, seed=9)
    inside = engine.memberships(lon, lat)["districts"] >= 0
    lon, lat = lon[inside], lat[inside]
    gpkg = work / "cases.gpkg"
    matters = np.array(["06010", "09006", "09005", "07001"])[np.arange(len(lon)) % 4]
    times = [NOW - timedelta(minutes=int(m)) for m in np.arange(len(lon)) % 10_000]
    # trading inside its zone in its hours is lawful, and the import refuses such rows: leave them out
    keep = ~engine.resolve_many(lon, lat, matters, times, with_distance=False)["flag"].isin(NO_CASE_FLAGS).to_numpy()
    gpd.GeoDataFrame(
        {
            "matter": matters[keep],
            "source": "hotline",
            "time": [
                t.astimezone(calendar.tz).strftime("%Y-%m-%d %H:%M") for t, k in zip(times, keep, strict=True) if k
            ],
        },
        geometry=gpd.points_from_xy(lon[keep], lat[keep]),
        crs="EPSG:4326",
    ).to_file(gpkg)
    for name, url in backends.items():
        store = _fresh(url)
        wf = Workflow(store, engine, calendar, clock=lambda: NOW)
        t0 = time.perf_counter()
        n = import_cases(wf, gpkg, None, "bench")
        dt = time.perf_counter() - t0
        print(f"  {name:<9} {n:,} cases in {dt:6.1f} s = {n / dt:,.0f} cases/s (resolve, validate, one transaction)")
        store.close()

    print(f"\n== dispatch {n_dispatch} filed cases: 1 dispatcher, then 8 at once ==")
    for name in backends:
        for n_threads in (1, 8):
            url = (
                f"sqlite:///{work / f'dispatch{n_threads}.sqlite'}"
                if name == "embedded"
                else fresh_postgis("xiuhua_bench_dispatch")
            )
            assert url is not None
            rate, lat = dispatch_throughput(url, engine, calendar, n_dispatch, n_threads)
            print(f"  {name:<9} {n_threads} thread(s): {rate:6.0f} dispatches/s   {_stats(lat)}")
