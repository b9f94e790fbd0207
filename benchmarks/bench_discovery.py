"""Proactive discovery over 1 M households: target under 60 s, including the comparison
with current recipients and open applications.

In a child process (its peak memory is its own), on the synthetic registry of
``minzheng.programmes.frames.frames_from_generator`` (~2.5 persons per household, the frames
cached under ``var/bench/`` by :func:`benchmarks.bench_rules.engine_frames`), as of
2025-07-01, the steps of ``casework.discovery`` after the registry has been read:

- **eligible**: ``programmes.services.eligible_pairs`` — all 12 programmes in one
  vectorised batch, melted into (household, programme, amount) pairs, with the facts key;
- **compare**: ``casework.discovery.compare`` — anti-joins with the recipients (live
  entitlements), the applications (open, or refused within 90 days), the items dismissed
  with the same facts, and the open items of the previous run;
- **reasons**: ``programmes.services.reasons_from_frames`` for the households whose items
  are new or changed (what a worker reads on each item).

The state the comparison meets is what a district sees on an ordinary day (drawn at random
with a fixed seed from the eligible pairs): 40 % of pairs already receive, 2 % have
applied, 3 % were dismissed with the same facts and 0.5 % with facts that changed since,
53 % are open items from yesterday's run (1 % of them with changed amounts), 50,000 open
items no longer eligible; what is left (~1.5 %) is new. That is the **daily run**; the
**first run** (no items yet: every eligible pair not receiving or applied is new, so the
reasons are worked out for most households) is measured once, for the record.

Not timed: generating the frames; reading the registry and the four comparison tables out
of the database (``programmes.services.registry_frames`` reads 20,000 households in
~1.3 s on SQLite: ~65 s per million — the next thing to make faster); writing the items.

    python -m benchmarks.bench_discovery [--quick]

``--quick`` (or ``BENCH_QUICK=1``): 20,000 households.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 7, 1)
MILLION = 1_000_000
QUICK_SIZE = 20_000
TARGET_S = 60.0

err = Console(stderr=True)


def _state(eligible: Any, seed: int = 7) -> dict[str, Any]:
    """Recipients, applications, dismissed and open items as a district has them."""
    import polars as pl

    keys = ["household", "programme"]
    e = eligible.with_columns(
        pl.int_range(pl.len()).shuffle(seed).alias("_r") / max(eligible.height, 1)
    )
    receiving = e.filter(pl.col("_r") < 0.40).select(keys)
    applied = e.filter((pl.col("_r") >= 0.40) & (pl.col("_r") < 0.42)).select(keys)
    dismissed_same = e.filter((pl.col("_r") >= 0.42) & (pl.col("_r") < 0.45)).select(*keys, "facts")
    dismissed_changed = e.filter((pl.col("_r") >= 0.45) & (pl.col("_r") < 0.455)).select(
        *keys, (pl.col("facts") + "0").alias("facts")
    )
    open_rows = e.filter((pl.col("_r") >= 0.455) & (pl.col("_r") < 0.985))
    open_items = open_rows.select(
        *keys,
        pl.when(pl.col("_r") < 0.4603)
        .then(pl.col("facts") + "9")
        .otherwise(pl.col("facts"))
        .alias("facts"),
    )
    gone = pl.DataFrame(
        {"household": pl.int_range(10**9, 10**9 + 50_000, eager=True), "programme": ["dibao"] * 50_000,
         "facts": ["dibao:1.00"] * 50_000},
        schema={"household": pl.Int64, "programme": pl.Utf8, "facts": pl.Utf8},
    )  # fmt: skip
    open_items = (
        pl.concat([open_items, gone])
        .with_row_index("item")
        .with_columns(pl.col("item").cast(pl.Int64))
    )
    return {
        "receiving": receiving,
        "applied": applied,
        "dismissed": pl.concat([dismissed_same, dismissed_changed]),
        "open_items": open_items.select("item", *keys, "facts"),
    }


def _empty_state() -> dict[str, Any]:
    import polars as pl

    pair = {"household": pl.Int64, "programme": pl.Utf8}
    return {
        "receiving": pl.DataFrame(schema=pair),
        "applied": pl.DataFrame(schema=pair),
        "dismissed": pl.DataFrame(schema={**pair, "facts": pl.Utf8}),
        "open_items": pl.DataFrame(schema={"item": pl.Int64, **pair, "facts": pl.Utf8}),
    }


def _one(h: Any, p: Any, state: dict[str, Any] | None, first: bool) -> dict[str, Any]:
    import polars as pl

    from minzheng.casework.discovery import compare
    from minzheng.programmes.services import eligible_pairs, reasons_from_frames

    started = time.perf_counter()
    eligible = eligible_pairs(h, p, AS_OF).with_columns(
        pl.concat_str([pl.col("programme"), pl.lit(":"), pl.col("amount")]).alias("facts")
    )
    t_eligible = time.perf_counter() - started
    if state is None:
        state = _empty_state() if first else _state(eligible)
    started = time.perf_counter()
    result = compare(
        eligible, state["receiving"], state["applied"], state["dismissed"], state["open_items"]
    )
    t_compare = time.perf_counter() - started
    started = time.perf_counter()
    refreshed = (
        state["open_items"].join(result.refresh.select("item"), on="item").get_column("household")
    )
    touched = pl.concat([result.new.get_column("household"), refreshed]).unique().cast(pl.Utf8)
    reasons = reasons_from_frames(h.filter(pl.col("household").is_in(touched.to_list())),
                                  p.filter(pl.col("household").is_in(touched.to_list())), AS_OF)  # fmt: skip
    t_reasons = time.perf_counter() - started
    return {
        "eligible_s": t_eligible, "compare_s": t_compare, "reasons_s": t_reasons,
        "total_s": t_eligible + t_compare + t_reasons,
        "pairs": eligible.height, "new": result.new.height, "refresh": result.refresh.height,
        "seen": len(result.seen), "resolved": {k: len(v) for k, v in result.resolved.items()},
        "counts": result.counts, "touched": touched.len(), "reasons": len(reasons),
        "state": state,
    }  # fmt: skip


def child(households: int) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minzheng.config.settings")
    import django

    django.setup()
    import polars as pl

    from benchmarks.bench_rules import engine_frames, memory_mib

    h, p, generated = engine_frames(households, 0)
    # registry keys are database ids: the generator's "XC0-00000001" becomes "1"
    key = pl.col("household").str.slice(4).cast(pl.Int64).cast(pl.Utf8)
    h, p = h.with_columns(key), p.with_columns(key)
    _one(
        h.head(100),
        p.filter(pl.col("household").is_in(h.head(100).get_column("household").to_list())),
        None,
        False,
    )
    gc.collect()
    daily = _one(h, p, None, first=False)
    state = daily.pop("state")
    gc.collect()
    again = _one(h, p, state, first=False)  # the same day again: the state is reused
    again.pop("state")
    best = min((daily, again), key=lambda r: r["total_s"])
    gc.collect()
    first = _one(h, p, None, first=True)
    first.pop("state")
    return {"households": h.height, "persons": p.height, "daily": best,
            "daily_times": [daily["total_s"], again["total_s"]], "first": first,
            "generated_s": generated, "peak_mib": memory_mib()["hwm"]}  # fmt: skip


def _run_child(households: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    cmd = [sys.executable, "-m", "benchmarks.bench_discovery", "--child",
           "--size", str(households), "--out", str(out)]  # fmt: skip
    load = os.getloadavg()[0]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, check=False)
        if proc.returncode != 0 or not out.stat().st_size:
            return {"crashed": f"child exited with {proc.returncode}"}
        data: dict[str, Any] = json.loads(out.read_text())
        data["load"] = f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after"
        return data
    finally:
        out.unlink(missing_ok=True)


def run(quick: bool = False) -> list[dict[str, Any]]:
    households = QUICK_SIZE if quick else MILLION
    name = "proactive discovery, daily run (eligible pairs + comparison + reasons for new items)"
    target = f"< {TARGET_S:.0f} s"
    err.print(f"[bold]proactive discovery[/bold] {households:,} households")
    data = _run_child(households)
    if "crashed" in data:
        return [{"name": name, "size": f"{households:,} households", "figure": "—",
                 "target": target, "passed": None, "status": "ERROR", "note": data["crashed"]}]  # fmt: skip
    d, f = data["daily"], data["first"]
    generated = (
        f"generating the frames took {data['generated_s']:.0f} s (not timed)"
        if data["generated_s"]
        else "frames read from the var/bench cache (not timed)"
    )
    size = f"{data['households']:,} households / {data['persons']:,} persons"
    return [
        {
            "name": name,
            "size": size,
            "figure": f"{d['total_s']:.2f} s (eligible {d['eligible_s']:.2f} s, compare "
            f"{d['compare_s']:.2f} s, reasons {d['reasons_s']:.2f} s for {d['touched']:,} "
            f"households); peak RSS {data['peak_mib'] / 1024:.1f} GiB",
            "target": target,
            "passed": d["total_s"] < TARGET_S and d["new"] > 0,
            "status": "",
            "note": f"best of 2 ({', '.join(f'{t:.2f}' for t in data['daily_times'])} s); "
            f"{d['pairs']:,} eligible pairs: receiving {d['counts']['receiving']:,}, applied "
            f"{d['counts']['applied']:,}, dismissed unchanged {d['counts']['dismissed_unchanged']:,}; "
            f"new {d['new']:,}, refreshed {d['refresh']:,}, seen {d['seen']:,}, closed "
            f"{sum(d['resolved'].values()):,}; {generated}; registry read and item writes not timed; "
            f"{data['load']}",
            "seconds": d["total_s"],
        },
        {
            "name": "proactive discovery, first run (every item new: reasons for all)",
            "size": size,
            "figure": f"{f['total_s']:.1f} s (eligible {f['eligible_s']:.2f} s, compare "
            f"{f['compare_s']:.2f} s, reasons {f['reasons_s']:.1f} s for {f['touched']:,} households)",
            "target": "— (once)",
            "passed": None,
            "status": "INFO",
            "note": f"{f['new']:,} new items",
            "seconds": f["total_s"],
        },
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="20,000 households")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        args.out.write_text(json.dumps(child(args.size), ensure_ascii=False, default=str))
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
