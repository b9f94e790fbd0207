"""Record linkage: 1 M department feed records against 1 M registry persons.

``minzheng.verification.linkage.link`` (exact on valid ID numbers, then Splink on DuckDB)
on the synthetic data of ``benchmarks/linkage_data.py``: 90 % of the records copy a
registry person, 10 % are strangers; 10 % of ID numbers are missing, 5 % have two adjacent
digits swapped, 3 % a wrong check character; 8 % of names carry a homophone (张/章);
addresses are abbreviated (30 %), changed (5 %) or missing (5 %). Timed in a child
process from the two frames in memory to the links (generating is not timed; the data is
cached as Parquet under ``var/bench/linkage-*``, keyed by size, seed and the generator's
source). Reported against the truth:

- wall time of ``link`` (target < 5 min) and the process's peak RSS during it;
- precision and recall of every link returned, automatic or for review (targets ≥ 0.99
  each), and of the automatic links alone;
- the review-queue size;
- recall of exact-ID-only matching (``link_exact``) in the same run, and by error kind
  what the probabilistic step recovers.

    python -m benchmarks.bench_linkage [--quick]   # 20,000 × 20,000 with --quick
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"
SIZE = 1_000_000
QUICK_SIZE = 20_000
SEED = 0
TARGET_SECONDS = 300.0
TARGET_PRECISION = 0.99
TARGET_RECALL = 0.99
ERROR_KINDS = ("id_missing", "id_transposed", "id_check_digit", "name_homophone")

err = Console(stderr=True)


def _peak_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _data(size: int) -> tuple[Any, Any, Any]:
    """Persons, records and truth for ``size``, from the cache or generated once."""
    import polars as pl

    from benchmarks import linkage_data

    tag = hashlib.sha1(Path(linkage_data.__file__).read_bytes()).hexdigest()[:8]
    stem = BENCH_DIR / f"linkage-{size}-{SEED}-{tag}"
    paths = [Path(f"{stem}-{part}.parquet") for part in ("persons", "records", "truth")]
    if all(p.exists() for p in paths):
        return tuple(pl.read_parquet(p) for p in paths)  # type: ignore[return-value]
    err.print(f"  generating {size:,} persons and {size:,} records (cached in {stem.parent})")
    data = linkage_data.generate(size, size, SEED)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    for frame, path in zip((data.persons, data.records, data.truth), paths, strict=True):
        frame.write_parquet(path)
    return data.persons, data.records, data.truth


def _score(truth: Any, links: Any) -> dict[str, float]:
    import polars as pl

    joined = truth.join(
        links.select("record_id", pl.col("person_id").alias("found"), "status"),
        on="record_id",
        how="left",
    )
    actual = joined.filter(pl.col("person_id").is_not_null()).height
    right = pl.col("found") == pl.col("person_id")
    out: dict[str, float] = {}
    for scope, returned in (
        ("all", pl.col("found").is_not_null()),
        ("auto", pl.col("status") == "auto"),
    ):
        found = joined.filter(returned)
        correct = found.filter(right).height
        out[f"precision_{scope}"] = correct / found.height if found.height else 1.0
        out[f"recall_{scope}"] = correct / actual if actual else 1.0
        out[f"wrong_{scope}"] = found.height - correct
    for kind in ERROR_KINDS:
        subset = joined.filter(pl.col(kind) & pl.col("person_id").is_not_null())
        out[f"recall_{kind}"] = (
            subset.filter(right).height / subset.height if subset.height else 1.0
        )
    return out


def child(size: int, out: Path) -> None:
    from minzheng.verification.linkage import link, link_exact

    persons, records, truth = _data(size)
    _reset_peak()
    started = time.perf_counter()
    links = link(records, persons)
    seconds = time.perf_counter() - started
    peak = _peak_mib()
    started = time.perf_counter()
    exact = link_exact(records, persons)
    exact_seconds = time.perf_counter() - started
    result = {
        "persons": persons.height,
        "records": records.height,
        "seconds": seconds,
        "exact_seconds": exact_seconds,
        "peak_mib": peak,
        "links": links.height,
        "review": links.filter(links["status"] == "review").height,
        "probabilistic": links.filter(links["method"] == "probabilistic").height,
        "linked": _score(truth, links),
        "exact": _score(truth, exact),
    }
    out.write_text(json.dumps(result))


def run(quick: bool = False) -> list[dict[str, Any]]:
    size = QUICK_SIZE if quick else SIZE
    err.print(f"[bold]linkage[/bold] {size:,} feed records × {size:,} registry persons")
    name = "record linkage (exact + Splink/DuckDB)"
    size_label = f"{size:,} records × {size:,} persons"
    target = (
        f"< {TARGET_SECONDS / 60:.0f} min; precision ≥ {TARGET_PRECISION}, recall ≥ {TARGET_RECALL}"
    )
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    try:
        cmd = [sys.executable, "-m", "benchmarks.bench_linkage", "--child", str(size)]
        proc = subprocess.run([*cmd, "--out", str(out)], cwd=ROOT, check=False)
        if proc.returncode != 0 or not out.stat().st_size:
            return [
                {
                    "name": name,
                    "size": size_label,
                    "figure": "—",
                    "target": target,
                    "passed": None,
                    "status": "ERROR",
                    "note": f"child exited with {proc.returncode}",
                }
            ]
        data = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
    linked, exact = data["linked"], data["exact"]
    passed = (
        data["seconds"] < TARGET_SECONDS
        and linked["precision_all"] >= TARGET_PRECISION
        and linked["recall_all"] >= TARGET_RECALL
    )
    by_kind = ", ".join(
        f"{kind.removeprefix('id_').replace('_', ' ')} {exact[f'recall_{kind}']:.2f}→"
        f"{linked[f'recall_{kind}']:.4f}"
        for kind in ERROR_KINDS
    )
    return [
        {
            "name": name,
            "size": size_label,
            "figure": (
                f"{data['seconds']:.1f} s; precision {linked['precision_all']:.5f}, "
                f"recall {linked['recall_all']:.5f} (automatic only: "
                f"{linked['precision_auto']:.5f}, {linked['recall_auto']:.5f})"
            ),
            "target": target,
            "passed": passed,
            "status": "",
            "note": (
                f"review queue {data['review']:,} of {data['links']:,} links "
                f"({data['probabilistic']:,} probabilistic); wrong links "
                f"{linked['wrong_all']:,} ({linked['wrong_auto']:,} automatic); peak RSS "
                f"{data['peak_mib'] / 1024:.1f} GiB"
            ),
        },
        {
            "name": "record linkage: exact ID only (same run)",
            "size": size_label,
            "figure": (
                f"{data['exact_seconds']:.1f} s; precision {exact['precision_all']:.5f}, "
                f"recall {exact['recall_all']:.5f}"
            ),
            "target": "recall below the probabilistic linkage's",
            "passed": exact["recall_all"] < linked["recall_all"],
            "status": "",
            "note": f"recall by error, exact → probabilistic: {by_kind}",
        },
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="20,000 × 20,000 (BENCH_QUICK=1)")
    parser.add_argument("--child", type=int, metavar="SIZE", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.out)
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
