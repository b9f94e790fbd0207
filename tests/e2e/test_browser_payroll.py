"""A month's benefits paid in a real browser: one district approver computes the payroll
(in its background thread, the page following by polling), a second approves it, the bank
file is generated and downloaded, the bank's return with one failure is imported, and the
reconciliation shows paid = approved − failed.

Same set-up as ``test_browser.py``: Debian chromium through Playwright against
``live_server``; skipped without ``/usr/bin/chromium`` unless ``MINZHENG_REQUIRE_BROWSER=1``;
with ``MINZHENG_SCREENSHOTS=1`` full-page screenshots go to
``docs/screenshots/benefits-*.png``.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from minzheng.accounts.roles import Role
from minzheng.accounts.services import user_create
from minzheng.applications import clock
from minzheng.benefits.models import BankBatch, Payment, PayrollRun
from minzheng.core.periods import add_months, month_of
from minzheng.demo.services import demo_divisions
from tests.benefits.conftest import bank_return, entitle
from tests.e2e.test_browser import screenshot
from tests.e2e.test_browser_applications import PASSWORD, sign_in
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, pensioner

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

RUN_TIMEOUT_MS = 60_000


def _message(page: Page) -> str:
    return page.locator(".messages").inner_text()


def test_a_month_is_computed_approved_by_a_second_person_sent_and_reconciled(
    live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    demo_divisions(0)
    month = month_of(clock.today())
    entitle(pensioner("800.00", "11010219500101123"), "1012.50", month)
    entitle(pensioner("950.00", "11010219480305234"), "862.50", month)
    # decided this month, back-dated two months: arrears for the two months before
    far = entitle(pensioner("700.00", "11010219450709345", COMMUNITY_B), "500.00",
                  add_months(month, -2))  # fmt: skip
    assert COMMUNITY_A != COMMUNITY_B
    for username in ("district1", "district2"):
        user_create(username=username, role=Role.DISTRICT_APPROVER, division_code="110102",
                    password=PASSWORD)  # fmt: skip
    base = live_server.url

    # the first approver computes the month for the district
    first = sign_in(browser, base, "district1")
    first.click("header nav >> text=资金发放")
    first.wait_for_url(f"{base}/benefits/payrolls/")
    first.fill("#id_period", f"{month:%Y-%m}")
    first.select_option("#id_division", "110102")
    first.click("#payroll-compute")
    first.wait_for_url(f"{base}/benefits/payrolls/*/")
    first.wait_for_selector("#payroll-status[data-status=preview]", timeout=RUN_TIMEOUT_MS)
    run = PayrollRun.objects.get()
    # 1,012.50 + 862.50 this month, and 3 × 500.00 for the back-dated one
    assert run.line_count == 5 and run.line_amount == Decimal("3375.00")
    assert "3375.00" in first.locator("#payroll-total").inner_text()
    assert first.locator("#by-programme tr[data-kind=arrears]").count() == 1
    assert first.locator("#by-street tbody tr").count() == 2  # 展览路街道 and 西长安街街道
    screenshot(first, "benefits-payroll-preview")

    # the preparer may not approve their own run: the page says why
    assert first.locator("#four-eyes").is_visible()
    first.fill("#approve-reason", "同意发放")
    first.click("form.act-approve button")
    first.wait_for_load_state("load")
    assert "另一名区级审批员" in _message(first)
    assert not Payment.objects.exists()

    # a second approver approves, generates and downloads the bank file
    second = sign_in(browser, base, "district2")
    detail = f"{base}/benefits/payrolls/{run.pk}/"
    second.goto(detail)
    second.fill("#approve-reason", "经审核，同意发放")
    second.click("form.act-approve button")
    second.wait_for_load_state("load")
    assert second.locator("#payroll-status").get_attribute("data-status") == "approved"
    assert Payment.objects.count() == 5
    second.click("#bank-file-export")
    second.wait_for_load_state("load")
    assert "已生成银行代发文件" in _message(second)
    with second.expect_download() as info:
        second.click("#bank-file-download")
    download = info.value
    content = Path(download.path()).read_bytes()
    batch = BankBatch.objects.get(run=run)
    digest = hashlib.sha256(content).hexdigest()
    assert download.suggested_filename == batch.file_name
    assert digest == batch.sha256 == second.locator("#bank-file-sha256").inner_text()
    head = second.request.get(f"{detail}bank-file/")
    assert head.headers["x-content-sha256"] == digest and head.body() == content

    # the bank pays every transfer but one; its return is imported
    failed_ref = f"{run.number}-{far.pk}"
    returned = tmp_path / "return.csv"
    returned.write_bytes(bank_return(content.decode(), {failed_ref: ("E01", "账户不存在")}))
    second.set_input_files("#return-file", str(returned))
    second.click("form.act-return button")
    second.wait_for_load_state("load")
    assert "3 笔发放失败" in _message(second)
    approved = Decimal(second.locator("#rec-approved").inner_text())
    failed = Decimal(second.locator("#rec-failed").inner_text())
    paid = Decimal(second.locator("#rec-paid").inner_text())
    assert (approved, failed, paid) == (Decimal("3375.00"), Decimal("1500.00"), Decimal("1875.00"))
    assert paid == approved - failed
    assert "平衡 ✓" in second.locator("#reconciliation").inner_text()
    row = second.locator("#failed-payments tbody tr").first
    assert "账户不存在" in row.inner_text() and "****" in row.inner_text()
    screenshot(second, "benefits-payroll-reconciliation")

    # the bank's fault is fixed: the failed payment is released to the next payroll
    row.locator("[name=reason]").fill("银行系统故障已排除")
    row.locator("button").click()
    second.wait_for_load_state("load")
    assert "已确认重发" in _message(second)
    assert Payment.objects.filter(status="failed", reissue_ready=True).count() == 1

    # the entitlement's page shows the three failed months, one released for reissue
    second.goto(f"{base}/benefits/entitlements/{far.pk}/")
    assert second.locator("#payments tr[data-status=failed]").count() == 3
    assert "已确认重发" in second.locator("#payments").inner_text()
    screenshot(second, "benefits-entitlement")
    # and the ledger: the bank's credit is what reached people
    second.goto(f"{base}/benefits/ledger/")
    bank = second.locator("#balances tr[data-account=bank] .balance").inner_text()
    assert Decimal(bank) == paid
