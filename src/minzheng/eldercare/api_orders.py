"""/api/v1/eldercare/services, /orders, /settlements: the service catalogue, orders with
their delivery, and providers' monthly settlements. A thin skin over ``eldercare.orders``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from pydantic import Field

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.core.errors import ApplicationError
from minzheng.core.pagination import paginate
from minzheng.core.schemas import Strict, error_responses

from . import orders
from .errors import ElderErrorCode as Code
from .models import OrderStatus, SettlementStatus

router = Router(tags=["居家养老 eldercare"])

ERRORS = error_responses(401, 403, 404, 409, 422)


class OrderIn(Strict):
    elder: int = Field(description="老人（登记人员 id，60 周岁及以上）")
    service: str = Field(description="服务项目编码（见 /eldercare/services），如 meal_delivery")
    provider: int | None = Field(
        None, description="服务商 id；缺省时自动派给第一个符合条件的服务商"
    )
    quantity: int = Field(1, description="数量（按服务项目的计价单位，1–100）")
    scheduled_for: date | str = Field(description="服务日期 YYYY-MM-DD（不早于今天）")
    channel: str = Field(
        "worker", description="下单渠道：worker 工作人员代下单、family 家属、elder 老人本人"
    )
    note: str = Field("", description="备注（可选）")


class ReasonIn(Strict):
    reason: str = Field(description="理由（必填）")


class DeliveryIn(Strict):
    delivered_at: datetime | str = Field(
        description="服务时间 YYYY-MM-DDTHH:MM（不晚于现在，不早于服务日期前一天）"
    )
    staff_name: str = Field(description="服务人员姓名")
    evidence: str = Field(description="老人签字或照片（签字人或照片编号）")


class SettlementIn(Strict):
    provider: int = Field(description="服务商 id")
    month: str = Field(description="结算月份 YYYY-MM（已结束的月份）")


class PaymentIn(Strict):
    reference: str = Field(description="支付凭证号")


def _status(raw: str | None, choices: Any) -> str | None:
    if raw in (None, ""):
        return None
    if raw not in choices.values:
        raise ApplicationError(
            Code.FIELD_INVALID, f"状态取值无效：{raw}", {"field": "status"}, status=422
        )
    return str(raw)


@router.get("/eldercare/services", response={200: dict[str, Any], **ERRORS},
            summary="居家养老服务项目目录（价格与补贴规则）")  # fmt: skip
def services_list(request: HttpRequest) -> dict[str, Any]:
    actor_of(request)
    items = [orders.service_out(s) for s in orders.services_catalogue()]
    return {"items": items, "count": len(items)}


# -- orders -------------------------------------------------------------------------------------------


@router.get("/orders", response={200: dict[str, Any], **ERRORS},
            summary="服务订单（工作人员：本辖区；服务商：本单位承接的；居民：本户的）")  # fmt: skip
def orders_list(request: HttpRequest, status: str | None = None, elder: int | None = None,
                provider: int | None = None, page: int = 1, page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    qs = access.orders_visible(actor_of(request))
    chosen = _status(status, OrderStatus)
    if chosen:
        qs = qs.filter(status=chosen)
    if elder is not None:
        qs = qs.filter(elder_id=elder)
    if provider is not None:
        qs = qs.filter(provider_id=provider)
    qs = orders.orders_listed(qs).order_by("-scheduled_for", "-pk")
    return paginate(qs, page, page_size, orders.order_out)


@router.post("/orders", response={201: dict[str, Any], **ERRORS},
             summary="下单并派单（计算补贴与个人支付）")  # fmt: skip
def orders_create(request: HttpRequest, body: OrderIn) -> tuple[int, dict[str, Any]]:
    actor = actor_of(request)
    order = orders.order_place(
        actor=actor, elder_person_id=body.elder, service_code=body.service,
        provider_id=body.provider, quantity=body.quantity, scheduled_for=body.scheduled_for,
        channel=body.channel, note=body.note,
    )  # fmt: skip
    return 201, orders.order_out(orders.access_order_by_id(actor, order.pk))


@router.get("/orders/{order_id}", response={200: dict[str, Any], **ERRORS}, summary="服务订单详情")
def orders_get(request: HttpRequest, order_id: int) -> dict[str, Any]:
    return orders.order_out(orders.access_order_by_id(actor_of(request), order_id))


@router.post("/orders/{order_id}/cancellation", response={200: dict[str, Any], **ERRORS},
             summary="取消订单（服务前）")  # fmt: skip
def orders_cancel(request: HttpRequest, order_id: int, body: ReasonIn) -> dict[str, Any]:
    actor = actor_of(request)
    orders.order_cancel(actor=actor, order_id=order_id, reason=body.reason)
    return orders.order_out(orders.access_order_by_id(actor, order_id))


@router.post("/orders/{order_id}/delivery", response={201: dict[str, Any], **ERRORS},
             summary="服务商记录服务（每单一次）")  # fmt: skip
def orders_deliver(
    request: HttpRequest, order_id: int, body: DeliveryIn
) -> tuple[int, dict[str, Any]]:
    actor = actor_of(request)
    orders.delivery_record(actor=actor, order_id=order_id, delivered_at=body.delivered_at,
                           staff_name=body.staff_name, evidence=body.evidence)  # fmt: skip
    return 201, orders.order_out(orders.access_order_by_id(actor, order_id))


# -- settlements --------------------------------------------------------------------------------------


@router.get("/settlements", response={200: dict[str, Any], **ERRORS},
            summary="服务商月度结算单")  # fmt: skip
def settlements_list(request: HttpRequest, status: str | None = None, provider: int | None = None,
                     page: int = 1, page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    qs = access.settlements_visible(actor_of(request))
    chosen = _status(status, SettlementStatus)
    if chosen:
        qs = qs.filter(status=chosen)
    if provider is not None:
        qs = qs.filter(provider_id=provider)
    qs = qs.select_related("provider", "prepared_by", "approved_by", "paid_by")
    return paginate(qs.order_by("-month", "provider_id"), page, page_size, orders.settlement_out)


@router.post("/settlements", response={201: dict[str, Any], **ERRORS},
             summary="编制服务商月度结算单（每个服务商每月一张）")  # fmt: skip
def settlements_create(request: HttpRequest, body: SettlementIn) -> tuple[int, dict[str, Any]]:
    actor = actor_of(request)
    settlement = orders.settlement_prepare(actor=actor, provider_id=body.provider, month=body.month)
    found = orders.access_settlement_by_id(actor, settlement.pk)
    return 201, orders.settlement_out(found, lines=True)


@router.get("/settlements/{settlement_id}", response={200: dict[str, Any], **ERRORS},
            summary="结算单详情（含订单明细）")  # fmt: skip
def settlements_get(request: HttpRequest, settlement_id: int) -> dict[str, Any]:
    found = orders.access_settlement_by_id(actor_of(request), settlement_id)
    return orders.settlement_out(found, lines=True)


@router.post("/settlements/{settlement_id}/approval", response={200: dict[str, Any], **ERRORS},
             summary="审核结算单（制表人以外的另一人）")  # fmt: skip
def settlements_approve(request: HttpRequest, settlement_id: int, body: ReasonIn) -> dict[str, Any]:
    actor = actor_of(request)
    orders.settlement_approve(actor=actor, settlement_id=settlement_id, reason=body.reason)
    return orders.settlement_out(orders.access_settlement_by_id(actor, settlement_id), lines=True)


@router.post("/settlements/{settlement_id}/payment", response={200: dict[str, Any], **ERRORS},
             summary="登记结算支付（支付凭证号）")  # fmt: skip
def settlements_pay(request: HttpRequest, settlement_id: int, body: PaymentIn) -> dict[str, Any]:
    actor = actor_of(request)
    orders.settlement_pay(actor=actor, settlement_id=settlement_id, reference=body.reference)
    return orders.settlement_out(orders.access_settlement_by_id(actor, settlement_id), lines=True)


@router.get("/settlements/{settlement_id}/statement",
            response={200: None, **ERRORS, **error_responses(503)},
            summary="结算单（PDF）")  # fmt: skip
def settlements_statement(request: HttpRequest, settlement_id: int) -> HttpResponse:
    content, filename = orders.settlement_statement_pdf(actor_of(request), settlement_id)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
