"""The ledger's books under random histories, driven through the real services.

Random sequences of: entitlements created (with or without a bank account, some back-
dated), suspensions and resumptions, back-dated ends, amount changes (a standard change),
monthly payrolls (create → compute → four-eyes approval), bank files and returns with
random failures, accounts fixed and failed payments released. After every step:

- every journal entry balances (Σ debit == Σ credit);
- per programme, expense == Σ payments other than re-issues (a recovery that travelled
  in a transfer the bank returned did not happen, so it does not count);
- payable (credit) == Σ payments approved and not yet sent;
- bank (credit) == Σ payments the bank paid;
- returned (credit) == Σ failed money owed − Σ re-issues;
- no (household, programme, month) has two ``regular``/``arrears`` payments;
- every reconciled run: paid == approved − failed, per programme, to the fen.

And at the end, once every account is fixed and two more months are paid, nobody is
owed anything: for every month, Σ payments not failed == what the entitlement says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django import Settings

from minzheng.accounts.models import User
from minzheng.benefits import bankfiles, payroll, services
from minzheng.benefits.models import (
    BankBatch,
    Entitlement,
    EntitlementEvent,
    JournalEntry,
    JournalLine,
    Payment,
    PayrollRun,
)
from minzheng.benefits.payroll import Schedule
from minzheng.core.errors import ApplicationError
from minzheng.core.periods import add_months, month_range
from minzheng.registry.models import Household
from tests.applications.conftest import Clock
from tests.benefits.conftest import bank_return, card, entitle
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, Cast

ZERO = Decimal("0.00")
FIRST = date(2026, 3, 1)  # the first payroll of every story
PROGRAMMES = ("dibao", "age_allowance")
HOLD_RECOVERY = "多发金额超过本月可扣减额，待后续追回"


@dataclass
class World:
    preparer: User
    approver: User
    households: list[Household]
    dongcheng: Household
    today: Clock
    now: date = FIRST  # the next payroll's month
    unsent: list[int] = field(default_factory=list)  # approved runs without a bank file
    last_held: dict[int, str] = field(default_factory=dict)


@pytest.fixture
def world(
    cast: Cast,
    make_household: Callable[..., Household],
    today: Clock,
    second_approver: Any,
    settings: Settings,
    tmp_path: Path,
) -> Iterator[World]:
    settings.MEDIA_ROOT = tmp_path
    households = [cast.own, cast.other_street, make_household(COMMUNITY_A, "孙七"),
                  make_household(COMMUNITY_B, "周八")]  # fmt: skip
    yield World(
        preparer=cast.users["district_approver"],
        approver=User.objects.get(username="u_approver2"),
        households=households,
        dongcheng=cast.other_district,
        today=today,
    )


# -- the books, counted from the payments -----------------------------------------------------


def _balances() -> dict[tuple[str, str], Decimal]:
    """(programme, account) → debit − credit."""
    out: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for programme, account, debit, credit in JournalLine.objects.values_list(
        "programme", "account", "debit", "credit"
    ):
        out[(programme, account)] += debit - credit
    return out


def check_books() -> None:
    for entry in JournalEntry.objects.prefetch_related("lines"):
        lines = list(entry.lines.all())
        assert lines, entry
        assert sum(ln.debit for ln in lines) == sum(ln.credit for ln in lines), entry
        assert all(ln.debit >= 0 and ln.credit >= 0 and not (ln.debit and ln.credit)
                   for ln in lines)  # fmt: skip
    balances = _balances()
    payments = list(Payment.objects.values_list("programme", "kind", "amount", "status"))
    for programme in {p for p, *_ in payments} | {p for p, _ in balances}:
        mine = [(k, a, s) for p, k, a, s in payments if p == programme]
        granted = sum((a for k, a, s in mine
                       if k != "reissue" and not (k == "recovery" and s == "failed")), ZERO)  # fmt: skip
        unsent = sum((a for _, a, s in mine if s == "approved"), ZERO)
        paid = sum((a for _, a, s in mine if s == "paid"), ZERO)
        owed = sum((a for _, a, s in mine if s == "failed" and a > 0), ZERO)
        reissued = sum((a for k, a, _ in mine if k == "reissue"), ZERO)
        assert balances[(programme, "expense")] == granted, programme
        assert -balances[(programme, "payable")] == unsent, programme
        assert -balances[(programme, "bank")] == paid, programme
        assert -balances[(programme, "returned")] == owed - reissued, programme
        assert owed - reissued >= 0, programme
    seen: set[tuple[int, str, date]] = set()
    for key in Payment.objects.filter(kind__in=["regular", "arrears"]).values_list(
        "household_id", "programme", "period"
    ):
        assert key not in seen, key
        seen.add(key)
    for run in PayrollRun.objects.filter(status="reconciled"):
        rec = bankfiles.reconciliation(run)
        assert rec["balanced"], rec
        for row in rec["programmes"]:
            assert row["paid"] == row["approved"] - row["failed"], row
            mine = Payment.objects.filter(run=run, programme=row["programme"])
            assert row["approved"] == sum((p.amount for p in mine), ZERO)


# -- the steps ------------------------------------------------------------------------------


def _entitlement(w: World, k: int) -> Entitlement | None:
    ents = list(Entitlement.objects.filter(household__in=w.households).order_by("pk"))
    return ents[k % len(ents)] if ents else None


def step_entitle(w: World, who: int, programme: int, amount: Decimal, start: int,
                 account: bool) -> None:  # fmt: skip
    household = w.households[who % len(w.households)]
    prog = PROGRAMMES[programme % len(PROGRAMMES)]
    if Entitlement.objects.filter(household=household, programme=prog).exists():
        return  # one entitlement per household and programme in these stories
    entitle(household, f"{amount:.2f}", add_months(w.now, start), programme=prog,
            account=account)  # fmt: skip


def step_change(w: World, k: int, action: str, month: int, amount: Decimal) -> None:
    ent = _entitlement(w, k)
    if ent is None:
        return
    at = f"{add_months(w.now, month):%Y-%m}"
    try:
        if action == "suspend":
            services.entitlement_suspend(actor=w.preparer, entitlement_id=ent.pk,
                                         from_month=at, reason="外出务工，暂停")  # fmt: skip
        elif action == "resume":
            services.entitlement_resume(actor=w.preparer, entitlement_id=ent.pk,
                                        from_month=at, reason="返乡，恢复")  # fmt: skip
        elif action == "end":
            services.entitlement_end(actor=w.preparer, entitlement_id=ent.pk, last_month=at,
                                     reason="家庭收入超过标准")  # fmt: skip
        else:  # a standard change (or a review's cut) reaching back into paid months
            if action == "cut":
                amount = (ent.amount * Decimal("0.8")).quantize(Decimal("0.01"))
            services.entitlement_amount_set(actor=None, entitlement_id=ent.pk, from_month=at,
                                            amount=f"{amount:.2f}", reason="标准调整",
                                            kind=EntitlementEvent.Kind.STANDARD)  # fmt: skip
    except ApplicationError:
        pass  # refused (e.g. resuming an active entitlement): nothing changed


def step_payroll(w: World) -> None:
    period = w.now
    w.today.day = period.replace(day=23)
    run = payroll.payroll_create(actor=w.preparer, period=f"{period:%Y-%m}")
    run = payroll.payroll_execute(run.pk, chunk=3)
    assert run.status == "preview", run.error
    run = payroll.payroll_approve(actor=w.approver, run_id=run.pk, reason="同意")
    w.unsent.append(run.pk)
    w.last_held = {h["entitlement"]: h["reason"] for h in run.held}
    w.now = add_months(period, 1)


def step_bank(w: World, failures: frozenset[int]) -> None:
    if not w.unsent:
        return
    run_id = w.unsent.pop(0)
    bankfiles.bank_file_export(actor=w.preparer, run_id=run_id)
    _, content = bankfiles.bank_file_content(actor=w.preparer, run_id=run_id)
    text = content.decode()
    refs = [row.split(",")[2] for row in text.splitlines() if row.startswith("D,")]
    failed = {ref: ("E01", "账户已销户") for k, ref in enumerate(refs) if k in failures}
    bankfiles.bank_return_import(actor=w.preparer, run_id=run_id,
                                 content=bank_return(text, failed))  # fmt: skip


def step_fix(w: World, k: int) -> None:
    """The worker corrects the account; an ended entitlement's failures are released."""
    ent = _entitlement(w, k)
    if ent is None:
        return
    try:
        services.entitlement_account_set(
            actor=w.preparer, entitlement_id=ent.pk, bank_code="102",
            account_number=card(f"6222029{ent.pk:011d}"), account_name="张三", reason="更正",
        )  # fmt: skip
        return
    except ApplicationError as exc:  # ended with nothing left to pay
        assert exc.code == "entitlement.ended"
    for pk in Payment.objects.filter(entitlement=ent, status="failed", reissue__isnull=True,
                                     reissue_ready=False).values_list("pk", flat=True):  # fmt: skip
        services.payment_reissue_mark(actor=w.preparer, payment_id=pk, reason="银行已恢复")


# -- nobody is owed anything at the end --------------------------------------------------------


def check_settled(w: World, through: date) -> None:
    for ent in Entitlement.objects.filter(household__in=w.households):
        schedule = Schedule(
            start=ent.start_month, end=ent.end_month,
            amounts=tuple(ent.amounts.order_by("from_month").values_list("from_month", "amount")),
            suspensions=tuple(ent.suspensions.values_list("from_month", "to_month")),
        )  # fmt: skip
        committed: dict[date, Decimal] = defaultdict(lambda: ZERO)
        for period, amount in (
            Payment.objects.filter(entitlement=ent)
            .exclude(status="failed")
            .values_list("period", "amount")
        ):
            committed[period] += amount
        over = ZERO
        for month in month_range(min(ent.start_month, FIRST), through):
            diff = schedule.due(month) - committed[month]
            assert diff <= 0, (ent.pk, month, diff)  # nobody underpaid
            over -= diff
        if over:  # an overpayment with no money left to deduct it from: carried, and said
            assert w.last_held.get(ent.pk) == HOLD_RECOVERY, (ent.pk, over)
            assert ent.dirty_from is not None
    # the other district's household is never in a Xicheng payroll
    assert not Payment.objects.filter(household=w.dongcheng).exists()


money = st.one_of(
    st.integers(min_value=1, max_value=300_000).map(lambda fen: Decimal(fen) / 100),
    st.sampled_from(["100.00", "500.00", "1012.50", "1450.00"]).map(Decimal),
)
STEPS: dict[str, Any] = {
    "entitle": st.tuples(st.just("entitle"), st.integers(0, 3), st.integers(0, 1), money,
                         st.integers(-3, 1), st.sampled_from([True, True, False])),
    "change": st.tuples(st.just("change"), st.integers(0, 7),
                        st.sampled_from(["suspend", "resume", "end", "amount", "cut"]),
                        st.integers(-4, 1), money),
    "payroll": st.tuples(st.just("payroll")),
    # which transfers of the file the bank returns (by their row)
    "bank": st.tuples(st.just("bank"), st.sampled_from([frozenset(), frozenset({0}),
                                                        frozenset({1}), frozenset({0, 2}),
                                                        frozenset(range(8))])),
    "fix": st.tuples(st.just("fix"), st.integers(0, 7)),
}  # fmt: skip
NAMES = ["entitle"] * 2 + ["change"] * 4 + ["payroll"] * 3 + ["bank"] * 2 + ["fix"]
step = st.sampled_from(NAMES).flatmap(STEPS.__getitem__)
RUNNERS: dict[str, Callable[..., None]] = {
    "entitle": step_entitle, "change": step_change, "payroll": step_payroll,
    "bank": step_bank, "fix": step_fix,
}  # fmt: skip


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(steps=st.lists(step, min_size=8, max_size=20))
def test_books_balance_after_every_step(world: World, steps: list[tuple[Any, ...]]) -> None:
    w = world
    w.now, w.unsent, w.last_held = FIRST, [], {}
    with transaction.atomic():  # each example starts from the same empty ledger
        entitle(w.dongcheng, "900.00", add_months(FIRST, -1))
        for name, *args in steps:
            RUNNERS[name](w, *args)
            check_books()
        # every account fixed, every failure released; two more months paid in full
        for k in range(Entitlement.objects.filter(household__in=w.households).count()):
            step_fix(w, k)
        for _ in range(2):
            step_payroll(w)
            while w.unsent:
                step_bank(w, frozenset())
            check_books()
        check_settled(w, add_months(w.now, -1))
        transaction.set_rollback(True)
    assert not BankBatch.objects.exists()


def test_a_returned_transfer_that_carried_a_recovery(world: World) -> None:
    """A recovery deducted inside a transfer the bank returns did not happen: it goes
    back to expense, and only the money owed to the person waits to be re-issued."""
    w = world
    w.now = date(2026, 9, 1)
    ent = entitle(w.households[0], "100.00", date(2026, 9, 1))
    step_payroll(w)  # September: 100.00
    step_bank(w, frozenset())
    services.entitlement_amount_set(actor=w.preparer, entitlement_id=ent.pk,
                                    from_month="2026-09", amount="80.00", reason="复核调整")  # fmt: skip
    step_payroll(w)  # October: 80.00, less September's 20.00 overpaid = 60.00 sent
    step_bank(w, frozenset({0}))  # and returned by the bank
    books = _balances()
    # expense: 100.00 (Sep) + 80.00 (Oct) − 20.00 recovery + 20.00 (not recovered) = 180.00
    assert books[("dibao", "expense")] == Decimal("180.00")
    assert -books[("dibao", "returned")] == Decimal("80.00")  # October's money, owed
    assert -books[("dibao", "bank")] == Decimal("100.00")  # only September reached them
    step_fix(w, 0)
    step_payroll(w)  # November: 80.00 + October re-issued 80.00 − 20.00 recovered = 140.00
    step_bank(w, frozenset())
    books = _balances()
    # granted: 80.00 × 3 months = 240.00; paid out: 100.00 + 140.00 = 240.00
    assert books[("dibao", "expense")] == Decimal("240.00")
    assert -books[("dibao", "bank")] == Decimal("240.00")
    assert books[("dibao", "returned")] == ZERO and books[("dibao", "payable")] == ZERO
    check_books()
