"""A worker's verification step in a real browser: undeclared savings found at the bank
stop the case until the difference is explained, then it moves on."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import user_create
from minzheng.applications.models import ApplicationLine
from minzheng.applications.services import application_create, application_transition
from minzheng.demo.services import demo_divisions
from minzheng.verification.feeds import feed_import
from tests.e2e.test_browser import screenshot
from tests.e2e.test_browser_applications import PASSWORD, act, sign_in
from tests.fixtures import COMMUNITY_A, pensioner

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from pytest_django.live_server_helper import LiveServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_worker_resolves_a_bank_discrepancy_before_verification_passes(
    live_server: LiveServer, browser: Browser
) -> None:
    demo_divisions(0)
    household = pensioner("800.00", "11010219500101123")
    worker: User = user_create(username="worker2", role=Role.COMMUNITY_WORKER,
                               division_code=COMMUNITY_A, password=PASSWORD)  # fmt: skip
    approver: User = user_create(username="district2", role=Role.DISTRICT_APPROVER,
                                 division_code="110102", password=PASSWORD)  # fmt: skip
    application = application_create(actor=worker, household_id=household.pk,
                                     programmes=["dibao"], include_suggested=False)  # fmt: skip
    application_transition(
        actor=worker, application_id=application.pk, action="accept", reason="受理"
    )
    application_transition(actor=worker, application_id=application.pk, action="record_visit",
                           reason="已入户", visit={"visitors": "王、李", "findings": "独居老人"})  # fmt: skip
    number = household.members.get().id_number
    feed_import(actor=approver, source="bank_deposits", division_code="110102",
                describes_on=application.created_at.date(), file_name="bank.csv",
                content=f"公民身份号码,姓名,存款余额\n{number},老人,60000.00\n".encode())  # fmt: skip

    base = live_server.url
    page = sign_in(browser, base, "worker2")
    case_url = f"{base}/applications/{application.pk}/"
    page.goto(case_url)
    form = page.locator("form.act-verify")
    form.locator("[name=reason]").fill("核对完成")
    form.locator("button").click()
    assert "1 处差异尚未处理" in page.locator(".messages .error").inner_text()
    assert ApplicationLine.objects.get().state == "verification"

    page.locator("#verification a").first.click()
    assert "60000.00" in page.locator("main").inner_text()
    assert "不符合" in page.locator("main").inner_text()  # as found, dibao is lost
    screenshot(page, "verification-report-open")
    page.locator("[name=resolution]").fill("该存款为子女代为保管的医疗费，已核实凭证")
    page.locator("form.inline button").click()
    assert "差异均已处理" in page.locator("main").inner_text()

    page.goto(case_url)
    act(page, "verify", "核对完成，差异已说明")
    assert ApplicationLine.objects.get().state == "appraisal"
