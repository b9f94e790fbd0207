"""Dynamic management (动态管理): recertification reviews and standard changes.

A review (动态复核) re-runs the engine on the household's current registry data and
proposes one of four outcomes; a worker confirms it (or chooses another) and the
entitlement changes through ``services`` in the same transaction. A standard change
(标准调整) recomputes every live entitlement of a programme in a district when a policy
parameter takes a new value from a month, and records what changed row by row.

Rules and invariants: ``docs/subsystems/review.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from minzheng.accounts import access
from minzheng.accounts.roles import Role
from minzheng.applications import clock
from minzheng.applications.selectors import household_results
from minzheng.core.errors import ApplicationError, Conflict, FieldError, NotFound, PermissionDenied
from minzheng.core.money import MoneyError, format_amount, parse_amount, quantize
from minzheng.core.periods import add_months, month_of, months_between, parse_month
from minzheng.programmes.eligibility import parameter_value, programme_labels
from minzheng.registry.models import Income
from minzheng.registry.vocab import IncomeType, PersonState

from . import locks
from .errors import BenefitsErrorCode as Code
from .models import (
    LIVE_STATUSES,
    Entitlement,
    EntitlementAmount,
    EntitlementEvent,
    Review,
    ReviewOutcome,
    StandardChange,
    StandardChangeRow,
)
from .services import (
    ENTITLEMENT_WRITERS,
    amount_at,
    ensure_role,
    entitlement_amount_set,
    entitlement_end,
    entitlement_schedule,
    next_review,
    payroll_unit,
    reason_text,
    review_class_for,
    review_schedule_set,
)

if TYPE_CHECKING:
    from minzheng.accounts.models import User

log = logging.getLogger(__name__)

ZERO = Decimal("0.00")
HALF = Decimal("0.5")
# Programmes with a gradual exit (渐退): the parameter is dibao's.
GRADUAL_EXIT_PROGRAMMES = frozenset({"dibao"})
# Income types that show a member found work (就业): employee wages and self-employment.
EMPLOYMENT_INCOMES = (IncomeType.WAGE, IncomeType.BUSINESS)
# Who runs a standard change over a district.
STANDARD_CHANGE_ROLES = frozenset({Role.DISTRICT_APPROVER})
NOTE_NOT_ELIGIBLE = "需复核：按新标准不再符合条件"
NOTE_SCHEDULED_END = "需复核：已安排终止或渐退，未按新标准调整"
NOTE_LATER_AMOUNT = "需复核：生效月份之后已有金额变更，未按新标准调整"
NOTE_NO_RESULT = "需复核：系统未能测算该户"


def _yuan(value: Decimal) -> str:
    return f"{quantize(value):,.2f}"


# -- reading -----------------------------------------------------------------------------------


def _staff(actor: User) -> bool:
    """Reviews and standard changes are read by staff in their jurisdiction only (a
    resident sees their entitlements, not the office's working papers)."""
    return actor.is_active and actor.role in access.BENEFIT_READERS


def reviews_due(actor: User, as_of: date | None = None) -> QuerySet[Entitlement]:
    """Live entitlements in the actor's jurisdiction whose review date has come
    (``next_review_on`` ≤ ``as_of``, default today) and that have no open review; an
    entitlement already ended by a schedule before that month is not due. Earliest first."""
    if not _staff(actor):
        return Entitlement.objects.none()
    day = as_of or clock.today()
    open_review = Review.objects.filter(entitlement=OuterRef("pk"), confirmed_at__isnull=True)
    return (
        access.entitlements_visible(actor)
        .filter(status__in=LIVE_STATUSES, next_review_on__lte=day)
        .filter(Q(end_month__isnull=True) | Q(end_month__gte=month_of(day)))
        .exclude(Exists(open_review))
        .select_related("household")
        .order_by("next_review_on", "pk")
    )


def reviews_visible(actor: User) -> QuerySet[Review]:
    if not _staff(actor):
        return Review.objects.none()
    return Review.objects.filter(
        entitlement__in=access.entitlements_visible(actor).values("pk")
    ).select_related("entitlement__household", "created_by", "confirmed_by")


def review_get(actor: User, review_id: int) -> Review:
    found = reviews_visible(actor).filter(pk=review_id).first()
    if found is None:
        raise NotFound(Code.REVIEW_NOT_FOUND, "复核记录不存在或不在您的管辖范围内")
    return found


def standard_changes_visible(actor: User) -> QuerySet[StandardChange]:
    if not _staff(actor) or actor.division is None:
        return StandardChange.objects.none()
    return StandardChange.objects.filter(
        division__path__startswith=actor.division.path
    ).select_related("division", "created_by")


def standard_change_get(actor: User, change_id: int) -> StandardChange:
    found = standard_changes_visible(actor).filter(pk=change_id).first()
    if found is None:
        raise NotFound(Code.STANDARD_NOT_FOUND, "标准调整记录不存在或不在您的管辖范围内")
    return found


def _month_text(month: date | None) -> str | None:
    return month.strftime("%Y-%m") if month else None


def entitlement_due_out(ent: Entitlement) -> dict[str, Any]:
    return {
        "entitlement": ent.pk,
        "household": {"id": ent.household_id, "number": ent.household.number},
        "programme": ent.programme,
        "status": ent.status,
        "amount": format_amount(ent.amount),
        "review_class": ent.review_class,
        "next_review_on": ent.next_review_on,
    }


def review_out(review: Review) -> dict[str, Any]:
    ent = review.entitlement
    return {
        "id": review.pk,
        "entitlement": {
            "id": ent.pk, "programme": ent.programme, "status": ent.status,
            "household": {"id": ent.household_id, "number": ent.household.number},
            "amount": format_amount(ent.amount), "end_month": _month_text(ent.end_month),
            "next_review_on": ent.next_review_on,
        },
        "due_on": review.due_on,
        "as_of": review.as_of,
        "proposed": review.proposed,
        "proposed_label": ReviewOutcome(review.proposed).label,
        "proposed_amount": format_amount(review.proposed_amount),
        "reasons": list(review.reasons),
        "open": review.confirmed_at is None,
        "outcome": review.outcome or None,
        "outcome_label": ReviewOutcome(review.outcome).label if review.outcome else None,
        "outcome_amount": (
            format_amount(review.outcome_amount) if review.outcome_amount is not None else None
        ),
        "effective_month": _month_text(review.effective_month),
        "reason": review.reason,
        "created_by": review.created_by.username if review.created_by else None,
        "created_at": review.created_at,
        "confirmed_by": review.confirmed_by.username if review.confirmed_by else None,
        "confirmed_at": review.confirmed_at,
    }  # fmt: skip


def standard_change_out(change: StandardChange, rows_limit: int = 200) -> dict[str, Any]:
    rows = change.rows.all()
    flagged = rows.exclude(note="").count()
    shown = list(rows.select_related("entitlement__household")[: max(0, rows_limit)])
    return {
        "id": change.pk,
        "programme": change.programme,
        "effective_month": _month_text(change.effective_month),
        "division": {"code": change.division.code, "name": change.division.name},
        "reason": change.reason,
        "applied": change.applied,
        "affected": change.affected,
        "needs_review": flagged,
        "monthly_difference": format_amount(change.monthly_difference),
        "arrears_total": format_amount(change.arrears_total),
        "created_by": change.created_by.username,
        "created_at": change.created_at,
        "row_count": rows.count(),
        "rows": [
            {
                "entitlement": r.entitlement_id,
                "household": {"id": r.entitlement.household_id,
                              "number": r.entitlement.household.number},
                "old_amount": format_amount(r.old_amount),
                "new_amount": format_amount(r.new_amount),
                "months_back": r.months_back,
                "arrears": format_amount(r.arrears),
                "note": r.note,
            }
            for r in shown
        ],
    }  # fmt: skip


# -- reviews -----------------------------------------------------------------------------------


def _employment(household_id: int, as_of: date) -> list[str]:
    """Lines naming members with wage or business income in force on ``as_of`` (the
    latest month of that type on or before the as-of month, above zero)."""
    latest: dict[tuple[int, str], Income] = {}
    incomes = (
        Income.objects.filter(
            person__household_id=household_id, person__state=PersonState.ACTIVE,
            type__in=EMPLOYMENT_INCOMES, month__lte=month_of(as_of),
        )
        .select_related("person")
        .order_by("-month")
    )  # fmt: skip
    for inc in incomes:
        latest.setdefault((inc.person_id, inc.type), inc)
    return [
        f"成员 {inc.person.name} 有{inc.get_type_display()} {_yuan(inc.monthly)} 元"
        f"（{inc.month:%Y-%m}）"
        for inc in sorted(latest.values(), key=lambda i: (i.person_id, i.type))
        if inc.monthly > 0
    ]


def _engine_result(ent: Entitlement, as_of: date) -> dict[str, Any] | None:
    result = household_results(ent.household, as_of).get(ent.programme)
    return result if isinstance(result, dict) and "eligible" in result else None


def _propose(ent: Entitlement, as_of: date) -> tuple[str, Decimal, list[str]]:
    result = _engine_result(ent, as_of)
    if result is None:
        raise ApplicationError(Code.REVIEW_ENGINE, "系统未能测算该户，请核对家庭登记信息后重试",
                               status=503)  # fmt: skip
    current = amount_at(ent, month_of(as_of))
    reasons = [str(r) for r in result.get("reasons") or []]
    eligible = bool(result["eligible"])
    new = parse_amount(result.get("amount") or "0") if eligible else ZERO
    basis = f"按 {as_of:%Y-%m-%d} 的登记信息测算"
    if eligible and new == current:
        proposed, amount = ReviewOutcome.CONTINUE, current
        summary = f"复核建议：继续享受（{basis}为 {_yuan(new)} 元/月，与现发放金额相同）"
    elif eligible:
        proposed, amount = ReviewOutcome.ADJUST, new
        summary = (f"复核建议：调整金额（{basis}为 {_yuan(new)} 元/月，"
                   f"现发放 {_yuan(current)} 元/月）")  # fmt: skip
    else:
        work = _employment(ent.household_id, as_of)
        if work and ent.programme in GRADUAL_EXIT_PROGRAMMES:
            proposed, amount = ReviewOutcome.GRADUAL_EXIT, current
            summary = f"复核建议：渐退（{basis}已不符合条件，家庭成员已就业：{'；'.join(work)}）"
        else:
            proposed, amount = ReviewOutcome.STOP, ZERO
            summary = f"复核建议：停止发放（{basis}已不符合条件）"
    return proposed, amount, [summary, *reasons]


def review_run(*, actor: User, entitlement_id: int, as_of: date | None = None) -> Review:
    """Re-run the engine on the household's current registry data and open a review
    with the proposal; one open review per entitlement."""
    ent = access.access_entitlement_by_id(actor, entitlement_id)  # 404 outside the jurisdiction
    ensure_role(actor, ENTITLEMENT_WRITERS, "动态复核")  # 403 for one who may only read
    day = as_of or clock.today()
    _check_reviewable(ent)
    _check_no_open_review(ent.pk)
    # the engine runs outside the lock; the decision to open is taken under it
    proposed, amount, reasons = _propose(ent, day)
    with transaction.atomic():
        ent = locks.lock_entitlement(ent.pk)
        _check_reviewable(ent)
        _check_no_open_review(ent.pk)
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    entitlement=ent, due_on=ent.next_review_on, as_of=day, proposed=proposed,
                    proposed_amount=amount, reasons=reasons, created_by=actor,
                )  # fmt: skip
        except IntegrityError:
            raise _open_conflict(ent.pk) from None
    return review_get(actor, review.pk)


def _check_reviewable(ent: Entitlement) -> None:
    if ent.status not in LIVE_STATUSES:
        raise Conflict(Code.ENTITLEMENT_ENDED, "待遇已终止，无需复核")
    if ent.one_off:
        raise Conflict(Code.REVIEW_NOT_REVIEWABLE, "一次性发放的待遇无需复核")


def _open_conflict(entitlement_id: int) -> ApplicationError:
    open_ = Review.objects.filter(entitlement_id=entitlement_id, confirmed_at__isnull=True).first()
    return Conflict(Code.REVIEW_OPEN, "该待遇已有未确认的复核，请先确认该复核",
                    {"review": open_.pk if open_ else None})  # fmt: skip


def _check_no_open_review(entitlement_id: int) -> None:
    if Review.objects.filter(entitlement_id=entitlement_id, confirmed_at__isnull=True).exists():
        raise _open_conflict(entitlement_id)


def _outcome(raw: Any) -> ReviewOutcome:
    text = str(raw or "").strip()
    if text not in ReviewOutcome.values:
        choices = "、".join(f"{o.value}（{o.label}）" for o in ReviewOutcome)
        raise FieldError("outcome", Code.REVIEW_OUTCOME, f"复核结论应为：{choices}")
    return ReviewOutcome(text)


def _effective(raw: Any, today: date) -> date:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return add_months(month_of(today), 1)
    month = parse_month(raw, "effective_month", Code.MONTH_INVALID)
    if month < month_of(today):
        raise FieldError("effective_month", Code.REVIEW_MONTH_PAST,
                         f"生效月份不能早于本月（{today:%Y-%m}）")  # fmt: skip
    return month


def _confirm_amount(outcome: ReviewOutcome, raw: Any, review: Review) -> Decimal | None:
    if outcome != ReviewOutcome.ADJUST:
        if raw is not None and str(raw).strip():
            raise FieldError("amount", Code.AMOUNT_INVALID, "只有“调整金额”需要填写金额")
        return None
    try:
        value = parse_amount(review.proposed_amount if raw is None or not str(raw).strip() else raw)
    except MoneyError as exc:
        raise FieldError("amount", Code.AMOUNT_INVALID, f"金额无效：{exc.message}") from None
    if value <= 0:
        raise FieldError(
            "amount", Code.AMOUNT_INVALID, "调整后金额应大于0；不再发放请选择“停止发放”"
        )
    return value


def review_confirm(*, actor: User, review_id: int, outcome: Any, reason: Any,
                   amount: Any = None, effective_month: Any = None) -> Review:  # fmt: skip
    """The worker's conclusion: the entitlement changes from ``effective_month`` (default
    next month) in one transaction with the review and a ``review`` event."""
    found = review_get(actor, review_id)  # 404 outside the jurisdiction
    ensure_role(actor, ENTITLEMENT_WRITERS, "确认复核结论")  # 403 for one who may only read
    chosen = _outcome(outcome)
    why = reason_text(reason)
    today = clock.today()
    month = _effective(effective_month, today)
    value = _confirm_amount(chosen, amount, found)
    with transaction.atomic():
        ent = locks.lock_entitlement(found.entitlement_id)
        review = Review.objects.select_for_update().get(pk=found.pk)
        if review.confirmed_at is not None:
            raise Conflict(Code.REVIEW_CONFIRMED,
                           f"该复核已于 {timezone.localtime(review.confirmed_at):%Y-%m-%d %H:%M} 确认，"
                           "不能重复确认")  # fmt: skip
        if ent.status not in LIVE_STATUSES:
            raise Conflict(Code.ENTITLEMENT_ENDED, "待遇已终止，不能再按复核结论变更")
        if chosen == ReviewOutcome.GRADUAL_EXIT and ent.programme not in GRADUAL_EXIT_PROGRAMMES:
            raise FieldError("outcome", Code.REVIEW_OUTCOME, "渐退只适用于最低生活保障")
        data = {"review": review.pk, "outcome": str(chosen), "proposed": review.proposed}
        text = f"动态复核（{chosen.label}）：{why}"[:500]
        result_amount = _apply_outcome(actor, ent, chosen, month, value, text, data, today)
        Review.objects.filter(pk=review.pk).update(
            outcome=chosen, outcome_amount=result_amount,
            effective_month=None if chosen == ReviewOutcome.CONTINUE else month,
            reason=why, confirmed_by=actor, confirmed_at=timezone.now(),
        )  # fmt: skip
    return review_get(actor, found.pk)


def _apply_outcome(actor: User, ent: Entitlement, chosen: ReviewOutcome, month: date,
                   value: Decimal | None, text: str, data: dict[str, Any], today: date) -> Decimal:  # fmt: skip
    """Change the (locked) entitlement; return the monthly amount from ``month`` on."""
    review_event = EntitlementEvent.Kind.REVIEW
    if chosen in (ReviewOutcome.CONTINUE, ReviewOutcome.ADJUST):
        if chosen == ReviewOutcome.ADJUST:
            assert value is not None
            ent = entitlement_amount_set(actor=actor, entitlement_id=ent.pk, from_month=month,
                                         amount=value, reason=text, kind=review_event,
                                         data=data, checked=True)  # fmt: skip
            result = value
        else:
            result = amount_at(ent, month_of(today))
        review_class = review_class_for(ent.household_id, today)
        next_on = next_review(ent.programme, review_class, today)
        review_schedule_set(ent, review_class=review_class, next_review_on=next_on)
        if chosen == ReviewOutcome.CONTINUE:
            EntitlementEvent.objects.create(
                entitlement=ent, kind=review_event, reason=text[:500], actor=actor,
                data={**data, "next_review_on": next_on.isoformat() if next_on else None,
                      "review_class": review_class},
            )  # fmt: skip
        return result
    if chosen == ReviewOutcome.GRADUAL_EXIT:
        previous = amount_at(ent, max(add_months(month, -1), ent.start_month))
        exit_ = parameter_value("dibao.gradual_exit", month)
        full, half_n = int(exit_["full_months"]), int(exit_["half_months"])
        half = quantize(previous * HALF)
        steps: list[tuple[date, Decimal]] = []
        if full > 0:
            steps.append((month, previous))
        if half_n > 0:
            steps.append((add_months(month, full), half))
        if not steps:  # no exit period at all: the same as stopping
            return _stop(actor, ent, month, text, data)
        last = add_months(month, full + half_n - 1)
        entitlement_schedule(actor=actor, entitlement_id=ent.pk, steps=steps, last_month=last,
                             reason=text, kind=review_event,
                             data={**data, "full_months": full, "half_months": half_n,
                                   "previous": format_amount(previous),
                                   "half": format_amount(half),
                                   "last_month": last.strftime("%Y-%m")})  # fmt: skip
        ent.refresh_from_db()
        review_schedule_set(ent, next_review_on=None)
        return previous
    return _stop(actor, ent, month, text, data)


def _stop(actor: User, ent: Entitlement, month: date, text: str, data: dict[str, Any]) -> Decimal:
    last = max(add_months(month, -1), add_months(ent.start_month, -1))
    entitlement_end(actor=actor, entitlement_id=ent.pk, last_month=last, reason=text,
                    checked=True)  # fmt: skip
    EntitlementEvent.objects.create(
        entitlement=ent, kind=EntitlementEvent.Kind.REVIEW, effective_month=month,
        old_amount=amount_at(ent, last), new_amount=ZERO, reason=text[:500], actor=actor,
        data={**data, "last_month": last.strftime("%Y-%m")},
    )  # fmt: skip
    return ZERO


# -- standard changes ------------------------------------------------------------------------


@dataclass
class _Row:
    entitlement_id: int
    from_month: date
    old: Decimal
    new: Decimal
    months_back: int = 0
    arrears: Decimal = ZERO
    note: str = ""

    @property
    def changes(self) -> bool:
        return not self.note and self.new != self.old


def _months_back(from_month: date, settled_through: date | None) -> int:
    if settled_through is None or settled_through < from_month:
        return 0
    return months_between(from_month, settled_through) + 1


def _schedule_of(ent: Entitlement) -> list[EntitlementAmount]:
    return sorted(ent.amounts.all(), key=lambda a: a.from_month)


def _amount_in(schedule: list[EntitlementAmount], month: date) -> Decimal:
    found = ZERO
    for row in schedule:
        if row.from_month <= month:
            found = row.amount
    return found


def _candidates(actor: User, programme: str, month: date) -> QuerySet[Entitlement]:
    """Live entitlements of the programme in the actor's jurisdiction still paid in
    ``month`` or later."""
    return (
        access.entitlements_visible(actor)
        .filter(programme=programme, status__in=LIVE_STATUSES, one_off=False)
        .filter(Q(end_month__isnull=True) | Q(end_month__gte=month))
        .select_related("household__division")
        .prefetch_related("amounts")
        .order_by("pk")
    )


def _compute_row(ent: Entitlement, month: date) -> _Row | None:
    """What the new value means for one entitlement (the engine, no locks), or None when
    nothing changes."""
    start = max(month, ent.start_month)
    schedule = _schedule_of(ent)
    old = _amount_in(schedule, start)
    if ent.end_month is not None:
        return _Row(ent.pk, start, old, old, note=NOTE_SCHEDULED_END)
    if any(a.from_month > start for a in schedule):
        return _Row(ent.pk, start, old, old, note=NOTE_LATER_AMOUNT)
    try:
        result = household_results(ent.household, month).get(ent.programme)
    except ApplicationError as exc:  # a registry document the engine refuses
        log.info("standard change: household %s not evaluated: %s", ent.household_id, exc.code)
        result = None
    if not isinstance(result, dict) or "eligible" not in result:
        return _Row(ent.pk, start, old, old, note=NOTE_NO_RESULT)
    if not result["eligible"]:
        return _Row(ent.pk, start, old, old, note=NOTE_NOT_ELIGIBLE)
    new = parse_amount(result.get("amount") or "0")
    if new == old:
        return None
    back = _months_back(start, ent.settled_through)
    return _Row(ent.pk, start, old, new, back, quantize((new - old) * back))


def _check_programme(raw: Any) -> str:
    programme = str(raw or "").strip()
    if programme not in programme_labels() or payroll_unit(programme) != "monthly":
        raise FieldError("programme", Code.STANDARD_PROGRAMME,
                         f"{programme[:40] or '（空）'} 不是按月发放的救助项目")  # fmt: skip
    return programme


def _totals(rows: list[_Row]) -> dict[str, Any]:
    changed = [r for r in rows if r.changes]
    return {
        "affected": len(changed),
        "monthly_difference": sum((r.new - r.old for r in changed), ZERO),
        "arrears_total": sum((r.arrears for r in changed), ZERO),
    }


def _apply_rows(actor: User, change: StandardChange, rows: list[_Row], why: str) -> list[_Row]:
    """Apply the changing rows (inside the caller's transaction): lock the entitlements in
    ascending id order, check nothing moved since the rows were computed (else 409,
    nothing changed), then change each amount through ``entitlement_amount_set``."""
    changing = {r.entitlement_id: r for r in rows if r.changes}
    stale: list[int] = []
    locked = locks.lock_entitlements(changing)
    for ent in locked:
        row = changing[ent.pk]
        if (ent.status not in LIVE_STATUSES or ent.end_month is not None
                or amount_at(ent, row.from_month) != row.old
                or ent.amounts.filter(from_month__gt=row.from_month).exists()):  # fmt: skip
            stale.append(ent.pk)
            continue
        # the payroll may have settled more months since a preview
        row.months_back = _months_back(row.from_month, ent.settled_through)
        row.arrears = quantize((row.new - row.old) * row.months_back)
    if stale or len(locked) != len(changing):
        missing = sorted(set(changing) - {e.pk for e in locked})
        raise Conflict(Code.STANDARD_STALE,
                       f"有 {len(stale) + len(missing)} 项待遇在测算后已发生变化，请重新测算",
                       {"entitlements": sorted(stale + missing)[:50]})  # fmt: skip
    label = programme_labels().get(change.programme, (change.programme, "", ""))[0]
    text = f"标准调整（{label}，{change.effective_month:%Y-%m}起）：{why}"[:500]
    for ent in locked:
        row = changing[ent.pk]
        entitlement_amount_set(
            actor=actor, entitlement_id=ent.pk, from_month=row.from_month, amount=row.new,
            reason=text, kind=EntitlementEvent.Kind.STANDARD,
            data={"standard_change": change.pk, "months_back": row.months_back,
                  "arrears": format_amount(row.arrears)},
            checked=True,
        )  # fmt: skip
    return rows


def _save_rows(change: StandardChange, rows: list[_Row], *, applied: bool) -> StandardChange:
    StandardChangeRow.objects.filter(change=change).delete()
    StandardChangeRow.objects.bulk_create(
        [StandardChangeRow(change=change, entitlement_id=r.entitlement_id, old_amount=r.old,
                           new_amount=r.new, months_back=r.months_back, arrears=r.arrears,
                           note=r.note) for r in rows],
        batch_size=1000,
    )  # fmt: skip
    StandardChange.objects.filter(pk=change.pk).update(applied=applied, **_totals(rows))
    change.refresh_from_db()
    return change


def standard_change_apply(*, actor: User, programme: Any, effective_month: Any, reason: Any,
                          dry_run: bool = False) -> StandardChange:  # fmt: skip
    """Recompute every live entitlement of ``programme`` in the actor's district as of
    ``effective_month`` under the policy parameters in force then. A changed amount is
    recorded as a row and (unless ``dry_run``) set from that month, marking settled months
    for arrears or recovery; a household no longer eligible is only flagged for review.

    Cost: one engine evaluation per entitlement (a few queries and milliseconds each),
    outside any lock; then one transaction locking the changing entitlements."""
    ensure_role(actor, STANDARD_CHANGE_ROLES, "标准调整")
    if actor.division is None:
        raise PermissionDenied(Code.ROLE_FORBIDDEN, "标准调整须由有辖区的区级审批员办理")
    name = _check_programme(programme)
    month = parse_month(effective_month, "effective_month", Code.MONTH_INVALID)
    why = reason_text(reason)
    rows = [r for ent in _candidates(actor, name, month).iterator(chunk_size=500)
            if (r := _compute_row(ent, month)) is not None]  # fmt: skip
    with transaction.atomic():
        change = StandardChange.objects.create(
            programme=name, effective_month=month, division=actor.division, reason=why,
            created_by=actor,
        )  # fmt: skip
        if not dry_run:
            _apply_rows(actor, change, rows, why)
        _save_rows(change, rows, applied=not dry_run)
    return standard_change_get(actor, change.pk)


def standard_change_confirm(*, actor: User, change_id: int, reason: Any) -> StandardChange:
    """Apply a previewed (``dry_run``) change as previewed: refused (409, nothing changed)
    when an entitlement it changes has moved since the preview."""
    found = standard_change_get(actor, change_id)  # 404 outside the jurisdiction
    ensure_role(actor, STANDARD_CHANGE_ROLES, "确认标准调整")
    why = reason_text(reason)
    with transaction.atomic():
        change = StandardChange.objects.select_for_update().get(pk=found.pk)
        if change.applied:
            raise Conflict(Code.STANDARD_APPLIED, "该标准调整已执行，不能重复执行")
        stored = list(change.rows.select_related("entitlement").order_by("pk"))
        rows = [
            _Row(s.entitlement_id, max(change.effective_month, s.entitlement.start_month),
                 s.old_amount, s.new_amount, s.months_back, s.arrears, s.note)
            for s in stored
        ]  # fmt: skip
        _apply_rows(actor, change, rows, f"{change.reason}；确认意见：{why}")
        for s, r in zip(stored, rows, strict=True):
            if (s.months_back, s.arrears) != (r.months_back, r.arrears):
                StandardChangeRow.objects.filter(pk=s.pk).update(months_back=r.months_back,
                                                                 arrears=r.arrears)  # fmt: skip
        StandardChange.objects.filter(pk=change.pk).update(applied=True, **_totals(rows))
    return standard_change_get(actor, found.pk)


__all__ = [
    "entitlement_due_out",
    "review_confirm",
    "review_get",
    "review_out",
    "review_run",
    "reviews_due",
    "reviews_visible",
    "standard_change_apply",
    "standard_change_confirm",
    "standard_change_get",
    "standard_change_out",
    "standard_changes_visible",
]
