"""The payroll rule ``compute()`` against an in-memory ledger, for random histories.

One entitlement lives through random amount changes (back-dated or scheduled ahead),
suspensions, resumptions, back-dated ends, months with no account, monthly payrolls
(sometimes a month is skipped), bank failures of whole transfers and accounts fixed
later. The simulator keeps the entitlement's bookkeeping the way the services and the
payroll do (``settled_through``, ``dirty_from``, the run's carry) and checks, against an
independent month-by-month count of what is due and what was committed:

(a) after a run that could pay (account present, nothing blocked by an unfixed failure)
    every month up to the period is settled: committed (not failed) == due. The only
    exception is an overpayment larger than this run's positive money: then the run
    deducts all it can (the transfer nets to zero), holds the rest, and the next run
    with enough positive money settles it (the same check, on that run);
(b) never two ``regular``/``arrears`` records for the same month;
(c) every amount has at most two decimals, and signs follow the kind.

The fast path (one SQL statement for "this month's amount") is modelled too: whenever
its conditions hold, ``compute()`` must give exactly that one regular line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from minzheng.benefits.models import PaymentKind
from minzheng.benefits.payroll import Outcome, Paid, Schedule, compute
from minzheng.core.periods import add_months, month_range

BASE = date(2026, 1, 1)  # the first payroll's month
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
HOLD_NO_ACCOUNT = "未登记银行账户"
HOLD_FAILED = "上次发放失败，待更正银行账户或确认重发"
HOLD_RECOVERY = "多发金额超过本月可扣减额，待后续追回"
BASE_KINDS = {PaymentKind.REGULAR, PaymentKind.ARREARS}


@dataclass
class Rec:
    """A payment record of the simulated ledger."""

    pk: int
    run: int
    period: date
    kind: str
    amount: Decimal
    failed: bool = False
    ready: bool = False
    reissue_of: int | None = None


@dataclass
class Sim:
    start: date
    has_account: bool
    steps: list[tuple[date, Decimal]]
    now: date = BASE  # the next payroll's month
    status: str = "active"
    end: date | None = None
    suspensions: list[list[Any]] = field(default_factory=list)  # [from, to or None]
    settled_through: date | None = None
    dirty_from: date | None = None
    records: list[Rec] = field(default_factory=list)
    runs: int = 0
    carried_runs: int = 0
    settled_runs: int = 0

    def __post_init__(self) -> None:
        self.settled_through = add_months(self.start, -1)  # as an approval leaves it
        self.amount, self.amount_from = self.steps[-1][1], self.steps[-1][0]

    # -- what is due and what was committed, counted independently of compute() --

    def due(self, month: date) -> Decimal:
        if month < self.start or (self.end is not None and month > self.end):
            return ZERO
        if any(lo <= month and (hi is None or month <= hi) for lo, hi in self.suspensions):
            return ZERO
        value = ZERO
        for frm, amount in self.steps:
            if frm <= month:
                value = amount
        return value

    def committed(self, month: date) -> Decimal:
        return sum((r.amount for r in self.records if r.period == month and not r.failed), ZERO)

    def reissued(self, pk: int) -> bool:
        return any(r.reissue_of == pk for r in self.records)

    def open_failures(self, month: date) -> list[Rec]:
        return [r for r in self.records if r.period == month and r.failed
                and r.amount > 0 and not self.reissued(r.pk)]  # fmt: skip

    def gaps(self, upto: date) -> tuple[Decimal, Decimal, bool]:
        """(Σ underpaid, Σ overpaid, whether an unfixed failure blocks an underpaid month)"""
        under = over = ZERO
        blocked = False
        for m in month_range(min(self.start, BASE), upto):
            diff = self.due(m) - self.committed(m)
            if diff > 0:
                under += diff
                blocked |= any(not r.ready for r in self.open_failures(m))
            else:
                over -= diff
        return under, over, blocked

    # -- the services' bookkeeping (services.py) --

    def _touch(self, month: date) -> None:
        if self.settled_through is not None and month <= self.settled_through:
            self.dirty_from = month if self.dirty_from is None else min(self.dirty_from, month)

    def change(self, month: date, amount: Decimal) -> None:
        if self.status == "ended":
            return  # 409: an ended entitlement's amount cannot change
        month = max(month, self.start)
        self.steps = [s for s in self.steps if s[0] < month] + [(month, amount)]
        self.amount, self.amount_from = amount, month
        self._touch(month)

    def suspend(self, month: date) -> None:
        if self.status != "active" or month < self.start:
            return
        self.suspensions.append([month, None])
        self.status = "suspended"
        self._touch(month)

    def resume(self, month: date) -> None:
        open_ = [s for s in self.suspensions if s[1] is None]
        if self.status != "suspended" or not open_ or month <= open_[-1][0]:
            return
        open_[-1][1] = add_months(month, -1)
        self.status = "active"
        self._touch(month)

    def end_at(self, month: date) -> None:
        if self.status == "ended" or month < add_months(self.start, -1):
            return
        end = max(month, self.start)
        if month < self.start:  # ended before it began: nothing was ever due
            self.steps = [(f, ZERO) for f, _ in self.steps]
            self.amount = ZERO
            self._touch(self.start)
        self.suspensions = [s for s in self.suspensions if s[0] <= end]
        for s in self.suspensions:
            if s[1] is None:
                s[1] = end
        self.status, self.end = "ended", end
        self._touch(add_months(month, 1))

    def fix_account(self) -> None:
        """entitlement_account_set: failed payments become ready to re-issue. An ended
        entitlement takes an account only while something is still to be paid."""
        assert self.settled_through is not None
        done = self.end is not None and self.settled_through >= self.end
        failed = any(r.failed and not self.reissued(r.pk) for r in self.records)
        if self.status == "ended" and self.dirty_from is None and done and not failed:
            return  # 409: nothing left to pay
        self.has_account = True
        self.mark_ready()

    def mark_ready(self) -> None:
        waiting = [r for r in self.records if r.failed and not self.reissued(r.pk)]
        for r in waiting:
            r.ready = True
        if waiting:
            first = min(r.period for r in waiting)
            self.dirty_from = first if self.dirty_from is None else min(self.dirty_from, first)

    def bank_fails_last_transfer(self) -> None:
        """The bank returns the last run's transfer (a zero net was never sent)."""
        mine = [r for r in self.records if r.run == self.runs]
        if not mine or sum((r.amount for r in mine), ZERO) <= 0:
            return
        for r in mine:
            r.failed = True
        first = min(r.period for r in mine)
        if self.dirty_from is None or self.dirty_from > first:
            self.dirty_from = first

    # -- one payroll: payroll_execute (scope, fast path, compute) and payroll_approve --

    def in_scope(self, period: date) -> bool:
        assert self.settled_through is not None
        if self.status == "ended" and self.dirty_from is None and self.end is not None \
                and self.settled_through >= self.end:  # fmt: skip
            return False
        return not (self.dirty_from is None and self.settled_through >= period)

    def fast_path(self, period: date) -> bool:
        return (
            self.status == "active" and self.dirty_from is None
            and self.settled_through == add_months(period, -1)
            and self.amount_from <= period and self.start <= period
            and (self.end is None or self.end >= period) and self.amount > 0
            and self.has_account
            and not any(lo <= period and (hi is None or hi >= period)
                        for lo, hi in self.suspensions)
            and not any(r.period == period and r.kind in BASE_KINDS for r in self.records)
        )  # fmt: skip

    def payroll(self) -> Outcome | None:
        period = self.now
        self.now = add_months(self.now, 1)
        self.runs += 1
        out: Outcome | None = None
        if self.in_scope(period):
            out = self._compute_and_check(period)
        else:
            # left out of the run: then there was truly nothing to do
            under, over, _ = self.gaps(period)
            assert under == over == ZERO, (period, under, over)
        assert self.settled_through is not None
        if self.settled_through < period or self.dirty_from is not None:
            self.settled_through, self.dirty_from = period, None
        if out is not None and out.carry is not None:
            self.dirty_from = out.carry
        return out

    def _compute_and_check(self, period: date) -> Outcome:
        paid = [Paid(r.pk, r.period, r.kind, r.amount, "failed" if r.failed else "paid",
                     r.ready, self.reissued(r.pk)) for r in self.records]  # fmt: skip
        schedule = Schedule(start=self.start, end=self.end, amounts=tuple(self.steps),
                            suspensions=tuple((lo, hi) for lo, hi in self.suspensions))  # fmt: skip
        fast = self.fast_path(period)
        under, over, blocked = self.gaps(period)
        out = compute(schedule, period=period, settled_through=self.settled_through,
                      dirty_from=self.dirty_from, paid=paid, has_account=self.has_account)  # fmt: skip
        if fast:  # the one-statement path would write exactly this
            assert out.lines == [(period, PaymentKind.REGULAR, self.amount, None)], out
            assert out.carry is None and out.held is None
        self._check_lines(out, period)
        for month, kind, amount, ref in out.lines:
            self.records.append(Rec(len(self.records) + 1, self.runs, month, kind, amount,
                                    reissue_of=ref))  # fmt: skip
        net = sum((a for _, _, a, _ in out.lines), ZERO)
        after_under, after_over, _ = self.gaps(period)
        if not self.has_account:
            # nothing is sent to a missing account; what is owed waits
            assert out.lines == []
            if under or over:
                assert out.held in {HOLD_NO_ACCOUNT, HOLD_FAILED} and out.carry is not None
        elif blocked:
            # a failed payment whose account is not fixed holds everything back
            assert out.lines == [] and out.held == HOLD_FAILED and out.carry is not None
        elif under >= over:
            # (a) the books settle: every month up to the period, due == committed
            assert out.held is None and out.carry is None, (out, under, over)
            assert net == under - over
            assert after_under == after_over == ZERO
            for m in month_range(min(self.start, BASE), period):
                assert self.committed(m) == self.due(m), m
            self.settled_runs += 1
        else:
            # overpaid by more than this run's positive money: all of it is deducted,
            # the transfer nets to nothing, the rest is carried to the next run
            assert out.held == HOLD_RECOVERY and out.carry is not None
            assert net == ZERO
            assert after_under == ZERO and after_over == over - under
            assert out.carry <= min(m for m in month_range(min(self.start, BASE), period)
                                    if self.committed(m) > self.due(m))  # fmt: skip
            self.carried_runs += 1
        return out

    def _check_lines(self, out: Outcome, period: date) -> None:
        seen: set[tuple[date, str]] = set()
        for month, kind, amount, ref in out.lines:
            # (c) to the fen, and the sign the kind says
            assert amount == amount.quantize(CENT) and amount.as_tuple().exponent >= -2
            assert (amount < 0) == (kind == PaymentKind.RECOVERY) and amount != 0
            assert month <= period
            assert kind != PaymentKind.REGULAR or month == period
            assert kind != PaymentKind.ARREARS or month < period
            if kind == PaymentKind.REISSUE:
                (orig,) = [r for r in self.records if r.pk == ref]
                assert orig.failed and orig.ready and orig.period == month
                assert not self.reissued(orig.pk) and 0 < amount <= orig.amount
            else:
                assert ref is None and (month, kind) not in seen
                seen.add((month, kind))
        # a month gets money or gives it back in a run, never both (a re-issue is cut to
        # what is still due rather than paid in full and partly recovered)
        for month in {m for m, *_ in out.lines}:
            signs = {a > 0 for m, _, a, _ in out.lines if m == month}
            assert len(signs) == 1, (month, out.lines)
        corrections = [m for m, k, *_ in out.lines
                       if k in (PaymentKind.ADJUSTMENT, PaymentKind.RECOVERY)]  # fmt: skip
        assert len(corrections) == len(set(corrections))  # one correction per month and run


def check_ledger(sim: Sim) -> None:
    # (b) the database's unique (beneficiary, programme, period) for the month's own money
    base = [r.period for r in sim.records if r.kind in BASE_KINDS]
    assert len(base) == len(set(base))
    for r in sim.records:
        assert r.amount == r.amount.quantize(CENT)


money = st.one_of(
    st.integers(min_value=1, max_value=250_000).map(lambda fen: Decimal(fen) / 100),
    st.sampled_from(["0.00", "0.01", "500.00", "1012.50", "1450.00", "1999.99"]).map(Decimal),
)
# months relative to the next payroll: mostly back-dated into months already paid
offset = st.integers(min_value=-6, max_value=2)
STEPS: dict[str, Any] = {
    # True: the bank returns the run's transfer
    "payroll": st.tuples(st.just("payroll"), st.sampled_from([False, False, False, True])),
    "change": st.tuples(st.just("change"), offset, money),
    "skip_month": st.tuples(st.just("skip_month")),
    "suspend": st.tuples(st.just("suspend"), offset),
    "resume": st.tuples(st.just("resume"), offset),
    "fix_account": st.tuples(st.just("fix_account")),
    "reissue_mark": st.tuples(st.just("reissue_mark")),
}
NAMES = ["payroll"] * 6 + ["change"] * 3 + ["skip_month", "suspend", "resume", "fix_account",
                                             "reissue_mark"]  # fmt: skip
op = st.sampled_from(NAMES).flatmap(STEPS.__getitem__)


RELATIVE = {"change", "suspend", "resume", "end"}


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(min_value=-3, max_value=4),
    first=money,
    has_account=st.sampled_from([True, True, True, False]),
    ops=st.lists(op, min_size=6, max_size=40),
    ending=st.none() | st.tuples(st.integers(min_value=0, max_value=40), offset),
)
def test_payroll_settles_every_month(start: int, first: Decimal, has_account: bool,
                                     ops: list[tuple[Any, ...]],
                                     ending: tuple[int, int] | None) -> None:  # fmt: skip
    if ending is not None:  # at most one end (back-dated or ahead), somewhere in the story
        ops = [*ops[: ending[0]], ("end", ending[1]), *ops[ending[0] :]]
    begin = add_months(BASE, start)
    sim = Sim(start=begin, has_account=has_account, steps=[(begin, first)])
    for name, *args in ops:
        month = add_months(sim.now, args[0]) if name in RELATIVE else None
        if name == "payroll":
            sim.payroll()
            if args[0]:
                sim.bank_fails_last_transfer()
        elif name == "skip_month":
            sim.now = add_months(sim.now, 1)
        elif name == "change":
            sim.change(month, args[1])
        elif name in ("suspend", "resume", "end"):
            getattr(sim, "end_at" if name == "end" else name)(month)
        elif name == "fix_account":
            sim.fix_account()
        else:
            sim.mark_ready()
        check_ledger(sim)
    # then the account is put right and every failure released: the books settle (or,
    # with nothing left to pay from, the overpayment stays carried)
    sim.fix_account()
    sim.mark_ready()
    for _ in range(3):
        sim.payroll()
        check_ledger(sim)
    under, _, blocked = sim.gaps(add_months(sim.now, -1))
    assert not blocked and under == ZERO  # nobody is left underpaid


def test_simulator_sees_each_outcome() -> None:
    """The property's branches are all reachable: a plain month, a held overpayment."""
    sim = Sim(start=BASE, has_account=True, steps=[(BASE, Decimal("500.00"))])
    sim.payroll()
    sim.payroll()  # January and February paid: 2 × 500.00
    sim.change(BASE, Decimal("100.00"))  # back-dated cut: 2 × 400.00 = 800.00 overpaid
    out = sim.payroll()  # March: 100.00 positive, 800.00 to recover
    assert out is not None and out.held == HOLD_RECOVERY
    # March 100.00 − January's 100.00 deducted: the transfer nets to 0.00
    assert sum((a for *_, a, _ in out.lines), ZERO) == ZERO
    assert sim.carried_runs == 1
    sim.change(add_months(BASE, 3), Decimal("1000.00"))  # from April: 1,000.00
    out = sim.payroll()  # April: 1,000.00 − the remaining 700.00 = 300.00
    assert out is not None and out.held is None
    assert sum((a for *_, a, _ in out.lines), ZERO) == Decimal("300.00")
    assert sim.settled_runs == 3
