"""The evaluation (考评) over a month of 100k cases, on both stores.

The history is the demo's (the real workflow rules, seeded), 20k cases, copied until it holds `n` cases (each
copy keeps its event log; the store numbers the copies). Timed: every level's scores for the month (reading the
cases and their events, replaying the log, scoring), per store; and the replay alone, in process.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bench.store import DATA, _fresh, fresh_postgis
from cities.config import load_config
from dispatch.calendar import WorkingCalendar
from dispatch.demo import seed_demo
from dispatch.evaluation import LEVELS, count, evaluate, evaluate_levels, evaluation_file, load, month
from dispatch.workflow import Workflow
from geo.ownership import OwnershipEngine, load_city

UNTIL = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def run(n: int = 100_000, base: int = 20_000) -> None:
    cfg = load_config("xiamen", DATA)
    engine = OwnershipEngine(load_city(cfg.gpkg))
    calendar = WorkingCalendar.load(cfg.sources["calendar"])
    ev = load(evaluation_file(cfg.root))
    start, end = month("2026-11", calendar.tz)
    work = Path(tempfile.mkdtemp(prefix="xiuhua-bench-eval-"))
    print(f"\n== evaluation: every level's scores for 2026-11 over {n:,} cases ==")
    seed_store = _fresh(f"sqlite:///{work / 'seed.sqlite'}")
    wf = Workflow(seed_store, engine, calendar, clock=lambda: UNTIL)
    t0 = time.perf_counter()
    seed_demo(wf, base, 30, UNTIL, 5, "bench-password")
    print(f"  seeded {base:,} demo cases in {time.perf_counter() - t0:.0f} s")
    history = [(c, seed_store.events(c.id)) for c in seed_store.cases()]
    users = seed_store.list_users()
    seed_store.close()
    pg = fresh_postgis("xiuhua_bench_eval")
    backends = {"embedded": f"sqlite:///{work / 'eval.sqlite'}"} | ({"postgis": pg} if pg else {})
    for name, url in backends.items():
        store = _fresh(url)
        for u in users:
            store.add_user(u.username, "bench-password", u.role, u.districts, unit=u.unit)

        def copies():
            made = 0
            while made < n:
                batch = [(replace(c, case_no=""), evs) for c, evs in history[: n - made]]
                made += len(batch)
                yield batch

        stored = store.insert_history_batches(copies())
        wf = Workflow(store, engine, calendar, clock=lambda: UNTIL)
        t0 = time.perf_counter()
        facts = store.case_facts(active_since=start)
        events = store.events_of(active_since=start)
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        count(facts, events, start, end, calendar, ev.limits, frozenset(engine.city.layers["squads"]["id"]))
        t_replay = time.perf_counter() - t0
        t0 = time.perf_counter()
        groups = sum(len(r.scores) for r in evaluate_levels(wf, ev, LEVELS, start, end).values())
        t_all = time.perf_counter() - t0
        t0 = time.perf_counter()
        evaluate(wf, ev, "squad", start, end)
        t_one = time.perf_counter() - t0
        print(
            f"  {name:<9} {stored:,} cases, {len(events):,} events: read {t_read:5.1f} s, replay {t_replay:5.1f} s; "
            f"every level at once ({groups} units scored) {t_all:5.1f} s; one level {t_one:5.1f} s"
        )
        store.close()
