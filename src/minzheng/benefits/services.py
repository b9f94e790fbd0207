"""Entitlements: created from approved decisions, changed only through these services.

Every change locks the entitlement (``locks``), writes an ``EntitlementEvent`` with who
and why in the same transaction, and, when it reaches back into months a payroll has
already settled, marks the entitlement ``dirty_from`` that month so the next payroll
pays the difference (arrears) or recovers the overpayment.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from minzheng.accounts import access
from minzheng.accounts.roles import Role
from minzheng.applications import clock
from minzheng.core.errors import ApplicationError, FieldError, PermissionDenied
from minzheng.core.money import MoneyError, parse_amount
from minzheng.core.periods import add_months, month_of, parse_month
from minzheng.core.text import has_control_characters
from minzheng.programmes.eligibility import parameter_value, programme_labels
from minzheng.registry.models import Person

from . import locks
from .banks import parse_bank_account
from .errors import BenefitsErrorCode as Code
from .models import (
    LIVE_STATUSES,
    Entitlement,
    EntitlementAmount,
    EntitlementEvent,
    EntitlementStatus,
    Payment,
    PaymentStatus,
    ReviewClass,
    Suspension,
)

if TYPE_CHECKING:
    from minzheng.accounts.models import User
    from minzheng.applications.models import ApplicationLine

log = logging.getLogger(__name__)

# Who changes an entitlement (bank account, suspension, end, amount) in their jurisdiction.
ENTITLEMENT_WRITERS = frozenset(
    {Role.COMMUNITY_WORKER, Role.STREET_REVIEWER, Role.DISTRICT_APPROVER}
)
# Programmes whose decisions the review schedule (分类管理) covers.
REVIEWED_PROGRAMMES = frozenset({"dibao", "low_income", "extreme_poverty"})


def reason_text(raw: Any, field: str = "reason") -> str:
    text = str(raw or "").strip()
    if not text:
        raise FieldError(field, Code.REASON_REQUIRED, "请填写理由")
    if len(text) > 500 or has_control_characters(text):
        raise FieldError(field, Code.REASON_REQUIRED, "理由不能超过500个字符，且不能含控制字符")
    return text


def ensure_role(actor: User, roles: frozenset[str], what: str) -> None:
    if actor.role not in roles:
        names = "、".join(Role(r).label for r in sorted(roles))
        raise PermissionDenied(Code.ROLE_FORBIDDEN, f"{what}须由{names}办理")


def payroll_unit(programme: str) -> str | None:
    """``"monthly"``, ``"once"``, or None for a programme the payroll does not pay
    (eligibility-only programmes, medical assistance settled per bill)."""
    unit = programme_labels().get(programme, ("", "", ""))[2]
    return {"yuan/month": "monthly", "yuan": "once"}.get(unit)


def review_class_for(household_id: int, as_of: date) -> str:
    """分类管理: a household with a member of working age (18–59) who is neither severely
    ill, severely disabled nor unable to work is reviewed every six months; others yearly."""
    for p in Person.objects.filter(household_id=household_id, state="active"):
        age = as_of.year - p.birth_date.year - ((as_of.month, as_of.day) < (p.birth_date.month,
                                                                            p.birth_date.day))  # fmt: skip
        severe = p.disability_grade is not None and p.disability_grade <= 2
        excused = {"serious_illness", "no_work_capacity", "student"} & set(p.statuses or [])
        if 18 <= age <= 59 and not severe and not excused:
            return ReviewClass.IRREGULAR
    return ReviewClass.STABLE


def next_review(programme: str, review_class: str, after: date) -> date | None:
    if programme not in REVIEWED_PROGRAMMES:
        return None
    months = parameter_value("dibao.review_frequency_months", after)[review_class]
    return add_months(month_of(after), int(months))


def _event(ent: Entitlement, kind: str, reason: str, actor: User | None, *,
           month: date | None = None, old: Decimal | None = None, new: Decimal | None = None,
           data: dict[str, Any] | None = None) -> EntitlementEvent:  # fmt: skip
    return EntitlementEvent.objects.create(
        entitlement=ent, kind=kind, effective_month=month, old_amount=old, new_amount=new,
        reason=reason[:500], data=data or {}, actor=actor,
    )  # fmt: skip


def review_schedule_set(ent: Entitlement, **fields: Any) -> None:
    """Set the review class or next review date: not a payable fact, so a payroll
    preview computed before it stays valid (``changed_at`` is left alone)."""
    allowed = {"review_class", "next_review_on"}
    if set(fields) - allowed:
        raise ValueError(f"only {allowed} may be set here")
    Entitlement.objects.filter(pk=ent.pk).update(**fields)
    ent.refresh_from_db()


def _touch(ent: Entitlement, month: date | None, **fields: Any) -> None:
    """Save ``fields``; a change reaching into settled months marks the entitlement dirty."""
    if month is not None and ent.settled_through is not None and month <= ent.settled_through:
        fields["dirty_from"] = min(month, ent.dirty_from) if ent.dirty_from else month
    fields.update(changed_at=timezone.now(), version=F("version") + 1)
    Entitlement.objects.filter(pk=ent.pk).update(**fields)
    ent.refresh_from_db()


# -- creation --------------------------------------------------------------------------------


def entitlement_from_line(line: ApplicationLine, actor: User) -> Entitlement | None:
    """The entitlement an approved decision creates (called in the approval's transaction).

    A decision for a programme the household already receives changes that entitlement's
    amount from the decision's start month instead of opening a second one. A monthly
    decision has no end: an entitlement of the programme that ended (or is to end)
    continues, the months between its end and the decision owing nothing. A one-off grant
    whose month has passed is left as it was, and the new grant is a new entitlement."""
    unit = payroll_unit(line.programme)
    if unit is None or line.amount is None or line.amount <= 0 or line.start_month is None:
        return None
    household = line.household
    start = line.start_month
    rows = Entitlement.objects.select_for_update().filter(household=household,
                                                          programme=line.programme)  # fmt: skip
    existing = rows.filter(status__in=LIVE_STATUSES).first()
    if existing is None and unit == "monthly":
        existing = rows.filter(status=EntitlementStatus.ENDED).last()
    reason = f"审批决定 {line.application.number}：{line.decision_reason}"[:500]
    if existing is not None and existing.one_off and existing.start_month < start:
        if existing.status != EntitlementStatus.ENDED:  # paid in its month; it is done
            _touch(existing, None, status=EntitlementStatus.ENDED, status_reason=reason)
            _event(existing, EntitlementEvent.Kind.ENDED, reason, actor, month=existing.end_month)
        existing = None
    if existing is not None:
        if existing.end_month is not None and not existing.one_off:
            gap = add_months(existing.end_month, 1)  # nothing due from here to the decision
            EntitlementAmount.objects.filter(entitlement=existing, from_month__gte=gap).delete()
            if gap < start:
                EntitlementAmount.objects.create(entitlement=existing, from_month=gap,
                                                 amount=Decimal("0.00"), cause=reason[:200])  # fmt: skip
            _touch(existing, None, end_month=None, status_reason="",
                   next_review_on=next_review(line.programme, existing.review_class, start),
                   **({"status": EntitlementStatus.ACTIVE}
                      if existing.status == EntitlementStatus.ENDED else {}))  # fmt: skip
        return _amount_change(existing, start, line.amount, reason, actor,
                              kind=EntitlementEvent.Kind.AMOUNT)  # fmt: skip
    review_class = review_class_for(household.pk, clock.today())
    ent = Entitlement.objects.create(
        household=household, payee=line.application.applicant, programme=line.programme,
        line=line, division_id=household.division_id, division_path=line.division_path,
        amount=line.amount, amount_from=start, one_off=unit == "once", start_month=start,
        end_month=start if unit == "once" else None, review_class=review_class,
        next_review_on=next_review(line.programme, review_class, start),
        settled_through=add_months(start, -1),
    )  # fmt: skip
    EntitlementAmount.objects.create(entitlement=ent, from_month=start, amount=line.amount,
                                     cause=reason[:200])  # fmt: skip
    _event(ent, EntitlementEvent.Kind.CREATED, reason, actor, month=start, new=line.amount,
           data={"application": line.application_id, "line": line.pk})  # fmt: skip
    return ent


# -- changes ----------------------------------------------------------------------------------


def _writable(actor: User, entitlement_id: int) -> Entitlement:
    ensure_role(actor, ENTITLEMENT_WRITERS, "变更救助待遇")
    access.access_entitlement_by_id(actor, entitlement_id)  # 404 outside the jurisdiction
    return locks.lock_entitlement(entitlement_id)


def _month(raw: Any, field: str) -> date:
    return parse_month(raw, field, Code.MONTH_INVALID)


def entitlement_account_set(
    *, actor: User, entitlement_id: int, bank_code: Any, account_number: Any,
    account_name: Any, account_kind: Any = "card", reason: Any = "",
) -> Entitlement:  # fmt: skip
    """Record (or correct) the bank account; payments that failed on the old account
    become ready to be re-issued by the next payroll."""
    account = parse_bank_account(bank_code, account_number, account_name, account_kind)
    why = reason_text(reason or "登记银行账户")
    with transaction.atomic():
        ent = _writable(actor, entitlement_id)
        old = ent.account_masked
        failed = list(
            Payment.objects.select_for_update(of=("self",))
            .filter(entitlement=ent, status=PaymentStatus.FAILED, reissue__isnull=True)
            .order_by("pk")
        )
        # an ended entitlement may still owe money (months not yet paid, a failed
        # payment): its account can be recorded until everything is paid
        if ent.status == EntitlementStatus.ENDED and not failed and not _still_open(ent):
            raise ApplicationError(Code.ENTITLEMENT_ENDED, "待遇已终止且无待发款项，不能变更账户",
                                   status=409)  # fmt: skip
        Payment.objects.filter(pk__in=[p.pk for p in failed]).update(reissue_ready=True)
        earliest = min((p.period for p in failed), default=None)
        fields: dict[str, Any] = dict(
            bank_code=account.bank_code, account_encrypted=account.encrypted,
            account_masked=account.masked, account_name=account.name,
            account_changed_at=timezone.now(),
        )  # fmt: skip
        if earliest is not None:
            fields["dirty_from"] = min(earliest, ent.dirty_from) if ent.dirty_from else earliest
        _touch(ent, None, **fields)
        _event(ent, EntitlementEvent.Kind.ACCOUNT, why, actor,
               data={"old": old, "new": account.masked, "bank_code": account.bank_code,
                     "reissue_ready": [p.pk for p in failed]})  # fmt: skip
    return ent


def _still_open(ent: Entitlement) -> bool:
    """Months the payroll has still to look at (not settled through the end, or dirty)."""
    return ent.dirty_from is not None or (
        ent.end_month is not None
        and (ent.settled_through is None or ent.settled_through < ent.end_month)
    )


def entitlement_suspend(*, actor: User, entitlement_id: int, from_month: Any, reason: Any) -> Entitlement:  # fmt: skip
    month = _month(from_month, "from_month")
    why = reason_text(reason)
    with transaction.atomic():
        ent = _writable(actor, entitlement_id)
        if ent.status != EntitlementStatus.ACTIVE:
            raise ApplicationError(Code.ENTITLEMENT_STATE,
                                   f"只有正常发放的待遇可以暂停（当前：{ent.get_status_display()}）",
                                   status=409)  # fmt: skip
        if month < ent.start_month:
            raise FieldError("from_month", Code.MONTH_INVALID, "暂停月份不能早于待遇起始月份")
        Suspension.objects.create(entitlement=ent, from_month=month, reason=why)
        _touch(ent, month, status=EntitlementStatus.SUSPENDED, status_reason=why)
        _event(ent, EntitlementEvent.Kind.SUSPENDED, why, actor, month=month)
    return ent


def entitlement_resume(*, actor: User, entitlement_id: int, from_month: Any, reason: Any) -> Entitlement:  # fmt: skip
    """Pay again from ``from_month``; the suspended months stay unpaid."""
    month = _month(from_month, "from_month")
    why = reason_text(reason)
    with transaction.atomic():
        ent = _writable(actor, entitlement_id)
        open_ = ent.suspensions.filter(to_month__isnull=True).order_by("-from_month").first()
        if ent.status != EntitlementStatus.SUSPENDED or open_ is None:
            raise ApplicationError(Code.ENTITLEMENT_STATE, "该待遇未处于暂停状态", status=409)
        if month <= open_.from_month:
            raise FieldError("from_month", Code.MONTH_INVALID,
                             f"恢复月份应晚于暂停起始月份 {open_.from_month:%Y-%m}")  # fmt: skip
        Suspension.objects.filter(pk=open_.pk).update(to_month=add_months(month, -1))
        _touch(ent, month, status=EntitlementStatus.ACTIVE, status_reason="")
        _event(ent, EntitlementEvent.Kind.RESUMED, why, actor, month=month)
    return ent


def entitlement_end(*, actor: User | None, entitlement_id: int, last_month: Any, reason: Any,
                    checked: bool = False) -> Entitlement:  # fmt: skip
    """Stop after ``last_month`` (back-dated if the facts changed earlier: what was paid
    for later months is recovered by the next payroll)."""
    month = _month(last_month, "last_month")
    why = reason_text(reason)
    with transaction.atomic():
        ent = locks.lock_entitlement(entitlement_id) if checked or actor is None else _writable(actor, entitlement_id)  # fmt: skip
        if ent.status == EntitlementStatus.ENDED:
            raise ApplicationError(Code.ENTITLEMENT_ENDED, "待遇已终止", status=409)
        if month < add_months(ent.start_month, -1):
            raise FieldError(
                "last_month", Code.MONTH_INVALID, "终止月份不能早于待遇起始月份的前一个月"
            )
        end = max(month, ent.start_month)
        if month < ent.start_month:  # ended before it began: nothing was ever due
            EntitlementAmount.objects.filter(entitlement=ent).update(amount=Decimal("0.00"))
            _touch(ent, ent.start_month, amount=Decimal("0.00"))
        Suspension.objects.filter(entitlement=ent, from_month__gt=end).delete()
        Suspension.objects.filter(entitlement=ent, to_month__isnull=True).update(to_month=end)
        _touch(ent, add_months(month, 1), status=EntitlementStatus.ENDED, status_reason=why,
               end_month=end, next_review_on=None)  # fmt: skip
        _event(ent, EntitlementEvent.Kind.ENDED, why, actor, month=month)
    return ent


def _amount_change(ent: Entitlement, month: date, amount: Decimal, reason: str,
                   actor: User | None, *, kind: str, data: dict[str, Any] | None = None) -> Entitlement:  # fmt: skip
    """Amount ``amount`` from ``month`` on (the entitlement is already locked). Later
    scheduled amounts are replaced: a new decision overrides an old schedule."""
    if month < ent.start_month:
        month = ent.start_month
    old = amount_at(ent, month)
    EntitlementAmount.objects.filter(entitlement=ent, from_month__gte=month).delete()
    EntitlementAmount.objects.create(entitlement=ent, from_month=month, amount=amount,
                                     cause=reason[:200])  # fmt: skip
    _touch(ent, month, amount=amount, amount_from=month)
    _event(ent, kind, reason, actor, month=month, old=old, new=amount, data=data)
    return ent


def entitlement_amount_set(*, actor: User | None, entitlement_id: int, from_month: Any,
                           amount: Any, reason: Any, kind: str = EntitlementEvent.Kind.AMOUNT,
                           data: dict[str, Any] | None = None, checked: bool = False) -> Entitlement:  # fmt: skip
    """Change the monthly amount from a month on (review, standard change, correction).

    ``checked``: the caller (a review or standard change service) has already checked
    the actor's role and scope."""
    month = _month(from_month, "from_month")
    why = reason_text(reason)
    try:
        value = parse_amount(amount)
    except MoneyError as exc:
        raise FieldError("amount", Code.AMOUNT_INVALID, f"金额无效：{exc.message}") from None
    with transaction.atomic():
        ent = locks.lock_entitlement(entitlement_id) if checked or actor is None else _writable(actor, entitlement_id)  # fmt: skip
        if ent.status == EntitlementStatus.ENDED:
            raise ApplicationError(Code.ENTITLEMENT_ENDED, "待遇已终止，不能调整金额", status=409)
        return _amount_change(ent, month, value, why, actor, kind=kind, data=data)


def entitlement_schedule(*, actor: User | None, entitlement_id: int,
                         steps: list[tuple[date, Decimal]], last_month: date | None,
                         reason: str, kind: str, data: dict[str, Any] | None = None) -> Entitlement:  # fmt: skip
    """Set a schedule of amounts (``steps``: month → amount) and, optionally, the last
    month paid: how a gradual exit (渐退) is recorded. The caller has checked the actor."""
    with transaction.atomic():
        ent = locks.lock_entitlement(entitlement_id)
        if ent.status == EntitlementStatus.ENDED:
            raise ApplicationError(Code.ENTITLEMENT_ENDED, "待遇已终止", status=409)
        first = min(m for m, _ in steps)
        old = amount_at(ent, first)
        EntitlementAmount.objects.filter(entitlement=ent, from_month__gte=first).delete()
        for m, amount in sorted(steps):
            EntitlementAmount.objects.create(entitlement=ent, from_month=m, amount=amount,
                                             cause=reason[:200])  # fmt: skip
        last_m, last_amount = max(steps)
        fields: dict[str, Any] = {"amount": last_amount, "amount_from": last_m}
        if last_month is not None:
            fields["end_month"] = last_month
        _touch(ent, first, **fields)
        _event(ent, kind, reason, actor, month=first, old=old, new=steps[0][1], data=data)
    return ent


def payment_reissue_mark(*, actor: User, payment_id: int, reason: Any) -> Payment:
    """A failed payment whose cause is fixed on the bank's side (no new account needed)
    is released to the next payroll."""
    why = reason_text(reason)
    ensure_role(actor, ENTITLEMENT_WRITERS, "重新发放")
    with transaction.atomic():
        found = access.payments_visible(actor).filter(pk=payment_id).values_list("pk", "entitlement_id").first()  # fmt: skip
        if found is None:
            raise ApplicationError(
                Code.PAYMENT_NOT_FOUND, "发放记录不存在或不在您的管辖范围内", status=404
            )
        ent = locks.lock_entitlement(found[1])
        (payment,) = locks.lock_payments([found[0]])
        if payment.status != PaymentStatus.FAILED or _reissued(payment):
            raise ApplicationError(Code.PAYMENT_NOT_FAILED, "只有发放失败且尚未重发的记录可以重新发放",
                                   status=409)  # fmt: skip
        Payment.objects.filter(pk=payment.pk).update(reissue_ready=True)
        dirty = min(payment.period, ent.dirty_from) if ent.dirty_from else payment.period
        _touch(ent, None, dirty_from=dirty)
        _event(ent, EntitlementEvent.Kind.ACCOUNT, why, actor,
               data={"reissue_ready": [payment.pk]})  # fmt: skip
        payment.refresh_from_db()
    return payment


def _reissued(payment: Payment) -> bool:
    return Payment.objects.filter(reissue_of=payment).exists()


# -- reading an entitlement's schedule ----------------------------------------------------------


def amount_at(ent: Entitlement, month: date) -> Decimal:
    row = (
        EntitlementAmount.objects.filter(entitlement=ent, from_month__lte=month)
        .order_by("-from_month")
        .values_list("amount", flat=True)
        .first()
    )
    return row if row is not None else Decimal("0.00")


def entitlement_migrate(*, household_id: int, programme: str, amount: Decimal, start_month: date,
                        payee_id: int | None, reason: str) -> Entitlement | None:  # fmt: skip
    """An existing recipient carried over from the previous system (存量对象), settled up to
    the month before ``start_month``; None if the household already has one."""
    from minzheng.registry.models import Household

    unit = payroll_unit(programme)
    if unit is None or amount <= 0:
        return None
    with transaction.atomic():
        household = Household.objects.select_related("division").get(pk=household_id)
        if Entitlement.objects.filter(household=household, programme=programme,
                                      status__in=LIVE_STATUSES).exists():  # fmt: skip
            return None
        review_class = review_class_for(household.pk, start_month)
        ent = Entitlement.objects.create(
            household=household, payee_id=payee_id, programme=programme,
            division_id=household.division_id, division_path=household.division.path,
            amount=amount, amount_from=start_month, one_off=unit == "once",
            start_month=start_month, end_month=start_month if unit == "once" else None,
            review_class=review_class, next_review_on=next_review(programme, review_class, start_month),
            settled_through=add_months(start_month, -1),
        )  # fmt: skip
        EntitlementAmount.objects.create(entitlement=ent, from_month=start_month, amount=amount,
                                         cause=reason[:200])  # fmt: skip
        _event(ent, EntitlementEvent.Kind.CREATED, reason, None, month=start_month, new=amount,
               data={"migrated": True})  # fmt: skip
    return ent
