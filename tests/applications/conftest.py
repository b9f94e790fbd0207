from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from minzheng.accounts.roles import Role
from minzheng.accounts.services import token_create, user_create
from minzheng.applications import clock
from minzheng.registry.models import Household
from tests.fixtures import COMMUNITY_A, Cast, pensioner


class Clock:
    """Moves the workflow's today (a notice runs seven calendar days)."""

    def __init__(self, start: date) -> None:
        self.day = start

    def __call__(self) -> date:
        return self.day

    def advance(self, days: int) -> None:
        self.day += timedelta(days=days)


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock(date(2026, 11, 23))  # a Monday
    monkeypatch.setattr(clock, "today", fake)
    yield fake


@pytest.fixture
def poor(cast: Cast) -> Household:
    """A pensioner with 800 yuan a month in community A: eligible for dibao (1,450.00)."""
    return pensioner("800.00", "11010219500101123")


@pytest.fixture
def api(cast: Cast) -> Callable[[str], Client]:
    clients: dict[str, Client] = {}

    def get(role: str) -> Client:
        if role not in clients:
            clients[role] = cast.api(role)
        return clients[role]

    return get


@pytest.fixture
def liaison(cast: Cast) -> Client:
    """A liaison of the medical security bureau in the district (owns medical assistance)."""
    user_create(username="u_medical", role=Role.DEPARTMENT_LIAISON, division_code="110102",
                password="pw-123456", department="medical_security")  # fmt: skip
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(username='u_medical')}")


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    import json

    return client.post(path, data=json.dumps(body), content_type="application/json")


__all__ = ["COMMUNITY_A", "Clock", "post"]
