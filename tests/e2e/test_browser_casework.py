"""Casework in a real browser: a community worker acts on a life event from the casework
inbox, dismisses one discovery item and turns another into an application, opens a
household plan with a follow-up, records the follow-up from the inbox, closes the plan, and
reads the household file and its PDF.

Same set-up as ``test_browser.py``: Debian chromium through Playwright against
``live_server``; skipped without ``/usr/bin/chromium`` unless ``MINZHENG_REQUIRE_BROWSER=1``;
with ``MINZHENG_SCREENSHOTS=1`` full-page screenshots go to ``docs/screenshots/casework-*.png``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from minzheng.accounts.roles import Role
from minzheng.accounts.services import user_create
from minzheng.applications import clock
from minzheng.applications.models import Application
from minzheng.casework import discovery, events
from minzheng.casework.models import Contact, DiscoveryItem, ItemStatus, Plan, PlanStatus, Task
from minzheng.core.periods import month_of
from minzheng.demo.services import demo_divisions
from minzheng.registry.documents import HouseholdPatch, IncomeDoc, MemberPatch
from minzheng.registry.models import Person
from minzheng.registry.services import household_update
from minzheng.registry.vocab import IncomeType
from tests.benefits.conftest import entitle
from tests.e2e.test_browser import screenshot
from tests.e2e.test_browser_applications import PASSWORD, sign_in
from tests.fixtures import pensioner

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _messages(page: Page) -> str:
    return page.locator(".messages").inner_text()


def test_a_worker_acts_on_the_inbox_discovery_and_a_household_plan(
    live_server: LiveServer, browser: Browser
) -> None:
    demo_divisions(0)
    today = clock.today()
    # a pensioner with 800.00 a month who has not applied: dibao 1,450.00 − 800.00 = 650.00,
    # plus the 25 % add-on of the standard for a member over 60 (362.50) = 1,012.50
    found = pensioner("800.00", "11010219500101123")
    # a recipient of dibao whose pension is about to rise (a life event)
    recipient = pensioner("950.00", "11010219480305234")
    entitle(recipient, "862.50", month_of(today))
    worker = user_create(username="worker1", role=Role.COMMUNITY_WORKER,
                         division_code="110102009001", password=PASSWORD)  # fmt: skip
    events.life_events_scan(today)  # the baseline
    head = Person.objects.get(household=recipient)
    household_update(actor=worker, household_id=recipient.pk, patch=HouseholdPatch(
        reason="养老金调整", members=[MemberPatch(person_id=head.pk, incomes=[
            IncomeDoc(type=IncomeType.PENSION, monthly=Decimal("1100.00"))])]))  # fmt: skip
    assert events.life_events_scan(today).tasks == 1
    run = discovery.discovery_run(None, as_of=today)
    assert run.new_items >= 2
    base = live_server.url

    page = sign_in(browser, base, "worker1")
    page.click("header nav >> text=帮扶")
    page.wait_for_url(f"{base}/casework/")
    assert page.locator("#count-tasks").inner_text() == "1"
    task_row = page.locator("#tasks tr[data-task]")
    assert (
        "新增收入登记" in task_row.inner_text()
        and "已提前 1 项待遇的动态复核" in task_row.inner_text()
    )
    screenshot(page, "casework-inbox")
    task_row.locator("input[name=result]").fill("已入户核实，养老金上调，转动态复核")
    task_row.locator("button").click()
    assert "事项已处理" in _messages(page)
    assert Task.objects.get().status == "done"

    # discovery: the preferential card is dismissed, dibao is turned into an application
    page.click("text=主动发现")
    page.wait_for_url(f"{base}/casework/discovery/")
    dibao = DiscoveryItem.objects.get(household=found, programme="dibao", status=ItemStatus.OPEN)
    row = page.locator(f"#items tr[data-item='{dibao.pk}']")
    assert "1012.50" in row.inner_text() and "最低生活保障" in row.inner_text()
    screenshot(page, "casework-discovery")
    other = (
        DiscoveryItem.objects.filter(household=found, status=ItemStatus.OPEN)
        .exclude(pk=dibao.pk)
        .first()
    )
    assert other is not None
    other_row = page.locator(f"#items tr[data-item='{other.pk}']")
    other_row.locator("input[name=reason]").fill("已电话告知，本人暂不需要")
    other_row.locator("text=排除").click()
    assert "线索已排除" in _messages(page)
    page.locator(f"#items tr[data-item='{dibao.pk}'] >> text=转为申请").click()
    page.wait_for_url(f"{base}/applications/*/")
    application = Application.objects.get(household=found)
    assert [ln.programme for ln in application.lines.all()] == ["dibao"]
    assert "主动发现" in application.note
    other.refresh_from_db()
    assert other.status == ItemStatus.DISMISSED

    # a plan for the recipient household, with a follow-up the day after tomorrow
    page.goto(f"{base}/households/{recipient.pk}/plan/new")
    page.fill("#summary", "稳定基本生活，关注老人健康")
    page.fill("#review_on", (today + timedelta(days=90)).isoformat())
    page.check("input[name=domain_health]")
    page.select_option("select[name=severity_health]", "high")
    page.fill("input[name=need_health]", "高血压，独居，需定期随访")
    page.select_option("#kind", "referral")
    page.fill("#target", "社区卫生服务站")
    page.fill("#description", "签约家庭医生，每月上门随访")
    page.fill("#follow_up_on", (today + timedelta(days=2)).isoformat())
    page.fill("#follow_up_purpose", "电话了解家庭医生签约情况")
    page.click("#plan-form button[type=submit]")
    page.wait_for_url(f"{base}/casework/plans/*/")
    assert "帮扶计划已建立" in _messages(page)
    assert "社区卫生服务站" in page.locator("#measures").inner_text()
    screenshot(page, "casework-plan")
    plan = Plan.objects.get(household=recipient)

    page.goto(f"{base}/casework/")
    fu_row = page.locator("#follow-ups tr[data-follow-up]")
    assert "电话了解家庭医生签约情况" in fu_row.inner_text()
    fu_row.locator("input[name=result]").fill("已签约家庭医生，首次上门随访已完成")
    fu_row.locator("button").click()
    assert "回访已记录" in _messages(page)
    assert Contact.objects.get(plan=plan).content == "已签约家庭医生，首次上门随访已完成"
    assert page.locator("#follow-ups tr[data-follow-up]").count() == 0

    page.goto(f"{base}/casework/plans/{plan.pk}/")
    assert "已签约家庭医生" in page.locator("#contacts").inner_text()
    page.select_option("#outcome", "stable")
    page.fill("#close_note", "家庭医生签约，生活稳定，转常规管理")
    page.click("#plan-close")
    assert "帮扶计划已结案" in _messages(page)
    assert "保持稳定" in page.locator("#plan-outcome").inner_text()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CLOSED

    # the household file brings it together, and prints
    page.goto(f"{base}/households/{recipient.pk}/file/")
    text = page.locator("main").inner_text()
    for expected in ("养老金调整", "帮扶计划", "已签约家庭医生"):
        assert expected in text, expected
    screenshot(page, "casework-household-file")
    pdf = page.request.get(f"{base}/households/{recipient.pk}/file.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
