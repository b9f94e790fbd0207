"""The payroll job killed with SIGKILL mid-way, and mid-approval: nobody paid twice, nobody
left out.

``minzheng payroll execute`` runs as a real process against the test database and is
killed (``kill -9``: no handler, no clean-up) after some chunks have committed. The run
stays "computing" with its cursor at the last committed chunk, and only the lines of
entitlements up to the cursor exist. Computing again continues after the cursor: every
entitlement ends with its lines exactly once.

``minzheng payroll approve`` is one transaction: it is killed while it waits inside that
transaction (a row it must update is held locked by the test), after its INSERT of the
payments and before its commit. Nothing of it remains, and approving again succeeds.

PostgreSQL only: another process must see the test's committed data (SQLite's test
database lives in memory).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.db.models import Count, Max

from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import user_create
from minzheng.applications import clock
from minzheng.benefits import payroll
from minzheng.benefits.banks import mask_account
from minzheng.benefits.models import (
    Entitlement,
    EntitlementAmount,
    Payment,
    PayrollLine,
    PayrollRun,
)
from minzheng.core.crypto import encrypt
from minzheng.registry.models import Division, Household
from tests.benefits.conftest import card
from tests.fixtures import COMMUNITY_A

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a second process must see the test's data; run with "
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/minzheng_dev",
    ),
    # committed data, so that the CLI's own process sees it; the data migrations' rows
    # are restored afterwards for the tests that follow
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PERIOD = date(2026, 11, 1)
FAST, SLOW = 2_700, 300  # every tenth entitlement is on the slow path
CLI = str(Path(sys.executable).with_name("minzheng"))
# fast path: November only, 1,012.50 (even k) or 650.25 (odd k); the slow ones are the
# k ≡ 9 (mod 10), all odd, so 1,500 even and 1,200 odd fast ones:
# 1,500 × 1,012.50 + 1,200 × 650.25 = 1,518,750.00 + 780,300.00 = 2,299,050.00
# slow path: decided back to August: 500.00 (Aug, Sep) then 600.00 (Oct, Nov) =
# 2,200.00 each in four lines (three arrears, one regular); 300 × 2,200.00 = 660,000.00
LINES = FAST + 4 * SLOW  # 3,900
TOTAL = Decimal("2959050.00")  # 2,299,050.00 + 660,000.00


def _env(**extra: str) -> dict[str, str]:
    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    if extra:
        url += "?" + "&".join(f"{k}={v}" for k, v in extra.items())
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "minzheng.config.settings"}


def _wait(what: str, ready: Callable[[], Any], proc: subprocess.Popen[bytes],
          timeout: float = 60) -> Any:  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ready()
        if found:
            return found
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"{what}: the CLI exited ({proc.returncode}) first: {err.decode()[-2000:]}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"{what}: not within {timeout} s")


@pytest.fixture
def ledger(divisions: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(clock, "today", lambda: date(2026, 11, 23))
    preparer = user_create(username="u_crash_prep", role=Role.DISTRICT_APPROVER,
                           division_code="110102", password="pw-123456")  # fmt: skip
    approver = user_create(username="u_crash_appr", role=Role.DISTRICT_APPROVER,
                           division_code="110102", password="pw-123456")  # fmt: skip
    community = Division.objects.get(code=COMMUNITY_A)
    households = Household.objects.bulk_create(
        Household(number=f"CRASH-{k:05d}", division=community, hukou="beijing")
        for k in range(FAST + SLOW)
    )
    number = card("622202123400000000")
    token, masked = encrypt(number), mask_account(number)
    ents, slow = [], []
    for k, hh in enumerate(households):
        is_slow = k % 10 == 9
        amount = Decimal("600.00") if is_slow else (
            Decimal("1012.50") if k % 2 == 0 else Decimal("650.25"))  # fmt: skip
        start = date(2026, 8, 1) if is_slow else date(2026, 1, 1)
        ents.append(Entitlement(
            household=hh, programme="dibao", division=community, division_path=community.path,
            amount=amount, amount_from=date(2026, 10, 1) if is_slow else start,
            start_month=start, settled_through=date(2026, 7, 1) if is_slow else date(2026, 10, 1),
            bank_code="102", account_encrypted=token, account_masked=masked, account_name="户主",
        ))  # fmt: skip
        slow.append(is_slow)
    ents = Entitlement.objects.bulk_create(ents)
    amounts = []
    for ent, is_slow in zip(ents, slow, strict=True):
        if is_slow:
            amounts += [EntitlementAmount(entitlement=ent, from_month=date(2026, 8, 1),
                                          amount=Decimal("500.00"), cause="审批决定"),
                        EntitlementAmount(entitlement=ent, from_month=date(2026, 10, 1),
                                          amount=Decimal("600.00"), cause="调整")]  # fmt: skip
        else:
            amounts.append(EntitlementAmount(entitlement=ent, from_month=date(2026, 1, 1),
                                             amount=ent.amount, cause="审批决定"))  # fmt: skip
    EntitlementAmount.objects.bulk_create(amounts)
    assert sum(slow) == SLOW
    return {"preparer": preparer, "approver": approver,
            "slow": {e.pk for e, s in zip(ents, slow, strict=True) if s},
            "fast": {e.pk: e.amount for e, s in zip(ents, slow, strict=True) if not s}}  # fmt: skip


def _assert_lines_exactly_once(run: PayrollRun, ledger: dict[str, Any]) -> None:
    dupes = (
        PayrollLine.objects.filter(run=run).values("entitlement_id", "period", "kind")
        .annotate(n=Count("pk")).filter(n__gt=1)
    )  # fmt: skip
    assert not dupes.exists(), list(dupes[:5])
    by_ent: dict[int, list[tuple[date, str, Decimal]]] = {}
    for ent, period, kind, amount in PayrollLine.objects.filter(run=run).values_list(
        "entitlement_id", "period", "kind", "amount"
    ):
        by_ent.setdefault(ent, []).append((period, kind, amount))
    assert set(by_ent) == set(ledger["fast"]) | ledger["slow"]  # nobody left out
    for ent, amount in ledger["fast"].items():
        assert by_ent[ent] == [(PERIOD, "regular", amount)]
    expected_slow = [(date(2026, 8, 1), "arrears", Decimal("500.00")),
                     (date(2026, 9, 1), "arrears", Decimal("500.00")),
                     (date(2026, 10, 1), "arrears", Decimal("600.00")),
                     (PERIOD, "regular", Decimal("600.00"))]  # fmt: skip
    for ent in ledger["slow"]:
        assert sorted(by_ent[ent]) == expected_slow


def test_execute_killed_mid_way_then_resumed(ledger: dict[str, Any]) -> None:
    run = payroll.payroll_create(actor=ledger["preparer"], period="2026-11")
    proc = subprocess.Popen(
        [CLI, "payroll", "execute", str(run.pk), "--chunk", "200", "--pause", "0.2"],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        done, total = _wait(
            "some chunks committed",
            lambda: PayrollRun.objects.filter(pk=run.pk, done__gt=0)
            .values_list("done", "total").first(),
            proc,
        )  # fmt: skip
        assert done < total == FAST + SLOW
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    run.refresh_from_db()
    # killed: still computing, the cursor at the last committed chunk, and lines only
    # for the entitlements up to it (a chunk commits whole or not at all)
    assert run.status == "computing" and 0 < run.done < run.total
    assert 0 < run.cursor < max(ledger["fast"].keys() | ledger["slow"])
    assert run.done % 200 == 0
    lines = PayrollLine.objects.filter(run=run)
    assert lines.aggregate(m=Max("entitlement_id"))["m"] <= run.cursor
    covered = ledger["fast"].keys() | ledger["slow"]
    assert lines.values("entitlement_id").distinct().count() == sum(
        1 for pk in covered if pk <= run.cursor) == run.done  # fmt: skip

    # the job is started again: it continues after the cursor
    run = payroll.payroll_execute(run.pk, chunk=500)
    assert run.status == "preview" and run.done == run.total == FAST + SLOW
    assert run.line_count == LINES and run.line_amount == TOTAL
    _assert_lines_exactly_once(run, ledger)

    run = payroll.payroll_approve(actor=ledger["approver"], run_id=run.pk, reason="同意")
    payments = Payment.objects.filter(run=run)
    assert payments.count() == LINES
    assert sum(payments.values_list("amount", flat=True)) == TOTAL


def _approving_backend() -> tuple[int, str] | None:
    """The CLI's database session, once it waits for a row lock inside its transaction:
    (its pid, the statement it waits in)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE application_name = 'crash_approve' "
            "AND wait_event_type = 'Lock' AND state = 'active'"
        )
        row = cur.fetchone()
    return (row[0], row[1]) if row else None


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cur.fetchone()[0] == 0


def test_approve_killed_inside_its_transaction(ledger: dict[str, Any]) -> None:
    run = payroll.payroll_create(actor=ledger["preparer"], period="2026-11")
    run = payroll.payroll_execute(run.pk)
    assert run.line_count == LINES
    held = max(ledger["slow"])
    s = connection.settings_dict
    # another session holds one entitlement's row (not its key, so the payments' foreign
    # keys still pass): the approval inserts every payment, then waits here to mark the
    # entitlements settled, inside its uncommitted transaction
    with psycopg.connect(host=s["HOST"], port=s["PORT"], user=s["USER"],
                         dbname=s["NAME"]) as holder:  # fmt: skip
        holder.execute("SELECT 1 FROM benefits_entitlement WHERE id = %s FOR NO KEY UPDATE",
                       [held])  # fmt: skip
        proc = subprocess.Popen(
            [CLI, "payroll", "approve", str(run.pk), "--user", ledger["approver"].username],
            env=_env(application_name="crash_approve"), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            backend, query = _wait("the approval waits in its transaction",
                                   _approving_backend, proc)  # fmt: skip
            # it waits to settle the entitlements: the payments are inserted, uncommitted
            assert query.strip().startswith("UPDATE benefits_entitlement SET settled_through")
            assert not Payment.objects.exists()
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.communicate()
        holder.rollback()
    # the lock is released; the orphaned session finds its client gone and rolls back
    deadline = time.monotonic() + 10
    while not _backend_gone(backend) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not _backend_gone(backend):  # the server had not noticed yet: end it as it would
        with connection.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", [backend])
    run.refresh_from_db()
    assert run.status == "preview" and run.approved_by is None
    assert not Payment.objects.exists()
    assert not Entitlement.objects.filter(settled_through=PERIOD).exists()
    assert not run.entries.exists()

    run = payroll.payroll_approve(actor=ledger["approver"], run_id=run.pk, reason="同意")
    assert run.status == "approved" and run.approved_by == User.objects.get(username="u_crash_appr")
    payments = Payment.objects.filter(run=run)
    assert payments.count() == LINES
    assert sum(payments.values_list("amount", flat=True)) == TOTAL
    assert Entitlement.objects.filter(settled_through=PERIOD).count() == FAST + SLOW
