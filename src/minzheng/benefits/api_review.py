"""/api/v1/reviews and /api/v1/standard-changes: dynamic management (动态管理) of
entitlements. A thin skin over ``benefits.review``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from pydantic import Field

from minzheng.accounts.auth import actor_of
from minzheng.core.pagination import paginate
from minzheng.core.schemas import Strict, error_responses

from . import review

router = Router(tags=["动态管理 reviews"])

ERRORS = error_responses(401, 403, 404, 409, 422, 503)
ROWS_SHOWN = 200


class ReviewConfirmIn(Strict):
    outcome: str = Field(
        description="复核结论：continue（继续享受）、adjust（调整金额）、gradual_exit（渐退）、"
        "stop（停止发放）"
    )
    reason: str = Field(description="复核意见（必填，500字以内）")
    amount: str | int | float | None = Field(
        None, description="adjust：调整后月发放金额（元），缺省为系统建议金额；其他结论不填"
    )
    effective_month: str | None = Field(
        None, description="生效月份 YYYY-MM（不早于本月），缺省为下月"
    )


class StandardChangeIn(Strict):
    programme: str = Field(description="救助项目 id（按月发放的项目，如 dibao）")
    effective_month: str = Field(description="新标准生效月份 YYYY-MM")
    reason: str = Field(description="调整依据（文号等，必填）")
    dry_run: bool = Field(False, description="只测算预览，不变更待遇（之后可确认执行）")


class ReasonIn(Strict):
    reason: str = Field(description="确认意见（必填）")


@router.get("/reviews", response={200: dict[str, Any], **ERRORS},
            summary="动态复核：到期待复核的待遇（due=true）或复核记录")  # fmt: skip
def reviews_list(
    request: HttpRequest,
    due: bool = False,
    open: bool | None = None,
    entitlement: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """`due=true`：本辖区下次复核日期已到、尚无未确认复核的在享待遇（最早到期在前）；
    否则列出复核记录（`open=true` 只列未确认的）。"""
    actor = actor_of(request)
    if due:
        return paginate(review.reviews_due(actor), page, page_size, review.entitlement_due_out)
    qs = review.reviews_visible(actor)
    if open is not None:
        qs = qs.filter(confirmed_at__isnull=open)
    if entitlement is not None:
        qs = qs.filter(entitlement_id=entitlement)
    return paginate(qs.order_by("-pk"), page, page_size, review.review_out)


@router.post("/entitlements/{entitlement_id}/reviews", response={201: dict[str, Any], **ERRORS},
             summary="发起动态复核（按当前登记信息重新测算并给出建议）")  # fmt: skip
def reviews_create(request: HttpRequest, entitlement_id: int) -> tuple[int, dict[str, Any]]:
    done = review.review_run(actor=actor_of(request), entitlement_id=entitlement_id)
    return 201, review.review_out(done)


@router.get("/reviews/{review_id}", response={200: dict[str, Any], **ERRORS},
            summary="复核详情")  # fmt: skip
def reviews_get(request: HttpRequest, review_id: int) -> dict[str, Any]:
    return review.review_out(review.review_get(actor_of(request), review_id))


@router.post("/reviews/{review_id}/confirmation", response={200: dict[str, Any], **ERRORS},
             summary="确认复核结论（继续、调整、渐退、停止）")  # fmt: skip
def reviews_confirm(request: HttpRequest, review_id: int, payload: ReviewConfirmIn) -> dict[str, Any]:  # fmt: skip
    done = review.review_confirm(
        actor=actor_of(request), review_id=review_id, outcome=payload.outcome,
        reason=payload.reason, amount=payload.amount, effective_month=payload.effective_month,
    )  # fmt: skip
    return review.review_out(done)


@router.post("/standard-changes", response={201: dict[str, Any], **ERRORS},
             summary="标准调整：按新标准重新测算本区在享待遇（可只预览）")  # fmt: skip
def standard_changes_create(
    request: HttpRequest, payload: StandardChangeIn
) -> tuple[int, dict[str, Any]]:
    change = review.standard_change_apply(
        actor=actor_of(request), programme=payload.programme,
        effective_month=payload.effective_month, reason=payload.reason, dry_run=payload.dry_run,
    )  # fmt: skip
    return 201, review.standard_change_out(change, rows_limit=ROWS_SHOWN)


@router.get("/standard-changes/{change_id}", response={200: dict[str, Any], **ERRORS},
            summary="标准调整详情（前200行明细）")  # fmt: skip
def standard_changes_get(request: HttpRequest, change_id: int) -> dict[str, Any]:
    change = review.standard_change_get(actor_of(request), change_id)
    return review.standard_change_out(change, rows_limit=ROWS_SHOWN)


@router.post("/standard-changes/{change_id}/confirmation", response={200: dict[str, Any], **ERRORS},
             summary="确认执行已预览的标准调整")  # fmt: skip
def standard_changes_confirm(request: HttpRequest, change_id: int, payload: ReasonIn) -> dict[str, Any]:  # fmt: skip
    change = review.standard_change_confirm(actor=actor_of(request), change_id=change_id,
                                            reason=payload.reason)  # fmt: skip
    return review.standard_change_out(change, rows_limit=ROWS_SHOWN)
