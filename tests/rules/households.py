"""Random valid household documents for the property and backend tests.

One builder, two sources of choices: Hypothesis (``draw``, shrinkable, for small lists)
and :class:`random.Random` (for a district of hundreds of households per example, which
would not fit Hypothesis' choice buffer). Amounts mix plain random fen with the values
where the policy turns (80 %, 100 % and 180 % of the dibao standard, the minimum wage,
asset limits) and birth dates mix random days with birthdays that fall on the as-of day
or the day after it at the ages the programmes test, and 29 February.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from hypothesis import strategies as st

from minzheng.rules.frames import DISABILITY_KINDS, INCOME_TYPES, STATUSES
from minzheng.rules.parameters import load_parameters

T = TypeVar("T")
AS_OF_DAYS: tuple[date, ...] = (
    date(2023, 9, 1),
    date(2024, 2, 29),
    date(2024, 6, 30),
    date(2024, 7, 1),
    date(2024, 10, 1),
    date(2025, 6, 30),
    date(2025, 7, 1),
    date(2026, 3, 1),
)
TURNING_AGES = (15, 16, 17, 18, 59, 60, 64, 65, 79, 80, 89, 90, 99, 100)
LEAP_BIRTHS = (date(1936, 2, 29), date(1944, 2, 29), date(1960, 2, 29), date(2008, 2, 29))
SCHOOLING = ("none", "preschool", "primary", "junior", "senior", "college", "postgraduate")
EARLIEST = date(1920, 1, 1)
LATEST = date(2024, 12, 31)
PARAMS = load_parameters()


class Chooser(Protocol):
    def integer(self, lo: int, hi: int) -> int: ...

    def choice(self, options: Sequence[T]) -> T: ...

    def chance(self, percent: int) -> bool: ...


class RandomChooser:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def chance(self, percent: int) -> bool:
        return self.rng.randrange(100) < percent


class DrawChooser:
    """Choices from a Hypothesis ``draw``; everything shrinks towards the first option,
    the low end of a range and "no"."""

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        return int(self.draw(st.integers(lo, hi)))

    def choice(self, options: Sequence[T]) -> T:
        return options[self.draw(st.integers(0, len(options) - 1))]

    def chance(self, percent: int) -> bool:
        return bool(self.draw(st.integers(0, 99)) >= 100 - percent)


def _yuan(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):.2f}"


def _fen(c: Chooser, hi_yuan: int) -> Decimal:
    return Decimal(c.integer(0, hi_yuan * 100)) / 100


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return date(day.year - years, 2, 28)


def _birth_date(c: Chooser, as_of: date) -> date:
    latest = min(LATEST, as_of)
    kind = c.choice(("random", "turning", "leap"))
    if kind == "turning":
        born = _years_before(as_of, c.choice(TURNING_AGES))
        # the birthday today, or tomorrow (still a year younger today)
        return born + timedelta(days=c.choice((0, 1)))
    if kind == "leap":
        born = c.choice(LEAP_BIRTHS)
        return born if born <= latest else LEAP_BIRTHS[0]
    return EARLIEST + timedelta(days=c.integer(0, (latest - EARLIEST).days))


def _amount(c: Chooser, as_of: date) -> Decimal:
    standard = Decimal(PARAMS.value("dibao.standard", as_of))
    wage = Decimal(PARAMS.value("general.minimum_wage", as_of))
    special = (
        Decimal(0),
        standard * Decimal("0.8"),
        standard - Decimal("0.01"),
        standard,
        standard * Decimal("1.8") - Decimal("0.01"),
        standard * Decimal("1.8"),
        wage - Decimal("0.01"),
        wage,
        Decimal("1000.00"),
        Decimal("3000.00"),
    )
    if c.chance(40):
        return c.choice(special)
    return _fen(c, c.choice((500, 2000, 6000)))


def _assets(c: Chooser, as_of: date, members: int) -> dict[str, Any]:
    standard = Decimal(PARAMS.value("dibao.standard", as_of))
    wage = Decimal(PARAMS.value("general.minimum_wage", as_of))
    limits = (24 * standard * members, 24 * wage * members)
    if c.chance(25):
        deposits = c.choice(limits) - c.choice((Decimal(0), Decimal("0.01")))
    elif c.chance(50):
        deposits = _fen(c, 80000 * members)
    else:
        deposits = Decimal(0)
    securities = _fen(c, 20000) if c.chance(15) else Decimal(0)
    return {
        "deposits": _yuan(deposits),
        "securities": _yuan(securities),
        "vehicles": c.choice((0, 0, 0, 0, 1, 2)),
        "houses": c.choice((1, 0, 1, 2)),
        "business": c.chance(8),
    }


def _member(c: Chooser, as_of: date, position: int) -> dict[str, Any]:
    incomes = []
    used: set[str] = set()
    for _ in range(c.choice((0, 1, 1, 2, 3))):
        kind = c.choice(INCOME_TYPES)
        if kind not in used:  # one current line per type, as the registry requires
            used.add(kind)
            incomes.append({"type": kind, "monthly": _yuan(_amount(c, as_of))})
    statuses = [s for s in STATUSES if c.chance(25 if s == "no_supporter" else 10)]
    member: dict[str, Any] = {
        "id": f"M{position}",
        "relation": "head" if position == 1 else c.choice(("spouse", "child", "parent")),
        "birth_date": _birth_date(c, as_of).isoformat(),
        "incomes": incomes,
        "statuses": statuses,
    }
    if c.chance(30):
        member["disability"] = {"kind": c.choice(DISABILITY_KINDS), "grade": c.integer(1, 4)}
    if c.chance(20):
        member["schooling"] = c.choice(SCHOOLING)
    return member


def build_household(c: Chooser, key: str, as_of: date) -> dict[str, Any]:
    size = c.integer(1, 6)
    doc: dict[str, Any] = {
        "id": key,
        "division": "110102",
        "hukou": "other" if c.chance(12) else "beijing",
        "members": [_member(c, as_of, i) for i in range(1, size + 1)],
        "assets": _assets(c, as_of, size),
        "expenses": {
            "medical_monthly": _yuan(_fen(c, 30000) if c.chance(20) else Decimal(0)),
            "education_monthly": _yuan(_fen(c, 5000) if c.chance(15) else Decimal(0)),
        },
    }
    bills = []
    for _ in range(c.choice((0, 0, 1, 2, 3))):
        total = _fen(c, c.choice((5000, 60000, 400000)))
        paid = (total * c.integer(0, 100) / 100).quantize(Decimal("0.01"))
        bills.append(
            {
                "kind": c.choice(("outpatient", "inpatient")),
                "total": _yuan(total),
                "insurance_paid": _yuan(min(paid, total)),
            }
        )
    if bills:
        doc["medical_bills"] = bills
    return doc


def random_households(
    seed: int, count: int, as_of: date, prefix: str = "R"
) -> list[dict[str, Any]]:
    chooser = RandomChooser(random.Random(seed))
    return [build_household(chooser, f"{prefix}{i:04d}", as_of) for i in range(count)]


@st.composite
def household_lists(draw: Callable[[Any], Any], as_of: date, max_size: int) -> list[dict[str, Any]]:
    chooser = DrawChooser(draw)
    size = chooser.integer(1, max_size)
    return [build_household(chooser, f"H{i:03d}", as_of) for i in range(size)]
