"""Months as the ledger counts them: a period is the first day of its month."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from minzheng.core.errors import FieldError


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    """``add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)`` (the day is dropped)."""
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def months_between(lo: date, hi: date) -> int:
    """How many months from ``lo`` to ``hi`` (0 for the same month)."""
    return (hi.year - lo.year) * 12 + hi.month - lo.month


def month_range(lo: date, hi: date) -> Iterator[date]:
    """Every month from ``lo`` to ``hi``, both included."""
    m = month_of(lo)
    while m <= hi:
        yield m
        m = add_months(m, 1)


def parse_month(raw: object, field: str, code: str = "period.invalid") -> date:
    """``"2026-11"`` (or ``"2026-11-01"``) → ``date(2026, 11, 1)``; else a 422 naming ``field``."""
    text = str(raw or "").strip()
    try:
        if len(text) == 7:
            return date.fromisoformat(text + "-01")
        parsed = date.fromisoformat(text)
    except ValueError:
        raise FieldError(field, code, f"月份格式应为 YYYY-MM：{text[:20]!r}") from None
    if parsed.day != 1:
        raise FieldError(field, code, "月份应写成 YYYY-MM（或该月1日）")
    return parsed
