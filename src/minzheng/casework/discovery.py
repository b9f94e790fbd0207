"""Proactive discovery (主动服务): who appears to qualify for a programme they neither
receive nor have applied for.

A run evaluates the registry with the rules engine, then compares, as dataframes:

    eligible (household × programme)
      − receiving   (a live entitlement, or an approved decision in the last year for a
                     programme the payroll does not pay)
      − applied     (an open application line, or one refused in the last 90 days)
      − dismissed   (an item dismissed earlier whose facts are the same)

What remains becomes an open item per (household, programme), unless one is open
already (its facts are refreshed when they changed). Open items that no longer remain
are closed automatically with the cause (now receiving, applied, no longer eligible).

``facts`` is the programme and the amount to the fen: a dismissed item comes back only
when a later run sees different facts. The eligibility of the whole registry comes from
one vectorised batch per chunk of households (``programmes.services.eligible_pairs``);
the engine's reasons, which a worker reads, are worked out only for the items that are
new (``programmes.services.reasons_for``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from minzheng.accounts import access
from minzheng.accounts.models import User
from minzheng.applications import clock
from minzheng.applications.models import DECIDED_STATES, OPEN_STATES, ApplicationLine, State
from minzheng.applications.selectors import household_results
from minzheng.benefits.models import LIVE_STATUSES, Entitlement
from minzheng.core.errors import ApplicationError, Conflict
from minzheng.core.money import quantize
from minzheng.programmes.eligibility import programme_labels
from minzheng.programmes.services import eligible_pairs, reasons_for, registry_frames
from minzheng.registry.models import Division, Household

from .errors import CaseErrorCode as Code
from .models import DiscoveryItem, DiscoveryRun, DiscoveryRunStatus, ItemStatus
from .services import ensure_writer, reason_text

log = logging.getLogger(__name__)

# An approved decision for a programme the payroll does not pay (a card, medical
# assistance) counts as receiving for a year; a refusal keeps the programme quiet for
# 90 days (the household was just told no; asking again at once is noise).
APPROVED_COUNTS_DAYS = 365
REFUSED_QUIET_DAYS = 90

RESOLVED_TEXT = {
    "receiving": "已在享受该项目",
    "applied": "已提出申请",
    "gone": "复核时已不符合条件",
}


def facts_of(programme: str, amount: str) -> str:
    """What the engine saw, as compared between runs: the programme and its amount to the
    fen ("dibao:1012.50"). A change of income, household size, age band or disability that
    matters changes the amount (or, for an eligibility-only programme, the eligibility)."""
    return f"{programme}:{amount}"


# -- the comparison, as dataframes ---------------------------------------------------------------

PAIR = {"household": pl.Int64, "programme": pl.Utf8}


@dataclass
class Comparison:
    """What one run found: rows to insert or refresh, open items to close, counters."""

    new: pl.DataFrame  # household, programme, amount, unit, facts
    refresh: pl.DataFrame  # item, programme, amount, facts (open items whose facts changed)
    seen: list[int]  # open items found again with the same facts
    resolved: dict[str, list[int]]  # cause → open items that no longer remain
    counts: dict[str, int]


def compare(eligible: pl.DataFrame, receiving: pl.DataFrame, applied: pl.DataFrame,
            dismissed: pl.DataFrame, open_items: pl.DataFrame) -> Comparison:  # fmt: skip
    """The pure comparison (no database): ``eligible`` has household, programme, amount,
    unit, facts; ``receiving`` and ``applied`` household, programme;
    ``dismissed`` household, programme, facts; ``open_items`` item, household, programme,
    facts. Vectorised anti-joins, so a million households take seconds."""
    keys = ["household", "programme"]
    receiving = receiving.unique()
    applied = applied.unique()
    e = eligible.join(receiving.with_columns(pl.lit(True).alias("_r")), on=keys, how="left")
    e = e.join(applied.with_columns(pl.lit(True).alias("_a")), on=keys, how="left")
    is_receiving = pl.col("_r").fill_null(False)
    is_applied = pl.col("_a").fill_null(False) & ~is_receiving
    counts = {
        "eligible": e.height,
        "receiving": e.filter(is_receiving).height,
        "applied": e.filter(is_applied).height,
    }
    candidates = e.filter(~is_receiving & ~is_applied).drop("_r", "_a")
    gone_dismissed = candidates.join(dismissed.unique(), on=[*keys, "facts"], how="semi")
    counts["dismissed_unchanged"] = gone_dismissed.height
    candidates = candidates.join(dismissed.unique(), on=[*keys, "facts"], how="anti")
    matched = candidates.join(open_items.rename({"facts": "old_facts"}), on=keys, how="inner")
    same = matched.filter(pl.col("facts") == pl.col("old_facts"))
    changed = matched.filter(pl.col("facts") != pl.col("old_facts"))
    new = candidates.join(open_items.select(keys), on=keys, how="anti")
    remaining = open_items.join(candidates.select(keys), on=keys, how="anti")
    r = remaining.join(receiving.with_columns(pl.lit(True).alias("_r")), on=keys, how="left").join(
        applied.with_columns(pl.lit(True).alias("_a")), on=keys, how="left"
    )
    resolved = {
        "receiving": r.filter(pl.col("_r").fill_null(False)).get_column("item").to_list(),
        "applied": r.filter(~pl.col("_r").fill_null(False) & pl.col("_a").fill_null(False))
        .get_column("item")
        .to_list(),
        "gone": r.filter(~pl.col("_r").fill_null(False) & ~pl.col("_a").fill_null(False))
        .get_column("item")
        .to_list(),
    }
    return Comparison(
        new=new,
        refresh=changed.select("item", "programme", "amount", "facts"),
        seen=same.get_column("item").to_list(),
        resolved=resolved,
        counts=counts,
    )


# -- reading the database into those frames -------------------------------------------------------


def _pairs(rows: list[tuple[int, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=PAIR, orient="row")


def _in_scope(qs: QuerySet[Any], path: str | None, field: str = "division_path") -> QuerySet[Any]:
    return qs if path is None else qs.filter(**{f"{field}__startswith": path})


def receiving_pairs(path: str | None, today: date) -> pl.DataFrame:
    live = _in_scope(Entitlement.objects.filter(status__in=LIVE_STATUSES), path)
    rows = list(live.values_list("household_id", "programme"))
    approved = _in_scope(
        ApplicationLine.objects.filter(
            state=State.APPROVED, entitlement__isnull=True,
            decided_at__gte=timezone.now() - timedelta(days=APPROVED_COUNTS_DAYS),
        ),
        path,
    )  # fmt: skip
    rows += list(approved.values_list("household_id", "programme"))
    return _pairs(rows)


def applied_pairs(path: str | None, today: date) -> pl.DataFrame:
    quiet = timezone.now() - timedelta(days=REFUSED_QUIET_DAYS)
    lines = _in_scope(
        ApplicationLine.objects.filter(
            Q(state__in=OPEN_STATES)
            | Q(state__in=[s for s in DECIDED_STATES if s != State.APPROVED], decided_at__gte=quiet)
        ),
        path,
    )
    return _pairs(list(lines.values_list("household_id", "programme")))


CHUNK = 5_000


def eligible_frame(path: str | None, day: date,
                   on_progress: Callable[[int, int], None] | None = None) -> tuple[pl.DataFrame, int]:  # fmt: skip
    """(household, programme, amount, unit, facts) for every eligible pair in scope, and
    the number of households evaluated."""
    scope = (
        Household.objects.all()
        if path is None
        else Household.objects.filter(division__path__startswith=path)
    )
    ids = list(scope.order_by("pk").values_list("pk", flat=True))
    parts = []
    for start in range(0, len(ids), CHUNK):
        h, p = registry_frames(None, day, household_ids=ids[start : start + CHUNK])
        parts.append(eligible_pairs(h, p, day))
        if on_progress is not None:
            on_progress(min(start + CHUNK, len(ids)), len(ids))
    frame = (
        pl.concat(parts)
        if parts
        else pl.DataFrame(schema={**PAIR, "amount": pl.Utf8, "unit": pl.Utf8})
    )
    return frame.with_columns(
        pl.concat_str([pl.col("programme"), pl.lit(":"), pl.col("amount")]).alias("facts")
    ), len(ids)


# -- runs ------------------------------------------------------------------------------------------


def discovery_run(actor: User | None = None, *, as_of: date | None = None, division: str | None = None,
                  on_progress: Callable[[int, int], None] | None = None) -> DiscoveryRun:  # fmt: skip
    """Evaluate the registry (or the division, or the actor's jurisdiction) and refresh
    the discovery items. The scheduled job calls it with no actor (the whole registry)."""
    day = as_of or clock.today()
    scope: Division | None = None
    if actor is not None:
        ensure_writer(actor, "主动发现")
        access.ensure_registry_reader(actor)
        scope = access.access_division_by_code(actor, division) if division else actor.division
    elif division:
        scope = Division.objects.filter(code=division).first()
        if scope is None:
            raise ApplicationError("division.unknown", f"区划代码不存在：{division}", status=422)
    path = scope.path if scope is not None else None
    busy = DiscoveryRun.objects.filter(
        status=DiscoveryRunStatus.RUNNING, started_at__gte=timezone.now() - timedelta(minutes=30)
    )
    if busy.exists():
        raise Conflict(Code.DISCOVERY_RUNNING, "已有主动发现正在运行，请稍后再试")
    run = DiscoveryRun.objects.create(as_of=day, division=scope, created_by=actor)
    started = time.perf_counter()
    try:
        eligible, households = eligible_frame(path, day, on_progress)
        _apply(run, eligible, households, path, day)
    except Exception as exc:
        log.exception("discovery run %s failed", run.pk)
        DiscoveryRun.objects.filter(pk=run.pk).update(
            status=DiscoveryRunStatus.FAILED, error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now(), seconds=time.perf_counter() - started,
        )  # fmt: skip
        raise
    DiscoveryRun.objects.filter(pk=run.pk).update(
        status=DiscoveryRunStatus.DONE, finished_at=timezone.now(),
        seconds=time.perf_counter() - started,
    )  # fmt: skip
    run.refresh_from_db()
    return run


def _apply(
    run: DiscoveryRun, eligible: pl.DataFrame, households: int, path: str | None, day: date
) -> None:
    open_qs = _in_scope(DiscoveryItem.objects.filter(status=ItemStatus.OPEN), path)
    open_items = pl.DataFrame(
        list(open_qs.values_list("pk", "household_id", "programme", "facts")),
        schema={"item": pl.Int64, **PAIR, "facts": pl.Utf8}, orient="row",
    )  # fmt: skip
    dismissed = pl.DataFrame(
        list(_in_scope(DiscoveryItem.objects.filter(status=ItemStatus.DISMISSED), path)
             .values_list("household_id", "programme", "facts")),
        schema={**PAIR, "facts": pl.Utf8}, orient="row",
    )  # fmt: skip
    result = compare(
        eligible, receiving_pairs(path, day), applied_pairs(path, day), dismissed, open_items
    )
    # the reasons a worker reads, for the items written now (new or with changed facts)
    refresh_households = (
        open_items.join(result.refresh.select("item"), on="item").get_column("household").to_list()
    )
    touched = sorted(set(result.new.get_column("household").to_list()) | set(refresh_households))
    item_household = dict(zip(open_items.get_column("item").to_list(),
                              open_items.get_column("household").to_list(), strict=True))  # fmt: skip
    new = result.new.sort("household")
    refresh = result.refresh.with_columns(
        pl.col("item").replace_strict(item_household, return_dtype=pl.Int64).alias("household")
    )
    now = timezone.now()
    with transaction.atomic():
        # chunk by chunk of households, so that a first run over a million households
        # holds one chunk's reasons at a time
        for start in range(0, len(touched), CHUNK):
            part = touched[start : start + CHUNK]
            lo, hi = part[0], part[-1]
            reasons = reasons_for(part, day)
            paths = dict(Household.objects.filter(pk__in=part).values_list("pk", "division__path"))
            rows = new.filter(pl.col("household").is_between(lo, hi))
            DiscoveryItem.objects.bulk_create(
                [
                    DiscoveryItem(
                        household_id=r["household"], division_path=paths[r["household"]],
                        programme=r["programme"], amount=r["amount"], unit=r["unit"],
                        reasons=reasons.get((r["household"], r["programme"]), []),
                        facts=r["facts"], found_run=run, seen_run=run, found_on=day,
                    )
                    for r in rows.iter_rows(named=True)
                ],
                batch_size=2_000,
            )  # fmt: skip
            for r in refresh.filter(pl.col("household").is_between(lo, hi)).iter_rows(named=True):
                DiscoveryItem.objects.filter(pk=r["item"], status=ItemStatus.OPEN).update(
                    amount=r["amount"], facts=r["facts"], seen_run=run,
                    reasons=reasons.get((r["household"], r["programme"]), []),
                )  # fmt: skip
        for start in range(0, len(result.seen), 2_000):
            DiscoveryItem.objects.filter(pk__in=result.seen[start : start + 2_000]).update(
                seen_run=run
            )
        resolved = 0
        for cause, ids in result.resolved.items():
            for start in range(0, len(ids), 2_000):
                resolved += DiscoveryItem.objects.filter(
                    pk__in=ids[start : start + 2_000], status=ItemStatus.OPEN
                ).update(status=ItemStatus.RESOLVED, reason=RESOLVED_TEXT[cause], decided_at=now)
        DiscoveryRun.objects.filter(pk=run.pk).update(
            households=households, eligible=result.counts["eligible"],
            receiving=result.counts["receiving"], applied=result.counts["applied"],
            dismissed_unchanged=result.counts["dismissed_unchanged"], new_items=result.new.height,
            refreshed_items=result.refresh.height, resolved_items=resolved,
        )  # fmt: skip


# -- acting on an item ------------------------------------------------------------------------------


def _lock_open(actor: User, item_id: int) -> DiscoveryItem:
    item = access.access_discovery_item_by_id(actor, item_id)
    item = DiscoveryItem.objects.select_for_update().select_related("household").get(pk=item.pk)
    if item.status != ItemStatus.OPEN:
        raise Conflict(Code.DISCOVERY_DECIDED,
                       f"该线索已处理（{item.get_status_display()}），不能重复操作")  # fmt: skip
    return item


def discovery_dismiss(*, actor: User, item_id: int, reason: Any) -> DiscoveryItem:
    """Dismiss with a reason; the item stays away until the facts change."""
    access.access_discovery_item_by_id(actor, item_id)
    ensure_writer(actor, "排除发现线索")
    text = reason_text(reason, label="排除理由")
    with transaction.atomic():
        item = _lock_open(actor, item_id)
        item.status, item.reason = ItemStatus.DISMISSED, text
        item.decided_by, item.decided_at = actor, timezone.now()
        item.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    return item


def discovery_convert(*, actor: User, item_id: int, note: Any = "") -> DiscoveryItem:
    """Turn the item into an application (the workflow then runs as usual), after a fresh
    check of the household: an item whose household no longer qualifies, already receives
    or has applied is closed with the cause and refused with 409 ``discovery.stale``."""
    from minzheng.applications.services import application_create

    item = access.access_discovery_item_by_id(actor, item_id)
    ensure_writer(actor, "将发现线索转为申请")
    if item.status != ItemStatus.OPEN:
        raise Conflict(Code.DISCOVERY_DECIDED,
                       f"该线索已处理（{item.get_status_display()}），不能重复操作")  # fmt: skip
    today = clock.today()
    fresh = household_results(item.household, today).get(item.programme) or {}
    cause = None
    if not fresh.get("eligible"):
        cause = "gone"
    elif Entitlement.objects.filter(household_id=item.household_id, programme=item.programme,
                                    status__in=LIVE_STATUSES).exists():  # fmt: skip
        cause = "receiving"
    elif ApplicationLine.objects.filter(household_id=item.household_id, programme=item.programme,
                                        state__in=OPEN_STATES).exists():  # fmt: skip
        cause = "applied"
    if cause is not None:
        DiscoveryItem.objects.filter(pk=item.pk, status=ItemStatus.OPEN).update(
            status=ItemStatus.RESOLVED, reason=RESOLVED_TEXT[cause], decided_at=timezone.now(),
            decided_by=actor,
        )  # fmt: skip
        raise Conflict(
            Code.DISCOVERY_STALE,
            f"情况已变化：{RESOLVED_TEXT[cause]}，该线索已关闭，未生成申请",
            {"cause": cause, "reasons": fresh.get("reasons", [])},
        )
    label = programme_labels().get(item.programme, (item.programme,))[0]
    extra = " ".join(str(note or "").split())[:200]
    with transaction.atomic():
        item = _lock_open(actor, item_id)
        application = application_create(
            actor=actor, programmes=[item.programme], household_id=item.household_id,
            include_suggested=False,
            note=f"主动发现：{label}" + (f"；{extra}" if extra else ""),
        )  # fmt: skip
        amount = quantize(Decimal(str(fresh.get("amount") or item.amount)))
        reasons = list(fresh.get("reasons") or item.reasons)
        item.status, item.application = ItemStatus.CONVERTED, application
        item.amount, item.reasons = amount, reasons
        item.decided_by, item.decided_at = actor, timezone.now()
        item.reason = "转为申请 " + application.number
        item.save(update_fields=["status", "application", "amount", "reasons", "decided_by",
                                 "decided_at", "reason"])  # fmt: skip
    return item


def discovery_add(*, run: DiscoveryRun, household_id: int, programme: str, amount: str,
                  unit: str, reasons: list[str], path: str) -> DiscoveryItem:  # fmt: skip
    """One item, written alone (tests, imports of leads from departments): a second open
    item for the same household and programme is refused (409), never duplicated."""
    try:
        with transaction.atomic():
            return DiscoveryItem.objects.create(
                household_id=household_id, division_path=path, programme=programme,
                amount=amount, unit=unit, reasons=reasons,
                facts=facts_of(programme, amount), found_run=run, seen_run=run,
                found_on=run.as_of,
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(Code.DISCOVERY_DUPLICATE, "该户该项目已有待处理的发现线索") from None


# -- the report per street ----------------------------------------------------------------------------


def street_of(path: str) -> str:
    for code in path.split("/"):
        if len(code) == 9:
            return code
    return ""


def report_by_street(actor: User, start: date | None = None, end: date | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Items found, converted, dismissed, resolved and still open, per street of the
    actor's jurisdiction, for items found between ``start`` and ``end``."""
    qs = access.discovery_items_visible(actor)
    if start is not None:
        qs = qs.filter(found_on__gte=start)
    if end is not None:
        qs = qs.filter(found_on__lte=end)
    rows = list(qs.values("division_path", "status").annotate(n=Count("pk")))
    names = dict(Division.objects.filter(level="street").values_list("code", "name"))
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        code = street_of(row["division_path"])
        entry = out.setdefault(code, {"street": code, "name": names.get(code, code or "（未分街道）"),
                                      "found": 0, **{s.value: 0 for s in ItemStatus}})  # fmt: skip
        entry[row["status"]] += row["n"]
        entry["found"] += row["n"]
    for entry in out.values():
        entry["conversion_rate"] = (
            round(entry[ItemStatus.CONVERTED] / entry["found"], 4) if entry["found"] else 0.0
        )
    return sorted(out.values(), key=lambda e: e["street"])
