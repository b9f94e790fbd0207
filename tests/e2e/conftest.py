"""The browser every end-to-end test drives: Debian's chromium through Playwright.

Without /usr/bin/chromium the browser tests skip, except under
``MINZHENG_REQUIRE_BROWSER=1`` (CI with a browser), where they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: install Debian's chromium package"
        if os.environ.get("MINZHENG_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # The sync API keeps an asyncio loop on this thread; the ORM calls the test makes
    # meanwhile are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
            # Inside sync_playwright() the ORM gets connections of its own (another
            # context); close them, or PostgreSQL refuses to drop the test database.
            connections.close_all()


PAGE_TIMEOUT_MS = 15_000


def _read_uncommitted(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "sqlite" and "mode=memory" in str(connection.settings_dict["NAME"]):
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")


def _on_connection_created(
    sender: object, connection: BaseDatabaseWrapper, **kwargs: object
) -> None:
    _read_uncommitted(connection)


@pytest.fixture(autouse=True)
def sqlite_readers_do_not_lock() -> Iterator[None]:
    """Let page requests read while a background job (payroll, refresh) writes.

    The live server shares one in-memory SQLite database through a shared cache, where
    a reader meets a writer's table lock at once ("database table is locked") instead of
    waiting as it does on a file with WAL. Uncommitted reads take no table locks; the
    pages only poll for a job's status, which the job commits step by step anyway.
    """
    connection_created.connect(_on_connection_created)
    for connection in connections.all(initialized_only=True):
        _read_uncommitted(connection)
    try:
        yield
    finally:
        connection_created.disconnect(_on_connection_created)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
