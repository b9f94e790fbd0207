"""The elderly-care, casework and statistics pages in English on request: the language cookie
switches the page, its headings, tabs and labels, and the Chinese headings are gone."""

from __future__ import annotations

import pytest
from django.test import Client

from minzheng.registry.documents import validate_document
from minzheng.registry.services import households_create
from tests.fixtures import COMMUNITY_A, Cast, member

pytestmark = pytest.mark.django_db


def _english(client: Client, path: str) -> str:
    client.cookies["django_language"] = "en"
    response = client.get(path)
    assert response.status_code == 200, path
    page = response.content.decode()
    assert 'lang="en"' in page
    return page


@pytest.fixture
def elder(cast: Cast) -> None:
    """A woman born in 1934 in community A: an elder in the worker's jurisdiction."""
    doc = validate_document(
        {
            "division": COMMUNITY_A,
            "hukou": "beijing",
            "assets": {"houses": 1},
            "members": [member("11010219340501123", "高奶奶")],
        }
    )
    households_create(actor=None, documents=[doc], reason="测试数据")


def test_the_elders_list_in_english(cast: Cast, elder: None) -> None:
    worker = cast.client("community_worker")
    assert "老年人" in worker.get("/eldercare/").content.decode()  # Chinese by default
    page = _english(worker, "/eldercare/")
    assert "高奶奶" in page
    assert "<h1>Elders</h1>" in page and "Today's visits" in page
    assert "Emergency calls" in page and "Care needs" in page
    assert "Elderly care" in page and "Casework" in page  # the navigation
    assert "老年人" not in page and "照护需求" not in page and "居家养老" not in page


def test_orders_and_alerts_in_english(cast: Cast) -> None:
    worker = cast.client("community_worker")
    orders = _english(worker, "/eldercare/orders/")
    assert "Order home care services" in orders and "Service orders" in orders
    assert "Co-payment" in orders and "Place order" in orders
    assert "居家养老服务下单" not in orders and "服务订单" not in orders
    alerts = _english(worker, "/eldercare/alerts/")
    assert "Patrol visit and emergency call alerts" in alerts
    assert "Overdue visit schedules" in alerts and "Emergency calls awaiting response" in alerts
    assert "巡视探访与紧急呼叫预警" not in alerts and "逾期未探访" not in alerts


def test_casework_and_the_dashboard_in_english(cast: Cast) -> None:
    worker = cast.client("community_worker")
    inbox = _english(worker, "/casework/")
    assert "<h1>Casework inbox</h1>" in inbox and "My follow-ups" in inbox
    assert "Support plans" in inbox and "Proactive discovery" in inbox
    assert "帮扶待办" not in inbox and "我的回访" not in inbox
    district = cast.client("district_approver")
    board = _english(district, "/reports/")
    assert "Dashboard" in board and "Open applications by step" in board
    assert "Statistical reports" in board and "Approval rate" in board
    assert "统计看板" not in board and "在办申请" not in board
