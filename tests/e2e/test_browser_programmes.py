"""A district approver's what-if and registry run in a real browser.

Same set-up as ``test_browser.py``: Debian chromium through Playwright against
``live_server``; skipped without ``/usr/bin/chromium`` unless
``MINZHENG_REQUIRE_BROWSER=1``; with ``MINZHENG_SCREENSHOTS=1`` full-page screenshots go
to ``docs/screenshots/programmes-*.png``. The run executes in its background thread, as
in production, and the page follows it by polling.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from minzheng.accounts.models import User
from minzheng.demo.services import DEMO_PASSWORD, demo_load, demo_users
from minzheng.programmes import services
from minzheng.programmes.models import EvaluationRun, RunStatus

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
APPROVER = "approver"  # the demo's district approver (西城区)
RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def demo() -> None:
    """The demo district (150 households) and its logins."""
    demo_load(households=150, seed=0)
    demo_users(0)


def screenshot(page: Page, name: str) -> None:
    if os.environ.get("MINZHENG_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def login(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", APPROVER)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base_url}/households/")


@pytest.mark.usefixtures("demo")
def test_approver_simulates_a_higher_dibao_standard(live_server: LiveServer, page: Page) -> None:
    login(page, live_server.url)
    page.click("header nav a:text-is('政策模拟')")
    page.wait_for_url(f"{live_server.url}/programmes/what-if/")
    assert page.locator("h1").inner_text() == "政策模拟"

    as_of = date(2025, 7, 1)
    page.select_option("#id_name_1", "dibao.standard")
    page.fill("#id_value_1", "1600")
    page.fill("#id_as_of", as_of.isoformat())
    page.select_option("#id_level", "9")
    page.click("#what-if-form button[type=submit]")

    # htmx swaps the result in and ECharts draws both charts on canvases.
    page.wait_for_selector("#chart-programmes canvas")
    page.wait_for_selector("#chart-dibao canvas")
    assert page.locator("#chart-programmes canvas").first.bounding_box() is not None
    assert "name_1=dibao.standard" in page.url  # the result has an address

    report = services.simulate(
        User.objects.get(username=APPROVER),
        overrides={"dibao.standard": 1600},
        as_of=as_of,
    )
    dibao = next(p for p in report["programmes"] if p["programme"] == "dibao")
    row = page.locator("#what-if-programmes tr[data-programme='dibao']")
    base = int(row.locator("td.base-beneficiaries").inner_text())
    reform = int(row.locator("td.reform-beneficiaries").inner_text())
    assert (base, reform) == (dibao["base_beneficiaries"], dibao["reform_beneficiaries"])
    assert reform >= base
    assert row.locator("td.reform-cost").inner_text() == dibao["reform_cost"]
    assert page.locator("#what-if-by-division tbody tr").count() >= 1
    screenshot(page, "programmes-what-if")

    # A value that is not a number is explained in the form; no result is shown.
    page.fill("#id_value_1", "很多")
    page.click("#what-if-form button[type=submit]")
    page.wait_for_selector("#what-if .errorlist")
    assert "不小于 0 的数字" in page.locator("#what-if .errorlist").inner_text()
    assert page.locator("#chart-programmes").count() == 0


@pytest.mark.usefixtures("demo")
def test_approver_runs_the_registry_and_watches_the_progress(
    live_server: LiveServer, page: Page
) -> None:
    login(page, live_server.url)
    page.click("header nav a:text-is('全库评估')")
    page.wait_for_url(f"{live_server.url}/programmes/runs/")
    page.fill("#id_as_of", "2025-07-01")
    with page.expect_navigation():
        page.click("#run-form button[type=submit]")
    run = EvaluationRun.objects.get()
    assert page.url == f"{live_server.url}/programmes/runs/{run.pk}/"

    # The progress card polls every second until the background thread is done.
    page.wait_for_selector("#progress[data-status='done']", timeout=RUN_TIMEOUT_MS)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.done == run.total == 150
    summary = page.locator("#run-summary").inner_text()
    assert f"共 {run.total} 户" in summary and f"其中 {run.eligible_households} 户" in summary
    dibao = page.locator("#run-counts tr[data-programme='dibao'] td.households").inner_text()
    assert int(dibao) == run.results.filter(programme="dibao").count()
    screenshot(page, "programmes-run-detail")

    page.click("header nav a:text-is('全库评估')")
    page.wait_for_url(f"{live_server.url}/programmes/runs/")
    row = page.locator(f"#runs tr:has(a[href='/programmes/runs/{run.pk}/'])")
    assert "已完成" in row.inner_text()
    assert row.locator("progress").get_attribute("value") == "100"
    screenshot(page, "programmes-runs")
