"""Life events: registry changes that matter raise a task for the responsible worker and,
for recipients, bring the household's entitlements forward in the dynamic review.

The scan reads what changed since it last ran, from the registry's own history
(django-simple-history rows, so no registry code calls casework):

- a member recorded as deceased or moved out (``Person`` history, state changed);
- a new or changed disability grade (``Person`` history);
- a new income (``Income`` history, created): one task per household and day;
- a member reaching 60, 70, 80, 90 or 100 (birthdays between the last scan and today).

Tasks are raised for households the office already works with (a live entitlement, an
open plan or an open application): the rest of the registry is covered by proactive
discovery, which finds, for example, the elder who turned 90 and the new disability
grade that opens a care subsidy. The first scan only records where the registry stands
(no tasks for the history that was already there). ``Task.source`` names the row or the
person and band that raised a task, so running the scan twice raises nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from minzheng.applications import clock
from minzheng.applications.models import OPEN_STATES, ApplicationLine
from minzheng.benefits.models import LIVE_STATUSES, Entitlement, EntitlementEvent
from minzheng.registry.models import Household, Income, Person
from minzheng.registry.vocab import PersonState

from .models import EventKind, Plan, PlanStatus, ScanCursor, Task

log = logging.getLogger(__name__)

AGE_BANDS = (60, 70, 80, 90, 100)
BATCH = 5_000


@dataclass
class _Event:
    household_id: int
    person_id: int | None
    kind: str
    on: date
    description: str
    source: str


@dataclass
class ScanReport:
    baseline: bool = False
    events: int = 0
    tasks: int = 0
    reviews: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _cursor(name: str) -> ScanCursor:
    cursor, _ = ScanCursor.objects.select_for_update().get_or_create(name=name)
    return cursor


def _person_events(cursor: ScanCursor) -> list[_Event]:
    model = Person.history.model
    rows = list(
        model.objects.filter(history_id__gt=cursor.last_id, history_type="~")
        .order_by("history_id")
        .values("history_id", "id", "name", "household_id", "state", "disability_kind",
                "disability_grade", "history_date")[:BATCH]
    )  # fmt: skip
    if not rows:
        return []
    cursor.last_id = rows[-1]["history_id"]
    earlier: dict[int, dict[int, dict[str, Any]]] = {}
    ids = {r["id"] for r in rows}
    # the record just before each changed one: the latest earlier history row per person
    for prev in (
        model.objects.filter(id__in=ids, history_id__lt=rows[-1]["history_id"])
        .order_by("history_id")
        .values("history_id", "id", "household_id", "state", "disability_grade")
    ):
        earlier.setdefault(prev["id"], {})[prev["history_id"]] = prev
    out: list[_Event] = []
    for r in rows:
        before = [v for k, v in earlier.get(r["id"], {}).items() if k < r["history_id"]]
        prev = before[-1] if before else None
        if prev is None:
            continue
        on = timezone.localdate(r["history_date"])  # the day in Beijing, not in UTC
        household = r["household_id"] or prev["household_id"]
        if household is None:
            continue
        if r["state"] != prev["state"] and r["state"] in (
            PersonState.DECEASED,
            PersonState.MOVED_OUT,
        ):
            kind = EventKind.DEATH if r["state"] == PersonState.DECEASED else EventKind.MOVED_OUT
            text = "去世" if kind == EventKind.DEATH else "迁出"
            out.append(_Event(int(household), r["id"], kind, on, f"成员 {r['name']} {text}",
                              f"person:{r['history_id']}"))  # fmt: skip
        elif (
            r["disability_grade"] is not None and r["disability_grade"] != prev["disability_grade"]
        ):
            out.append(_Event(int(household), r["id"], EventKind.DISABILITY, on,
                              f"成员 {r['name']} 残疾等级登记为 {r['disability_grade']} 级",
                              f"person:{r['history_id']}"))  # fmt: skip
    return out


def _income_events(cursor: ScanCursor) -> list[_Event]:
    model = Income.history.model
    rows = list(
        model.objects.filter(history_id__gt=cursor.last_id, history_type="+")
        .order_by("history_id")
        .values("history_id", "person_id", "type", "monthly", "history_date")[:BATCH]
    )
    if not rows:
        return []
    cursor.last_id = rows[-1]["history_id"]
    homes = dict(
        Person.objects.filter(pk__in={r["person_id"] for r in rows}).values_list(
            "pk", "household_id"
        )
    )
    per_day: dict[tuple[int, date], list[str]] = {}
    for r in rows:
        household = homes.get(r["person_id"])
        if household is None:
            continue
        when = timezone.localdate(r["history_date"])  # the day in Beijing, not in UTC
        per_day.setdefault((household, when), []).append(f"{r['monthly']:.2f}")
    return [
        _Event(household, None, EventKind.INCOME, on,
               f"新增收入登记 {len(amounts)} 条（月收入 {'、'.join(amounts[:5])} 元）",
               f"income:{household}:{on.isoformat()}")
        for (household, on), amounts in per_day.items()
    ]  # fmt: skip


def _age_events(cursor: ScanCursor, today: date) -> list[_Event]:
    last = cursor.last_day
    cursor.last_day = today
    if last is None or last >= today:
        return []
    out: list[_Event] = []
    for band in AGE_BANDS:
        born_after, born_by = _years_before(last, band), _years_before(today, band)
        for pk, name, household, birth in Person.objects.filter(
            state=PersonState.ACTIVE, birth_date__gt=born_after, birth_date__lte=born_by
        ).values_list("pk", "name", "household_id", "birth_date"):
            on = birth.replace(year=birth.year + band) if not (birth.month == 2 and birth.day == 29) \
                else date(birth.year + band, 3, 1)  # fmt: skip
            out.append(_Event(household, pk, EventKind.AGE_BAND, on, f"成员 {name} 年满 {band} 周岁",
                              f"age:{pk}:{band}"))  # fmt: skip
    return out


def _known(household_ids: Iterable[int]) -> set[int]:
    """Households the office works with: a live entitlement, an open plan or application."""
    ids = set(household_ids)
    known = set(Entitlement.objects.filter(household_id__in=ids, status__in=LIVE_STATUSES)
                .values_list("household_id", flat=True))  # fmt: skip
    known |= set(Plan.objects.filter(household_id__in=ids, status=PlanStatus.OPEN)
                 .values_list("household_id", flat=True))  # fmt: skip
    known |= set(ApplicationLine.objects.filter(household_id__in=ids, state__in=OPEN_STATES)
                 .values_list("household_id", flat=True))  # fmt: skip
    return known


def life_events_scan(today: date | None = None) -> ScanReport:
    """Read the changes since the last scan, raise tasks, bring reviews forward. Safe to
    run again at any time (the cursors and ``Task.source`` make it idempotent)."""
    day = today or clock.today()
    report = ScanReport()
    with transaction.atomic():
        persons, incomes, ages = (
            _cursor("person_history"),
            _cursor("income_history"),
            _cursor("age"),
        )
        if ages.last_day is None:
            persons.last_id = Person.history.model.objects.aggregate(m=Max("history_id"))["m"] or 0
            incomes.last_id = Income.history.model.objects.aggregate(m=Max("history_id"))["m"] or 0
            ages.last_day = day
            for c in (persons, incomes, ages):
                c.save()
            report.baseline = True
            return report
        events = _person_events(persons) + _income_events(incomes) + _age_events(ages, day)
        for c in (persons, incomes, ages):
            c.save()
        report.events = len(events)
        known = _known(e.household_id for e in events)
        events = [e for e in events if e.household_id in known]
        existing = set(
            Task.objects.filter(source__in=[e.source for e in events]).values_list(
                "source", flat=True
            )
        )
        paths = dict(Household.objects.filter(pk__in={e.household_id for e in events})
                     .values_list("pk", "division__path"))  # fmt: skip
        owners = dict(Plan.objects.filter(household_id__in=paths, status=PlanStatus.OPEN)
                      .values_list("household_id", "responsible_id"))  # fmt: skip
        for e in events:
            if e.source in existing:
                continue
            existing.add(e.source)
            task = Task.objects.create(
                household_id=e.household_id, person_id=e.person_id, division_path=paths[e.household_id],
                kind=e.kind, event_on=e.on, description=e.description, source=e.source,
                assigned_to_id=owners.get(e.household_id),
            )  # fmt: skip
            task.reviews_triggered = _bring_reviews_forward(task)
            if task.reviews_triggered:
                task.save(update_fields=["reviews_triggered"])
            report.tasks += 1
            report.reviews += task.reviews_triggered
            report.by_kind[e.kind] = report.by_kind.get(e.kind, 0) + 1
    log.info("life events: %s events, %s tasks, %s reviews brought forward",
             report.events, report.tasks, report.reviews)  # fmt: skip
    return report


def _bring_reviews_forward(task: Task) -> int:
    """A recipient household's live entitlements become due for review on the event's
    day (动态管理: the change is examined now, not at the next scheduled review)."""
    n = 0
    for ent in Entitlement.objects.select_for_update().filter(
        household_id=task.household_id, status__in=LIVE_STATUSES
    ):
        if ent.next_review_on is not None and ent.next_review_on <= task.event_on:
            continue
        old = ent.next_review_on
        ent.next_review_on = task.event_on
        ent.save(update_fields=["next_review_on"])
        EntitlementEvent.objects.create(
            entitlement=ent, kind=EntitlementEvent.Kind.REVIEW,
            reason=f"生活事件：{task.description}，提前复核",
            data={"task": task.pk, "next_review_on_was": old.isoformat() if old else None},
        )  # fmt: skip
        n += 1
    return n
