"""/api/v1/providers, /facilities, /inspections: providers, facilities, star ratings and
supervision, a thin skin over ``eldercare.providers``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router
from pydantic import BeforeValidator, Field

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.core.errors import ApplicationError
from minzheng.core.pagination import paginate
from minzheng.core.schemas import Strict, error_responses

from . import providers
from .errors import ElderErrorCode as Code
from .models import FacilityKind, InspectionStatus, ProviderStatus

router = Router(tags=["居家养老 eldercare"])

ERRORS = error_responses(401, 403, 404, 409, 422)


def _not_bool(value: Any) -> Any:
    """A boolean is not a number here (pydantic would read true as 1)."""
    if isinstance(value, bool):
        raise ValueError("应为数字，不能是 true 或 false")
    return value


Number = Annotated[int | float | str, BeforeValidator(_not_bool)]
Count = Annotated[int | str, BeforeValidator(_not_bool)]


class ProviderIn(Strict):
    name: str = Field(description="服务商名称")
    credit_code: str = Field(description="统一社会信用代码（18位，GB 32100 校验）")
    services: list[str] = Field(description="提供的服务项目（服务目录编码）")
    areas: list[str] = Field(description="服务区域（区划代码，须在本人辖区内）")
    contract_start: date | str = Field(description="合同开始 YYYY-MM-DD")
    contract_end: date | str = Field(description="合同结束 YYYY-MM-DD（不早于开始）")
    licence: str = Field("", description="许可或备案编号")
    contact: str = Field("", description="联系人")
    phone: str = Field("", description="联系电话")
    division: str | None = Field(None, description="登记区划代码（缺省为本人所在区划）")
    reason: str = Field("登记服务商", description="登记说明")


class ProviderPatch(Strict):
    reason: str = Field(description="修改原因（必填，记入历史）")
    name: str | None = None
    credit_code: str | None = None
    licence: str | None = None
    services: list[str] | None = None
    areas: list[str] | None = None
    contract_start: date | str | None = None
    contract_end: date | str | None = None
    contact: str | None = None
    phone: str | None = None


class StatusIn(Strict):
    status: str = Field(description="状态：active 合作中、suspended 暂停、terminated 已解约")
    reason: str = Field(description="原因（必填）")


class MemberIn(Strict):
    username: str = Field(description="服务商人员的账号（角色须为加盟服务商）")


class FacilityIn(Strict):
    kind: str = Field(
        description="类型：institution 养老机构、street_centre 街道养老照料中心、"
        "station 社区养老服务驿站"
    )
    name: str = Field(description="名称")
    division: str = Field(description="所在区划代码（须在本人辖区内）")
    operator: int | None = Field(None, description="运营方服务商 id")
    address: str = ""
    latitude: Number | None = Field(None, description="纬度（−90 至 90）")
    longitude: Number | None = Field(None, description="经度（−180 至 180）")
    capacity: Count = Field(0, description="服务能力（人），≥ 0")
    beds: Count = Field(0, description="床位，≥ 0")
    staff: Count = Field(0, description="工作人员，≥ 0")
    opening_hours: str = Field("", description="开放时间，例如 8:00-20:00")
    reason: str = Field("登记养老服务设施", description="登记说明")


class FacilityPatch(Strict):
    reason: str = Field(description="修改原因（必填，记入历史）")
    name: str | None = None
    operator: int | None = None
    address: str | None = None
    latitude: Number | None = None
    longitude: Number | None = None
    capacity: Count | None = None
    beds: Count | None = None
    staff: Count | None = None
    opening_hours: str | None = None
    active: bool | None = None


class RatingIn(Strict):
    scores: dict[str, Number] = Field(
        description="各部分得分：environment 环境（0–120）、facilities 设施设备（0–130）、"
        "management 运营管理（0–150）、service 服务（0–600），最多一位小数"
    )
    rated_on: date | str | None = Field(None, description="评定日期（缺省今天，不晚于今天）")
    note: str = Field("", description="说明")


class InspectionIn(Strict):
    facility: int | None = Field(None, description="被检查的设施 id（与服务商二选一）")
    provider: int | None = Field(None, description="被检查的服务商 id（与设施二选一）")
    inspected_on: date | str = Field(description="检查日期（不晚于今天）")
    findings: str = Field(description="检查发现")
    correction_due: date | str | None = Field(
        None, description="整改期限（不早于检查日期；不填表示无需整改）"
    )


class CorrectionIn(Strict):
    corrected_on: date | str = Field(description="整改完成日期（检查日期至今天）")
    follow_up: str = Field(description="复查情况")


class ClosureIn(Strict):
    follow_up: str = Field(description="无需整改的理由")


def _bad(field: str, message: str) -> ApplicationError:
    return ApplicationError(Code.FIELD_INVALID, message, {"field": field}, status=422)


def _provider(request: HttpRequest, provider_id: int) -> dict[str, Any]:
    return providers.provider_out(providers.access_provider_by_id(actor_of(request), provider_id))


def _facility(request: HttpRequest, facility_id: int) -> dict[str, Any]:
    return providers.facility_out(providers.access_facility_by_id(actor_of(request), facility_id))


def _inspection(request: HttpRequest, inspection_id: int) -> dict[str, Any]:
    return providers.inspection_out(
        providers.access_inspection_by_id(actor_of(request), inspection_id)
    )


# -- providers ---------------------------------------------------------------------------------------


@router.get("/providers", response={200: dict[str, Any], **ERRORS}, summary="服务商列表（本辖区）")
def providers_list(request: HttpRequest, status: str | None = None, q: str | None = None,
                   page: int = 1, page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    actor = actor_of(request)
    providers.ensure_reader(actor)
    qs = (
        access.providers_visible(actor)
        .select_related("division")
        .prefetch_related("areas", "members__user")
    )
    if status is not None:
        if status not in ProviderStatus.values:
            raise _bad("status", f"状态取值无效：{status}")
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(name__contains=q.strip())
    catalogue = providers.service_catalogue()
    return paginate(qs.order_by("name", "pk"), page, page_size,
                    lambda p: providers.provider_out(p, catalogue=catalogue))  # fmt: skip


@router.post("/providers", response={201: dict[str, Any], **ERRORS}, summary="登记服务商")
def providers_create(request: HttpRequest, body: ProviderIn) -> tuple[int, dict[str, Any]]:
    provider = providers.provider_create(actor=actor_of(request), **body.model_dump())
    return 201, _provider(request, provider.pk)


@router.get(
    "/providers/{provider_id}", response={200: dict[str, Any], **ERRORS}, summary="服务商详情"
)
def providers_get(request: HttpRequest, provider_id: int) -> dict[str, Any]:
    return _provider(request, provider_id)


@router.patch(
    "/providers/{provider_id}", response={200: dict[str, Any], **ERRORS}, summary="修改服务商信息"
)
def providers_update(request: HttpRequest, provider_id: int, body: ProviderPatch) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    reason = changes.pop("reason")
    providers.provider_update(
        actor=actor_of(request), provider_id=provider_id, changes=changes, reason=reason
    )
    return _provider(request, provider_id)


@router.post("/providers/{provider_id}/status", response={200: dict[str, Any], **ERRORS},
             summary="暂停、恢复或解约服务商")  # fmt: skip
def providers_status(request: HttpRequest, provider_id: int, body: StatusIn) -> dict[str, Any]:
    providers.provider_status_set(
        actor=actor_of(request), provider_id=provider_id, status=body.status, reason=body.reason
    )
    return _provider(request, provider_id)


@router.post("/providers/{provider_id}/members", response={201: dict[str, Any], **ERRORS},
             summary="登记服务商人员（关联已有的加盟服务商账号）")  # fmt: skip
def providers_member(
    request: HttpRequest, provider_id: int, body: MemberIn
) -> tuple[int, dict[str, Any]]:
    providers.provider_member_add(
        actor=actor_of(request), provider_id=provider_id, username=body.username
    )
    return 201, _provider(request, provider_id)


# -- facilities ------------------------------------------------------------------------------------------


@router.get(
    "/facilities", response={200: dict[str, Any], **ERRORS}, summary="养老服务设施列表（本辖区）"
)
def facilities_list(request: HttpRequest, kind: str | None = None, provider: int | None = None,
                    page: int = 1, page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    actor = actor_of(request)
    providers.ensure_reader(actor)
    qs = access.facilities_visible(actor).select_related("division", "operator")
    if kind is not None:
        if kind not in FacilityKind.values:
            raise _bad("kind", f"设施类型取值无效：{kind}")
        qs = qs.filter(kind=kind)
    if provider is not None:
        qs = qs.filter(operator_id=provider)
    return paginate(qs.order_by("division_path", "name", "pk"), page, page_size,
                    providers.facility_out)  # fmt: skip


@router.post("/facilities", response={201: dict[str, Any], **ERRORS}, summary="登记养老服务设施")
def facilities_create(request: HttpRequest, body: FacilityIn) -> tuple[int, dict[str, Any]]:
    facility = providers.facility_create(actor=actor_of(request), **body.model_dump())
    return 201, _facility(request, facility.pk)


@router.get(
    "/facilities/{facility_id}", response={200: dict[str, Any], **ERRORS}, summary="设施详情"
)
def facilities_get(request: HttpRequest, facility_id: int) -> dict[str, Any]:
    return _facility(request, facility_id)


@router.patch(
    "/facilities/{facility_id}", response={200: dict[str, Any], **ERRORS}, summary="修改设施信息"
)
def facilities_update(
    request: HttpRequest, facility_id: int, body: FacilityPatch
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    reason = changes.pop("reason")
    providers.facility_update(
        actor=actor_of(request), facility_id=facility_id, changes=changes, reason=reason
    )
    return _facility(request, facility_id)


@router.get("/facilities/{facility_id}/ratings", response={200: dict[str, Any], **ERRORS},
            summary="星级评定记录（最新在前，第一条为现行星级）")  # fmt: skip
def ratings_list(
    request: HttpRequest, facility_id: int, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    qs = providers.ratings_of(actor_of(request), facility_id)
    return paginate(qs, page, page_size, providers.rating_out)


@router.post("/facilities/{facility_id}/ratings", response={201: dict[str, Any], **ERRORS},
             summary="星级评定：各部分得分 → 总分 → 星级")  # fmt: skip
def ratings_create(
    request: HttpRequest, facility_id: int, body: RatingIn
) -> tuple[int, dict[str, Any]]:
    rating = providers.rating_record(actor=actor_of(request), facility_id=facility_id,
                                     scores=body.scores, rated_on=body.rated_on, note=body.note)  # fmt: skip
    return 201, providers.rating_out(rating)


# -- supervision --------------------------------------------------------------------------------------------


@router.get("/inspections", response={200: dict[str, Any], **ERRORS},
            summary="监督检查记录（overdue=true：逾期未整改）")  # fmt: skip
def inspections_list(request: HttpRequest, overdue: bool = False, status: str | None = None,
                     facility: int | None = None, provider: int | None = None, page: int = 1,
                     page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    actor = actor_of(request)
    providers.ensure_reader(actor)
    if overdue:
        qs = providers.inspections_overdue(actor)
    else:
        qs = (
            access.inspections_visible(actor)
            .select_related("facility", "provider", "inspector")
            .order_by("-inspected_on", "-pk")
        )
    if status is not None:
        if status not in InspectionStatus.values:
            raise _bad("status", f"状态取值无效：{status}")
        qs = qs.filter(status=status)
    if facility is not None:
        qs = qs.filter(facility_id=facility)
    if provider is not None:
        qs = qs.filter(provider_id=provider)
    return paginate(qs, page, page_size, providers.inspection_out)


@router.post("/inspections", response={201: dict[str, Any], **ERRORS}, summary="记录监督检查")
def inspections_create(request: HttpRequest, body: InspectionIn) -> tuple[int, dict[str, Any]]:
    inspection = providers.inspection_record(
        actor=actor_of(request), facility_id=body.facility, provider_id=body.provider,
        inspected_on=body.inspected_on, findings=body.findings,
        correction_due=body.correction_due,
    )  # fmt: skip
    return 201, _inspection(request, inspection.pk)


@router.get("/inspections/{inspection_id}", response={200: dict[str, Any], **ERRORS},
            summary="检查记录详情")  # fmt: skip
def inspections_get(request: HttpRequest, inspection_id: int) -> dict[str, Any]:
    return _inspection(request, inspection_id)


@router.post("/inspections/{inspection_id}/correction", response={200: dict[str, Any], **ERRORS},
             summary="确认整改完成（复查）")  # fmt: skip
def inspections_correct(
    request: HttpRequest, inspection_id: int, body: CorrectionIn
) -> dict[str, Any]:
    providers.inspection_correct(actor=actor_of(request), inspection_id=inspection_id,
                                 corrected_on=body.corrected_on, follow_up=body.follow_up)  # fmt: skip
    return _inspection(request, inspection_id)


@router.post("/inspections/{inspection_id}/closure", response={200: dict[str, Any], **ERRORS},
             summary="复查认定无需整改，关闭")  # fmt: skip
def inspections_close(request: HttpRequest, inspection_id: int, body: ClosureIn) -> dict[str, Any]:
    providers.inspection_close(
        actor=actor_of(request), inspection_id=inspection_id, follow_up=body.follow_up
    )
    return _inspection(request, inspection_id)
