"""Page benchmarks in headless Debian chromium, against `xiuhua serve` on 127.0.0.1.

1. First render (sign-in done, figures and map data drawn) and bytes on the wire for each page, with the demo
   history (20k cases over 30 days) and with 100k open incidents. Baseline, in the same browser on the same
   data: the page the issue forbids, Leaflet loading the whole grid and every open incident as one GeoJSON.
2. The bytes of each map move (zoom steps from the city to street level), against the 300 KB target.
3. A dispatch action (the console's callback) under 20 concurrent dispatchers, from a load tool of threads on
   127.0.0.1; server time from the app's Server-Timing header; baseline: one dispatcher alone.
"""

from __future__ import annotations

import gzip
import http.client
import http.server
import json
import shutil
import statistics
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import browser
from bench.ownership import incidents
from bench.store import fresh_postgis
from cities.config import load_config
from dispatch.context import open_workflow
from dispatch.demo import seed_demo
from dispatch.workflow import Workflow
from store import migrate
from store.models import Event, NewCase, new_case
from store.registry import open_store

DATA = Path(__file__).resolve().parent.parent / "data"
PASSWORD = "xiuhua-demo"
PAGES = (
    ("wall", "/wall", "#wall-kpi-reported"),
    ("dispatcher", "/dispatch", "#dispatch-queue td"),
    ("head.350203", "/district/350203", "#district-kpi-reported"),
)
VENDOR = Path(__file__).resolve().parent.parent / "web" / "vendor" / "leaflet"


def _store(root: Path, name: str, url: str | None = None) -> tuple[dict[str, str], Workflow]:
    url = url or f"sqlite:///{root / name}.sqlite"
    store = open_store(url, check=False)
    migrate.upgrade(store.engine)
    wf = open_workflow(store, load_config("xiamen", DATA))
    env = {"XIUHUA_DATABASE_URL": url, "XIUHUA_VAR_DIR": str(root), "XIUHUA_SECRET_KEY": "bench"}
    return env, wf


def add_open_cases(wf: Workflow, n: int, now: datetime, seed: int = 11, state: str = "dispatched") -> int:
    """n open cases on land, resolved by geo/ and stored in one go: dispatched (a fifth of them overdue), filed
    (waiting for dispatch) or reported (new reports waiting at intake)."""
    city = wf.engine.city
    lon, lat = incidents(city, int(n * 1.6), seed)
    matters = sorted(wf.allowance)
    rng = np.random.default_rng(seed)
    matter = rng.choice(matters, len(lon))
    answers = wf.engine.resolve_many(lon, lat, matter, pd.Series([now] * len(lon)))
    keep = np.flatnonzero(answers["district"].notna().to_numpy())[:n]
    records = answers.to_dict("records")
    history = []
    for k in keep:
        owners = wf.owners(wf.engine.row_to_ownership(records[k]))
        at = now - timedelta(hours=float(rng.uniform(1, 72)))
        new = NewCase(str(matter[k]), float(lon[k]), float(lat[k]), "supervisor", at, "synthetic bench case")
        case = new_case(new, owners, "reported", "bench", at, extra_flags=("synthetic",))
        due = now + timedelta(hours=float(rng.uniform(-8, 40)))
        if state == "dispatched":
            case = replace(case, state=state, filed_at=at, dispatched_at=at, deadline_at=due,
                           work_seconds=4 * 3600.0, assignee=case.squad or case.lead_department)  # fmt: skip
        elif state == "filed":
            case = replace(case, state=state, filed_at=at, work_seconds=4 * 3600.0)
        else:  # a new report: only the filing clock runs
            case = replace(case, state=state)
        history.append((case, [Event(0, 0, at, "bench", "import", None, state, "bench", {}, {})]))
    return wf.store.insert_history(history)


def _render(driver: Any, base: str, user: str, path: str, ready: str, cold: bool) -> dict[str, float]:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    browser.sign_in(driver, base, user, PASSWORD)
    if cold:  # a first visit: nothing cached, the JavaScript bundles come too
        driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    browser.network(driver)  # drop the sign-in's requests
    start = time.perf_counter()
    driver.get(base + path)
    browser.wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ready), 120)
    browser.wait_for(
        driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".leaflet-overlay-pane canvas, .leaflet-overlay-pane path"),
        120,
    )  # fmt: skip
    first = time.perf_counter() - start
    time.sleep(2.0)  # late data requests of the first view
    reqs = browser.network(driver)
    return {"first_s": first, "bytes": sum(r["bytes"] for r in reqs), "requests": len(reqs)}


def _moves(driver: Any) -> list[int]:
    """Bytes of each zoom step from the opening view to street level."""
    from selenium.webdriver.common.by import By

    out = []
    for _ in range(7):
        browser.network(driver)
        driver.find_element(By.CSS_SELECTOR, ".leaflet-control-zoom-in").click()
        time.sleep(2.5)
        out.append(sum(r["bytes"] for r in browser.network(driver)))
    return out


NAIVE = """<!doctype html><html><head><meta charset="utf-8"><style>{css}</style><script>{js}</script>
<style>html,body,#m{{height:100%;margin:0}}</style></head><body><div id="m"></div><script>
const m = L.map('m', {{preferCanvas: true}}).setView([24.55, 118.1], 11);
const get = (u) => fetch(u).then(r => r.json());
Promise.all([get('cells.geojson'), get('cases.geojson')]).then(([c, p]) => {{
  L.geoJSON(c, {{style: {{weight: 0.5}}}}).addTo(m);
  L.geoJSON(p, {{pointToLayer: (f, ll) => L.circleMarker(ll, {{radius: 3}})}}).addTo(m);
  requestAnimationFrame(() => {{ window.done = true; }});
}});</script></body></html>"""


class _Gzip(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        path = Path(self.directory) / self.path.lstrip("/")
        gz = path.with_name(path.name + ".gz")
        if gz.is_file():
            data = gz.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()


def naive_page(driver: Any, wf: Workflow, root: Path) -> dict[str, float]:
    """The forbidden baseline: the whole grid and all open incidents as GeoJSON, gzipped, in plain Leaflet."""
    from layers.geojson import feature_collection, rounded

    site = root / "naive"
    site.mkdir(exist_ok=True)
    cells = wf.engine.city.layers["grid_cells"]
    text = feature_collection(rounded(cells.geometry.values), ({"code": c} for c in cells["code"]))
    (site / "cells.geojson.gz").write_bytes(gzip.compress(text.encode()))
    facts = [f for f in wf.store.case_facts() if f.closed_at is None]
    pts = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": f.id, "state": f.state},
         "geometry": {"type": "Point", "coordinates": [round(f.lon, 6), round(f.lat, 6)]}} for f in facts]}  # fmt: skip
    (site / "cases.geojson.gz").write_bytes(gzip.compress(json.dumps(pts).encode()))
    html = NAIVE.format(css=(VENDOR / "leaflet.css").read_text(), js=(VENDOR / "leaflet.js").read_text())
    (site / "index.html").write_text(html)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Gzip, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        browser.network(driver)
        start = time.perf_counter()
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        browser.wait_for(driver, lambda d: d.execute_script("return window.done === true"), 300)
        first = time.perf_counter() - start
        reqs = browser.network(driver)
    finally:
        server.shutdown()
    return {"first_s": first, "bytes": sum(r["bytes"] for r in reqs), "requests": len(reqs)}


# -- dispatch under load ---------------------------------------------------------------------------------
def _post(conn: http.client.HTTPConnection, path: str, body: dict[str, Any] | str, cookie: str = "",
          form: bool = False, csrf: str = "") -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    data = urllib.parse.urlencode(body) if form else json.dumps(body)
    headers = {"Content-Type": "application/x-www-form-urlencoded" if form else "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    if csrf:
        headers["X-CSRFToken"] = csrf  # what dash-renderer sends from the _csrf_token cookie
    conn.request("POST", path, data, headers)
    r = conn.getresponse()
    return r.status, dict(r.getheaders()), r.read()


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    found = {}
    for key, value in response.getheaders():
        if key.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            found[name] = rest.split(";")[0]
    return found


def _session(port: int, user: str) -> tuple[str, str]:
    """Sign in as a browser does (the form's CSRF token first); the Cookie header and the callbacks' token."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/login")
    r = conn.getresponse()
    page, jar = r.read().decode(), _cookies(r)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    conn.request(
        "POST",
        "/auth/login",
        urllib.parse.urlencode({"username": user, "password": PASSWORD, "csrf_token": token}),
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    r = conn.getresponse()
    r.read()
    jar.update(_cookies(r))
    conn.close()
    return "; ".join(f"{k}={v}" for k, v in jar.items()), jar["_csrf_token"]


def _submit_output(port: int, cookie: str) -> str:
    """The console's submit callback as the app registered it (an allow_duplicate output carries a hash)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/_dash-dependencies", headers={"Cookie": cookie})
    deps = json.loads(conn.getresponse().read())
    conn.close()
    submit = ({"id": "dispatch-submit", "property": "n_clicks"},)
    return str(
        next(d["output"] for d in deps if "dispatch-message.children" in d["output"] and d["inputs"] == list(submit))
    )


def _dispatch_body(output: str, case_id: int, version: int) -> dict[str, Any]:
    states = [("dispatch-selected", "data", {"id": case_id}), ("dispatch-action", "value", "dispatch"),
              ("dispatch-unit", "value", None), ("dispatch-reason", "value", ""), ("dispatch-changed", "data", 0),
              ("dispatch-version", "data", version)]  # fmt: skip
    outs = [o.rsplit(".", 1) for o in output.strip(".").split("...")]
    return {
        "output": output,
        "outputs": [{"id": i, "property": p} for i, p in outs],
        "inputs": [{"id": "dispatch-submit", "property": "n_clicks", "value": 1}],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in states],
        "changedPropIds": ["dispatch-submit.n_clicks"],
    }


def dispatch_load(port: int, wf: Workflow, concurrency: int, per_worker: int) -> dict[str, float]:
    """Each worker, signed in as its own dispatcher, dispatches its own filed cases one after another."""
    filed = wf.store.cases(states=["filed"])[: concurrency * per_worker]
    if len(filed) < concurrency * per_worker:
        raise RuntimeError(f"only {len(filed)} filed cases for {concurrency} x {per_worker} dispatches")
    sessions = [_session(port, f"bench.dispatcher{w:02d}") for w in range(concurrency)]
    output = _submit_output(port, sessions[0][0])
    server_ms: list[float] = []
    client_ms: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(w: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for c in filed[w * per_worker : (w + 1) * per_worker]:
            t0 = time.perf_counter()
            status, headers, body = _post(
                conn,
                "/_dash-update-component",
                _dispatch_body(output, c.id, c.version),
                sessions[w][0],
                csrf=sessions[w][1],
            )
            took = (time.perf_counter() - t0) * 1000
            timing = headers.get("Server-Timing", "")
            with lock:
                client_ms.append(took)
                if "dur=" in timing:
                    server_ms.append(float(timing.split("dur=")[1].split(",")[0]))
                if status != 200 or b'"ok"' not in body:
                    errors.append(f"{status} {body[:200]!r}")
        conn.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, range(concurrency)))
    wall = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} dispatches failed, e.g. {errors[0]}")
    q = statistics.quantiles(server_ms, n=20)
    return {"n": len(server_ms), "median_ms": statistics.median(server_ms), "p95_ms": q[18],
            "client_median_ms": statistics.median(client_ms), "per_s": len(server_ms) / wall}  # fmt: skip


def run(open_cases: int = 100_000, demo_cases: int = 20_000) -> None:
    reason = browser.missing()
    if reason:
        print(f"pages: skipped ({reason})")
        return
    root = Path(tempfile.mkdtemp(prefix="xiuhua-bench-pages-"))
    now = datetime.now(UTC)
    try:
        print(f"\n== Pages in headless chromium: demo history ({demo_cases:,} cases) and {open_cases:,} open ==")
        env_demo, wf_demo = _store(root, "demo")
        t = time.perf_counter()
        seed_demo(wf_demo, demo_cases, 30, now - timedelta(minutes=1), 20240527, PASSWORD)
        for w in range(20):
            wf_demo.store.add_user(f"bench.dispatcher{w:02d}", PASSWORD, "dispatcher")
        add_open_cases(wf_demo, 150, now, seed=5, state="filed")  # for the dispatch load below
        print(f"seeded the demo history in {time.perf_counter() - t:.1f} s")
        env_big, wf_big = _store(root, "big")
        seed_demo(wf_big, 2000, 3, now - timedelta(minutes=1), 7, PASSWORD)
        t = time.perf_counter()
        added = add_open_cases(wf_big, open_cases, now)
        print(f"added {added:,} open cases in {time.perf_counter() - t:.1f} s")
        runs = (("demo history", env_demo, wf_demo), (f"{open_cases // 1000}k open", env_big, wf_big))
        for label, env, wf in runs:
            with browser.served(env, timeout_s=300) as base, browser.chrome(1920, 1080) as driver:
                print(f"\n-- {label}: {sum(1 for f in wf.store.case_facts() if f.closed_at is None):,} open cases --")
                naive = naive_page(driver, wf, root)
                print(
                    f"{'page':<18}{'first visit':>12}{'bytes gz':>11}{'again':>9}{'bytes gz':>10}"
                    f"{'vs naive time':>15}{'vs naive bytes':>16}"
                )
                print(f"{'naive GeoJSON':<18}{naive['first_s']:>10.2f} s{naive['bytes'] / 1e3:>8.0f} KB")
                for user, path, ready in PAGES:
                    c = _render(driver, base, user, path, ready, cold=True)
                    w = _render(driver, base, user, path, ready, cold=False)
                    print(
                        f"{path:<18}{c['first_s']:>10.2f} s{c['bytes'] / 1e3:>8.0f} KB{w['first_s']:>7.2f} s"
                        f"{w['bytes'] / 1e3:>7.0f} KB{naive['first_s'] / c['first_s']:>14.1f}x"
                        f"{naive['bytes'] / c['bytes']:>15.1f}x"
                    )
                moves = _moves(driver)
                print(f"map moves (zoom steps on the district page): max {max(moves) / 1e3:.0f} KB, "
                      f"each {', '.join(f'{m / 1e3:.0f}' for m in moves)} KB (target: 300 KB)")  # fmt: skip
        print("\n-- a dispatch action, server time (Server-Timing) --")
        loads = [("embedded", env_demo, wf_demo)]
        pg_url = fresh_postgis("xiuhua_bench_pages")
        if pg_url:
            env_pg, wf_pg = _store(root, "pg", pg_url)
            seed_demo(wf_pg, 2000, 3, now - timedelta(minutes=1), 7, PASSWORD)
            for w in range(20):
                wf_pg.store.add_user(f"bench.dispatcher{w:02d}", PASSWORD, "dispatcher")
            add_open_cases(wf_pg, 150, now, seed=5, state="filed")
            loads.append(("PostGIS", env_pg, wf_pg))
        for label, env, wf in loads:
            with browser.served(env, timeout_s=300) as base:
                port = int(base.rsplit(":", 1)[1])
                one = dispatch_load(port, wf, 1, 20)
                many = dispatch_load(port, wf, 20, 5)
            slowed = many["median_ms"] / one["median_ms"]
            print(f"{label:<9} 1 dispatcher:   median {one['median_ms']:.1f} ms, p95 {one['p95_ms']:.1f} ms "
                  f"({one['n']} actions)")  # fmt: skip
            print(f"{label:<9} 20 dispatchers: median {many['median_ms']:.1f} ms, p95 {many['p95_ms']:.1f} ms, "
                  f"{many['per_s']:.1f} actions/s ({many['n']} actions); median slowed {slowed:.1f}x")  # fmt: skip
            wf.store.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
