"""Payroll runs: compute → preview → four-eyes approval → immutable payments.

The computation is a background job that works in chunks of entitlements, each chunk
committed together with the run's cursor: killed at any moment and started again, it
continues after the last committed chunk, so every entitlement gets its lines exactly
once. Approval writes every line as a ``Payment`` in one transaction; the database's
unique (beneficiary, programme, period) refuses a second payment for the same month,
so re-running a period, or approving two overlapping runs, pays nobody twice.

What is due is worked out per month as *due − committed*: the amount the entitlement
says for that month less what approved, not-failed payments already carry. So arrears
from back-dated decisions, differences after a standard change and recoveries after a
back-dated end all come from one rule, and a second look at a settled month finds
nothing to do. Most entitlements, most months, take the fast path: one SQL statement
writes "this month's amount" for every entitlement that was settled last month and has
not changed since.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from minzheng.accounts import access
from minzheng.accounts.roles import Role
from minzheng.applications import clock
from minzheng.core.errors import Conflict, FieldError, PermissionDenied
from minzheng.core.periods import add_months, month_of, month_range, parse_month
from minzheng.registry.models import Division, DivisionLevel

from . import journal, locks
from .errors import BenefitsErrorCode as Code
from .models import (
    BASE_KINDS,
    DONE_PAYROLL_STATUSES,
    OPEN_PAYROLL_STATUSES,
    Entitlement,
    EntitlementAmount,
    EntitlementStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
    PayrollLine,
    PayrollRun,
    PayrollStatus,
    Suspension,
)
from .services import ensure_role, reason_text

if TYPE_CHECKING:
    from minzheng.accounts.models import User

log = logging.getLogger(__name__)

PAYROLL_ROLES = frozenset({Role.DISTRICT_APPROVER})
ZERO = Decimal("0.00")
STALE_AFTER = timedelta(minutes=10)


# -- the rule: due − committed, month by month ------------------------------------------------


@dataclass(frozen=True)
class Paid:
    """A payment already recorded for one month of one beneficiary and programme."""

    pk: int
    period: date
    kind: str
    amount: Decimal
    status: str
    reissue_ready: bool
    reissued: bool


@dataclass
class Outcome:
    lines: list[tuple[date, str, Decimal, int | None]] = field(default_factory=list)
    carry: date | None = None  # first month to look at again next time
    held: str | None = None  # why something due was not paid this time


@dataclass(frozen=True)
class Schedule:
    """What an entitlement says is due, month by month."""

    start: date
    end: date | None
    amounts: tuple[tuple[date, Decimal], ...]  # (from month, amount), ascending
    suspensions: tuple[tuple[date, date | None], ...]

    def due(self, month: date) -> Decimal:
        if month < self.start or (self.end is not None and month > self.end):
            return ZERO
        for lo, hi in self.suspensions:
            if lo <= month and (hi is None or month <= hi):
                return ZERO
        amount = ZERO
        for frm, value in self.amounts:
            if frm <= month:
                amount = value
            else:
                break
        return amount


def compute(
    schedule: Schedule,
    *,
    period: date,
    settled_through: date | None,
    dirty_from: date | None,
    paid: Iterable[Paid],
    has_account: bool,
    taken: frozenset[date] = frozenset(),
) -> Outcome:
    """The lines one entitlement needs in the payroll for ``period``.

    ``taken``: months in which another entitlement of the same household and programme
    already has the month's own payment (the database allows one), so this one's money
    for such a month travels as an adjustment."""
    lo = schedule.start if settled_through is None else add_months(settled_through, 1)
    if dirty_from is not None:
        lo = min(lo, dirty_from)
    by_month: dict[date, list[Paid]] = defaultdict(list)
    for p in paid:
        by_month[p.period].append(p)
    out = Outcome()

    def hold(month: date, why: str) -> None:
        out.carry = month if out.carry is None else min(out.carry, month)
        out.held = out.held or why

    for month in month_range(lo, period):
        records = by_month.get(month, [])
        due = schedule.due(month)
        committed = sum((p.amount for p in records if p.status != PaymentStatus.FAILED), ZERO)
        diff = due - committed
        if diff > 0:
            for p in sorted(records, key=lambda r: r.pk):
                if p.status != PaymentStatus.FAILED or p.reissued or p.amount <= 0 or diff <= 0:
                    continue
                if not p.reissue_ready:
                    hold(month, "上次发放失败，待更正银行账户或确认重发")
                    diff = ZERO
                    break
                amount = min(p.amount, diff)
                out.lines.append((month, PaymentKind.REISSUE, amount, p.pk))
                diff -= amount
        if diff == 0:
            continue
        has_base = month in taken or any(p.kind in BASE_KINDS for p in records)
        kind: str
        if diff > 0:
            kind = PaymentKind.ADJUSTMENT if has_base else (
                PaymentKind.REGULAR if month == period else PaymentKind.ARREARS
            )  # fmt: skip
        else:
            kind = PaymentKind.RECOVERY
        out.lines.append((month, kind, diff, None))
    if not out.lines:
        return out
    if not has_account or out.held:
        # no account, or the account failed and is not fixed yet: send nothing to it
        first = min(m for m, *_ in out.lines)
        return Outcome(carry=first if out.carry is None else min(first, out.carry),
                       held=out.held or "未登记银行账户")  # fmt: skip
    # A recovery is deducted only from what this run pays the same beneficiary for the
    # same programme; what cannot be deducted stays open for the next run.
    positive = sum((a for _, _, a, _ in out.lines if a > 0), ZERO)
    recoveries = sorted((ln for ln in out.lines if ln[2] < 0), key=lambda ln: ln[0])
    if positive + sum((ln[2] for ln in recoveries), ZERO) < 0:
        kept = [ln for ln in out.lines if ln[2] > 0]
        room = positive
        for month, kind, amount, ref in recoveries:
            take = max(amount, -room)
            if take < 0:
                kept.append((month, kind, take, ref))
                room += take
            if take != amount:
                out.carry = month if out.carry is None else min(out.carry, month)
                out.held = out.held or "多发金额超过本月可扣减额，待后续追回"
        out.lines = sorted(kept, key=lambda ln: (ln[0], ln[1]))
    return out


# -- creating a run -------------------------------------------------------------------------


def _ancestor_paths(division: Division) -> list[str]:
    parts = division.path.strip("/").split("/")
    return ["/".join(parts[:k]) + "/" for k in range(1, len(parts))]


def _overlapping(division: Division) -> Any:
    return PayrollRun.objects.exclude(
        status__in=[PayrollStatus.CANCELLED, PayrollStatus.FAILED]
    ).filter(
        Q(division_path__startswith=division.path) | Q(division_path__in=_ancestor_paths(division))
    )


def payroll_create(*, actor: User, period: Any, division: Any = None) -> PayrollRun:
    """Queue the payroll of ``period`` (``YYYY-MM``) for a district or street."""
    ensure_role(actor, PAYROLL_ROLES, "发放计算")
    month = parse_month(period, "period", Code.PERIOD_INVALID)
    if month > month_of(clock.today()):
        raise FieldError("period", Code.PERIOD_FUTURE,
                         f"不能计算未来月份（{month:%Y年%m月}）的发放")  # fmt: skip
    if division in (None, ""):
        assert actor.division is not None
        div = actor.division
    else:
        div = access.access_division_by_code(actor, str(division))
    if div.level not in (DivisionLevel.DISTRICT, DivisionLevel.STREET):
        raise FieldError("division", Code.DIVISION_LEVEL, "发放按区或街道计算，请选择区或街道")
    with transaction.atomic():
        locks.lock_payroll_scope(div)
        overlapping = _overlapping(div)
        same = overlapping.filter(period=month).first()
        if same is not None and same.status in DONE_PAYROLL_STATUSES:
            raise Conflict(Code.ALREADY_APPROVED,
                           f"{month:%Y年%m月}的发放已审批（批次 {same.number}），不能重复发放；"
                           "漏发或补发的金额会在下月发放中自动计算",
                           {"payroll": same.pk, "number": same.number})  # fmt: skip
        open_run = overlapping.filter(status__in=OPEN_PAYROLL_STATUSES).first()
        if open_run is not None:
            raise Conflict(Code.IN_PROGRESS,
                           f"批次 {open_run.number}（{open_run.period:%Y年%m月}）尚未审批，"
                           "请先审批或撤销该批次",
                           {"payroll": open_run.pk, "number": open_run.number})  # fmt: skip
        later = overlapping.filter(period__gt=month).order_by("-period").first()
        if later is not None:
            raise Conflict(Code.PERIOD_CLOSED,
                           f"已有更晚月份的发放（{later.period:%Y年%m月}，批次 {later.number}），"
                           "不能再计算更早的月份；应发未发的金额会在下次发放中补发",
                           {"payroll": later.pk, "number": later.number})  # fmt: skip
        seq = PayrollRun.objects.filter(division=div, period=month).count() + 1
        run = PayrollRun.objects.create(
            number=f"FF{div.code}-{month:%Y%m}-{seq:02d}", period=month, division=div,
            division_path=div.path, prepared_by=actor,
            scope_max_id=Entitlement.objects.aggregate(m=Max("pk"))["m"] or 0,
        )  # fmt: skip
    log.info("payroll %s queued by %s", run.number, actor.pk)
    return run


# -- computing it (the background job) ---------------------------------------------------------

_FAST_SQL = """
INSERT INTO benefits_payrollline
    (run_id, entitlement_id, household_id, programme, period, kind, amount, reissue_of_id)
SELECT %s, e.id, e.household_id, e.programme, %s, 'regular', e.amount, NULL
FROM benefits_entitlement e
WHERE e.id >= %s AND e.id <= %s AND e.division_path LIKE %s
  AND e.status = 'active' AND e.dirty_from IS NULL AND e.settled_through = %s
  AND e.amount_from <= %s AND e.start_month <= %s
  AND (e.end_month IS NULL OR e.end_month >= %s)
  AND e.amount > 0 AND e.account_masked <> ''
  AND NOT EXISTS (SELECT 1 FROM benefits_suspension s WHERE s.entitlement_id = e.id
                  AND s.from_month <= %s AND (s.to_month IS NULL OR s.to_month >= %s))
  AND NOT EXISTS (SELECT 1 FROM benefits_payment p WHERE p.household_id = e.household_id
                  AND p.programme = e.programme AND p.period = %s
                  AND p.kind IN ('regular', 'arrears'))
"""


def _scope_ids(run: PayrollRun) -> list[int]:
    """Entitlements the run must look at, after its cursor."""
    qs = Entitlement.objects.filter(
        division_path__startswith=run.division_path, pk__gt=run.cursor, pk__lte=run.scope_max_id
    ).exclude(
        status=EntitlementStatus.ENDED, dirty_from__isnull=True,
        settled_through__gte=F("end_month"),
    ).exclude(dirty_from__isnull=True, settled_through__gte=run.period)  # fmt: skip
    return list(qs.order_by("pk").values_list("pk", flat=True))


def _slow(run: PayrollRun, ids: list[int]) -> tuple[list[PayrollLine], dict[str, str], list[dict[str, Any]]]:  # fmt: skip
    """Lines for entitlements off the fast path: arrears, corrections, re-issues, holds."""
    ents = list(Entitlement.objects.filter(pk__in=ids).order_by("pk"))
    amounts: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for ent_id, frm, amount in (
        EntitlementAmount.objects.filter(entitlement_id__in=ids)
        .order_by("entitlement_id", "from_month")
        .values_list("entitlement_id", "from_month", "amount")
    ):
        amounts[ent_id].append((frm, amount))
    suspensions: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for ent_id, lo, hi in Suspension.objects.filter(entitlement_id__in=ids).values_list(
        "entitlement_id", "from_month", "to_month"
    ):
        suspensions[ent_id].append((lo, hi))
    earliest = min(
        [e.dirty_from for e in ents if e.dirty_from]
        + [add_months(e.settled_through, 1) if e.settled_through else e.start_month for e in ents],
        default=run.period,
    )
    # each entitlement's own payments: another entitlement of the household for the same
    # programme (an earlier one-off grant) has its own months and its own money
    paid: dict[int, list[Paid]] = defaultdict(list)
    rows = list(
        Payment.objects.filter(entitlement_id__in=ids, period__gte=earliest).values_list(
            "pk", "entitlement_id", "period", "kind", "amount", "status", "reissue_ready")
    )  # fmt: skip
    reissued = set(
        Payment.objects.filter(reissue_of_id__in=[r[0] for r in rows]).values_list(
            "reissue_of_id", flat=True
        )
    )
    for pk, ent_id, period, kind, amount, status, ready in rows:
        paid[ent_id].append(Paid(pk, period, kind, amount, status, ready, pk in reissued))
    taken: dict[tuple[int, str], list[tuple[date, int]]] = defaultdict(list)
    for hh, prog, period, owner in (
        Payment.objects.filter(household_id__in={e.household_id for e in ents},
                               programme__in={e.programme for e in ents}, period__gte=earliest,
                               kind__in=BASE_KINDS)
        .values_list("household_id", "programme", "period", "entitlement_id")
    ):  # fmt: skip
        taken[(hh, prog)].append((period, owner))
    lines: list[PayrollLine] = []
    carry: dict[str, str] = {}
    held: list[dict[str, Any]] = []
    for e in ents:
        schedule = Schedule(start=e.start_month, end=e.end_month,
                            amounts=tuple(amounts[e.pk]), suspensions=tuple(suspensions[e.pk]))  # fmt: skip
        out = compute(schedule, period=run.period, settled_through=e.settled_through,
                      dirty_from=e.dirty_from, paid=paid[e.pk],
                      has_account=bool(e.account_masked),
                      taken=frozenset(m for m, owner in taken.get((e.household_id, e.programme), ())
                                      if owner != e.pk))  # fmt: skip
        for month, kind, amount, ref in out.lines:
            lines.append(PayrollLine(run=run, entitlement_id=e.pk, household_id=e.household_id,
                                     programme=e.programme, period=month, kind=kind,
                                     amount=amount, reissue_of_id=ref))  # fmt: skip
        if out.carry is not None:
            carry[str(e.pk)] = out.carry.isoformat()
        if out.held:
            held.append({"entitlement": e.pk, "household": e.household_id,
                         "programme": e.programme, "reason": out.held})  # fmt: skip
    return lines, carry, held


def payroll_execute(
    run_id: int,
    *,
    chunk: int = 50_000,
    on_progress: Callable[[int, int], None] | None = None,
    pause: float = 0.0,
) -> PayrollRun:
    """Compute (or, after a crash, continue computing) the run's lines."""
    with transaction.atomic():
        run = locks.lock_payroll(run_id)
        if run.status not in (PayrollStatus.PENDING, PayrollStatus.COMPUTING):
            return run
        resumed = run.status == PayrollStatus.COMPUTING
        ids = _scope_ids(run)
        fields: dict[str, Any] = {"status": PayrollStatus.COMPUTING, "heartbeat": timezone.now()}
        if not resumed:
            fields.update(started_at=timezone.now(), total=len(ids), done=0)
        PayrollRun.objects.filter(pk=run.pk).update(**fields)
        run.refresh_from_db()
    if resumed:
        log.info("payroll %s resumed after entitlement %s", run.number, run.cursor)
    prev = add_months(run.period, -1)
    try:
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            lo, hi = part[0], part[-1]
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute(_FAST_SQL, [run.pk, run.period, lo, hi, run.division_path + "%",
                                            prev, run.period, run.period, run.period, run.period,
                                            run.period, run.period])  # fmt: skip
                fast = set(
                    PayrollLine.objects.filter(run=run, entitlement_id__gte=lo,
                                               entitlement_id__lte=hi)
                    .values_list("entitlement_id", flat=True)
                )  # fmt: skip
                slow_ids = [i for i in part if i not in fast]
                lines, carry, held = _slow(run, slow_ids) if slow_ids else ([], {}, [])
                PayrollLine.objects.bulk_create(lines, batch_size=5_000)
                current = PayrollRun.objects.select_for_update().get(pk=run.pk)
                PayrollRun.objects.filter(pk=run.pk).update(
                    cursor=hi, done=F("done") + len(part), heartbeat=timezone.now(),
                    carry={**current.carry, **carry}, held=current.held + held,
                )  # fmt: skip
            if on_progress is not None:
                on_progress(start + len(part), len(ids))
            if pause:
                time.sleep(pause)
    except Exception as exc:
        log.exception("payroll %s failed", run.number)
        PayrollRun.objects.filter(pk=run.pk).update(
            status=PayrollStatus.FAILED, error=f"{type(exc).__name__}: {exc}"
        )
        raise
    count, total = _totals(run.pk)
    PayrollRun.objects.filter(pk=run.pk).update(
        status=PayrollStatus.PREVIEW, computed_at=timezone.now(), line_count=count,
        line_amount=total, heartbeat=timezone.now(),
    )  # fmt: skip
    run.refresh_from_db()
    log.info("payroll %s computed: %s lines, %s", run.number, count, total)
    return run


def fen_sum_sql(column: str) -> str:
    """An exact SQL sum of a money column in fen (SQLite keeps decimals as floats)."""
    return f"SUM(CAST(ROUND({column} * 100) AS BIGINT))"


def _totals(run_id: int) -> tuple[int, Decimal]:
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT COUNT(*), {fen_sum_sql('amount')} FROM benefits_payrollline WHERE run_id = %s",
            [run_id],
        )
        count, fen = cur.fetchone()
    return int(count), Decimal(int(fen or 0)) / 100


def payroll_stalled(run: PayrollRun, now: Any = None) -> bool:
    """A run computing with no progress for ten minutes: its process was stopped."""
    now = now or timezone.now()
    return run.status == PayrollStatus.COMPUTING and (
        run.heartbeat is None or now - run.heartbeat > STALE_AFTER
    )


def payroll_recompute(*, actor: User, run_id: int, reason: Any = "重新计算") -> PayrollRun:
    """Throw the preview away and compute again (after entitlements changed)."""
    ensure_role(actor, PAYROLL_ROLES, "重新计算发放")
    reason_text(reason)
    access.access_payroll_by_id(actor, run_id)
    with transaction.atomic():
        run = locks.lock_payroll(run_id)
        if run.status not in (PayrollStatus.PREVIEW, PayrollStatus.FAILED, PayrollStatus.COMPUTING):
            raise Conflict(
                Code.PAYROLL_STATE, f"批次状态为“{run.get_status_display()}”，不能重新计算"
            )
        if run.status == PayrollStatus.COMPUTING and not payroll_stalled(run):
            raise Conflict(Code.IN_PROGRESS, "该批次正在计算中，请稍候")
        if run.status == PayrollStatus.FAILED and _overlapping(run.division).filter(
            period=run.period).exclude(pk=run.pk).exists():  # fmt: skip
            raise Conflict(Code.IN_PROGRESS, "该月已有新的发放批次")
        PayrollLine.objects.filter(run=run).delete()
        PayrollRun.objects.filter(pk=run.pk).update(
            status=PayrollStatus.PENDING, cursor=0, total=0, done=0, line_count=0,
            line_amount=ZERO, carry={}, held=[], error="", started_at=None, computed_at=None,
            scope_max_id=Entitlement.objects.aggregate(m=Max("pk"))["m"] or 0,
        )  # fmt: skip
        run.refresh_from_db()
    return run


def payroll_resume(*, actor: User, run_id: int) -> PayrollRun:
    """Let a stalled computation continue where it stopped (the job is restartable)."""
    ensure_role(actor, PAYROLL_ROLES, "继续计算发放")
    run = access.access_payroll_by_id(actor, run_id)
    if run.status != PayrollStatus.COMPUTING or not payroll_stalled(run):
        raise Conflict(Code.PAYROLL_STATE, "只有中断（10分钟无进展）的计算可以继续")
    return run


def payroll_cancel(*, actor: User, run_id: int, reason: Any) -> PayrollRun:
    ensure_role(actor, PAYROLL_ROLES, "撤销发放批次")
    why = reason_text(reason)
    access.access_payroll_by_id(actor, run_id)
    with transaction.atomic():
        run = locks.lock_payroll(run_id)
        if run.status not in (PayrollStatus.PENDING, PayrollStatus.PREVIEW, PayrollStatus.FAILED):
            raise Conflict(Code.PAYROLL_STATE, f"批次状态为“{run.get_status_display()}”，不能撤销")
        PayrollLine.objects.filter(run=run).delete()
        PayrollRun.objects.filter(pk=run.pk).update(status=PayrollStatus.CANCELLED, error=why)
        run.refresh_from_db()
    return run


# -- approval (four eyes) -----------------------------------------------------------------------

_PAY_SQL = """
INSERT INTO benefits_payment
    (run_id, entitlement_id, household_id, programme, period, kind, amount, division_path,
     status, reference, transfer_ref, batch_id, reissue_of_id, reissue_ready, failure_code,
     failure_reason, settled_at, created_at)
SELECT l.run_id, l.entitlement_id, l.household_id, l.programme, l.period, l.kind, l.amount,
       e.division_path, 'approved', %s || CAST(l.id AS VARCHAR(20)),
       %s || CAST(l.entitlement_id AS VARCHAR(20)), NULL, l.reissue_of_id, %s, '', '', NULL, %s
FROM benefits_payrollline l JOIN benefits_entitlement e ON e.id = l.entitlement_id
WHERE l.run_id = %s
"""

_SETTLE_SQL = """
UPDATE benefits_entitlement SET settled_through = %s, dirty_from = NULL
WHERE division_path LIKE %s AND id <= %s
  AND (settled_through IS NULL OR settled_through < %s OR dirty_from IS NOT NULL)
"""


def payroll_approve(*, actor: User, run_id: int, reason: Any = "同意发放") -> PayrollRun:
    """The second person's approval: every line becomes an immutable payment."""
    ensure_role(actor, PAYROLL_ROLES, "审批发放")
    why = reason_text(reason)
    access.access_payroll_by_id(actor, run_id)
    with transaction.atomic():
        run = locks.lock_payroll(run_id)
        if run.status != PayrollStatus.PREVIEW:
            raise Conflict(Code.PAYROLL_STATE,
                           f"批次状态为“{run.get_status_display()}”，只有待审批的批次可以审批")  # fmt: skip
        if run.prepared_by_id == actor.pk:
            raise PermissionDenied(Code.FOUR_EYES, "发放须由制表人以外的另一名区级审批员审批")
        changed = Entitlement.objects.filter(
            division_path__startswith=run.division_path, pk__lte=run.scope_max_id,
            changed_at__gt=run.started_at,
        ).count()  # fmt: skip
        if changed:
            raise Conflict(Code.STALE,
                           f"计算后有 {changed} 项救助待遇发生变化，请重新计算后再审批",
                           {"changed": changed})  # fmt: skip
        now = timezone.now()
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(_PAY_SQL, [f"{run.number}-", f"{run.number}-", False, now, run.pk])
        except IntegrityError:
            raise Conflict(Code.DUPLICATE_PAYMENT,
                           "有救助对象该月已有发放记录，不能重复发放；请重新计算",
                           {"payroll": run.pk}) from None  # fmt: skip
        with connection.cursor() as cur:
            cur.execute(_SETTLE_SQL, [run.period, run.division_path + "%", run.scope_max_id,
                                      run.period])  # fmt: skip
        for ent_id, month in run.carry.items():
            Entitlement.objects.filter(pk=int(ent_id)).update(dirty_from=date.fromisoformat(month))
        journal.post_approval(run, actor)
        PayrollRun.objects.filter(pk=run.pk).update(
            status=PayrollStatus.APPROVED, approved_by=actor, approved_at=now, approval_reason=why
        )
        run.refresh_from_db()
    log.info("payroll %s approved by %s", run.number, actor.pk)
    return run


def run_summary(run: PayrollRun) -> dict[str, Any]:
    """Totals of a run's lines (the preview) by programme, kind and street."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT programme, kind, COUNT(*), {fen_sum_sql('amount')} FROM benefits_payrollline "
            "WHERE run_id = %s GROUP BY programme, kind ORDER BY programme, kind",
            [run.pk],
        )
        by_kind = [(p, k, int(n), Decimal(int(f or 0)) / 100) for p, k, n, f in cur.fetchall()]
        depth = len(run.division_path.strip("/").split("/")) + 1
        cur.execute(
            f"SELECT e.division_path, COUNT(*), {fen_sum_sql('l.amount')} "
            "FROM benefits_payrollline l JOIN benefits_entitlement e ON e.id = l.entitlement_id "
            "WHERE l.run_id = %s GROUP BY e.division_path",
            [run.pk],
        )
        streets: dict[str, list[Any]] = {}
        for path, n, fen in cur.fetchall():
            parts = path.strip("/").split("/")
            code = parts[depth - 1] if len(parts) >= depth else parts[-1]
            row = streets.setdefault(code, [0, Decimal("0.00")])
            row[0] += int(n)
            row[1] += Decimal(int(fen or 0)) / 100
    return {"by_kind": by_kind, "by_street": streets}
