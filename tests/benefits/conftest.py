"""Shared pieces of the ledger's tests: a second district approver (four eyes), entitlements
made directly, bank accounts with valid check digits, and bank return files."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from minzheng.accounts.roles import Role
from minzheng.accounts.services import token_create, user_create
from minzheng.applications import clock
from minzheng.benefits import api as benefits_api
from minzheng.benefits.banks import luhn_digit
from minzheng.benefits.models import Entitlement, EntitlementAmount
from minzheng.registry.models import Household
from tests.applications.conftest import Clock
from tests.fixtures import Cast

TODAY = date(2026, 11, 23)


def card(stem: str = "622202123456789012") -> str:
    """A 19-digit bank card number with a correct Luhn check digit."""
    return stem + luhn_digit(stem)


@pytest.fixture(autouse=True)
def inline_payroll(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compute payrolls inside the request (no thread) so tests see the result."""
    monkeypatch.setattr(benefits_api, "RUN_IN_BACKGROUND", False)


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock(TODAY)
    monkeypatch.setattr(clock, "today", fake)
    yield fake


@pytest.fixture
def second_approver(cast: Cast) -> Client:
    """Another district approver of Xicheng: the four-eyes approval."""
    user_create(username="u_approver2", role=Role.DISTRICT_APPROVER, division_code="110102",
                password="pw-123456")  # fmt: skip
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(username='u_approver2')}")


def entitle(household: Household, amount: str, start: date, *, programme: str = "dibao",
            settled_through: date | None = None, account: bool = True,
            end: date | None = None) -> Entitlement:  # fmt: skip
    """An entitlement as an approval would leave it (settled through the month before)."""
    from minzheng.benefits.banks import mask_account
    from minzheng.core.crypto import encrypt
    from minzheng.core.periods import add_months

    number = card(f"6222021234{household.pk:08d}")
    ent = Entitlement.objects.create(
        household=household, programme=programme, division_id=household.division_id,
        division_path=household.division.path, amount=Decimal(amount), amount_from=start,
        start_month=start, end_month=end, settled_through=settled_through or add_months(start, -1),
        bank_code="102" if account else "", account_encrypted=encrypt(number) if account else "",
        account_masked=mask_account(number) if account else "",
        account_name=household.members.first().name if account else "",  # type: ignore[union-attr]
    )  # fmt: skip
    EntitlementAmount.objects.create(entitlement=ent, from_month=start, amount=Decimal(amount),
                                     cause="测试")  # fmt: skip
    return ent


def post(client: Client, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def bank_return(bank_file: str, failures: dict[str, tuple[str, str]] | None = None,
                *, total: str | None = None) -> bytes:  # fmt: skip
    """The bank's answer to a bank file: every transfer paid except ``failures``
    (reference → (code, message))."""
    failures = failures or {}
    rows = [r.split(",") for r in bank_file.strip().split("\n")]
    head, details = rows[0], [r for r in rows if r[0] == "D"]
    out = [f"H,{head[1]},{head[3]},{total or head[4]}"]
    for d in details:
        code, message = failures.get(d[2], ("00", "成功"))
        out.append(f"D,{d[2]},{d[6]},{code},{message}")
    out.append(f"T,{head[3]},{total or head[4]}")
    return ("\n".join(out) + "\n").encode()


__all__ = ["Callable", "bank_return", "card", "entitle", "post"]
