"""Elders: a view over the registry (active residents aged 60 and over, in the actor's
jurisdiction) with what the registry does not hold — the care assessment, the living
situation, the risk, the devices — and the age-related entitlements the rules engine
finds (age allowance, service subsidy, preferential card)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet

from minzheng.accounts import access
from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import access_log_record
from minzheng.applications import clock
from minzheng.applications.selectors import household_results
from minzheng.benefits.models import LIVE_STATUSES, Entitlement
from minzheng.core.errors import NotFound, PermissionDenied, ValidationFailed
from minzheng.registry.models import Person

from .errors import ElderErrorCode as Code
from .models import CareLevel, Device, ElderProfile, Living, Risk

ELDER_AGE = 60
AGE_PROGRAMMES = ("age_allowance", "elderly_service_subsidy", "preferential_card")


def born_by(day: date, years: int = ELDER_AGE) -> date:
    """The latest birth date of someone who is ``years`` old on ``day``."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def ensure_staff(actor: User) -> str:
    path = access.eldercare_path(actor)
    if path is None:
        raise PermissionDenied(Code.ROLE_FORBIDDEN, "您的角色不能查看老年人信息")
    return path


def elders_visible(actor: User, today: date | None = None) -> QuerySet[Person]:
    """Active residents aged 60+ in the actor's jurisdiction (none for other roles)."""
    return access.elders_visible(actor, born_by(today or clock.today()))


def elders_list(actor: User, *, living: str | None = None, care_level: str | None = None,
                risk: str | None = None, name: str | None = None) -> QuerySet[Person]:  # fmt: skip
    qs = elders_visible(actor).select_related("household__division", "elder")
    if living:
        qs = qs.filter(elder__living=living)
    if care_level:
        qs = qs.filter(elder__care_level=care_level)
    if risk:
        qs = qs.filter(elder__risk=risk)
    if name:
        qs = qs.filter(name__startswith=name.strip())
    return qs.annotate(device_count=Count("devices")).order_by("birth_date", "pk")


def access_elder(actor: User, person_id: int) -> Person:
    ensure_staff(actor)
    found = elders_visible(actor).select_related("household__division").filter(pk=person_id).first()
    if found is None:
        raise NotFound(Code.ELDER_NOT_FOUND, "老年人不存在或不在您的管辖范围内")
    return found


@dataclass
class ElderFile:
    person: Person
    age: int
    profile: ElderProfile | None
    devices: list[Device]
    entitlements: list[Entitlement]
    engine: dict[str, dict[str, Any]]


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def elder_file(actor: User, person_id: int, *, channel: str = "web") -> ElderFile:
    """One elder's page: profile, devices, live entitlements and what the engine finds for
    the age-related programmes. The read is logged."""
    person = access_elder(actor, person_id)
    assert person.household is not None
    day = clock.today()
    access_log_record(actor=actor, household=person.household, persons=[person],
                      reason="查阅老年人档案", channel=channel)  # fmt: skip
    results = household_results(person.household, day)
    return ElderFile(
        person=person,
        age=age_on(person.birth_date, day),
        profile=ElderProfile.objects.filter(person=person).first(),
        devices=list(Device.objects.filter(person=person).select_related("supplier")),
        entitlements=list(
            Entitlement.objects.filter(household=person.household, status__in=LIVE_STATUSES)
        ),
        engine={p: results[p] for p in AGE_PROGRAMMES if p in results},
    )


def profile_set(actor: User, person_id: int, data: dict[str, Any]) -> ElderProfile:
    """Record the care assessment and living situation (replacing the earlier one)."""
    person = access_elder(actor, person_id)
    if actor.role not in access.ELDERCARE_WRITERS:
        names = "、".join(Role(r).label for r in sorted(access.ELDERCARE_WRITERS))
        raise PermissionDenied(Code.ROLE_FORBIDDEN, f"老年人照护评估须由{names}录入")
    errors: list[dict[str, str]] = []

    def choice(field: str, choices: Any, label: str) -> str:
        raw = data.get(field)
        if raw in choices.values:
            return str(raw)
        allowed = "、".join(f"{v}（{lab}）" for v, lab in choices.choices)
        errors.append(
            {
                "field": field,
                "code": Code.FIELD_INVALID,
                "message": f"{label}取值无效：{raw!r}，应为 {allowed}",
            }
        )
        return ""

    care = choice("care_level", CareLevel, "照护需求")
    living = choice("living", Living, "居住状况")
    risk = choice("risk", Risk, "风险等级") if data.get("risk") not in (None, "") else Risk.LOW
    assessed = None
    raw_day = data.get("assessed_on")
    try:
        assessed = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day))
    except ValueError:
        errors.append({"field": "assessed_on", "code": Code.FIELD_INVALID,
                       "message": f"评估日期格式应为 YYYY-MM-DD：{raw_day!r}"})  # fmt: skip
    if assessed is not None and assessed > clock.today():
        errors.append(
            {"field": "assessed_on", "code": Code.DATE_IN_FUTURE, "message": "评估日期不能晚于今天"}
        )
    assessor = " ".join(str(data.get("assessor") or "").split())
    if len(assessor) < 2 or len(assessor) > 64:
        errors.append(
            {
                "field": "assessor",
                "code": Code.FIELD_INVALID,
                "message": "请填写评估人或评估机构（2–64字）",
            }
        )
    contact = " ".join(str(data.get("emergency_contact") or "").split())[:32]
    phone = "".join(str(data.get("emergency_phone") or "").split())
    if phone and (not phone.replace("-", "").isdigit() or not 7 <= len(phone) <= 20):
        errors.append(
            {
                "field": "emergency_phone",
                "code": Code.FIELD_INVALID,
                "message": "紧急联系电话格式不正确",
            }
        )
    if errors:
        raise ValidationFailed(errors)
    assert assessed is not None and person.household is not None
    with transaction.atomic():
        profile, _ = ElderProfile.objects.update_or_create(
            person=person,
            defaults={"division_path": person.household.division.path, "care_level": care,
                      "assessed_on": assessed, "assessor": assessor, "living": living, "risk": risk,
                      "emergency_contact": contact, "emergency_phone": phone},
        )  # fmt: skip
    return profile


def elder_out(person: Person, today: date | None = None) -> dict[str, Any]:
    day = today or clock.today()
    profile: ElderProfile | None = getattr(person, "elder", None)
    return {
        "person": person.pk,
        "name": person.name,
        "id_number": person.id_number_masked,
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat(),
        "age": age_on(person.birth_date, day),
        "household": person.household_id,
        "community": person.household.division.name if person.household else None,
        "care_level": profile.care_level if profile else None,
        "living": profile.living if profile else None,
        "risk": profile.risk if profile else None,
        "assessed_on": profile.assessed_on.isoformat() if profile else None,
        "devices": getattr(person, "device_count", None),
    }
