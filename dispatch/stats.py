"""Figures for the wall display and the district review, from light case records.

The on-time rate is the honest one: closed on time / (closed on time + closed late + open and overdue).
Counting only closed cases shows 100 % while overdue cases pile up (the lesson of 311 dashboards).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from dispatch.workflow import CLOSED, Workflow
from store.models import CaseFacts


@dataclass(frozen=True)
class Figures:
    reported: int
    filed: int
    dispatched: int
    closed: int
    open: int
    overdue: int
    at_risk: int
    closed_on_time: int
    closed_late: int

    @property
    def on_time_rate(self) -> float | None:
        """closed on time / (closed on time + closed late + open overdue); None when there is nothing to rate."""
        total = self.closed_on_time + self.closed_late + self.overdue
        return self.closed_on_time / total if total else None

    @property
    def closed_only_rate(self) -> float | None:
        """The flattering rate, shown beside the honest one so the difference is visible."""
        total = self.closed_on_time + self.closed_late
        return self.closed_on_time / total if total else None


def figures(wf: Workflow, facts: list[CaseFacts], since: datetime, now: datetime) -> Figures:
    """Counts for the period from `since` to `now`, and the deadline position of every open case now."""

    def within(t: datetime | None) -> bool:
        return t is not None and since <= t <= now

    closed = [f for f in facts if f.state == "closed" and within(f.closed_at)]
    open_ = [f for f in facts if f.state not in CLOSED]
    _, at_risk, overdue = wf.deadline_flags(open_, now)
    return Figures(
        reported=sum(within(f.reported_at) for f in facts),
        filed=sum(within(f.filed_at) for f in facts),
        dispatched=sum(within(f.dispatched_at) for f in facts),
        closed=len(closed),
        open=len(open_),
        overdue=int(overdue.sum()),
        at_risk=int(at_risk.sum()),
        closed_on_time=sum(f.closed_on_time is True for f in closed),
        closed_late=sum(f.closed_on_time is False for f in closed),
    )


def league(
    wf: Workflow, facts: list[CaseFacts], since: datetime, now: datetime, by: str = "district"
) -> list[tuple[str, Figures]]:
    """Figures per district (or squad, lead_department, subdistrict …), best honest on-time rate first;
    units with nothing to rate last."""
    groups: dict[str, list[CaseFacts]] = {}
    for f in facts:
        key = getattr(f, by)
        if key:
            groups.setdefault(key, []).append(f)
    rows = [(k, figures(wf, fs, since, now)) for k, fs in sorted(groups.items())]
    return sorted(rows, key=lambda r: (r[1].on_time_rate is None, -(r[1].on_time_rate or 0.0), r[0]))


def repeats(facts: list[CaseFacts], since: datetime, level: str = "cell") -> dict[str, tuple[int, int]]:
    """Repeat problems: per unit, the cases reported since `since` whose matter was reported there before in
    the period, and (second) how many distinct matters recur."""
    seen: dict[tuple[str, str], int] = {}
    for f in facts:
        unit = getattr(f, level)
        if unit and f.reported_at >= since:
            seen[(unit, f.matter)] = seen.get((unit, f.matter), 0) + 1
    out: dict[str, tuple[int, int]] = {}
    for (unit, _), n in seen.items():
        if n > 1:
            a, b = out.get(unit, (0, 0))
            out[unit] = (a + n - 1, b + 1)
    return out


def top_matters(facts: list[CaseFacts], since: datetime, now: datetime, n: int = 10) -> list[tuple[str, int]]:
    """The matters reported most in the period."""
    counts = Counter(f.matter for f in facts if since <= f.reported_at <= now)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
