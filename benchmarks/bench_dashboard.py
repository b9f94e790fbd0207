"""Dashboards on the 1 M-household synthetic registry: opened in under 1 s (p95), from
aggregates cached by a background job and shown with their "as of" time.

Each run builds a fresh database (not timed, its duration reported): ``migrate``, the demo
divisions (``minzheng.demo.services.demo_divisions``: Xicheng 110102, its 15 real streets
and 76 synthetic communities), then everything generated inside PostgreSQL with
``INSERT … SELECT … FROM generate_series`` (``setseed(0)``, no rows built in Python):

- 1,000,000 households spread over the communities (community sizes drawn log-normal),
  raw rows with every money column 0 (no history rows);
- 8 % of them with a live entitlement — dibao (50 %), low-income (20 %) or age allowance
  (30 %), 2 % of them suspended this month — and its ``regular``, ``paid`` payment for
  each of the 24 months of the dashboard's window (~1.9 M payments; none this month for
  the suspended ones) under one reconciled district payroll run per month;
- 2 % with an open application (one line, in a state its programme's route can be in,
  weighted as in ``bench_inbox``; step deadline within ±30 days of today, a quarter
  overdue) and another 2 % with one decided in the last year (approved 75 %, rejected
  25 %), each applicant household with a head (and a spouse, a child, sometimes a
  disability) so that the poverty-index figure has members to score;
- ~5 % with a proactive-discovery item under one discovery run: open, dismissed or
  resolved, and a converted one for a quarter of the open application lines;
- no verification discrepancies (that figure stays empty); then ``VACUUM ANALYZE`` (as
  autovacuum would leave the tables).

Timed, in a second process with Django on that database (so that the figures and peak
memory are its own):

1. ``reports.aggregates.refresh(district)`` — the background job that computes every
   division's dashboard (one ``GROUP BY`` per figure at the community grain, then Polars)
   and writes the ``reports.Aggregate`` rows: best of 2, with its peak RSS (VmHWM, reset
   before each run), its SQL statements (count, time inside ``cursor.execute``) and the
   time of each figure. It has no target: it is the cost of the background job, not of
   opening a page. The slowest statements' plans (``EXPLAIN (ANALYZE, BUFFERS)``) go to
   ``var/bench/dashboard-plans[-quick].txt``.
2. Opening the cached dashboard: ``GET /reports/?division=CODE`` through
   ``django.test.Client`` logged in as a district approver, for the district, a street
   and a community — 20 timed requests each after 2 warm-ups; p50, p95 and max in ms
   (target: p95 < 1,000 ms).
3. The same through ``GET /api/v1/dashboards?division=CODE`` with a Bearer token.

The district's cached figures are checked against counts taken in SQL at set-up
(recipients, households, open and overdue lines, decisions, discovery items, this month's
paid households, the poverty-index population), so that a fast wrong answer fails.

Not measured: a refresh triggered by a request (the page shows the cache and refreshes
in the background when it is older than 30 minutes), the drill-down lists, the browser's
rendering of the charts.

Database: on the PostgreSQL server of ``BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/minzheng_bench``) the database of that name suffixed
``_dashboard`` (``_dashboard_quick``), dropped and created again each run. Without a
reachable PostgreSQL the rows are SKIP.

    python -m benchmarks.bench_dashboard [--quick] [--size N]

``--quick`` (or ``BENCH_QUICK=1``): 20,000 households (every share above the same).
``--size N``: N households.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks.bench_inbox import (
    PROGRAMME_WEIGHTS,
    STATE_WEIGHTS,
    bench_database_url,
    postgres_reachable,
    recreate_postgres,
)
from benchmarks.bench_rules import memory_mib, reset_peak

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"
SIZE = 1_000_000
QUICK_SIZE = 20_000
SEED = 0
TARGET_MS = 1_000.0
REFRESHES = 2
REQUESTS = 20
WARMUP = 2
DISTRICT = "110102"
STREET = "110102009"  # the street of the demo community (``bench_inbox`` uses it too)
VIEWER = "bench_dashboard_approver"
PREPARER = "bench_dashboard_preparer"
PAGE_URL = "/reports/"
API_URL = "/api/v1/dashboards"
# Which households get what, by ``mod(id, …)`` (disjoint sets): 8 % recipients, 2 % with an
# open application, 2 % with a decided one, 5 % with a discovery item.
RECIPIENTS = "mod(h.id, 25) IN (0, 12)"
OPEN_APPLICANTS = "mod(h.id, 50) = 7"
DECIDED_APPLICANTS = "mod(h.id, 50) = 19"
DISCOVERED = "mod(h.id, 20) = 3"
SUSPENDED_SHARE = 0.02
OVERDUE_SHARE = 0.25
# Entitlements: programme → (share, lowest and highest monthly amount in yuan)
ENTITLEMENTS: dict[str, tuple[float, int, int]] = {
    "dibao": (0.5, 200, 1_450),
    "low_income": (0.2, 100, 700),
    "age_allowance": (0.3, 100, 800),
}
# Discovery items: programme → share; and status → share (converted ones come from the
# open application lines instead)
DISCOVERY_PROGRAMMES: dict[str, float] = {
    "dibao": 0.4,
    "low_income": 0.2,
    "temporary_assistance": 0.15,
    "age_allowance": 0.15,
    "education_assistance": 0.1,
}
DISCOVERY_STATUSES: dict[str, float] = {"open": 0.65, "dismissed": 0.25, "resolved": 0.10}
CONVERTED_SHARE = 0.25  # of the open application lines
NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周杰", "吴霞")
PLANS = 3  # the refresh's slowest statements whose plans are written

err = Console(stderr=True)


# ---------------------------------------------------------------- databases (parent side)


def postgres_url(quick: bool) -> str:
    return bench_database_url("dashboard", quick)


def _django(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "minzheng.config.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["MINZHENG_DEBUG"] = "0"  # no query log in the timed code
    import django

    django.setup()


# ---------------------------------------------------------------- loading (child side)


def _cumulative(shares: list[float]) -> list[float]:
    """Lower bounds for ``width_bucket(random(), bounds)`` (1-based bucket = choice)."""
    total = sum(shares)
    bounds, acc = [], 0.0
    for s in shares:
        bounds.append(acc / total)
        acc += s
    return bounds


def _line_combos() -> list[tuple[str, str, str, str, str, str, str, float]]:
    """(programme, route, department, state, waiting role, unit, returned_from, weight)
    of every open state each programme's route can be in."""
    from minzheng.applications import workflow
    from minzheng.programmes.eligibility import programme_labels

    labels = programme_labels()
    out = []
    for pid, pw in PROGRAMME_WEIGHTS.items():
        route, department = workflow.route_of(pid)
        table = STATE_WEIGHTS[route]
        returnable = [s.state.value for s in workflow.steps_of(route) if s.can_return]
        for state, sw in table.items():
            returned = returnable[0] if state == "returned" and returnable else ""
            out.append((pid, route, department, state, workflow.waiting_role(state),
                        labels[pid][2], returned, pw * sw / sum(table.values())))  # fmt: skip
    return out


def load(size: int, today: date) -> dict[str, Any]:
    """Divisions, users and every generated table; the figures the dashboard must show."""
    import numpy as np
    from django.db import connection, transaction

    from minzheng.accounts.models import User
    from minzheng.accounts.roles import Role
    from minzheng.accounts.services import user_create
    from minzheng.demo.services import demo_divisions
    from minzheng.programmes.eligibility import programme_labels
    from minzheng.registry.models import Division, DivisionLevel
    from minzheng.reports import aggregates

    timings: dict[str, float] = {}
    started = time.perf_counter()
    demo_divisions(SEED)
    for username in (VIEWER, PREPARER):
        user_create(username=username, role=Role.DISTRICT_APPROVER, division_code=DISTRICT)
    viewer = User.objects.get(username=VIEWER).pk
    preparer = User.objects.get(username=PREPARER).pk
    district = Division.objects.get(code=DISTRICT)
    communities = list(
        Division.objects.filter(level=DivisionLevel.COMMUNITY, path__startswith=district.path)
        .order_by("code")
        .values_list("pk", flat=True)
    )
    # community sizes vary (log-normal), so that the map has something to show
    weights = np.random.default_rng(SEED).lognormal(0.0, 0.5, len(communities))
    months = aggregates._months(today)  # the dashboard's window, this month last
    labels = programme_labels()
    combos = _line_combos()
    timings["divisions_s"] = time.perf_counter() - started

    def run(key: str, sql: str, params: dict[str, Any] | None = None) -> int:
        began = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(sql, params)
            n = cur.rowcount
        timings[f"{key}_s"] = timings.get(f"{key}_s", 0.0) + time.perf_counter() - began
        err.print(f"[dim]    {key}: {n:,} rows in {time.perf_counter() - began:.1f} s[/dim]")
        return int(n)

    counts: dict[str, int] = {}
    p: dict[str, Any] = {"today": today, "first": months[0], "current": months[-1], "district": district.pk,
         "path": district.path, "viewer": viewer, "preparer": preparer, "size": size}  # fmt: skip
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")
            cur.execute("SET LOCAL work_mem = '64MB'")
            cur.execute("SELECT setseed(%s)", [SEED / 1000])
        counts["households"] = run("households", """
            INSERT INTO registry_household (number, external_id, division_id, address, hukou,
                deposits, securities, houses, vehicles, business, medical_monthly,
                education_monthly, created_at, updated_at)
            SELECT 'DB' || lpad(g::text, 8, '0'), '',
                   (%(communities)s::bigint[])[width_bucket(random(), %(bounds)s::float8[])],
                   '', CASE WHEN random() < 0.08 THEN 'other' ELSE 'beijing' END,
                   0, 0, 0, 0, false, 0, 0, now(), now()
            FROM generate_series(1, %(size)s) g
        """, {**p, "communities": communities, "bounds": _cumulative(weights.tolist())})  # fmt: skip

        names = list(ENTITLEMENTS)
        counts["entitlements"] = run("entitlements", f"""
            INSERT INTO benefits_entitlement (household_id, payee_id, programme, line_id,
                division_id, division_path, amount, amount_from, one_off, start_month,
                end_month, status, status_reason, bank_code, account_encrypted, account_masked,
                account_name, account_changed_at, review_class, next_review_on,
                settled_through, dirty_from, changed_at, version, created_at)
            SELECT x.id, NULL, (%(names)s::text[])[x.k], NULL, x.division_id, d.path,
                   (%(los)s::int[])[x.k]
                   + floor(x.r2 * ((%(his)s::int[])[x.k] - (%(los)s::int[])[x.k] + 1)),
                   x.start, false, x.start, NULL,
                   CASE WHEN x.r3 < %(suspended)s THEN 'suspended' ELSE 'active' END, '',
                   '102', '', '', '', NULL, 'stable', NULL, %(current)s, NULL, now(), 0, now()
            FROM (
                SELECT h.id, h.division_id, random() AS r2, random() AS r3,
                       width_bucket(random(), %(bounds)s::float8[]) AS k,
                       (%(first)s::date
                        - make_interval(months => floor(random() * 60)::int))::date AS start
                FROM registry_household h
                WHERE {RECIPIENTS}
            ) x JOIN registry_division d ON d.id = x.division_id
        """, {**p, "suspended": SUSPENDED_SHARE, "names": names,
              "los": [v[1] for v in ENTITLEMENTS.values()],
              "his": [v[2] for v in ENTITLEMENTS.values()],
              "bounds": _cumulative([v[0] for v in ENTITLEMENTS.values()])})  # fmt: skip

        counts["runs"] = run("payroll_runs", """
            INSERT INTO benefits_payrollrun (number, period, division_id, division_path, status,
                approved_at, approval_reason, started_at, computed_at, heartbeat, cursor,
                scope_max_id, total, done, line_count, line_amount, carry, held, error,
                created_at, approved_by_id, prepared_by_id)
            SELECT 'FF110102-' || to_char(m, 'YYYYMM') || '-01', m, %(district)s, %(path)s,
                   'reconciled', least(now(), m + interval '5 days'), '同意',
                   least(now(), m + interval '4 days'), least(now(), m + interval '4 days'),
                   NULL, 0, 0, 0, 0, 0, 0, '{}'::jsonb, '[]'::jsonb, '',
                   least(now(), m + interval '4 days'), %(viewer)s, %(preparer)s
            FROM unnest(%(months)s::date[]) m
        """, {**p, "months": months})  # fmt: skip

        counts["payments"] = run("payments", """
            INSERT INTO benefits_payment (programme, period, kind, amount, division_path, status,
                reference, transfer_ref, reissue_ready, failure_code, failure_reason,
                settled_at, created_at, batch_id, entitlement_id, household_id, reissue_of_id,
                run_id)
            SELECT e.programme, r.period, 'regular', e.amount, e.division_path, 'paid',
                   r.number || '-' || e.id, r.number || '-' || e.id, false, '', '',
                   r.approved_at, r.approved_at, NULL, e.id, e.household_id, NULL, r.id
            FROM benefits_payrollrun r JOIN benefits_entitlement e ON e.start_month <= r.period
            WHERE NOT (e.status = 'suspended' AND r.period = %(current)s)
            ORDER BY r.id, e.id
        """, p)  # fmt: skip
        run("payroll_runs", """
            UPDATE benefits_payrollrun r SET total = s.n, done = s.n, line_count = s.n,
                   line_amount = s.amount, scope_max_id = s.top, cursor = s.top
            FROM (SELECT run_id, count(*) AS n, sum(amount) AS amount,
                         max(entitlement_id) AS top
                  FROM benefits_payment GROUP BY run_id) s
            WHERE s.run_id = r.id
        """)  # fmt: skip

        counts["persons"] = run("applications", f"""
            INSERT INTO registry_person (external_id, name, id_number_encrypted, id_number_hash,
                id_number_masked, birth_date, sex, relation, phone, disability_kind,
                disability_grade, health, employment, schooling, statuses, state, created_at,
                updated_at, household_id)
            SELECT '', (%(names)s::text[])[1 + floor(random() * %(n)s)::int], '',
                   md5('bench-dashboard-' || x.id || '-' || x.k), '110102********000' || x.k,
                   CASE WHEN x.k = 2 THEN date '2000-01-01' + floor(random() * 7300)::int
                        ELSE date '1940-01-01' + floor(random() * 21900)::int END,
                   CASE WHEN random() < 0.5 THEN 'M' ELSE 'F' END,
                   (ARRAY['head', 'spouse', 'child'])[x.k + 1], '',
                   CASE WHEN x.dis THEN 'physical' ELSE '' END,
                   CASE WHEN x.dis THEN 1 + floor(random() * 4)::int END,
                   '', '', '', '[]'::jsonb, 'active', now(), now(), x.id
            FROM (
                SELECT h.id, k, random() < 0.08 AS dis, random() AS keep
                FROM registry_household h CROSS JOIN generate_series(0, 2) k
                WHERE {OPEN_APPLICANTS} OR {DECIDED_APPLICANTS}
            ) x
            WHERE x.k = 0 OR (x.k = 1 AND x.keep < 0.7) OR (x.k = 2 AND x.keep < 0.5)
        """, {"names": list(NAMES), "n": len(NAMES)})  # fmt: skip
        counts["applications"] = run("applications", f"""
            INSERT INTO applications_application (number, channel, note, created_at,
                applicant_id, created_by_id, division_id, household_id, received_division_id)
            SELECT 'SQ' || lpad(h.id::text, 10, '0'),
                   (ARRAY['window', 'online', 'cross_region'])[width_bucket(random(), ARRAY[0, 0.7, 0.95]::float8[])],
                   '',
                   CASE WHEN {OPEN_APPLICANTS}
                        THEN now() - make_interval(days => floor(random() * 60)::int)
                        ELSE now() - make_interval(days => 70 + floor(random() * 290)::int) END,
                   p.id, %(preparer)s, h.division_id, h.id, NULL
            FROM registry_household h
            JOIN registry_person p ON p.household_id = h.id AND p.relation = 'head'
            WHERE {OPEN_APPLICANTS} OR {DECIDED_APPLICANTS}
        """, p)  # fmt: skip
        with connection.cursor() as cur:
            cur.execute("""CREATE TEMP TABLE bench_combo (k int, programme text, route text,
                               department text, state text, waiting_role text, unit text,
                               returned_from text) ON COMMIT DROP""")  # fmt: skip
            cur.executemany(
                "INSERT INTO bench_combo VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [(k + 1, *c[:7]) for k, c in enumerate(combos)],
            )
        line_columns = """programme, division_path, route, department, state, waiting_role,
            step_entered_on, step_due, returned_from, requested, suggested, estimated_amount,
            proposed_amount, unit, notice_starts_on, notice_ends_on, amount, start_month,
            decision_reason, decided_at, version, updated_at, application_id, household_id"""
        combo = {"bounds": _cumulative([c[7] for c in combos])}
        counts["open_lines"] = run("applications", f"""
            INSERT INTO applications_applicationline ({line_columns})
            SELECT c.programme, x.path, c.route, c.department, c.state, c.waiting_role,
                   least(%(today)s::date, x.due - (3 + floor(x.r3 * 13)::int)), x.due,
                   c.returned_from, x.r4 > 0.15, x.r4 <= 0.15, x.estimated,
                   CASE WHEN c.route = 'full' AND c.state NOT IN
                             ('submitted', 'investigation', 'verification', 'referred')
                        THEN x.estimated END,
                   c.unit,
                   CASE WHEN c.state = 'public_notice'
                        THEN least(%(today)s::date, x.due - (3 + floor(x.r3 * 13)::int)) END,
                   CASE WHEN c.state = 'public_notice'
                        THEN least(%(today)s::date, x.due - (3 + floor(x.r3 * 13)::int)) + 6 END,
                   NULL, NULL, '', NULL, 0, now(), x.id, x.household_id
            FROM (
                SELECT a.id, a.household_id, d.path, random() AS r3, random() AS r4,
                       round((300 + random() * 2700)::numeric, 2) AS estimated,
                       width_bucket(random(), %(bounds)s::float8[]) AS k,
                       %(today)s::date + CASE WHEN random() < %(overdue)s
                                              THEN -1 - floor(random() * 30)::int
                                              ELSE floor(random() * 31)::int END AS due
                FROM applications_application a
                JOIN registry_household h ON h.id = a.household_id
                JOIN registry_division d ON d.id = a.division_id
                WHERE {OPEN_APPLICANTS}
            ) x JOIN bench_combo c ON c.k = x.k
        """, {**p, **combo, "overdue": OVERDUE_SHARE})  # fmt: skip
        counts["decided_lines"] = run("applications", f"""
            INSERT INTO applications_applicationline ({line_columns})
            SELECT c.programme, x.path, c.route, c.department, x.state, '', x.decided::date,
                   NULL, '', true, false, x.amount, x.amount, c.unit, NULL, NULL,
                   CASE WHEN x.state = 'approved' THEN x.amount END,
                   CASE WHEN x.state = 'approved'
                        THEN date_trunc('month', x.decided)::date END,
                   CASE WHEN x.state = 'approved' THEN '符合条件，同意' ELSE '不符合条件' END,
                   x.decided, 0, x.decided, x.id, x.household_id
            FROM (
                SELECT a.id, a.household_id, d.path,
                       CASE WHEN random() < 0.75 THEN 'approved' ELSE 'rejected' END AS state,
                       round((300 + random() * 2700)::numeric, 2) AS amount,
                       least(now(), a.created_at
                             + make_interval(days => 5 + floor(random() * 56)::int)) AS decided,
                       width_bucket(random(), %(bounds)s::float8[]) AS k
                FROM applications_application a
                JOIN registry_household h ON h.id = a.household_id
                JOIN registry_division d ON d.id = a.division_id
                WHERE {DECIDED_APPLICANTS}
            ) x JOIN bench_combo c ON c.k = x.k
        """, {**p, **combo})  # fmt: skip

        with connection.cursor() as cur:
            cur.execute("""
                INSERT INTO casework_discoveryrun (as_of, status, households, eligible,
                    receiving, applied, dismissed_unchanged, new_items, refreshed_items,
                    resolved_items, seconds, error, started_at, finished_at, created_by_id,
                    division_id)
                VALUES (%(today)s, 'done', %(size)s, 0, 0, 0, 0, 0, 0, 0, 0, '', now(), now(),
                        NULL, %(district)s)
                RETURNING id
            """, p)  # fmt: skip
            discovery_run = cur.fetchone()[0]
        programmes = list(DISCOVERY_PROGRAMMES)
        statuses = list(DISCOVERY_STATUSES)
        counts["discovery_items"] = run("discovery", f"""
            INSERT INTO casework_discoveryitem (division_path, programme, amount, unit, reasons,
                facts, status, found_on, decided_at, reason, application_id, decided_by_id,
                household_id, found_run_id, seen_run_id)
            SELECT x.path, x.programme, x.amount, x.unit, '["家庭收入低于标准"]'::jsonb,
                   x.programme || ':' || x.amount, x.status, x.found_on,
                   CASE WHEN x.status <> 'open' THEN now() END,
                   CASE WHEN x.status = 'dismissed' THEN '经核实不符合条件' ELSE '' END,
                   NULL, NULL, x.id, %(run)s, %(run)s
            FROM (
                SELECT y.*, (%(programmes)s::text[])[y.k] AS programme,
                       (%(units)s::text[])[y.k] AS unit
                FROM (
                    SELECT h.id, d.path, width_bucket(random(), %(pbounds)s::float8[]) AS k,
                           (%(statuses)s::text[])[width_bucket(random(), %(sbounds)s::float8[])] AS status,
                           round((100 + random() * 1500)::numeric, 2) AS amount,
                           %(today)s::date - floor(random() * 180)::int AS found_on,
                           random() AS keep
                    FROM registry_household h JOIN registry_division d ON d.id = h.division_id
                    WHERE {DISCOVERED}
                ) y
            ) x
            WHERE x.keep < 0.9
        """, {**p, "run": discovery_run, "programmes": programmes, "statuses": statuses,
              "units": [labels[k][2] or "元" for k in programmes],
              "pbounds": _cumulative([DISCOVERY_PROGRAMMES[k] for k in programmes]),
              "sbounds": _cumulative([DISCOVERY_STATUSES[k] for k in statuses])})  # fmt: skip
        counts["discovery_items"] += run("discovery", """
            INSERT INTO casework_discoveryitem (division_path, programme, amount, unit, reasons,
                facts, status, found_on, decided_at, reason, application_id, decided_by_id,
                household_id, found_run_id, seen_run_id)
            SELECT l.division_path, l.programme, l.estimated_amount, l.unit,
                   '["家庭收入低于标准"]'::jsonb, l.programme || ':' || l.estimated_amount,
                   'converted', a.created_at::date - 7, a.created_at, '', a.id, NULL,
                   l.household_id, %(run)s, %(run)s
            FROM applications_applicationline l
            JOIN applications_application a ON a.id = l.application_id
            WHERE l.decided_at IS NULL AND random() < %(share)s
        """, {"run": discovery_run, "share": CONVERTED_SHARE})  # fmt: skip

    # What the district's dashboard must show, counted here in SQL.
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT
              (SELECT count(*) FROM registry_household),
              (SELECT count(DISTINCT household_id) FROM benefits_entitlement
                WHERE status IN ('active', 'suspended')),
              (SELECT count(DISTINCT household_id) FROM benefits_payment
                WHERE period = %(current)s AND kind = 'regular'),
              (SELECT sum(amount)::text FROM benefits_payment WHERE period = %(current)s),
              (SELECT count(*) FROM applications_applicationline WHERE decided_at IS NULL),
              (SELECT count(*) FROM applications_applicationline
                WHERE decided_at IS NULL AND step_due < %(today)s),
              (SELECT count(*) FROM applications_applicationline
                WHERE decided_at >= now() - interval '365 days'),
              (SELECT count(*) FROM casework_discoveryitem),
              (SELECT count(DISTINCT household_id) FROM applications_applicationline
                WHERE decided_at IS NULL),
              (SELECT count(*) FROM registry_person)
            """,
            p,
        )
        row = cur.fetchone()
    keys = ("households", "recipients", "paid_this_month", "amount_this_month", "open_lines",
            "overdue", "decided", "discovery_items", "poverty_households", "persons")  # fmt: skip
    expected = dict(zip(keys, row, strict=True))
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    timings["analyze_s"] = time.perf_counter() - started
    return {"timings": timings, "counts": counts, "expected": expected,
            "communities": len(communities), "months": [m.isoformat() for m in months]}  # fmt: skip


# ---------------------------------------------------------------- measuring (child side)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class _Statements:
    """Counts SQL statements, the time inside ``cursor.execute`` and keeps the slowest
    (with their parameters, for ``EXPLAIN``)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.slowest: list[tuple[float, str, Any]] = []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool,
                 context: dict[str, Any]) -> Any:  # fmt: skip
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            self.count += 1
            self.seconds += took
            if not many:
                self.slowest = sorted([*self.slowest, (took, sql, params)],
                                      key=lambda t: -t[0])[:PLANS]  # fmt: skip


@contextmanager
def _timed_figures(parts: dict[str, float]) -> Iterator[None]:
    """Time each figure of ``aggregates.collect`` and the payload building (module
    globals, looked up at call time) while the refresh runs."""
    from minzheng.reports import aggregates

    names = ("_payments", "_applications", "_decisions", "_verification", "_poverty",
             "_discovery", "_coverage", "payload")  # fmt: skip
    saved = {name: getattr(aggregates, name) for name in names}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                key = name.lstrip("_")
                parts[key] = parts.get(key, 0.0) + time.perf_counter() - started

        return wrapper

    for name, fn in saved.items():
        setattr(aggregates, name, timed(name, fn))
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(aggregates, name, fn)


def _plans(statements: list[tuple[float, str, Any]]) -> list[str]:
    from django.db import connection

    out = []
    with connection.cursor() as cur:
        for took, sql, params in statements:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(r[0] for r in cur.fetchall())
            out.append(f"-- {took:.2f} s in the refresh\n{' '.join(sql.split())}\n"
                       f"-- params: {params!r}\n{plan}\n")  # fmt: skip
    return out


def _requests(client: Any, url: str, code: str) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        response = client.get(url, {"division": code})
        assert response.status_code == 200, (url, code, response.status_code, response.content[:300])  # fmt: skip
    ms = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(url, {"division": code})
        ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, code, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"division": code})
    return {"p50_ms": _percentile(ms, 0.5), "p95_ms": _percentile(ms, 0.95), "max_ms": max(ms),
            "queries": len(captured.captured_queries), "bytes": len(response.content),
            "response": response}  # fmt: skip


def measure(expected: dict[str, Any]) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from minzheng.accounts.models import User
    from minzheng.accounts.services import token_create
    from minzheng.demo.services import demo_community
    from minzheng.registry.models import Division
    from minzheng.reports import aggregates
    from minzheng.reports.models import Aggregate

    district = Division.objects.get(code=DISTRICT)
    result: dict[str, Any] = {"load_average": os.getloadavg()[0], "refreshes": []}
    slowest: list[tuple[float, str, Any]] = []
    for k in range(REFRESHES):
        gc.collect()
        reset_peak()
        statements = _Statements()
        parts: dict[str, float] = {}
        err.print(f"[dim]  refresh {k + 1}/{REFRESHES} …[/dim]")
        started = time.perf_counter()
        with _timed_figures(parts), connection.execute_wrapper(statements):
            divisions = aggregates.refresh(district)
        seconds = time.perf_counter() - started
        result["refreshes"].append({"seconds": seconds, "peak_mib": memory_mib()["hwm"],
                                    "divisions": divisions, "queries": statements.count,
                                    "sql_s": statements.seconds, "parts": parts})  # fmt: skip
        err.print(f"[dim]  refresh: {seconds:.2f} s, {divisions} divisions, "
                  f"{statements.count} statements ({statements.seconds:.2f} s in execute); "
                  + ", ".join(f"{n} {s:.2f}" for n, s in parts.items()) + "[/dim]")  # fmt: skip
        if k == 0:
            slowest = statements.slowest
    result["plans"] = _plans(slowest)
    result["aggregates"] = Aggregate.objects.filter(name=aggregates.NAME).count()

    # the district's cached figures against the counts taken at set-up
    data = aggregates.cached(district)
    assert data is not None
    board = data.payload
    cover = board["coverage"]
    checks = {
        "households": sum(r["households"] for r in cover) == expected["households"],
        "recipients": sum(r["recipients"] for r in cover) == expected["recipients"],
        "paid_this_month": board["current"]["households"] == expected["paid_this_month"]
        and board["current"]["month"] == str(expected["current_month"])[:7],
        "amount_this_month": board["current"]["amount"] == expected["amount_this_month"],
        "open_lines": sum(r["open"] for r in board["applications"]) == expected["open_lines"],
        "overdue": sum(r["overdue"] for r in board["applications"]) == expected["overdue"],
        "decided": sum(r["approved"] + r["rejected"] for r in board["decisions"])
        == expected["decided"],
        "discovery": board["discovery"]["found"] == expected["discovery_items"],
        "poverty": sum(board["poverty"]) == expected["poverty_households"],
    }  # fmt: skip
    result["checks"] = checks
    result["district_figures"] = {
        "month": board["current"]["month"], "paid_households": board["current"]["households"],
        "amount": board["current"]["amount"], "programmes": len(board["trend"]),
        "open": sum(r["open"] for r in board["applications"]),
        "overdue": sum(r["overdue"] for r in board["applications"]),
        "decided": sum(r["approved"] + r["rejected"] for r in board["decisions"]),
        "discovery": board["discovery"]["found"], "poverty": board["poverty"],
        "children": len(cover),
    }  # fmt: skip

    viewer = User.objects.select_related("division").get(username=VIEWER)
    token = token_create(username=VIEWER)
    levels = {"district": DISTRICT, "street": STREET, "community": demo_community(SEED)}
    page = Client()
    page.force_login(viewer)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    result["pages"], result["api"] = {}, {}
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        for level, code in levels.items():
            name = Division.objects.get(code=code).name
            err.print(f"[dim]  page and API of the {level} {code} …[/dim]")
            r = _requests(page, PAGE_URL, code)
            html = r.pop("response").content.decode("utf-8")
            r["shows_division"] = name in html
            result["pages"][level] = {**r, "code": code, "name": name}
            r = _requests(api, API_URL, code)
            body = r.pop("response").json()
            r["stale"] = body["stale"]
            r["computed_at"] = body["computed_at"]
            r["shows_division"] = body["division"]["code"] == code
            result["api"][level] = {**r, "code": code, "name": name}
    result["load_average_after"] = os.getloadavg()[0]
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def child(mode: str, database_url: str, size: int, out: Path, extra: Path | None) -> None:
    _django(database_url)
    from django.core.management import call_command
    from django.utils import timezone

    result: dict[str, Any] = {}
    if mode == "load":
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        result["migrate_s"] = time.perf_counter() - started
        err.print(f"[dim]  migrated in {result['migrate_s']:.1f} s; generating {size:,} "
                  "households …[/dim]")  # fmt: skip
        started = time.perf_counter()
        today = timezone.localdate()
        result["load"] = load(size, today)
        result["load"]["expected"]["current_month"] = result["load"]["months"][-1]
        result["load_s"] = time.perf_counter() - started
        err.print(f"[dim]  loaded in {result['load_s']:.1f} s ("
                  + ", ".join(f"{k} {v:.1f}" for k, v in result["load"]["timings"].items())
                  + ")[/dim]")  # fmt: skip
    else:
        assert extra is not None
        result = measure(json.loads(extra.read_text())["load"]["expected"])
    out.write_text(json.dumps(result, ensure_ascii=False, default=str))


def _run_child(mode: str, database_url: str, size: int,
               loaded: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False, mode="w") as tmp:
        json.dump(loaded or {}, tmp, ensure_ascii=False, default=str)
        extra = Path(tmp.name)
    cmd = [sys.executable, "-m", "benchmarks.bench_dashboard", "--child", mode, "--url",
           database_url, "--size", str(size), "--out", str(out), "--extra", str(extra)]  # fmt: skip
    try:
        proc = subprocess.run(cmd, cwd=ROOT, check=False)
        if proc.returncode != 0 or not out.stat().st_size:
            return {"crashed": f"{mode} child exited with {proc.returncode}"}
        data: dict[str, Any] = json.loads(out.read_text())
        return data
    finally:
        out.unlink(missing_ok=True)
        extra.unlink(missing_ok=True)


# ---------------------------------------------------------------- the table (parent side)

LEVELS = ("district", "street", "community")


def _problem_rows(size: int, status: str, note: str) -> list[dict[str, Any]]:
    rows = [{"name": "dashboard: refresh (background job)", "target": "— (background job)"}]
    for how in ("page", "API"):
        rows += [{"name": f"dashboard: {level} {how} (cached)", "target": f"p95 < {TARGET_MS:,.0f} ms"}
                 for level in LEVELS]  # fmt: skip
    return [{**r, "size": f"PostgreSQL, {size:,} households", "figure": "—", "passed": None,
             "status": status, "note": note} for r in rows]  # fmt: skip


def _rows(size: int, setup_s: float, loaded: dict[str, Any], data: dict[str, Any],
          plans_path: Path) -> list[dict[str, Any]]:  # fmt: skip
    load = loaded["load"]
    counts = load["counts"]
    ok = all(data["checks"].values())
    wrong = [k for k, v in data["checks"].items() if not v]
    runs = data["refreshes"]
    best = min(runs, key=lambda r: r["seconds"])
    parts = sorted(best["parts"].items(), key=lambda kv: -kv[1])
    rest = best["seconds"] - sum(best["parts"].values())
    f = data["district_figures"]
    what = (
        f"{counts['households']:,} households in {load['communities']} communities, "
        f"{counts['entitlements']:,} entitlements, {counts['payments']:,} payments in "
        f"{counts['runs']} runs, {counts['open_lines']:,} open + {counts['decided_lines']:,} "
        f"decided lines, {counts['discovery_items']:,} discovery items, "
        f"{counts['persons']:,} persons"
    )
    timings = ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in load["timings"].items())
    setup = (
        f"set-up (not timed) {setup_s:.0f} s: create database + migrate "
        f"{loaded['migrate_s']:.0f} s, generate {loaded['load_s']:.0f} s ({timings})"
    )
    times = ", ".join(f"{r['seconds']:.2f}" for r in runs)
    note = (
        f"the cost of the background job, not of opening a page; runs {times} s; "
        f"{best['divisions']} divisions' "
        f"Aggregate rows written ({data['aggregates']} in the table); "
        f"{best['queries']:,} SQL statements ({best['sql_s']:.2f} s in execute); by figure: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in parts)
        + f", write and the rest {rest:.2f} s; district figures: {f['month']} "
        f"{f['paid_households']:,} households paid {f['amount']} yuan, {f['open']:,} open "
        f"({f['overdue']:,} overdue), {f['decided']:,} decided, {f['discovery']:,} discovery "
        f"items, poverty bands {f['poverty']}; plans of the slowest statements: "
        f"{plans_path.relative_to(ROOT)}; {setup}; {what}; load average "
        f"{data['load_average']:.1f} before, {data['load_average_after']:.1f} after"
    )
    if not ok:
        note += f"; WRONG RESULT ({', '.join(wrong)})"
    size_text = f"PostgreSQL, {counts['households']:,} households"
    rows: list[dict[str, Any]] = [
        {
            "name": "dashboard: refresh (background job)",
            "size": size_text,
            "figure": f"{best['seconds']:.2f} s (best of {len(runs)}); peak RSS "
            f"{best['peak_mib']:,.0f} MiB",
            "target": "— (background job)",
            "passed": ok,
            "status": "",
            "note": note,
            "seconds": best["seconds"],
            "peak_mib": best["peak_mib"],
        }
    ]
    for how, key, url in (("page", "pages", PAGE_URL), ("API", "api", API_URL)):
        for level in LEVELS:
            r = data[key][level]
            fine = bool(r["shows_division"]) and not r.get("stale", False)
            note = (
                f"GET {url}?division={r['code']} ({r['name']}), "
                + ("django.test.Client logged in as a district approver"
                   if how == "page" else "Bearer token, django.test.Client")
                + f"; {REQUESTS} requests after {WARMUP} warm-ups; {r['queries']} SQL "
                f"statements, {r['bytes'] / 1024:,.0f} KiB"
            )  # fmt: skip
            if how == "API":
                note += f"; as of {r['computed_at']}, stale {r['stale']}"
            if not r["shows_division"]:
                note += "; WRONG DIVISION"
            if not ok:
                note += "; the cached figures are WRONG"
            rows.append(
                {
                    "name": f"dashboard: {level} {how} (cached)",
                    "size": size_text,
                    "figure": f"p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, max "
                    f"{r['max_ms']:.0f} ms",
                    "target": f"p95 < {TARGET_MS:,.0f} ms",
                    "passed": r["p95_ms"] < TARGET_MS and fine and ok,
                    "status": "",
                    "note": note,
                    "seconds": r["p95_ms"] / 1000,
                    "p95_ms": r["p95_ms"],
                }
            )
    return rows


def run(quick: bool = False, size: int | None = None) -> list[dict[str, Any]]:
    n = size or (QUICK_SIZE if quick else SIZE)
    small = n < SIZE
    url = postgres_url(small)
    why = postgres_reachable(url)
    if why is not None:
        return _problem_rows(n, "SKIP", f"PostgreSQL unreachable: {why}")
    err.print(f"[bold]dashboard[/bold] {n:,} households in PostgreSQL")
    started = time.perf_counter()
    recreate_postgres(url)
    loaded = _run_child("load", url, n)
    setup_s = time.perf_counter() - started
    if "crashed" in loaded:
        return _problem_rows(n, "ERROR", loaded["crashed"])
    data = _run_child("measure", url, n, loaded)
    if "crashed" in data:
        return _problem_rows(n, "ERROR", data["crashed"])
    plans_path = BENCH_DIR / f"dashboard-plans{'-quick' if small else ''}.txt"
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    plans_path.write_text("\n".join(data["plans"]))
    return _rows(n, setup_s, loaded, data, plans_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_SIZE:,} households (also BENCH_QUICK=1)")  # fmt: skip
    parser.add_argument("--size", type=int, help=f"households (default {SIZE:,})")
    parser.add_argument("--child", choices=("load", "measure"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--extra", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.url, args.size, args.out, args.extra)
        return 0
    from benchmarks.__main__ import render

    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in {"", "0"}
    rows = run(quick, args.size)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    console.print(render(rows, f"Minzheng dashboard benchmark{' (quick)' if quick else ''}"))
    return 1 if any(r["status"] == "ERROR" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
