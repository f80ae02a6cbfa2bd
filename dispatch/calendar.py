"""A working calendar: working hours, weekends, public holidays and make-up working days, as data.

Holidays and make-up days are declared year by year, each year with its source. Working time is known only
inside the declared years: asking for any beyond them raises OutsideCalendar, which names the file to extend
and the year, instead of treating the next Spring Festival as working days.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from store.errors import Invalid

STEPS = ("file", "dispatch")  # the steps before dispatch that have their own time limits ([steps])


class OutsideCalendar(Invalid):
    """Working time asked for in a year the calendar does not declare."""

    def __init__(self, path: Path, year: int, first: int, last: int) -> None:
        self.path, self.year = path, year
        declared = f"{first} only" if first == last else f"{first} to {last}"
        super().__init__(
            f"working time in {year} is not known: the working calendar {path} declares {declared}; "
            f"add [years.{year}] with that year's public holidays, make-up working days and their source",
            code="calendar.outside",
            year=year,
            file=path.name,
        )


@dataclass(frozen=True)
class WorkingCalendar:
    tz: ZoneInfo
    periods: tuple[tuple[time, time], ...]
    weekend: frozenset[int]  # ISO weekdays
    holidays: frozenset[date]
    workdays: frozenset[date]  # make-up working days on a weekend
    first_year: int  # the declared years, without gaps
    last_year: int
    path: Path  # named in errors: the file to extend
    file_s: float  # 立案时限: working seconds from the report to filing
    dispatch_s: float  # 派遣时限: working seconds from filing to dispatch

    @classmethod
    def load(cls, path: Path) -> WorkingCalendar:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
            periods = []
            for p in raw["periods"]:
                a, b = p.split("-")
                start, end = time.fromisoformat(a), time.fromisoformat(b)
                if end <= start:
                    raise ValueError(f"period {p} ends before it starts")
                periods.append((start, end))
            first, last, holidays, workdays = _years(raw.get("years", {}))
            day_s = _day_seconds(periods)
            steps = {name: parse_day_allowance(raw["steps"][name], day_s) for name in STEPS}
            return cls(
                tz=ZoneInfo(raw["timezone"]),
                periods=tuple(sorted(periods)),
                weekend=frozenset(int(d) for d in raw["weekend"]),
                holidays=holidays,
                workdays=workdays,
                first_year=first,
                last_year=last,
                path=path,
                file_s=steps["file"],
                dispatch_s=steps["dispatch"],
            )
        except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as exc:
            raise Invalid(f"{path}: bad working calendar: {exc}") from None

    @property
    def day_seconds(self) -> float:
        return _day_seconds(self.periods)

    @property
    def start(self) -> datetime:
        """The first instant the calendar knows (local midnight opening its first year)."""
        return datetime(self.first_year, 1, 1, tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        """The instant after its last year."""
        return datetime(self.last_year + 1, 1, 1, tzinfo=self.tz)

    def _outside(self, year: int) -> OutsideCalendar:
        return OutsideCalendar(self.path, year, self.first_year, self.last_year)

    def _require(self, *times: datetime) -> None:
        for t in times:
            if t.tzinfo is None:
                raise Invalid("times must carry a time zone")
            if t < self.start:
                raise self._outside(self.first_year - 1)
            if t > self.end:
                raise self._outside(t.astimezone(self.tz).year)

    def is_working_day(self, d: date) -> bool:
        if not self.first_year <= d.year <= self.last_year:
            raise self._outside(d.year)
        return d in self.workdays or (d.isoweekday() not in self.weekend and d not in self.holidays)

    def _days(self, first: date, step: int) -> Iterator[date]:
        """Days from `first` (inclusive) to the end (step 1) or the start (step -1) of the declared years."""
        lo, hi = date(self.first_year, 1, 1), date(self.last_year, 12, 31)
        day = min(max(first, lo), hi)
        while lo <= day <= hi:
            yield day
            day += timedelta(days=step)

    def _periods_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working periods (aware, local) from the day of `start` to the end of the declared years."""
        for day in self._days(start.astimezone(self.tz).date(), 1):
            if self.is_working_day(day):
                for a, b in self.periods:
                    yield datetime.combine(day, a, self.tz), datetime.combine(day, b, self.tz)

    def _periods_back(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working periods from the day of `start` back to the start of the declared years, latest first."""
        for day in self._days(start.astimezone(self.tz).date(), -1):
            if self.is_working_day(day):
                for a, b in reversed(self.periods):
                    yield datetime.combine(day, a, self.tz), datetime.combine(day, b, self.tz)

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant when `seconds` of working time have passed after `start` (before it if negative), UTC."""
        self._require(start)
        left = float(seconds)
        if left < 0:
            for a, b in self._periods_back(start):
                if a >= start:
                    continue
                end = min(b, start)
                span = (end - a).total_seconds()
                if -left <= span:
                    return (end + timedelta(seconds=left)).astimezone(UTC)
                left += span
            raise self._outside(self.first_year - 1)
        for a, b in self._periods_from(start):
            if b <= start:
                continue
            begin = max(a, start)
            span = (b - begin).total_seconds()
            if left <= span:
                return (begin + timedelta(seconds=left)).astimezone(UTC)
            left -= span
        raise self._outside(self.last_year + 1)

    def between(self, start: datetime, end: datetime) -> float:
        """Working seconds between two instants (negative if end is before start)."""
        self._require(start, end)
        if end < start:
            return -self.between(end, start)
        total = 0.0
        for a, b in self._periods_from(start):
            if a >= end:
                break
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        return total

    def covers_many(self, t_s: np.ndarray) -> np.ndarray:
        """Which POSIX seconds lie inside the declared years (NaN does not)."""
        t_s = np.asarray(t_s, dtype=float)
        with np.errstate(invalid="ignore"):
            covered: np.ndarray = (t_s >= self.start.timestamp()) & (t_s <= self.end.timestamp())
        return covered

    def clip_many(self, t_s: np.ndarray) -> np.ndarray:
        """POSIX seconds moved into the declared years (to their start or end)."""
        clipped: np.ndarray = np.clip(np.asarray(t_s, dtype=float), self.start.timestamp(), self.end.timestamp())
        return clipped

    def between_many(self, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
        """`between` for arrays of POSIX seconds, at once: working time is a cumulative sum over the periods
        that span the inputs, so each answer is a difference of two look-ups (exact; same as `between`)."""
        start_s, end_s = np.asarray(start_s, dtype=float), np.asarray(end_s, dtype=float)
        if not start_s.size:
            return np.zeros(0)
        every = np.concatenate([start_s, end_s])
        bad = every[~self.covers_many(every)]
        if bad.size:
            if np.isnan(bad[0]):
                raise Invalid("working time between instants that are not known (NaN)")
            self._require(datetime.fromtimestamp(float(bad[0]), UTC))  # raises, naming the year
        lo = float(min(start_s.min(), end_s.min()))
        hi = float(max(start_s.max(), end_s.max()))
        a_list, b_list = [], []
        for a, b in self._periods_from(datetime.fromtimestamp(lo, UTC) - timedelta(days=1)):
            a_list.append(a.timestamp())
            b_list.append(b.timestamp())
            if a_list[-1] > hi:
                break
        a_arr, b_arr = np.array(a_list), np.array(b_list)
        if not a_arr.size:  # no working period at all: no working time
            return np.zeros(start_s.shape)
        before = np.concatenate([[0.0], np.cumsum(b_arr - a_arr)])  # working seconds before each period

        def worked(t: np.ndarray) -> np.ndarray:
            i = np.searchsorted(a_arr, t, side="right") - 1
            j = np.maximum(i, 0)
            inside = np.clip(t - a_arr[j], 0.0, b_arr[j] - a_arr[j])
            return np.where(i >= 0, before[j] + inside, 0.0)

        left: np.ndarray = worked(end_s) - worked(start_s)
        return left


def _day_seconds(periods: list[tuple[time, time]] | tuple[tuple[time, time], ...]) -> float:
    return sum((datetime.combine(date.min, b) - datetime.combine(date.min, a)).total_seconds() for a, b in periods)


def _years(years: dict[str, Any]) -> tuple[int, int, frozenset[date], frozenset[date]]:
    """The declared years ([years.YYYY] tables: source, holidays, workdays): first, last, holidays, workdays."""
    if not years:
        raise ValueError("it declares no year: add [years.YYYY] with source, holidays and workdays")
    numbers = sorted(int(y) for y in years)
    gaps = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
    if gaps:
        raise ValueError(f"{gaps[0]} is missing between {numbers[0]} and {numbers[-1]}: declare every year")
    holidays: set[date] = set()
    workdays: set[date] = set()
    for name, year in years.items():
        if not str(year.get("source", "")).strip():
            raise ValueError(f"[years.{name}] needs a source (the notice its holidays come from)")
        for key, found in (("holidays", holidays), ("workdays", workdays)):
            for text in year[key]:
                d = date.fromisoformat(text)
                if d.year != int(name):
                    raise ValueError(f"{key} {text} of [years.{name}] is not in {name}")
                found.add(d)
    return numbers[0], numbers[-1], frozenset(holidays), frozenset(workdays)


def parse_day_allowance(text: str, day_seconds: float) -> float:
    """'4h' -> 4 working hours, '2d' -> 2 working days (of `day_seconds`), in working seconds."""
    try:
        value, unit = float(text[:-1]), text[-1]
    except (ValueError, IndexError, TypeError):
        raise Invalid(f"bad deadline {text!r}: use working hours like 4h or working days like 2d") from None
    if unit == "h":
        return value * 3600
    if unit == "d":
        return value * day_seconds
    raise Invalid(f"bad deadline {text!r}: use working hours like 4h or working days like 2d")


def parse_allowance(text: str, calendar: WorkingCalendar) -> float:
    """'4h' -> 4 working hours, '2d' -> 2 working days, in working seconds."""
    return parse_day_allowance(text, calendar.day_seconds)
