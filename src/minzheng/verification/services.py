"""Verification of a household under application: declared vs found, per source.

``verification_run`` gathers what the linked department records say about each member
(the latest feed of each source), compares it with what the registry holds (what the
household declared), and re-runs the engine with the found values to say whether each
difference changes eligibility for the programmes applied for. A difference must be
resolved (with a reason) before the case passes the verification step; resolutions
carry over to a later report when the same difference is found again.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from minzheng.accounts import access
from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.applications.models import OPEN_STATES, Application
from minzheng.core.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from minzheng.core.money import format_amount, quantize
from minzheng.core.text import clean_query_text
from minzheng.programmes.eligibility import evaluate_document
from minzheng.registry.models import Person
from minzheng.registry.selectors import household_document
from minzheng.verification.models import (
    Discrepancy,
    FeedRecord,
    LinkStatus,
    RecordLink,
    VerificationReport,
)

VERIFIERS = frozenset({Role.COMMUNITY_WORKER, Role.STREET_REVIEWER, Role.DISTRICT_APPROVER})
LINK_REVIEWERS = frozenset({Role.DISTRICT_APPROVER, Role.STREET_REVIEWER})
CENT = Decimal("0.01")


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal("0.00")


def found_values(members: list[Person]) -> dict[str, Any]:
    """What the latest feed of each source says, per household asset and per member income.

    Returns {"household": {field: (value, source)}, "persons": {person_id: {type: (value, source)}}}.
    """
    links = (
        RecordLink.objects.filter(person__in=members, status__in=[LinkStatus.AUTO, LinkStatus.CONFIRMED])
        .select_related("record__feed")
    )  # fmt: skip
    latest: dict[tuple[str, int], int] = {}
    records: dict[tuple[str, int, int], list[FeedRecord]] = defaultdict(list)
    for link in links:
        feed = link.record.feed
        key = (feed.source, link.person_id)
        records[(feed.source, link.person_id, feed.pk)].append(link.record)
        if feed.pk > latest.get(key, 0):
            latest[key] = feed.pk
    household: dict[str, tuple[Any, str]] = {}
    persons: dict[int, dict[str, tuple[Decimal, str]]] = defaultdict(dict)
    sums: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    business = None
    for (source, person_id), feed_id in latest.items():
        for record in records[(source, person_id, feed_id)]:
            v = record.values
            if source == "bank_deposits":
                sums["deposits"] += _dec(v.get("balance"))
            elif source == "securities":
                sums["securities"] += _dec(v.get("market_value"))
            elif source == "real_estate":
                counts["houses"] += int(v.get("houses") or 0)
            elif source == "vehicles":
                counts["vehicles"] += int(v.get("vehicles") or 0)
            elif source == "business":
                business = bool(business) or bool(v.get("business"))
            elif source == "social_insurance":
                persons[person_id]["pension"] = (_dec(v.get("pension_monthly")), source)
            elif source == "provident_fund":
                persons[person_id]["wages"] = (_dec(v.get("wage_base_monthly")), source)
            elif source == "tax":
                monthly = quantize(_dec(v.get("income_annual")) / 12)
                persons[person_id]["total"] = (monthly, source)
    sources = {s for (s, _p) in latest}
    for name, source in (("deposits", "bank_deposits"), ("securities", "securities")):
        if source in sources:
            household[name] = (sums[name], source)
    for name, source in (("houses", "real_estate"), ("vehicles", "vehicles")):
        if source in sources:
            household[name] = (counts[name], source)
    if "business" in sources:
        household["business"] = (bool(business), "business")
    return {"household": household, "persons": dict(persons)}


def _apply(document: dict[str, Any], changes: list[tuple[str, Any, Any]]) -> dict[str, Any]:
    """A copy of the household document with found values in place of declared ones."""
    doc = copy.deepcopy(document)
    for scope, key, value in changes:
        if scope == "household":
            doc["assets"][key] = format_amount(value) if isinstance(value, Decimal) else value
        else:
            person_id, income_type = key
            for member in doc["members"]:
                if member.get("person_id") != person_id:
                    continue
                if income_type == "total":
                    member["incomes"] = [{"type": "wages", "monthly": format_amount(value)}]
                else:
                    kept = [i for i in member["incomes"] if i["type"] != income_type]
                    member["incomes"] = [
                        *kept,
                        {"type": income_type, "monthly": format_amount(value)},
                    ]
    return doc


def _outcome(
    document: dict[str, Any], programmes: list[str], as_of: date
) -> dict[str, dict[str, Any]]:
    results = evaluate_document(document, as_of)
    return {p: {"eligible": bool(results.get(p, {}).get("eligible")),
                "amount": str(results.get(p, {}).get("amount", "0.00"))} for p in programmes}  # fmt: skip


def _ensure_verifier(actor: User) -> None:
    if actor.role not in VERIFIERS:
        raise PermissionDenied(
            "verification.role", "只有社区工作人员、街道审核员或区级审批员可以核对"
        )


def verification_run(
    *, actor: User, application_id: int, as_of: date | None = None
) -> VerificationReport:
    """Compare declared with found for the application's household and store the report."""
    _ensure_verifier(actor)
    application = access.access_application_by_id(actor, application_id)
    as_of = as_of or timezone.localdate()
    household = application.household
    members = list(
        household.members.filter(state="active").prefetch_related("incomes").order_by("pk")
    )
    document = household_document(household, members, reveal=False)
    programmes = sorted(set(application.lines.filter(state__in=OPEN_STATES).values_list("programme", flat=True))
                        or application.lines.values_list("programme", flat=True))  # fmt: skip
    found = found_values(members)
    declared_assets = document["assets"]
    names = {m.pk: m.name for m in members}
    rows: list[dict[str, Any]] = []
    changes: list[tuple[str, Any, Any]] = []
    for key, (value, source) in found["household"].items():
        declared = declared_assets[key]
        declared_value: Any = _dec(declared) if key in {"deposits", "securities"} else declared
        if declared_value != value:
            rows.append({"source": source, "subject": "本户", "person": None, "field": key,
                         "declared": declared_value, "found": value})  # fmt: skip
            changes.append(("household", key, value))
    for member in document["members"]:
        pid = member["person_id"]
        incomes = {i["type"]: _dec(i["monthly"]) for i in member["incomes"]}
        for income_type, (value, source) in found["persons"].get(pid, {}).items():
            declared_value = (
                sum(incomes.values(), Decimal("0.00"))
                if income_type == "total"
                else incomes.get(income_type, Decimal("0.00"))
            )
            if abs(declared_value - value) >= CENT:
                rows.append({"source": source, "subject": names.get(pid, ""), "person": pid,
                             "field": f"income.{income_type}", "declared": declared_value, "found": value})  # fmt: skip
                changes.append(("person", (pid, income_type), value))
    before = _outcome(document, programmes, as_of)
    after = _outcome(_apply(document, changes), programmes, as_of) if changes else before
    previous = VerificationReport.objects.filter(application=application).order_by("-pk").first()
    carried = {}
    if previous is not None:
        for d in previous.discrepancies.exclude(resolved_at=None):
            carried[(d.source, d.subject, d.field, d.declared, d.found)] = d
    with transaction.atomic():
        report = VerificationReport.objects.create(
            application=application, household=household, as_of=as_of, created_by=actor,
            eligibility={"declared": before, "found": after, "programmes": programmes},
        )  # fmt: skip
        for row, change in zip(rows, changes, strict=True):
            alone = _outcome(_apply(document, [change]), programmes, as_of)
            effect = alone != before
            declared_text, found_text = _show(row["declared"]), _show(row["found"])
            prior = carried.get(
                (row["source"], row["subject"], row["field"], declared_text, found_text)
            )
            Discrepancy.objects.create(
                report=report, source=row["source"], subject=row["subject"], person_id=row["person"],
                field=row["field"], declared=declared_text, found=found_text,
                difference=_difference(row["declared"], row["found"]), changes_eligibility=effect,
                resolution=prior.resolution if prior else "",
                resolved_by=prior.resolved_by if prior else None,
                resolved_at=prior.resolved_at if prior else None,
            )  # fmt: skip
    return report


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "有" if value else "无"
    if isinstance(value, Decimal):
        return format_amount(value)
    return str(value)


def _difference(declared: Any, found: Any) -> str:
    if isinstance(declared, bool) or isinstance(found, bool):
        return "不一致"
    if isinstance(found, Decimal) or isinstance(declared, Decimal):
        return format_amount(_dec(found) - _dec(declared))
    return str(int(found) - int(declared))


def unresolved(application: Application) -> int:
    """Unresolved discrepancies of the application's latest report (0 without a report)."""
    report = VerificationReport.objects.filter(application=application).order_by("-pk").first()
    if report is None:
        return 0
    return report.discrepancies.filter(resolved_at__isnull=True).count()


def discrepancy_resolve(*, actor: User, discrepancy_id: int, resolution: str) -> Discrepancy:
    _ensure_verifier(actor)
    text = " ".join((clean_query_text(resolution, "resolution") or "").split())
    if len(text) < 2:
        raise ApplicationError("verification.resolution_required", "请填写处理说明",
                               {"field": "resolution"}, status=422)  # fmt: skip
    with transaction.atomic():
        d = (
            Discrepancy.objects.select_for_update()
            .filter(pk=discrepancy_id, report__application__in=access.applications_visible(actor))
            .first()
        )
        if d is None:
            raise NotFound("verification.not_found", "核对差异不存在或不在您的管辖范围内")
        if d.resolved_at is not None:
            raise Conflict("verification.already_resolved", "该差异已处理")
        d.resolution, d.resolved_by, d.resolved_at = text[:500], actor, timezone.now()
        d.save(update_fields=["resolution", "resolved_by", "resolved_at"])
    return d


def link_review(*, actor: User, link_id: int, confirm: bool, reason: str) -> RecordLink:
    """A worker's decision on a link in the review queue."""
    if actor.role not in LINK_REVIEWERS:
        raise PermissionDenied("verification.role", "只有街道审核员或区级审批员可以确认关联")
    if len(" ".join((clean_query_text(reason, "reason") or "").split())) < 2:
        raise ApplicationError(
            "verification.reason_required", "请填写理由", {"field": "reason"}, status=422
        )
    with transaction.atomic():
        link = (
            RecordLink.objects.select_for_update()
            .filter(pk=link_id, person__household__in=access.households_visible(actor))
            .first()
        )
        if link is None:
            raise NotFound("verification.not_found", "关联不存在或不在您的管辖范围内")
        if link.status != LinkStatus.REVIEW:
            raise Conflict("verification.already_reviewed", "该关联已确认或否定")
        link.status = LinkStatus.CONFIRMED if confirm else LinkStatus.REJECTED
        link.reviewed_by, link.reviewed_at = actor, timezone.now()
        link.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return link
