"""A resident applies online and follows the case to the decision letter, in a real browser.

The community worker accepts the application, records the home visit, verifies and
posts the public notice; the notice runs its seven days (the workflow's clock is moved
forward); the street reviews, the district approves; the resident sees the decision
and downloads the letter, whose text is read back from the PDF.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from minzheng.accounts.roles import Role
from minzheng.accounts.services import user_create
from minzheng.applications import clock
from minzheng.applications.models import ApplicationLine
from minzheng.demo.services import demo_divisions
from tests.e2e.test_browser import screenshot
from tests.fixtures import COMMUNITY_A, STREET_A, pensioner

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "pw-123456"


class Clock:
    def __init__(self) -> None:
        self.day = date(2026, 11, 23)  # a Monday

    def __call__(self) -> date:
        return self.day


def sign_in(browser: Browser, base: str, username: str, lands: str = "/households/**") -> Page:
    """A signed-in page of a new browser context; ``lands``: where the role starts (a
    service provider at ``/eldercare/orders/``)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  accept_downloads=True)  # fmt: skip
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}{lands}")
    return page


def act(page: Page, action: str, reason: str, **fields: str) -> None:
    form = page.locator(f"form.act-{action}").first
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("[name=reason]").fill(reason)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.locator(".messages .success").count() == 1, page.locator(".messages").inner_text()


def test_resident_applies_online_and_downloads_the_decision(
    live_server: LiveServer, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = Clock()
    monkeypatch.setattr(clock, "today", today)
    demo_divisions(0)
    household = pensioner("800.00", "11010219500101123")
    user_create(username="resident1", role=Role.RESIDENT, division_code=None,
                household=household, password=PASSWORD)  # fmt: skip
    for username, role, division in [("worker1", Role.COMMUNITY_WORKER, COMMUNITY_A),
                                     ("street1", Role.STREET_REVIEWER, STREET_A),
                                     ("district1", Role.DISTRICT_APPROVER, "110102")]:  # fmt: skip
        user_create(username=username, role=role, division_code=division, password=PASSWORD)
    base = live_server.url

    # the resident applies online, on a phone-sized screen; dibao is suggested
    resident = sign_in(browser, base, "resident1")
    resident.set_viewport_size({"width": 390, "height": 844})
    resident.goto(f"{base}/applications/new/")
    dibao = resident.locator("input[name=programmes][value=dibao]")
    assert dibao.is_checked(), "the engine suggests dibao for an 800-yuan pension"
    for box in resident.locator("input[name=programmes]").all():
        if box.get_attribute("value") != "dibao":
            box.uncheck()
    resident.fill("#note", "退休金每月800元，生活困难")
    screenshot(resident, "applications-apply-mobile")
    resident.click("#submit-application")
    resident.wait_for_url(f"{base}/applications/*/")
    assert "待受理" in resident.locator("#line-dibao").inner_text()
    case_url = resident.url
    receipt = resident.request.get(case_url + "receipt.pdf")
    assert receipt.headers["content-type"] == "application/pdf"
    assert receipt.body().startswith(b"%PDF")

    # the community worker takes it from the inbox
    worker = sign_in(browser, base, "worker1")
    worker.goto(f"{base}/applications/")
    assert worker.locator("#count-total").inner_text() == "1"
    screenshot(worker, "applications-inbox")
    worker.locator("table.inbox a").first.click()
    worker.wait_for_url(case_url)
    act(worker, "accept", "材料齐全，予以受理")
    act(worker, "record_visit", "已入户调查", visitors="王社工、李社工",
        findings="独居老人，退休金为唯一收入")  # fmt: skip
    act(worker, "verify", "核对无异常")
    act(worker, "publish_notice", "民主评议通过，张榜公示")
    assert "公示中" in worker.locator("#line-dibao").inner_text()

    # anyone may read the community's notice: the name is masked
    worker.goto(f"{base}/notices/{COMMUNITY_A}/")
    notice = worker.locator("main").inner_text()
    assert "老*" in notice and "老人" not in notice and "1012.50" in notice
    screenshot(worker, "applications-notice")

    # closing the notice early is refused with the date it ends
    worker.goto(case_url)
    worker.locator("form.act-close_notice [name=reason]").fill("公示结束")
    worker.locator("form.act-close_notice button").click()
    assert "2026-11-29" in worker.locator(".messages .error").inner_text()

    today.day += timedelta(days=7)
    worker.goto(case_url)
    act(worker, "close_notice", "公示期满无异议")
    screenshot(worker, "applications-case")

    street = sign_in(browser, base, "street1")
    street.goto(f"{base}/applications/")
    street.locator("table.inbox a").first.click()
    act(street, "review", "审核同意")

    district = sign_in(browser, base, "district1")
    district.goto(case_url)
    assert district.locator("form.act-approve [name=amount]").input_value() == "1012.50"
    act(district, "approve", "符合最低生活保障条件", start_month="2026-12")

    line = ApplicationLine.objects.get(household=household, programme="dibao")
    assert line.state == "approved" and str(line.amount) == "1012.50"

    # the resident sees the decision and downloads the letter
    resident.goto(case_url)
    assert "已批准" in resident.locator("#line-dibao").inner_text()
    href = resident.locator("a.decision-pdf").get_attribute("href") or ""
    letter = resident.request.get(f"{base}{href}")
    assert letter.ok and letter.body().startswith(b"%PDF")
    text = _pdf_text(letter.body()).replace("\r\n", "")
    assert "决定准予批准" in text and "保障金额 1,012.50 元/月" in text, text
    assert "自2026年12月起" in text and "申请行政复议" in text, text
    screenshot(resident, "applications-decided")


def _pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    return "".join(page.get_textpage().get_text_range() for page in document)
