"""Working days on the State Council's holiday calendar (``minzheng.core.workdays``).

Dates worked out by hand from the 2026 arrangement (国办发明电〔2025〕7号):
  元旦 01-01 … 01-03 off, 01-04 (Sun) worked;
  春节 02-15 … 02-23 off, 02-14 (Sat) and 02-28 (Sat) worked;
  中秋节 09-25 … 09-27 off;
  国庆节 10-01 … 10-07 off, 09-20 (Sun) and 10-10 (Sat) worked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from minzheng.core import workdays
from minzheng.core.workdays import add_working_days, is_working_day, working_days_between


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 9, 30), True),  # Wednesday before the holiday
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 7), False),  # last day off
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, make-up working day
        (date(2026, 10, 11), False),  # ordinary Sunday
        (date(2026, 9, 20), True),  # Sunday, make-up working day
        (date(2026, 9, 25), False),  # Mid-Autumn, a Friday
        (date(2026, 2, 14), True),  # Saturday before the Spring Festival, worked
        (date(2026, 2, 23), False),  # a Monday, last day of the Spring Festival
        (date(2026, 1, 4), True),  # Sunday after New Year, worked
        (date(2026, 11, 21), False),  # ordinary Saturday
        (date(2026, 11, 23), True),  # ordinary Monday
    ],
)
def test_the_2026_calendar(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2026, 9, 30), 0, date(2026, 9, 30)),
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # over the whole National Day holiday
        (date(2026, 9, 30), 3, date(2026, 10, 10)),  # 10-08, 10-09, make-up Saturday 10-10
        (date(2026, 9, 30), 4, date(2026, 10, 12)),  # Sunday 10-11 is off
        (date(2026, 9, 30), 10, date(2026, 10, 20)),
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # Friday → the make-up Sunday
        (date(2026, 9, 24), 1, date(2026, 9, 28)),  # over Mid-Autumn 09-25..27
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Friday → make-up Saturday
        (date(2026, 2, 14), 1, date(2026, 2, 24)),  # over the Spring Festival
        (date(2026, 11, 20), 1, date(2026, 11, 23)),  # Friday → Monday
        (date(2026, 11, 21), 1, date(2026, 11, 23)),  # from a Saturday: the start never counts
        (date(2026, 10, 3), 1, date(2026, 10, 8)),  # from inside the holiday
    ],
)
def test_add_working_days(start: date, days: int, due: date) -> None:
    assert add_working_days(start, days) == due


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 9, 30), -1)


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (date(2026, 11, 20), date(2026, 11, 23), 1),  # Friday → Monday
        (date(2026, 11, 23), date(2026, 11, 23), 0),
        (date(2026, 9, 30), date(2026, 10, 10), 3),
        (date(2026, 10, 10), date(2026, 9, 30), -3),  # earlier end: negative
        # October 2026: 31 days − 7 holiday − 6 weekend days off (10-11, 17, 18, 24, 25, 31)
        (date(2026, 9, 30), date(2026, 10, 31), 18),
        # November 2026 has no holiday: 30 days − 9 weekend days
        (date(2026, 10, 31), date(2026, 11, 30), 21),
    ],
)
def test_working_days_between(start: date, end: date, count: int) -> None:
    assert working_days_between(start, end) == count


@pytest.mark.parametrize("days", [0, 1, 3, 10, 25])
def test_between_undoes_add(days: int) -> None:
    for start in (date(2026, 9, 18), date(2026, 9, 30), date(2026, 2, 10), date(2026, 12, 25)):
        assert working_days_between(start, add_working_days(start, days)) == days


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    workdays.is_working_day.cache_clear()
    workdays._warn_unknown_year.cache_clear()
    yield
    workdays.is_working_day.cache_clear()
    workdays._warn_unknown_year.cache_clear()


def test_a_year_beyond_the_calendar_counts_monday_to_friday(
    fresh_caches: None, caplog: pytest.LogCaptureFixture
) -> None:
    # 2099 is far beyond any published arrangement: weekdays work, weekends do not,
    # whatever the holidays will be (2099-01-01 is a Thursday, surely a holiday then)
    caplog.set_level(logging.WARNING, logger="minzheng.workdays")
    assert is_working_day(date(2099, 1, 1)) is True
    assert is_working_day(date(2099, 1, 3)) is False  # Saturday
    assert add_working_days(date(2099, 1, 2), 1) == date(2099, 1, 5)  # Friday → Monday
    week = [date(2099, 3, 2) + timedelta(days=i) for i in range(14)]
    assert [is_working_day(d) for d in week] == [True] * 5 + [False] * 2 + [True] * 5 + [False] * 2
    assert working_days_between(date(2099, 3, 1), date(2099, 3, 31)) == 22
    # the fallback is announced once per year, not once per date
    warnings = [r for r in caplog.records if "2099" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
