"""The benefits payroll for 1,000,000 active entitlements: under 60 s; the bank's return of
1,000,000 lines reconciled: under 30 s.

Each run builds a fresh database per backend (not timed): the demo divisions
(``minzheng.demo.services.demo_divisions``: Xicheng 110102, its 15 real streets and 76
synthetic communities), one minimal household per entitlement spread over the
communities (raw rows, no members and no history: the payroll reads neither), and the
entitlements of the month — written with ``COPY`` on PostgreSQL and ``executemany`` on
SQLite, then ``ANALYZE`` (``VACUUM ANALYZE`` on PostgreSQL):

- 98 % **steady state** (the fast path): started in some month since 2019, amount row as
  ``entitle()`` leaves it, settled through last month and paid last month (one ``paid``
  payment each, under a reconciled run of last month);
- 1 % **back-dated** decisions: started two months ago, settled through the month before
  that, nothing paid yet → two months of arrears and this month's money;
- 1 % **amount changes** from two months back (three in four up, one in four down by
  10 %), ``dirty_from`` set, the two previous months paid at the old amount →
  adjustments (or recoveries deducted from this month's money) and this month's money.

Every entitlement has a valid bank account: a card number with a correct Luhn digit,
masked and Fernet-encrypted as ``banks.BankAccount`` does it. Encrypting a million numbers
would only slow the set-up, so a pool of 1,000 distinct numbers is encrypted once and
the tokens are reused; the export still decrypts every row's token.

Timed, one after another as a district does it (a district approver prepares, another
approves), in a second process so that the figures and peak memory are the services'
own:

1. ``payroll.payroll_create`` + ``payroll.payroll_execute`` of this month for the whole
   district (target < 60 s; lines per second);
2. ``payroll.payroll_approve``: every line written as a ``Payment``, entitlements settled,
   the journal posted;
3. ``bankfiles.bank_file_export``: the bank file (no target);
4. ``bankfiles.bank_return_import`` of the bank's 1 M-line return with ~0.5 % failures
   (four failure reasons), which validates every row, marks failures, posts the journal
   and returns the reconciliation (target < 30 s);
5. ``bankfiles.reconciliation`` alone (the report page).

Each step's peak memory (VmHWM, reset before the step) and its SQL statements (count and
time inside ``cursor.execute``) are reported; the results are checked (line count and
total, payments, balanced reconciliation, failures) so that a fast wrong answer fails.

Databases: ``var/bench/payroll[-quick].sqlite3`` and, on the PostgreSQL server of
``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/minzheng_bench``),
the database of that name suffixed ``_payroll`` (``_payroll_quick``), dropped and created
again each run. Without a reachable PostgreSQL those rows are SKIP. Bank files go to
``var/bench/payroll-media-<database>/``.

    python -m benchmarks.bench_payroll [--quick] [--size N] [--database sqlite|postgres]
                                       [--profile] [--reuse]

``--quick`` (or ``BENCH_QUICK=1``): 20,000 entitlements; ``--size N``: N entitlements.
``--profile`` runs each timed step under cProfile, writes
``var/bench/payroll-<database>-<step>.prof`` and prints the top functions. ``--reuse``
(development) keeps a copy of the loaded database (``var/bench/payroll-<N>.loaded.sqlite3``,
PostgreSQL ``…_payroll[_quick]_loaded``) and starts from it next time instead of loading
again (the copy keeps the month it was loaded for). Each step's SQL statements (count,
time inside ``cursor.execute``, the slowest four) are printed to stderr as it runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks.bench_inbox import (
    bench_database_url,
    fresh_sqlite,
    postgres_reachable,
    recreate_postgres,
)
from benchmarks.bench_rules import memory_mib, reset_peak

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"
SIZE = 1_000_000
QUICK_SIZE = 20_000
SEED = 0
DATABASES = ("sqlite", "postgres")
TARGET_PAYROLL_S = 60.0
TARGET_RETURN_S = 30.0
ARREARS_SHARE = 0.01
ADJUST_SHARE = 0.01
DOWN_SHARE = 0.25  # of the amount changes, the share that goes down (→ recoveries)
FAIL_SHARE = 0.005
TOKEN_POOL = 1_000
CHUNK = 100_000
DISTRICT = "110102"
PREPARER = "bench_payroll_preparer"
APPROVER = "bench_payroll_approver"
# Monthly programmes the payroll pays, with how often each occurs and its amount range
# in yuan (Beijing 2026, roughly).
PROGRAMMES: dict[str, tuple[float, int, int]] = {
    "dibao": (40, 200, 1_450),
    "low_income": (8, 100, 700),
    "extreme_poverty": (3, 2_000, 2_400),
    "education_assistance": (5, 200, 600),
    "disability_living_subsidy": (10, 100, 400),
    "disability_care_subsidy": (10, 200, 600),
    "age_allowance": (17, 100, 800),
    "elderly_service_subsidy": (7, 100, 600),
}
FAILURES = (
    ("E01", "账户已销户"),
    ("E02", "户名与账号不符"),
    ("E03", "账户冻结"),
    ("E04", "账号不存在"),
)
NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周杰", "吴霞")
BANK_CODES = ("102", "103", "104", "105", "301", "313", "314", "403")

err = Console(stderr=True)


# ---------------------------------------------------------------- databases (parent side)


def postgres_url(quick: bool) -> str:
    return bench_database_url("payroll", quick)


def _django(database_url: str, media: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "minzheng.config.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["MINZHENG_DEBUG"] = "0"  # no query log in the timed code
    os.environ["MINZHENG_MEDIA_ROOT"] = str(media)
    import django

    django.setup()


# ---------------------------------------------------------------- loading (child side)


def _bulk(table: str, columns: str, rows: Iterable[Sequence[Any]]) -> int:
    """Rows straight into a table (``columns`` comma-separated): ``COPY`` on PostgreSQL,
    ``executemany`` on SQLite. Values come prepared: dates and money as text, datetimes
    adapted by the backend."""
    from django.db import connection

    cols = ", ".join(c.strip() for c in columns.split(","))
    n = 0
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n
        sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['?'] * len(columns.split(',')))})"
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == CHUNK:
                cur.cursor.executemany(sql, batch)
                n += len(batch)
                batch = []
        cur.cursor.executemany(sql, batch)
    return n + len(batch)


def _ids(table: str) -> list[int]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"SELECT id FROM {table} ORDER BY id")
        return [r[0] for r in cur.fetchall()]


def _card_pool(size: int) -> list[tuple[str, str]]:
    """(encrypted, masked) for ``size`` distinct valid card numbers."""
    from minzheng.benefits.banks import BankAccount, luhn_digit

    out = []
    for k in range(size):
        stem = f"621700{k:012d}"
        account = BankAccount(bank_code="102", number=stem + luhn_digit(stem), name="")
        out.append((account.encrypted, account.masked))
    return out


def load(size: int, period: date, seed: int = SEED) -> dict[str, Any]:
    """Divisions, users, households, entitlements, amounts and last months' payments."""
    import numpy as np
    from django.db import connection, transaction
    from django.utils import timezone

    from minzheng.accounts.models import User
    from minzheng.accounts.roles import Role
    from minzheng.accounts.services import user_create
    from minzheng.benefits.models import PayrollRun, PayrollStatus
    from minzheng.core.periods import add_months
    from minzheng.demo.services import demo_divisions
    from minzheng.registry.models import Division, DivisionLevel

    timings: dict[str, float] = {}
    started = time.perf_counter()
    demo_divisions(seed)
    for username in (PREPARER, APPROVER):
        user_create(username=username, role=Role.DISTRICT_APPROVER, division_code=DISTRICT)
    communities = list(
        Division.objects.filter(level=DivisionLevel.COMMUNITY, path__contains=f"/{DISTRICT}/")
        .order_by("code")
        .values_list("pk", "path")
    )
    rng = np.random.default_rng(seed)
    community = rng.integers(0, len(communities), size)
    names = list(PROGRAMMES)
    weights = np.array([PROGRAMMES[p][0] for p in names], dtype=float)
    programme = rng.choice(len(names), size, p=weights / weights.sum())
    lo = np.array([PROGRAMMES[p][1] for p in names])[programme]
    hi = np.array([PROGRAMMES[p][2] for p in names])[programme]
    fen = (rng.integers(lo, hi + 1) * 100 + rng.choice([0, 0, 0, 50], size)).astype(np.int64)
    draw = rng.random(size)
    kind = np.where(draw < ARREARS_SHARE, 1, np.where(draw < ARREARS_SHARE + ADJUST_SHARE, 2, 0))
    down = rng.random(size) < DOWN_SHARE
    # the new amount of an amount change: +5–30 % up, or 10 % down
    up_fen = np.round(fen * (1 + rng.uniform(0.05, 0.30, size))).astype(np.int64)
    new_fen = np.where(kind == 2, np.where(down, np.round(fen * 0.9), up_fen), fen).astype(np.int64)
    first = date(2019, 1, 1)
    span = (period.year - first.year) * 12 + period.month - first.month - 3
    start_offset = rng.integers(0, span + 1, size)
    months = [add_months(first, k) for k in range(span + 1)]
    prev, prev2, prev3 = (add_months(period, -k) for k in (1, 2, 3))
    pool = _card_pool(TOKEN_POOL)
    account = rng.integers(0, len(pool), size)
    bank = rng.integers(0, len(BANK_CODES), size)
    holder = rng.integers(0, len(NAMES), size)
    ops = connection.ops
    now = timezone.now()
    then = ops.adapt_datetimefield_value(now - timedelta(days=20))
    timings["draw_s"] = time.perf_counter() - started

    def money(f: int) -> str:
        return f"{f // 100}.{f % 100:02d}"

    expected = {"lines": 0, "fen": 0, "steady": 0, "arrears": 0, "adjust_up": 0,
                "adjust_down": 0}  # fmt: skip
    with transaction.atomic():
        started = time.perf_counter()
        stamp = ops.adapt_datetimefield_value(now)
        _bulk(
            "registry_household",
            "number, external_id, division_id, address, hukou, deposits, securities, "
            "houses, vehicles, business, medical_monthly, education_monthly, created_at, "
            "updated_at",
            ((f"PB{i + 1:08d}", "", communities[int(community[i])][0], "", "beijing", "0.00",
              "0.00", 0, 0, False, "0.00", "0.00", stamp, stamp) for i in range(size)),
        )  # fmt: skip
        households = _ids("registry_household")
        timings["households_s"] = time.perf_counter() - started

        started = time.perf_counter()

        def entitlements() -> Iterator[tuple[Any, ...]]:
            for i in range(size):
                k = int(kind[i])
                if k == 1:  # decided now, back-dated two months
                    start, settled, dirty, amount_from = prev2, prev3, None, prev2
                elif k == 2:  # amount changed from two months back
                    start, settled, dirty, amount_from = months[int(start_offset[i])], prev, prev2, prev2  # fmt: skip
                else:
                    start = months[int(start_offset[i])]
                    settled, dirty, amount_from = prev, None, start
                token, masked = pool[int(account[i])]
                cid, path = communities[int(community[i])]
                yield (households[i], None, names[int(programme[i])], None, cid, path,
                       money(int(new_fen[i])), str(amount_from), False, str(start), None,
                       "active", "", BANK_CODES[int(bank[i])], token, masked,
                       NAMES[int(holder[i])], None, "stable", None, str(settled),
                       None if dirty is None else str(dirty), then, 0, then)  # fmt: skip

        _bulk(
            "benefits_entitlement",
            "household_id, payee_id, programme, line_id, division_id, division_path, "
            "amount, amount_from, one_off, start_month, end_month, status, status_reason, "
            "bank_code, account_encrypted, account_masked, account_name, "
            "account_changed_at, review_class, next_review_on, settled_through, "
            "dirty_from, changed_at, version, created_at",
            entitlements(),
        )
        ents = _ids("benefits_entitlement")
        timings["entitlements_s"] = time.perf_counter() - started

        started = time.perf_counter()

        def amounts() -> Iterator[tuple[Any, ...]]:
            for i in range(size):
                k = int(kind[i])
                if k == 1:
                    yield (str(prev2), money(int(fen[i])), "批准（追溯）", then, ents[i])
                    continue
                start = str(months[int(start_offset[i])])
                yield (start, money(int(fen[i])), "批准", then, ents[i])
                if k == 2:
                    yield (str(prev2), money(int(new_fen[i])), "调整", then, ents[i])

        _bulk("benefits_entitlementamount", "from_month, amount, cause, created_at, entitlement_id",
              amounts())  # fmt: skip
        timings["amounts_s"] = time.perf_counter() - started

        started = time.perf_counter()
        preparer = User.objects.get(username=PREPARER)
        approver = User.objects.get(username=APPROVER)
        district = Division.objects.get(code=DISTRICT)
        runs = {}
        for month in (prev2, prev):
            runs[month] = PayrollRun.objects.create(
                number=f"FF{DISTRICT}-{month:%Y%m}-01", period=month, division=district,
                division_path=district.path, status=PayrollStatus.RECONCILED,
                prepared_by=preparer, approved_by=approver, approved_at=now,
                approval_reason="同意", started_at=now, computed_at=now,
            )  # fmt: skip

        def payments() -> Iterator[tuple[Any, ...]]:
            for month, run in runs.items():
                for i in range(size):
                    k = int(kind[i])
                    if k == 1 or (k == 0 and month != prev):
                        continue
                    ref = f"{run.number}-{ents[i]}"
                    yield (names[int(programme[i])], str(month), "regular", money(int(fen[i])),
                           communities[int(community[i])][1], "paid", ref, ref, False, "", "",
                           then, then, None, ents[i], households[i], None, run.pk)  # fmt: skip

        paid = _bulk(
            "benefits_payment",
            "programme, period, kind, amount, division_path, status, reference, "
            "transfer_ref, reissue_ready, failure_code, failure_reason, settled_at, "
            "created_at, batch_id, entitlement_id, household_id, reissue_of_id, run_id",
            payments(),
        )
        timings["payments_s"] = time.perf_counter() - started

    # What the payroll must produce, line by line (``compute``'s rule, worked by hand).
    for i in range(size):
        k = int(kind[i])
        new = int(new_fen[i])
        if k == 0:
            expected["steady"] += 1
            expected["lines"] += 1
            expected["fen"] += new
        elif k == 1:
            expected["arrears"] += 1
            expected["lines"] += 3
            expected["fen"] += 3 * new
        else:
            expected["adjust_down" if new < fen[i] else "adjust_up"] += 1
            expected["lines"] += 3
            expected["fen"] += new + 2 * (new - int(fen[i]))
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    timings["analyze_s"] = time.perf_counter() - started
    return {"timings": timings, "expected": expected, "households": len(households),
            "entitlements": len(ents), "payments_before": paid,
            "communities": len(communities)}  # fmt: skip


# ---------------------------------------------------------------- measuring (child side)


class _Queries:
    """Counts SQL statements and the time spent inside ``cursor.execute``."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.by_sql: dict[str, list[float]] = {}

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool,
                 context: dict[str, Any]) -> Any:  # fmt: skip
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            self.count += 1
            self.seconds += took
            row = self.by_sql.setdefault(" ".join(sql.split())[:160], [0, 0.0])
            row[0] += 1
            row[1] += took

    def slowest(self, n: int = 4) -> list[tuple[str, int, float]]:
        top = sorted(self.by_sql.items(), key=lambda kv: -kv[1][1])[:n]
        return [(sql, int(k), s) for sql, (k, s) in top]


def return_file(content: bytes, share: float, seed: int = SEED) -> tuple[bytes, int, Decimal]:
    """The bank's answer to ``content``: every transfer paid except ~``share`` of them
    (four failure reasons); also the number and total of the failures."""
    import numpy as np

    rows = content.decode("utf-8").rstrip("\n").split("\n")
    head = rows[0].split(",")
    details = [r.split(",") for r in rows[1:-1]]
    rng = np.random.default_rng(seed + 1)
    failing = set(rng.choice(len(details), round(len(details) * share), replace=False).tolist())
    out = [f"H,{head[1]},{head[3]},{head[4]}"]
    failed_total = Decimal("0.00")
    for k, d in enumerate(details):
        if k in failing:
            code, message = FAILURES[k % len(FAILURES)]
            failed_total += Decimal(d[6])
        else:
            code, message = "00", "成功"
        out.append(f"D,{d[2]},{d[6]},{code},{message}")
    out.append(f"T,{head[3]},{head[4]}")
    return ("\n".join(out) + "\n").encode("utf-8"), len(failing), failed_total


def measure(period: date, backend: str, profile: bool) -> dict[str, Any]:
    from django.db import connection

    from minzheng.accounts.models import User
    from minzheng.benefits import bankfiles, payroll
    from minzheng.benefits.models import Payment, PaymentStatus

    preparer = User.objects.select_related("division").get(username=PREPARER)
    approver = User.objects.select_related("division").get(username=APPROVER)
    steps: dict[str, dict[str, Any]] = {}

    @contextmanager
    def step(name: str) -> Iterator[None]:
        import cProfile
        import pstats

        reset_peak()
        queries = _Queries()
        profiler = cProfile.Profile() if profile else None
        err.print(f"[dim]  {name} …[/dim]")
        started = time.perf_counter()
        with connection.execute_wrapper(queries):
            if profiler is not None:
                profiler.enable()
            try:
                yield
            finally:
                if profiler is not None:
                    profiler.disable()
        seconds = time.perf_counter() - started
        steps[name] = {"seconds": seconds, "peak_mib": memory_mib()["hwm"],
                       "queries": queries.count, "sql_s": queries.seconds,
                       "slowest": queries.slowest()}  # fmt: skip
        err.print(f"[dim]  {name}: {seconds:.2f} s, {queries.count} statements "
                  f"({queries.seconds:.2f} s in execute)[/dim]")  # fmt: skip
        for sql, k, s in queries.slowest():
            err.print(f"[dim]    {s:6.2f} s ×{k:<5} {sql}[/dim]", highlight=False, soft_wrap=True)
        if profiler is not None:
            path = BENCH_DIR / f"payroll-{backend}-{name}.prof"
            profiler.dump_stats(path)
            stats = pstats.Stats(str(path), stream=sys.stderr)
            stats.sort_stats("cumulative").print_stats(25)
            stats.sort_stats("tottime").print_stats(15)

    result: dict[str, Any] = {"load_average": os.getloadavg()[0]}
    with step("create"):
        run = payroll.payroll_create(actor=preparer, period=f"{period:%Y-%m}")
    with step("execute"):
        run = payroll.payroll_execute(run.pk)
    result["run"] = {"number": run.number, "status": run.status, "total": run.total,
                     "lines": run.line_count, "amount": str(run.line_amount),
                     "held": len(run.held)}  # fmt: skip
    with step("approve"):
        run = payroll.payroll_approve(actor=approver, run_id=run.pk, reason="同意发放")
    result["payments"] = Payment.objects.filter(run=run).count()
    with step("export"):
        batch = bankfiles.bank_file_export(actor=preparer, run_id=run.pk)
    result["batch"] = {"rows": batch.row_count, "total": str(batch.control_total),
                       "sent": Payment.objects.filter(run=run, status=PaymentStatus.SENT).count()}  # fmt: skip
    _, content = bankfiles.bank_file_content(actor=preparer, run_id=run.pk)
    returned, failures, failed_total = return_file(content, FAIL_SHARE)
    result["return"] = {"lines": returned.count(b"\n") - 2, "bytes": len(returned),
                        "failures": failures, "failed_total": str(failed_total)}  # fmt: skip
    with step("return_import"):
        rec = bankfiles.bank_return_import(actor=preparer, run_id=run.pk, content=returned)
    run.refresh_from_db()
    with step("reconciliation"):
        again = bankfiles.reconciliation(run)
    result["reconciliation"] = {
        "balanced": rec["balanced"] and again["balanced"],
        "approved": str(rec["approved"]), "failed": str(rec["failed"]), "paid": str(rec["paid"]),
        "failed_count": rec["bank"]["failed_count"], "failed_total": str(rec["bank"]["failed_total"]),
        "payments": rec["payments"], "programmes": len(rec["programmes"]),
        "same": again["approved"] == rec["approved"] and again["failed"] == rec["failed"],
    }  # fmt: skip
    result["steps"] = steps
    result["load_average_after"] = os.getloadavg()[0]
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def child(mode: str, database_url: str, size: int, period: date | None, backend: str,
          out: Path, profile: bool) -> None:  # fmt: skip
    _django(database_url, BENCH_DIR / f"payroll-media-{backend}")
    from django.core.management import call_command

    from minzheng.applications import clock
    from minzheng.core.periods import month_of

    result: dict[str, Any] = {}
    if mode == "load":
        period = month_of(clock.today())  # this month's payroll
        result["period"] = period.isoformat()
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        result["migrate_s"] = time.perf_counter() - started
        err.print(f"[dim]  migrated in {result['migrate_s']:.1f} s; loading {size:,} "
                  "entitlements …[/dim]")  # fmt: skip
        started = time.perf_counter()
        result["load"] = load(size, period)
        result["load_s"] = time.perf_counter() - started
        result["load_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        err.print(f"[dim]  loaded in {result['load_s']:.1f} s ("
                  + ", ".join(f"{k} {v:.1f}" for k, v in result["load"]["timings"].items())
                  + ")[/dim]")  # fmt: skip
    else:
        assert period is not None
        result = measure(period, backend, profile)
    out.write_text(json.dumps(result, ensure_ascii=False, default=str))


def _run_child(mode: str, database_url: str, size: int, period: date | None, backend: str,
               profile: bool) -> dict[str, Any]:  # fmt: skip
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    cmd = [sys.executable, "-m", "benchmarks.bench_payroll", "--child", mode, "--url",
           database_url, "--size", str(size), "--backend", backend, "--out", str(out)]  # fmt: skip
    if period is not None:
        cmd += ["--period", period.isoformat()]
    if profile:
        cmd.append("--profile")
    try:
        proc = subprocess.run(cmd, cwd=ROOT, check=False)
        if proc.returncode != 0 or not out.stat().st_size:
            return {"crashed": f"{mode} child exited with {proc.returncode}"}
        data: dict[str, Any] = json.loads(out.read_text())
        return data
    finally:
        out.unlink(missing_ok=True)


# ---------------------------------------------------------------- the table (parent side)

STEPS = (
    ("payroll", "payroll: compute (create + execute)", f"< {TARGET_PAYROLL_S:.0f} s"),
    ("approve", "payroll: approve → payments", "—"),
    ("export", "payroll: bank file export", "—"),
    ("return_import", "payroll: bank return import + reconciliation", f"< {TARGET_RETURN_S:.0f} s"),
    ("reconciliation", "payroll: reconciliation report", "—"),
)


def _problem_rows(backend: str, size: int, status: str, note: str) -> list[dict[str, Any]]:
    return [{"name": label, "size": f"{backend}, {size:,} entitlements", "figure": "—",
             "target": target, "passed": None, "status": status, "note": note}
            for _key, label, target in STEPS]  # fmt: skip


def _rows(backend: str, size: int, loaded: dict[str, Any], data: dict[str, Any]) -> list[dict[str, Any]]:  # fmt: skip
    expected = loaded["load"]["expected"]
    steps = data["steps"]
    steps["payroll"] = {
        "seconds": steps["create"]["seconds"] + steps["execute"]["seconds"],
        "peak_mib": max(steps["create"]["peak_mib"], steps["execute"]["peak_mib"]),
        "queries": steps["create"]["queries"] + steps["execute"]["queries"],
        "sql_s": steps["create"]["sql_s"] + steps["execute"]["sql_s"],
    }
    run = data["run"]
    rec = data["reconciliation"]
    ret = data["return"]
    want_amount = Decimal(expected["fen"]) / 100
    lines_ok = run["lines"] == expected["lines"] and Decimal(run["amount"]) == want_amount
    payments_ok = data["payments"] == run["lines"]
    return_ok = (
        rec["balanced"]
        and rec["same"]
        and rec["failed_count"] == ret["failures"]
        and Decimal(rec["failed_total"]) == Decimal(ret["failed_total"])
        and Decimal(rec["paid"]) == Decimal(rec["approved"]) - Decimal(rec["failed"])
    )
    slow = expected["arrears"] + expected["adjust_up"] + expected["adjust_down"]
    figures = {
        "payroll": (run["lines"], "lines", lines_ok,
                    f"{run['lines']:,} lines, {Decimal(run['amount']):,.2f} yuan (expected "
                    f"{expected['lines']:,}, {want_amount:,.2f}); {slow:,} on the slow path "
                    f"({expected['arrears']:,} back-dated, {expected['adjust_up']:,} up, "
                    f"{expected['adjust_down']:,} down); create "
                    f"{steps['create']['seconds']:.2f} s"),
        "approve": (data["payments"], "payments", payments_ok,
                    f"{data['payments']:,} payments written ({loaded['load']['payments_before']:,} "
                    f"already in the table)"),
        "export": (data["batch"]["rows"], "transfers", data["batch"]["rows"] > 0,
                   f"{data['batch']['rows']:,} transfers, control total "
                   f"{Decimal(data['batch']['total']):,.2f}; {data['batch']['sent']:,} payments "
                   "marked sent"),
        "return_import": (ret["lines"], "return lines", return_ok,
                          f"{ret['lines']:,} lines ({ret['bytes'] / 2**20:.0f} MiB), "
                          f"{ret['failures']:,} failed ({Decimal(ret['failed_total']):,.2f}); "
                          f"balanced {rec['balanced']}"),
        "reconciliation": (rec["payments"], "payments", rec["same"],
                           f"{rec['programmes']} programmes, paid {Decimal(rec['paid']):,.2f}"),
    }  # fmt: skip
    setup = (
        f"set-up (not timed{', reused from an earlier run' if loaded.get('reused') else ''}) "
        f"{loaded['migrate_s'] + loaded['load_s']:.0f} s: "
        + ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in loaded["load"]["timings"].items())
        + f"; load average {data['load_average']:.1f} before, {data['load_average_after']:.1f} "
        f"after; process peak RSS {data['peak_mib']:,.0f} MiB"
    )  # fmt: skip
    rows: list[dict[str, Any]] = []
    for key, label, target in STEPS:
        s = steps[key]
        count, unit, ok, what = figures[key]
        seconds = float(s["seconds"])
        limit = {"payroll": TARGET_PAYROLL_S, "return_import": TARGET_RETURN_S}.get(key)
        note = (f"{what}; {s['queries']:,} SQL statements ({s['sql_s']:.1f} s in execute); "
                f"peak RSS {s['peak_mib']:,.0f} MiB")  # fmt: skip
        if not ok:
            note += "; WRONG RESULT"
        if key == "payroll":
            note += f"; {setup}"
        rows.append(
            {
                "name": label,
                "size": f"{backend}, {size:,} entitlements",
                "figure": f"{seconds:.2f} s ({count / seconds:,.0f} {unit}/s)",
                "target": target,
                "passed": ok and (limit is None or seconds < limit),
                "status": "",
                "note": note,
                "seconds": seconds,
                "rows": count,
                "peak_mib": s["peak_mib"],
            }
        )
    return rows


def _snapshot(database: str, url: str, n: int) -> tuple[Path, Any]:
    """Where ``--reuse`` keeps a loaded database: its set-up JSON and the copy (a file for
    SQLite, a database name for PostgreSQL). The copy keeps the month it was loaded for."""
    meta = BENCH_DIR / f"payroll-{database}-{n}.loaded.json"
    if database == "sqlite":
        return meta, BENCH_DIR / f"payroll-{n}.loaded.sqlite3"
    return meta, f"{url.rsplit('/', 1)[-1].split('?', 1)[0]}_loaded"


def _copy_database(database: str, url: str, source: Any, target: Any) -> None:
    """A loaded database copied whole: a file copy (SQLite) or ``CREATE DATABASE …
    TEMPLATE`` (PostgreSQL; ``source`` and ``target`` are database names)."""
    if database == "sqlite":  # the backup API, so that whatever sits in the WAL comes too
        import sqlite3

        fresh_sqlite(Path(target))
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, dbname="postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target))
        )
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(target),
                                                                      sql.Identifier(source)))  # fmt: skip


def run(quick: bool = False, databases: tuple[str, ...] = DATABASES, size: int | None = None,
        profile: bool = False, reuse: bool = False) -> list[dict[str, Any]]:  # fmt: skip
    n = size or (QUICK_SIZE if quick else SIZE)
    small = n < SIZE
    rows: list[dict[str, Any]] = []
    for database in databases:
        if database == "sqlite":
            backend = "SQLite"
            url = fresh_sqlite(BENCH_DIR / f"payroll{'-quick' if small else ''}.sqlite3")
            name: Any = Path(url.removeprefix("sqlite:///"))
        else:
            backend = "PostgreSQL"
            url = postgres_url(small)
            why = postgres_reachable(url)
            if why is not None:
                rows += _problem_rows(backend, n, "SKIP", f"PostgreSQL unreachable: {why}")
                continue
            recreate_postgres(url)
            name = url.rsplit("/", 1)[-1].split("?", 1)[0]
        err.print(f"[bold]payroll[/bold] {n:,} entitlements in {backend}")
        meta, kept = _snapshot(database, url, n)
        loaded: dict[str, Any] = json.loads(meta.read_text()) if reuse and meta.exists() else {}
        if loaded:
            err.print(f"[dim]  reusing the loaded database {kept}[/dim]")
            _copy_database(database, url, kept, name)
            loaded["reused"] = True
        else:
            loaded = _run_child("load", url, n, None, database, profile)
            if reuse and "crashed" not in loaded:
                _copy_database(database, url, name, kept)
                meta.write_text(json.dumps(loaded, ensure_ascii=False))
        data = loaded
        if "crashed" not in loaded:
            period = date.fromisoformat(loaded["period"])
            data = _run_child("measure", url, n, period, database, profile)
        if "crashed" in data:
            rows += _problem_rows(backend, n, "ERROR", data["crashed"])
            continue
        rows += _rows(backend, n, loaded, data)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_SIZE:,} entitlements (also BENCH_QUICK=1)")  # fmt: skip
    parser.add_argument("--size", type=int, help=f"entitlements (default {SIZE:,})")
    parser.add_argument(
        "--database", choices=DATABASES, action="append", help="only this one (repeatable)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile each timed step")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the loaded database and reuse it next time (same size, month)")  # fmt: skip
    parser.add_argument("--child", choices=("load", "measure"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--period", type=date.fromisoformat, help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.url, args.size, args.period, args.backend, args.out, args.profile)
        return 0
    from benchmarks.__main__ import render

    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in {"", "0"}
    rows = run(quick, tuple(args.database or DATABASES), args.size, args.profile, args.reuse)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    console.print(render(rows, f"Minzheng payroll benchmark{' (quick)' if quick else ''}"))
    return 1 if any(r["status"] == "ERROR" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
