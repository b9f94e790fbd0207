"""The service catalogue, orders, deliveries and monthly settlements (居家养老服务订单与结算).

Writes are one function per use case, each in one transaction, the acting user first;
input comes raw from forms and the API and is validated first, every bad field named at
once (``ValidationFailed``), so a refused request writes nothing. Reads start from the
scope primitives of ``accounts.access`` (``eldercare_path``, ``provider_of``,
``persons_visible``): staff read below their division, a service provider's users their
provider's orders and settlements, a resident their household's orders.

The catalogue lives in ``policy/eldercare/services.yaml``; ``catalogue_load()`` upserts it
into ``ServiceItem`` (idempotent). It is not a data migration: the demo (``make run``) and
the tests call it, and a deployment runs it once after installing or changing the file.

Money: ``total = price × quantity``; ``subsidy = min(total × share, cap × quantity)``,
rounded half up to the fen, when the elder's household qualifies for the item's programme
on the service date (the rules engine, through ``applications.selectors.household_results``),
else 0; the elder pays the rest. Orders are dispatched at once, to the provider named or
the first eligible one (lowest id).

Who does what: staff who write elderly care (community, street, district) place orders
for elders in their jurisdiction; a resident orders for a member of their own household
(channel ``elder`` or ``family``). Only the users of the provider an order was dispatched
to record its delivery: the party paid attests the service, and the staff who prepare and
approve its settlement never do (separation of duties). A street reviewer or district
approver prepares a provider's month, a different one approves it (four eyes), a district
approver records the payment.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

import yaml
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from minzheng.accounts import access
from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.applications import clock
from minzheng.applications.selectors import household_results
from minzheng.benefits import journal
from minzheng.core.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
)
from minzheng.core.forms import FieldErrors
from minzheng.core.money import format_amount, quantize
from minzheng.core.pdf import render_pdf
from minzheng.programmes.eligibility import parameter_value, programme_labels
from minzheng.registry.models import Division, Household, Person
from minzheng.registry.vocab import PersonState

from .errors import ElderErrorCode as Code
from .models import (
    ZERO,
    Delivery,
    Order,
    OrderChannel,
    OrderStatus,
    Provider,
    ProviderStatus,
    ServiceItem,
    Settlement,
    SettlementLine,
    SettlementStatus,
)

CATALOGUE = "eldercare/services.yaml"
# Who prepares and approves a provider's month (the street's and the district's offices).
SETTLEMENT_MAKERS = frozenset({Role.STREET_REVIEWER, Role.DISTRICT_APPROVER})
# Who records that it was paid (district finance).
SETTLEMENT_PAYERS = frozenset({Role.DISTRICT_APPROVER})
RESIDENT_CHANNELS = frozenset({OrderChannel.ELDER, OrderChannel.FAMILY})
MAX_QUANTITY = 100
MAX_NOTE = 300
MIN_AGE_PARAMETER = "elderly_service_subsidy.min_age"


def _name(user: User | None) -> str:
    return "" if user is None else (user.get_full_name() or user.username)


def _roles(roles: frozenset[str]) -> str:
    return "、".join(Role(r).label for r in sorted(roles))


# -- the catalogue ----------------------------------------------------------------------------------


def _catalogue_items() -> tuple[str, list[dict[str, Any]]]:
    text = resources.files("minzheng.policy").joinpath(CATALOGUE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return str(data["programme"]), list(data["items"])


def catalogue_load() -> int:
    """Upsert ``ServiceItem`` rows from ``policy/eldercare/services.yaml``; an item no longer
    in the file is deactivated (orders keep pointing at it). Idempotent: running it again
    changes nothing. Returns the number of items in the file.

    Called by the demo and the tests; a deployment runs it after changing the file.
    """
    programme, items = _catalogue_items()
    codes = []
    with transaction.atomic():
        for item in items:
            cap = item.get("subsidy_cap")
            ServiceItem.objects.update_or_create(
                code=str(item["code"]),
                defaults={
                    "name": str(item["name"]),
                    "unit": str(item["unit"]),
                    "price": quantize(Decimal(str(item["price"]))),
                    "subsidy_share": Decimal(str(item.get("subsidy_share") or "0")),
                    "subsidy_cap": None if cap is None else quantize(Decimal(str(cap))),
                    "programme": str(item.get("programme") or programme),
                    "active": True,
                },
            )
            codes.append(str(item["code"]))
        ServiceItem.objects.exclude(code__in=codes).update(active=False)
    return len(codes)


def services_catalogue() -> QuerySet[ServiceItem]:
    """The active services (the catalogue is public: prices are not personal data)."""
    return ServiceItem.objects.filter(active=True).order_by("code")


def order_price(
    item: ServiceItem, quantity: int, *, qualifies: bool
) -> tuple[Decimal, Decimal, Decimal]:
    """``(total, subsidy, elder_pays)`` of ``quantity`` units of ``item``.

    >>> meal = ServiceItem(price=Decimal("15.00"), subsidy_share=Decimal("0.5"),
    ...                    subsidy_cap=Decimal("10.00"), programme="elderly_service_subsidy")
    >>> order_price(meal, 2, qualifies=True)
    (Decimal('30.00'), Decimal('15.00'), Decimal('15.00'))
    >>> order_price(meal, 2, qualifies=False)
    (Decimal('30.00'), Decimal('0.00'), Decimal('30.00'))
    """
    total = quantize(item.price * quantity)
    subsidy = ZERO
    if qualifies and item.programme and item.subsidy_share > 0:
        share = total * item.subsidy_share
        if item.subsidy_cap is not None:
            share = min(share, item.subsidy_cap * quantity)
        subsidy = quantize(share)
    return total, subsidy, total - subsidy


def household_qualifies(person: Person, programme: str, day: date) -> bool:
    """Whether the elder's household qualifies for ``programme`` on ``day`` (the rules
    engine's result for the registry document; an evaluation failure counts as no)."""
    if not programme:
        return False
    results = household_results(_home(person), day)
    return bool(results.get(programme, {}).get("eligible"))


# -- scoped reads -------------------------------------------------------------------------------------


def access_order_by_id(actor: User, order_id: int) -> Order:
    found = (
        access.orders_visible(actor)
        .select_related(
            "elder__household__division", "service", "provider", "placed_by", "cancelled_by",
            "delivery__recorded_by", "settlement_line",
        )
        .filter(pk=order_id)
        .first()
    )  # fmt: skip
    if found is None:
        raise NotFound(Code.ORDER_NOT_FOUND, "服务订单不存在或不在您的管辖范围内")
    return found


def access_settlement_by_id(actor: User, settlement_id: int) -> Settlement:
    found = (
        access.settlements_visible(actor)
        .select_related("provider", "prepared_by", "approved_by", "paid_by")
        .filter(pk=settlement_id)
        .first()
    )
    if found is None:
        raise NotFound(Code.SETTLEMENT_NOT_FOUND, "结算单不存在或不在您的管辖范围内")
    return found


def settlement_providers(actor: User) -> QuerySet[Provider]:
    """Providers whose months the actor may settle (registered below their division)."""
    path = access.eldercare_path(actor)
    if path is None or actor.role not in SETTLEMENT_MAKERS:
        return Provider.objects.none()
    return Provider.objects.filter(division_path__startswith=path).order_by("name", "pk")


def providers_serving(division: Division, service_code: str, day: date) -> list[Provider]:
    """Active providers under contract on ``day`` that offer the service and serve the
    division (or a division above it), lowest id first: the automatic dispatch order."""
    codes = _ancestor_codes(division)
    candidates = (
        Provider.objects.filter(
            status=ProviderStatus.ACTIVE,
            contract_start__lte=day,
            contract_end__gte=day,
            areas__code__in=codes,
        )
        .distinct()
        .order_by("pk")
    )
    return [p for p in candidates if service_code in (p.services or [])]


def providers_open(day: date, division: Division | None) -> QuerySet[Provider]:
    """Providers under contract on ``day`` serving somewhere in ``division`` (above it or
    below it): the order form's choices. The service checks each order against the
    provider's services and areas."""
    if division is None:
        return Provider.objects.none()
    near = Q(areas__path__startswith=division.path) | Q(areas__code__in=_ancestor_codes(division))
    return (
        Provider.objects.filter(
            near, status=ProviderStatus.ACTIVE, contract_start__lte=day, contract_end__gte=day
        )
        .distinct()
        .order_by("name", "pk")
    )


# -- parsing ------------------------------------------------------------------------------------------


class _Errors(FieldErrors):
    """Field errors with this app's codes (``core.forms``)."""

    INVALID = Code.FIELD_INVALID
    SHORT = Code.FIELD_INVALID
    PAST = Code.DATE_IN_PAST
    FUTURE = Code.DATE_IN_FUTURE
    LIMIT = MAX_NOTE

    def integer(self, raw: Any, field: str, label: str, *, low: int, high: int) -> int | None:
        try:
            if isinstance(raw, bool):
                raise ValueError
            value = int(str(raw).strip())
        except (TypeError, ValueError):
            self.add(field, Code.FIELD_INVALID, f"{label}应为整数：{raw!r}")
            return None
        if not low <= value <= high:
            self.add(field, Code.FIELD_INVALID, f"{label}应在 {low} 到 {high} 之间：{value}")
            return None
        return value

    def moment(self, raw: Any, field: str, label: str) -> datetime | None:
        if raw in (None, ""):
            self.add(field, Code.FIELD_INVALID, f"请填写{label}")
            return None
        if isinstance(raw, datetime):
            value = raw
        else:
            try:
                value = datetime.fromisoformat(str(raw).strip())
            except ValueError:
                self.add(field, Code.FIELD_INVALID,
                         f"{label}格式应为 YYYY-MM-DDTHH:MM：{raw!r}")  # fmt: skip
                return None
        return value if timezone.is_aware(value) else timezone.make_aware(value)

    def month(self, raw: Any, field: str) -> date | None:
        text = str(raw or "").strip()
        try:
            if len(text) == 7:
                return date.fromisoformat(f"{text}-01")
            value = date.fromisoformat(text)
        except ValueError:
            self.add(field, Code.FIELD_INVALID, f"结算月份格式应为 YYYY-MM：{raw!r}")
            return None
        if value.day != 1:
            self.add(field, Code.FIELD_INVALID, f"结算月份格式应为 YYYY-MM：{raw!r}")
            return None
        return value


def _now() -> datetime:
    """Now on the workflow's clock: the real time when the clock shows today, else the end
    of the clock's day (tests and the demo move the clock)."""
    real = timezone.now()
    day = clock.today()
    if timezone.localdate(real) == day:
        return real
    return timezone.make_aware(datetime.combine(day, time.max))


def _home(person: Person) -> Household:
    """The elder's household (orders are placed only for members of a household)."""
    household = person.household
    assert household is not None
    return household


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _ancestor_codes(division: Division) -> list[str]:
    """The division's code and every code above it (``path`` is "110000/110102/…/")."""
    return [c for c in division.path.split("/") if c]


def _month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


# -- orders -------------------------------------------------------------------------------------------


def _orderer(actor: User, channel: str, errors: _Errors) -> None:
    """Staff who write elderly care use any channel (a worker takes phone orders from
    families too); a resident orders as the elder or the family."""
    if not actor.is_active:
        raise PermissionDenied(Code.ROLE_FORBIDDEN, "账号已停用")
    if actor.role == Role.RESIDENT and actor.household_id is not None:
        if channel and channel not in RESIDENT_CHANNELS:
            errors.add(
                "channel",
                Code.FIELD_INVALID,
                "居民下单的渠道应为 elder（老人本人）或 family（家属）",
            )
        return
    if actor.role not in access.ELDERCARE_WRITERS:
        raise PermissionDenied(
            Code.ROLE_FORBIDDEN,
            f"服务订单须由{_roles(access.ELDERCARE_WRITERS)}代下单，或由老人及其家属下单",
        )


def _elder(actor: User, raw: Any, day: date | None, errors: _Errors) -> Person | None:
    """An active registry person the actor may see (a resident: a member of their own
    household), aged 60 or over on the service date."""
    try:
        person_id = int(raw)
    except (TypeError, ValueError):
        errors.add("elder", Code.FIELD_INVALID, f"老人应为人员编号：{raw!r}")
        return None
    person = (
        access.persons_visible(actor)
        .select_related("household__division")
        .filter(pk=person_id)
        .first()
    )
    if person is None:
        raise NotFound(Code.ELDER_NOT_FOUND, "老人不存在或不在您的管辖范围内")
    if person.state != PersonState.ACTIVE:
        errors.add("elder", Code.NOT_AN_ELDER,
                   f"{person.name}已{person.get_state_display()}，不能下单")  # fmt: skip
        return None
    if day is not None:
        min_age = int(parameter_value(MIN_AGE_PARAMETER, day))
        age = _age(person.birth_date, day)
        if age < min_age:
            errors.add("elder", Code.NOT_AN_ELDER,
                       f"{person.name}在服务日期 {day.isoformat()} 时 {age} 岁，"
                       f"居家养老服务面向 {min_age} 周岁及以上老年人")  # fmt: skip
            return None
    return person


def _service(raw: Any, errors: _Errors) -> ServiceItem | None:
    item = services_catalogue().filter(code=str(raw or "")).first()
    if item is None:
        codes = "、".join(f"{s.code}（{s.name}）" for s in services_catalogue())
        errors.add("service", Code.SERVICE_NOT_FOUND, f"服务项目不在目录中：{raw!r}，可选：{codes}")
    return item


def provider_refusal(
    provider: Provider, service_code: str, division: Division, day: date
) -> tuple[str, str] | None:
    """Why ``provider`` may not take this order, as ``(code, message)``, or None."""
    if provider.status != ProviderStatus.ACTIVE:
        return (
            Code.PROVIDER_INACTIVE,
            f"服务商{provider.name}{provider.get_status_display()}，不能派单",
        )
    if not provider.contract_start <= day <= provider.contract_end:
        return Code.PROVIDER_INACTIVE, (
            f"服务商{provider.name}的合同期为 {provider.contract_start.isoformat()} 至 "
            f"{provider.contract_end.isoformat()}，不含服务日期 {day.isoformat()}"
        )
    if service_code not in (provider.services or []):
        return Code.SERVICE_NOT_OFFERED, f"服务商{provider.name}不提供该服务项目（{service_code}）"
    if not provider.areas.filter(code__in=_ancestor_codes(division)).exists():
        return Code.OUTSIDE_AREA, f"服务商{provider.name}的服务区域不含{division.name}"
    return None


def _provider(raw: Any, item: ServiceItem, person: Person, day: date,
              errors: _Errors) -> Provider | None:  # fmt: skip
    division = _home(person).division
    if raw in (None, ""):
        eligible = providers_serving(division, item.code, day)
        if not eligible:
            errors.add("provider", Code.NO_PROVIDER,
                       f"{division.name}没有在 {day.isoformat()} 提供{item.name}的服务商")  # fmt: skip
            return None
        return eligible[0]
    try:
        provider = Provider.objects.filter(pk=int(raw)).first()
    except (TypeError, ValueError):
        provider = None
    if provider is None:
        errors.add("provider", Code.PROVIDER_NOT_FOUND, f"服务商不存在：{raw!r}")
        return None
    refusal = provider_refusal(provider, item.code, division, day)
    if refusal is not None:
        errors.add("provider", *refusal)
        return None
    return provider


def order_place(
    *,
    actor: User,
    elder_person_id: Any,
    service_code: Any,
    provider_id: Any = None,
    quantity: Any = 1,
    scheduled_for: Any,
    channel: Any = OrderChannel.WORKER,
    note: Any = "",
) -> Order:
    """Place an order and dispatch it at once to the provider named, or to the first
    eligible one; price it and split it between the programme and the elder."""
    errors = _Errors()
    channel = str(channel or "")
    if channel not in OrderChannel.values:
        allowed = "、".join(f"{v}（{lab}）" for v, lab in OrderChannel.choices)
        errors.add("channel", Code.FIELD_INVALID, f"下单渠道取值无效：{channel!r}，应为 {allowed}")
    _orderer(actor, channel, errors)
    today = clock.today()
    day = errors.day(scheduled_for, "scheduled_for", "服务日期")
    if day is not None and day < today:
        errors.add("scheduled_for", Code.DATE_IN_PAST,
                   f"服务日期不能早于今天（{today.isoformat()}）：{day.isoformat()}")  # fmt: skip
        day = None
    count = errors.integer(quantity, "quantity", "数量", low=1, high=MAX_QUANTITY)
    text = errors.text(note, "note", "备注", required=False)
    item = _service(service_code, errors)
    person = _elder(actor, elder_person_id, day, errors)
    provider = None
    if item is not None and person is not None and day is not None:
        provider = _provider(provider_id, item, person, day, errors)
    errors.raise_any()
    assert item is not None and person is not None and day is not None
    assert provider is not None and count is not None
    qualifies = item.subsidy_share > 0 and household_qualifies(person, item.programme, day)
    total, subsidy, elder_pays = order_price(item, count, qualifies=qualifies)
    now = timezone.now()
    with transaction.atomic():
        order = Order.objects.create(
            elder=person, division_path=_home(person).division.path, service=item,
            provider=provider, quantity=count, scheduled_for=day, channel=channel,
            placed_by=actor, status=OrderStatus.DISPATCHED, dispatched_at=now,
            unit_price=item.price, total=total, subsidy=subsidy, elder_pays=elder_pays, note=text,
        )  # fmt: skip
    return order


def _locked_order(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def order_cancel(*, actor: User, order_id: int, reason: Any) -> Order:
    """Cancel an order not yet delivered, with the reason: staff in scope, the elder's
    household, or the provider it was dispatched to (declining it)."""
    order = access_order_by_id(actor, order_id)
    may = (
        actor.role in access.ELDERCARE_WRITERS
        or actor.role == Role.RESIDENT
        or access.provider_of(actor) == order.provider_id
    )
    if not may:
        raise PermissionDenied(Code.ROLE_FORBIDDEN, "您的角色只能查看服务订单")
    errors = _Errors()
    text = errors.text(reason, "reason", "取消原因")
    errors.raise_any()
    with transaction.atomic():
        order = _locked_order(order.pk)
        if order.status not in (OrderStatus.PLACED, OrderStatus.DISPATCHED):
            raise Conflict(Code.ORDER_STATE,
                           f"订单{order.get_status_display()}，不能取消", {"status": order.status})  # fmt: skip
        order.status = OrderStatus.CANCELLED
        order.cancelled_at = timezone.now()
        order.cancelled_by = actor
        order.cancel_reason = text
        order.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
    return order


def delivery_record(
    *, actor: User, order_id: int, delivered_at: Any, staff_name: Any, evidence: Any
) -> Delivery:
    """The provider's record that the order was served: when, by whom, and the elder's
    signature or a photo reference. One per order (a second one is 409)."""
    if access.provider_of(actor) is None:
        raise PermissionDenied(Code.ROLE_FORBIDDEN, "服务记录须由承接订单的服务商工作人员填写")
    order = access_order_by_id(actor, order_id)
    if order.status == OrderStatus.DELIVERED:
        raise Conflict(Code.ALREADY_DELIVERED, "该订单已记录服务，不能重复记录")
    if order.status != OrderStatus.DISPATCHED:
        raise Conflict(Code.ORDER_STATE, f"订单{order.get_status_display()}，不能记录服务",
                       {"status": order.status})  # fmt: skip
    errors = _Errors()
    at = errors.moment(delivered_at, "delivered_at", "服务时间")
    if at is not None:
        earliest = order.scheduled_for - timedelta(days=1)
        if at > _now():
            errors.add("delivered_at", Code.DATE_IN_FUTURE,
                       f"服务时间不能晚于现在：{timezone.localtime(at):%Y-%m-%d %H:%M}")  # fmt: skip
        elif timezone.localtime(at).date() < earliest:
            errors.add("delivered_at", Code.DATE_IN_PAST,
                       f"服务时间不能早于服务日期前一天（{earliest.isoformat()}）")  # fmt: skip
    staff = errors.text(staff_name, "staff_name", "服务人员", limit=32)
    proof = errors.text(evidence, "evidence", "签字或照片", limit=200)
    errors.raise_any()
    assert at is not None
    with transaction.atomic():
        locked = _locked_order(order.pk)
        if locked.status != OrderStatus.DISPATCHED:
            raise Conflict(Code.ALREADY_DELIVERED, "该订单已记录服务，不能重复记录")
        try:
            with transaction.atomic():
                delivery = Delivery.objects.create(
                    order=locked, delivered_at=at, staff_name=staff, evidence=proof,
                    recorded_by=actor,
                )  # fmt: skip
        except IntegrityError:
            raise Conflict(Code.ALREADY_DELIVERED, "该订单已记录服务，不能重复记录") from None
        locked.status = OrderStatus.DELIVERED
        locked.save(update_fields=["status"])
    return delivery


# -- settlements ----------------------------------------------------------------------------------------


def _maker(actor: User, roles: frozenset[str], what: str) -> None:
    if not actor.is_active or actor.role not in roles:
        raise PermissionDenied(Code.ROLE_FORBIDDEN, f"{what}须由{_roles(roles)}办理")


def settlement_orders(provider: Provider, month: date) -> QuerySet[Order]:
    """The provider's delivered orders not yet settled, served on or before the month's
    last day: the month's, and any recorded late for a month already settled."""
    end = timezone.make_aware(datetime.combine(_month_end(month) + timedelta(days=1), time.min))
    return (
        Order.objects.filter(
            provider=provider,
            status=OrderStatus.DELIVERED,
            settlement_line__isnull=True,
            delivery__delivered_at__lt=end,
        )
        .select_related("delivery")
        .order_by("delivery__delivered_at", "pk")
    )


def settlement_prepare(*, actor: User, provider_id: Any, month: Any) -> Settlement:
    """A provider's monthly statement: every delivered order not yet settled, its split
    between the programme and the elder, and the totals. One per provider and month."""
    _maker(actor, SETTLEMENT_MAKERS, "服务结算")
    try:
        provider = settlement_providers(actor).filter(pk=int(provider_id)).first()
    except (TypeError, ValueError):
        provider = None
    if provider is None:
        raise NotFound(Code.PROVIDER_NOT_FOUND, "服务商不存在或不在您的管辖范围内")
    errors = _Errors()
    first = errors.month(month, "month")
    current = clock.today().replace(day=1)
    if first is not None and first >= current:
        errors.add("month", Code.DATE_IN_FUTURE,
                   f"只能结算已结束的月份（{current:%Y-%m} 之前）：{first:%Y-%m}")  # fmt: skip
    errors.raise_any()
    assert first is not None
    if Settlement.objects.filter(provider=provider, month=first).exists():
        raise Conflict(Code.SETTLEMENT_EXISTS, f"{provider.name} {first:%Y-%m} 的结算单已存在")
    with transaction.atomic():
        Provider.objects.select_for_update().filter(
            pk=provider.pk
        ).first()  # one preparer at a time
        orders = list(settlement_orders(provider, first))
        if not orders:
            raise FieldError("month", Code.SETTLEMENT_EMPTY,
                             f"{provider.name}在 {first:%Y-%m} 及以前没有待结算的已服务订单")  # fmt: skip
        try:
            with transaction.atomic():
                settlement = Settlement.objects.create(
                    provider=provider, month=first, division_path=provider.division_path,
                    orders=len(orders), total=sum((o.total for o in orders), ZERO),
                    subsidy=sum((o.subsidy for o in orders), ZERO),
                    elder_pays=sum((o.elder_pays for o in orders), ZERO), prepared_by=actor,
                )  # fmt: skip
                SettlementLine.objects.bulk_create(
                    SettlementLine(settlement=settlement, order=o, total=o.total,
                                   subsidy=o.subsidy, elder_pays=o.elder_pays)
                    for o in orders
                )  # fmt: skip
        except IntegrityError:
            raise Conflict(Code.SETTLEMENT_EXISTS,
                           f"{provider.name} {first:%Y-%m} 的结算单已存在") from None  # fmt: skip
    return settlement


def _locked_settlement(actor: User, settlement_id: int) -> Settlement:
    found = access_settlement_by_id(actor, settlement_id)
    return Settlement.objects.select_for_update().get(pk=found.pk)


def settlement_reference(settlement: Settlement) -> str:
    """How the ledger's journal names a settlement."""
    return f"eldercare.settlement:{settlement.pk}"


def _subsidy_by_programme(settlement: Settlement) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    rows = (
        SettlementLine.objects.filter(settlement=settlement, subsidy__gt=0)
        .order_by()
        .values_list("order__service__programme")
        .annotate(amount=Sum("subsidy"))
    )
    for programme, amount in rows:
        out[programme or "elderly_service_subsidy"] = amount
    return out


def _post(settlement: Settlement, actor: User, *, paid: bool) -> None:
    post = journal.post_service_payment if paid else journal.post_service_settlement
    action = "支付" if paid else "结算"
    post(actor=actor, reference=settlement_reference(settlement), period=settlement.month,
         division_path=settlement.division_path,
         memo=f"{settlement.provider.name} {settlement.month:%Y-%m} 养老服务补贴{action}",
         by_programme=_subsidy_by_programme(settlement))  # fmt: skip


def settlement_approve(*, actor: User, settlement_id: int, reason: Any) -> Settlement:
    """Approve a prepared statement: by a street reviewer or district approver other than
    the one who prepared it (four eyes). The subsidies become the programme's expense and
    a debt to the provider in the ledger's journal, in the same transaction."""
    _maker(actor, SETTLEMENT_MAKERS, "结算审核")
    access_settlement_by_id(actor, settlement_id)
    errors = _Errors()
    text = errors.text(reason, "reason", "审核意见", limit=500)
    errors.raise_any()
    with transaction.atomic():
        settlement = _locked_settlement(actor, settlement_id)
        if settlement.status != SettlementStatus.DRAFT:
            raise Conflict(Code.SETTLEMENT_STATE,
                           f"结算单{settlement.get_status_display()}，不能审核")  # fmt: skip
        if settlement.prepared_by_id == actor.pk:
            raise PermissionDenied(Code.FOUR_EYES, "结算单须由制表人以外的另一名工作人员审核")
        settlement.status = SettlementStatus.APPROVED
        settlement.approved_by = actor
        settlement.approved_at = timezone.now()
        settlement.approval_reason = text
        settlement.save(update_fields=["status", "approved_by", "approved_at", "approval_reason"])
        _post(settlement, actor, paid=False)
    return settlement


def settlement_pay(*, actor: User, settlement_id: int, reference: Any) -> Settlement:
    """Record that the approved subsidies were paid to the provider, with the payment's
    reference (a repeat with the same reference returns the paid statement unchanged).
    The payment settles the provider's debt in the ledger's journal (Dr 应付服务商款,
    Cr 银行存款), posted once, in the same transaction."""
    _maker(actor, SETTLEMENT_PAYERS, "结算支付")
    access_settlement_by_id(actor, settlement_id)
    errors = _Errors()
    ref = errors.text(reference, "reference", "支付凭证号", limit=40)
    errors.raise_any()
    with transaction.atomic():
        settlement = _locked_settlement(actor, settlement_id)
        if settlement.status == SettlementStatus.PAID and settlement.payment_reference == ref:
            return settlement
        if settlement.status != SettlementStatus.APPROVED:
            raise Conflict(Code.SETTLEMENT_STATE,
                           f"结算单{settlement.get_status_display()}，不能登记支付")  # fmt: skip
        settlement.status = SettlementStatus.PAID
        settlement.paid_at = timezone.now()
        settlement.paid_by = actor
        settlement.payment_reference = ref
        settlement.save(update_fields=["status", "paid_at", "paid_by", "payment_reference"])
        _post(settlement, actor, paid=True)
    return settlement


# -- shapes -----------------------------------------------------------------------------------------------


def _delivery_of(order: Order) -> Delivery | None:
    try:
        return order.delivery
    except Delivery.DoesNotExist:
        return None


def _settlement_of(order: Order) -> int | None:
    try:
        return order.settlement_line.settlement_id
    except SettlementLine.DoesNotExist:
        return None


def _when(value: datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat(timespec="minutes")


def _shown(iso: str | None) -> str:
    """An ISO time from ``_when`` as a printed document shows it: ``2026-11-24 10:30``."""
    return "" if not iso else iso[:16].replace("T", " ")


def service_out(item: ServiceItem) -> dict[str, Any]:
    return {
        "code": item.code, "name": item.name, "unit": item.unit, "price": format_amount(item.price),
        "subsidy_share": str(item.subsidy_share.normalize()),
        "subsidy_cap": None if item.subsidy_cap is None else format_amount(item.subsidy_cap),
        "programme": item.programme,
    }  # fmt: skip


def delivery_out(delivery: Delivery | None) -> dict[str, Any] | None:
    if delivery is None:
        return None
    return {
        "delivered_at": _when(delivery.delivered_at), "staff_name": delivery.staff_name,
        "evidence": delivery.evidence, "recorded_by": _name(delivery.recorded_by),
        "recorded_at": _when(delivery.recorded_at),
    }  # fmt: skip


def order_out(order: Order) -> dict[str, Any]:
    """An order as the API and pages show it: the elder by name and address (the provider
    needs them to serve), never the ID number."""
    person = order.elder
    household = _home(person)
    return {
        "id": order.pk,
        "elder": {"id": person.pk, "name": person.name, "household": household.pk,
                  "address": household.address, "phone": person.phone},
        "division": {"code": household.division.code, "name": household.division.name},
        "service": {"code": order.service.code, "name": order.service.name,
                    "unit": order.service.unit},
        "provider": {"id": order.provider_id, "name": order.provider.name},
        "quantity": order.quantity,
        "scheduled_for": order.scheduled_for.isoformat(),
        "channel": order.channel, "channel_label": order.get_channel_display(),
        "status": order.status, "status_label": order.get_status_display(),
        "unit_price": format_amount(order.unit_price), "total": format_amount(order.total),
        "subsidy": format_amount(order.subsidy), "elder_pays": format_amount(order.elder_pays),
        "note": order.note,
        "placed_by": _name(order.placed_by), "created_at": _when(order.created_at),
        "dispatched_at": _when(order.dispatched_at),
        "cancelled_at": _when(order.cancelled_at), "cancelled_by": _name(order.cancelled_by),
        "cancel_reason": order.cancel_reason,
        "delivery": delivery_out(_delivery_of(order)),
        "settlement": _settlement_of(order),
    }  # fmt: skip


def orders_listed(qs: QuerySet[Order]) -> QuerySet[Order]:
    """``qs`` with what ``order_out`` reads joined in."""
    return qs.select_related(
        "elder__household__division", "service", "provider", "placed_by", "cancelled_by",
        "delivery__recorded_by", "settlement_line",
    )  # fmt: skip


def settlement_out(settlement: Settlement, *, lines: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": settlement.pk,
        "provider": {"id": settlement.provider_id, "name": settlement.provider.name,
                     "credit_code": settlement.provider.credit_code},
        "month": f"{settlement.month:%Y-%m}",
        "status": settlement.status, "status_label": settlement.get_status_display(),
        "orders": settlement.orders, "total": format_amount(settlement.total),
        "subsidy": format_amount(settlement.subsidy),
        "elder_pays": format_amount(settlement.elder_pays),
        "prepared_by": _name(settlement.prepared_by), "created_at": _when(settlement.created_at),
        "approved_by": _name(settlement.approved_by), "approved_at": _when(settlement.approved_at),
        "approval_reason": settlement.approval_reason,
        "paid_by": _name(settlement.paid_by), "paid_at": _when(settlement.paid_at),
        "payment_reference": settlement.payment_reference,
    }  # fmt: skip
    if lines:
        out["lines"] = [_line_out(line) for line in settlement_lines(settlement)]
        out["journal"] = [
            {**entry, "at": _when(entry["at"]),
             "programme_label": programme_labels().get(entry["programme"], (entry["programme"],))[0],
             "lines": [{**leg, "debit": format_amount(leg["debit"]),
                        "credit": format_amount(leg["credit"])} for leg in entry["lines"]]}
            for entry in journal.entries_for(settlement_reference(settlement))
        ]  # fmt: skip
    return out


def settlement_lines(settlement: Settlement) -> QuerySet[SettlementLine]:
    return settlement.lines.select_related(
        "order__elder__household__division", "order__service", "order__delivery"
    ).order_by("order__delivery__delivered_at", "order_id")


def _line_out(line: SettlementLine) -> dict[str, Any]:
    order = line.order
    delivery = _delivery_of(order)
    return {
        "order": order.pk, "elder": order.elder.name,
        "community": _home(order.elder).division.name,
        "service": order.service.name, "unit": order.service.unit, "quantity": order.quantity,
        "unit_price": format_amount(order.unit_price),
        "scheduled_for": order.scheduled_for.isoformat(),
        "delivered_at": _when(delivery.delivered_at) if delivery else None,
        "staff_name": delivery.staff_name if delivery else "",
        "total": format_amount(line.total), "subsidy": format_amount(line.subsidy),
        "elder_pays": format_amount(line.elder_pays),
    }  # fmt: skip


@dataclass
class Statement:
    """The display values of a settlement statement (the PDF template computes nothing)."""

    context: dict[str, Any]
    filename: str


def settlement_statement(actor: User, settlement_id: int) -> Statement:
    settlement = access_settlement_by_id(actor, settlement_id)
    data = settlement_out(settlement, lines=True)
    now = timezone.localtime(timezone.now())
    for key in ("created_at", "approved_at", "paid_at"):
        data[key] = _shown(data[key])
    for line in data["lines"]:
        line["delivered_at"] = _shown(line["delivered_at"])
    context = {
        **data,
        "office": "居家养老服务补贴结算",
        "status_label": settlement.get_status_display(),
        "printed_by": _name(actor),
        "printed_at": f"{now:%Y-%m-%d %H:%M}",
    }
    return Statement(context, f"settlement-{settlement.pk}-{settlement.month:%Y-%m}.pdf")


def settlement_statement_pdf(actor: User, settlement_id: int) -> tuple[bytes, str]:
    """The statement as a PDF and its file name (503 when the PDF renderer is missing)."""
    statement = settlement_statement(actor, settlement_id)
    return render_pdf("eldercare/settlement_pdf.html", statement.context), statement.filename
