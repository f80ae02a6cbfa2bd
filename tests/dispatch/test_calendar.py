"""Deadlines on a working calendar: working hours, weekends, a holiday, a make-up day, going back in working time,
and the end of the declared years."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.calendar import WorkingCalendar, parse_allowance
from store.errors import Invalid

CAL_FILE = Path(__file__).resolve().parents[2] / "data" / "xiamen" / "calendar.toml"
CAL = WorkingCalendar.load(CAL_FILE)
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


def test_going_back_in_working_time():
    # Monday 10:30 - 4 working hours: 2 on Monday morning, then back to Friday 16:00
    assert CAL.add(local(2026, 11, 30, 10, 30), -4 * 3600) == local(2026, 11, 27, 16, 0)
    # back over the lunch break, and over National Day (1 to 7 October are holidays)
    assert CAL.add(local(2026, 11, 26, 15, 30), -2 * 3600) == local(2026, 11, 26, 11, 0)
    assert CAL.add(local(2026, 10, 8, 9, 30), -2 * 3600) == local(2026, 9, 30, 17, 0)


def test_a_deadline_past_the_last_declared_year_is_refused():
    # 2027's holidays are not declared: Thursday 31 December 17:00 + 2 working hours would land in 2027
    with pytest.raises(Invalid, match=r"calendar\.toml.*2027"):
        CAL.add(local(2026, 12, 31, 17, 0), 2 * 3600)
    assert CAL.add(local(2026, 12, 31, 17, 0), 3600) == local(2026, 12, 31, 18, 0)  # the last hour still counts
    with pytest.raises(Invalid, match=r"calendar\.toml.*2025"):
        CAL.add(local(2026, 1, 4, 9, 30), -2 * 3600)  # Sunday 4 January was a make-up day; 1 to 3 were not


def test_working_time_at_the_edge_of_the_declared_years():
    end = local(2027, 1, 1, 0, 0)
    assert CAL.between(local(2026, 12, 31, 17, 0), end) == 3600
    assert CAL.between(end, local(2026, 12, 31, 17, 0)) == -3600
    with pytest.raises(Invalid, match=r"calendar\.toml.*2027"):
        CAL.between(local(2026, 12, 31, 17, 0), local(2027, 1, 4, 9, 0))
    with pytest.raises(Invalid, match=r"calendar\.toml.*2027"):
        CAL.is_working_day(end.date())
    import numpy as np

    start = local(2026, 12, 31, 11, 0).timestamp()
    assert list(CAL.between_many(np.array([start, start]), np.array([end.timestamp(), start - 3600]))) == [
        4.5 * 3600,
        -3600,
    ]
    with pytest.raises(Invalid, match=r"calendar\.toml.*2027"):
        CAL.between_many(np.array([start]), np.array([end.timestamp() + 1]))
    # what the declared years cover, for callers that must degrade instead of failing (the board)
    assert list(CAL.covers_many(np.array([start, end.timestamp(), end.timestamp() + 1]))) == [True, True, False]


def _calendar_file(tmp_path, body):
    path = tmp_path / "calendar.toml"
    head = 'timezone = "Asia/Shanghai"\nperiods = ["08:30-12:00"]\nweekend = [6, 7]\n'
    path.write_text(head + '[steps]\nfile = "2h"\ndispatch = "1h"\n' + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "body, message",
    [
        ("", "declares no year"),
        ("[years.2026]\nholidays = []\nworkdays = []\n", "2026.*source"),
        ('[years.2026]\nsource = "x"\nholidays = ["2027-01-01"]\nworkdays = []\n', "2027-01-01.*not in 2026"),
        (
            '[years.2026]\nsource = "x"\nholidays = []\nworkdays = []\n'
            '[years.2028]\nsource = "y"\nholidays = []\nworkdays = []\n',
            "2027 is missing",
        ),
    ],
)
def test_each_year_is_declared_with_its_source(tmp_path, body, message):
    with pytest.raises(Invalid, match=message):
        WorkingCalendar.load(_calendar_file(tmp_path, body))


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(2025, 12, 31, 17), max_value=datetime(2026, 12, 31, 16)),
    st.integers(-200 * 3600, 200 * 3600),
)
def test_add_and_between_are_inverse(start, seconds):
    # forwards and backwards; near either end of the declared years, add refuses exactly when the working time
    # left in them is too short
    s = start.replace(tzinfo=UTC)
    first, last = local(2026, 1, 1, 0, 0), local(2027, 1, 1, 0, 0)
    try:
        end = CAL.add(s, seconds)
    except Invalid:
        assert CAL.between(s, last) < seconds if seconds > 0 else CAL.between(first, s) < -seconds
        return
    assert CAL.between(s, end) == pytest.approx(seconds, abs=1e-6)
    if seconds > 0:
        assert end >= s and CAL.between(s, end - timedelta(seconds=1)) < seconds
    elif seconds < 0:
        assert end <= s and CAL.between(end + timedelta(seconds=1), s) < -seconds


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(20 * 24 * 3600, 340 * 24 * 3600), st.integers(-20 * 24 * 3600, 20 * 24 * 3600)),
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
