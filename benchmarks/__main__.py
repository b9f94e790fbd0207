"""Run the benchmarks and print one table: ``python -m benchmarks [--quick] [NAME ...]``.

NAME is any of ``import``, ``search``, ``generate``, ``rules``, ``inbox``, ``linkage``,
``poverty_index``, ``payroll``, ``discovery``, ``dashboard``, ``devices`` (default: all). ``--quick`` (or ``BENCH_QUICK=1``) runs every
benchmark 10x smaller (``rules``: 20,000 households, no 10 M and no Spark 1 M; ``inbox``:
10,000 open lines; ``linkage``: 20,000 records × 20,000 persons; ``poverty_index``: 20,000
households; ``payroll``: 20,000 entitlements; ``discovery``: 20,000 households; ``dashboard``: 20,000 households; ``devices``: 5 s of gateway events instead of 20 s), as a smoke run. Figures are measurements
compared with the issue's targets; a missed target is reported, not raised. The exit status is non-zero only when a benchmark could not run to
the end (ERROR). Results are also written to ``var/bench/results[-quick].json``.

PostgreSQL is ``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/minzheng_bench``,
dropped and re-created by the import benchmark); the search benchmark keeps its 1 M persons in
``minzheng_bench_search`` (``…_quick``) on the same server between runs, so only the first run
pays for loading (``python -m benchmarks.bench_search --reload`` loads again); the inbox
benchmark drops and re-creates ``minzheng_bench_inbox`` (``…_quick``) on every run, the
payroll benchmark ``minzheng_bench_payroll`` (``…_quick``), the dashboard benchmark ``minzheng_bench_dashboard`` (``…_quick``), the devices benchmark ``minzheng_bench_devices`` (``…_quick``, with the real server in a subprocess). Without a reachable PostgreSQL
those rows are SKIP.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import (
    bench_dashboard,
    bench_devices,
    bench_discovery,
    bench_generate,
    bench_import,
    bench_inbox,
    bench_linkage,
    bench_payroll,
    bench_poverty_index,
    bench_rules,
    bench_search,
)

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS: dict[str, Callable[[bool], list[dict[str, Any]]]] = {
    "import": bench_import.run,
    "search": bench_search.run,
    "generate": bench_generate.run,
    "rules": bench_rules.run,
    "inbox": bench_inbox.run,
    "linkage": bench_linkage.run,
    "poverty_index": bench_poverty_index.run,
    "payroll": bench_payroll.run,
    "discovery": bench_discovery.run,
    "dashboard": bench_dashboard.run,
    "devices": bench_devices.run,
}


def _verdict(row: dict[str, Any]) -> str:
    if row.get("status"):
        return str(row["status"])
    return "PASS" if row.get("passed") else "FAIL"


_STYLE = {"PASS": "green", "FAIL": "bold red", "SKIP": "yellow", "ERROR": "bold magenta"}


def render(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, show_lines=True)
    for header, kwargs in (
        ("benchmark", {"no_wrap": True}),
        ("size", {}),
        ("figure", {}),
        ("target", {}),
        ("result", {"justify": "center"}),
        ("note", {}),
    ):
        table.add_column(header, **kwargs)
    for row in rows:
        verdict = _verdict(row)
        table.add_row(
            row["name"],
            row["size"],
            row["figure"],
            row["target"],
            f"[{_STYLE[verdict]}]{verdict}[/]",
            row.get("note", ""),
        )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Minzheng benchmarks")
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="10x smaller sizes (BENCH_QUICK=1)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(
            f"unknown benchmark {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})"
        )
    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in {"", "0"}
    names = args.names or list(BENCHMARKS)
    # Piped (make, CI logs) Rich would assume 80 columns and wrap every cell.
    console = Console() if sys.stdout.isatty() else Console(width=200)
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for name in names:
        try:
            rows.extend(BENCHMARKS[name](quick))
        except Exception as exc:
            traceback.print_exc()
            rows.append(
                {
                    "name": name,
                    "size": "—",
                    "figure": "—",
                    "target": "—",
                    "passed": None,
                    "status": "ERROR",
                    "note": f"{type(exc).__name__}: {exc}"[:300],
                }
            )
    elapsed = time.perf_counter() - started
    title = (
        f"Minzheng benchmarks{' (quick)' if quick else ''} — {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {elapsed / 60:.1f} min"
    )
    console.print(render(rows, title))
    out = ROOT / "var" / "bench" / f"results{'-quick' if quick else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "at": datetime.now().isoformat(timespec="seconds"),
                "quick": quick,
                "elapsed_s": elapsed,
                "rows": [{**r, "result": _verdict(r)} for r in rows],
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 1 if any(_verdict(r) == "ERROR" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
