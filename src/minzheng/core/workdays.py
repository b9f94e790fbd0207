"""Working days (工作日) on the State Council's holiday calendar.

Deadlines of the application workflow are counted in working days: weekends and
public holidays do not count, make-up working days (调休上班, a Saturday or Sunday)
do. The calendar comes from the ``chinesecalendar`` package, which carries each
year's official arrangement; it is updated once a year when the State Council
publishes the next one (usually in November). For a year it does not know yet,
Monday to Friday count as working days and a warning is logged once per year.

>>> from datetime import date
>>> add_working_days(date(2026, 9, 30), 1)  # National Day holiday 10-01 … 10-07
datetime.date(2026, 10, 8)
>>> working_days_between(date(2026, 11, 20), date(2026, 11, 23))  # Fri → Mon
1
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

log = logging.getLogger("minzheng.workdays")


@lru_cache(maxsize=8)
def _warn_unknown_year(year: int) -> None:
    log.warning(
        "no official holiday calendar for %s: counting Monday-Friday as working days; "
        "upgrade chinesecalendar once the State Council publishes it",
        year,
    )


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_unknown_year(day.year)
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself does not count)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            left -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if ``end`` is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
