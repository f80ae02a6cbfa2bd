"""Deadlines on a working calendar: working hours, weekends, a holiday, a make-up day."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.calendar import WorkingCalendar, parse_allowance
from store.errors import Invalid

CAL = WorkingCalendar.load(Path(__file__).resolve().parents[2] / "data" / "xiamen" / "calendar.toml")
TZ = ZoneInfo("Asia/Shanghai")


def local(*args):
    return datetime(*args, tzinfo=TZ)


def test_day_is_seven_working_hours():
    assert CAL.day_seconds == 7 * 3600
    assert parse_allowance("2d", CAL) == 14 * 3600 and parse_allowance("4h", CAL) == 4 * 3600
    with pytest.raises(Invalid):
        parse_allowance("soon", CAL)


def test_over_a_weekend():
    # Friday 16:00 + 4 working hours: 2 on Friday, 2 on Monday morning
    assert CAL.add(local(2026, 11, 27, 16, 0), 4 * 3600) == local(2026, 11, 30, 10, 30)


def test_lunch_break_does_not_count():
    assert CAL.add(local(2026, 11, 26, 11, 0), 2 * 3600) == local(2026, 11, 26, 15, 30)


def test_over_national_day_holiday():
    # Wed 30 Sep 17:00 + 2 h: 1 h that day, then 1 to 7 October are holidays
    assert CAL.add(local(2026, 9, 30, 17, 0), 2 * 3600) == local(2026, 10, 8, 9, 30)


def test_make_up_working_day_counts():
    # Friday 13 February 17:00 + 2 h: Saturday 14 February is a make-up working day
    assert CAL.add(local(2026, 2, 13, 17, 0), 2 * 3600) == local(2026, 2, 14, 9, 30)
    assert CAL.is_working_day(local(2026, 2, 14, 0, 0).date())
    assert not CAL.is_working_day(local(2026, 2, 16, 0, 0).date())


def test_start_outside_working_hours():
    assert CAL.add(local(2026, 11, 26, 20, 0), 3600) == local(2026, 11, 27, 9, 30)
    assert CAL.between(local(2026, 11, 28, 9, 0), local(2026, 11, 28, 17, 0)) == 0  # a Saturday


def test_naive_times_are_refused():
    with pytest.raises(Invalid, match="time zone"):
        CAL.add(datetime(2026, 11, 26, 9, 0), 60)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1)), st.integers(1, 200 * 3600))
def test_add_and_between_are_inverse(start, seconds):
    s = start.replace(tzinfo=UTC)
    end = CAL.add(s, seconds)
    assert CAL.between(s, end) == pytest.approx(seconds, abs=1e-6)
    assert end >= s and CAL.between(s, end - timedelta(seconds=1)) < seconds


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 120 * 24 * 3600), st.integers(-20 * 24 * 3600, 20 * 24 * 3600)),
        min_size=1,
        max_size=30,
    )
)
def test_between_many_is_between(pairs):
    # the vectorised form (a cumulative sum over periods) answers exactly as the loop does, either direction,
    # across weekends, the Spring Festival and National Day, and at period edges
    import numpy as np

    origin = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    starts = np.array([origin + s for s, _ in pairs], dtype=float)
    ends = starts + np.array([d for _, d in pairs], dtype=float)
    got = CAL.between_many(starts, ends)
    want = [
        CAL.between(datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC))
        for a, b in zip(starts, ends, strict=True)
    ]
    assert np.allclose(got, want, atol=1e-6)
