"""Service orders, deliveries and monthly settlements through the API and the pages.

The clock is the workflow's ``today`` (2026-11-23, a Monday). The catalogue is
``policy/eldercare/services.yaml``: meal delivery 15.00 a meal, the programme pays half,
at most 10.00 a meal; bathing 80.00 a visit, half, at most 30.00.

Worked by hand (subsidy = min(total × share, cap × quantity), half up to the fen):

- two meals for an elder of a dibao household (pension 800 → dibao, so the elderly-care
  service subsidy applies): total 2 × 15.00 = 30.00; 30.00 × 0.5 = 15.00; cap 2 × 10.00 =
  20.00; subsidy min(15.00, 20.00) = 15.00; the elder pays 30.00 − 15.00 = 15.00.
- one bath for the same elder: 80.00 × 0.5 = 40.00, cap 30.00 → subsidy 30.00, pays 50.00.
- two meals for an elder with a 6,000 pension (neither dibao nor low income, no care
  tier: the programme does not apply): subsidy 0.00, pays 30.00.
- rounding: 3 × 12.35 = 37.05 at 35 % → 12.9675 → 12.97, pays 24.08; and 0.30 at 33.3 %
  → 0.0999 → 0.10, pays 0.20 (0.10 + 0.20 is not 0.30 in floating point: the database's
  check that the split adds up compares whole fen).

November's settlement for the meal provider: those three delivered orders, total
30.00 + 30.00 + 80.00 = 140.00, subsidy 15.00 + 0.00 + 30.00 = 45.00, the elders
15.00 + 30.00 + 50.00 = 95.00; a December delivery, an undelivered order and a
cancelled one are not in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import token_create, user_create
from minzheng.eldercare import orders
from minzheng.eldercare.models import (
    Delivery,
    Order,
    OrderStatus,
    Provider,
    ProviderMember,
    ProviderStatus,
    ServiceItem,
    Settlement,
    SettlementLine,
)
from minzheng.registry.models import Division, Household, Person
from tests.applications.conftest import Clock
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, DONGCHENG, STREET_A, Cast, pensioner

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def errors_of(response: Any) -> dict[str, str]:
    """field → code of a 422 naming every bad field."""
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation.failed"
    return {e["field"]: e["code"] for e in body["details"]["errors"]}


def provider(name: str, services: list[str], areas: list[str], *, division: str = STREET_A,
             **extra: Any) -> Provider:  # fmt: skip
    where = Division.objects.get(code=division)
    p = Provider.objects.create(
        name=name, credit_code=f"91110102MA{Provider.objects.count():08d}", services=services,
        contract_start=date(2026, 1, 1), contract_end=date(2027, 12, 31), division=where,
        division_path=where.path, **extra,
    )  # fmt: skip
    p.areas.set(Division.objects.filter(code__in=areas))
    return p


def member_of(p: Provider, username: str) -> User:
    user = user_create(username=username, role=Role.SERVICE_PROVIDER, division_code="110102")
    ProviderMember.objects.create(provider=p, user=user)
    return user


def api_of(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(username=user.username)}")


def elder_of(household: Household) -> Person:
    return household.members.get()


@dataclass
class World:
    cast: Cast
    meals: Provider  # meals, cleaning, bathing in street A (registered there)
    west: Provider  # meals and bathing in community B only
    poor: Person  # community A, pension 800: dibao household
    rich: Person  # community A, pension 6,000
    other_street: Person  # community B, pension 800
    dongcheng: Person  # Dongcheng, pension 800
    meals_user: User
    west_user: User

    def api(self, role: str) -> Client:
        return self.cast.api(role)


@pytest.fixture
def world(cast: Cast, today: Clock) -> World:
    orders.catalogue_load()
    meals = provider("展览路助餐中心", ["meal_delivery", "cleaning", "bathing"], [STREET_A])
    west = provider("西长安街养老驿站", ["meal_delivery", "bathing"], [COMMUNITY_B])
    ProviderMember.objects.create(provider=meals, user=cast.users["service_provider"])
    return World(
        cast=cast, meals=meals, west=west,
        poor=elder_of(pensioner("800.00", "11010219500101123")),
        rich=elder_of(pensioner("6000.00", "11010219480303345")),
        other_street=elder_of(pensioner("800.00", "11010219520404456", COMMUNITY_B)),
        dongcheng=elder_of(pensioner("800.00", "11010119530505567", DONGCHENG)),
        meals_user=cast.users["service_provider"],
        west_user=member_of(west, "u_west"),
    )  # fmt: skip


def place(client: Client, elder: Person, service: str = "meal_delivery", **extra: Any) -> Any:
    body = {"elder": elder.pk, "service": service, "quantity": 2, "scheduled_for": "2026-11-24"}
    body.update(extra)
    return post(client, "/api/v1/orders", body)


def placed(client: Client, elder: Person, service: str = "meal_delivery", **extra: Any) -> dict[str, Any]:  # fmt: skip
    r = place(client, elder, service, **extra)
    assert r.status_code == 201, r.content
    return dict(r.json())


def deliver(client: Client, order_id: int, at: str = "2026-11-24T11:30") -> Any:
    body = {"delivered_at": at, "staff_name": "刘师傅", "evidence": "老人签字：王某"}
    return post(client, f"/api/v1/orders/{order_id}/delivery", body)


# -- the catalogue ------------------------------------------------------------------------------------


def test_the_catalogue_loads_from_policy_and_loading_again_changes_nothing(world: World) -> None:
    assert ServiceItem.objects.count() == orders.catalogue_load() == 6
    ServiceItem.objects.filter(code="meal_delivery").update(price=Decimal("99.00"))
    ServiceItem.objects.create(code="retired", name="旧项目", unit="次", price=Decimal("1.00"))
    orders.catalogue_load()
    assert ServiceItem.objects.get(code="meal_delivery").price == Decimal("15.00")
    assert ServiceItem.objects.get(code="retired").active is False
    r = world.api("community_worker").get("/api/v1/eldercare/services")
    assert r.status_code == 200
    meal = next(s for s in r.json()["items"] if s["code"] == "meal_delivery")
    assert meal == {"code": "meal_delivery", "name": "助餐配送", "unit": "餐", "price": "15.00",
                    "subsidy_share": "0.5", "subsidy_cap": "10.00",
                    "programme": "elderly_service_subsidy"}  # fmt: skip
    assert "retired" not in {s["code"] for s in r.json()["items"]}


# -- orders: the money --------------------------------------------------------------------------------


def test_a_meal_order_worked_by_hand_to_the_fen(world: World) -> None:
    worker = world.api("community_worker")
    order = placed(worker, world.poor, note="少盐")
    assert (order["total"], order["subsidy"], order["elder_pays"]) == ("30.00", "15.00", "15.00")
    assert order["unit_price"] == "15.00" and order["quantity"] == 2
    assert (order["status"], order["channel"]) == ("dispatched", "worker")
    assert order["provider"] == {"id": world.meals.pk, "name": "展览路助餐中心"}  # dispatched
    assert order["dispatched_at"] is not None and order["delivery"] is None
    assert order["elder"]["name"] == "老人" and "id_number" not in json.dumps(order)

    bath = placed(worker, world.poor, "bathing", quantity=1)  # the cap bites
    assert (bath["total"], bath["subsidy"], bath["elder_pays"]) == ("80.00", "30.00", "50.00")

    rich = placed(worker, world.rich)  # the household does not qualify: pays everything
    assert (rich["total"], rich["subsidy"], rich["elder_pays"]) == ("30.00", "0.00", "30.00")


def test_rounding_half_up_and_the_split_adds_up_in_fen(world: World) -> None:
    ServiceItem.objects.filter(code="cleaning").update(
        price=Decimal("12.35"), subsidy_share=Decimal("0.35"), subsidy_cap=None
    )
    worker = world.api("community_worker")
    order = placed(worker, world.poor, "cleaning", quantity=3)
    assert (order["total"], order["subsidy"], order["elder_pays"]) == ("37.05", "12.97", "24.08")
    ServiceItem.objects.filter(code="cleaning").update(
        price=Decimal("0.30"), subsidy_share=Decimal("0.333")
    )
    order = placed(worker, world.poor, "cleaning", quantity=1)
    assert (order["total"], order["subsidy"], order["elder_pays"]) == ("0.30", "0.10", "0.20")
    stored = Order.objects.get(pk=order["id"])
    assert (stored.subsidy, stored.elder_pays) == (Decimal("0.10"), Decimal("0.20"))


# -- orders: refusals ---------------------------------------------------------------------------------


def test_a_provider_that_does_not_offer_the_service_or_serve_the_area_is_refused(
    world: World,
) -> None:
    worker = world.api("district_approver")
    r = place(worker, world.poor, "cleaning", provider=world.west.pk)
    assert errors_of(r) == {"provider": "order.service_not_offered"}
    r = place(worker, world.poor, provider=world.west.pk)  # meals, but only in community B
    assert errors_of(r) == {"provider": "order.outside_area"}
    assert "服务区域" in r.json()["details"]["errors"][0]["message"]
    r = place(worker, world.other_street, provider=world.meals.pk)  # street A only
    assert errors_of(r) == {"provider": "order.outside_area"}
    r = place(worker, world.other_street, "cleaning")  # nobody cleans in community B
    assert errors_of(r) == {"provider": "order.no_provider"}
    Provider.objects.filter(pk=world.meals.pk).update(status=ProviderStatus.SUSPENDED)
    assert errors_of(place(worker, world.poor, provider=world.meals.pk)) == {
        "provider": "provider.inactive"
    }
    Provider.objects.filter(pk=world.meals.pk).update(
        status=ProviderStatus.ACTIVE, contract_end=date(2026, 11, 23)
    )
    assert errors_of(place(worker, world.poor, provider=world.meals.pk)) == {
        "provider": "provider.inactive"
    }
    assert errors_of(place(worker, world.poor, provider=999999)) == {
        "provider": "provider.not_found"
    }
    assert Order.objects.count() == 0  # nothing half written
    assert placed(worker, world.other_street)["provider"]["id"] == world.west.pk


def test_automatic_dispatch_picks_the_first_eligible_provider(world: World) -> None:
    provider("展览路第二助餐点", ["meal_delivery"], [COMMUNITY_A])
    worker = world.api("community_worker")
    assert placed(worker, world.poor)["provider"]["id"] == world.meals.pk  # the lower id
    Provider.objects.filter(pk=world.meals.pk).update(services=["cleaning"])
    assert placed(worker, world.poor)["provider"]["name"] == "展览路第二助餐点"


def test_an_order_is_for_an_active_resident_aged_60_or_more(world: World) -> None:
    worker = world.api("community_worker")
    young = world.cast.own.members.get()  # born 1980
    r = place(worker, young)
    assert errors_of(r) == {"elder": "elder.not_an_elder"}
    assert "60" in r.json()["details"]["errors"][0]["message"]
    Person.objects.filter(pk=world.poor.pk).update(state="deceased")
    assert errors_of(place(worker, world.poor)) == {"elder": "elder.not_an_elder"}
    r = place(worker, world.dongcheng)  # outside the jurisdiction: not found
    assert (r.status_code, r.json()["code"]) == (404, "elder.not_found")
    assert Order.objects.count() == 0


def test_every_bad_field_is_named_at_once(world: World, today: Clock) -> None:
    worker = world.api("community_worker")
    r = place(worker, world.poor, "massage", quantity=0, scheduled_for="2026-11-22",
              channel="fax", note="很" * 301)  # fmt: skip
    assert errors_of(r) == {
        "service": "service.not_found",
        "quantity": "eldercare.field_invalid",
        "scheduled_for": "eldercare.date_in_past",
        "channel": "eldercare.field_invalid",
        "note": "eldercare.field_invalid",
    }
    assert errors_of(place(worker, world.poor, scheduled_for="24/11/2026")) == {
        "scheduled_for": "eldercare.field_invalid"
    }
    assert placed(worker, world.poor, scheduled_for="2026-11-23")["scheduled_for"] == "2026-11-23"
    assert Order.objects.count() == 1


def test_who_may_place_an_order(world: World) -> None:
    for role in ("auditor", "admin", "department_liaison", "service_provider"):
        r = place(world.api(role), world.poor)
        assert (r.status_code, r.json()["code"]) == (403, "eldercare.role_forbidden"), role
    # a resident orders for a member of their own household, as the elder or the family
    resident = user_create(username="u_elder_family", role=Role.RESIDENT, division_code=None,
                           household=world.poor.household)  # fmt: skip
    client = api_of(resident)
    order = placed(client, world.poor, channel="family")
    assert (order["channel"], order["subsidy"]) == ("family", "15.00")
    assert errors_of(place(client, world.poor, channel="worker")) == {
        "channel": "eldercare.field_invalid"
    }
    r = place(client, world.rich, channel="elder")  # another household
    assert (r.status_code, r.json()["code"]) == (404, "elder.not_found")
    assert Order.objects.count() == 1


# -- delivery -----------------------------------------------------------------------------------------


def test_delivery_is_recorded_once_by_the_provider(world: World, today: Clock) -> None:
    order = placed(world.api("community_worker"), world.poor)
    provider_client = api_of(world.meals_user)
    today.advance(2)  # 2026-11-25
    r = deliver(provider_client, order["id"], "2026-11-26T09:00")
    assert errors_of(r) == {"delivered_at": "eldercare.date_in_future"}
    r = deliver(provider_client, order["id"], "2026-11-22T23:00")  # before the day before
    assert errors_of(r) == {"delivered_at": "eldercare.date_in_past"}
    r = post(provider_client, f"/api/v1/orders/{order['id']}/delivery",
             {"delivered_at": "昨天", "staff_name": "", "evidence": "x"})  # fmt: skip
    assert errors_of(r) == {"delivered_at": "eldercare.field_invalid",
                            "staff_name": "eldercare.field_invalid",
                            "evidence": "eldercare.field_invalid"}  # fmt: skip
    assert not Delivery.objects.exists()

    r = deliver(world.api("community_worker"), order["id"])  # staff do not attest
    assert (r.status_code, r.json()["code"]) == (403, "eldercare.role_forbidden")
    r = deliver(api_of(world.west_user), order["id"])  # another provider's order
    assert (r.status_code, r.json()["code"]) == (404, "order.not_found")

    r = deliver(provider_client, order["id"], "2026-11-23T18:00")  # the day before is fine
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "delivered"
    assert body["delivery"]["delivered_at"] == "2026-11-23T18:00+08:00"
    assert (body["delivery"]["staff_name"], body["delivery"]["evidence"]) == (
        "刘师傅",
        "老人签字：王某",
    )
    r = deliver(provider_client, order["id"])
    assert (r.status_code, r.json()["code"]) == (409, "order.already_delivered")
    assert Delivery.objects.filter(order_id=order["id"]).count() == 1


def test_a_second_delivery_is_refused_by_the_database_too(world: World, today: Clock) -> None:
    """A concurrent recording that passed the status check meets the one-to-one."""
    order = placed(world.api("community_worker"), world.poor)
    today.advance(1)
    Delivery.objects.create(order_id=order["id"], delivered_at="2026-11-24T10:00+08:00",
                            staff_name="张", evidence="签字", recorded_by=world.meals_user)  # fmt: skip
    r = deliver(api_of(world.meals_user), order["id"])
    assert (r.status_code, r.json()["code"]) == (409, "order.already_delivered")
    assert Delivery.objects.filter(order_id=order["id"]).count() == 1
    assert Order.objects.get(pk=order["id"]).status == OrderStatus.DISPATCHED  # rolled back


def test_cancel_before_delivery_with_a_reason(world: World, today: Clock) -> None:
    worker = world.api("community_worker")
    order = placed(worker, world.poor)
    path = f"/api/v1/orders/{order['id']}/cancellation"
    assert errors_of(post(worker, path, {"reason": " "})) == {"reason": "eldercare.field_invalid"}
    r = post(world.api("auditor"), path, {"reason": "审计"})
    assert (r.status_code, r.json()["code"]) == (403, "eldercare.role_forbidden")
    r = post(worker, path, {"reason": "老人住院"})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["cancel_reason"]) == ("cancelled", "老人住院")
    r = post(worker, path, {"reason": "老人住院"})
    assert (r.status_code, r.json()["code"]) == (409, "order.illegal_state")
    today.advance(1)
    r = deliver(api_of(world.meals_user), order["id"])
    assert (r.status_code, r.json()["code"]) == (409, "order.illegal_state")

    # the provider may decline an order it was dispatched; nobody cancels a delivered one
    other = placed(worker, world.poor)
    assert deliver(api_of(world.meals_user), other["id"]).status_code == 201
    r = post(api_of(world.meals_user), f"/api/v1/orders/{other['id']}/cancellation",
             {"reason": "已服务"})  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (409, "order.illegal_state")
    third = placed(worker, world.poor, scheduled_for="2026-11-30")
    r = post(api_of(world.meals_user), f"/api/v1/orders/{third['id']}/cancellation",
             {"reason": "人手不足，无法接单"})  # fmt: skip
    assert r.json()["status"] == "cancelled"


# -- scope --------------------------------------------------------------------------------------------


def test_who_sees_which_orders(world: World) -> None:
    own = placed(world.api("community_worker"), world.poor)["id"]
    west = placed(world.api("district_approver"), world.other_street)["id"]
    dc_approver = user_create(username="u_dc", role=Role.DISTRICT_APPROVER, division_code=DONGCHENG)
    provider("东城助餐", ["meal_delivery"], [DONGCHENG], division=DONGCHENG)
    dongcheng = placed(api_of(dc_approver), world.dongcheng)["id"]
    resident = user_create(username="u_elder_family", role=Role.RESIDENT, division_code=None,
                           household=world.poor.household)  # fmt: skip
    expected = {
        "community_worker": {own},
        "street_reviewer": {own},
        "district_approver": {own, west},
        "auditor": {own, west},
        "admin": {own, west},
        "department_liaison": set(),
        "resident": set(),  # cast.own's household: no orders
        "service_provider": {own},  # the meal provider's user
    }
    clients = {role: world.api(role) for role in expected}
    clients["west provider"], expected["west provider"] = api_of(world.west_user), {west}
    clients["elder's family"], expected["elder's family"] = api_of(resident), {own}
    clients["dongcheng"], expected["dongcheng"] = api_of(dc_approver), {dongcheng}
    for who, client in clients.items():
        r = client.get("/api/v1/orders")
        assert r.status_code == 200, who
        assert {o["id"] for o in r.json()["items"]} == expected[who], who
        for order_id in (own, west, dongcheng):
            r = client.get(f"/api/v1/orders/{order_id}")
            assert r.status_code == (200 if order_id in expected[who] else 404), (who, order_id)
    r = clients["district_approver"].get("/api/v1/orders?status=posted")
    assert (r.status_code, r.json()["details"]) == (422, {"field": "status"})
    r = clients["district_approver"].get(f"/api/v1/orders?elder={world.other_street.pk}")
    assert [o["id"] for o in r.json()["items"]] == [west]


# -- settlements ----------------------------------------------------------------------------------------


def _november(world: World, today: Clock) -> dict[str, int]:
    """Three delivered November orders of the meal provider, one undelivered, one
    cancelled, and one delivered in December."""
    worker = world.api("community_worker")
    ids = {
        "meal": placed(worker, world.poor)["id"],
        "rich": placed(worker, world.rich)["id"],
        "bath": placed(worker, world.poor, "bathing", quantity=1, scheduled_for="2026-11-25")["id"],
        "open": placed(worker, world.poor, scheduled_for="2026-11-26")["id"],
        "gone": placed(worker, world.poor, scheduled_for="2026-11-27")["id"],
        "december": placed(worker, world.poor, scheduled_for="2026-12-01")["id"],
    }  # fmt: skip
    post(worker, f"/api/v1/orders/{ids['gone']}/cancellation", {"reason": "老人外出"})
    today.advance(9)  # 2026-12-02
    provider_client = api_of(world.meals_user)
    for key, at in (("meal", "2026-11-24T11:30"), ("rich", "2026-11-24T11:45"),
                    ("bath", "2026-11-25T15:00"), ("december", "2026-12-01T11:30")):  # fmt: skip
        assert deliver(provider_client, ids[key], at).status_code == 201
    return ids


def _balances(client: Client) -> dict[str, str]:
    """The ledger's November balances of the elderly-care service subsidy, by account."""
    r = client.get("/api/v1/ledger/balances",
                   {"programme": "elderly_service_subsidy", "period": "2026-11"})  # fmt: skip
    assert r.status_code == 200, r.content
    return {row["account"]: row["balance"] for row in r.json()["items"]}


def test_a_month_is_settled_prepared_approved_by_another_and_paid(
    world: World, today: Clock
) -> None:
    ids = _november(world, today)
    street, district = world.api("street_reviewer"), world.api("district_approver")
    r = post(world.api("community_worker"), "/api/v1/settlements",
             {"provider": world.meals.pk, "month": "2026-11"})  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (403, "eldercare.role_forbidden")
    r = post(street, "/api/v1/settlements", {"provider": world.meals.pk, "month": "2026-12"})
    assert errors_of(r) == {"month": "eldercare.date_in_future"}  # December is not over
    r = post(street, "/api/v1/settlements", {"provider": world.meals.pk, "month": "2026-10"})
    assert (r.status_code, r.json()["code"]) == (422, "settlement.empty")
    assert r.json()["details"] == {"field": "month"}
    assert errors_of(post(street, "/api/v1/settlements",
                          {"provider": world.meals.pk, "month": "11/2026"})) == {
        "month": "eldercare.field_invalid"}  # fmt: skip

    r = post(street, "/api/v1/settlements", {"provider": world.meals.pk, "month": "2026-11"})
    assert r.status_code == 201, r.content
    s = r.json()
    assert (s["month"], s["status"], s["orders"]) == ("2026-11", "draft", 3)
    assert (s["total"], s["subsidy"], s["elder_pays"]) == ("140.00", "45.00", "95.00")
    assert [line["order"] for line in s["lines"]] == [ids["meal"], ids["rich"], ids["bath"]]
    assert [(x["total"], x["subsidy"], x["elder_pays"]) for x in s["lines"]] == [
        ("30.00", "15.00", "15.00"), ("30.00", "0.00", "30.00"), ("80.00", "30.00", "50.00")]  # fmt: skip
    lines = SettlementLine.objects.filter(settlement_id=s["id"])
    assert sum(x.subsidy for x in lines) == Decimal("45.00")
    r = post(district, "/api/v1/settlements", {"provider": world.meals.pk, "month": "2026-11"})
    assert (r.status_code, r.json()["code"]) == (409, "settlement.exists")
    assert world.api("district_approver").get(f"/api/v1/orders/{ids['meal']}").json()[
        "settlement"] == s["id"]  # fmt: skip

    path = f"/api/v1/settlements/{s['id']}"
    r = post(street, f"{path}/approval", {"reason": "核对无误"})
    assert (r.status_code, r.json()["code"]) == (403, "settlement.four_eyes")
    r = post(district, f"{path}/payment", {"reference": "ZF-2026-12-001"})
    assert (r.status_code, r.json()["code"]) == (409, "settlement.illegal_state")  # not approved
    assert errors_of(post(district, f"{path}/approval", {"reason": ""})) == {
        "reason": "eldercare.field_invalid"}  # fmt: skip
    assert _balances(district) == {}  # a draft is not in the ledger
    r = post(district, f"{path}/approval", {"reason": "核对无误，同意结算"})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["approved_by"]) == ("approved", "u_district_approver")
    # approved: the 45.00 of subsidies is the programme's expense and owed to the provider
    assert _balances(district) == {"expense": "45.00", "provider_payable": "45.00"}
    legs = [(e["kind"], leg["account"], leg["debit"], leg["credit"])
            for e in district.get(path).json()["journal"] for leg in e["lines"]]  # fmt: skip
    assert legs == [("service_settlement", "expense", "45.00", "0.00"),
                    ("service_settlement", "provider_payable", "0.00", "45.00")]  # fmt: skip
    r = post(district, f"{path}/approval", {"reason": "再次审核"})
    assert (r.status_code, r.json()["code"]) == (409, "settlement.illegal_state")

    r = post(street, f"{path}/payment", {"reference": "ZF-2026-12-001"})
    assert (r.status_code, r.json()["code"]) == (403, "eldercare.role_forbidden")
    r = post(district, f"{path}/payment", {"reference": "ZF-2026-12-001"})
    assert r.status_code == 200, r.content
    paid = r.json()
    assert (paid["status"], paid["payment_reference"]) == ("paid", "ZF-2026-12-001")
    # paid: the debt to the provider is settled from the bank
    paid_ledger = {"expense": "45.00", "provider_payable": "0.00", "bank": "45.00"}
    assert _balances(district) == paid_ledger
    again = post(district, f"{path}/payment", {"reference": "ZF-2026-12-001"})
    assert again.status_code == 200 and again.json()["paid_at"] == paid["paid_at"]  # idempotent
    assert _balances(district) == paid_ledger  # posted once
    dongcheng = user_create(username="u_dc", role=Role.DISTRICT_APPROVER, division_code=DONGCHENG)
    r = api_of(dongcheng).get("/api/v1/ledger/balances", {"period": "2026-11"})
    assert r.status_code == 200 and r.json()["items"] == []  # another district's journal
    r = post(district, f"{path}/payment", {"reference": "ZF-2026-12-999"})
    assert (r.status_code, r.json()["code"]) == (409, "settlement.illegal_state")

    # December's delivery waits for December's settlement
    today.advance(30)  # 2027-01-01
    r = post(street, "/api/v1/settlements", {"provider": world.meals.pk, "month": "2026-12"})
    assert r.status_code == 201 and [x["order"] for x in r.json()["lines"]] == [ids["december"]]


def test_who_sees_settlements(world: World, today: Clock) -> None:
    _november(world, today)
    s = orders.settlement_prepare(actor=world.cast.users["street_reviewer"],
                                  provider_id=world.meals.pk, month="2026-11")  # fmt: skip
    dc_approver = user_create(username="u_dc", role=Role.DISTRICT_APPROVER, division_code=DONGCHENG)
    # the provider is registered at street A: above the community worker's division
    seen = {"street_reviewer", "district_approver", "auditor", "admin", "service_provider"}
    for role in [str(r) for r in Role]:
        client = world.api(role)
        assert client.get(f"/api/v1/settlements/{s.pk}").status_code == (
            200 if role in seen else 404
        ), role
        assert len(client.get("/api/v1/settlements").json()["items"]) == (role in seen), role
    assert api_of(world.west_user).get(f"/api/v1/settlements/{s.pk}").status_code == 404
    assert api_of(dc_approver).get(f"/api/v1/settlements/{s.pk}").status_code == 404
    r = post(api_of(dc_approver), "/api/v1/settlements",
             {"provider": world.meals.pk, "month": "2026-11"})  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (404, "provider.not_found")
    r = post(api_of(dc_approver), f"/api/v1/settlements/{s.pk}/approval", {"reason": "同意"})
    assert r.status_code == 404
    assert Settlement.objects.get().status == "draft"


def test_the_statement_is_a_pdf_listing_the_orders(world: World, today: Clock) -> None:
    pytest.importorskip("weasyprint")
    import pypdfium2 as pdfium

    _november(world, today)
    s = orders.settlement_prepare(actor=world.cast.users["street_reviewer"],
                                  provider_id=world.meals.pk, month="2026-11")  # fmt: skip
    r = world.api("district_approver").get(f"/api/v1/settlements/{s.pk}/statement")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert r["Content-Disposition"] == f'inline; filename="settlement-{s.pk}-2026-11.pdf"'
    text = "".join(p.get_textpage().get_text_range() for p in pdfium.PdfDocument(r.content))
    text = text.replace("\r", "").replace("\n", "")
    for shown in ("居家养老服务结算单", "展览路助餐中心", "140.00", "45.00", "95.00", "助浴"):
        assert shown in text, shown
    assert world.api("resident").get(f"/api/v1/settlements/{s.pk}/statement").status_code == 404


# -- pages ----------------------------------------------------------------------------------------------


def test_the_pages_place_deliver_settle_approve_and_pay(world: World, today: Clock) -> None:
    worker = world.cast.client("community_worker")
    page = worker.get(f"/eldercare/orders/?elder={world.poor.pk}").content.decode()
    assert 'id="order-form"' in page and 'id="order-elder-name"' in page
    assert "展览路助餐中心" in page and "西长安街养老驿站" not in page  # serving community A
    r = worker.post("/eldercare/orders/", {"elder": world.poor.pk, "service": "meal_delivery",
                                           "quantity": "2", "scheduled_for": "2026-11-22"})  # fmt: skip
    page = r.content.decode()
    assert r.status_code == 200 and 'data-field="scheduled_for"' in page
    assert not Order.objects.exists()
    r = worker.post("/eldercare/orders/", {"elder": world.poor.pk, "service": "meal_delivery",
                                           "quantity": "2", "scheduled_for": "2026-11-24",
                                           "channel": "worker"})  # fmt: skip
    order = Order.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/eldercare/orders/{order.pk}/"
    page = worker.get(r["Location"]).content.decode()
    assert 'id="delivery-form"' not in page and "15.00" in page

    today.advance(1)
    provider_page = world.cast.client("service_provider")
    page = provider_page.get(f"/eldercare/orders/{order.pk}/").content.decode()
    assert 'id="delivery-form"' in page
    r = provider_page.post(f"/eldercare/orders/{order.pk}/delivery",
                           {"delivered_at": "2026-11-24T11:30", "staff_name": "刘师傅",
                            "evidence": "签字：老人"})  # fmt: skip
    assert r.status_code == 302
    assert Order.objects.get().status == OrderStatus.DELIVERED
    r = provider_page.post(f"/eldercare/orders/{order.pk}/delivery",
                           {"delivered_at": "2026-11-24T11:30", "staff_name": "刘师傅",
                            "evidence": "签字：老人"}, follow=True)  # fmt: skip
    assert "已记录服务" in r.content.decode() and Delivery.objects.count() == 1

    today.advance(8)  # 2026-12-02
    street = world.cast.client("street_reviewer")
    page = street.get("/eldercare/settlements/").content.decode()
    assert 'id="settlement-form"' in page and 'value="2026-11"' in page
    r = street.post("/eldercare/settlements/", {"provider": world.meals.pk, "month": "2026-11"})
    settlement = Settlement.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/eldercare/settlements/{settlement.pk}/"
    page = street.get(r["Location"]).content.decode()
    assert 'id="settlement-approve"' in page and 'id="four-eyes"' in page
    r = street.post(f"/eldercare/settlements/{settlement.pk}/approval", {"reason": "同意"},
                    follow=True)  # fmt: skip
    assert "另一名" in r.content.decode()
    district = world.cast.client("district_approver")
    district.post(f"/eldercare/settlements/{settlement.pk}/approval", {"reason": "核对无误"})
    page = district.get(f"/eldercare/settlements/{settlement.pk}/").content.decode()
    assert 'id="settlement-pay"' in page and 'id="settlement-approve"' not in page
    district.post(f"/eldercare/settlements/{settlement.pk}/payment", {"reference": "ZF-001"})
    settlement.refresh_from_db()
    assert (settlement.status, settlement.payment_reference) == ("paid", "ZF-001")
    page = district.get(f"/eldercare/settlements/{settlement.pk}/").content.decode()
    journal = page[page.index('id="journal"') :]
    assert journal.count('data-account="provider_payable"') == 2  # owed, then paid
    assert "应付服务商款" in journal and "银行存款（代发）" in journal and "养老服务补贴" in journal

    # the elder's family orders from the page for a member of their household
    family = Client()
    family.force_login(user_create(username="u_elder_family", role=Role.RESIDENT,
                                   division_code=None, household=world.poor.household))  # fmt: skip
    page = family.get("/eldercare/orders/").content.decode()
    assert '<select id="order-elder"' in page and f'data-order="{order.pk}"' in page
    assert 'value="worker"' not in page and "展览路助餐中心" in page

    # out of scope and without the role: not found
    liaison = world.cast.client("department_liaison")
    assert liaison.get("/eldercare/orders/").status_code == 404
    assert liaison.get("/eldercare/settlements/").status_code == 404
    assert world.cast.client("resident").get(f"/eldercare/orders/{order.pk}/").status_code == 404
