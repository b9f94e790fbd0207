"""A community worker's day in a real browser: log in, search, open, edit, import.

Drives Debian chromium through Playwright's sync API against pytest-django's
``live_server``. Without ``/usr/bin/chromium`` the tests skip, unless
``MINZHENG_REQUIRE_BROWSER=1`` (CI with a browser), where they fail instead.
With ``MINZHENG_SCREENSHOTS=1`` full-page screenshots go to ``docs/screenshots/``.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from minzheng.core.ids import CHECK_CHARS, check_char
from minzheng.demo.services import DEMO_PASSWORD, demo_load, demo_users
from minzheng.registry.models import Household, Person
from minzheng.registry.spreadsheet import HEADERS

if TYPE_CHECKING:
    from playwright.sync_api import Download, Page
    from pytest_django.live_server_helper import LiveServer

# Transactional: the live server answers from another thread. The flush after each test
# also empties the divisions that a data migration loaded, so they are restored first.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
COMMUNITY = "110102009001"  # the demo worker's community (展览路街道)
WORKER = "worker"


@dataclass(frozen=True)
class Target:
    """The household the worker looks for, with its head's plain-text identity."""

    household: Household
    head_name: str
    head_id_number: str


@pytest.fixture
def demo() -> None:
    """The demo district (150 households) and its logins, "worker" among them."""
    demo_load(households=150, seed=0)
    demo_users(0)


@pytest.fixture
def target(demo: None) -> Target:
    # The newest household of the community comes first in every result list
    # (the list is ordered by -id), so a name-prefix search shows it on page 1.
    household = Household.objects.filter(division__code=COMMUNITY).order_by("-pk").first()
    assert household is not None, f"demo data has no household in {COMMUNITY}"
    head = household.members.get(relation="head")
    return Target(household, head.name, head.id_number)


def screenshot(page: Page, name: str) -> None:
    if os.environ.get("MINZHENG_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def login(page: Page, base_url: str, *, shoot: bool = False) -> None:
    page.goto(f"{base_url}/accounts/login/")
    if shoot:
        screenshot(page, "login")
    page.fill("#id_username", WORKER)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base_url}/households/")
    assert page.locator("h1").inner_text() == "家庭查询"


def search(page: Page, field: str, value: str) -> None:
    """Fill one search field (clearing the other), submit, and wait for htmx's swap."""
    other = "#id_id_number" if field == "#id_name" else "#id_name"
    page.fill(other, "")
    page.fill(field, value)
    page.evaluate(
        """() => {
            window.e2eSettled = false;
            document.body.addEventListener(
                "htmx:afterSettle", () => { window.e2eSettled = true; }, { once: true }
            );
        }"""
    )
    page.click("main form button[type=submit]")
    page.wait_for_function("() => window.e2eSettled === true")


def saved_download(download: Download, tmp_path: Path) -> bytes:
    path = tmp_path / f"download-{download.suggested_filename}"
    download.save_as(path)
    return path.read_bytes()


def test_worker_finds_views_and_edits_a_household(
    live_server: LiveServer, page: Page, target: Target
) -> None:
    household = target.household
    login(page, live_server.url, shoot=True)

    # Name prefix: the head's surname lists exactly the worker's households with a
    # member of that name, this one among them.
    prefix = target.head_name[0]
    expected = set(
        Household.objects.filter(division__code=COMMUNITY, members__name__startswith=prefix)
        .values_list("number", flat=True)
        .distinct()
    )
    search(page, "#id_name", prefix)
    numbers = page.locator("#results tbody tr td:first-child a").all_inner_texts()
    assert household.number in numbers
    assert set(numbers) == expected
    screenshot(page, "household-list")

    # Full ID number: exactly that household.
    search(page, "#id_id_number", target.head_id_number)
    rows = page.locator("#results tbody tr")
    assert rows.count() == 1
    assert rows.locator("td").first.inner_text() == household.number

    # The file shows the head with a masked ID number only.
    page.click(f"#results a:text-is('{household.number}')")
    page.wait_for_url(f"{live_server.url}/households/{household.pk}/")
    members = page.locator(".card", has=page.locator("h2:text-is('家庭成员')"))
    head_row = members.locator("tbody tr", has_text=target.head_name)
    id_cell = head_row.locator("td.idnum").inner_text()
    assert "********" in id_cell
    assert id_cell[:6] == target.head_id_number[:6]
    assert target.head_id_number not in page.content()
    screenshot(page, "household-detail")

    # Edit: without a reason the server refuses and nothing changes.
    old_address = household.address
    new_address = "北京市西城区展览路街道测试胡同 8 号"
    page.click(f"a[href='/households/{household.pk}/edit/']")
    page.wait_for_url(f"{live_server.url}/households/{household.pk}/edit/")
    page.fill("#id_address", new_address)
    page.eval_on_selector("#id_reason", "e => e.removeAttribute('required')")
    page.fill("#id_reason", "")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url == f"{live_server.url}/households/{household.pk}/edit/"
    assert "请填写修改原因" in page.locator(".errorlist").all_inner_texts()
    assert page.input_value("#id_address") == new_address  # the user's input is kept
    household.refresh_from_db()
    assert household.address == old_address
    screenshot(page, "household-edit")

    # With a reason it saves, and the history names the reason and the worker.
    page.fill("#id_reason", "核实住址变更")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url == f"{live_server.url}/households/{household.pk}/"
    assert page.locator("dt:text-is('住址') + dd").inner_text() == new_address
    history = page.locator(".card", has=page.locator("h2:text-is('变更历史')"))
    entry = history.locator("tbody tr", has_text="核实住址变更").first
    assert entry.locator("td").nth(3).inner_text() == WORKER
    assert f"住址：{old_address or '（空）'} → {new_address}" in entry.inner_text()
    household.refresh_from_db()
    assert household.address == new_address


def _id_number(stem17: str) -> str:
    return stem17 + check_char(stem17)


def _wrong_check_digit(number: str) -> str:
    wrong = CHECK_CHARS[(CHECK_CHARS.index(number[-1]) + 1) % len(CHECK_CHARS)]
    return number[:-1] + wrong


@pytest.mark.usefixtures("demo")
def test_worker_import_with_a_bad_row_is_rejected_whole(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    login(page, live_server.url)
    page.goto(f"{live_server.url}/households/import/")

    with page.expect_download() as template_info:
        page.click("text=下载导入模板")
    template = template_info.value
    assert template.suggested_filename.endswith(".xlsx")
    assert saved_download(template, tmp_path).startswith(b"PK")  # a zip: an .xlsx workbook

    columns = ["户编号", "所属区划代码", "户籍类型", "姓名", "公民身份号码", "与户主关系"]
    assert set(columns) <= set(HEADERS)
    good_name, bad_name = "端测甲", "端测乙"
    rows = [
        {
            "户编号": "E2E-1",
            "所属区划代码": COMMUNITY,
            "户籍类型": "本市户籍",
            "姓名": good_name,
            "公民身份号码": _id_number("11010219500228987"),
            "与户主关系": "户主",
        },
        {
            "户编号": "E2E-2",
            "所属区划代码": COMMUNITY,
            "户籍类型": "本市户籍",
            "姓名": bad_name,
            "公民身份号码": _wrong_check_digit(_id_number("11010219600331986")),
            "与户主关系": "户主",
        },
    ]
    upload = tmp_path / "导入.csv"
    with upload.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)

    households_before = Household.objects.count()
    page.set_input_files("#id_file", str(upload))
    with page.expect_navigation():
        page.click("form[enctype='multipart/form-data'] button[type=submit]")

    report = page.locator("#report")
    assert "导入被拒绝" in report.locator("p.error").inner_text()
    error = report.locator("tbody tr", has_text="身份证号码校验位错误")
    assert error.count() == 1
    assert error.locator("td").nth(0).inner_text() == "3"
    assert error.locator("td").nth(1).inner_text() == "公民身份号码"
    screenshot(page, "import-errors")

    with page.expect_download() as report_info:
        page.click("#error-report")
    error_report = report_info.value
    assert error_report.suggested_filename.endswith(".xlsx")
    assert saved_download(error_report, tmp_path).startswith(b"PK")

    # All or nothing: the good row was not written either.
    assert Household.objects.count() == households_before
    assert not Person.objects.filter(name__in=[good_name, bad_name]).exists()
