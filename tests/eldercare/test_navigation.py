"""Where each role starts after signing in, and the eldercare links in its header.

A service provider's staff work on orders and visits, not the household registry: they
start at their orders and see only those links; a resident (an elder or the family) finds
the elderly-care services next to their applications; staff keep the registry.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from minzheng.eldercare.models import ProviderMember
from tests.eldercare.test_orders import provider
from tests.fixtures import COMMUNITY_A, Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(cast: Cast) -> Cast:
    """The cast's provider user works for a meal provider serving community A."""
    meals = provider("西长安街助餐", ["meal_delivery"], [COMMUNITY_A])
    ProviderMember.objects.create(provider=meals, user=cast.users["service_provider"])
    return cast


def _signed_in(username: str) -> tuple[Client, str]:
    client = Client()
    r = client.post("/accounts/login/", {"username": username, "password": "pw-123456"},
                    follow=True)  # fmt: skip
    assert r.status_code in (200, 403)
    return client, r.redirect_chain[-1][0]


def _nav(client: Client, path: str) -> list[str]:
    page = client.get(path).content.decode()
    nav = re.search(r"<nav>(.*?)</nav>", page, re.S)
    assert nav is not None
    return re.findall(r'href="([^"]+)"', nav.group(1))


@pytest.mark.parametrize(
    ("role", "start"),
    [
        ("service_provider", "/eldercare/orders/"),
        ("community_worker", "/households/"),
        ("district_approver", "/households/"),
        ("resident", "/households/"),
    ],
)
def test_each_role_starts_where_its_work_is(linked: Cast, role: str, start: str) -> None:
    client, landed = _signed_in(linked.users[role].username)
    assert landed == start
    r = client.get("/", follow=True)
    assert r.redirect_chain[-1][0] == start  # the site's root goes the same way


def test_a_provider_sees_its_orders_and_visits_not_the_registry(linked: Cast) -> None:
    client, landed = _signed_in("u_service_provider")
    links = _nav(client, landed)
    assert "/eldercare/orders/" in links and "/eldercare/visits/" in links
    assert "/households/" not in links and "/programmes/" not in links
    visits = client.get("/eldercare/visits/")
    assert visits.status_code == 200
    tabs = re.search(r'<p class="tabs">(.*?)</p>', visits.content.decode(), re.S)
    assert tabs is not None  # only the provider's own tabs: no staff page that would 404
    assert re.findall(r'href="([^"]+)"', tabs.group(1)) == [
        "/eldercare/orders/", "/eldercare/visits/", "/eldercare/settlements/"]  # fmt: skip


def test_a_resident_finds_elderly_care_services(cast: Cast) -> None:
    client, landed = _signed_in("u_resident")
    links = _nav(client, landed)
    assert "/eldercare/orders/" in links and "/households/" in links
    assert "/eldercare/visits/" not in links
    assert client.get("/eldercare/orders/").status_code == 200


def test_staff_keep_the_registry_and_reach_elderly_care(cast: Cast) -> None:
    client, landed = _signed_in("u_community_worker")
    links = _nav(client, landed)
    assert "/households/" in links and "/eldercare/" in links
    assert "/eldercare/orders/" not in links  # reached from the elderly-care tabs


def test_a_provider_account_not_yet_linked_is_told_so(cast: Cast) -> None:
    client, landed = _signed_in("u_service_provider")
    r = client.get(landed)
    assert r.status_code == 403
    assert "您的账号尚未关联服务商" in r.content.decode()
