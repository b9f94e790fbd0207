"""The support cascade for a medical bill (先保险后救助再慈善, Beijing rules from 2023).

For one bill of one person: insurance pays first; medical assistance covers its ratio
of what remains, up to what is left of the person's annual cap in the calendar year of
treatment; what still remains is offered to charity. Every step is recorded on the
claim (``MedicalClaim.steps``), so a claim explains its own figures.

Ratios and caps are the policy parameters ``medical_assistance.ratio`` and
``medical_assistance.annual_cap`` in force on the day of treatment. A claim locks the
person's row, so two claims for the same person are decided one after the other and
the cap cannot be exceeded between them. ``docs/subsystems/cascade.md`` has the details.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q, QuerySet, Sum

from minzheng.accounts import access
from minzheng.accounts.roles import Role
from minzheng.applications import clock
from minzheng.core.errors import FieldError, NotFound
from minzheng.core.money import MoneyError, format_amount, parse_amount, quantize
from minzheng.programmes.eligibility import parameter_value
from minzheng.registry.models import Household, Person
from minzheng.registry.vocab import MedicalBillKind, PersonState

from .errors import BenefitsErrorCode as Code
from .models import LIVE_STATUSES, Entitlement, MedicalClaim
from .services import ensure_role, reason_text

if TYPE_CHECKING:
    from minzheng.accounts.models import User

Band = MedicalClaim.Band

# Who records a medical bill (the worker at the window, the street, the district).
CLAIM_WRITERS = frozenset({Role.COMMUNITY_WORKER, Role.STREET_REVIEWER, Role.DISTRICT_APPROVER})
# Staff who read claims in their jurisdiction.
CLAIM_READERS = frozenset(
    {Role.COMMUNITY_WORKER, Role.STREET_REVIEWER, Role.DISTRICT_APPROVER, Role.AUDITOR, Role.ADMIN}
)
KINDS = (MedicalBillKind.OUTPATIENT.value, MedicalBillKind.INPATIENT.value)
# A live entitlement to one of these programmes decides the band, the first one found
# in this order (extreme poverty is the most generous).
ENTITLEMENT_BANDS = (Band.EXTREME_POVERTY.value, Band.DIBAO.value, Band.LOW_INCOME.value)
ILLNESS_BANDS = (Band.ILLNESS_1.value, Band.ILLNESS_2.value, Band.ILLNESS_3.value)
# The largest amount a claim's columns hold (max_digits=12, two decimals).
MAX_CLAIM_AMOUNT = Decimal("9999999999.99")
ZERO = Decimal("0.00")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Rule:
    """The ratio and cap that apply to one bill, and which earlier claims share the cap."""

    ratio: Decimal
    cap: Decimal | None
    cap_class: str  # outpatient | inpatient | illness_induced | extreme_poverty
    shares_cap: Q  # the earlier claims counted against the same cap


# -- validation ---------------------------------------------------------------------------


def _kind(raw: Any) -> str:
    kind = str(raw or "").strip()
    if kind not in KINDS:
        raise FieldError(
            "kind", Code.CLAIM_KIND, "就诊类别应为 outpatient（门诊）或 inpatient（住院）"
        )
    return kind


def _amount(raw: Any, field: str, label: str) -> Decimal:
    try:
        value = parse_amount(raw)
    except MoneyError as exc:
        raise FieldError(field, Code.CLAIM_AMOUNT, f"{label}无效：{exc.message}") from None
    if value > MAX_CLAIM_AMOUNT:
        raise FieldError(field, Code.CLAIM_AMOUNT, f"{label}超出允许范围")
    return value


def _treated_on(raw: Any) -> date:
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        day = raw
    else:
        text = str(raw or "").strip()
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError(text)
            day = date.fromisoformat(text)
        except ValueError:
            raise FieldError("treated_on", Code.CLAIM_DATE,
                             "就诊日期无效，应为 YYYY-MM-DD 格式的日期") from None  # fmt: skip
    if day > clock.today():
        raise FieldError("treated_on", Code.CLAIM_DATE_FUTURE, "就诊日期不能晚于今天")
    return day


def _person_id(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise FieldError("person", Code.CLAIM_PERSON, "请选择本户的一名成员")
    try:
        return int(raw)
    except ValueError:
        raise FieldError("person", Code.CLAIM_PERSON, "请选择本户的一名成员") from None


def _band_label(band: str) -> str:
    return str(Band(band).label)


def _entitlement_band(household: Household) -> str | None:
    """The band the household's live entitlements give (extreme poverty first)."""
    live = set(
        Entitlement.objects.filter(
            household=household, status__in=LIVE_STATUSES, programme__in=ENTITLEMENT_BANDS
        ).values_list("programme", flat=True)
    )
    return next((b for b in ENTITLEMENT_BANDS if b in live), None)


def _band(raw: Any, household: Household) -> str:
    """The band of the claim: the household's entitlement decides it; a household without
    one needs an explicit illness band (因病致贫 一档/二档/三档)."""
    given = str(raw).strip() if raw is not None else ""
    if given and given not in Band.values:
        choices = "、".join(f"{b}（{_band_label(b)}）" for b in Band.values)
        raise FieldError("band", Code.CLAIM_BAND, f"救助类别无效，可选：{choices}")
    derived = _entitlement_band(household)
    if derived is not None:
        if given and given != derived:
            raise FieldError(
                "band", Code.CLAIM_BAND_MISMATCH,
                f"该家庭在享{_band_label(derived)}待遇，救助类别应为 {derived}（{_band_label(derived)}）",
            )  # fmt: skip
        return derived
    illness = "、".join(f"{b}（{_band_label(b)}）" for b in ILLNESS_BANDS)
    if not given:
        raise FieldError("band", Code.CLAIM_BAND_REQUIRED,
                         f"该家庭没有在享的特困、低保或低收入待遇，请选择因病致贫档次：{illness}")  # fmt: skip
    if given not in ILLNESS_BANDS:
        raise FieldError("band", Code.CLAIM_BAND_MISMATCH,
                         f"该家庭没有在享的{_band_label(given)}待遇，只能按因病致贫档次救助：{illness}")  # fmt: skip
    return given


# -- the policy -----------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def rule_for(band: str, kind: str, treated_on: date) -> Rule:
    """Ratio and cap for a bill, from the parameters in force on the day of treatment."""
    try:
        ratios = parameter_value("medical_assistance.ratio", treated_on)
        caps = parameter_value("medical_assistance.annual_cap", treated_on)
    except ValueError:  # the rules engine's ParameterNotInForce
        raise FieldError("treated_on", Code.CLAIM_BEFORE_POLICY,
                         "就诊日期早于现行医疗救助政策的施行日期（2023-01-01），不能按本办法计算") from None  # fmt: skip
    if band == Band.EXTREME_POVERTY:
        cap = caps["extreme_poverty"]
        return Rule(_decimal(ratios["extreme_poverty"]), None if cap is None else _decimal(cap),
                    "extreme_poverty", Q(band=Band.EXTREME_POVERTY))  # fmt: skip
    if band in ILLNESS_BANDS:
        ratio = ratios["illness_induced_bands"][ILLNESS_BANDS.index(band)]
        cap = caps["illness_induced"]
        return Rule(_decimal(ratio), None if cap is None else _decimal(cap), "illness_induced",
                    Q(band__in=ILLNESS_BANDS))  # fmt: skip
    # dibao and low income: the outpatient and the inpatient caps are separate
    cap = caps[kind]
    return Rule(_decimal(ratios[f"{band}_{kind}"]), None if cap is None else _decimal(cap), kind,
                Q(band__in=(Band.DIBAO, Band.LOW_INCOME), kind=kind))  # fmt: skip


def _percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).normalize():f}%"


def _used_before(person: Person, rule: Rule, year: int) -> Decimal:
    used = (
        MedicalClaim.objects.filter(rule.shares_cap, person=person,
                                    treated_on__gte=date(year, 1, 1),
                                    treated_on__lte=date(year, 12, 31))
        .aggregate(s=Sum("assistance"))["s"]
    )  # fmt: skip
    return quantize(used) if used is not None else ZERO


# -- the service ----------------------------------------------------------------------------


def medical_claim_create(
    *, actor: User, household_id: int, person_id: Any, kind: Any, total: Any,
    insurance_paid: Any, treated_on: Any, band: Any = None, reason: Any = "",
) -> MedicalClaim:  # fmt: skip
    """Record one bill and decide it: insurance, then assistance, then charity."""
    ensure_role(actor, CLAIM_WRITERS, "登记医疗救助")
    household = access.access_household_by_id(actor, household_id)  # 404 outside the scope
    kind_ = _kind(kind)
    total_ = _amount(total, "total", "总费用")
    if total_ <= 0:
        raise FieldError("total", Code.CLAIM_AMOUNT, "总费用必须大于0")
    insurance = _amount(insurance_paid, "insurance_paid", "医保支付金额")
    if insurance > total_:
        raise FieldError("insurance_paid", Code.CLAIM_INSURANCE,
                         f"医保支付金额（{insurance:.2f}）不能大于总费用（{total_:.2f}）")  # fmt: skip
    day = _treated_on(treated_on)
    pid = _person_id(person_id)
    note = reason_text(reason) if str(reason or "").strip() else ""

    with transaction.atomic():
        # the person's row serialises their claims: the cap is read and used in one go
        person = (
            Person.objects.select_for_update()
            .filter(pk=pid, household_id=household.pk)
            .exclude(state=PersonState.MOVED_OUT)
            .first()
        )
        if person is None:
            raise FieldError("person", Code.CLAIM_PERSON, "该人员不是本户成员")
        band_ = _band(band, household)
        rule = rule_for(band_, kind_, day)

        # 1. insurance first
        remaining = total_ - insurance
        # 2. medical assistance: the ratio of what remains, within what is left of the cap
        used = _used_before(person, rule, day.year)
        computed = quantize(rule.ratio * remaining)
        room = None if rule.cap is None else max(rule.cap - used, ZERO)
        assistance = computed if room is None else min(computed, room)
        # 3. what still remains is offered to charity
        charity = remaining - assistance

        steps = _steps(band_, kind_, day, rule, total_, insurance, remaining, used, computed,
                       room, assistance, charity, note)  # fmt: skip
        claim = MedicalClaim.objects.create(
            household=household, person=person, division_path=household.division.path,
            kind=kind_, band=band_, treated_on=day, total=total_, insurance_paid=insurance,
            remaining=remaining, ratio=rule.ratio, cap=rule.cap, used_before=used,
            assistance=assistance, charity_offered=charity, steps=steps, created_by=actor,
        )  # fmt: skip
    return claim


def _steps(band: str, kind: str, day: date, rule: Rule, total: Decimal, insurance: Decimal,
           remaining: Decimal, used: Decimal, computed: Decimal, room: Decimal | None,
           assistance: Decimal, charity: Decimal, note: str) -> list[dict[str, Any]]:  # fmt: skip
    kind_label = MedicalBillKind(kind).label
    if rule.cap is None:
        cap_text = "不设年度限额"
    else:
        cap_text = (f"{day.year}年度限额 {format_amount(rule.cap)} 元，本年已用 "
                    f"{format_amount(used)} 元，尚余 {format_amount(room or ZERO)} 元")  # fmt: skip
    capped = room is not None and computed > room
    detail = (f"{_band_label(band)}{kind_label}救助比例 {_percent(rule.ratio)}："
              f"{format_amount(remaining)} × {_percent(rule.ratio)} = {format_amount(computed)} 元；"
              f"{cap_text}")  # fmt: skip
    if capped:
        detail += f"；受年度限额限制，救助 {format_amount(assistance)} 元"
    assistance_step: dict[str, Any] = {
        "step": 2, "code": "medical_assistance", "label": "医疗救助",
        "amount": format_amount(assistance), "detail": detail, "band": band,
        "ratio": str(rule.ratio), "computed": format_amount(computed), "cap_class": rule.cap_class,
        "cap": None if rule.cap is None else format_amount(rule.cap),
        "used_before": format_amount(used), "capped": capped,
    }  # fmt: skip
    if note:
        assistance_step["note"] = note
    return [
        {"step": 1, "code": "insurance", "label": "医保支付", "amount": format_amount(insurance),
         "detail": f"总费用 {format_amount(total)} 元，医保支付 {format_amount(insurance)} 元，"
                   f"个人负担 {format_amount(remaining)} 元"},
        assistance_step,
        {"step": 3, "code": "charity", "label": "转介慈善", "amount": format_amount(charity),
         "detail": f"救助后仍需自付 {format_amount(charity)} 元"
                   + ("，转介慈善组织" if charity > 0 else "，无需转介")},
    ]  # fmt: skip


# -- selectors ------------------------------------------------------------------------------


def medical_claims_visible(actor: User) -> QuerySet[MedicalClaim]:
    """Claims of households in the actor's jurisdiction (staff readers only)."""
    if not actor.is_active or actor.role not in CLAIM_READERS or actor.division is None:
        return MedicalClaim.objects.none()
    return MedicalClaim.objects.filter(division_path__startswith=actor.division.path)


def medical_claims_list(actor: User, *, household: int | None = None,
                        person: int | None = None) -> QuerySet[MedicalClaim]:  # fmt: skip
    qs = medical_claims_visible(actor).select_related("household", "person", "created_by")
    if household is not None:
        qs = qs.filter(household_id=household)
    if person is not None:
        qs = qs.filter(person_id=person)
    return qs.order_by("-pk")


def medical_claim_get(actor: User, claim_id: int) -> MedicalClaim:
    claim = (
        medical_claims_visible(actor)
        .select_related("household", "person", "created_by")
        .filter(pk=claim_id)
        .first()
    )
    if claim is None:
        raise NotFound(Code.CLAIM_NOT_FOUND, "医疗救助记录不存在或不在您的管辖范围内")
    return claim


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format_amount(value)


def claim_out(claim: MedicalClaim) -> dict[str, Any]:
    """A claim as the API shows it: money as two-decimal strings, the ID number masked."""
    return {
        "id": claim.pk,
        "household": {"id": claim.household_id, "number": claim.household.number},
        "person": {"id": claim.person_id, "name": claim.person.name,
                   "id_number": claim.person.id_number_masked},
        "kind": claim.kind,
        "kind_label": MedicalBillKind(claim.kind).label,
        "band": claim.band,
        "band_label": _band_label(claim.band),
        "treated_on": claim.treated_on.isoformat(),
        "total": format_amount(claim.total),
        "insurance_paid": format_amount(claim.insurance_paid),
        "remaining": format_amount(claim.remaining),
        "ratio": f"{claim.ratio:.4f}",
        "cap": _money(claim.cap),
        "used_before": format_amount(claim.used_before),
        "assistance": format_amount(claim.assistance),
        "charity_offered": format_amount(claim.charity_offered),
        "steps": claim.steps,
        "created_by": claim.created_by.username,
        "created_at": claim.created_at.isoformat(),
    }  # fmt: skip
