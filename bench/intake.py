"""The acceptor's intake page with 100k open cases (in process, no browser):

1. Duplicate lookups: building the index (dispatch/duplicates.DuplicateIndex) over the open and recent cases,
   and one lookup per new report (median and p95 over the reports), against the baseline of the store's own
   bounding-box query per report (dispatch/duplicates.find_in_store, the lon/lat index), on the same data.
2. The queue callback (pages/intake.refresh_queue, as the browser's request runs it, signed in as the acceptor)
   with 1,000 new reports waiting, each with its count of possible duplicates.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask

from bench.pages import DATA, _store, add_open_cases
from cities.config import load_config
from dispatch.demo import seed_demo
from dispatch.duplicates import DuplicateIndex, find_in_store, rules_from
from geo.crs import transformer


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def run(open_cases: int = 100_000, new_reports: int = 1_000, lookups: int = 1_000) -> None:
    root = Path(tempfile.mkdtemp(prefix="xiuhua-bench-intake-"))
    now = datetime.now(UTC)
    try:
        print(f"\n== Intake: {open_cases:,} open cases, {new_reports:,} new reports ==")
        env, wf = _store(root, "intake")
        seed_demo(wf, 500, 2, now - timedelta(minutes=1), 7, "xiuhua-demo")
        t = time.perf_counter()
        add_open_cases(wf, open_cases, now)
        add_open_cases(wf, new_reports, now, seed=3, state="reported")
        print(f"stored the cases in {time.perf_counter() - t:.1f} s")
        city = load_config("xiamen", DATA)
        rules = rules_from(city.duplicates)
        reports = wf.store.cases(states=["reported"], limit=lookups)

        t = time.perf_counter()
        wf.store.case_facts(active_since=now - timedelta(hours=2 * rules.max_hours))
        read = time.perf_counter() - t
        t = time.perf_counter()
        index = DuplicateIndex(wf.store, rules, city.metric_crs)
        index.refresh(now)
        build = time.perf_counter() - t
        print(f"index: {len(index):,} open and recent cases, built in {build:.2f} s "
              f"(reading them from the store alone: {read:.2f} s)")  # fmt: skip
        times, found = [], 0
        for r in reports:
            t = time.perf_counter()
            found += len(index.find(r, now))
            times.append(time.perf_counter() - t)
        alone = []
        for r in reports:
            t = time.perf_counter()
            index.lookup(r)
            alone.append(time.perf_counter() - t)
        to_metric = transformer("EPSG:4326", city.metric_crs)
        base = []
        for r in reports:
            t = time.perf_counter()
            find_in_store(wf.store, r, rules.window(r.matter), to_metric, 20)
            base.append(time.perf_counter() - t)
        med, p95 = statistics.median(times) * 1e3, pct(times, 0.95) * 1e3
        bmed, bp95 = statistics.median(base) * 1e3, pct(base, 0.95) * 1e3
        print(f"{'lookup':<28}{'median':>10}{'p95':>10}")
        print(f"{'index.find (grid by matter)':<28}{med:>7.3f} ms{p95:>7.3f} ms   {found / len(reports):.2f} found")
        amed, ap95 = statistics.median(alone) * 1e3, pct(alone, 0.95) * 1e3
        print(f"{'  of which the grid alone':<28}{amed:>7.3f} ms{ap95:>7.3f} ms   (the rest: the store's revision)")
        print(f"{'baseline: store bbox query':<28}{bmed:>7.3f} ms{bp95:>7.3f} ms   index {bmed / med:.0f}x faster")
        _queue(env, len(reports))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _queue(env: dict[str, str], n: int) -> None:
    from app import create_app
    from settings import Settings

    app = create_app(Settings.from_env({**env, "XIUHUA_PASSWORD_PROFILE": "cheapest"}))
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    from web.services import services

    page = sys.modules["pages.intake"]  # Dash imported the page modules when the app was made
    # the callback reads which input fired, as it would inside a request from the browser
    context_value.set(AttributeDict(triggered_inputs=[{"prop_id": "intake-tick.n_intervals", "value": 1}]))

    times = []
    with app.server.test_request_context():
        flask.session["sid"] = services().store.start_session("acceptor", datetime.now(UTC))
        for k in range(6):
            t = time.perf_counter()
            rows, *_ = page.refresh_queue(k, None, "new")
            times.append(time.perf_counter() - t)
    first, warm = times[0], statistics.median(times[1:])
    print(f"queue callback (pages/intake.refresh_queue, {len(rows):,} rows in the new tab; >= {n:,} new reports): "
          f"first {first:.2f} s (board and index built), then {warm * 1e3:.0f} ms median")  # fmt: skip
