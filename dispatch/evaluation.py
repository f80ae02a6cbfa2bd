"""The evaluation (考评) as data: indicators are formulas over named counters of case facts, schemes weigh them
per level, grades are bands; `data/<city>/evaluation.toml` declares all three (see the Xiamen file).

Counters are replayed from the event log, so a case counts against whoever held it when it happened: a
dispatch gives the case to a unit until the unit feeds back, or a return is approved (then the next dispatch
gives it to the next unit); rework counts against the unit that held it; a dispatcher answers for the
dispatches they made (a dispatch later returned is `redispatched` against them), an inspector for their
reports, verifications and checks, whoever filed or closed for that. Times limited in working time (filing,
dispatch, verify, check, close) use the city's working calendar.

The loader refuses, naming the line: weights that do not sum to 100, unknown counters or indicators, a formula
outside the language (dispatch/formula.py), and a formula that divides without a `zero` rule.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from dispatch.calendar import WorkingCalendar
from dispatch.formula import Formula, FormulaError, ZeroDivisor, parse
from store.models import CaseFacts, Event

LEVELS = ("district", "subdistrict", "squad", "department", "inspector", "dispatcher", "shift_lead")
UNIT_LEVELS = ("squad", "department")
LOCATION = ("district", "subdistrict")
# counter -> the levels it is counted for (what each one counts: [counter] in web/messages.toml)
COUNTERS: dict[str, tuple[str, ...]] = {
    "reported": LOCATION,
    "reports": ("inspector",),
    "valid_reports": ("inspector",),
    "missed": ("inspector",),
    "verify_tasks": ("inspector",),
    "verified_on_time": ("inspector",),
    "check_tasks": ("inspector",),
    "checked_on_time": ("inspector",),
    "filed": (*LOCATION, "shift_lead"),
    "filed_on_time": (*LOCATION, "shift_lead"),
    "filed_voided": (*LOCATION, "shift_lead"),
    "to_dispatch": (*LOCATION, "dispatcher"),
    "dispatched_on_time": (*LOCATION, "dispatcher"),
    "redispatched": (*LOCATION, "dispatcher"),
    "handled": (*LOCATION, *UNIT_LEVELS),
    "handled_on_time": (*LOCATION, *UNIT_LEVELS),
    "handled_late": (*LOCATION, *UNIT_LEVELS),
    "returned": (*LOCATION, *UNIT_LEVELS),
    "reworked": (*LOCATION, *UNIT_LEVELS),
    "open_overdue": (*LOCATION, *UNIT_LEVELS),
    "closed": (*LOCATION, "shift_lead"),
    "closed_on_time": LOCATION,
    "closed_late": LOCATION,
    "closes_on_time": ("shift_lead",),
}


class EvaluationError(ValueError):
    """An evaluation file that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class Indicator:
    key: str
    zh: str
    en: str
    formula: Formula
    zero: float | None  # its value when a divisor is zero (None: not rated)

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Scheme:
    level: str
    weights: dict[str, float]  # indicator -> percent; they sum to 100


@dataclass(frozen=True)
class Evaluation:
    indicators: dict[str, Indicator]
    schemes: dict[str, Scheme]
    grades: tuple[tuple[float, str], ...]  # (lowest score, grade), best first
    limits: dict[str, float]  # working hours: verify, check, close

    def grade(self, score: float | None) -> str | None:
        if score is None:
            return None
        return next((g for lo, g in self.grades if score >= lo), self.grades[-1][1])


def _line(text: str, pattern: str, after: int = 0) -> int:
    """The 1-based line of the first match of `pattern` at or after line `after` (0 if none)."""
    for k, line in enumerate(text.splitlines()[after:], after + 1):
        if re.search(pattern, line):
            return k
    return 0


def load(path: Path) -> Evaluation:
    """Read and check an evaluation file."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise EvaluationError(f"{path}: not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"{path}: {exc}") from None

    def fail(line: int, message: str) -> EvaluationError:
        return EvaluationError(f"{path}, line {line}: {message}")

    indicators: dict[str, Indicator] = {}
    for key, spec in (data.get("indicators") or {}).items():
        at = _line(text, rf"^\[indicators\.{re.escape(key)}\]")
        where = _line(text, r"^\s*formula\s*=", at) or at
        try:
            formula = parse(spec.get("formula", ""), set(COUNTERS))
        except FormulaError as exc:
            raise fail(where, f"indicator {key}: {exc}") from None
        zero = spec.get("zero")
        if formula.divides and zero is None:
            raise fail(where, f"indicator {key} divides: say what it is worth when a divisor is zero (zero = …)")
        if zero is not None and zero != "none" and not isinstance(zero, int | float):
            raise fail(_line(text, r"^\s*zero\s*=", at) or at, f'indicator {key}: zero is a number or "none"')
        if not spec.get("zh") or not spec.get("en"):
            raise fail(at, f"indicator {key} needs a name in zh and en")
        indicators[key] = Indicator(key, spec["zh"], spec["en"], formula, None if zero in (None, "none") else zero)
    schemes: dict[str, Scheme] = {}
    for level, spec in (data.get("schemes") or {}).items():
        at = _line(text, rf"^\[schemes\.{re.escape(level)}\]")
        if level not in LEVELS:
            raise fail(at, f"unknown level {level!r}; levels: {', '.join(LEVELS)}")
        weights = dict(spec.get("weights") or {})
        for key, w in weights.items():
            if key not in indicators:
                raise fail(
                    _line(text, rf"\b{re.escape(key)}\s*=", at) or at, f"scheme {level}: unknown indicator {key!r}"
                )
            if not isinstance(w, int | float) or w <= 0:
                raise fail(at, f"scheme {level}: the weight of {key} must be a positive number")
            bad = [c for c in indicators[key].formula.counters if level not in COUNTERS[c]]
            if bad:
                raise fail(at, f"scheme {level}: {key} uses {', '.join(sorted(bad))}, which is not counted for {level}")
        total = sum(weights.values())
        if abs(total - 100) > 1e-9:
            raise fail(at, f"scheme {level}: the weights sum to {total:g}%, not 100%")
        schemes[level] = Scheme(level, {k: float(v) for k, v in weights.items()})
    bands = data.get("grades") or {}
    grades = tuple(sorted(((float(v), str(k)) for k, v in bands.items()), reverse=True))
    if not grades:
        raise fail(_line(text, r"^\[grades\]"), "no grade bands")
    limits = {k: float(v) for k, v in (data.get("limits") or {}).items()}
    for need in ("verify_hours", "check_hours", "close_hours"):
        if need not in limits:
            raise fail(_line(text, r"^\[limits\]"), f"[limits] needs {need}")
    return Evaluation(indicators, schemes, grades, limits)


# -- counting -----------------------------------------------------------------------------------------------
@dataclass
class Tally:
    """Counters per (level, group), with the cases behind each count."""

    cases: dict[tuple[str, str, str], list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, counter: str, targets: Iterable[tuple[str, str | None]], case_id: int) -> None:
        for level, group in targets:
            if group and level in COUNTERS[counter]:
                self.cases[(level, group, counter)].append(case_id)

    def counts(self, level: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = defaultdict(dict)
        for (lv, group, counter), ids in self.cases.items():
            if lv == level:
                out[group][counter] = len(ids)
        return dict(out)


@dataclass(frozen=True)
class _Timed:
    """A step to be judged against a working-time limit, all at once at the end (vectorised)."""

    counter: str
    targets: tuple[tuple[str, str | None], ...]
    case_id: int
    start: float
    end: float
    limit_s: float


def _unit_level(unit: str, squads: frozenset[str]) -> str:
    return "squad" if unit in squads else "department"


def count(
    facts: Sequence[CaseFacts],
    events: Sequence[Event],
    start: datetime,
    end: datetime,
    calendar: WorkingCalendar,
    limits: Mapping[str, float],
    squads: frozenset[str],
    patrol: Mapping[str, tuple[str, ...]] | None = None,
    inspectors_by_district: Mapping[str, tuple[str, ...]] | None = None,
    now: datetime | None = None,
) -> Tally:
    """Replay the cases' events into counters for the period [start, end) as they stand at `now` (default: the
    period's end): a case still open counts as overdue only once its deadline has passed by then."""
    lo, hi = start.timestamp(), end.timestamp()
    cut = min(hi, now.timestamp()) if now is not None else hi
    tally, timed = Tally(), []
    by_case: dict[int, list[Event]] = defaultdict(list)
    for e in events:
        by_case[e.case_id].append(e)
    patrol = patrol or {}
    inspectors_by_district = inspectors_by_district or {}

    def inside(t: datetime) -> bool:
        return lo <= t.timestamp() < hi

    for f in facts:
        where: tuple[tuple[str, str | None], ...] = (("district", f.district), ("subdistrict", f.subdistrict))
        evs = by_case.get(f.id, [])
        reporter = evs[0].actor if evs and f.source == "supervisor" else None
        if inside(f.reported_at):
            tally.add("reported", where, f.id)
            if reporter:
                tally.add("reports", [("inspector", reporter)], f.id)
                useful = any(e.action in ("file", "merge", "self_handle") for e in evs)
                if useful:
                    tally.add("valid_reports", [("inspector", reporter)], f.id)
            elif f.source != "supervisor":
                who = patrol.get(f.cell or "") or inspectors_by_district.get(f.district or "", ())
                tally.add("missed", [("inspector", w) for w in who], f.id)
        filed_by, filed_at, voided = None, None, f.state == "voided"
        holder: str | None = None
        last_holder: str | None = None
        dispatcher: str | None = None
        deadline: float | None = None
        paused = False
        task_start: float | None = None
        checked_at: float | None = None
        since_dispatchable = f.filed_at.timestamp() if f.filed_at else None
        for e in evs:
            t = e.at.timestamp()
            if t >= hi:  # the period's end: what happened later does not count, nor change who held it then
                break
            now_in = t >= lo
            a = e.action
            actor = (("shift_lead", e.actor),)
            if a == "file":
                filed_by, filed_at = e.actor, t
                since_dispatchable = t
                if now_in:
                    tally.add("filed", (*where, *actor), f.id)
                    timed.append(_Timed("filed_on_time", (*where, *actor), f.id, f.reported_at.timestamp(), t,
                                        calendar.file_s))  # fmt: skip
            elif a == "dispatch":
                holder, dispatcher = str(e.after.get("assignee") or ""), e.actor
                deadline = _ts(e.after.get("deadline_at"))
                if now_in:
                    tally.add("to_dispatch", (*where, ("dispatcher", e.actor)), f.id)
                    if since_dispatchable is not None:
                        timed.append(_Timed("dispatched_on_time", (*where, ("dispatcher", e.actor)), f.id,
                                            since_dispatchable, t, calendar.dispatch_s))  # fmt: skip
            elif a in ("approve_extension", "unpark", "complete_stage") and "deadline_at" in e.after:
                deadline = _ts(e.after.get("deadline_at"))
                paused = False
            elif a == "approve_park":
                paused = True
            elif a == "approve_return":
                if now_in and holder:
                    tally.add("returned", (*where, (_unit_level(holder, squads), holder)), f.id)
                    tally.add("redispatched", (*where, ("dispatcher", dispatcher)), f.id)
                holder, deadline, since_dispatchable = None, None, t
            elif a == "feedback":
                if now_in and holder:
                    unit = (*where, (_unit_level(holder, squads), holder))
                    tally.add("handled", unit, f.id)
                    on_time = deadline is None or t <= deadline
                    tally.add("handled_on_time" if on_time else "handled_late", unit, f.id)
                task_start = t
                last_holder, holder = holder, None
            elif a in ("check_fail", "rework"):
                last = holder or last_holder
                if now_in and last:
                    tally.add("reworked", (*where, (_unit_level(last, squads), last)), f.id)
                holder = last  # back to the unit
            elif a in ("send_verify", "send_check"):
                task_start = t
            if a in ("verify", "verify_fail", "check_pass", "check_fail"):
                kind = "verify" if a.startswith("verify") else "check"
                if now_in:
                    tally.add(f"{kind}_tasks", [("inspector", e.actor)], f.id)
                    if task_start is not None:
                        timed.append(_Timed(f"{'verified' if kind == 'verify' else 'checked'}_on_time",
                                            (("inspector", e.actor),), f.id, task_start, t,
                                            limits[f"{kind}_hours"] * 3600))  # fmt: skip
                if a == "check_pass":
                    checked_at = t
            elif a == "close" and now_in:
                tally.add("closed", (*where, *actor), f.id)
                if f.closed_on_time is not None:
                    tally.add("closed_on_time" if f.closed_on_time else "closed_late", where, f.id)
                if checked_at is not None:
                    timed.append(_Timed("closes_on_time", actor, f.id, checked_at, t,
                                        limits["close_hours"] * 3600))  # fmt: skip
        if filed_by and filed_at is not None and lo <= filed_at < hi and voided:
            tally.add("filed_voided", (*where, ("shift_lead", filed_by)), f.id)
        if holder and deadline is not None and deadline < cut and not paused:
            tally.add("open_overdue", (*where, (_unit_level(holder, squads), holder)), f.id)
    _judge(timed, tally, calendar)
    return tally


def _ts(value: Any) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value)).timestamp()


def _judge(timed: list[_Timed], tally: Tally, calendar: WorkingCalendar) -> None:
    if not timed:
        return
    a = calendar.clip_many(np.array([x.start for x in timed]))
    b = calendar.clip_many(np.array([x.end for x in timed]))
    worked = calendar.between_many(np.minimum(a, b), b)
    for x, w in zip(timed, worked, strict=True):
        if w <= x.limit_s:
            tally.add(x.counter, x.targets, x.case_id)


# -- scoring ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Value:
    indicator: str
    value: float | None  # 0..1 for rates (None: not rated)
    numbers: str  # the formula with the numbers put in


@dataclass(frozen=True)
class Score:
    group: str
    counts: dict[str, int]
    values: dict[str, Value]
    total: float | None  # 0..100, over the rated indicators (their weights scaled up to 100)
    grade: str | None
    rank: int | None


def score(ev: Evaluation, level: str, counts: Mapping[str, Mapping[str, int]]) -> list[Score]:
    """Every group's indicators, composite, grade and rank (best first; unrated last)."""
    scheme = ev.schemes.get(level)
    if scheme is None:
        raise EvaluationError(f"no scheme for level {level!r}; schemes: {', '.join(ev.schemes)}")
    peaks = {c: float(max((g.get(c, 0) for g in counts.values()), default=0)) for c in COUNTERS}
    rows = []
    for group, n in counts.items():
        values = {}
        for key in scheme.weights:
            ind = ev.indicators[key]
            try:
                v: float | None = ind.formula.value(n, peaks)
            except ZeroDivisor:
                v = ind.zero
            values[key] = Value(key, v, ind.formula.with_numbers(n, peaks))
        rated = {k: w for k, w in scheme.weights.items() if values[k].value is not None}
        total = None
        if rated:
            total = sum(w * float(values[k].value or 0) for k, w in rated.items()) * 100 / sum(rated.values())
        rows.append((group, dict(n), values, total))
    rows.sort(key=lambda r: (r[3] is None, -(r[3] or 0), r[0]))
    out, rank = [], 0
    for k, (group, n, values, total) in enumerate(rows):
        rank = k + 1 if total is not None else 0
        out.append(Score(group, n, values, total, ev.grade(total), rank or None))
    return out


def month(period: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """ "2026-11" as [first instant, first instant of the next month), in the city's time zone, as UTC."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", period.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"period {period!r}: expected a month like 2026-11")
    y, mo = int(m.group(1)), int(m.group(2))
    start = datetime(y, mo, 1, tzinfo=tz)
    end = datetime(y + mo // 12, mo % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True)
class Result:
    """A level's scores for a period, with the cases behind every count (for the click-through)."""

    level: str
    start: datetime
    end: datetime
    scores: list[Score]
    tally: Tally

    def cases_of(self, group: str, counter: str) -> list[int]:
        return list(self.tally.cases.get((self.level, group, counter), []))


def evaluate(
    wf: Any, ev: Evaluation, level: str, start: datetime, end: datetime, districts: Sequence[str] | None = None
) -> Result:
    """Scores of every unit of `level` for [start, end), from the store the workflow uses (`wf`: a Workflow)."""
    return evaluate_levels(wf, ev, (level,), start, end, districts)[level]


def evaluate_levels(
    wf: Any,
    ev: Evaluation,
    levels: Sequence[str],
    start: datetime,
    end: datetime,
    districts: Sequence[str] | None = None,
) -> dict[str, Result]:
    """`evaluate` for several levels from one reading of the store and one replay of the log."""
    for level in levels:
        if level not in LEVELS:
            raise EvaluationError(f"unknown level {level!r}; levels: {', '.join(LEVELS)}")
    store = wf.store
    facts = store.case_facts(active_since=start, districts=districts)
    events = store.events_of(active_since=start, districts=districts)
    squads = frozenset(wf.engine.city.layers["squads"]["id"].astype(str))
    inspectors = [u for u in store.list_users() if u.role == "supervisor" and u.active]
    by_district: dict[str, list[str]] = defaultdict(list)
    for u in inspectors:
        for d in u.districts or tuple(wf.engine.city.layers["districts"]["code"].astype(str)):
            by_district[d].append(u.username)
    patrol: dict[str, list[str]] = defaultdict(list)
    for u in inspectors:
        for cell in store.patrol_cells(u.username):
            patrol[cell].append(u.username)
    tally = count(
        facts,
        events,
        start,
        end,
        wf.calendar,
        ev.limits,
        squads,
        {k: tuple(v) for k, v in patrol.items()},
        {k: tuple(v) for k, v in by_district.items()},
        wf.clock(),
    )
    return {lv: Result(lv, start, end, score(ev, lv, tally.counts(lv)), tally) for lv in levels}


def evaluation_file(city_root: Path) -> Path:
    return city_root / "evaluation.toml"
