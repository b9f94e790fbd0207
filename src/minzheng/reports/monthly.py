"""Standard reports: the monthly statistics civil-affairs offices file, and the yearly summary,
computed from the ledger and the registry and kept as snapshots.

Every figure is defined here once (``docs/subsystems/reports.md`` says the same with examples).
A report is about one month M (or one year) and one division D, at any level of the actor's
jurisdiction; a payment belongs to D when its ``division_path`` (the household's division when
it was paid) lies below D. Only payments of **approved payrolls** count (status approved,
exported or reconciled), and only of payrolls approved before the report's **cutoff** (the
moment it was first computed): payments never change once approved, so the same cutoff
always gives the same numbers.

Monthly report, one row per programme the payroll pays and a total row:

- 救助户数: households with a month's own payment (``regular`` or ``arrears``) *for* M: paid in
  M's payroll, or later as arrears of a back-dated decision, if approved before the cutoff.
  The total row counts a household once even when it receives several programmes.
- 救助人数: the active members of those households at the end of M, from the registry's
  history (the latest history row of each person dated before the first day of M+1, Beijing
  time). A household not yet registered at the end of M (a back-dated decision, a recipient
  migrated from an earlier system) is counted as registered at the cutoff instead; the report
  says how many such households there are.
- 发放金额: every payment of the payrolls *for* M (the run's period), by kind: 当月发放, 补发,
  差额补发, 追回扣减 (negative) and 失败重发; 应发合计 is their sum (what was approved), split
  by hukou; 发放失败 the part the bank returned before the cutoff; 实发金额 = 应发 − 失败.
- 户籍: the household's hukou at the end of M (or at the cutoff, as for persons).
- 新增户数: households with a ``regular`` payment for M and none for M−1 in the same
  programme (a back-dated decision is new in the month of its first regular payment, which
  also carries its arrears); 退出户数: a regular payment for M−1 and none for M. Not counted
  for one-off programmes (临时救助: every payment would be an entry and an exit). The total
  row counts households.

Yearly summary: the months of the year up to the current month, computed at one cutoff with
the same definitions: per programme the amounts of the year's payrolls by kind, the average
of the monthly household counts (over the months counted), and new and exited households
summed over the months; a table of the monthly totals.

Snapshots: the first generation stores the ``Report``; asking again returns it unchanged. A
report of a month that has not ended (or whose payroll in the division is still open) is
*provisional*: the next request recomputes it and replaces it if its figures changed, until
it is final. A month without a counted payment is not stored: the answer carries zeros and
"本月无发放数据", and a later request computes it again. ``recompute`` computes a stored
report again at its cutoff and says whether the figures are the same.

Aggregation is SQL (sums in integer fen: SQLite keeps decimals as floats) and Polars
(joins and distinct counts); nothing loops over payments or households in Python.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from minzheng.accounts import access
from minzheng.applications import clock
from minzheng.benefits.models import (
    BASE_KINDS,
    DONE_PAYROLL_STATUSES,
    OPEN_PAYROLL_STATUSES,
    PaymentKind,
    PayrollRun,
)
from minzheng.benefits.services import payroll_unit
from minzheng.core.errors import FieldError, NotFound, PermissionDenied
from minzheng.core.periods import add_months, month_of, parse_month
from minzheng.programmes.eligibility import programme_labels
from minzheng.programmes.selectors import division_names
from minzheng.registry.models import Division, DivisionLevel
from minzheng.registry.vocab import Hukou

from .errors import ReportErrorCode as Code
from .models import Report, ReportKind

if TYPE_CHECKING:
    from minzheng.accounts.models import User

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
TOTAL = "__total__"
MONEY_KINDS: tuple[str, ...] = tuple(str(k) for k in PaymentKind)
HUKOUS: tuple[str, ...] = tuple(str(h) for h in Hukou)
_BASE = tuple(str(k) for k in BASE_KINDS)
_DONE = tuple(str(s) for s in DONE_PAYROLL_STATUSES)

# Messages (tests import them).
EMPTY_MONTH = "本月无发放数据"
EMPTY_YEAR = "本年度无发放数据"
PROVISIONAL = "统计期尚未结束或仍有未审批的发放批次，本表为临时统计；再次生成时按最新数据更新"
ROLE_MESSAGE = "统计报表仅供社区工作者、街道审核员、区级审批员、审计监督员和系统管理员查看和生成"
KIND_MESSAGE = "报表类型应为 monthly（月度统计）或 yearly（年度汇总）"
MONTH_FORMAT_MESSAGE = "统计月份格式应为 YYYY-MM，例如 2026-11"
YEAR_FORMAT_MESSAGE = "统计年份格式应为 YYYY，例如 2026"
NOT_FOUND_MESSAGE = "统计报表不存在或不在您的管辖范围内"


# -- input ------------------------------------------------------------------------------------


def ensure_report_reader(actor: User) -> None:
    """Statistics are for the staff of a jurisdiction (``REPORT_READERS``)."""
    if access.report_path(actor) is None:
        raise PermissionDenied(Code.ROLE_FORBIDDEN, ROLE_MESSAGE)


def parse_kind(raw: object) -> str:
    kind = str(raw or "").strip()
    if kind not in ReportKind.values:
        raise FieldError("kind", Code.KIND_INVALID, KIND_MESSAGE)
    return kind


def parse_period(kind: str, raw: object, *, allow_future: bool = False) -> date:
    """``"2026-11"`` (monthly) or ``"2026"`` (yearly) → the period's first day; a malformed
    period is 422 ``report.period_invalid``, one that has not begun ``report.period_future``."""
    text = str(raw or "").strip()
    today = clock.today()
    if kind == ReportKind.MONTHLY:
        if not re.fullmatch(r"\d{4}-\d{2}", text):
            raise FieldError("period", Code.PERIOD_INVALID, MONTH_FORMAT_MESSAGE)
        start = parse_month(text, "period", Code.PERIOD_INVALID)
        if start.year < 1900:
            raise FieldError("period", Code.PERIOD_INVALID, MONTH_FORMAT_MESSAGE)
        if start > month_of(today) and not allow_future:
            raise FieldError("period", Code.PERIOD_FUTURE,
                             f"{start:%Y年%m月}尚未到来，不能生成统计")  # fmt: skip
        return start
    if not re.fullmatch(r"\d{4}", text) or int(text) < 1900:
        raise FieldError("period", Code.PERIOD_INVALID, YEAR_FORMAT_MESSAGE)
    start = date(int(text), 1, 1)
    if start.year > today.year and not allow_future:
        raise FieldError("period", Code.PERIOD_FUTURE, f"{start.year}年尚未到来，不能生成统计")
    return start


def period_text(kind: str, period: date) -> str:
    return f"{period:%Y-%m}" if kind == ReportKind.MONTHLY else f"{period.year}"


# -- reads ------------------------------------------------------------------------------------


def reports_visible(actor: User) -> QuerySet[Report]:
    """Stored reports about a division inside the actor's jurisdiction (others: none)."""
    path = access.report_path(actor)
    if path is None:
        return Report.objects.none()
    return Report.objects.filter(division_path__startswith=path)


def access_report_by_id(actor: User, report_id: int, kind: str | None = None) -> Report:
    found = reports_visible(actor).select_related("division", "generated_by")
    if kind is not None:
        found = found.filter(kind=kind)
    report = found.filter(pk=report_id).first()
    if report is None:
        raise NotFound("report.not_found", NOT_FOUND_MESSAGE)
    return report


def reports_list(actor: User, *, kind: str | None = None, period: str | None = None,
                 division: str | None = None) -> QuerySet[Report]:  # fmt: skip
    qs = reports_visible(actor).select_related("division", "generated_by")
    if kind:
        qs = qs.filter(kind=parse_kind(kind))
    if period:
        text = period.strip()
        as_kind = kind or (ReportKind.YEARLY if len(text) == 4 else ReportKind.MONTHLY)
        start = parse_period(as_kind, text, allow_future=True)
        qs = qs.filter(kind=as_kind, period=start)
    if division:
        qs = qs.filter(division=access.access_report_division(actor, division))
    return qs.order_by("-period", "kind", "division_path", "pk")


# -- the ledger and the registry as of a moment -----------------------------------------------


def _adapt_date(day: date) -> Any:
    return connection.ops.adapt_datefield_value(day)


def _adapt_time(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _start_of(day: date) -> datetime:
    """The first instant of ``day`` in Beijing (the registry's history is in UTC)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


@dataclass(frozen=True)
class _Window:
    """The months a report reads: ``months[0]`` is the month before the first reported one
    (for new and exited households); payrolls of ``months[1:]`` are reported."""

    months: tuple[date, ...]
    cutoff: datetime
    path: str

    def case(self, column: str) -> tuple[str, list[Any]]:
        """``column`` (a first-of-month date) as its index in the window, in portable SQL."""
        whens = " ".join(f"WHEN {column} = %s THEN {i}" for i in range(len(self.months)))
        return f"CASE {whens} END", [_adapt_date(m) for m in self.months]

    def where(self, part: str) -> tuple[str, list[Any]]:
        """Payments of approved payrolls, approved before the cutoff, inside the division:
        ``money`` those of the reported months' payrolls, ``base`` the months' own payments
        (regular or arrears) for a month of the window, ``any`` either."""
        common = (
            f"r.status IN ({', '.join(['%s'] * len(_DONE))}) AND r.approved_at <= %s "
            "AND p.division_path LIKE %s"
        )
        params: list[Any] = [*_DONE, _adapt_time(self.cutoff), self.path + "%"]
        money = "(r.period >= %s AND r.period <= %s)"
        money_params = [_adapt_date(self.months[1]), _adapt_date(self.months[-1])]
        base = (
            f"(p.kind IN ({', '.join(['%s'] * len(_BASE))}) AND p.period >= %s AND p.period <= %s)"
        )
        base_params = [*_BASE, _adapt_date(self.months[0]), _adapt_date(self.months[-1])]
        if part == "money":
            return f"{common} AND {money}", params + money_params
        if part == "base":
            return f"{common} AND {base}", params + base_params
        return f"{common} AND ({money} OR {base})", params + money_params + base_params


_FROM = "FROM benefits_payment p JOIN benefits_payrollrun r ON r.id = p.run_id"
_FEN = "CAST(ROUND(p.amount * 100) AS BIGINT)"


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _frame(rows: list[tuple[Any, ...]], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def _base_frame(w: _Window) -> pl.DataFrame:
    """(household, programme, kind, k): a month's own payment (regular or arrears) for
    window month ``k``."""
    case, case_params = w.case("p.period")
    where, params = w.where("base")
    rows = _fetch(
        f"SELECT DISTINCT p.household_id, p.programme, p.kind, {case} {_FROM} WHERE {where}",
        case_params + params,
    )
    return _frame(rows, {"household_id": pl.Int64, "programme": pl.Utf8, "kind": pl.Utf8,
                         "k": pl.Int32})  # fmt: skip


def _money_frame(w: _Window, *, by_household: bool) -> pl.DataFrame:
    """Sums in fen of the reported payrolls' payments by programme, kind and payroll month
    ``k`` (and household): approved, and failed before the cutoff."""
    case, case_params = w.case("r.period")
    where, params = w.where("money")
    keys = "p.household_id, p.programme, p.kind, r.period" if by_household else (
        "p.programme, p.kind, r.period")  # fmt: skip
    head = "p.household_id, " if by_household else ""
    sql = (
        f"SELECT {head}p.programme, p.kind, {case}, SUM({_FEN}), "
        f"SUM(CASE WHEN p.status = 'failed' AND p.settled_at <= %s THEN {_FEN} ELSE 0 END) "
        f"{_FROM} WHERE {where} GROUP BY {keys}"
    )
    rows = _fetch(sql, [*case_params, _adapt_time(w.cutoff), *params])
    schema: dict[str, Any] = {"household_id": pl.Int64} if by_household else {}
    schema |= {"programme": pl.Utf8, "kind": pl.Utf8, "k": pl.Int32, "fen": pl.Int64,
               "failed": pl.Int64}  # fmt: skip
    return _frame(rows, schema)


def _runs(w: _Window) -> list[str]:
    """The payroll runs whose payments the report counts (its sources, by number)."""
    where, params = w.where("any")
    rows = _fetch(
        "SELECT number FROM benefits_payrollrun WHERE id IN "
        f"(SELECT p.run_id {_FROM} WHERE {where}) ORDER BY number",
        params,
    )
    return [str(r[0]) for r in rows]


def _registry(w: _Window, when: datetime) -> pl.DataFrame:
    """Each household paid in the window as the registry knew it just before ``when``:
    hukou, active members, and whether it was registered at all (else its hukou today)."""
    where, params = w.where("any")
    paid = f"SELECT p.household_id {_FROM} WHERE {where}"
    moment = _adapt_time(when)
    households = _fetch(
        f"""
        SELECT hh.id, COALESCE(t.hukou, hh.hukou), CASE WHEN t.id IS NULL THEN 0 ELSE 1 END
        FROM registry_household hh LEFT JOIN (
            SELECT v.id, v.hukou FROM (
                SELECT h.id, h.hukou, h.history_type, ROW_NUMBER() OVER (
                    PARTITION BY h.id ORDER BY h.history_date DESC, h.history_id DESC) AS rn
                FROM registry_historicalhousehold h
                WHERE h.history_date < %s AND h.id IN ({paid})
            ) v WHERE v.rn = 1 AND v.history_type <> '-'
        ) t ON t.id = hh.id
        WHERE hh.id IN ({paid})
        """,
        [moment, *params, *params],
    )
    persons = _fetch(
        f"""
        SELECT x.household_id, COUNT(*) FROM (
            SELECT hp.household_id, hp.state, hp.history_type, ROW_NUMBER() OVER (
                PARTITION BY hp.id ORDER BY hp.history_date DESC, hp.history_id DESC) AS rn
            FROM registry_historicalperson hp
            WHERE hp.history_date < %s AND hp.id IN (
                SELECT q.id FROM registry_historicalperson q WHERE q.household_id IN ({paid}))
        ) x
        WHERE x.rn = 1 AND x.history_type <> '-' AND x.state = 'active'
          AND x.household_id IN ({paid})
        GROUP BY x.household_id
        """,
        [moment, *params, *params],
    )
    frame = _frame(households, {"household_id": pl.Int64, "hukou": pl.Utf8, "known": pl.Int32})
    counts = _frame(persons, {"household_id": pl.Int64, "persons": pl.Int64})
    return frame.join(counts, on="household_id", how="left").with_columns(
        pl.col("persons").fill_null(0)
    )


def _registry_for_month(w: _Window, month_end: datetime) -> pl.DataFrame:
    """(household, hukou, persons, late): at the end of the month, or at the cutoff for a
    household not yet registered then (``late``)."""
    end = _registry(w, month_end)
    cut = _registry(w, w.cutoff).rename({"hukou": "hukou_c", "known": "known_c",
                                         "persons": "persons_c"})  # fmt: skip
    late = pl.col("known") == 0
    return end.join(cut, on="household_id", how="left").select(
        "household_id",
        pl.when(late).then(pl.col("hukou_c")).otherwise(pl.col("hukou")).alias("hukou"),
        pl.when(late).then(pl.col("persons_c")).otherwise(pl.col("persons")).alias("persons"),
        late.alias("late"),
    )


# -- figures ----------------------------------------------------------------------------------


def _yuan(fen: int) -> str:
    return f"{Decimal(int(fen)) / 100:.2f}"


def _with_total(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` and a copy of it under the programme ``TOTAL``."""
    return pl.concat([frame, frame.with_columns(programme=pl.lit(TOTAL))])


def _lookup(frame: pl.DataFrame, keys: Sequence[str], value: str) -> dict[tuple[Any, ...], Any]:
    """An aggregated frame as ``{(key values): value}`` (small: one row per group)."""
    return {tuple(row[:-1]): row[-1] for row in frame.select(*keys, value).iter_rows()}


def _one_off(programme: str) -> bool:
    return programme != TOTAL and payroll_unit(programme) == "once"


def _transitions(base: pl.DataFrame, months: Sequence[int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """New and exited (household, programme, k) for the reported window months ``months``:
    new = a regular payment for k and none for k−1 in the programme; exited = the reverse.
    One-off programmes are left out."""
    one_off = [pid for pid in _programmes_of(base) if _one_off(pid)]
    monthly = (
        base.filter((pl.col("kind") == PaymentKind.REGULAR) & ~pl.col("programme").is_in(one_off))
        .select("household_id", "programme", "k")
        .unique()
    )
    cur = monthly.filter(pl.col("k").is_in(list(months)))
    prev = monthly.with_columns(pl.col("k") + 1).filter(pl.col("k").is_in(list(months)))
    keys = ["household_id", "programme", "k"]
    return cur.join(prev, on=keys, how="anti"), prev.join(cur, on=keys, how="anti")


def _counts(frame: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Distinct households per programme (and ``by``), the total counting each once."""
    keys = ["programme", *by]
    return (
        _with_total(frame)
        .unique(subset=["household_id", *keys])
        .group_by(keys)
        .agg(pl.len().alias("n"))
    )


def _programmes_of(*frames: pl.DataFrame) -> list[str]:
    found: set[str] = set()
    for frame in frames:
        found |= set(frame.get_column("programme").unique().to_list())
    return sorted(found - {TOTAL})


def _monthly_figures(w: _Window, month_end: datetime) -> tuple[dict[str, Any], int]:
    base = _base_frame(w)
    money = _money_frame(w, by_household=True)
    reg = _registry_for_month(w, month_end)
    cur = base.filter(pl.col("k") == 1).select("household_id", "programme").unique()
    new, exited = _transitions(base, [1])
    households = cur.join(reg, on="household_id", how="left")
    by_hukou = (
        _with_total(households)
        .unique(subset=["household_id", "programme"])
        .group_by("programme", "hukou")
        .agg(pl.len().alias("n"), pl.col("persons").sum().alias("persons"))
    )
    money_r = _with_total(money.join(reg.select("household_id", "hukou"), on="household_id",
                                      how="left"))  # fmt: skip
    by_kind = money_r.group_by("programme", "kind").agg(pl.col("fen").sum())
    money_hukou = money_r.group_by("programme", "hukou").agg(pl.col("fen").sum())
    failed = money_r.group_by("programme").agg(pl.col("failed").sum(), pl.col("fen").sum())
    new_n = _lookup(_counts(new, []), ["programme"], "n")
    exited_n = _lookup(_counts(exited, []), ["programme"], "n")
    hh = _lookup(by_hukou, ["programme", "hukou"], "n")
    persons = _lookup(by_hukou, ["programme", "hukou"], "persons")
    kinds = _lookup(by_kind, ["programme", "kind"], "fen")
    hukou_fen = _lookup(money_hukou, ["programme", "hukou"], "fen")
    approved = _lookup(failed, ["programme"], "fen")
    failed_fen = _lookup(failed, ["programme"], "failed")

    def row(pid: str) -> dict[str, Any]:
        one_off = _one_off(pid)
        h = {hk: int(hh.get((pid, hk), 0)) for hk in HUKOUS}
        p = {hk: int(persons.get((pid, hk), 0) or 0) for hk in HUKOUS}
        total_fen = int(approved.get((pid,), 0))
        lost = int(failed_fen.get((pid,), 0))
        amounts = {k: _yuan(kinds.get((pid, k), 0)) for k in MONEY_KINDS}
        amounts |= {"approved": _yuan(total_fen)}
        amounts |= {hk: _yuan(hukou_fen.get((pid, hk), 0)) for hk in HUKOUS}
        amounts |= {"failed": _yuan(lost), "paid": _yuan(total_fen - lost)}
        return {
            "households": {"total": sum(h.values()), **h},
            "persons": {"total": sum(p.values()), **p},
            "amounts": amounts,
            "new": None if one_off else int(new_n.get((pid,), 0)),
            "exited": None if one_off else int(exited_n.get((pid,), 0)),
        }

    programmes = {pid: row(pid) for pid in _programmes_of(base, money)}
    late = households.filter(pl.col("late")).get_column("household_id").n_unique()
    figures = {"programmes": programmes, "total": row(TOTAL)}
    return figures, int(late)


def _yearly_figures(w: _Window) -> dict[str, Any]:
    base = _base_frame(w)
    money = _money_frame(w, by_household=False)
    reported = list(range(1, len(w.months)))
    cur = base.filter(pl.col("k") >= 1).select("household_id", "programme", "k").unique()
    new, exited = _transitions(base, reported)
    monthly = _counts(cur, ["k"])
    sums = monthly.group_by("programme").agg(pl.col("n").sum())
    money_t = _with_total(money)
    by_kind = money_t.group_by("programme", "kind").agg(pl.col("fen").sum())
    totals = money_t.group_by("programme").agg(pl.col("fen").sum(), pl.col("failed").sum())
    by_month = money.group_by("k").agg(pl.col("fen").sum(), pl.col("failed").sum())
    new_pk, exited_pk = _counts(new, ["k"]), _counts(exited, ["k"])
    n_months = Decimal(len(reported))
    hh_sum = _lookup(sums, ["programme"], "n")
    kinds = _lookup(by_kind, ["programme", "kind"], "fen")
    approved = _lookup(totals, ["programme"], "fen")
    failed = _lookup(totals, ["programme"], "failed")
    new_n = _lookup(new_pk.group_by("programme").agg(pl.col("n").sum()), ["programme"], "n")
    exited_n = _lookup(exited_pk.group_by("programme").agg(pl.col("n").sum()), ["programme"], "n")

    def row(pid: str) -> dict[str, Any]:
        one_off = _one_off(pid)
        total_fen, lost = int(approved.get((pid,), 0)), int(failed.get((pid,), 0))
        amounts = {k: _yuan(kinds.get((pid, k), 0)) for k in MONEY_KINDS}
        amounts |= {"approved": _yuan(total_fen), "failed": _yuan(lost),
                    "paid": _yuan(total_fen - lost)}  # fmt: skip
        average = Decimal(int(hh_sum.get((pid,), 0))) / n_months
        return {
            "households_avg": f"{average:.2f}",
            "households_months": int(hh_sum.get((pid,), 0)),
            "amounts": amounts,
            "new": None if one_off else int(new_n.get((pid,), 0)),
            "exited": None if one_off else int(exited_n.get((pid,), 0)),
        }

    hh_k = _lookup(monthly.filter(pl.col("programme") == TOTAL), ["k"], "n")
    fen_k = _lookup(by_month, ["k"], "fen")
    failed_k = _lookup(by_month, ["k"], "failed")
    new_k = _lookup(new_pk.filter(pl.col("programme") == TOTAL), ["k"], "n")
    exited_k = _lookup(exited_pk.filter(pl.col("programme") == TOTAL), ["k"], "n")
    months = [
        {
            "period": f"{w.months[k]:%Y-%m}",
            "households": int(hh_k.get((k,), 0)),
            "approved": _yuan(fen_k.get((k,), 0)),
            "failed": _yuan(failed_k.get((k,), 0)),
            "paid": _yuan(int(fen_k.get((k,), 0)) - int(failed_k.get((k,), 0))),
            "new": int(new_k.get((k,), 0)),
            "exited": int(exited_k.get((k,), 0)),
        }
        for k in reported
    ]
    programmes = {pid: row(pid) for pid in _programmes_of(base, money)}
    return {"programmes": programmes, "total": row(TOTAL), "months": months}


def _names(division: Division) -> tuple[str, str]:
    """The division's full name below the city (西城区展览路街道…) and its district's name."""
    codes = [c for c in division.path.split("/") if c][1:] or [division.code]
    names = division_names(set(codes))
    full = "".join(names.get(c, "") for c in codes) or division.name
    district = names.get(codes[0], "") if division.level != DivisionLevel.CITY else ""
    return full, district


def _layout(figures: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The rows a report shows: every programme the payroll pays, in catalogue order (then
    any other programme with figures), and their labels as of the generation."""
    labels = programme_labels()
    layout = [pid for pid in labels if payroll_unit(pid)]
    layout += sorted(set(figures["programmes"]) - set(layout))
    return layout, {pid: labels.get(pid, (pid,))[0] for pid in layout}


def _runs_over(division: Division) -> QuerySet[PayrollRun]:
    """Payroll runs in, above or below the division (those that can pay its households)."""
    ancestors = [division.path[: i + 1] for i, ch in enumerate(division.path) if ch == "/"]
    return PayrollRun.objects.filter(
        Q(division_path__startswith=division.path) | Q(division_path__in=ancestors)
    )


def _open_runs(kind: str, period: date, division: Division) -> bool:
    """A payroll of the period still open in, above or below the division."""
    last = period if kind == ReportKind.MONTHLY else date(period.year, 12, 1)
    return (
        _runs_over(division)
        .filter(period__gte=period, period__lte=last, status__in=OPEN_PAYROLL_STATUSES)
        .exists()
    )


def _last_month(year: date, division: Division, cutoff: datetime) -> date:
    """The last month a yearly summary counts: December of a past year; in the current
    year the last month that has ended, or the current month once a payroll for it has
    been approved (else a month not yet paid would show every household as exited)."""
    current = month_of(clock.today())
    if current.year > year.year:
        return date(year.year, 12, 1)
    last = add_months(current, -1)
    paid = (
        _runs_over(division)
        .filter(period=current, status__in=DONE_PAYROLL_STATUSES, approved_at__lte=cutoff)
        .exists()
    )
    return current if paid or last < year else last


def compute(kind: str, period: date, division: Division, *, cutoff: datetime,
            last: date | None = None) -> dict[str, Any]:  # fmt: skip
    """A report's data: its figures from the payrolls approved before ``cutoff`` and the
    registry's history, with what a page needs to show them. A yearly summary counts the
    months up to ``last`` (default: up to the current month)."""
    today = clock.today()
    if kind == ReportKind.MONTHLY:
        months: tuple[date, ...] = (add_months(period, -1), period)
        ended = add_months(period, 1) <= today
    else:
        last = last or _last_month(period, division, cutoff)
        count = (last.year - period.year) * 12 + last.month  # months of the year counted
        months = tuple(add_months(period, k - 1) for k in range(count + 1))
        ended = date(period.year + 1, 1, 1) <= today
    w = _Window(months=months, cutoff=cutoff, path=division.path)
    late = 0
    if kind == ReportKind.MONTHLY:
        month_end = _start_of(add_months(period, 1))
        figures, late = _monthly_figures(w, month_end)
        registry_date = f"{_last_day(period):%Y-%m-%d}"
    else:
        figures = _yearly_figures(w)
        registry_date = ""
    layout, labels = _layout(figures)
    full_name, district = _names(division)
    total = figures["total"]
    empty = not _households_of(kind, total) and all(
        total["amounts"][k] == "0.00" for k in MONEY_KINDS
    )
    return {
        "version": FORMAT_VERSION,
        "kind": kind,
        "period": period_text(kind, period),
        "division": {
            "code": division.code,
            "name": division.name,
            "full_name": full_name,
            "district": district,
            "level": division.level,
        },
        "cutoff": timezone.localtime(cutoff).isoformat(),
        "as_of": f"{timezone.localdate(cutoff):%Y-%m-%d}",
        "registry_date": registry_date,
        "months": [f"{m:%Y-%m}" for m in months[1:]],
        "provisional": not ended or _open_runs(kind, period, division),
        "empty": empty,
        "registered_late": late,
        "runs": _runs(w),
        "layout": layout,
        "labels": labels,
        "one_off": [pid for pid in layout if _one_off(pid)],
        "figures": figures,
    }


def _last_day(month: date) -> date:
    return date.fromordinal(add_months(month, 1).toordinal() - 1)


def _households_of(kind: str, total: dict[str, Any]) -> int:
    if kind == ReportKind.MONTHLY:
        return int(total["households"]["total"])
    return int(total["households_months"])


def digest(figures: dict[str, Any]) -> str:
    """SHA-256 of the figures in canonical JSON: equal digests, equal figures."""
    text = json.dumps(figures, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def cutoff_of(report: Report) -> datetime:
    return datetime.fromisoformat(str(report.data["cutoff"]))


def recompute(report: Report) -> bool:
    """Compute a stored report again from the ledger and the registry at its cutoff: True
    when every figure equals the stored one."""
    last = parse_month(report.data["months"][-1], "months") if report.data.get("months") else None
    fresh = compute(report.kind, report.period, report.division, cutoff=cutoff_of(report),
                    last=last)  # fmt: skip
    return digest(fresh["figures"]) == report.digest == digest(report.data["figures"])


# -- the snapshot -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    """The answer to "generate": the stored report (None when there was nothing to store),
    its data, and whether this request stored it first."""

    report: Report | None
    data: dict[str, Any]
    created: bool


def report_generate(*, actor: User, kind: Any, period: Any, division: Any = None) -> Generated:
    """The report of ``kind`` for ``period`` and ``division`` (default: the actor's own): the
    stored snapshot when there is a final one, else computed now (and stored, unless empty)."""
    ensure_report_reader(actor)
    kind = parse_kind(kind)
    start = parse_period(kind, period)
    div = access.access_report_division(actor, str(division) if division else None)
    stored = Report.objects.filter(kind=kind, period=start, division=div).first()
    if stored is not None and not stored.data.get("provisional"):
        return Generated(stored, stored.data, False)
    now = timezone.now()
    data = compute(kind, start, div, cutoff=now)
    if stored is not None:
        changed = digest(data["figures"]) != stored.digest
        if changed or data["provisional"] != stored.data.get("provisional"):
            _refresh(stored, data, actor, now)
            log.info("report %s refreshed by %s (figures changed: %s)", stored.pk, actor.pk,
                     changed)  # fmt: skip
        return Generated(stored, stored.data, False)
    if data["empty"]:
        return Generated(None, data, False)
    try:
        with transaction.atomic():
            report = Report.objects.create(
                kind=kind, period=start, division=div, division_path=div.path,
                as_of=timezone.localdate(now), data=data, digest=digest(data["figures"]),
                generated_by=actor,
            )  # fmt: skip
    except IntegrityError:  # generated at the same moment by someone else: theirs stands
        report = Report.objects.get(kind=kind, period=start, division=div)
        return Generated(report, report.data, False)
    log.info("report %s (%s %s %s) stored by %s", report.pk, kind, data["period"], div.code,
             actor.pk)  # fmt: skip
    return Generated(report, data, True)


def _refresh(report: Report, data: dict[str, Any], actor: User, now: datetime) -> None:
    """Replace a provisional snapshot by a newer computation (same row, same id)."""
    with transaction.atomic():
        Report.objects.filter(pk=report.pk).update(
            as_of=timezone.localdate(now), data=data, digest=digest(data["figures"]),
            generated_by=actor, generated_at=now,
        )  # fmt: skip
    report.refresh_from_db()
