"""Rules engine: throughput, an OpenFisca peer, one household with reasons, Spark.

Four workloads, each in its own process (so that its peak memory is its own), on the
synthetic registry of ``minzheng.programmes.frames.frames_from_generator`` (~2.5 persons
per household), as of 2025-07-01:

``throughput``
    all 12 programmes with ``Evaluator.batch`` on Polars: 1 M households, then 10 M as ten
    chunks of 1 M (seeds 0–9) evaluated one after another. Only evaluation is timed
    (``batch(...).collect()``), not generating the chunks; peak RSS is the process's
    ``VmHWM`` (``/proc/self/status``), and the evaluation's own peak is taken with
    ``VmHWM`` reset (``/proc/self/clear_refs``) before each chunk. Chunks, not one 10 M
    frame: 4 M households at once took 23 s and peaked at 8.1 GiB (frames 2.8 GiB), about
    2 GiB per million, so 10 M at once would need ~20 GiB, over the 16 GiB budget of this
    24 GiB machine, and runs slower per household than 1 M chunks (~3.5 s each, 2.3 GiB).
    ``--chunk`` changes the chunk size.
``peer``
    the dibao and age-allowance rules written as an OpenFisca country package
    (``benchmarks/peers/openfisca_minzheng``, float64 variables) against
    ``batch(h, p, as_of, ["dibao", "age_allowance"])`` on the same 100 k and 1 M
    households: both timed from the Polars frames to one row per household (OpenFisca:
    frames to numpy, ``SimulationBuilder``, ``set_input``, ``calculate``), best of three
    after a warm-up, and compared household by household to the fen. Then the same
    peer built from a situation dict (``build_from_entities``, what OpenFisca's web API
    takes) on 10,000 households (2,000 with ``--quick``): it grows faster than linearly.
    openfisca-core comes from the ``bench`` extra (``make bench``) and installs into
    .venv beside numpy 2 and Polars without a downgrade; without it these rows are SKIP.
``single``
    ``Evaluator.results([document], date(2024, 10, 1), explain=True)`` for one
    four-member household through the Python API, 200 timed calls after 30
    warm-up calls: p50 and p95.
``spark``
    all 12 programmes through narwhals on PySpark ``local[2]`` (driver memory 6 g, UI
    off): the frames go in with ``createDataFrame(arrow)``, the result comes out with
    ``toArrow()``; compared with the Polars result (sums, and every amount and
    eligibility joined on the household key). 100 k and 1 M households; a run still going
    after :data:`SPARK_TIMEOUT_S` (30 min) is stopped and reported as such.

The synthetic frames are cached as Parquet under ``var/bench/`` (``rules-frames-*``,
keyed by size, seed and the generator's source), so only the first run pays for
generating them (~20 s per million households).

    python -m benchmarks.bench_rules [--quick] [WORKLOAD ...] [--chunk N]

``--quick`` (or ``BENCH_QUICK=1``): 20,000 households everywhere (2,000 for the situation
dicts), no 10 M and no Spark 100 k or 1 M; under 2 minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"
AS_OF = date(2025, 7, 1)
MILLION = 1_000_000
TEN_MILLION = 10_000_000
QUICK_SIZE = 20_000
CHUNK = MILLION
TARGET_10M_S = 60.0
TARGET_PEAK_GIB = 16.0
PEER_SIZES = (100_000, MILLION)
PEER_PROGRAMMES = ["dibao", "age_allowance"]
PEER_REPEATS = 3
# build_from_entities grows faster than linearly (2,000 households 3.5 s, 10,000 53 s)
SITUATION_SIZE = 10_000
SITUATION_QUICK_SIZE = 2_000
TARGET_RATIO = 10.0
SINGLE_AS_OF = date(2024, 10, 1)
SINGLE_CALLS = 200
SINGLE_WARMUP = 30
TARGET_P50_MS = 5.0
SPARK_SIZES = (100_000, MILLION)
SPARK_TIMEOUT_S = 1800.0
SPARK_TARGET_S = 600.0
WORKLOADS = ("throughput", "peer", "single", "spark")
CHILDREN = (*WORKLOADS, "peer-situation")

err = Console(stderr=True)

# One household for the single-household workload: a couple (one seriously ill, one
# employee), a child of 10 and a grandmother of 84 with a grade 2 physical disability and
# a pension, so that dibao, the age allowance, the disability subsidies and the
# elderly-care subsidy all have something to explain.
SINGLE_DOCUMENT: dict[str, Any] = {
    "id": "BENCH-1",
    "division": "110102",
    "hukou": "beijing",
    "members": [
        {
            "id": "P-1",
            "relation": "head",
            "birth_date": "1979-05-05",
            "sex": "F",
            "statuses": ["serious_illness"],
            "incomes": [],
        },
        {
            "id": "P-2",
            "relation": "spouse",
            "birth_date": "1980-06-06",
            "sex": "M",
            "statuses": [],
            "incomes": [{"type": "wage", "monthly": "3000.00"}],
        },
        {
            "id": "P-3",
            "relation": "child",
            "birth_date": "2014-01-01",
            "sex": "F",
            "schooling": "primary",
            "statuses": [],
            "incomes": [],
        },
        {
            "id": "P-4",
            "relation": "parent",
            "birth_date": "1940-03-15",
            "sex": "F",
            "disability": {"kind": "physical", "grade": 2},
            "statuses": [],
            "incomes": [{"type": "pension", "monthly": "900.00"}],
        },
    ],
    "assets": {
        "deposits": "12000.00",
        "securities": "0.00",
        "vehicles": 0,
        "houses": 1,
        "business": False,
    },
    "expenses": {"medical_monthly": "600.00", "education_monthly": "200.00"},
}


# ---------------------------------------------------------------- helpers (child side)


def memory_mib() -> dict[str, float]:
    """Current and peak resident memory of this process (MiB), from /proc/self/status."""
    out = {"rss": 0.0, "hwm": 0.0}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                out["rss"] = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                out["hwm"] = int(line.split()[1]) / 1024
    return out


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _source_tag() -> str:
    """Changes when the generator or the frame builder does (the cache key)."""
    import minzheng.demo.generator as generator
    import minzheng.programmes.frames as frames

    digest = hashlib.sha1()
    for module in (generator, frames):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:8]


def engine_frames(households: int, seed: int) -> tuple[Any, Any, float | None]:
    """(households, persons, seconds generating or None when read from the cache)."""
    import polars as pl

    from minzheng.programmes.frames import frames_from_generator

    stem = BENCH_DIR / f"rules-frames-{households}-seed{seed}-{_source_tag()}"
    h_path, p_path = (
        stem.with_name(stem.name + "-h.parquet"),
        stem.with_name(stem.name + "-p.parquet"),
    )
    if h_path.exists() and p_path.exists():
        return pl.read_parquet(h_path), pl.read_parquet(p_path), None
    started = time.perf_counter()
    h, p = frames_from_generator(households, seed)
    seconds = time.perf_counter() - started
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    for frame, path in ((h, h_path), (p, p_path)):
        tmp = path.with_suffix(".tmp")
        frame.write_parquet(tmp, compression="lz4")
        tmp.replace(path)
    return h, p, seconds


def batch_summary(out: Any) -> dict[str, Any]:
    """Per programme: households eligible and the amount total (yuan)."""
    import polars as pl

    ids = [c.removesuffix("__amount") for c in out.columns if c.endswith("__amount")]
    row = out.select(
        *(pl.col(f"{i}__eligible").sum().alias(f"{i}__eligible") for i in ids),
        *(pl.col(f"{i}__amount").sum().alias(f"{i}__amount") for i in ids),
    ).row(0, named=True)
    return {i: {"eligible": int(row[f"{i}__eligible"]), "amount": float(row[f"{i}__amount"])}
            for i in ids}  # fmt: skip


def _fen(column: str) -> Any:
    import polars as pl

    return (pl.col(column) * 100).round(0).cast(pl.Int64)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# ---------------------------------------------------------------- workloads (child side)


def child_throughput(households: int, chunk: int) -> dict[str, Any]:
    """All programmes over ``households`` in chunks of ``chunk`` (seed = chunk number)."""
    from minzheng.rules.evaluate import Evaluator

    ev = Evaluator()
    sizes = [min(chunk, households - start) for start in range(0, households, chunk)]
    # warm-up: expressions compiled once per as-of date (not part of any chunk's time)
    h, p, _ = engine_frames(QUICK_SIZE, 0)
    ev.batch(h.head(100), p.head(250), AS_OF).collect()
    del h, p
    seconds, generating, persons, eval_peak, peak = [], 0.0, 0, 0.0, 0.0
    totals: dict[str, dict[str, float]] = {}
    resettable = True
    for seed, size in enumerate(sizes):
        h, p, gen_s = engine_frames(size, seed)
        generating += gen_s or 0.0
        persons += p.height
        gc.collect()
        peak = max(peak, memory_mib()["hwm"])  # the reset below forgets it
        resettable = reset_peak() and resettable
        started = time.perf_counter()
        out = ev.batch(h, p, AS_OF).collect().to_native()
        seconds.append(time.perf_counter() - started)
        eval_peak = max(eval_peak, memory_mib()["hwm"])
        err.print(
            f"[dim]  chunk {seed + 1}/{len(sizes)}: {size:,} households in {seconds[-1]:.1f} s"
            f" (RSS peak {eval_peak / 1024:.1f} GiB)[/dim]"
        )
        for programme, figures in batch_summary(out).items():
            total = totals.setdefault(programme, {"eligible": 0, "amount": 0.0})
            total["eligible"] += figures["eligible"]
            total["amount"] += figures["amount"]
        del h, p, out
    return {
        "households": households,
        "persons": persons,
        "chunks": len(sizes),
        "chunk": chunk,
        "seconds": sum(seconds),
        "chunk_seconds": seconds,
        "generating_s": generating,
        "eval_peak_mib": eval_peak if resettable else None,
        "peak_mib": max(peak, memory_mib()["hwm"]),
        "totals": totals,
    }


def compare_with_peer(ours: Any, theirs: Any) -> dict[str, Any]:
    """Minzheng's batch (dibao, age_allowance) against the peer's rows, to the fen."""
    import polars as pl

    joined = ours.join(theirs, on="household", how="full", coalesce=True)
    checks = {
        "dibao": ("dibao__amount", "dibao_amount"),
        "age_allowance": ("age_allowance__amount", "age_allowance"),
    }
    mismatches: dict[str, Any] = {}
    for programme, (a, b) in checks.items():
        bad = joined.filter(_fen(a).ne_missing(_fen(b)))
        mismatches[programme] = {
            "count": bad.height,
            "examples": bad.select("household", a, b).head(5).rows(),
        }
    return {
        "rows": {"minzheng": ours.height, "openfisca": theirs.height, "joined": joined.height},
        "mismatches": mismatches,
        "sums": {
            "minzheng": ours.select(
                pl.col("dibao__amount").sum(), pl.col("age_allowance__amount").sum()
            ).row(0),
            "openfisca": theirs.select(
                pl.col("dibao_amount").sum(), pl.col("age_allowance").sum()
            ).row(0),
        },
        "dibao_households": int(ours.get_column("dibao__eligible").sum()),
    }


def child_peer(households: int) -> dict[str, Any]:
    """Minzheng and the OpenFisca peer on the same frames: times and a fen-exact check."""
    from minzheng.rules.evaluate import Evaluator

    try:
        from benchmarks.peers.openfisca_minzheng.run import simulate, tax_benefit_system
    except ImportError as exc:
        return {"skip": f"openfisca-core not installed ({exc}); `make bench` installs it"}

    ev = Evaluator()
    h, p, _ = engine_frames(households, 0)
    tax_benefit_system()  # loading variables and parameters: set-up, not timed
    # warm-up both on the first thousand households
    head_h = h.head(1000)
    head_p = p.join(head_h.select("household"), on="household", how="semi")
    ev.batch(head_h, head_p, AS_OF, PEER_PROGRAMMES).collect()
    simulate(head_h, head_p, AS_OF)

    def run_minzheng() -> Any:
        return ev.batch(h, p, AS_OF, PEER_PROGRAMMES).collect().to_native()

    def run_openfisca() -> Any:
        return simulate(h, p, AS_OF)

    times: dict[str, list[float]] = {"minzheng": [], "openfisca": []}
    results: dict[str, Any] = {}
    for _ in range(PEER_REPEATS):
        for name, fn in (("minzheng", run_minzheng), ("openfisca", run_openfisca)):
            gc.collect()
            started = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - started)
    ours, theirs = results["minzheng"], results["openfisca"]
    check = compare_with_peer(ours, theirs)
    return {
        "households": h.height,
        "persons": p.height,
        "minzheng_s": min(times["minzheng"]),
        "openfisca_s": min(times["openfisca"]),
        "times": times,
        **check,
        "openfisca_version": _dist_version("openfisca-core"),
        "peak_mib": memory_mib()["hwm"],
    }


def child_peer_situation(households: int) -> dict[str, Any]:
    """The peer again, built from situation dicts as OpenFisca's web API does."""
    from minzheng.rules.evaluate import Evaluator

    try:
        from benchmarks.peers.openfisca_minzheng.run import (
            simulate_situation,
            situation,
            tax_benefit_system,
        )
    except ImportError as exc:
        return {"skip": f"openfisca-core not installed ({exc}); `make bench` installs it"}

    ev = Evaluator()
    h, p, _ = engine_frames(QUICK_SIZE, 0)
    h = h.head(households)
    p = p.join(h.select("household"), on="household", how="semi")
    tax_benefit_system()
    ev.batch(h.head(10), p.head(20), AS_OF, PEER_PROGRAMMES).collect()
    data = situation(h, p, AS_OF)  # the caller's JSON: built beforehand, not timed
    few = h.head(10)
    few_p = p.join(few.select("household"), on="household", how="semi")
    simulate_situation(situation(few, few_p, AS_OF), AS_OF)  # warm-up
    minzheng_s = []
    for _ in range(PEER_REPEATS):
        started = time.perf_counter()
        ours = ev.batch(h, p, AS_OF, PEER_PROGRAMMES).collect().to_native()
        minzheng_s.append(time.perf_counter() - started)
    started = time.perf_counter()
    theirs = simulate_situation(data, AS_OF)
    openfisca_s = time.perf_counter() - started
    return {
        "households": h.height,
        "persons": p.height,
        "minzheng_s": min(minzheng_s),
        "openfisca_s": openfisca_s,
        **compare_with_peer(ours, theirs),
        "openfisca_version": _dist_version("openfisca-core"),
    }


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def child_single() -> dict[str, Any]:
    """Latency of one household's results with reasons and explanation."""
    from minzheng.rules.evaluate import Evaluator

    ev = Evaluator()
    for _ in range(SINGLE_WARMUP):
        result = ev.results([SINGLE_DOCUMENT], SINGLE_AS_OF, explain=True)
    times = []
    for _ in range(SINGLE_CALLS):
        started = time.perf_counter()
        result = ev.results([SINGLE_DOCUMENT], SINGLE_AS_OF, explain=True)
        times.append((time.perf_counter() - started) * 1000)
    programmes = result[0]["programmes"]
    return {
        "calls": len(times),
        "p50_ms": _percentile(times, 0.50),
        "p95_ms": _percentile(times, 0.95),
        "max_ms": max(times),
        "mean_ms": statistics.fmean(times),
        "programmes": len(programmes),
        "eligible": sorted(k for k, v in programmes.items() if v["eligible"]),
        "dibao": programmes["dibao"]["amount"],
    }


def child_spark(households: int) -> dict[str, Any]:
    """All programmes on PySpark local[2], checked against the Polars result."""
    import polars as pl

    from minzheng.rules.evaluate import Evaluator

    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        return {"skip": f"pyspark not installed ({exc})"}

    ev = Evaluator()
    h, p, _ = engine_frames(households, 0)
    reference = ev.batch(h, p, AS_OF).collect().to_native()
    started = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("minzheng-bench-rules")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "6g")
        # local[2]: a handful of shuffle partitions, not the cluster default of 200
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    startup_s = time.perf_counter() - started
    try:
        started = time.perf_counter()
        sh = spark.createDataFrame(h.to_arrow())
        sp = spark.createDataFrame(p.to_arrow())
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        lazy = ev.batch(sh, sp, AS_OF)
        planned_s = time.perf_counter() - started
        table = lazy.to_native().toArrow()
        seconds = time.perf_counter() - started
    finally:
        spark.stop()
    got = pl.from_arrow(table)
    assert isinstance(got, pl.DataFrame)
    joined = reference.join(got, on="household", how="full", coalesce=True, suffix="__spark")
    differing: dict[str, int] = {}
    for column in reference.columns:
        if column == "household":
            continue
        other = f"{column}__spark"
        if column.endswith("__amount"):
            bad = joined.filter(_fen(column).ne_missing(_fen(other))).height
        else:
            bad = joined.filter(pl.col(column).ne_missing(pl.col(other))).height
        if bad:
            differing[column] = bad
    ours, theirs = batch_summary(reference), batch_summary(got.select(reference.columns))
    sums_equal = all(
        ours[k]["eligible"] == theirs[k]["eligible"]
        and round(ours[k]["amount"], 2) == round(theirs[k]["amount"], 2)
        for k in ours
    )
    return {
        "households": h.height,
        "persons": p.height,
        "seconds": seconds,
        "planned_s": planned_s,
        "startup_s": startup_s,
        "load_s": load_s,
        "rows": {"polars": reference.height, "spark": got.height, "joined": joined.height},
        "differing": differing,
        "sums_equal": sums_equal,
        "peak_mib": memory_mib()["hwm"],
    }


# ---------------------------------------------------------------- parent side


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Stop a child and everything in its process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _run_child(args: list[str], timeout: float | None = None) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    cmd = [sys.executable, "-m", "benchmarks.bench_rules", "--out", str(out), *args]
    load = os.getloadavg()[0]  # other work on a 2-core machine shows in every figure
    # its own process group, so that a timeout also ends what it started (Spark's JVM)
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
    try:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _end(proc)
            return {"timeout": timeout}
        except BaseException:  # Ctrl-C does not reach another session: pass it on
            _end(proc)
            raise
        if proc.returncode != 0 or not out.stat().st_size:
            return {"crashed": f"child exited with {proc.returncode}"}
        data: dict[str, Any] = json.loads(out.read_text())
        data["load"] = f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after"
        return data
    finally:
        out.unlink(missing_ok=True)


def _problem(name: str, size: str, target: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """An ERROR or SKIP row when the child did not measure anything."""
    if "skip" in data:
        status, note = "SKIP", data["skip"]
    elif "crashed" in data:
        status, note = "ERROR", data["crashed"]
    elif "timeout" in data:
        return {
            "name": name,
            "size": size,
            "figure": f"> {data['timeout'] / 60:.0f} min",
            "target": target,
            "passed": False,
            "status": "",
            "note": "stopped: did not finish in time",
        }
    else:
        return None
    return {"name": name, "size": size, "figure": "—", "target": target, "passed": None,
            "status": status, "note": note}  # fmt: skip


def _gib(mib: float | None) -> str:
    return "—" if mib is None else f"{mib / 1024:.1f} GiB"


def throughput_rows(quick: bool, chunk: int) -> list[dict[str, Any]]:
    rows = []
    pace = TEN_MILLION / TARGET_10M_S
    runs = [(QUICK_SIZE, chunk)] if quick else [(MILLION, chunk), (TEN_MILLION, chunk)]
    for households, size in runs:
        err.print(f"[bold]rules[/bold] all programmes, {households:,} households on Polars")
        name = "rules: 12 programmes, Polars"
        ten = households >= TEN_MILLION
        target = (
            f"< {TARGET_10M_S:.0f} s, peak < {TARGET_PEAK_GIB:.0f} GiB"
            if ten
            else f"≥ {pace:,.0f} households/s (10 M in {TARGET_10M_S:.0f} s)"
        )
        data = _run_child(
            ["--child", "throughput", "--size", str(households), "--chunk", str(size)]
        )
        problem = _problem(name, f"{households:,} households", target, data)
        if problem:
            rows.append(problem)
            continue
        seconds = float(data["seconds"])
        rate = data["households"] / seconds
        passed = (
            seconds < TARGET_10M_S and data["peak_mib"] / 1024 < TARGET_PEAK_GIB
            if ten
            else rate >= pace
        )
        split = (
            f"{data['chunks']} chunks of {data['chunk']:,}, {min(data['chunk_seconds']):.1f}–"
            f"{max(data['chunk_seconds']):.1f} s each; "
            if data["chunks"] > 1
            else ""
        )
        generated = (
            f"; generating took {data['generating_s']:.0f} s (not timed)"
            if data["generating_s"]
            else "; frames read from the var/bench cache (not timed)"
        )
        dibao = data["totals"]["dibao"]
        rows.append(
            {
                "name": name,
                "size": f"{data['households']:,} households / {data['persons']:,} persons",
                "figure": f"{seconds:.1f} s ({rate:,.0f} households/s); peak RSS "
                f"{_gib(data['peak_mib'])}",
                "target": target,
                "passed": passed,
                "status": "",
                "note": f"{split}evaluation peak {_gib(data['eval_peak_mib'])}{generated}; "
                f"dibao {dibao['eligible']:,} households, {dibao['amount']:,.2f} yuan/month; "
                f"{data['load']}",
                "seconds": seconds,
            }
        )
    return rows


def _peer_row(name: str, how: str, households: int, data: dict[str, Any]) -> dict[str, Any]:
    target = f"≥ {TARGET_RATIO:.0f}×, equal to the fen"
    problem = _problem(name, f"{households:,} households", target, data)
    if problem:
        return problem
    ours, theirs = float(data["minzheng_s"]), float(data["openfisca_s"])
    ratio = theirs / ours
    bad = {k: v for k, v in data["mismatches"].items() if v["count"]}
    rows_ok = len(set(data["rows"].values())) == 1
    if bad or not rows_ok:
        detail = "; ".join(
            f"{k}: {v['count']:,} households differ, e.g. {v['examples'][:2]}"
            for k, v in bad.items()
        )
        check = f"MISMATCH {detail} rows {data['rows']}"
    else:
        check = (
            f"all {data['rows']['joined']:,} households equal to the fen (dibao "
            f"{data['dibao_households']:,} households, {data['sums']['minzheng'][0]:,.2f} "
            f"yuan; age allowance {data['sums']['minzheng'][1]:,.2f} yuan)"
        )
    return {
        "name": name,
        "size": f"{data['households']:,} households / {data['persons']:,} persons",
        "figure": f"Minzheng {ours:.2f} s, OpenFisca {theirs:.2f} s → {ratio:,.2f}×".replace(
            ".00×", "×"
        )
        if ratio < 100
        else f"Minzheng {ours:.2f} s, OpenFisca {theirs:.2f} s → {ratio:,.0f}×",
        "target": target,
        "passed": ratio >= TARGET_RATIO and not bad and rows_ok,
        "status": "",
        "note": f"{check}; {how}; {households / ours:,.0f} vs {households / theirs:,.0f} "
        f"households/s; openfisca-core {data['openfisca_version']}, float64 variables; "
        f"{data['load']}",
        "ratio": ratio,
    }


def peer_rows(quick: bool) -> list[dict[str, Any]]:
    rows = []
    for households in (QUICK_SIZE,) if quick else PEER_SIZES:
        err.print(f"[bold]rules[/bold] dibao + age allowance, {households:,} households: OpenFisca")
        data = _run_child(["--child", "peer", "--size", str(households)])
        how = (
            f"OpenFisca from the frames with set_input (numpy arrays), best of {PEER_REPEATS} "
            "for both"
        )
        rows.append(_peer_row("rules: vs OpenFisca (dibao, age allowance)", how, households, data))
    households = SITUATION_QUICK_SIZE if quick else SITUATION_SIZE
    err.print(
        f"[bold]rules[/bold] dibao + age allowance, {households:,} households: "
        "OpenFisca situation dicts"
    )
    data = _run_child(["--child", "peer-situation", "--size", str(households)])
    how = (
        "OpenFisca from a situation dict (SimulationBuilder.build_from_entities, the input "
        "of its web API's /calculate; the dict is built beforehand, not timed), once; "
        f"Minzheng best of {PEER_REPEATS}"
    )
    rows.append(_peer_row("rules: vs OpenFisca situation dicts", how, households, data))
    return rows


def single_rows(quick: bool) -> list[dict[str, Any]]:
    err.print("[bold]rules[/bold] one household with explanation")
    name = "rules: one household, explain=True"
    target = f"p50 < {TARGET_P50_MS:.0f} ms"
    data = _run_child(["--child", "single"])
    problem = _problem(name, "1 household", target, data)
    if problem:
        return [problem]
    return [
        {
            "name": name,
            "size": f"1 household / {len(SINGLE_DOCUMENT['members'])} persons",
            "figure": f"p50 {data['p50_ms']:.1f} ms, p95 {data['p95_ms']:.1f} ms",
            "target": target,
            "passed": data["p50_ms"] < TARGET_P50_MS,
            "status": "",
            "note": f"Evaluator.results(..., explain=True), {data['calls']} calls after "
            f"{SINGLE_WARMUP} warm-up; max {data['max_ms']:.1f} ms; {data['programmes']} "
            f"programmes, eligible: {', '.join(data['eligible'])}; dibao {data['dibao']}; "
            f"{data['load']}",
        }
    ]


def spark_rows(quick: bool) -> list[dict[str, Any]]:
    rows = []
    target = f"= Polars, < {SPARK_TARGET_S / 60:.0f} min"
    for households in (QUICK_SIZE,) if quick else SPARK_SIZES:
        err.print(
            f"[bold]rules[/bold] all programmes, {households:,} households on PySpark local[2]"
        )
        name = "rules: 12 programmes, PySpark local[2]"
        data = _run_child(
            ["--child", "spark", "--size", str(households)],
            timeout=SPARK_TIMEOUT_S,
        )
        problem = _problem(name, f"{households:,} households", target, data)
        if problem:
            rows.append(problem)
            continue
        seconds = float(data["seconds"])
        same = not data["differing"] and data["sums_equal"] and len(set(data["rows"].values())) == 1
        check = (
            f"equal to Polars: sums and all {data['rows']['joined']:,} households joined on "
            "the key (amounts to the fen, eligibility)"
            if same
            else f"DIFFERENT from Polars: {data['differing']} rows {data['rows']} "
            f"sums equal: {data['sums_equal']}"
        )
        rows.append(
            {
                "name": name,
                "size": f"{data['households']:,} households / {data['persons']:,} persons",
                "figure": f"{seconds:.1f} s ({data['households'] / seconds:,.0f} households/s)",
                "target": target,
                "passed": same and seconds < SPARK_TARGET_S,
                "status": "",
                "note": f"{check}; batch() itself {data['planned_s']:.1f} s (building the "
                f"windowed plan), toArrow {seconds - data['planned_s']:.1f} s (the Spark job); "
                f"Spark start {data['startup_s']:.0f} s and "
                f"createDataFrame {data['load_s']:.1f} s not timed; {data['load']}",
            }
        )
    return rows


def run(
    quick: bool = False, workloads: tuple[str, ...] = WORKLOADS, chunk: int = CHUNK
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if "throughput" in workloads:
        rows += throughput_rows(quick, chunk)
    if "peer" in workloads:
        rows += peer_rows(quick)
    if "single" in workloads:
        rows += single_rows(quick)
    if "spark" in workloads:
        rows += spark_rows(quick)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "workloads", nargs="*", metavar="WORKLOAD", help=f"any of {', '.join(WORKLOADS)}"
    )
    parser.add_argument(
        "--quick", action="store_true", help="20,000 households (also BENCH_QUICK=1)"
    )
    parser.add_argument(
        "--chunk", type=int, default=CHUNK, help=f"households per chunk (default {CHUNK:,})"
    )
    parser.add_argument("--child", choices=CHILDREN, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        if args.child == "throughput":
            data = child_throughput(args.size, args.chunk)
        elif args.child == "peer":
            data = child_peer(args.size)
        elif args.child == "peer-situation":
            data = child_peer_situation(args.size)
        elif args.child == "single":
            data = child_single()
        else:
            data = child_spark(args.size)
        args.out.write_text(json.dumps(data, ensure_ascii=False, default=str))
        return 0
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload {', '.join(unknown)} (choose from {', '.join(WORKLOADS)})")
    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in {"", "0"}
    console = Console()
    for row in run(quick, tuple(args.workloads) or WORKLOADS, args.chunk):
        verdict = row["status"] or ("PASS" if row["passed"] else "FAIL")
        console.print(
            f"{row['name']}: {row['figure']} [{row['size']}] target {row['target']}"
            f" → {verdict} {row['note']}",
            markup=False,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
