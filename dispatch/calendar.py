"""A working calendar: working hours, weekends, public holidays and make-up working days, as data."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from store.errors import Invalid

MAX_DAYS = 3660  # a deadline further than ten years away is a configuration error


@dataclass(frozen=True)
class WorkingCalendar:
    tz: ZoneInfo
    periods: tuple[tuple[time, time], ...]
    weekend: frozenset[int]  # ISO weekdays
    holidays: frozenset[date]
    workdays: frozenset[date]  # make-up working days on a weekend

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
            return cls(
                tz=ZoneInfo(raw["timezone"]),
                periods=tuple(sorted(periods)),
                weekend=frozenset(int(d) for d in raw["weekend"]),
                holidays=frozenset(date.fromisoformat(d) for d in raw["holidays"]),
                workdays=frozenset(date.fromisoformat(d) for d in raw["workdays"]),
            )
        except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as exc:
            raise Invalid(f"{path}: bad working calendar: {exc}") from None

    @property
    def day_seconds(self) -> float:
        return sum(
            (datetime.combine(date.min, b) - datetime.combine(date.min, a)).total_seconds() for a, b in self.periods
        )

    def is_working_day(self, d: date) -> bool:
        return d in self.workdays or (d.isoweekday() not in self.weekend and d not in self.holidays)

    def _periods_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working periods (aware, local) from the day of `start` on, for at most MAX_DAYS days."""
        day = start.astimezone(self.tz).date()
        for _ in range(MAX_DAYS):
            if self.is_working_day(day):
                for a, b in self.periods:
                    yield datetime.combine(day, a, self.tz), datetime.combine(day, b, self.tz)
            day += timedelta(days=1)

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant when `seconds` of working time have passed after `start` (UTC)."""
        if start.tzinfo is None:
            raise Invalid("times must carry a time zone")
        left = float(seconds)
        for a, b in self._periods_from(start):
            if b <= start:
                continue
            begin = max(a, start)
            span = (b - begin).total_seconds()
            if left <= span:
                return (begin + timedelta(seconds=left)).astimezone(UTC)
            left -= span
        raise Invalid(f"no working time for {seconds / 3600:.1f} h after {start:%Y-%m-%d} within {MAX_DAYS} days")

    def between(self, start: datetime, end: datetime) -> float:
        """Working seconds between two instants (negative if end is before start)."""
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

    def between_many(self, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
        """`between` for arrays of POSIX seconds, at once: working time is a cumulative sum over the periods
        that span the inputs, so each answer is a difference of two look-ups (exact; same as `between`)."""
        start_s, end_s = np.asarray(start_s, dtype=float), np.asarray(end_s, dtype=float)
        if not start_s.size:
            return np.zeros(0)
        lo = float(min(start_s.min(), end_s.min()))
        hi = float(max(start_s.max(), end_s.max()))
        a_list, b_list = [], []
        for a, b in self._periods_from(datetime.fromtimestamp(lo, UTC) - timedelta(days=1)):
            a_list.append(a.timestamp())
            b_list.append(b.timestamp())
            if a_list[-1] > hi:
                break
        a_arr, b_arr = np.array(a_list), np.array(b_list)
        before = np.concatenate([[0.0], np.cumsum(b_arr - a_arr)])  # working seconds before each period

        def worked(t: np.ndarray) -> np.ndarray:
            i = np.searchsorted(a_arr, t, side="right") - 1
            j = np.maximum(i, 0)
            inside = np.clip(t - a_arr[j], 0.0, b_arr[j] - a_arr[j])
            return np.where(i >= 0, before[j] + inside, 0.0)

        left: np.ndarray = worked(end_s) - worked(start_s)
        return left


def parse_allowance(text: str, calendar: WorkingCalendar) -> float:
    """'4h' -> 4 working hours, '2d' -> 2 working days, in working seconds."""
    try:
        value, unit = float(text[:-1]), text[-1]
    except (ValueError, IndexError):
        raise Invalid(f"bad deadline {text!r}: use working hours like 4h or working days like 2d") from None
    if unit == "h":
        return value * 3600
    if unit == "d":
        return value * calendar.day_seconds
    raise Invalid(f"bad deadline {text!r}: use working hours like 4h or working days like 2d")
