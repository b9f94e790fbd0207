"""Demo ledger: the demo street's current recipients, two months already paid end to end
and this month's payroll waiting for the second approver, so that ``make run`` shows
every step of the ledger: entitlements, a reconciled bank return with one failure, the
failed payment re-issued after the account was corrected, and a preview to approve."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from minzheng.accounts.models import User
from minzheng.applications import clock
from minzheng.benefits import bankfiles, payroll
from minzheng.benefits.banks import luhn_digit
from minzheng.benefits.models import Entitlement, PayrollRun
from minzheng.benefits.services import (
    entitlement_account_set,
    entitlement_migrate,
    payroll_unit,
)
from minzheng.core.periods import add_months, month_of
from minzheng.demo.services import DEMO_COMMUNITY_STREET
from minzheng.programmes import services as programme_services
from minzheng.programmes.models import EligibilityResult, RunStatus
from minzheng.registry.models import Person

# Every third account is at a different bank; one demo account is missing (held).
BANK_CODES = ("102", "105", "403", "313", "104")


def _card(n: int) -> str:
    stem = f"62220{n:013d}"
    return stem + luhn_digit(stem)


def _return_file(content: bytes, failed: set[str]) -> bytes:
    rows = [r.split(",") for r in content.decode().strip().split("\n")]
    head = rows[0]
    out = [f"H,{head[1]},{head[3]},{head[4]}"]
    for d in rows[1:-1]:
        code, msg = ("E01", "账户已销户") if d[2] in failed else ("00", "成功")
        out.append(f"D,{d[2]},{d[6]},{code},{msg}")
    out.append(f"T,{head[3]},{head[4]}")
    return ("\n".join(out) + "\n").encode()


def demo_benefits(limit: int = 300) -> int:
    """Create the demo ledger once; returns the number of entitlements carried over."""
    if PayrollRun.objects.exists():
        return 0
    users = {u.username: u for u in User.objects.filter(username__in=["approver", "approver2",
                                                                       "worker"])}  # fmt: skip
    if len(users) < 3:
        return 0
    today = timezone.localdate()
    this_month = month_of(today)
    first = add_months(this_month, -2)
    run = programme_services.evaluation_run_create(
        None, as_of=first, division=DEMO_COMMUNITY_STREET
    )
    programme_services.evaluation_run_execute(run.pk)
    results = (
        EligibilityResult.objects.filter(run=run.pk, run__status=RunStatus.DONE, amount__gt=0)
        .order_by("household_id", "programme")
        .values_list("household_id", "programme", "amount")
    )
    heads = dict(
        Person.objects.filter(household_id__in={h for h, _, _ in results}, relation="head")
        .values_list("household_id", "pk")
    )  # fmt: skip
    made: list[Entitlement] = []
    for household_id, programme, amount in results:
        if len(made) >= limit or payroll_unit(programme) != "monthly":
            continue
        ent = entitlement_migrate(household_id=household_id, programme=programme,
                                  amount=Decimal(amount), start_month=first,
                                  payee_id=heads.get(household_id),
                                  reason="存量救助对象（由原系统迁移）")  # fmt: skip
        if ent is not None:
            made.append(ent)
    worker = users["worker"]
    for k, ent in enumerate(made):
        if k == 7:  # one recipient has not brought a bank card yet: held by every payroll
            continue
        name = ent.payee.name if ent.payee else "收款人"
        entitlement_account_set(actor=users["approver"], entitlement_id=ent.pk,
                                bank_code=BANK_CODES[k % len(BANK_CODES)],
                                account_number=_card(k + 1), account_name=name,
                                reason="办理时登记的代发账户")  # fmt: skip
    del worker
    # Two past months paid end to end; in the first, one transfer fails and its account
    # is corrected before the second, which re-issues it.
    failed_entitlement = made[3] if len(made) > 3 else None
    for month in (first, add_months(first, 1)):
        with clock.as_of(month + timedelta(days=19)):
            run_ = payroll.payroll_create(actor=users["approver"], period=month.strftime("%Y-%m"))
            payroll.payroll_execute(run_.pk)
            payroll.payroll_approve(actor=users["approver2"], run_id=run_.pk,
                                    reason="经复核，同意发放")  # fmt: skip
            bankfiles.bank_file_export(actor=users["approver"], run_id=run_.pk)
            _, content = bankfiles.bank_file_content(actor=users["approver"], run_id=run_.pk)
            failed = set()
            if month == first and failed_entitlement is not None:
                failed = {f"{run_.number}-{failed_entitlement.pk}"}
            bankfiles.bank_return_import(actor=users["approver"], run_id=run_.pk,
                                         content=_return_file(content, failed))  # fmt: skip
            if failed and failed_entitlement is not None:
                seed = int(hashlib.sha256(b"fix").hexdigest()[:6], 16)
                entitlement_account_set(
                    actor=users["approver"], entitlement_id=failed_entitlement.pk,
                    bank_code="102", account_number=_card(900_000 + seed % 1000),
                    account_name=failed_entitlement.payee.name if failed_entitlement.payee else "收款人",
                    reason="原账户已销户，更正为新开立的社保卡账户",
                )  # fmt: skip
    with clock.as_of(this_month + timedelta(days=min(today.day, 28) - 1)):
        current = payroll.payroll_create(actor=users["approver"],
                                         period=this_month.strftime("%Y-%m"))  # fmt: skip
        payroll.payroll_execute(current.pk)
    return len(made)


__all__ = ["date", "demo_benefits"]
