"""The worker inbox with 100,000 open application lines: p95 under 100 ms.

Each run builds a fresh database: the demo divisions (Xicheng 110102, its real streets and
the synthetic communities of ``minzheng.demo``), one household per application from
``minzheng.demo.generator.generate`` (only the head is stored as a person: the applicant),
and 100,000 open application lines spread over the communities — 1 to 4 programmes per
application, each line in a state its programme's route can be in (submitted,
investigation, verification, appraisal, public_notice, street_review, district_approval,
referred, returned) with ``waiting_role``, ``department`` and ``division_path`` set as
``applications.services`` sets them, and a step deadline within ±30 days of today (a
quarter overdue). Rows go in with ``minzheng.registry.bulk.bulk_insert`` (no history rows,
no transitions: the inbox reads neither), then ``ANALYZE`` (``VACUUM ANALYZE`` on
PostgreSQL, as autovacuum would leave it).

Four users (``accounts.services.user_create``, tokens from ``token_create``): a community
worker of one community, a street reviewer of its street, a district approver of the
district and a medical-security liaison of the district. For each, the first inbox page
exactly as ``GET /api/v1/applications?waiting=true`` builds it — ``selectors.inbox``,
``paginate`` (a ``COUNT`` and 50 rows), each row shaped with ``selectors.line_out`` — is
timed two ways: calling the selector and ``paginate`` directly, and through
``django.test.Client`` with a Bearer token (authentication, middleware, JSON). 200 timed
repetitions after 10 warm-ups; p50, p95 and max in ms. The note also gives the p95 of
``selectors.inbox_counts`` and of each SQL statement of a page (captured once, then run
alone through the cursor 50 times), and the statements' plans are written to
``var/bench/inbox-plans-<database>.txt`` (``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL,
``EXPLAIN QUERY PLAN`` on SQLite).

Databases: a SQLite file, ``var/bench/inbox.sqlite3`` (``inbox-quick.sqlite3``), and on the
PostgreSQL server of ``BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/minzheng_bench``) the database of that name suffixed
``_inbox`` (``_inbox_quick``), dropped and created again each run — its own, so that the
import benchmark's database is left alone. Each database is set up, migrated and measured
in its own process. Without a reachable PostgreSQL those rows are SKIP.

    python -m benchmarks.bench_inbox [--quick] [--database sqlite|postgres] [--explain]

``--quick`` (or ``BENCH_QUICK=1``): 10,000 lines. ``--explain`` also prints the plans.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/minzheng_bench"
LINES = 100_000
QUICK_LINES = 10_000
SEED = 0
PAGE = 50
REPEATS = 200
WARMUP = 10
SQL_REPEATS = 50
TARGET_MS = 100.0
DATABASES = ("sqlite", "postgres")
OVERDUE_SHARE = 0.25
URL = "/api/v1/applications"

# How often each programme is asked for (relative weights), how many programmes one
# application asks for, and where the open lines of each route stand.
PROGRAMME_WEIGHTS: dict[str, float] = {
    "dibao": 20,
    "low_income": 10,
    "extreme_poverty": 3,
    "temporary_assistance": 12,
    "orphan_allowance": 1,
    "medical_assistance": 12,
    "education_assistance": 6,
    "disability_living_subsidy": 5,
    "disability_care_subsidy": 5,
    "age_allowance": 12,
    "elderly_service_subsidy": 8,
    "preferential_card": 6,
}
LINES_PER_APPLICATION = {1: 0.35, 2: 0.35, 3: 0.2, 4: 0.1}
STATE_WEIGHTS: dict[str, dict[str, float]] = {
    "full": {
        "submitted": 12,
        "investigation": 18,
        "verification": 14,
        "appraisal": 10,
        "public_notice": 10,
        "street_review": 14,
        "district_approval": 12,
        "returned": 10,
    },
    "department": {"submitted": 25, "referred": 65, "returned": 10},
    "review_only": {"submitted": 30, "street_review": 35, "district_approval": 25, "returned": 10},
}
LIAISON_DEPARTMENT = "medical_security"
# (key, label, role, division code or None for the demo community, department)
ACTORS: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("worker", "community worker", "community_worker", None, ""),
    ("reviewer", "street reviewer", "street_reviewer", "110102009", ""),
    ("approver", "district approver", "district_approver", "110102", ""),
    ("liaison", "department liaison", "department_liaison", "110102", LIAISON_DEPARTMENT),
)

err = Console(stderr=True)


# ---------------------------------------------------------------- databases (parent side)


def bench_database_url(suffix: str, quick: bool) -> str:
    """A benchmark's own database on the server of ``BENCH_DATABASE_URL``: the base
    name with ``_<suffix>`` (and ``_quick``) appended."""
    base = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_PG_URL
    head, _, name = base.rpartition("/")
    name, _, query = name.partition("?")
    return f"{head}/{name}_{suffix}{'_quick' if quick else ''}" + (f"?{query}" if query else "")


def postgres_url(quick: bool) -> str:
    return bench_database_url("inbox", quick)


def _dbname(url: str) -> str:
    return url.rsplit("/", 1)[-1].split("?", 1)[0]


def postgres_reachable(url: str) -> str | None:
    """None if the server answers, else why not."""
    import psycopg

    try:
        with psycopg.connect(url, dbname="postgres", connect_timeout=3):
            return None
    except Exception as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def recreate_postgres(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = sql.Identifier(_dbname(url))
    with psycopg.connect(url, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def fresh_sqlite(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


# ---------------------------------------------------------------- loading (child side)


def _draw_lines(applications: int, rng: Any) -> dict[str, Any]:
    """Programmes of each application (distinct, weighted) and each line's state."""
    import numpy as np

    from minzheng.applications import workflow

    programmes = list(PROGRAMME_WEIGHTS)
    weights = np.array([PROGRAMME_WEIGHTS[p] for p in programmes], dtype=float)
    # k weighted draws without replacement per application: the k largest of
    # log(weight) + Gumbel noise (one argsort for all applications)
    keys = np.log(weights) + rng.gumbel(size=(applications, len(programmes)))
    order = np.argsort(-keys, axis=1)
    sizes, p = zip(*LINES_PER_APPLICATION.items(), strict=True)
    per_app = rng.choice(np.array(sizes), applications, p=np.array(p))
    app_of_line = np.repeat(np.arange(applications), per_app)
    position = np.arange(len(app_of_line)) - np.repeat(np.cumsum(per_app) - per_app, per_app)
    programme_of_line = order[app_of_line, position]
    routes = [workflow.route_of(pid)[0] for pid in programmes]
    states = np.empty(len(app_of_line), dtype=object)
    for route, table in STATE_WEIGHTS.items():
        mine = np.array([routes[i] == route for i in programme_of_line])
        names = list(table)
        w = np.array([table[s] for s in names], dtype=float)
        states[mine] = np.array(names, dtype=object)[
            rng.choice(len(names), int(mine.sum()), p=w / w.sum())
        ]
    overdue = rng.random(len(app_of_line)) < OVERDUE_SHARE
    due_offset = np.where(
        overdue,
        rng.integers(-30, 0, len(app_of_line)),
        rng.integers(0, 31, len(app_of_line)),
    )
    return {
        "app": app_of_line,
        "programme": [programmes[i] for i in programme_of_line],
        "state": states,
        "due_offset": due_offset,
        "step_days": rng.integers(3, 16, len(app_of_line)),
        "amount": rng.integers(300, 3000, len(app_of_line)),
        "channel": rng.random(applications),
        "pick": rng.random(len(app_of_line)),
    }


def load(lines: int, seed: int = SEED) -> dict[str, Any]:
    """Divisions, households, applicants, applications and ``lines`` open lines."""
    import numpy as np
    import polars as pl
    from django.db import transaction

    from minzheng.accounts.roles import Role
    from minzheng.accounts.services import user_create
    from minzheng.applications import clock, workflow
    from minzheng.applications.models import Application, ApplicationLine, Channel, State
    from minzheng.core.crypto import encrypt, lookup_hash
    from minzheng.core.ids import mask_id_number
    from minzheng.demo.generator import generate
    from minzheng.demo.services import demo_divisions
    from minzheng.programmes.eligibility import programme_labels
    from minzheng.registry.bulk import bulk_insert
    from minzheng.registry.models import Division, Household, Person

    timings: dict[str, float] = {}
    started = time.perf_counter()
    demo_divisions(seed)
    creator = user_create(username="bench_intake", role=Role.COMMUNITY_WORKER,
                          division_code="110102")  # fmt: skip
    rng = np.random.default_rng(seed)
    mean = sum(k * p for k, p in LINES_PER_APPLICATION.items())
    drawn = _draw_lines(int(lines / mean * 1.1) + 100, rng)
    applications = int(drawn["app"][lines - 1]) + 1
    hh, people, _ = generate(applications, seed)
    heads = people.filter(pl.col("position") == 0).sort("household")
    timings["draw_s"] = time.perf_counter() - started

    started = time.perf_counter()
    divisions = {d.code: d for d in Division.objects.all()}
    with transaction.atomic():
        households = bulk_insert(
            Household,
            [
                Household(
                    number=f"{row['division']}-B{row['household']:08d}",
                    external_id=row["id"],
                    division=divisions[row["division"]],
                    address=row["address"],
                    hukou=row["hukou"],
                )
                for row in hh.iter_rows(named=True)
            ],
        )
        applicants = bulk_insert(
            Person,
            [
                Person(
                    household=households[row["household"]],
                    external_id=row["person_key"],
                    name=row["name"],
                    id_number_encrypted=encrypt(row["id_number"]),
                    id_number_hash=lookup_hash(row["id_number"]),
                    id_number_masked=mask_id_number(row["id_number"]),
                    birth_date=row["birth_date"],
                    sex=row["sex"],
                    relation=row["relation"],
                    phone=row["phone"],
                )
                for row in heads.iter_rows(named=True)
            ],
        )
        timings["households_s"] = time.perf_counter() - started

        started = time.perf_counter()
        today = clock.today()
        channels = np.where(
            drawn["channel"] < 0.7,
            Channel.WINDOW,
            np.where(drawn["channel"] < 0.95, Channel.ONLINE, Channel.CROSS_REGION),
        )
        apps = bulk_insert(
            Application,
            [
                Application(
                    number=f"SQ{today:%Y%m%d}{i:06X}",
                    household=households[i],
                    applicant=applicants[i],
                    division=households[i].division,
                    channel=str(channels[i]),
                    created_by=creator,
                )
                for i in range(applications)
            ],
        )
        labels = programme_labels()
        returnable = {
            route: [s.state.value for s in workflow.steps_of(route) if s.can_return]
            for route in workflow.routes()
        }
        rows: list[ApplicationLine] = []
        for i in range(lines):
            app = apps[int(drawn["app"][i])]
            pid = drawn["programme"][i]
            state = str(drawn["state"][i])
            route, department = workflow.route_of(pid)
            due = today + timedelta(days=int(drawn["due_offset"][i]))
            entered = min(today, due - timedelta(days=int(drawn["step_days"][i])))
            choices = returnable[route]
            returned_from = (
                choices[int(drawn["pick"][i] * len(choices))] if state == State.RETURNED else ""
            )
            estimated = Decimal(int(drawn["amount"][i])).quantize(Decimal("0.01"))
            checked = state not in {"submitted", "investigation", "verification", "referred"}
            notice = state == State.PUBLIC_NOTICE
            rows.append(
                ApplicationLine(
                    application=app,
                    programme=pid,
                    household_id=app.household_id,
                    division_path=app.division.path,
                    route=route,
                    department=department,
                    state=state,
                    waiting_role=workflow.waiting_role(state),
                    step_entered_on=entered,
                    step_due=due,
                    returned_from=returned_from,
                    requested=bool(drawn["pick"][i] > 0.15),
                    suggested=bool(drawn["pick"][i] <= 0.15),
                    estimated_amount=estimated,
                    proposed_amount=estimated if checked and route == "full" else None,
                    unit=labels[pid][2],
                    notice_starts_on=entered if notice else None,
                    notice_ends_on=entered + timedelta(days=6) if notice else None,
                )
            )
        bulk_insert(ApplicationLine, rows)
    timings["lines_s"] = time.perf_counter() - started
    return {
        "timings": timings,
        "households": len(households),
        "applications": len(apps),
        "lines": len(rows),
        "communities": len({h.division_id for h in households}),
    }


def analyze() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return time.perf_counter() - started


# ---------------------------------------------------------------- measuring (child side)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _stats(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": _percentile(ms, 0.50),
        "p95_ms": _percentile(ms, 0.95),
        "max_ms": max(ms),
        "repeats": len(ms),
    }


def _timed(fn: Callable[[], Any], repeats: int = REPEATS, warmup: int = WARMUP) -> list[float]:
    for _ in range(warmup):
        fn()
    ms: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - started) * 1000)
    return ms


def api_page(actor: Any) -> dict[str, Any]:
    """The first inbox page as ``applications.api.applications_list(waiting=True)`` builds it."""
    from minzheng.applications import clock, selectors
    from minzheng.core.pagination import paginate

    today = clock.today()
    return paginate(selectors.inbox(actor), 1, PAGE,
                    lambda ln: {"application": ln.application_id,
                                "number": ln.application.number,
                                "applicant": ln.application.applicant.name,
                                "division": ln.application.division.name,
                                **selectors.line_out(ln, actor, today)})  # fmt: skip


def users() -> dict[str, tuple[Any, str]]:
    """The four measured users (division loaded, as token authentication loads it) and tokens."""
    from minzheng.accounts.models import User
    from minzheng.accounts.services import token_create, user_create
    from minzheng.demo.services import demo_community

    out: dict[str, tuple[Any, str]] = {}
    for key, _label, role, division, department in ACTORS:
        username = f"bench_{key}"
        user_create(username=username, role=role, division_code=division or demo_community(SEED),
                    department=department)  # fmt: skip
        token = token_create(username=username)
        out[key] = (User.objects.select_related("division").get(username=username), token)
    return out


def statement_ms(sql: str) -> list[float]:
    """One captured statement run alone through the cursor (and its rows fetched)."""
    from django.db import connection

    def once() -> None:
        with connection.cursor() as cur:
            cur.execute(sql)
            cur.fetchall()

    return _timed(once, SQL_REPEATS, WARMUP)


def plans(statements: list[str]) -> list[str]:
    from django.db import connection

    out = []
    with connection.cursor() as cur:
        for sql in statements:
            if connection.vendor == "postgresql":
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(r[0] for r in cur.fetchall())
            else:
                cur.execute("EXPLAIN QUERY PLAN " + sql)
                plan = "\n".join(f"{'  ' * (r[1] > 0)}{r[3]}" for r in cur.fetchall())
            out.append(f"{sql}\n{plan}")
    return out


def measure(actor: Any, token: str) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from minzheng.applications import selectors

    page = api_page(actor)
    with CaptureQueriesContext(connection) as captured:
        api_page(actor)
    statements = [q["sql"] for q in captured.captured_queries]
    selector_ms = _timed(lambda: api_page(actor))
    counts_ms = _timed(lambda: selectors.inbox_counts(actor))
    counts = selectors.inbox_counts(actor)
    sql_ms = [_percentile(statement_ms(sql), 0.95) for sql in statements]

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        response = client.get(URL, {"waiting": "true"})
        assert response.status_code == 200, response.content[:300]
        served = response.json()
        http_ms = _timed(lambda: client.get(URL, {"waiting": "true"}))
        with CaptureQueriesContext(connection) as captured:
            client.get(URL, {"waiting": "true"})
        http_queries = len(captured.captured_queries)
    same = served["count"] == page["count"] and [r["id"] for r in served["items"]] == [
        r["id"] for r in page["items"]
    ]
    return {
        "count": page["count"],
        "shown": len(page["items"]),
        "overdue": counts["overdue"],
        "counts_total": counts["total"],
        "same_as_api": same,
        "selector": _stats(selector_ms),
        "http": _stats(http_ms),
        "inbox_counts": _stats(counts_ms),
        "queries": len(statements),
        "http_queries": http_queries,
        "sql_p95_ms": sql_ms,
        "plans": plans(statements),
    }


def child(database_url: str, lines: int, out: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "minzheng.config.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["MINZHENG_DEBUG"] = "0"  # no query log in the timed code
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    result: dict[str, Any] = {"vendor": connection.vendor}
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    result["migrate_s"] = time.perf_counter() - started
    err.print(f"[dim]  migrated in {result['migrate_s']:.1f} s; loading {lines:,} lines …[/dim]")
    started = time.perf_counter()
    result["load"] = load(lines)
    result["load_s"] = time.perf_counter() - started
    result["analyze_s"] = analyze()
    err.print(
        f"[dim]  loaded in {result['load_s']:.1f} s ({result['load']['applications']:,} "
        f"applications, {result['load']['communities']} communities; "
        + ", ".join(f"{k} {v:.1f}" for k, v in result["load"]["timings"].items())
        + f"), analyzed in {result['analyze_s']:.1f} s[/dim]"
    )
    result["load_average"] = os.getloadavg()[0]
    result["actors"] = {}
    for key, (actor, token) in users().items():
        err.print(f"[dim]  measuring the {key}'s inbox …[/dim]")
        result["actors"][key] = measure(actor, token)
    result["load_average_after"] = os.getloadavg()[0]
    out.write_text(json.dumps(result, ensure_ascii=False, default=str))


def _run_child(database_url: str, lines: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    cmd = [sys.executable, "-m", "benchmarks.bench_inbox", "--child", database_url,
           "--lines", str(lines), "--out", str(out)]  # fmt: skip
    try:
        proc = subprocess.run(cmd, cwd=ROOT, check=False)
        if proc.returncode != 0 or not out.stat().st_size:
            return {"crashed": f"child exited with {proc.returncode}"}
        data: dict[str, Any] = json.loads(out.read_text())
        return data
    finally:
        out.unlink(missing_ok=True)


# ---------------------------------------------------------------- the table (parent side)


def _problem_rows(backend: str, lines: int, status: str, note: str) -> list[dict[str, Any]]:
    return [
        {
            "name": f"inbox: {label}",
            "size": f"{backend}, {lines:,} open lines",
            "figure": "—",
            "target": f"p95 < {TARGET_MS:.0f} ms",
            "passed": None,
            "status": status,
            "note": note,
        }
        for _key, label, *_ in ACTORS
    ]


def _rows(backend: str, data: dict[str, Any], plans_path: Path) -> list[dict[str, Any]]:
    load = data["load"]
    setup = (
        f"set-up {data['migrate_s'] + data['load_s'] + data['analyze_s']:.0f} s (migrate "
        f"{data['migrate_s']:.0f} s, load {data['load_s']:.0f} s, analyze "
        f"{data['analyze_s']:.1f} s)"
    )
    load_avg = (
        f"load average {data['load_average']:.1f} before, {data['load_average_after']:.1f} after"
    )
    rows: list[dict[str, Any]] = []
    for key, label, role, division, department in ACTORS:
        r = data["actors"][key]
        where = department or division or "one community"
        size = (
            f"{backend}, {load['lines']:,} open lines; {r['count']:,} in this inbox "
            f"({r['overdue']:,} overdue)"
        )
        sql = ", ".join(f"{ms:.1f}" for ms in r["sql_p95_ms"])
        hows = {
            "selector": f"selectors.inbox + paginate + line_out, {r['queries']} queries (p95 "
            f"of each alone: {sql} ms); inbox_counts p95 {r['inbox_counts']['p95_ms']:.1f} ms",
            "http": f"GET {URL}?waiting=true, Bearer token, django.test.Client; "
            f"{r['http_queries']} queries",
        }
        for path, how in hows.items():
            s = r[path]
            note = f"{role} ({where}); {how}"
            if not r["same_as_api"]:
                note += "; MISMATCH: the API's page differs from the selector's"
            if key == ACTORS[0][0] and path == "selector":
                note += f"; {setup}; plans: {plans_path.relative_to(ROOT)}"
            if key == ACTORS[0][0] and path == "http":
                note += f"; {load_avg}"
            rows.append(
                {
                    "name": f"inbox: {label} ({'selector' if path == 'selector' else 'HTTP'})",
                    "size": size,
                    "figure": f"p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms, max "
                    f"{s['max_ms']:.0f} ms",
                    "target": f"p95 < {TARGET_MS:.0f} ms",
                    "passed": s["p95_ms"] < TARGET_MS and r["same_as_api"],
                    "status": "",
                    "note": note,
                    "p95_ms": s["p95_ms"],
                }
            )
    return rows


def _write_plans(backend: str, data: dict[str, Any], quick: bool, show: bool) -> Path:
    path = BENCH_DIR / f"inbox-plans-{backend.lower()}{'-quick' if quick else ''}.txt"
    parts = []
    for key, label, *_ in ACTORS:
        for plan in data["actors"][key]["plans"]:
            parts.append(f"-- {backend}, {label}\n{plan}\n")
    text = "\n".join(parts)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if show:
        err.print(text, markup=False, highlight=False)
    return path


def run(
    quick: bool = False, databases: tuple[str, ...] = DATABASES, explain: bool = False
) -> list[dict[str, Any]]:
    lines = QUICK_LINES if quick else LINES
    rows: list[dict[str, Any]] = []
    for database in databases:
        if database == "sqlite":
            backend = "SQLite"
            url = fresh_sqlite(BENCH_DIR / f"inbox{'-quick' if quick else ''}.sqlite3")
        else:
            backend = "PostgreSQL"
            url = postgres_url(quick)
            why = postgres_reachable(url)
            if why is not None:
                rows += _problem_rows(backend, lines, "SKIP", f"PostgreSQL unreachable: {why}")
                continue
            recreate_postgres(url)
        err.print(f"[bold]inbox[/bold] {lines:,} open lines in {backend}")
        data = _run_child(url, lines)
        if "crashed" in data:
            rows += _problem_rows(backend, lines, "ERROR", data["crashed"])
            continue
        rows += _rows(backend, data, _write_plans(backend, data, quick, explain))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10,000 lines (also BENCH_QUICK=1)")
    parser.add_argument(
        "--database", choices=DATABASES, action="append", help="only this one (repeatable)"
    )
    parser.add_argument("--explain", action="store_true", help="print the plans too")
    parser.add_argument("--child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--lines", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.lines, args.out)
        return 0
    from benchmarks.__main__ import render

    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in {"", "0"}
    rows = run(quick, tuple(args.database or DATABASES), args.explain)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    console.print(render(rows, f"Minzheng inbox benchmark{' (quick)' if quick else ''}"))
    return 1 if any(r["status"] == "ERROR" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
