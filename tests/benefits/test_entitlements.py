"""Entitlements as people meet them: made by an approved decision, held until a bank account
is recorded, suspended and resumed, cut or ended back-dated (and the overpayment
recovered from the same beneficiary's money for the same programme, or carried)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from minzheng.accounts.models import User
from minzheng.benefits import payroll
from minzheng.benefits.models import Entitlement, Payment, PayrollRun
from minzheng.registry.models import Household
from tests.applications.conftest import Clock
from tests.applications.test_workflow_api import VISIT, act, apply
from tests.benefits.conftest import card, entitle, post
from tests.fixtures import Cast, pensioner

RECOVERY_HELD = "多发金额超过本月可扣减额，待后续追回"


@pytest.fixture
def pay(cast: Cast, today: Clock, second_approver: Client) -> Callable[[str], PayrollRun]:
    """The district's payroll of a month, computed and approved by a second approver."""
    preparer = cast.users["district_approver"]
    approver = User.objects.get(username="u_approver2")

    def run(period: str) -> PayrollRun:
        today.day = date.fromisoformat(period + "-23")
        r = payroll.payroll_create(actor=preparer, period=period)
        r = payroll.payroll_execute(r.pk)
        return payroll.payroll_approve(actor=approver, run_id=r.pk, reason="同意")

    return run


def paid(ent: Entitlement, run: PayrollRun | None = None) -> list[tuple[str, str, str]]:
    """(month, kind, amount) of the entitlement's payments, in a run or in all."""
    qs = Payment.objects.filter(entitlement=ent)
    if run is not None:
        qs = qs.filter(run=run)
    return [(f"{p:%Y-%m}", k, f"{a:.2f}")
            for p, k, a in qs.order_by("period", "pk").values_list("period", "kind", "amount")]  # fmt: skip


def account(client: Client, ent_id: int, **fields: Any) -> Any:
    body = {"bank_code": "102", "account_number": card(), "account_name": "王芳",
            "reason": "登记银行账户", **fields}  # fmt: skip
    return client.put(f"/api/v1/entitlements/{ent_id}/bank-account", data=body,
                      content_type="application/json")  # fmt: skip


# -- from an approved application ---------------------------------------------------------


def test_an_approved_decision_is_paid_once_an_account_is_recorded(
    cast: Cast, today: Clock, pay: Callable[[str], PayrollRun]
) -> None:
    poor: Household = pensioner("800.00", "11010219500101123")
    clients: dict[str, Client] = {}

    def api(role: str) -> Client:
        return clients.setdefault(role, cast.api(role))

    aid = apply(api, poor, "dibao")["id"]
    for action in ("accept", "record_visit", "verify", "publish_notice"):
        extra = {"visit": VISIT} if action == "record_visit" else {}
        assert act(api("community_worker"), aid, action, **extra).status_code == 200
    today.advance(7)  # the public notice has run its seven days
    assert act(api("community_worker"), aid, "close_notice").status_code == 200
    assert act(api("street_reviewer"), aid, "review").status_code == 200
    r = act(api("district_approver"), aid, "approve", reason="符合低保条件", start_month="2026-12")
    assert r.status_code == 200 and r.json()["lines"][0]["state"] == "approved"

    ent = Entitlement.objects.get(household=poor)
    # 1,450.00 standard − 800.00 pension + 362.50 add-on for a member over 60 = 1,012.50
    assert (ent.programme, ent.amount, ent.start_month) == ("dibao", Decimal("1012.50"),
                                                           date(2026, 12, 1))  # fmt: skip
    assert ent.status == "active" and ent.end_month is None and ent.line is not None
    assert ent.settled_through == date(2026, 11, 1)  # nothing due before December
    r = api("community_worker").get(f"/api/v1/entitlements/{ent.pk}")
    assert r.status_code == 200
    body = r.json()
    assert body["bank_account"] is None and body["amount"] == "1012.50"
    assert body["start_month"] == "2026-12" and [e["kind"] for e in body["events"]] == ["created"]

    # December: due, but there is no account to send it to
    dec = pay("2026-12")
    assert paid(ent) == []
    assert dec.held == [{"entitlement": ent.pk, "household": poor.pk, "programme": "dibao",
                         "reason": "未登记银行账户"}]  # fmt: skip
    r = account(api("community_worker"), ent.pk, account_name="老人")
    assert r.status_code == 200, r.content
    assert r.json()["bank_account"]["number"] == "6222 **** **** " + card()[-4:]
    # January: December's money as arrears and January's: 2 × 1,012.50 = 2,025.00
    jan = pay("2027-01")
    assert paid(ent, jan) == [("2026-12", "arrears", "1012.50"), ("2027-01", "regular", "1012.50")]
    assert jan.held == [] and jan.line_amount == Decimal("2025.00")


# -- bank accounts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "code", "field", "says"),
    [
        ({"account_number": "6222021234567890124"}, "bank_account.check_digit",
         "account_number", "校验位"),  # the check digit after …9012 is 8, not 4
        ({"account_number": "62220212345678901AB"}, "bank_account.format", "account_number",
         "数字"),
        ({"account_number": "622202123456789"}, "bank_account.format", "account_number",
         "16至19位"),
        ({"bank_code": "999"}, "bank_account.bank_unknown", "bank_code", "开户银行代码"),
        ({"bank_code": "10A"}, "bank_account.bank_unknown", "bank_code", "开户银行代码"),
        ({"account_kind": "passbook", "account_number": "1234567"}, "bank_account.format",
         "account_number", "8至30位"),
        ({"account_kind": "passbook", "account_number": "1" * 31}, "bank_account.format",
         "account_number", "8至30位"),
        ({"account_kind": "cheque"}, "bank_account.format", "account_kind", "账户类型"),
        ({"account_name": " "}, "bank_account.name", "account_name", "账户名"),
    ],
)  # fmt: skip
def test_bad_bank_accounts_are_refused(cast: Cast, fields: dict[str, str], code: str,
                                       field: str, says: str) -> None:  # fmt: skip
    ent = entitle(cast.own, "1012.50", date(2026, 11, 1), account=False)
    r = account(cast.api("community_worker"), ent.pk, **fields)
    assert r.status_code == 422, r.content
    body = r.json()
    assert (body["code"], body["details"]) == (code, {"field": field})
    assert says in body["message"]
    fresh = Entitlement.objects.get(pk=ent.pk)
    assert (fresh.account_masked, fresh.version, fresh.events.count()) == ("", 0, 0)


@pytest.mark.parametrize("number", ["12345678", "1234 5678 9012 3456", "1" * 30,
                                    "6222021234567890124"])  # fmt: skip
def test_a_passbook_number_has_no_check_digit(cast: Cast, number: str) -> None:
    ent = entitle(cast.own, "1012.50", date(2026, 11, 1), account=False)
    r = account(cast.api("community_worker"), ent.pk, account_kind="passbook",
                account_number=number, bank_code="403100000004")  # fmt: skip
    assert r.status_code == 200, r.content
    digits = number.replace(" ", "")
    shown = r.json()["bank_account"]["number"]
    assert shown == (f"{digits[:4]} **** **** {digits[-4:]}" if len(digits) > 8 else "********")
    assert Entitlement.objects.get(pk=ent.pk).events.get().kind == "account"


# -- suspension ------------------------------------------------------------------------------


def test_suspended_months_are_not_paid(cast: Cast, pay: Callable[[str], PayrollRun]) -> None:
    worker = cast.api("community_worker")
    ent = entitle(cast.own, "1000.00", date(2026, 9, 1))
    pay("2026-09")
    r = post(worker, f"/api/v1/entitlements/{ent.pk}/status",
             {"action": "suspend", "month": "2026-10", "reason": "外出务工，暂停发放"})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    assert pay("2026-10").line_count == 0
    assert pay("2026-11").line_count == 0
    r = post(worker, f"/api/v1/entitlements/{ent.pk}/status",
             {"action": "resume", "month": "2026-11", "reason": "提前返乡"})  # fmt: skip
    assert r.status_code == 200  # back-dated into November, already settled: paid as arrears
    r = post(worker, f"/api/v1/entitlements/{ent.pk}/status",
             {"action": "resume", "month": "2026-12", "reason": "返乡"})  # fmt: skip
    assert r.status_code == 409 and r.json()["code"] == "entitlement.illegal_status_change"
    dec = pay("2026-12")
    # October stays unpaid; November (arrears) and December: 2 × 1,000.00 = 2,000.00
    assert paid(ent, dec) == [("2026-11", "arrears", "1000.00"), ("2026-12", "regular", "1000.00")]
    assert paid(ent) == [("2026-09", "regular", "1000.00"), *paid(ent, dec)]


def test_resumed_from_a_later_month(cast: Cast, pay: Callable[[str], PayrollRun]) -> None:
    worker = cast.api("community_worker")
    ent = entitle(cast.own, "1000.00", date(2026, 10, 1))
    post(worker, f"/api/v1/entitlements/{ent.pk}/status",
         {"action": "suspend", "month": "2026-10", "reason": "住院"})  # fmt: skip
    assert pay("2026-10").line_count == 0
    r = post(worker, f"/api/v1/entitlements/{ent.pk}/status",
             {"action": "resume", "month": "2026-10", "reason": "出院"})  # fmt: skip
    assert r.status_code == 422 and r.json()["code"] == "entitlement.month_invalid"
    r = post(worker, f"/api/v1/entitlements/{ent.pk}/status",
             {"action": "resume", "month": "2026-12", "reason": "出院"})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "active"
    # November is still inside the suspension (it ran to the month before December)
    assert pay("2026-11").line_count == 0
    assert paid(ent, pay("2026-12")) == [("2026-12", "regular", "1000.00")]


# -- back-dated cuts and ends ---------------------------------------------------------------


def test_a_backdated_cut_is_recovered_from_the_next_months(
    cast: Cast, pay: Callable[[str], PayrollRun]
) -> None:
    ent = entitle(cast.own, "1012.50", date(2026, 9, 1))
    for month in ("2026-09", "2026-10", "2026-11"):
        pay(month)
    r = post(cast.api("district_approver"), f"/api/v1/entitlements/{ent.pk}/amount",
             {"amount": "650.25", "from_month": "2026-10", "reason": "复核：收入增加"})  # fmt: skip
    assert r.status_code == 200, r.content
    # October and November were paid 1,012.50 instead of 650.25: 2 × 362.25 = 724.50
    dec = pay("2026-12")
    # December's 650.25 pays back October's 362.25 in full and 288.00 of November's
    # (650.25 − 362.25 = 288.00): nothing is sent, 362.25 − 288.00 = 74.25 is carried
    assert paid(ent, dec) == [("2026-10", "recovery", "-362.25"),
                              ("2026-11", "recovery", "-288.00"),
                              ("2026-12", "regular", "650.25")]  # fmt: skip
    assert dec.line_amount == Decimal("0.00")
    assert dec.held == [{"entitlement": ent.pk, "household": cast.own.pk, "programme": "dibao",
                         "reason": RECOVERY_HELD}]  # fmt: skip
    jan = pay("2027-01")
    # January: 650.25 − the 74.25 still owed = 576.00
    assert paid(ent, jan) == [("2026-11", "recovery", "-74.25"), ("2027-01", "regular", "650.25")]
    assert jan.line_amount == Decimal("576.00") and jan.held == []
    # every month now carries exactly what it was due
    assert sum((p.amount for p in Payment.objects.filter(entitlement=ent)), Decimal(0)) == (
        Decimal("1012.50") + 4 * Decimal("650.25")
    )


def test_a_backdated_end_is_not_taken_from_another_programme(
    cast: Cast, pay: Callable[[str], PayrollRun]
) -> None:
    dibao = entitle(cast.own, "1000.00", date(2026, 9, 1))
    age = entitle(cast.own, "100.00", date(2026, 9, 1), programme="age_allowance")
    for month in ("2026-09", "2026-10", "2026-11"):
        pay(month)
    r = post(cast.api("street_reviewer"), f"/api/v1/entitlements/{dibao.pk}/status",
             {"action": "end", "month": "2026-10", "reason": "家庭收入超过低保标准"})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "ended"
    # November's 1,000.00 was paid after the end; dibao owes nothing more this month, and
    # the age allowance is another programme's money: the recovery is carried
    dec = pay("2026-12")
    assert paid(dibao, dec) == []
    assert paid(age, dec) == [("2026-12", "regular", "100.00")]
    assert dec.held == [{"entitlement": dibao.pk, "household": cast.own.pk,
                         "programme": "dibao", "reason": RECOVERY_HELD}]  # fmt: skip
    assert Entitlement.objects.get(pk=dibao.pk).dirty_from == date(2026, 11, 1)
    jan = pay("2027-01")  # and it stays listed until there is money to take it from
    assert [h["entitlement"] for h in jan.held] == [dibao.pk] and paid(dibao, jan) == []


def test_a_backdated_end_is_deducted_from_the_same_programmes_arrears(
    cast: Cast, pay: Callable[[str], PayrollRun]
) -> None:
    ent = entitle(cast.own, "1000.00", date(2026, 9, 1))
    for month in ("2026-09", "2026-10", "2026-11"):
        pay(month)
    approver = cast.api("district_approver")
    r = post(approver, f"/api/v1/entitlements/{ent.pk}/amount",
             {"amount": "1600.00", "from_month": "2026-09", "reason": "标准调整，补发差额"})  # fmt: skip
    assert r.status_code == 200
    r = post(approver, f"/api/v1/entitlements/{ent.pk}/status",
             {"action": "end", "month": "2026-10", "reason": "迁出本区"})  # fmt: skip
    assert r.status_code == 200
    dec = pay("2026-12")
    # September and October owe 600.00 more each (1,600.00 − 1,000.00); November's
    # 1,000.00 was not due: 600.00 + 600.00 − 1,000.00 = 200.00 sent, nothing carried
    assert paid(ent, dec) == [("2026-09", "adjustment", "600.00"),
                              ("2026-10", "adjustment", "600.00"),
                              ("2026-11", "recovery", "-1000.00")]  # fmt: skip
    assert dec.line_amount == Decimal("200.00") and dec.held == []
    assert pay("2027-01").line_count == 0
