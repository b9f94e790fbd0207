"""Each level's dashboard in a real browser: the district approver, the street reviewer and
the community worker open 统计, see their own figures with the "as of" time, the charts and
the coverage map, and drill down to the list behind a figure.

Same set-up as ``test_browser.py``: Debian chromium through Playwright against
``live_server``; skipped without ``/usr/bin/chromium`` unless ``MINZHENG_REQUIRE_BROWSER=1``;
with ``MINZHENG_SCREENSHOTS=1`` full-page screenshots go to
``docs/screenshots/dashboard-*.png``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import user_create
from minzheng.applications import clock
from minzheng.benefits import payroll
from minzheng.core.periods import add_months, month_of
from minzheng.demo.services import demo_divisions
from minzheng.registry.models import Division
from minzheng.reports import aggregates
from tests.benefits.conftest import entitle
from tests.e2e.test_browser import screenshot
from tests.e2e.test_browser_applications import PASSWORD, sign_in
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, pensioner

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from pytest_django.live_server_helper import LiveServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_each_level_opens_its_dashboard_and_drills_down(
    live_server: LiveServer, browser: Browser
) -> None:
    demo_divisions(0)
    month = month_of(clock.today())
    last = add_months(month, -1)
    # two recipients in community A (1,012.50 and 862.50), one in community B (500.00)
    entitle(pensioner("800.00", "11010219500101123"), "1012.50", last)
    entitle(pensioner("950.00", "11010219480305234"), "862.50", last)
    entitle(pensioner("700.00", "11010219450709345", COMMUNITY_B), "500.00", last)
    users = {
        name: user_create(username=name, role=role, division_code=code, password=PASSWORD)
        for name, role, code in (
            ("district1", Role.DISTRICT_APPROVER, "110102"),
            ("district2", Role.DISTRICT_APPROVER, "110102"),
            ("street1", Role.STREET_REVIEWER, COMMUNITY_A[:9]),
            ("worker1", Role.COMMUNITY_WORKER, COMMUNITY_A),
        )
    }
    _pay(users["district1"], users["district2"], last)
    aggregates.refresh(Division.objects.get(code="110102"))
    base = live_server.url

    district = sign_in(browser, base, "district1")
    district.click("header nav >> text=统计")
    district.wait_for_url(f"{base}/reports/")
    assert district.locator("#dashboard-division").inner_text() == "西城区"
    assert "数据时间" in district.locator("#as-of").inner_text()
    # last month: three households, 1,012.50 + 862.50 + 500.00 = 2,375.00
    assert district.locator("#kpi-households").inner_text() == "3"
    assert district.locator("#kpi-amount").inner_text() == "2375.00"
    district.wait_for_selector("#chart-trend canvas")
    assert district.locator("#coverage g[data-code]").count() >= 2  # the district's streets
    screenshot(district, "dashboard-district")
    district.click(f"#coverage g[data-code='{COMMUNITY_A[:9]}']")
    district.wait_for_url(f"{base}/reports/?division={COMMUNITY_A[:9]}")
    assert district.locator("#kpi-households").inner_text() == "2"

    street = sign_in(browser, base, "street1")
    street.goto(f"{base}/reports/")
    assert street.locator("#kpi-amount").inner_text() == "1875.00"
    screenshot(street, "dashboard-street")
    assert street.goto(f"{base}/reports/?division=110101").status == 404  # Dongcheng: not theirs

    community = sign_in(browser, base, "worker1")
    community.goto(f"{base}/reports/")
    assert community.locator("#dashboard-division").inner_text() == "西便门社区"
    assert community.locator("#kpi-amount").inner_text() == "1875.00"
    screenshot(community, "dashboard-community")
    community.click("#kpi-households")
    community.wait_for_url(f"{base}/reports/list/**")
    rows = community.locator("#rows tbody tr")
    assert rows.count() == 2
    amounts = sorted(rows.nth(k).locator("td.num").inner_text() for k in range(2))
    assert amounts == ["1012.50", "862.50"]


def _pay(first: User, second: User, month: object) -> None:
    run = payroll.payroll_create(actor=first, period=f"{month:%Y-%m}")
    payroll.payroll_execute(run.pk)
    payroll.payroll_approve(actor=second, run_id=run.pk, reason="经复核，同意发放")
