"""Dashboard figures for every level, computed at once and cached.

Each figure is one SQL ``GROUP BY`` at the finest grain (the household's division, which
is a community for registered households), read into a Polars frame; the figures of a
street, a district or the city are the same frames filtered by path prefix and summed
(distinct households never span two communities, so the sums are exact). A refresh
writes one ``Aggregate`` row per division; the dashboard reads it and shows its "as of"
time. Money is summed in integer fen in SQL (SQLite keeps decimals as floats).

Figures:

- ``current``: the latest month paid: distinct households paid (one household under two
  programmes counts once), the amount, and per programme;
- ``trend``: per month (24 months back from the current one) and programme, households
  with a regular payment for that month and the amount of all payments for that month
  (regular, arrears, adjustments, recoveries, re-issues) in approved payrolls (应发);
- ``applications``: open application lines per step, and how many are past their due day;
- ``decisions``: lines decided in the last 365 days per programme: approved, rejected,
  the approval rate and the average days from application to decision;
- ``verification``: discrepancies per source, unresolved and resolved;
- ``poverty``: the poverty-index distribution (bands of 10) of households with an open
  application (the ranking's population), as of the refresh day;
- ``discovery``: proactive-discovery items per status and the conversion rate;
- ``coverage``: per child division, households, recipient households (a live
  entitlement) and recipients per 1,000 households (the map).
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta
from typing import Any

import polars as pl
from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from minzheng.applications.models import DECIDED_STATES, OPEN_STATES, ApplicationLine, State
from minzheng.benefits.models import LIVE_STATUSES, Entitlement, Payment, PayrollRun, PayrollStatus
from minzheng.casework.models import DiscoveryItem, ItemStatus
from minzheng.core.periods import add_months, month_of
from minzheng.programmes.eligibility import programme_labels
from minzheng.programmes.targeting import registry_poverty_index
from minzheng.registry.models import Division, Household
from minzheng.verification.models import Discrepancy

from .models import Aggregate

log = logging.getLogger(__name__)

NAME = "dashboard"
MONTHS = 24
DECIDED_DAYS = 365
APPROVED_RUNS = (PayrollStatus.APPROVED, PayrollStatus.EXPORTED, PayrollStatus.RECONCILED)


def _frame(rows: list[tuple[Any, ...]], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def _payments(root: str, first: date) -> pl.DataFrame:
    """(path, month, programme, households, fen) at the community grain. A household has at
    most one regular payment per programme and month (a database constraint), so counting
    regular payments counts households without a DISTINCT (which sorted 1.9 M rows)."""
    runs = [str(s) for s in APPROVED_RUNS]
    sql = f"""
        SELECT p.division_path, p.period, p.programme,
               COUNT(CASE WHEN p.kind = 'regular' THEN 1 END),
               SUM(CAST(ROUND(p.amount * 100) AS BIGINT))
        FROM {Payment._meta.db_table} p JOIN {PayrollRun._meta.db_table} r ON r.id = p.run_id
        WHERE p.division_path LIKE %s AND p.period >= %s AND r.status IN ({", ".join(["%s"] * len(runs))})
        GROUP BY p.division_path, p.period, p.programme
    """
    with connection.cursor() as cur:
        cur.execute(sql, [root + "%", first, *runs])
        rows = [(a, b if isinstance(b, date) else date.fromisoformat(str(b)[:10]), c, int(d or 0), int(e or 0))
                for a, b, c, d, e in cur.fetchall()]  # fmt: skip
    return _frame(rows, {"path": pl.Utf8, "month": pl.Date, "programme": pl.Utf8,
                         "households": pl.Int64, "fen": pl.Int64})  # fmt: skip


def _recipients(root: str, first: date) -> pl.DataFrame:
    """(path, month, households): distinct households with a regular payment, whatever the
    programme (a household paid under two programmes is one household)."""
    runs = [str(s) for s in APPROVED_RUNS]
    sql = f"""
        SELECT p.division_path, p.period, COUNT(DISTINCT p.household_id)
        FROM {Payment._meta.db_table} p JOIN {PayrollRun._meta.db_table} r ON r.id = p.run_id
        WHERE p.division_path LIKE %s AND p.period >= %s AND p.kind = 'regular'
          AND r.status IN ({", ".join(["%s"] * len(runs))})
        GROUP BY p.division_path, p.period
    """
    with connection.cursor() as cur:
        cur.execute(sql, [root + "%", first, *runs])
        rows = [(a, b if isinstance(b, date) else date.fromisoformat(str(b)[:10]), int(c or 0))
                for a, b, c in cur.fetchall()]  # fmt: skip
    return _frame(rows, {"path": pl.Utf8, "month": pl.Date, "households": pl.Int64})


def _applications(root: str, today: date) -> pl.DataFrame:
    rows = list(
        ApplicationLine.objects.filter(division_path__startswith=root, state__in=OPEN_STATES)
        .values("division_path", "state")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(step_due__lt=today)))
        .values_list("division_path", "state", "n", "overdue")
    )
    return _frame(rows, {"path": pl.Utf8, "state": pl.Utf8, "n": pl.Int64, "overdue": pl.Int64})


def _decisions(root: str, today: date) -> pl.DataFrame:
    since = timezone.now() - timedelta(days=DECIDED_DAYS)
    took = ExpressionWrapper(
        F("decided_at") - F("application__created_at"), output_field=DurationField()
    )
    rows = [
        (path, programme, state, int(n), (total.total_seconds() / 86400) if total else 0.0)
        for path, programme, state, n, total in ApplicationLine.objects.filter(
            division_path__startswith=root, state__in=DECIDED_STATES, decided_at__gte=since
        )
        .values("division_path", "programme", "state")
        .annotate(n=Count("pk"), total=Sum(took))
        .values_list("division_path", "programme", "state", "n", "total")
    ]
    frame = _frame(rows, {"path": pl.Utf8, "programme": pl.Utf8, "state": pl.Utf8, "n": pl.Int64,
                          "days": pl.Float64})  # fmt: skip
    return frame.group_by("path", "programme").agg(
        pl.col("n").filter(pl.col("state") == State.APPROVED).sum().alias("approved"),
        pl.col("n").filter(pl.col("state") == State.REJECTED).sum().alias("rejected"),
        pl.col("days").sum().alias("days"),
    )


def _verification(root: str) -> pl.DataFrame:
    rows = list(
        Discrepancy.objects.filter(report__household__division__path__startswith=root)
        .values("report__household__division__path", "source")
        .annotate(
            open=Count("pk", filter=Q(resolved_at__isnull=True)),
            resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
        )
        .values_list("report__household__division__path", "source", "open", "resolved")
    )
    return _frame(
        rows, {"path": pl.Utf8, "source": pl.Utf8, "open": pl.Int64, "resolved": pl.Int64}
    )


def _poverty(root: str, today: date) -> pl.DataFrame:
    ids = list(
        ApplicationLine.objects.filter(division_path__startswith=root, state__in=OPEN_STATES)
        .values_list("household_id", flat=True)
        .distinct()
    )
    schema = {"path": pl.Utf8, "band": pl.Int64, "n": pl.Int64}
    if not ids:
        return pl.DataFrame(schema=schema)
    index = registry_poverty_index(None, today, household_ids=ids)
    paths = _frame(list(Household.objects.filter(pk__in=ids).values_list("pk", "division__path")),
                   {"household_id": pl.Int64, "path": pl.Utf8})  # fmt: skip
    return (
        index.join(paths, on="household_id")
        .with_columns((pl.col("index") // 10).clip(0, 9).cast(pl.Int64).alias("band"))
        .group_by("path", "band")
        .len("n")
        .with_columns(pl.col("n").cast(pl.Int64))
        .select(list(schema))
    )


def _discovery(root: str) -> pl.DataFrame:
    rows = list(
        DiscoveryItem.objects.filter(division_path__startswith=root)
        .values("division_path", "status")
        .annotate(n=Count("pk"))
        .values_list("division_path", "status", "n")
    )
    return _frame(rows, {"path": pl.Utf8, "status": pl.Utf8, "n": pl.Int64})


def _coverage(root: str) -> pl.DataFrame:
    households = dict(
        Household.objects.filter(division__path__startswith=root)
        .values("division__path")
        .annotate(n=Count("pk"))
        .values_list("division__path", "n")
    )
    recipients = dict(
        Entitlement.objects.filter(division_path__startswith=root, status__in=LIVE_STATUSES)
        .values("division_path")
        .annotate(n=Count("household_id", distinct=True))
        .values_list("division_path", "n")
    )
    rows = [
        (p, households.get(p, 0), recipients.get(p, 0)) for p in set(households) | set(recipients)
    ]
    return _frame(rows, {"path": pl.Utf8, "households": pl.Int64, "recipients": pl.Int64})


# -- one division's payload from the frames ------------------------------------------------------


def _under(frame: pl.DataFrame, path: str) -> pl.DataFrame:
    return frame.filter(pl.col("path").str.starts_with(path))


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}" if fen >= 0 else f"-{(-fen) // 100}.{(-fen) % 100:02d}"


def payload(frames: dict[str, pl.DataFrame], division: Division, children: list[Division],
            months: list[date]) -> dict[str, Any]:  # fmt: skip
    """The dashboard of ``division``: every figure filtered to its subtree."""
    labels = programme_labels()
    pay = _under(frames["payments"], division.path)
    by_month = pay.group_by("month", "programme").agg(
        pl.col("households").sum(), pl.col("fen").sum()
    )
    programmes = sorted(set(by_month.get_column("programme").to_list()))
    trend: dict[str, dict[str, Any]] = {
        pid: {
            "label": labels.get(pid, (pid,))[0],
            "households": [0] * len(months),
            "amounts": ["0.00"] * len(months),
        }
        for pid in programmes
    }
    index = {m: k for k, m in enumerate(months)}
    for row in by_month.iter_rows(named=True):
        k = index.get(row["month"])
        if k is not None:
            trend[row["programme"]]["households"][k] = int(row["households"])
            trend[row["programme"]]["amounts"][k] = _yuan(int(row["fen"]))
    # the latest month paid (this month's payroll is usually still being prepared)
    paid = by_month.get_column("month").to_list()
    current = max((m for m in paid if m in months), default=months[-1])
    this_month = by_month.filter(pl.col("month") == current)
    apps = (
        _under(frames["applications"], division.path)
        .group_by("state")
        .agg(pl.col("n").sum(), pl.col("overdue").sum())
    )
    states = dict(State.choices)
    decided = (
        _under(frames["decisions"], division.path)
        .group_by("programme")
        .agg(pl.col("approved").sum(), pl.col("rejected").sum(), pl.col("days").sum())
    )
    verification = (
        _under(frames["verification"], division.path)
        .group_by("source")
        .agg(pl.col("open").sum(), pl.col("resolved").sum())
    )
    poverty = _under(frames["poverty"], division.path).group_by("band").agg(pl.col("n").sum())
    bands = dict(poverty.iter_rows())
    discovery = dict(
        _under(frames["discovery"], division.path)
        .group_by("status")
        .agg(pl.col("n").sum())
        .iter_rows()
    )
    found = sum(discovery.values())
    coverage = frames["coverage"]
    cover_rows = []
    for child in children:
        c = (
            _under(coverage, child.path)
            .select(pl.col("households").sum(), pl.col("recipients").sum())
            .row(0)
        )
        h, r = int(c[0] or 0), int(c[1] or 0)
        cover_rows.append({"code": child.code, "name": child.name, "households": h, "recipients": r,
                           "per_thousand": round(1000 * r / h, 1) if h else 0.0})  # fmt: skip
    return {
        "division": {"code": division.code, "name": division.name, "level": division.level},
        "months": [m.strftime("%Y-%m") for m in months],
        "trend": trend,
        "current": {
            "month": current.strftime("%Y-%m"),
            "households": int(
                _under(frames["recipients"], division.path)
                .filter(pl.col("month") == current)
                .get_column("households")
                .sum()
                or 0
            ),
            "amount": _yuan(int(this_month.get_column("fen").sum() or 0)),
            "by_programme": [
                {"programme": r["programme"], "label": labels.get(r["programme"], (r["programme"],))[0],
                 "households": int(r["households"]), "amount": _yuan(int(r["fen"]))}
                for r in this_month.sort("programme").iter_rows(named=True)
            ],
        },
        "applications": [
            {"state": r["state"], "label": states.get(r["state"], r["state"]), "open": int(r["n"]),
             "overdue": int(r["overdue"])}
            for r in apps.sort("state").iter_rows(named=True)
        ],
        "decisions": [
            {"programme": r["programme"], "label": labels.get(r["programme"], (r["programme"],))[0],
             "approved": int(r["approved"]), "rejected": int(r["rejected"]),
             "approval_rate": round(r["approved"] / (r["approved"] + r["rejected"]), 4)
             if r["approved"] + r["rejected"] else None,
             "average_days": round(r["days"] / (r["approved"] + r["rejected"]), 1)
             if r["approved"] + r["rejected"] else None}
            for r in decided.sort("programme").iter_rows(named=True)
        ],
        "verification": [
            {"source": r["source"], "open": int(r["open"]), "resolved": int(r["resolved"])}
            for r in verification.sort("source").iter_rows(named=True)
        ],
        "poverty": [int(bands.get(b, 0)) for b in range(10)],
        "discovery": {"found": found, **{s.value: int(discovery.get(s.value, 0)) for s in ItemStatus},
                      "conversion_rate": round(discovery.get(ItemStatus.CONVERTED, 0) / found, 4) if found else None},
        "coverage": cover_rows,
    }  # fmt: skip


# -- the refresh job -------------------------------------------------------------------------------


def _months(today: date) -> list[date]:
    last = month_of(today)
    return [add_months(last, k) for k in range(-(MONTHS - 1), 1)]


def collect(root: Division, today: date) -> dict[str, pl.DataFrame]:
    """Every figure's frame for the subtree of ``root``, at the community grain."""
    months = _months(today)
    return {
        "payments": _payments(root.path, months[0]),
        "recipients": _recipients(root.path, months[0]),
        "applications": _applications(root.path, today),
        "decisions": _decisions(root.path, today),
        "verification": _verification(root.path),
        "poverty": _poverty(root.path, today),
        "discovery": _discovery(root.path),
        "coverage": _coverage(root.path),
    }


def refresh(root: Division, today: date | None = None) -> int:
    """Recompute the dashboards of ``root`` and every division below it; one
    ``Aggregate`` each. Returns how many were written."""
    day = today or timezone.localdate()
    started = time.perf_counter()
    frames = collect(root, day)
    months = _months(day)
    divisions = list(Division.objects.filter(path__startswith=root.path).order_by("path"))
    children: dict[int | None, list[Division]] = {}
    for d in divisions:
        children.setdefault(d.parent_id, []).append(d)
    now = timezone.now()
    payloads = [(d, payload(frames, d, children.get(d.pk, []), months)) for d in divisions]
    seconds = time.perf_counter() - started
    with transaction.atomic():
        for d, data in payloads:
            Aggregate.objects.update_or_create(
                division=d,
                name=NAME,
                defaults={"payload": data, "computed_at": now, "seconds": seconds},
            )
    log.info(
        "dashboards of %s refreshed: %s divisions in %.2f s", root.code, len(payloads), seconds
    )
    return len(payloads)


def cached(division: Division) -> Aggregate | None:
    return Aggregate.objects.filter(division=division, name=NAME).first()


__all__ = ["cached", "collect", "payload", "refresh"]
