"""The emergency-call gateway endpoint: at least 500 events/s with p99 under 100 ms, and
no event lost.

Set-up (not timed), in a child process: a fresh PostgreSQL database, migrated; the demo
divisions (``minzheng.demo.services.demo_divisions``); 2,000 elders aged 66–95 (one
household each, spread over Xicheng's communities, written with
``minzheng.registry.bulk.bulk_insert``) with one emergency-call device each, keyed as
``eldercare.alarms.device_register`` keys a device (a random ``key_id`` and secret, only
the keyed hash stored); the keys are handed to the load generator in a private file.
Twenty more devices serve the warm-up.

The real server: ``minzheng serve`` (collectstatic, then gunicorn's sync workers; the
load starts once every worker has logged that it loaded the application —
``--workers 4``, ``serve``'s default of two per core on this 2-core machine: a sync
worker waits for each commit) on a free loopback port, with
``DATABASE_URL`` pointing at the benchmark's database, its access log in
``var/bench/devices-server.log``.

The load, from a second process: an open-loop generator (asyncio, raw HTTP/1.1 over a new
connection per request, as gunicorn's sync workers close each one) that sends
``POST /api/v1/device-events`` with ``Authorization: Device <key_id>:<secret>`` at a fixed
rate of 500 events/s for 20 s (``--quick``: 5 s) — every event's send time is fixed in
advance, and its latency is measured from that time to the end of the response, so a
server that falls behind is charged for the queue it builds. Events go to devices drawn
at random (so most devices get several events within the merge window: one incident,
the rest merged), and 8 % are resends of an event sent 0.1–1 s earlier (same device,
``event_id`` and time: answered 200 with the same incident, never counted twice). A
warm-up of 200 events (1 s, on the warm-up devices) comes first, so that each worker has
loaded the application; it is not measured.

Checked afterwards, in the database: one ``DeviceEvent`` per distinct event sent (none
lost, none doubled), one incident per device that sent anything, each incident's
``events`` equal to its device's distinct events; and in the answers: 202 for every new
event, 200 and ``duplicate`` for every resend, ``merged`` for every event but a device's
first. A run passes when the answers come at the offered 500 events/s (measured from the
first answer to the last, within 1 % for the timers' jitter), p99 < 100 ms, no error and
these checks.

The note also gives the CPU used while sending (the server's processes, PostgreSQL's, the
whole machine, in cores); ``var/bench/devices-cpu.json`` has the same every quarter
second and ``var/bench/devices-load.json`` each request's latency, so that a slow stretch
can be matched with what else the (shared) machine was doing.

Database: on the PostgreSQL server of ``BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/minzheng_bench``) the database
``minzheng_bench_devices`` (``…_quick``), dropped and created again each run. Without a
reachable PostgreSQL the row is SKIP (SQLite serves one writer at a time and is not a
production target for the gateway).

    python -m benchmarks.bench_devices [--quick] [--rate 500] [--seconds 20] [--workers 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks.bench_inbox import (
    bench_database_url,
    postgres_reachable,
    recreate_postgres,
)

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"
DEVICES = 2_000
WARMUP_DEVICES = 20
WARMUP_EVENTS = 200
RATE = 500
SECONDS = 20
QUICK_SECONDS = 5
# ``minzheng serve --workers 4``: a sync worker waits for PostgreSQL's commit, so two per
# core keep both busy (measured: with 2 workers, p99 over 100 ms; with 4, 16–32 ms)
WORKERS = 4
RESEND_SHARE = 0.08
TARGET_RATE = 500.0
TARGET_P99_MS = 100.0
# the answers' rate is measured from the first to the last answer, so it differs from the
# offered rate by the timers' jitter: within 1 % of the target counts as keeping up
RATE_JITTER = 0.01
REQUEST_TIMEOUT_S = 30.0
SEED = 0
PATH = "/api/v1/device-events"

err = Console(stderr=True)


# ---------------------------------------------------------------- databases (parent side)


def postgres_url(quick: bool) -> str:
    return bench_database_url("devices", quick)


# ---------------------------------------------------------------- set-up (child side)


def setup(database_url: str, devices: int, out: Path) -> None:
    """Migrate, load the elders and their call devices, write the keys to ``out``."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "minzheng.config.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["MINZHENG_DEBUG"] = "0"
    import django

    django.setup()
    import secrets
    from datetime import date

    from django.core.management import call_command
    from django.db import connection, transaction

    from minzheng.core.crypto import encrypt, lookup_hash
    from minzheng.core.ids import check_char, mask_id_number
    from minzheng.demo.services import demo_divisions
    from minzheng.eldercare import alarms
    from minzheng.eldercare.models import Device, DeviceKind
    from minzheng.registry.bulk import bulk_insert
    from minzheng.registry.models import Division, Household, Person

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - started
    started = time.perf_counter()
    demo_divisions(SEED)
    communities = list(
        Division.objects.filter(level="community", path__startswith="110000/110102/").order_by(
            "code"
        )
    )
    rng = random.Random(SEED)
    total = devices + WARMUP_DEVICES
    keys: list[dict[str, Any]] = []
    with transaction.atomic():
        households = bulk_insert(
            Household,
            [
                Household(
                    number=f"BENCH-DEV-{i:06d}",
                    division=communities[i % len(communities)],
                    address=f"测试路{i}号",
                    hukou="beijing",
                )
                for i in range(total)
            ],
        )
        people = []
        for i, household in enumerate(households):
            born = date(1931 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28))
            stem = f"110102{born:%Y%m%d}{i % 1000:03d}"
            number = stem + check_char(stem)
            people.append(
                Person(
                    household=household,
                    name=f"老人{i:04d}",
                    relation="head",
                    id_number_encrypted=encrypt(number),
                    id_number_hash=lookup_hash(number),
                    id_number_masked=mask_id_number(number),
                    birth_date=born,
                    sex="F" if i % 2 else "M",
                )
            )
        people = bulk_insert(Person, people)
        rows = []
        for i, person in enumerate(people):
            key_id, secret = alarms._new_key_id(), secrets.token_urlsafe(32)
            rows.append(
                Device(
                    person=person,
                    division_path=households[i].division.path,
                    kind=DeviceKind.EMERGENCY_CALL,
                    installed_on=date(2026, 1, 1),
                    serial=f"SOS-{i:06d}",
                    key_id=key_id,
                    key_hash=alarms._key_hash(key_id, secret),
                )
            )
            keys.append({"key_id": key_id, "secret": secret})
        made = bulk_insert(Device, rows)
        for k, d in zip(keys, made, strict=True):
            k["device"] = d.pk
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    load_s = time.perf_counter() - started
    out.write_text(
        json.dumps(
            {
                "migrate_s": migrate_s,
                "load_s": load_s,
                "devices": keys[:devices],
                "warmup": keys[devices:],
            }
        )
    )
    out.chmod(0o600)


# ---------------------------------------------------------------- the server (parent side)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(database_url: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "MINZHENG_DEBUG": "0",
           "MINZHENG_LOG_LEVEL": "WARNING"}  # fmt: skip
    minzheng = Path(sys.executable).with_name("minzheng")
    cmd = [str(minzheng), "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers)]  # fmt: skip
    handle = log.open("wb")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path, workers: int,
               timeout: float = 120.0) -> None:  # fmt: skip
    """Until every worker has loaded the application (``gunicorn_conf.READY`` in the log,
    once per worker) and the endpoint answers (a request without a key: 401)."""
    from minzheng.config.gunicorn_conf import READY

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        if log.read_text(errors="replace").count(READY) < workers:
            time.sleep(0.3)
            continue
        try:
            status, _ = asyncio.run(_post(port, b"{}", "Device none:none", 5.0))
            if status == 401:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not answer within 120 s")


def _ticks(pid: int) -> int:
    """User + system CPU ticks of a process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def cpu_snapshot(server: int) -> dict[str, int]:
    """CPU ticks so far: the server (master and workers), PostgreSQL's processes, the
    whole machine (busy and total)."""
    procs: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            procs[int(entry.name)] = (int(stat.rpartition(")")[2].split()[1]), name)
    workers = [pid for pid, (ppid, _) in procs.items() if ppid == server]
    postgres = [pid for pid, (_, name) in procs.items() if name.startswith("postgres")]
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    total = sum(int(x) for x in cpu)
    idle = int(cpu[3]) + int(cpu[4])
    return {
        "server": _ticks(server) + sum(_ticks(p) for p in workers),
        "postgres": sum(_ticks(p) for p in postgres),
        "busy": total - idle,
        "total": total,
    }


def _sample(server: int, timeline: list[dict[str, float]], stop: threading.Event) -> None:
    """CPU in cores every quarter second (server, PostgreSQL, the whole machine), written
    to ``var/bench/devices-cpu.json`` so that a slow stretch can be matched with what the
    machine was doing."""
    started = time.monotonic()
    last = cpu_snapshot(server)
    while not stop.wait(0.25):
        now = cpu_snapshot(server)
        span = (now["total"] - last["total"]) / (os.cpu_count() or 1) or 1
        timeline.append({"t": round(time.monotonic() - started, 2),
                         **{k: round((now[k] - last[k]) / span, 2)
                            for k in ("server", "postgres", "busy")}})  # fmt: skip
        last = now


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()  # gunicorn's master: a graceful stop of its workers
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# ---------------------------------------------------------------- the load (second process)


async def _post(port: int, body: bytes, auth: str, timeout: float) -> tuple[int, bytes]:
    async def go() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            head = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {auth}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                    "Connection: close\r\n\r\n").encode()  # fmt: skip
            writer.write(head + body)
            await writer.drain()
            data = await reader.read()
        finally:
            writer.close()
        status = int(data[9:12]) if data[:5] == b"HTTP/" else 0
        return status, data.partition(b"\r\n\r\n")[2]

    return await asyncio.wait_for(go(), timeout)


def plan(
    keys: list[dict[str, Any]], total: int, rate: int, seed: int = SEED
) -> list[dict[str, Any]]:
    """Each event's offset (s), device and body; resends repeat an earlier event's body."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    for i in range(total):
        offset = i / rate
        recent = [j for j in range(max(0, i - rate), i - rate // 10) if not events[j]["resend"]]
        if recent and rng.random() < RESEND_SHARE:
            original = events[rng.choice(recent)]
            events.append({**original, "offset": offset, "resend": True})
            continue
        k = rng.randrange(len(keys))
        events.append({"offset": offset, "key": k, "event_id": f"bench-{seed}-{i:06d}",
                       "kind": "fall" if rng.random() < 0.1 else "button", "resend": False})  # fmt: skip
    return events


async def _drive(port: int, keys: list[dict[str, Any]], events: list[dict[str, Any]],
                 epoch: float) -> list[dict[str, Any]]:  # fmt: skip
    """Send each event at its time (``epoch`` + offset, wall clock for ``occurred_at``)."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    results: list[dict[str, Any]] = [{} for _ in events]

    async def one(i: int, due: float) -> None:
        ev = events[i]
        key = keys[ev["key"]]
        occurred = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch + ev["occurred"]))
        body = json.dumps({"event_id": ev["event_id"], "kind": ev["kind"],
                           "occurred_at": f"{occurred}Z"}).encode()  # fmt: skip
        sent = loop.time()
        try:
            status, payload = await _post(port, body, f"Device {key['key_id']}:{key['secret']}",
                                          REQUEST_TIMEOUT_S)  # fmt: skip
            answer = json.loads(payload) if payload else {}
        except Exception as exc:
            status, answer = 0, {"error": f"{type(exc).__name__}: {exc}"}
        done = loop.time()
        results[i] = {"status": status, "answer": answer, "ms": (done - due) * 1000,
                      "lag_ms": (sent - due) * 1000, "sent_s": sent - start,
                      "done_s": done - start}  # fmt: skip

    tasks: list[asyncio.Task[None]] = []
    i = 0
    while i < len(events):
        now = loop.time()
        while i < len(events) and start + events[i]["offset"] <= now:
            tasks.append(asyncio.create_task(one(i, start + events[i]["offset"])))
            i += 1
        if i < len(events):
            await asyncio.sleep(max(0.0, start + events[i]["offset"] - loop.time()))
    await asyncio.gather(*tasks)
    results.append({"elapsed_s": loop.time() - start})
    return results


def load(port: int, keys_path: Path, rate: int, seconds: int, out: Path) -> None:
    data = json.loads(keys_path.read_text())
    keys, warm = data["devices"], data["warmup"]
    epoch = time.time()
    warmup = plan(warm, WARMUP_EVENTS, WARMUP_EVENTS, seed=SEED + 1)
    for ev in warmup:
        ev["occurred"] = ev["offset"]
    asyncio.run(_drive(port, warm, warmup, epoch))
    events = plan(keys, rate * seconds, rate)
    epoch = time.time()
    for ev in events:  # a resend carries its original's time
        ev["occurred"] = ev["offset"]
    by_id = {ev["event_id"]: ev for ev in events if not ev["resend"]}
    for ev in events:
        if ev["resend"]:
            ev["occurred"] = by_id[ev["event_id"]]["occurred"]
    results = asyncio.run(_drive(port, keys, events, epoch))
    elapsed = results.pop()["elapsed_s"]
    out.write_text(json.dumps({"events": events, "results": results, "elapsed_s": elapsed,
                               "load_average": os.getloadavg()[0]}))  # fmt: skip


# ---------------------------------------------------------------- checking (parent side)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def check(database_url: str, keys: list[dict[str, Any]], run: dict[str, Any]) -> dict[str, Any]:
    """What the database holds against what was sent; what the answers said."""
    import psycopg

    events, results = run["events"], run["results"]
    unique: dict[int, set[str]] = {}
    for ev in events:
        if not ev["resend"]:
            unique.setdefault(keys[ev["key"]]["device"], set()).add(ev["event_id"])
    device_ids = sorted(unique)
    measured = [k["device"] for k in keys]
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT count(*), count(DISTINCT (device_id, event_id)) FROM eldercare_deviceevent "
            "WHERE device_id = ANY(%s)", (measured,),
        ).fetchone()  # fmt: skip
        incidents = conn.execute(
            "SELECT device_id, count(*), sum(events) FROM eldercare_incident "
            "WHERE device_id = ANY(%s) GROUP BY device_id", (measured,),
        ).fetchall()  # fmt: skip
    assert stored is not None
    per_device = {d: (n, int(s)) for d, n, s in incidents}
    sent_unique = sum(len(v) for v in unique.values())
    resends = sum(1 for ev in events if ev["resend"])
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
    answered_dup = sum(1 for r in results if r["answer"].get("duplicate") is True)
    answered_merged = sum(1 for r in results if r["answer"].get("merged") is True)
    wrong_status = sum(
        1
        for ev, r in zip(events, results, strict=True)
        if r["status"] != (200 if ev["resend"] else 202)
    )
    return {
        "sent": len(events),
        "sent_unique": sent_unique,
        "resends": resends,
        "devices_hit": len(device_ids),
        "stored_events": stored[0],
        "stored_distinct": stored[1],
        "incidents": sum(n for n, _ in per_device.values()),
        "incident_devices": len(per_device),
        "incident_event_mismatch": sum(
            1 for d in device_ids if per_device.get(d, (0, 0)) != (1, len(unique[d]))
        ),
        "statuses": statuses,
        "answered_duplicate": answered_dup,
        "answered_merged": answered_merged,
        "expected_merged": sent_unique - len(device_ids),
        "wrong_status": wrong_status,
        "errors": [
            r["answer"].get("error") or r["answer"].get("code")
            for r in results
            if r["status"] not in (200, 202)
        ][:5],
    }


# ---------------------------------------------------------------- the row (parent side)


def _row(status: str, note: str, size: str) -> list[dict[str, Any]]:
    return [{"name": "devices: gateway events", "size": size, "figure": "—",
             "target": f"≥ {TARGET_RATE:.0f} events/s, p99 < {TARGET_P99_MS:.0f} ms, none lost",
             "passed": None, "status": status, "note": note}]  # fmt: skip


def _run_child(args: list[str]) -> int:
    return subprocess.run([sys.executable, "-m", "benchmarks.bench_devices", *args], cwd=ROOT,
                          check=False).returncode  # fmt: skip


def run(quick: bool = False, rate: int = RATE, seconds: int | None = None,
        workers: int = WORKERS) -> list[dict[str, Any]]:  # fmt: skip
    seconds = seconds or (QUICK_SECONDS if quick else SECONDS)
    size = f"PostgreSQL, {DEVICES:,} call devices, {rate}/s for {seconds} s, {workers} workers"
    url = postgres_url(quick)
    why = postgres_reachable(url)
    if why is not None:
        return _row("SKIP", f"PostgreSQL unreachable: {why}", size)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    recreate_postgres(url)
    err.print(f"[bold]devices[/bold] {DEVICES:,} call devices, {rate}/s for {seconds} s")
    with tempfile.TemporaryDirectory(prefix="bench-devices-") as tmp:
        keys_path, out = Path(tmp) / "keys.json", Path(tmp) / "load.json"
        if _run_child(["--setup", url, "--out", str(keys_path)]) != 0:
            return _row("ERROR", "set-up failed (see stderr)", size)
        setup_data = json.loads(keys_path.read_text())
        err.print(f"[dim]  migrated in {setup_data['migrate_s']:.0f} s, loaded in "
                  f"{setup_data['load_s']:.0f} s; starting the server …[/dim]")  # fmt: skip
        port = free_port()
        log = BENCH_DIR / "devices-server.log"
        proc = start_server(url, port, workers, log)
        try:
            wait_ready(port, proc, log, workers)
            err.print(f"[dim]  server on 127.0.0.1:{port}; sending …[/dim]")
            before = cpu_snapshot(proc.pid)
            timeline: list[dict[str, float]] = []
            stop = threading.Event()
            sampler = threading.Thread(target=_sample, args=(proc.pid, timeline, stop))
            sampler.start()
            try:
                code = _run_child(["--load", str(port), "--keys", str(keys_path), "--rate",
                                   str(rate), "--seconds", str(seconds), "--out", str(out)])  # fmt: skip
            finally:
                stop.set()
                sampler.join()
            (BENCH_DIR / "devices-cpu.json").write_text(json.dumps(timeline))
            if code != 0:
                return _row("ERROR", f"load generator exited with {code}", size)
            after = cpu_snapshot(proc.pid)
        finally:
            stop_server(proc)
        data = json.loads(out.read_text())
        (BENCH_DIR / "devices-load.json").write_text(json.dumps(data["results"]))
        checked = check(url, setup_data["devices"], data)
    ms = [r["ms"] for r in data["results"]]
    # CPU used while sending (the warm-up included), in cores: the machine has os.cpu_count()
    span = (after["total"] - before["total"]) / (os.cpu_count() or 1)
    cores = {k: (after[k] - before[k]) / span for k in ("server", "postgres", "busy")}
    lag = [r["lag_ms"] for r in data["results"]]
    # the rate the answers came at (first to last) and the rate the requests went out at:
    # equal when the server keeps up with the offered load
    done = sorted(r["done_s"] for r in data["results"])
    sent = sorted(r["sent_s"] for r in data["results"])
    achieved = (len(done) - 1) / (done[-1] - done[0])
    offered = (len(sent) - 1) / (sent[-1] - sent[0])
    p50, p95, p99 = (_percentile(ms, q) for q in (0.50, 0.95, 0.99))
    errors = sum(n for s, n in checked["statuses"].items() if s not in ("200", "202"))
    lost_ok = (
        checked["stored_events"] == checked["sent_unique"] == checked["stored_distinct"]
        and checked["incidents"] == checked["devices_hit"] == checked["incident_devices"]
        and checked["incident_event_mismatch"] == 0
        and checked["answered_duplicate"] == checked["resends"]
        and checked["answered_merged"] == checked["expected_merged"]
        and checked["wrong_status"] == 0
    )
    passed = (
        achieved >= TARGET_RATE * (1 - RATE_JITTER)
        and p99 < TARGET_P99_MS
        and errors == 0
        and lost_ok
    )
    note = (
        f"{checked['sent']:,} requests ({checked['sent_unique']:,} distinct events, "
        f"{checked['resends']:,} resends) to {checked['devices_hit']:,} devices; stored "
        f"{checked['stored_events']:,} events in {checked['incidents']:,} incidents "
        f"({'none lost or doubled' if lost_ok else 'MISMATCH: ' + json.dumps(checked)}); answers "
        f"{checked['statuses']}, {checked['answered_merged']:,} merged, "
        f"{checked['answered_duplicate']:,} duplicate; max {max(ms):.0f} ms; sent at {offered:.1f}/s, "
        f"generator lag p99 "
        f"{_percentile(lag, 0.99):.1f} ms; CPU while sending (cores of {os.cpu_count()}): "
        f"server {cores['server']:.2f}, PostgreSQL {cores['postgres']:.2f}, whole machine "
        f"{cores['busy']:.2f}; load average {data['load_average']:.1f}; "
        f"set-up {setup_data['migrate_s'] + setup_data['load_s']:.0f} s"
        + (f"; errors: {checked['errors']}" if errors else "")
    )
    return [{"name": "devices: gateway events (HTTP, second process)", "size": size,
             "figure": f"{achieved:.1f} events/s; p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms",
             "target": f"≥ {TARGET_RATE:.0f} events/s, p99 < {TARGET_P99_MS:.0f} ms, none lost",
             "passed": passed, "status": "", "note": note, "p99_ms": p99,
             "events_per_s": achieved}]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_SECONDS} s instead of {SECONDS} s (also BENCH_QUICK=1)")  # fmt: skip
    parser.add_argument("--rate", type=int, default=RATE, help="events per second")
    parser.add_argument("--seconds", type=int, help="how long to send")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers")
    parser.add_argument("--setup", help=argparse.SUPPRESS)
    parser.add_argument("--load", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--keys", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.setup:
        setup(args.setup, DEVICES, args.out)
        return 0
    if args.load:
        load(args.load, args.keys, args.rate, args.seconds, args.out)
        return 0
    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in {"", "0"}
    rows = run(quick, args.rate, args.seconds, args.workers)
    from benchmarks.__main__ import render

    Console(width=200).print(render(rows, "devices"))
    return 1 if any(r.get("status") == "ERROR" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
