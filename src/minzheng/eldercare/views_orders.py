"""Pages of elderly-care orders and settlements, mounted under /eldercare/: the order list
with the place form (``?elder=<person id>`` from an elder's page), an order with the
provider's delivery form, and providers' monthly settlements with the approve and pay
forms and the PDF statement.

A thin skin over ``eldercare.orders``: every refusal comes back as a Chinese message on
the page (each bad field named), never a 500.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_POST

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.applications import clock
from minzheng.core.errors import ApplicationError, NotFound
from minzheng.core.pages import attempt
from minzheng.registry.models import Division
from minzheng.registry.vocab import PersonState

from . import orders
from .models import OrderChannel, OrderStatus, SettlementStatus

PAGE_SIZE = 50


def _reads_orders(actor: User) -> bool:
    resident = actor.role == Role.RESIDENT and actor.household_id is not None
    return actor.is_active and (
        resident
        or access.provider_of(actor) is not None
        or access.eldercare_path(actor) is not None
    )


def _places_orders(actor: User) -> bool:
    resident = actor.role == Role.RESIDENT and actor.household_id is not None
    return actor.is_active and (resident or actor.role in access.ELDERCARE_WRITERS)


def _reads_settlements(actor: User) -> bool:
    return actor.is_active and (
        access.provider_of(actor) is not None or access.eldercare_path(actor) is not None
    )


def _home_division(actor: User) -> Division | None:
    """Where the actor orders: their division, a resident their household's community."""
    if actor.role == Role.RESIDENT:
        return access.divisions_visible(actor).first()
    return actor.division


# -- orders -------------------------------------------------------------------------------------------


def _channels(actor: User) -> list[tuple[str, str]]:
    if actor.role == Role.RESIDENT:
        return [(v, lab) for v, lab in OrderChannel.choices if v in orders.RESIDENT_CHANNELS]
    return list(OrderChannel.choices)


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if (
        actor.is_active
        and actor.role == Role.SERVICE_PROVIDER
        and access.provider_of(actor) is None
    ):
        return render(request, "applications/refused.html",
                      {"error": "您的账号尚未关联服务商，请联系区民政局养老服务科",
                       "no_back": True}, status=403)  # fmt: skip
    if not _reads_orders(actor):
        raise Http404
    can_place = _places_orders(actor)
    errors: list[dict[str, Any]] = []
    if request.method == "POST":
        if not can_place:
            raise Http404
        post = request.POST
        placed: dict[str, Any] = {}

        def act() -> None:
            placed["order"] = orders.order_place(
                actor=actor, elder_person_id=post.get("elder"), service_code=post.get("service"),
                provider_id=post.get("provider") or None, quantity=post.get("quantity") or 1,
                scheduled_for=post.get("scheduled_for"),
                channel=post.get("channel") or _channels(actor)[0][0], note=post.get("note", ""),
            )  # fmt: skip

        errors = attempt(request, act, "已下单并派单").errors
        if not errors:
            return redirect("order_detail", placed["order"].pk)
    status = request.GET.get("status", "")
    qs = access.orders_visible(actor)
    if status in OrderStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(orders.orders_listed(qs).order_by("-scheduled_for", "-pk"), PAGE_SIZE)
    rows = page.get_page(request.GET.get("page"))
    form = request.POST if request.method == "POST" else request.GET
    elder = None
    if can_place and form.get("elder"):
        try:
            elder = access.persons_visible(actor).filter(pk=int(form["elder"])).first()
        except (TypeError, ValueError):
            elder = None
    today = clock.today()
    context = {
        "rows": rows,
        "data": [orders.order_out(o) for o in rows],
        "status": status,
        "statuses": OrderStatus.choices,
        "can_place": can_place,
        "is_resident": actor.role == Role.RESIDENT,
        "members": (
            list(access.persons_visible(actor).filter(state=PersonState.ACTIVE).order_by("pk"))
            if actor.role == Role.RESIDENT
            else []
        ),
        "elder": elder,
        "services": list(orders.services_catalogue()),
        "providers": list(orders.providers_open(today, _home_division(actor))) if can_place else [],
        "channels": _channels(actor),
        "form": form,
        "errors": errors,
        "error_fields": {e["field"] for e in errors},
        "today": today,
    }
    return render(request, "eldercare/order_list.html", context)


def _may_cancel(actor: User, data: dict[str, Any]) -> bool:
    if data["status"] not in (OrderStatus.PLACED, OrderStatus.DISPATCHED):
        return False
    return (
        actor.role in access.ELDERCARE_WRITERS
        or actor.role == Role.RESIDENT
        or access.provider_of(actor) == data["provider"]["id"]
    )


@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        order = orders.access_order_by_id(actor, order_id)
    except NotFound:
        raise Http404 from None
    data = orders.order_out(order)
    provider_user = access.provider_of(actor) == order.provider_id
    context = {
        "order": order,
        "data": data,
        "can_deliver": provider_user and order.status == OrderStatus.DISPATCHED,
        "can_cancel": _may_cancel(actor, data),
        "form": request.POST,
        "today": clock.today(),
    }
    return render(request, "eldercare/order_detail.html", context)


@login_required
@require_POST
def order_deliver(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = actor_of(request)
    post = request.POST
    errors = attempt(request, lambda: orders.delivery_record(
        actor=actor, order_id=order_id, delivered_at=post.get("delivered_at"),
        staff_name=post.get("staff_name"), evidence=post.get("evidence")), "服务已记录").errors  # fmt: skip
    if errors:
        return order_detail(request, order_id)
    return redirect("order_detail", order_id)


@login_required
@require_POST
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = actor_of(request)
    attempt(request, lambda: orders.order_cancel(
        actor=actor, order_id=order_id, reason=request.POST.get("reason")), "订单已取消")  # fmt: skip
    return redirect("order_detail", order_id)


# -- settlements ---------------------------------------------------------------------------------------


@login_required
def settlement_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not _reads_settlements(actor):
        raise Http404
    providers = list(orders.settlement_providers(actor))
    errors: list[dict[str, Any]] = []
    if request.method == "POST":
        if not providers:
            raise Http404
        post = request.POST
        made: dict[str, Any] = {}

        def act() -> None:
            made["settlement"] = orders.settlement_prepare(
                actor=actor, provider_id=post.get("provider"), month=post.get("month")
            )

        errors = attempt(request, act, "结算单已生成，请另一名工作人员审核").errors
        if not errors:
            return redirect("settlement_detail", made["settlement"].pk)
    status = request.GET.get("status", "")
    qs = access.settlements_visible(actor).select_related(
        "provider", "prepared_by", "approved_by", "paid_by"
    )
    if status in SettlementStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-month", "provider_id"), PAGE_SIZE)
    rows = page.get_page(request.GET.get("page"))
    previous = (clock.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    context = {
        "rows": rows,
        "data": [orders.settlement_out(s) for s in rows],
        "status": status,
        "statuses": SettlementStatus.choices,
        "providers": providers,
        "form": request.POST,
        "default_month": f"{previous:%Y-%m}",
        "errors": errors,
    }
    return render(request, "eldercare/settlement_list.html", context)


@login_required
def settlement_detail(request: HttpRequest, settlement_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        settlement = orders.access_settlement_by_id(actor, settlement_id)
    except NotFound:
        raise Http404 from None
    maker = actor.role in orders.SETTLEMENT_MAKERS
    context = {
        "settlement": settlement,
        "data": orders.settlement_out(settlement, lines=True),
        "can_approve": maker and settlement.status == SettlementStatus.DRAFT,
        "is_preparer": settlement.prepared_by_id == actor.pk,
        "can_pay": actor.role in orders.SETTLEMENT_PAYERS
        and settlement.status == SettlementStatus.APPROVED,
    }
    return render(request, "eldercare/settlement_detail.html", context)


@login_required
@require_POST
def settlement_approve(request: HttpRequest, settlement_id: int) -> HttpResponse:
    actor = actor_of(request)
    attempt(request, lambda: orders.settlement_approve(
        actor=actor, settlement_id=settlement_id, reason=request.POST.get("reason")),
        "结算单已审核")  # fmt: skip
    return redirect("settlement_detail", settlement_id)


@login_required
@require_POST
def settlement_pay(request: HttpRequest, settlement_id: int) -> HttpResponse:
    actor = actor_of(request)
    attempt(request, lambda: orders.settlement_pay(
        actor=actor, settlement_id=settlement_id, reference=request.POST.get("reference")),
        "已登记支付")  # fmt: skip
    return redirect("settlement_detail", settlement_id)


@login_required
@require_GET
def settlement_statement(request: HttpRequest, settlement_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        content, filename = orders.settlement_statement_pdf(actor, settlement_id)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:  # the PDF renderer is unavailable (503)
        return render(
            request, "applications/refused.html", {"error": exc.message}, status=exc.status
        )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns: list[URLPattern] = [
    path("orders/", order_list, name="order_list"),
    path("orders/<int:order_id>/", order_detail, name="order_detail"),
    path("orders/<int:order_id>/delivery", order_deliver, name="order_deliver"),
    path("orders/<int:order_id>/cancellation", order_cancel, name="order_cancel"),
    path("settlements/", settlement_list, name="settlement_list"),
    path("settlements/<int:settlement_id>/", settlement_detail, name="settlement_detail"),
    path("settlements/<int:settlement_id>/approval", settlement_approve, name="settlement_approve"),
    path("settlements/<int:settlement_id>/payment", settlement_pay, name="settlement_pay"),
    path(
        "settlements/<int:settlement_id>/statement.pdf",
        settlement_statement,
        name="settlement_statement",
    ),
]
