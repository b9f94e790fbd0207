"""/api/v1/medical-claims: a medical bill through the support cascade (先保险后救助再慈善).
A thin skin over ``benefits.cascade``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from pydantic import Field

from minzheng.accounts.auth import actor_of
from minzheng.core.pagination import paginate
from minzheng.core.schemas import Strict, error_responses

from . import cascade
from .idempotency import HEADER, idempotent

router = Router(tags=["医疗救助 medical claims"])

ERRORS = error_responses(401, 403, 404, 422)


class MedicalClaimIn(Strict):
    household: int = Field(description="家庭 id（本辖区）")
    person: int = Field(description="就诊人（本户成员 id）")
    kind: str = Field(description="就诊类别：outpatient（门诊）或 inpatient（住院）")
    total: str | int | float = Field(description="总费用（元，两位小数）")
    insurance_paid: str | int | float = Field(description="医保支付（元，两位小数，不大于总费用）")
    treated_on: str = Field(description="就诊（出院）日期 YYYY-MM-DD，不晚于今天")
    band: str | None = Field(
        None,
        description="救助类别：缺省按家庭在享待遇（特困、低保、低收入）确定；"
        "无在享待遇时须填因病致贫档次 illness_1 / illness_2 / illness_3（30% / 40% / 50%）",
    )
    reason: str = Field("", description="办理说明（可选，500字以内）")


@router.post("/medical-claims", response={201: dict[str, Any], **ERRORS},
             summary="登记医疗费用并计算救助（先保险后救助再慈善）")  # fmt: skip
def medical_claims_create(request: HttpRequest, payload: MedicalClaimIn) -> tuple[int, dict[str, Any]]:  # fmt: skip
    """带 `Idempotency-Key` 请求头重复提交时返回第一次的结果，不会重复登记。"""
    actor = actor_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        claim = cascade.medical_claim_create(
            actor=actor, household_id=payload.household, person_id=payload.person,
            kind=payload.kind, total=payload.total, insurance_paid=payload.insurance_paid,
            treated_on=payload.treated_on, band=payload.band, reason=payload.reason,
        )  # fmt: skip
        return 201, cascade.claim_out(claim)

    return idempotent(actor, request.headers.get(HEADER), "POST /medical-claims",
                      payload.model_dump(), work)  # fmt: skip


@router.get("/medical-claims", response={200: dict[str, Any], **ERRORS},
            summary="医疗救助记录（本辖区）")  # fmt: skip
def medical_claims_list(
    request: HttpRequest,
    page: int = 1,
    page_size: int = 50,
    household: int | None = None,
    person: int | None = None,
) -> dict[str, Any]:
    actor = actor_of(request)
    qs = cascade.medical_claims_list(actor, household=household, person=person)
    return paginate(qs, page, page_size, cascade.claim_out)


@router.get("/medical-claims/{claim_id}", response={200: dict[str, Any], **ERRORS},
            summary="医疗救助记录详情（含救助顺序）")  # fmt: skip
def medical_claims_get(request: HttpRequest, claim_id: int) -> dict[str, Any]:
    actor = actor_of(request)
    return cascade.claim_out(cascade.medical_claim_get(actor, claim_id))
