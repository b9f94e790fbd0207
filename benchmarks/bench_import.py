"""Import of ~100,000 persons from the .xlsx template: target under 60 s.

The workbook is built once from generated household documents (cached under
``var/bench/``; building it is not timed). Only ``households_import`` is timed — read,
validate, check against the database and write, all or nothing — each time into a fresh
database: a new SQLite file under ``var/bench/`` and, when PostgreSQL is reachable
(``BENCH_DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/minzheng_bench``),
that database dropped and created again. Every import runs in its own process so that
Django is set up for exactly one database.

    python -m benchmarks.bench_import [--quick]      # 10,000 persons with --quick
    BENCH_PROFILE=1 python -m benchmarks.bench_import # also write cProfile statistics
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/minzheng_bench"
PERSONS = 100_000
TARGET_SECONDS = 60.0
SEED = 0

err = Console(stderr=True)


# ---------------------------------------------------------------- the workbook


def _labels(choices: Any) -> dict[str, str]:
    return {str(c.value): str(c.label) for c in choices}


def document_rows(doc: dict[str, Any]) -> list[dict[str, str]]:
    """Template rows (Chinese headers, Chinese labels) for one household document.

    Household columns are repeated on every row, as the export writes them.
    """
    from minzheng.registry.spreadsheet import BY_PATH, HOUSEHOLD_KEY
    from minzheng.registry.vocab import (
        DisabilityKind,
        Employment,
        Health,
        Hukou,
        Relation,
        Schooling,
        Sex,
        Status,
    )

    labels = {
        "hukou": _labels(Hukou),
        "relation": _labels(Relation),
        "sex": _labels(Sex),
        "disability.kind": _labels(DisabilityKind),
        "health": _labels(Health),
        "employment": _labels(Employment),
        "schooling": _labels(Schooling),
        "statuses": _labels(Status),
    }

    def head(path: str) -> str:
        return BY_PATH[path].header

    assets, expenses = doc["assets"], doc["expenses"]
    household = {
        HOUSEHOLD_KEY: doc["id"],
        head("division"): doc["division"],
        head("hukou"): labels["hukou"][doc["hukou"]],
        head("address"): doc.get("address") or "",
        head("assets.deposits"): assets["deposits"],
        head("assets.securities"): assets["securities"],
        head("assets.houses"): str(assets["houses"]),
        head("assets.vehicles"): str(assets["vehicles"]),
        head("assets.business"): "是" if assets["business"] else "否",
        head("expenses.medical_monthly"): expenses["medical_monthly"],
        head("expenses.education_monthly"): expenses["education_monthly"],
    }
    rows: list[dict[str, str]] = []
    for m in doc["members"]:
        row = dict(household)
        row[head("name")] = m["name"]
        row[head("id_number")] = m["id_number"]
        row[head("relation")] = labels["relation"][m["relation"]]
        row[head("sex")] = labels["sex"][m["sex"]]
        row[head("birth_date")] = m["birth_date"]
        if m.get("disability"):
            row[head("disability.kind")] = labels["disability.kind"][m["disability"]["kind"]]
            row[head("disability.grade")] = str(m["disability"]["grade"])
        for field in ("health", "employment", "schooling"):
            if m.get(field):
                row[head(field)] = labels[field][m[field]]
        if m.get("statuses"):
            row[head("statuses")] = "、".join(labels["statuses"][s] for s in m["statuses"])
        for inc in m.get("incomes") or []:
            row[head(f"incomes.{inc['type']}")] = inc["monthly"]
        rows.append(row)
    return rows


def build_workbook(persons: int, seed: int = SEED) -> tuple[Path, int, int]:
    """The .xlsx of about ``persons`` rows (whole households); cached by size, seed, headers."""
    import polars as pl

    from minzheng.demo.generator import documents_frame
    from minzheng.registry.spreadsheet import HEADERS, write_xlsx

    tag = hashlib.sha1("|".join(HEADERS).encode()).hexdigest()[:8]
    path = BENCH_DIR / f"import-{persons}-seed{seed}-{tag}.xlsx"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        info = json.loads(meta.read_text())
        return path, int(info["households"]), int(info["persons"])
    err.print(f"[dim]building {path.name} …[/dim]")
    started = time.perf_counter()
    frame = documents_frame(int(persons / 2.4) + 100, seed)
    frame = frame.filter(pl.col("members").list.len().cum_sum() <= persons)
    rows: list[dict[str, str]] = []
    for doc in frame.iter_rows(named=True):
        rows.extend(document_rows(doc))
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path.write_bytes(write_xlsx(rows))
    meta.write_text(json.dumps({"households": frame.height, "persons": len(rows)}))
    err.print(f"[dim]built {len(rows):,} rows in {time.perf_counter() - started:.1f} s[/dim]")
    return path, frame.height, len(rows)


# ---------------------------------------------------------------- databases


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

    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    with psycopg.connect(url, dbname="postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def fresh_sqlite(path: Path) -> str:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


# ---------------------------------------------------------------- the timed child


def child(database_url: str, workbook: Path, out: Path, profile: Path | None) -> None:
    """Set Django up on ``database_url``, migrate, then time one import of ``workbook``."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "minzheng.config.settings"
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.core.management import call_command

    from minzheng.demo.services import demo_divisions
    from minzheng.registry.imports import households_import
    from minzheng.registry.models import Person

    call_command("migrate", verbosity=0)
    demo_divisions(SEED)
    content = workbook.read_bytes()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = households_import(actor=None, content=content, filename=workbook.name)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "ok": report.ok,
        "rows": report.rows,
        "households": report.households,
        "persons": report.persons,
        "seconds": seconds,
        "stored": Person.objects.count(),
        "errors": report.errors[:5],
        "error_count": len(report.errors),
    }
    if profiler and profile:
        profiler.dump_stats(str(profile))
        buf = io.StringIO()
        stats = pstats.Stats(profiler, stream=buf)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(20)
        profile.with_suffix(".txt").write_text(buf.getvalue())
        result["profile"] = str(profile.with_suffix(".txt"))
    out.write_text(json.dumps(result, ensure_ascii=False, default=str))


def _run_child(database_url: str, workbook: Path, profile: Path | None) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.bench_import",
        "--child",
        database_url,
        "--workbook",
        str(workbook),
        "--out",
        str(out),
    ]
    if profile:
        cmd += ["--profile", str(profile)]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, check=False)
        if proc.returncode != 0 or not out.stat().st_size:
            return {"crashed": f"child exited with {proc.returncode}"}
        data: dict[str, Any] = json.loads(out.read_text())
        return data
    finally:
        out.unlink(missing_ok=True)


def _row(backend: str, persons: int, households: int, data: dict[str, Any]) -> dict[str, Any]:
    size = f"{persons:,} persons / {households:,} households"
    target = f"< {TARGET_SECONDS:.0f} s"
    name = f"import .xlsx → {backend}"
    if "crashed" in data:
        return {
            "name": name,
            "size": size,
            "figure": "—",
            "target": target,
            "passed": None,
            "status": "ERROR",
            "note": data["crashed"],
        }
    seconds = float(data["seconds"])
    figure = f"{seconds:.1f} s ({data['persons'] / seconds:,.0f} persons/s)"
    if not data["ok"]:
        first = "; ".join(
            f"row {e.get('row')} {e.get('column')}: {e.get('message')}" for e in data["errors"][:3]
        )
        return {
            "name": name,
            "size": size,
            "figure": figure,
            "target": target,
            "passed": None,
            "status": "ERROR",
            "note": f"import failed, {data['error_count']} errors: {first}",
        }
    note = f"{data['stored']:,} persons stored"
    if data.get("profile"):
        note += f"; profile: {data['profile']}"
    return {
        "name": name,
        "size": size,
        "figure": figure,
        "target": target,
        "passed": seconds < TARGET_SECONDS,
        "status": "",
        "note": note,
        "seconds": seconds,
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    persons = PERSONS // 10 if quick else PERSONS
    profiling = os.environ.get("BENCH_PROFILE", "") not in {"", "0"}
    workbook, households, persons = build_workbook(persons)
    rows: list[dict[str, Any]] = []

    err.print(f"[bold]import[/bold] {persons:,} persons → SQLite")
    db = fresh_sqlite(BENCH_DIR / "import.sqlite3")
    prof = BENCH_DIR / "import-sqlite.prof" if profiling else None
    rows.append(_row("SQLite", persons, households, _run_child(db, workbook, prof)))

    pg_url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_PG_URL
    why = postgres_reachable(pg_url)
    if why is not None:
        rows.append(
            {
                "name": "import .xlsx → PostgreSQL",
                "size": f"{persons:,} persons",
                "figure": "—",
                "target": f"< {TARGET_SECONDS:.0f} s",
                "passed": None,
                "status": "SKIP",
                "note": f"PostgreSQL unreachable: {why}",
            }
        )
        return rows
    err.print(f"[bold]import[/bold] {persons:,} persons → PostgreSQL")
    recreate_postgres(pg_url)
    prof = BENCH_DIR / "import-postgres.prof" if profiling else None
    rows.append(_row("PostgreSQL", persons, households, _run_child(pg_url, workbook, prof)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10x smaller (also BENCH_QUICK=1)")
    parser.add_argument("--child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--workbook", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.workbook, args.out, args.profile)
        return 0
    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in {"", "0"}
    console = Console()
    for row in run(quick):
        verdict = row["status"] or ("PASS" if row["passed"] else "FAIL")
        console.print(
            f"{row['name']}: {row['figure']} [{row['size']}] target {row['target']}"
            f" → {verdict} {row['note']}",
            markup=False,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
