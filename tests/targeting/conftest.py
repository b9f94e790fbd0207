"""Households with known poverty indices beside the cast, as of 2025-07-01 (dibao standard
1,450; weights income 0.35, assets 0.15, expenses 0.15, health 0.15, dependants 0.10,
housing 0.10). The cast's households (one member of 45, no income, no savings, no
house) score 35 + 15 + 10 = 60.00."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest

from minzheng.accounts.roles import Role
from minzheng.accounts.services import user_create
from minzheng.applications import services as applications
from minzheng.applications.models import Application
from minzheng.registry.models import Household
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, Cast, pensioner

AS_OF = date(2025, 7, 1)
STREET_B = "110102001"


@dataclass
class Town:
    cast: Cast
    poorest: Household  # community A: 60 + 15 (medical costs) = 75.00
    old: Household  # community A: pension 1,000 at 95, a house: 35.86
    comfortable: Household  # community A: pension 1,500 at 75, a house: 25.00
    comfortable_b: Household  # community B: the same, 25.00


@pytest.fixture
def town(cast: Cast, make_household: Callable[..., Household]) -> Town:
    poorest = make_household(COMMUNITY_A, "钱六", expenses={"medical_monthly": "1000.00"})
    return Town(
        cast=cast,
        poorest=poorest,
        old=pensioner("1000.00", "11010219300101001"),
        comfortable=pensioner("1500.00", "11010219500101003"),
        comfortable_b=pensioner("1500.00", "11010219500101004", COMMUNITY_B),
    )


@pytest.fixture
def apply_for(cast: Cast) -> Callable[[Household], Application]:
    """Open a dibao application for a household (by a worker of its community)."""
    workers = {COMMUNITY_A: cast.users[Role.COMMUNITY_WORKER]}

    def apply(household: Household) -> Application:
        code = household.division.code
        if code not in workers:
            workers[code] = user_create(username=f"u_worker_{code}", role=Role.COMMUNITY_WORKER,
                                        division_code=code, password="pw-123456")  # fmt: skip
        return applications.application_create(
            actor=workers[code], programmes=["dibao"], household_id=household.pk,
            include_suggested=False,
        )  # fmt: skip

    return apply
