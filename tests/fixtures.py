from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import token_create, user_create
from minzheng.demo.services import demo_divisions
from minzheng.registry.documents import validate_document
from minzheng.registry.models import Household
from minzheng.registry.services import households_create

COMMUNITY_A = "110102009001"  # 展览路街道, the worker's community
STREET_A = "110102009"
COMMUNITY_B = "110102001001"  # 西长安街街道: another street of Xicheng
DONGCHENG = "110101"  # another district


def _id(stem17: str) -> str:
    from minzheng.core.ids import check_char

    return stem17 + check_char(stem17)


def member(stem17: str, name: str, relation: str = "head", **extra: Any) -> dict[str, Any]:
    return {"id_number": _id(stem17), "name": name, "relation": relation, **extra}


def household_doc(division: str, members: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"division": division, "hukou": "beijing", "members": members, **extra}


@pytest.fixture
def divisions(db: None) -> None:
    demo_divisions(0)


@pytest.fixture
def make_household(divisions: None) -> Callable[..., Household]:
    counter = {"n": 0}

    def make(division: str, name: str = "王芳", **extra: Any) -> Household:
        counter["n"] += 1
        stem = f"110102198001{counter['n']:02d}{100 + counter['n']:03d}"[:17]
        doc = validate_document(household_doc(division, [member(stem, name)], **extra))
        (household,) = households_create(actor=None, documents=[doc], reason="测试数据")
        return household

    return make


@dataclass
class Cast:
    """Three households and one user per role, each user scoped as the matrix needs."""

    own: Household  # in community A: the resident's own, in scope of every staff reader
    other_street: Household  # in community B: in the district, outside street A
    other_district: Household  # in Dongcheng: outside every Xicheng user
    users: dict[str, User]

    def client(self, role: str) -> Client:
        client = Client()
        client.force_login(self.users[role])
        return client

    def api(self, role: str) -> Client:
        token = token_create(username=self.users[role].username)
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def cast(make_household: Callable[..., Household]) -> Cast:
    own = make_household(COMMUNITY_A, "张三")
    other_street = make_household(COMMUNITY_B, "李四")
    other_district = make_household(DONGCHENG, "赵五")
    where = {
        Role.COMMUNITY_WORKER: COMMUNITY_A,
        Role.STREET_REVIEWER: STREET_A,
        Role.DISTRICT_APPROVER: "110102",
        Role.DEPARTMENT_LIAISON: "110102",
        Role.SERVICE_PROVIDER: "110102",
        Role.AUDITOR: "110102",
        Role.ADMIN: "110102",
    }
    users = {
        str(role): user_create(
            username=f"u_{role}",
            role=role,
            division_code=code,
            password="pw-123456",
            department="human_resources" if role == Role.DEPARTMENT_LIAISON else "",
        )
        for role, code in where.items()
    }
    users[Role.RESIDENT] = user_create(
        username="u_resident",
        role=Role.RESIDENT,
        division_code=None,
        household=own,
        password="pw-123456",
    )
    return Cast(own, other_street, other_district, users)


def pensioner(pension: str, stem17: str, division: str = COMMUNITY_A) -> Household:
    """A one-person household with Beijing hukou, one house and a monthly pension."""
    doc = validate_document(
        {
            "division": division,
            "hukou": "beijing",
            "members": [member(stem17, "老人", incomes=[{"type": "pension", "monthly": pension}])],
            "assets": {"houses": 1},
        }
    )
    (household,) = households_create(actor=None, documents=[doc], reason="测试数据")
    return household
