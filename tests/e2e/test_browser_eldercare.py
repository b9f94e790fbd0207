"""Elderly care in a real browser: a community worker schedules daily calls for an elder
living alone, a call goes unanswered, the alert escalates to the street and the street
acknowledges it; a meal-delivery order is placed, delivered by the provider and settled
for the month, prepared by the street, approved by the district (four eyes) and paid.

The elder: 刘奶奶, born 1950-01-01 (76 on 2026-11-23), alone in community A (展览路街道),
Beijing hukou, one house, a pension of 800.00 a month: below dibao's 1,450.00, so the
rules engine finds her household eligible for the elderly-care service subsidy
(养老服务补贴, as ``tests/eldercare/test_orders.py`` works out).

Worked by hand from ``policy/eldercare/services.yaml`` (meal_delivery 15.00 a meal, the
programme pays 0.5 of it, at most 10.00 a meal) for two meals (lunch and supper):

- total = 2 × 15.00 = 30.00
- subsidy = min(30.00 × 0.5, 2 × 10.00) = min(15.00, 20.00) = 15.00
- the elder pays 30.00 − 15.00 = 15.00

November's settlement of the meal provider holds that one order: 1 order, total 30.00,
subsidy 15.00, the elders 15.00. Approval posts Dr 救助支出 15.00 / Cr 应付服务商款
15.00; payment posts Dr 应付服务商款 15.00 / Cr 银行存款（代发） 15.00.

Time: the workflow's day (``applications.clock.today``) and the visits' now
(``visits.current_time``) are moved together, from Monday 2026-11-23 10:00 Beijing time;
the live server runs in this process, so the pages see the same clock. An unacknowledged
failed visit goes up to the street after two hours (``policy/eldercare/visits.yaml``:
``escalation.failed_visit_hours``); the sweep that does it is called here, as the
scheduler would call it every minute.

Same set-up as ``test_browser.py``: Debian chromium through Playwright against
``live_server``; skipped without ``/usr/bin/chromium`` unless ``MINZHENG_REQUIRE_BROWSER=1``;
with ``MINZHENG_SCREENSHOTS=1`` full-page screenshots go to ``docs/screenshots/eldercare-*.png``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import user_create
from minzheng.applications import clock
from minzheng.benefits.models import JournalEntry
from minzheng.demo.services import demo_divisions
from minzheng.eldercare import orders, visits
from minzheng.eldercare.models import (
    Alert,
    ElderProfile,
    Order,
    OrderStatus,
    Provider,
    ProviderMember,
    Settlement,
    Visit,
    VisitSchedule,
)
from minzheng.registry.documents import validate_document
from minzheng.registry.models import Person
from minzheng.registry.services import households_create
from tests.e2e.test_browser import screenshot
from tests.e2e.test_browser_applications import PASSWORD, sign_in
from tests.eldercare.test_orders import provider
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, STREET_A, member

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BEIJING = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 10, 0, tzinfo=BEIJING)  # a Monday


class Moment:
    """The visits' now and the workflow's today, moved together."""

    def __init__(self) -> None:
        self.at = START

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return self.at.date()

    def move_to(self, at: datetime) -> None:
        assert at >= self.at, "time only moves forward"
        self.at = at


@pytest.fixture
def moment(monkeypatch: pytest.MonkeyPatch) -> Moment:
    fake = Moment()
    monkeypatch.setattr(clock, "today", fake.today)
    monkeypatch.setattr(visits, "current_time", fake.now)
    return fake


@dataclass
class World:
    elder: Person
    worker: User
    street: User
    district: User
    meals: Provider  # serves street A, registered there: dispatched community A's meals
    west: Provider  # serves community B only (created first: the lower id)
    carer: User  # the meal provider's user


def _world() -> World:
    demo_divisions(0)
    orders.catalogue_load()
    doc = validate_document({
        "division": COMMUNITY_A, "hukou": "beijing", "assets": {"houses": 1},
        "members": [member("11010219500101123", "刘奶奶", phone="13800000001",
                           incomes=[{"type": "pension", "monthly": "800.00"}])],
    })  # fmt: skip
    (household,) = households_create(actor=None, documents=[doc], reason="测试数据")
    users = {
        username: user_create(username=username, role=role, division_code=division,
                              password=PASSWORD, display_name=name)
        for username, role, division, name in [
            ("worker1", Role.COMMUNITY_WORKER, COMMUNITY_A, "王社工"),
            ("street1", Role.STREET_REVIEWER, STREET_A, "李审核"),
            ("district1", Role.DISTRICT_APPROVER, "110102", "赵审批"),
            ("carer1", Role.SERVICE_PROVIDER, "110102", "刘师傅"),
        ]
    }  # fmt: skip
    west = provider("西长安街养老驿站", ["meal_delivery"], [COMMUNITY_B])
    meals = provider("展览路助餐中心", ["meal_delivery", "cleaning"], [STREET_A])
    ProviderMember.objects.create(provider=meals, user=users["carer1"])
    return World(elder=household.members.get(), worker=users["worker1"], street=users["street1"],
                 district=users["district1"], meals=meals, west=west, carer=users["carer1"])  # fmt: skip


def _messages(page: Page) -> str:
    return page.locator(".messages").inner_text()


def _open_elder(page: Page, base: str, elder: Person) -> None:
    """From the header to the elder's page through the elderly-care list."""
    page.click("header nav >> text=养老")
    page.wait_for_url(f"{base}/eldercare/")
    page.locator(f"#elders tr[data-person='{elder.pk}'] a").click()
    page.wait_for_url(f"{base}/eldercare/elders/{elder.pk}/")


def test_a_failed_visit_escalates_to_the_street_which_acknowledges_it(
    live_server: LiveServer, browser: Browser, moment: Moment
) -> None:
    w = _world()
    base = live_server.url

    # the worker assesses 刘奶奶 (alone, high risk): the policy suggests a daily call
    worker = sign_in(browser, base, "worker1")
    _open_elder(worker, base, w.elder)
    assert worker.locator("#elder-name").inner_text() == "刘奶奶"
    assert worker.locator("#elder-age").inner_text() == "76"
    worker.select_option("#care_level", "self_care")
    worker.select_option("#living", "alone")
    worker.select_option("#risk", "high")
    worker.fill("#assessed_on", "2026-11-20")
    worker.fill("#assessor", "展览路社区评估员")
    worker.fill("#emergency_contact", "刘儿子")
    worker.fill("#emergency_phone", "13900000002")
    worker.click("#profile-form button[type=submit]")
    worker.wait_for_url(f"{base}/eldercare/elders/{w.elder.pk}/")
    assert "照护评估已保存" in _messages(worker)
    assert ElderProfile.objects.get(person=w.elder).risk == "high"

    worker.click("#elder-actions >> text=安排巡视探访")
    worker.wait_for_url(f"{base}/eldercare/visits/schedules/?elder={w.elder.pk}")
    assert "电话巡视每 1 天，上门探访每 7 天" in worker.locator("#suggested").inner_text()
    assert "尚未安排巡视探访" in worker.locator("#schedules").inner_text()
    worker.select_option("#mode", "phone")
    assert worker.locator("#every_days").input_value() == "1"  # the suggestion
    worker.select_option("#visitor_kind", "worker")
    assert worker.locator("#visitor").input_value() == str(w.worker.pk)  # oneself by default
    assert worker.locator("#first_due").input_value() == "2026-11-23"
    worker.click("#schedule-form button[type=submit]")
    worker.wait_for_url(f"{base}/eldercare/visits/schedules/?elder={w.elder.pk}")
    assert "探访安排已建立" in _messages(worker)
    schedule = VisitSchedule.objects.get(elder=w.elder)
    assert (schedule.mode, schedule.every_days, schedule.visitor_id) == ("phone", 1, w.worker.pk)
    row = worker.locator(f"#schedules tr[data-schedule='{schedule.pk}']").inner_text()
    for shown in ("电话巡视", "每 1 天", "王社工", "2026-11-23", "执行中"):
        assert shown in row, shown

    # the daily list: the call is due today; it goes unanswered
    worker.click("p.tabs >> text=今日探访")
    worker.wait_for_url(f"{base}/eldercare/visits/")
    assert worker.locator("#count-due").inner_text() == "1"
    form = worker.locator(f"#visit-form-{schedule.pk}")
    row = worker.locator(f"#visits tr[data-schedule='{schedule.pk}']").inner_text()
    assert "刘奶奶（76岁）" in row and "独居" in row and "13800000001" in row
    assert form.locator("[name=visited_at]").input_value() == "2026-11-23T10:00"  # now
    screenshot(worker, "eldercare-visits-daily")
    form.locator("[name=visited_at]").fill("2026-11-23T09:40")
    form.locator("[name=outcome]").select_option("no_answer")
    form.locator("[name=note]").fill("连续三次电话无人接听")
    form.locator("button[type=submit]").click()
    worker.wait_for_url(f"{base}/eldercare/visits/")
    assert "探访已记录" in _messages(worker)
    assert worker.locator("#count-due").inner_text() == "0"  # next call due tomorrow
    visit = Visit.objects.get(schedule=schedule)
    assert visit.outcome == "no_answer"
    schedule.refresh_from_db()
    assert schedule.next_due.isoformat() == "2026-11-24"

    # an alert for the community at once, which the worker could settle …
    alert = Alert.objects.get(visit=visit)
    assert (alert.kind, alert.level, alert.status) == ("failed_visit", "community", "open")
    assert alert.raised_at == START
    worker.click("p.tabs >> text=预警")
    worker.wait_for_url(f"{base}/eldercare/alerts/")
    alert_row = worker.locator(f"#alerts tr[data-alert='{alert.pk}']")
    assert alert_row.get_attribute("data-level") == "community"
    assert alert_row.locator("td").first.inner_text() == "2026-11-23 10:00"  # raised
    for shown in ("探访发现异常", "电话巡视：无人应答（2026-11-23 09:40）", "连续三次电话无人接听"):
        assert shown in alert_row.inner_text(), shown
    assert worker.locator(f"#alert-ack-{alert.pk}").count() == 1
    tabs = worker.locator("p.tabs a").all_inner_texts()
    assert "服务商" in tabs and "养老设施" in tabs  # every elderly-care page is a tab away

    # … but nobody acknowledges it: after two hours the sweep sends it to the street
    assert visits.alerts_sweep(START + timedelta(hours=1, minutes=59))["escalated"] == 0
    escalated_at = START + timedelta(hours=2, minutes=1)
    moment.move_to(escalated_at)
    assert visits.alerts_sweep(escalated_at) == {
        "at": escalated_at.isoformat(), "missed": 0, "escalated": 1, "incidents": 0
    }  # fmt: skip
    worker.reload()
    assert alert_row.get_attribute("data-level") == "street"
    assert "待街道确认" in alert_row.inner_text()
    assert "升级于 2026-11-23 12:01" in alert_row.inner_text()
    assert worker.locator(f"#alert-ack-{alert.pk}").count() == 0  # no longer the community's

    # the street reviewer sees it first on the board and acknowledges it
    street = sign_in(browser, base, "street1")
    street.goto(f"{base}/eldercare/alerts/")
    first = street.locator("#alerts tbody tr").first
    assert first.get_attribute("data-alert") == str(alert.pk)
    assert "is-overdue" in (first.get_attribute("class") or "")
    assert "街道" in first.locator(".alert-level").inner_text()
    screenshot(street, "eldercare-alert-board")
    ack = street.locator(f"#alert-ack-{alert.pk}")
    ack.locator("[name=action]").fill("联系家属刘儿子，已上门查看，老人在家午睡，电话静音")
    ack.locator("button[type=submit]").click()
    street.wait_for_url(f"{base}/eldercare/alerts/")
    assert "预警已确认" in _messages(street)
    assert street.locator(f"#alerts tr[data-alert='{alert.pk}']").count() == 0  # not open
    street.select_option("#status", "acknowledged")
    street.locator("form.inline", has=street.locator("#status")).locator("button").click()
    street.wait_for_url(f"{base}/eldercare/alerts/?status=acknowledged&level=")
    done = street.locator(f"#alerts tr[data-alert='{alert.pk}']").inner_text()
    assert "已确认" in done and "李审核" in done and "老人在家午睡" in done

    alert.refresh_from_db()
    assert (alert.status, alert.level, alert.acknowledged_by_id) == (
        "acknowledged", "street", w.street.pk
    )  # fmt: skip
    assert alert.escalated_at == escalated_at and alert.acknowledged_at == escalated_at
    assert Alert.objects.count() == 1


def test_a_meal_order_is_delivered_and_the_month_settled_with_four_eyes(
    live_server: LiveServer, browser: Browser, moment: Moment
) -> None:
    """Two meals: total 30.00, subsidy min(15.00, 20.00) = 15.00, the elder pays 15.00
    (worked in the module's docstring)."""
    w = _world()
    base = live_server.url

    # the worker orders from the elder's page; the engine says she qualifies
    worker = sign_in(browser, base, "worker1")
    _open_elder(worker, base, w.elder)
    subsidy_row = worker.locator("#entitlements tbody tr", has_text="养老服务补贴")
    assert subsidy_row.locator("td").nth(1).inner_text() == "符合"
    worker.click("#elder-actions >> text=下单服务")
    worker.wait_for_url(f"{base}/eldercare/orders/?elder={w.elder.pk}")
    assert worker.locator("#order-elder").input_value() == str(w.elder.pk)
    assert "刘奶奶（1950-01-01）" in worker.locator("#order-elder-name").inner_text()
    choices = worker.locator("#order-provider option").all_inner_texts()
    assert "展览路助餐中心" in choices and "西长安街养老驿站" not in choices  # serves B only
    worker.select_option("#order-service", "meal_delivery")
    worker.select_option("#order-provider", "")  # automatic dispatch
    worker.fill("#order-quantity", "2")
    worker.fill("#order-date", "2026-11-24")
    worker.select_option("#order-channel", "worker")
    worker.fill("#order-note", "午餐、晚餐各一份，少盐")
    worker.click("#order-submit")
    worker.wait_for_url(f"{base}/eldercare/orders/*/")
    assert "已下单并派单" in _messages(worker)
    order = Order.objects.get()
    assert worker.url == f"{base}/eldercare/orders/{order.pk}/"
    # dispatched past the lower-numbered provider that does not serve community A
    assert w.west.pk < w.meals.pk and order.provider_id == w.meals.pk
    assert worker.locator("#order-provider").inner_text() == "展览路助餐中心"
    assert worker.locator("#order-status").inner_text() == "已派单"
    assert worker.locator("#order-total").inner_text() == "30.00 元"
    assert worker.locator("#order-subsidy").inner_text() == "15.00 元"
    assert worker.locator("#order-elder-pays").inner_text() == "15.00 元"
    assert worker.locator("#delivery-form").count() == 0  # the provider records it

    # the next day the provider's user finds it among their orders and records the meal
    moment.move_to(START + timedelta(days=1, hours=4))  # 2026-11-24 14:00
    carer = sign_in(browser, base, "carer1", lands="/eldercare/orders/")
    row = carer.locator(f"#orders tr[data-order='{order.pk}']")
    assert row.get_attribute("data-status") == "dispatched" and "刘奶奶" in row.inner_text()
    row.locator("a").click()
    carer.wait_for_url(f"{base}/eldercare/orders/{order.pk}/")
    carer.fill("#delivery-at", "2026-11-24T11:30")
    carer.fill("#delivery-staff", "刘师傅")
    carer.fill("#delivery-evidence", "老人签字：刘奶奶")
    carer.click("#delivery-submit")
    carer.wait_for_url(f"{base}/eldercare/orders/{order.pk}/")
    assert "服务已记录" in _messages(carer)
    assert carer.locator("#order-status").inner_text() == "已服务"
    assert carer.locator("#delivery-at-shown").inner_text() == "2026-11-24 11:30"
    assert "老人签字：刘奶奶" in carer.locator("#delivery").inner_text()
    assert carer.locator("#delivery-form").count() == 0  # once
    screenshot(carer, "eldercare-order")
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED

    # December: the street prepares November's statement for the meal provider
    moment.move_to(datetime(2026, 12, 2, 10, 0, tzinfo=BEIJING))
    street = sign_in(browser, base, "street1")
    street.goto(f"{base}/eldercare/settlements/")
    assert street.locator("#settlement-month").input_value() == "2026-11"  # the month just over
    street.select_option("#settlement-provider", str(w.meals.pk))
    street.click("#settlement-prepare")
    street.wait_for_url(f"{base}/eldercare/settlements/*/")
    assert "结算单已生成" in _messages(street)
    settlement = Settlement.objects.get()
    assert street.url == f"{base}/eldercare/settlements/{settlement.pk}/"
    assert street.locator("#settlement-status").inner_text() == "待审核"
    assert street.locator("#settlement-orders").inner_text() == "1"
    assert street.locator("#settlement-total").inner_text() == "30.00 元"
    assert street.locator("#settlement-subsidy").inner_text() == "15.00 元"
    assert street.locator("#settlement-elder-pays").inner_text() == "15.00 元"
    line = street.locator(f"#lines tr[data-order='{order.pk}']").inner_text()
    for shown in ("刘奶奶", "助餐配送 × 2", "30.00", "15.00"):
        assert shown in line, shown
    # four eyes: the preparer is told, and refused
    assert street.locator("#four-eyes").is_visible()
    street.fill("#approve-reason", "核对无误，同意结算")
    street.click("#settlement-approve-submit")
    street.wait_for_url(f"{base}/eldercare/settlements/{settlement.pk}/")
    assert "须由制表人以外的另一名工作人员审核" in street.locator(".messages .error").inner_text()
    assert street.locator("#settlement-status").inner_text() == "待审核"
    assert street.locator("#settlement-pay").count() == 0  # the street does not pay

    # the district approver approves: the subsidy is owed to the provider …
    district = sign_in(browser, base, "district1")
    district.goto(f"{base}/eldercare/settlements/")
    district.locator(f"#settlements tr[data-settlement='{settlement.pk}'] a").click()
    district.wait_for_url(f"{base}/eldercare/settlements/{settlement.pk}/")
    assert district.locator("#four-eyes").count() == 0
    assert "审核通过后" in district.locator("#journal").inner_text()  # nothing posted yet
    district.fill("#approve-reason", "核对服务记录与签字，同意结算")
    district.click("#settlement-approve-submit")
    district.wait_for_url(f"{base}/eldercare/settlements/{settlement.pk}/")
    assert "结算单已审核" in _messages(district)
    assert district.locator("#settlement-status").inner_text() == "已审核"
    assert "赵审批" in district.locator("#settlement-approver").inner_text()
    assert district.locator("#journal tbody tr").count() == 2
    owed = district.locator("#journal tr[data-kind=service_settlement]")
    assert owed.nth(0).locator("td").all_inner_texts()[3:] == ["救助支出", "15.00", "0.00"]
    assert owed.nth(1).locator("td").all_inner_texts()[3:] == ["应付服务商款", "0.00", "15.00"]

    # … and records the payment, which settles that debt from the bank
    district.fill("#pay-reference", "ZF-2026-12-001")
    district.click("#settlement-pay-submit")
    district.wait_for_url(f"{base}/eldercare/settlements/{settlement.pk}/")
    assert "已登记支付" in _messages(district)
    assert district.locator("#settlement-status").inner_text() == "已支付"
    paid = district.locator("#settlement-paid").inner_text()
    assert "赵审批" in paid and "ZF-2026-12-001" in paid
    assert district.locator("#actions").count() == 0  # nothing left to do
    journal = district.locator("#journal")
    assert journal.locator("tbody tr").count() == 4
    assert journal.locator("tr[data-account=provider_payable]").count() == 2  # owed, then paid
    paid_legs = journal.locator("tr[data-kind=service_payment]")
    assert paid_legs.nth(0).locator("td").all_inner_texts()[1:] == [
        "服务商支付", "养老服务补贴", "应付服务商款", "15.00", "0.00"]  # fmt: skip
    assert paid_legs.nth(1).locator("td").all_inner_texts()[1:] == [
        "服务商支付", "养老服务补贴", "银行存款（代发）", "0.00", "15.00"]  # fmt: skip
    screenshot(district, "eldercare-settlement")
    pdf = district.request.get(f"{base}/eldercare/settlements/{settlement.pk}/statement.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # the provider reads its paid statement too
    carer.goto(f"{base}/eldercare/settlements/")
    row = carer.locator(f"#settlements tr[data-settlement='{settlement.pk}']")
    assert row.get_attribute("data-status") == "paid" and "2026-11" in row.inner_text()

    settlement.refresh_from_db()
    assert (settlement.status, settlement.orders, settlement.payment_reference) == (
        "paid", 1, "ZF-2026-12-001"
    )  # fmt: skip
    assert (settlement.total, settlement.subsidy, settlement.elder_pays) == (
        Decimal("30.00"), Decimal("15.00"), Decimal("15.00")
    )  # fmt: skip
    assert (settlement.prepared_by_id, settlement.approved_by_id, settlement.paid_by_id) == (
        w.street.pk, w.district.pk, w.district.pk
    )  # fmt: skip
    order.refresh_from_db()
    assert (order.total, order.subsidy, order.elder_pays) == (
        Decimal("30.00"), Decimal("15.00"), Decimal("15.00")
    )  # fmt: skip
    assert order.settlement_line.settlement_id == settlement.pk
    entries = JournalEntry.objects.filter(reference=orders.settlement_reference(settlement))
    assert sorted(entries.values_list("kind", flat=True)) == [
        "service_payment", "service_settlement"]  # fmt: skip
