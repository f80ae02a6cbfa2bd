"""The district review's figures for a period: per cell (open, overdue, repeat problems), per squad and per
lead department, and a cell's cases. Worked out once per board snapshot and shared by every viewer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.board import snapshot_of
from dispatch.stats import Figures, league_of, repeats, tally
from store.models import CaseFacts
from web.services import Services

PERIODS = {"7d": 7, "30d": 30}


@dataclass(frozen=True)
class Review:
    district: str
    since: datetime
    now: datetime
    facts: list[CaseFacts]
    total: Figures
    squads: list[tuple[str, Figures]]
    departments: list[tuple[str, Figures]]
    repeats: dict[str, dict[str, tuple[int, int]]]  # level -> unit -> (repeat cases, recurring matters)


def period_days(period: str) -> int:
    """The days of a period ("7d" or "30d"; anything else means 30 days)."""
    return PERIODS.get(period, 30)


def review(svc: Services, district: str, period: str) -> Review:
    """The figures of one district for a period ("7d" or "30d"; anything else means 30 days)."""
    board = svc.board
    snap = board.snapshot()
    days = period_days(period)

    def compute(_: object) -> Review:
        now = svc.workflow.clock()
        since = board.day_start(now) - timedelta(days=days - 1)
        facts = svc.store.case_facts(active_since=since, districts=[district])
        snap = snapshot_of(svc.workflow, facts, now)
        # each unit answers for the cases it was given (the assignee), not for those the map suggested for it
        squads = set(svc.workflow.engine.city.layers["squads"]["id"].astype(str))
        units = league_of(snap, since, now, by="assignee")
        return Review(
            district,
            since,
            now,
            facts,
            tally(snap, since, now),
            [(u, f) for u, f in units if u in squads],
            [(u, f) for u, f in units if u not in squads],
            {lv: repeats(facts, since, lv) for lv in ("subdistrict", "community", "cell")},
        )

    return board.memo(snap, f"review:{district}:{days}", compute)


def cell_cases(r: Review, cell: str) -> list[CaseFacts]:
    """The cases of one cell in the review's period (and any still open), newest first."""
    return sorted((f for f in r.facts if f.cell == cell), key=lambda f: f.reported_at, reverse=True)
