"""Open311 benchmarks: the API (web/open311.py) on a plain Flask app served by waitress on 127.0.0.1 (the app's
own WSGI server, 8 threads), driven by a load tool of Python threads over HTTP, on each store.

1. POST requests.json (form-encoded, lat/long) until the case is stored and resolved: median and p95 client
   latency with 20 concurrent clients; baseline: one client alone, in the same process on the same data.
2. GET requests.json returning 1,000 requests: time and bytes (JSON and XML).
"""

from __future__ import annotations

import http.client
import logging
import statistics
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import flask
import waitress.server

from bench.ownership import incidents
from bench.store import fresh_postgis
from cities.config import load_config
from dispatch import open311 as o3
from dispatch.calendar import WorkingCalendar
from dispatch.media import PhotoStore
from dispatch.workflow import Workflow
from geo.ownership import OwnershipEngine, load_city
from layers.basemap import parse_basemap
from store import migrate
from store.registry import open_store
from web import open311
from web.services import KEY, Services

DATA = Path(__file__).resolve().parent.parent / "data"
CLIENTS = 20


def _stats(v: list[float]) -> str:
    v = sorted(v)
    return f"median {statistics.median(v) * 1e3:7.2f} ms   p95 {v[int(0.95 * len(v))] * 1e3:7.2f} ms"


def _serve(server: flask.Flask) -> tuple[waitress.server.BaseWSGIServer, int]:
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # 20 clients on 8 threads queue by design
    srv = waitress.server.create_server(server, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=srv.run, daemon=True).start()
    return srv, int(srv.effective_port)  # type: ignore[union-attr]


def _post(port: int, body: str) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.perf_counter()
    conn.request("POST", "/open311/v2/requests.json", body, {"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    resp.read()
    took = time.perf_counter() - t0
    conn.close()
    if resp.status != 200:
        raise RuntimeError(f"POST answered {resp.status}")
    return took


def _get(port: int, path: str) -> tuple[float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t0 = time.perf_counter()
    conn.request("GET", path)
    resp = conn.getresponse()
    n = len(resp.read())
    took = time.perf_counter() - t0
    conn.close()
    return took, n


def run(n_posts: int = 1000) -> None:
    cfg = load_config("xiamen", DATA)
    city = load_city(cfg.gpkg)
    engine = OwnershipEngine(city)
    calendar = WorkingCalendar.load(cfg.sources["calendar"])
    work = Path(tempfile.mkdtemp(prefix="xiuhua-bench-open311-"))
    pg = fresh_postgis("xiuhua_bench_open311")
    backends = {"embedded": f"sqlite:///{work / 'open311.sqlite'}"} | ({"postgis": pg} if pg else {})
    lon, lat = incidents(city, n_posts * 2, seed=5)
    matters = sorted(str(m) for m in city.matters["code"])

    print(f"\n== Open311: POST requests.json to stored and resolved; {CLIENTS} concurrent clients (threads, HTTP to "
          "waitress on 127.0.0.1) ==")  # fmt: skip
    for name, url in backends.items():
        store = open_store(url, check=False)
        migrate.upgrade(store.engine)
        svc = Services(cfg, store, lambda s=store: Workflow(s, engine, calendar), parse_basemap("offline", None),
                       PhotoStore(work / "media", 10 * 1024 * 1024))  # fmt: skip
        server = flask.Flask("open311-bench")
        server.config.update({KEY: svc, "XIUHUA_LANGUAGE": "zh", "XIUHUA_TZ": calendar.tz})
        open311.init(server)
        _, secret = o3.issue_key(store, "bench", "app", 100_000, datetime.now(UTC))
        srv, port = _serve(server)
        wf = svc.workflow
        bodies = []
        for k in range(len(lon)):
            if wf.engine.resolve(float(lon[k]), float(lat[k]), matters[0], datetime.now(UTC)).district is None:
                continue  # a point outside the city would be refused: not part of the timing
            fields = {"api_key": secret, "service_code": matters[k % len(matters)], "lat": f"{lat[k]:.7f}",
                      "long": f"{lon[k]:.7f}", "description": "synthetic bench request"}  # fmt: skip
            bodies.append(urllib.parse.urlencode(fields))
            if len(bodies) == n_posts + 50:
                break
        alone = [_post(port, b) for b in bodies[:50]]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            loaded = list(pool.map(partial(_post, port), bodies[50:]))
        wall = time.perf_counter() - t0
        ratio = statistics.median(loaded) / statistics.median(alone)
        print(f"  {name:<9} one client:  {_stats(alone)}   ({len(alone)} posts)")
        print(f"  {name:<9} {CLIENTS} clients: {_stats(loaded)}   ({len(loaded)} posts, "
              f"{len(loaded) / wall:.0f} posts/s; median ×{ratio:.1f} of one client)")  # fmt: skip

        total = len(store.cases())
        for fmt in ("json", "xml"):
            took, size = _get(port, f"/open311/v2/requests.{fmt}")
            print(f"  {name:<9} GET requests.{fmt}: 1,000 of {total} requests in {took * 1e3:.0f} ms, "
                  f"{size / 1024:.0f} KB")  # fmt: skip
        srv.close()
        store.close()


if __name__ == "__main__":
    run()
