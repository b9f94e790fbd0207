"""Service providers (加盟服务商), facilities (养老机构、街道养老照料中心、社区养老服务驿站),
star ratings (评定) and supervision (综合监管): every write, one function per use case in one
transaction, and the scoped reads they start from.

Input comes from forms and the API as raw values; each write validates all of it first
and raises ``ValidationFailed`` naming every bad field (``credit_code``, ``areas.1``,
``scores.service``), so a refused request writes nothing. Providers, facilities and
inspections keep their history (django-simple-history): who changed what, when, and why.

Who may do what:

- **Read**: staff of ``access.ELDERCARE_STAFF`` in their jurisdiction. A provider is in a
  jurisdiction when it is registered there or serves an area that overlaps it (a provider
  registered by the district and serving one street is seen by that street). A
  service-provider user reads their own provider, the facilities it operates and the
  inspections of either. Everyone else reads nothing (lists are 403, records 404).
- **Providers, ratings, inspections**: street reviewers and district approvers
  (``SUPERVISORS``). A provider is changed only by staff of its registering division
  (``provider.registrar_only`` otherwise); the street may inspect any provider serving it.
- **Facilities**: street reviewers and district approvers record every kind; community
  workers record and update the stations (驿站) of their own community only, since
  institutions and street centres are registered by the street or district.
- **Ratings**: only institutions and street centres are rated (``rated_kinds`` in
  ``policy/eldercare/ratings.yaml``): GB/T 37276 rates institutions; a station is refused
  with ``rating.kind_not_rated``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet

from minzheng.accounts import access
from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.applications import clock
from minzheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minzheng.core.forms import FieldErrors
from minzheng.core.ids import CreditCodeError, parse_credit_code
from minzheng.registry.models import Division

from . import ratings
from .errors import ElderErrorCode as Code
from .models import (
    Facility,
    FacilityKind,
    Inspection,
    InspectionStatus,
    Provider,
    ProviderMember,
    ProviderStatus,
    ServiceItem,
    StarRating,
)

MAX_TEXT = 500
MAX_COUNT = 100_000  # capacity, beds, staff: a typo guard, far above any facility
# Who registers providers, rates facilities and records inspections.
SUPERVISORS = frozenset({Role.STREET_REVIEWER, Role.DISTRICT_APPROVER})
# Who records facilities (a community worker: the stations of their community only).
FACILITY_WRITERS = access.ELDERCARE_WRITERS
STATION_ONLY = frozenset({Role.COMMUNITY_WORKER})
PROVIDER_MOVES = {
    ProviderStatus.ACTIVE: {ProviderStatus.SUSPENDED, ProviderStatus.TERMINATED},
    ProviderStatus.SUSPENDED: {ProviderStatus.ACTIVE, ProviderStatus.TERMINATED},
}
PROVIDER_FIELDS = frozenset(
    {"name", "credit_code", "licence", "services", "areas", "contract_start", "contract_end",
     "contact", "phone"}
)  # fmt: skip
FACILITY_FIELDS = frozenset(
    {"name", "operator", "address", "latitude", "longitude", "capacity", "beds", "staff",
     "opening_hours", "active"}
)  # fmt: skip
_PHONE = re.compile(r"^[0-9+\-() ]{3,20}$")


def _names(roles: frozenset[str]) -> str:
    return "、".join(Role(r).label for r in sorted(roles))


def ensure_supervisor(actor: User, what: str) -> None:
    if not actor.is_active or actor.role not in SUPERVISORS:
        raise PermissionDenied(Code.ROLE_FORBIDDEN, f"{what}须由{_names(SUPERVISORS)}办理")


def can_supervise(actor: User) -> bool:
    return actor.is_active and actor.role in SUPERVISORS


def can_record_facility(actor: User, kind: str | None = None) -> bool:
    """May the actor record (or change) a facility of ``kind`` (any kind if None)?"""
    if not actor.is_active or actor.role not in FACILITY_WRITERS:
        return False
    return actor.role not in STATION_ONLY or kind in (None, FacilityKind.STATION)


def ensure_facility_writer(actor: User, kind: str | None = None) -> None:
    if not can_record_facility(actor):
        raise PermissionDenied(
            Code.ROLE_FORBIDDEN, f"养老服务设施须由{_names(FACILITY_WRITERS)}登记"
        )
    if not can_record_facility(actor, kind):
        raise PermissionDenied(
            Code.ROLE_FORBIDDEN,
            f"养老机构和街道养老照料中心须由{_names(SUPERVISORS)}登记；"
            "社区工作者可登记和维护本社区的养老服务驿站",
        )


# -- scoped reads ----------------------------------------------------------------------------------


def reads_anything(actor: User) -> bool:
    return access.eldercare_path(actor) is not None or access.provider_of(actor) is not None


def ensure_reader(actor: User) -> None:
    if not reads_anything(actor):
        raise PermissionDenied(Code.ROLE_FORBIDDEN, "您的角色不能查看养老服务机构与监管信息")


def access_provider_by_id(actor: User, provider_id: int) -> Provider:
    found = (
        access.providers_visible(actor).select_related("division").filter(pk=provider_id).first()
    )
    if found is None:
        raise NotFound(Code.PROVIDER_NOT_FOUND, "服务商不存在或不在您的管辖范围内")
    return found


def access_facility_by_id(actor: User, facility_id: int) -> Facility:
    found = (
        access.facilities_visible(actor)
        .select_related("division", "operator")
        .filter(pk=facility_id)
        .first()
    )
    if found is None:
        raise NotFound(Code.FACILITY_NOT_FOUND, "养老服务设施不存在或不在您的管辖范围内")
    return found


def access_inspection_by_id(actor: User, inspection_id: int) -> Inspection:
    found = (
        access.inspections_visible(actor)
        .select_related("facility", "provider", "inspector")
        .filter(pk=inspection_id)
        .first()
    )
    if found is None:
        raise NotFound(Code.INSPECTION_NOT_FOUND, "检查记录不存在或不在您的管辖范围内")
    return found


def ratings_of(actor: User, facility_id: int) -> QuerySet[StarRating]:
    """The facility's ratings, newest first (the first is in force)."""
    facility = access_facility_by_id(actor, facility_id)
    return facility.ratings.select_related("rated_by").order_by("-rated_on", "-pk")


def inspections_overdue(actor: User, today: date | None = None) -> QuerySet[Inspection]:
    """Inspections still waiting for correction after their deadline, oldest first."""
    day = today or clock.today()
    return (
        access.inspections_visible(actor)
        .filter(status=InspectionStatus.OPEN, correction_due__lt=day)
        .select_related("facility", "provider", "inspector")
        .order_by("correction_due", "pk")
    )


def service_catalogue() -> dict[str, str]:
    """code → name of the active services a provider may offer."""
    return dict(ServiceItem.objects.filter(active=True).values_list("code", "name"))


# -- parsing ------------------------------------------------------------------------------------------


class _Errors(FieldErrors):
    """Field errors with this app's codes (``core.forms``)."""

    INVALID = Code.FIELD_INVALID
    SHORT = Code.FIELD_INVALID
    PAST = Code.DATE_IN_PAST
    FUTURE = Code.DATE_IN_FUTURE
    LIMIT = MAX_TEXT

    def reason(self, raw: Any, field: str = "reason", label: str = "原因") -> str:
        return self.text(raw, field, label, code=Code.REASON_REQUIRED)

    def phone(self, raw: Any, field: str) -> str:
        value = str(raw or "").strip()
        if value and not _PHONE.match(value):
            self.add(
                field,
                Code.FIELD_INVALID,
                f"联系电话只能包含数字、+、- 和括号（3至20位）：{value!r}",
            )
        return value

    def count(self, raw: Any, field: str, label: str) -> int:
        if raw in (None, ""):
            return 0
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            value = None
        else:
            try:
                value = int(str(raw).strip())
            except ValueError:
                value = None
        if value is None or not 0 <= value <= MAX_COUNT:
            self.add(field, Code.FIELD_INVALID, f"{label}应为 0 到 {MAX_COUNT} 之间的整数：{raw!r}")
            return 0
        return value

    def decimal(self, raw: Any, field: str, label: str) -> Decimal | None:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
            self.add(field, Code.FIELD_INVALID, f"{label}应为数字：{raw!r}")
            return None
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.add(field, Code.FIELD_INVALID, f"{label}应为数字：{raw!r}")
            return None
        return value

    def coordinate(self, raw: Any, field: str, label: str, bound: int) -> Decimal | None:
        if raw in (None, ""):
            return None
        value = self.decimal(raw, field, label)
        if value is None:
            return None
        if not -bound <= value <= bound:
            self.add(field, Code.FIELD_INVALID, f"{label}应在 −{bound} 到 {bound} 之间：{raw}")
            return None
        return value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)

    def credit_code(self, raw: Any, field: str = "credit_code") -> str:
        try:
            return parse_credit_code(raw if isinstance(raw, str) else "" if raw is None else raw)
        except CreditCodeError as exc:
            self.add(field, exc.code, exc.message)
            return ""

    def division(self, actor: User, raw: Any, field: str, label: str) -> Division | None:
        code = str(raw or "").strip()
        found = access.divisions_visible(actor).filter(code=code).first() if code else None
        if found is None:
            self.add(field, Code.DIVISION_INVALID,
                     f"{label}不存在或不在您的管辖范围内：{code or '（未填写）'}")  # fmt: skip
        return found

    def areas(self, actor: User, raw: Any, field: str = "areas") -> list[Division]:
        if not isinstance(raw, list | tuple) or not raw:
            self.add(field, Code.FIELD_INVALID, "请至少选择一个服务区域（区划代码列表）")
            return []
        out: list[Division] = []
        for k, code in enumerate(raw):
            found = self.division(actor, code, f"{field}.{k}", "服务区域")
            if found is not None and found not in out:
                out.append(found)
        return out

    def services(self, raw: Any, field: str = "services") -> list[str]:
        if not isinstance(raw, list | tuple) or not raw:
            self.add(field, Code.FIELD_INVALID, "请至少选择一项服务项目（服务目录中的编码列表）")
            return []
        catalogue = service_catalogue()
        out: list[str] = []
        for k, code in enumerate(raw):
            if not isinstance(code, str) or code not in catalogue:
                known = "、".join(f"{c}（{n}）" for c, n in catalogue.items()) or "（服务目录为空）"
                self.add(f"{field}.{k}", Code.SERVICE_UNKNOWN,
                         f"服务项目不在服务目录中：{code!r}，可选 {known}")  # fmt: skip
            elif code not in out:
                out.append(code)
        return out

    def operator(self, actor: User, raw: Any, field: str = "operator") -> Provider | None:
        if raw in (None, ""):
            return None
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            pk = 0
        found = access.providers_visible(actor).filter(pk=pk).first() if pk > 0 else None
        if found is None:
            self.add(field, Code.PROVIDER_NOT_FOUND, "运营方服务商不存在或不在您的管辖范围内")
        elif found.status == ProviderStatus.TERMINATED:
            self.add(field, Code.PROVIDER_INACTIVE, f"服务商「{found.name}」已解约，不能运营设施")
            return None
        return found


def _unknown(changes: Mapping[str, Any], allowed: frozenset[str], errors: _Errors) -> None:
    for key in changes:
        if key not in allowed:
            errors.add(key, Code.FIELD_INVALID, f"不能修改此项：{key}")


def _save(obj: Model, actor: User, reason: str) -> None:
    """Save with a history row naming the actor and the reason."""
    obj._change_reason = reason  # type: ignore[attr-defined]
    obj._history_user = actor  # type: ignore[attr-defined]
    obj.save()


def _inside(actor: User) -> str:
    assert actor.division is not None
    return actor.division.path


# -- providers ---------------------------------------------------------------------------------------


@dataclass
class _ProviderIn:
    values: dict[str, Any]
    areas: list[Division] | None


def _parse_provider(actor: User, data: Mapping[str, Any], errors: _Errors) -> _ProviderIn:
    """The provider fields present in ``data``, validated."""
    out: dict[str, Any] = {}
    if "name" in data:
        out["name"] = errors.text(data["name"], "name", "服务商名称", limit=100)
    if "credit_code" in data:
        out["credit_code"] = errors.credit_code(data["credit_code"])
    if "licence" in data:
        out["licence"] = errors.text(data["licence"], "licence", "许可或备案编号",
                                     required=False, limit=64)  # fmt: skip
    if "services" in data:
        out["services"] = errors.services(data["services"])
    if "contract_start" in data:
        out["contract_start"] = errors.day(data["contract_start"], "contract_start", "合同开始日期")
    if "contract_end" in data:
        out["contract_end"] = errors.day(data["contract_end"], "contract_end", "合同结束日期")
    if "contact" in data:
        out["contact"] = errors.text(data["contact"], "contact", "联系人", required=False, limit=32)
    if "phone" in data:
        out["phone"] = errors.phone(data["phone"], "phone")
    areas = errors.areas(actor, data["areas"]) if "areas" in data else None
    return _ProviderIn(out, areas)


def _check_contract(start: date | None, end: date | None, errors: _Errors) -> None:
    if start is not None and end is not None and end < start:
        errors.add("contract_end", Code.FIELD_INVALID,
                   f"合同结束日期（{end.isoformat()}）不能早于开始日期（{start.isoformat()}）")  # fmt: skip


def _credit_code_taken(code: str, provider: Provider | None = None) -> None:
    qs = Provider.objects.filter(credit_code=code)
    if provider is not None and provider.pk is not None:
        qs = qs.exclude(pk=provider.pk)
    if qs.exists():
        raise Conflict(Code.CREDIT_CODE_TAKEN, f"统一社会信用代码 {code} 已登记过服务商，不能重复登记",
                       {"field": "credit_code"})  # fmt: skip


def _save_provider(provider: Provider, actor: User, reason: str) -> None:
    """Save; a concurrent registration of the same credit code becomes the same 409."""
    _credit_code_taken(provider.credit_code, provider)
    try:
        with transaction.atomic():
            _save(provider, actor, reason)
    except IntegrityError:
        _credit_code_taken(provider.credit_code, provider)
        raise


def _area_note(areas: list[Division]) -> str:
    return "服务区域：" + "、".join(d.name for d in areas)


def provider_create(*, actor: User, name: Any, credit_code: Any, services: Any, areas: Any,
                    contract_start: Any, contract_end: Any, licence: Any = "", contact: Any = "",
                    phone: Any = "", division: Any = None, reason: Any = "登记服务商") -> Provider:  # fmt: skip
    """Register a provider in a division of the actor's jurisdiction (their own by
    default), with the services it offers and the areas it serves."""
    ensure_supervisor(actor, "登记服务商")
    errors = _Errors()
    parsed = _parse_provider(actor, {
        "name": name, "credit_code": credit_code, "licence": licence, "services": services,
        "areas": areas, "contract_start": contract_start, "contract_end": contract_end,
        "contact": contact, "phone": phone,
    }, errors)  # fmt: skip
    registering = errors.division(
        actor, division if division not in (None, "") else getattr(actor.division, "code", ""),
        "division", "登记区划",
    )  # fmt: skip
    why = errors.reason(reason)
    _check_contract(parsed.values["contract_start"], parsed.values["contract_end"], errors)
    errors.raise_any()
    assert registering is not None and parsed.areas
    with transaction.atomic():
        provider = Provider(division=registering, division_path=registering.path, **parsed.values)
        _save_provider(provider, actor, f"{why}（{_area_note(parsed.areas)}）")
        provider.areas.set(parsed.areas)
    return provider


def _provider_for_write(actor: User, provider_id: int, what: str) -> Provider:
    """The provider locked for writing: in scope, the actor a supervisor of its registering
    division."""
    found = access_provider_by_id(actor, provider_id)
    ensure_supervisor(actor, what)
    if not found.division_path.startswith(_inside(actor)):
        raise PermissionDenied(
            Code.REGISTRAR_ONLY,
            f"该服务商由{found.division.name}登记，只能由{found.division.name}的工作人员修改",
        )
    return Provider.objects.select_for_update().select_related("division").get(pk=found.pk)


def provider_update(*, actor: User, provider_id: int, changes: Mapping[str, Any],
                    reason: Any) -> Provider:  # fmt: skip
    """Change some of a provider's fields, with a reason kept in its history."""
    with transaction.atomic():
        provider = _provider_for_write(actor, provider_id, "修改服务商信息")
        errors = _Errors()
        _unknown(changes, PROVIDER_FIELDS, errors)
        parsed = _parse_provider(actor, {k: v for k, v in changes.items() if k in PROVIDER_FIELDS},
                                 errors)  # fmt: skip
        why = errors.reason(reason)
        _check_contract(
            parsed.values.get("contract_start", provider.contract_start),
            parsed.values.get("contract_end", provider.contract_end),
            errors,
        )
        if not changes:
            errors.add("changes", Code.FIELD_INVALID, "没有要修改的内容")
        errors.raise_any()
        for key, value in parsed.values.items():
            setattr(provider, key, value)
        if parsed.areas is not None:
            why = f"{why}（{_area_note(parsed.areas)}）"
        _save_provider(provider, actor, why)
        if parsed.areas is not None:
            provider.areas.set(parsed.areas)
    return provider


def provider_status_set(*, actor: User, provider_id: int, status: Any, reason: Any) -> Provider:
    """Suspend, resume or terminate the contract; the reason is kept in the history."""
    with transaction.atomic():
        provider = _provider_for_write(actor, provider_id, "变更服务商状态")
        errors = _Errors()
        chosen = errors.choice(status, "status", "状态", ProviderStatus)
        why = errors.reason(reason)
        errors.raise_any()
        if chosen not in PROVIDER_MOVES.get(ProviderStatus(provider.status), set()):
            raise Conflict(
                Code.PROVIDER_STATE,
                f"服务商当前为「{provider.get_status_display()}」，不能改为「{ProviderStatus(chosen).label}」",
            )
        provider.status = chosen
        _save(provider, actor, why)
    return provider


def provider_member_add(*, actor: User, provider_id: int, username: Any) -> ProviderMember:
    """Link an existing service-provider account to the provider (one provider each)."""
    with transaction.atomic():
        provider = _provider_for_write(actor, provider_id, "登记服务商人员")
        if provider.status == ProviderStatus.TERMINATED:
            raise Conflict(Code.PROVIDER_INACTIVE, "服务商已解约，不能再登记人员")
        name = str(username or "").strip()
        user = User.objects.filter(username=name).first() if name else None
        if user is None or not user.is_active or user.role != Role.SERVICE_PROVIDER:
            raise ValidationFailed([{
                "field": "username", "code": Code.MEMBER_INVALID,
                "message": f"须为在用的「{Role.SERVICE_PROVIDER.label}」账号：{name or '（未填写）'}",
            }])  # fmt: skip
        existing = ProviderMember.objects.filter(user=user).select_related("provider").first()
        if existing is not None:
            raise Conflict(Code.MEMBER_TAKEN, f"账号 {name} 已是服务商的人员，一个账号只属于一个服务商",
                           {"field": "username"})  # fmt: skip
        member = ProviderMember.objects.create(provider=provider, user=user)
        _save(provider, actor, f"登记服务商人员：{name}")  # who linked whom, in the history
    return member


# -- facilities ----------------------------------------------------------------------------------------


def _parse_facility(actor: User, data: Mapping[str, Any], errors: _Errors) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in data:
        out["name"] = errors.text(data["name"], "name", "设施名称", limit=100)
    if "operator" in data:
        out["operator"] = errors.operator(actor, data["operator"])
    if "address" in data:
        out["address"] = errors.text(data["address"], "address", "地址", required=False, limit=200)
    if "latitude" in data:
        out["latitude"] = errors.coordinate(data["latitude"], "latitude", "纬度", 90)
    if "longitude" in data:
        out["longitude"] = errors.coordinate(data["longitude"], "longitude", "经度", 180)
    for key, label in (("capacity", "服务能力（人）"), ("beds", "床位数"), ("staff", "工作人员数")):
        if key in data:
            out[key] = errors.count(data[key], key, label)
    if "opening_hours" in data:
        out["opening_hours"] = errors.text(data["opening_hours"], "opening_hours", "开放时间",
                                           required=False, limit=64)  # fmt: skip
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors.add("active", Code.FIELD_INVALID, "运营状态应为 true 或 false")
        out["active"] = data["active"] is True
    return out


def _check_location(latitude: Decimal | None, longitude: Decimal | None, errors: _Errors) -> None:
    if any(e["field"] in ("latitude", "longitude") for e in errors.items):
        return
    if (latitude is None) != (longitude is None):
        field = "longitude" if longitude is None else "latitude"
        errors.add(field, Code.FIELD_INVALID, "经度和纬度须同时填写，或都不填")


def facility_create(*, actor: User, kind: Any, name: Any, division: Any, operator: Any = None,
                    address: Any = "", latitude: Any = None, longitude: Any = None,
                    capacity: Any = 0, beds: Any = 0, staff: Any = 0, opening_hours: Any = "",
                    reason: Any = "登记养老服务设施") -> Facility:  # fmt: skip
    ensure_facility_writer(actor)
    errors = _Errors()
    chosen = errors.choice(kind, "kind", "设施类型", FacilityKind)
    if chosen:
        ensure_facility_writer(actor, chosen)
    place = errors.division(actor, division, "division", "所在区划")
    values = _parse_facility(actor, {
        "name": name, "operator": operator, "address": address, "latitude": latitude,
        "longitude": longitude, "capacity": capacity, "beds": beds, "staff": staff,
        "opening_hours": opening_hours,
    }, errors)  # fmt: skip
    _check_location(values["latitude"], values["longitude"], errors)
    why = errors.reason(reason)
    errors.raise_any()
    assert place is not None
    with transaction.atomic():
        facility = Facility(kind=chosen, division=place, division_path=place.path, **values)
        _save(facility, actor, why)
    return facility


def facility_update(*, actor: User, facility_id: int, changes: Mapping[str, Any],
                    reason: Any) -> Facility:  # fmt: skip
    """Change some of a facility's fields (not its kind or division), with a reason."""
    with transaction.atomic():
        found = access_facility_by_id(actor, facility_id)
        ensure_facility_writer(actor, found.kind)
        facility = Facility.objects.select_for_update().get(pk=found.pk)
        errors = _Errors()
        _unknown(changes, FACILITY_FIELDS, errors)
        values = _parse_facility(actor, {k: v for k, v in changes.items() if k in FACILITY_FIELDS},
                                 errors)  # fmt: skip
        _check_location(values.get("latitude", facility.latitude),
                        values.get("longitude", facility.longitude), errors)  # fmt: skip
        why = errors.reason(reason)
        if not changes:
            errors.add("changes", Code.FIELD_INVALID, "没有要修改的内容")
        errors.raise_any()
        for key, value in values.items():
            setattr(facility, key, value)
        _save(facility, actor, why)
    return facility


# -- star ratings --------------------------------------------------------------------------------------


def _parse_scores(raw: Any, rules: ratings.RatingRules, errors: _Errors) -> dict[str, Decimal]:
    if not isinstance(raw, Mapping):
        errors.add("scores", Code.FIELD_INVALID,
                   "各项得分应为对象：" + "、".join(f"{c.code}（{c.label}）" for c in rules.criteria))  # fmt: skip
        return {}
    out: dict[str, Decimal] = {}
    for key in raw:
        if rules.criterion(str(key)) is None:
            errors.add(f"scores.{key}", Code.FIELD_INVALID, f"不是评定项目：{key}")
    for c in rules.criteria:
        field = f"scores.{c.code}"
        if raw.get(c.code) in (None, ""):
            errors.add(field, Code.FIELD_INVALID, f"请填写「{c.label}」得分（0 至 {c.max} 分）")
            continue
        value = errors.decimal(raw[c.code], field, f"「{c.label}」得分")
        if value is None:
            continue
        if not Decimal(0) <= value <= c.max:
            errors.add(
                field, Code.FIELD_INVALID, f"「{c.label}」得分应在 0 至 {c.max} 分之间：{value}"
            )
        elif value != value.quantize(Decimal("0.1")):
            errors.add(field, Code.FIELD_INVALID, f"「{c.label}」得分最多保留一位小数：{value}")
        else:
            out[c.code] = value.quantize(Decimal("0.1"))
    return out


def rating_record(*, actor: User, facility_id: int, scores: Any, rated_on: Any = None,
                  note: Any = "") -> StarRating:  # fmt: skip
    """评定: the scores of each part → total → stars by the criteria in force on the day.
    Every rating is kept; the latest is in force."""
    facility = access_facility_by_id(actor, facility_id)
    ensure_supervisor(actor, "星级评定")
    if facility.kind not in ratings.rated_kinds():
        raise Conflict(
            Code.NOT_RATED,
            f"{facility.get_kind_display()}不参加星级评定（评定对象为养老机构和街道养老照料中心）",
        )
    today = clock.today()
    errors = _Errors()
    day = errors.day(rated_on if rated_on not in (None, "") else today, "rated_on", "评定日期",
                     not_after=today)  # fmt: skip
    text = errors.text(note, "note", "说明", required=False)
    rules = None
    if day is not None:
        try:
            rules = ratings.rules_as_of(day)
        except LookupError:
            errors.add("rated_on", Code.RATING_RULES, f"{day.isoformat()} 尚无适用的评定标准")
    parsed = _parse_scores(scores, rules, errors) if rules is not None else {}
    errors.raise_any()
    assert day is not None and rules is not None
    with transaction.atomic():
        return StarRating.objects.create(
            facility=facility, rated_on=day, scores={k: str(v) for k, v in parsed.items()},
            total=rules.total(parsed), stars=rules.stars_for(parsed), note=text, rated_by=actor,
        )  # fmt: skip


def current_rating(facility: Facility) -> StarRating | None:
    return facility.ratings.order_by("-rated_on", "-pk").first()


# -- supervision ---------------------------------------------------------------------------------------


def inspection_record(*, actor: User, inspected_on: Any, findings: Any,
                      facility_id: int | None = None, provider_id: int | None = None,
                      correction_due: Any = None) -> Inspection:  # fmt: skip
    """综合监管: an inspection of a facility or a provider in scope. With a deadline for
    correction it waits for correction; without one nothing is to be corrected (closed)."""
    if (facility_id is None) == (provider_id is None):
        raise ValidationFailed([{"field": "facility", "code": Code.FIELD_INVALID,
                                 "message": "请指定被检查的设施或服务商（二者选一）"}])  # fmt: skip
    facility = provider = None
    if facility_id is not None:
        facility = access_facility_by_id(actor, facility_id)
        path = facility.division_path
    else:
        assert provider_id is not None
        provider = access_provider_by_id(actor, provider_id)
        path = provider.division_path
    ensure_supervisor(actor, "监督检查")
    if not path.startswith(_inside(actor)):
        path = _inside(actor)  # a provider serving the street, inspected by the street
    today = clock.today()
    errors = _Errors()
    day = errors.day(inspected_on, "inspected_on", "检查日期", not_after=today)
    text = errors.text(findings, "findings", "检查发现", limit=1000)
    due = errors.day(correction_due, "correction_due", "整改期限", required=False)
    if day is not None and due is not None and due < day:
        errors.add("correction_due", Code.FIELD_INVALID,
                   f"整改期限（{due.isoformat()}）不能早于检查日期（{day.isoformat()}）")  # fmt: skip
    errors.raise_any()
    assert day is not None
    with transaction.atomic():
        inspection = Inspection(
            facility=facility, provider=provider, division_path=path, inspected_on=day,
            findings=text, correction_due=due, inspector=actor,
            status=InspectionStatus.OPEN if due is not None else InspectionStatus.CLOSED,
        )  # fmt: skip
        _save(inspection, actor, "记录监督检查")
    return inspection


def _open_inspection(actor: User, inspection_id: int, what: str) -> Inspection:
    found = access_inspection_by_id(actor, inspection_id)
    ensure_supervisor(actor, what)
    inspection = Inspection.objects.select_for_update().get(pk=found.pk)
    if inspection.status != InspectionStatus.OPEN:
        raise Conflict(
            Code.INSPECTION_STATE, f"该检查记录已是「{inspection.get_status_display()}」"
        )
    return inspection


def inspection_correct(*, actor: User, inspection_id: int, corrected_on: Any,
                       follow_up: Any) -> Inspection:  # fmt: skip
    """The correction is done: when, and what the follow-up inspection found."""
    with transaction.atomic():
        inspection = _open_inspection(actor, inspection_id, "确认整改")
        errors = _Errors()
        day = errors.day(corrected_on, "corrected_on", "整改完成日期", not_after=clock.today())
        if day is not None and day < inspection.inspected_on:
            errors.add("corrected_on", Code.FIELD_INVALID,
                       f"整改完成日期不能早于检查日期（{inspection.inspected_on.isoformat()}）")  # fmt: skip
        text = errors.text(follow_up, "follow_up", "复查情况")
        errors.raise_any()
        inspection.status = InspectionStatus.CORRECTED
        inspection.corrected_on, inspection.follow_up = day, text
        _save(inspection, actor, "确认整改")
    return inspection


def inspection_close(*, actor: User, inspection_id: int, follow_up: Any) -> Inspection:
    """Close without correction (the follow-up found nothing to correct), with the reason."""
    with transaction.atomic():
        inspection = _open_inspection(actor, inspection_id, "关闭检查记录")
        errors = _Errors()
        text = errors.text(follow_up, "follow_up", "关闭理由")
        errors.raise_any()
        inspection.status, inspection.follow_up = InspectionStatus.CLOSED, text
        _save(inspection, actor, "无需整改，关闭")
    return inspection


# -- shapes -----------------------------------------------------------------------------------------


def _user(u: User | None) -> dict[str, Any] | None:
    return None if u is None else {"id": u.pk, "name": u.get_full_name() or u.username}


def _division(d: Division) -> dict[str, str]:
    return {"code": d.code, "name": d.name}


def status_change(p: Provider) -> tuple[str, Any]:
    """The reason and time of the change that gave the provider its current status."""
    since = None
    for row in p.history.order_by("-history_date", "-history_id"):
        if row.status != p.status:
            break
        since = row
    if since is None:
        return "", None
    return since.history_change_reason or "", since.history_date


def provider_out(
    p: Provider, today: date | None = None, catalogue: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The provider as the API shows it; a list passes the ``catalogue`` once and
    prefetches ``areas`` and ``members__user``."""
    day = today or clock.today()
    names = service_catalogue() if catalogue is None else catalogue
    reason, since = status_change(p)
    return {
        "id": p.pk,
        "name": p.name,
        "credit_code": p.credit_code,
        "licence": p.licence,
        "services": [{"code": c, "name": names.get(c, c)} for c in p.services],
        "areas": [_division(d) for d in sorted(p.areas.all(), key=lambda d: d.code)],
        "contract_start": p.contract_start.isoformat(),
        "contract_end": p.contract_end.isoformat(),
        "in_contract": p.contract_start <= day <= p.contract_end,
        "status": p.status,
        "status_label": p.get_status_display(),
        "status_reason": reason,
        "status_since": None if since is None else since.isoformat(),
        "contact": p.contact,
        "phone": p.phone,
        "division": _division(p.division),
        "members": [_user(m.user) for m in sorted(p.members.all(), key=lambda m: m.pk)],
        "created_at": p.created_at.isoformat(),
    }


def rating_out(r: StarRating) -> dict[str, Any]:
    labels = {c.code: c.label for c in ratings.rules_as_of(r.rated_on).criteria}
    return {
        "id": r.pk,
        "facility": r.facility_id,
        "rated_on": r.rated_on.isoformat(),
        "scores": [{"code": k, "label": labels.get(k, k), "score": v} for k, v in r.scores.items()],
        "total": str(r.total),
        "stars": r.stars,
        "note": r.note,
        "rated_by": _user(r.rated_by),
    }


def facility_out(f: Facility) -> dict[str, Any]:
    rating = current_rating(f)
    return {
        "id": f.pk,
        "kind": f.kind,
        "kind_label": f.get_kind_display(),
        "name": f.name,
        "operator": None if f.operator is None else {"id": f.operator.pk, "name": f.operator.name},
        "division": _division(f.division),
        "address": f.address,
        "latitude": None if f.latitude is None else str(f.latitude),
        "longitude": None if f.longitude is None else str(f.longitude),
        "capacity": f.capacity,
        "beds": f.beds,
        "staff": f.staff,
        "opening_hours": f.opening_hours,
        "active": f.active,
        "rated": f.kind in ratings.rated_kinds(),
        "stars": None if rating is None else rating.stars,
        "rated_on": None if rating is None else rating.rated_on.isoformat(),
    }


def inspection_out(i: Inspection, today: date | None = None) -> dict[str, Any]:
    day = today or clock.today()
    overdue = (
        i.status == InspectionStatus.OPEN
        and i.correction_due is not None
        and i.correction_due < day
    )
    return {
        "id": i.pk,
        "facility": None if i.facility is None else {"id": i.facility.pk, "name": i.facility.name},
        "provider": None if i.provider is None else {"id": i.provider.pk, "name": i.provider.name},
        "inspected_on": i.inspected_on.isoformat(),
        "findings": i.findings,
        "correction_due": None if i.correction_due is None else i.correction_due.isoformat(),
        "status": i.status,
        "status_label": i.get_status_display(),
        "overdue": overdue,
        "days_overdue": (day - i.correction_due).days if overdue and i.correction_due else 0,
        "corrected_on": None if i.corrected_on is None else i.corrected_on.isoformat(),
        "follow_up": i.follow_up,
        "inspector": _user(i.inspector),
    }
