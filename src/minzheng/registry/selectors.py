"""Every read of the registry, starting from ``accounts.access``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, QuerySet

from minzheng.accounts import access
from minzheng.accounts.errors import AccessErrorCode
from minzheng.accounts.models import AccessAction
from minzheng.accounts.services import access_log_record
from minzheng.core.crypto import lookup_hash
from minzheng.core.errors import ApplicationError, PermissionDenied
from minzheng.core.ids import IdNumberError, parse_id_number
from minzheng.core.money import format_amount
from minzheng.core.text import clean_query_text
from minzheng.registry.models import Division, Household, Income, Person
from minzheng.registry.vocab import PersonState, Relation

if TYPE_CHECKING:
    from minzheng.accounts.models import User


def household_search(
    actor: User,
    *,
    name: str | None = None,
    id_number: str | None = None,
    division: str | None = None,
) -> QuerySet[Household]:
    """Households in scope, by a member's name prefix, exact ID number, or division subtree."""
    name = clean_query_text(name, "name")
    division = clean_query_text(division, "division")
    qs = access.households_visible(actor)
    if division:
        node = access.access_division_by_code(actor, division)
        qs = qs.filter(division__path__startswith=node.path)
    if id_number:
        try:
            number = parse_id_number(id_number).number
        except IdNumberError as exc:
            raise ApplicationError(
                exc.code, exc.message, {"field": "id_number"}, status=422
            ) from None
        qs = qs.filter(members__id_number_hash=lookup_hash(number))
    if name:
        qs = qs.filter(pk__in=_households_by_name_prefix(name.strip()))
    return qs.select_related("division").order_by("-id")


NAME_ID_LIST_MAX = 5000


def _households_by_name_prefix(prefix: str) -> Any:
    """Household ids with a member whose name starts with ``prefix``.

    For a selective prefix the ids are fetched first (an index-only scan) and passed as a
    list: PostgreSQL overestimates short Chinese prefixes about tenfold and would otherwise
    scan every household. A broad prefix falls back to a subquery. Either way the result
    only narrows the caller's already scoped queryset.
    """
    matches = Person.objects.filter(name__startswith=prefix, household__isnull=False)
    limit = min(NAME_ID_LIST_MAX, (connection.features.max_query_params or 65_535) - 100)
    ids = list(matches.values_list("household_id", flat=True)[: limit + 1])
    if len(ids) <= limit:
        return set(ids)
    return matches.values("household_id")


def with_heads(households: Iterable[Household]) -> list[Household]:
    """Attach ``heads`` and ``member_count`` to one page of households (two small queries).

    Kept out of :func:`household_search` so that counting all matches stays a plain count.
    """
    items = list(households)
    ids = [h.pk for h in items]
    counts = dict(
        Person.objects.filter(household_id__in=ids, state=PersonState.ACTIVE)
        .values("household_id")
        .annotate(n=Count("id"))
        .values_list("household_id", "n")
    )
    heads = {
        p.household_id: p
        for p in Person.objects.filter(household_id__in=ids, relation=Relation.HEAD)
    }
    for h in items:
        h.heads = [heads[h.pk]] if h.pk in heads else []  # type: ignore[attr-defined]
        h.member_count = counts.get(h.pk, 0)  # type: ignore[attr-defined]
    return items


def household_summary(h: Household) -> dict[str, Any]:
    heads = getattr(h, "heads", [])
    return {
        "id": h.pk,
        "number": h.number,
        "division": {"code": h.division.code, "name": h.division.name},
        "address": h.address,
        "hukou": h.hukou,
        "head_name": heads[0].name if heads else "",
        "head_id_number": heads[0].id_number_masked if heads else "",
        "member_count": getattr(h, "member_count", None),
    }


def household_file(
    actor: User,
    household_id: int,
    *,
    reveal: bool = False,
    reason: str = "",
    channel: str = "web",
) -> tuple[Household, list[Person]]:
    """Open a household's file: members with incomes; logs one read per member."""
    household = access.access_household_by_id(actor, household_id)
    reason = clean_query_text(reason, "reason") or ""
    if reveal:
        if not access.can_reveal_id_numbers(actor):
            raise PermissionDenied(
                AccessErrorCode.REVEAL_FORBIDDEN, "您的角色不能查看完整身份证号码"
            )
        if len(reason.strip()) < 2:
            raise ApplicationError(
                AccessErrorCode.REVEAL_REASON, "查看完整身份证号码须填写事由", status=422
            )
    members = list(
        household.members.filter(state=PersonState.ACTIVE)
        .prefetch_related("incomes")
        .order_by("pk")
    )
    access_log_record(
        actor=actor,
        household=household,
        persons=members,
        action=AccessAction.REVEAL if reveal else AccessAction.VIEW,
        reason=reason,
        channel=channel,
    )
    return household, members


def latest_incomes(person: Person) -> list[Income]:
    """The most recent month's income of each type."""
    latest: dict[str, Income] = {}
    for inc in sorted(person.incomes.all(), key=lambda i: i.month, reverse=True):
        latest.setdefault(inc.type, inc)
    return sorted(latest.values(), key=lambda i: i.type)


def member_document(person: Person, *, reveal: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "person_id": person.pk,
        "id": person.external_id or None,
        "id_number": person.id_number if reveal else person.id_number_masked,
        "name": person.name,
        "relation": person.relation,
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
        "phone": person.phone or None,
        "incomes": [
            {
                "type": i.type,
                "monthly": format_amount(i.monthly),
                "month": i.month.strftime("%Y-%m"),
            }
            for i in latest_incomes(person)
        ],
        "disability": (
            {"kind": person.disability_kind, "grade": person.disability_grade}
            if person.disability_kind
            else None
        ),
        "statuses": list(person.statuses),
        "health": person.health or None,
        "employment": person.employment or None,
        "schooling": person.schooling or None,
    }
    return doc


def household_document(
    household: Household, members: list[Person], *, reveal: bool
) -> dict[str, Any]:
    """The CONTRACTS.md household document, plus the stored ids."""
    return {
        "household_id": household.pk,
        "number": household.number,
        "id": household.external_id or household.number,
        "division": household.division.code,
        "division_name": household.division.name,
        "hukou": household.hukou,
        "address": household.address or None,
        "members": [member_document(p, reveal=reveal) for p in members],
        "assets": {
            "deposits": format_amount(household.deposits),
            "securities": format_amount(household.securities),
            "vehicles": household.vehicles,
            "houses": household.houses,
            "business": household.business,
        },
        "expenses": {
            "medical_monthly": format_amount(household.medical_monthly),
            "education_monthly": format_amount(household.education_monthly),
        },
        "medical_bills": [
            {
                "kind": b.kind,
                "total": format_amount(b.total),
                "insurance_paid": format_amount(b.insurance_paid),
            }
            for b in household.medical_bills.all()
        ],
    }


def household_history(actor: User, household_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """Every change to the household and its members, newest first: who, when, what, why."""
    household = access.access_household_by_id(actor, household_id)
    person_ids = list(
        Person.history.filter(household_id=household.pk).values_list("id", flat=True).distinct()
    )
    entries: list[dict[str, Any]] = []
    for rec in household.history.select_related("history_user").order_by("-history_date")[:limit]:
        entries.append(_history_entry(rec, "家庭", household.number))
    person_recs = (
        Person.history.filter(id__in=person_ids)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )
    for rec in person_recs:
        entries.append(_history_entry(rec, "成员", rec.name))
    income_recs = (
        Income.history.filter(person_id__in=person_ids)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )
    names = dict(Person.objects.filter(pk__in=person_ids).values_list("pk", "name"))
    for rec in income_recs:
        entries.append(_history_entry(rec, "收入", names.get(rec.person_id, "")))
    entries.sort(key=lambda e: e["at"], reverse=True)
    return entries[:limit]


_TYPES = {"+": "新增", "~": "修改", "-": "删除"}


def _history_entry(rec: Any, kind: str, subject: str) -> dict[str, Any]:
    changes: list[dict[str, str]] = []
    prev = rec.prev_record if rec.history_type == "~" else None
    if prev is not None:
        delta = rec.diff_against(prev)
        for change in delta.changes:
            if change.field in {"id_number_encrypted", "updated_at", "created_at"}:
                continue
            field = rec.instance._meta.get_field(change.field)
            changes.append(
                {
                    "field": str(field.verbose_name),
                    "old": _show(change.old),
                    "new": _show(change.new),
                }
            )
    return {
        "at": rec.history_date,
        "kind": kind,
        "subject": subject,
        "type": _TYPES.get(rec.history_type, rec.history_type),
        "user": rec.history_user.username if rec.history_user else "系统",
        "reason": rec.history_change_reason or "",
        "changes": changes,
    }


def _show(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def person_lookup(actor: User, id_number: str, *, channel: str = "api") -> list[Person]:
    """Exact look-up by ID number, within scope; the read is logged."""
    try:
        number = parse_id_number(id_number).number
    except IdNumberError as exc:
        raise ApplicationError(exc.code, exc.message, {"field": "id_number"}, status=422) from None
    persons = list(
        access.persons_visible(actor)
        .filter(id_number_hash=lookup_hash(number))
        .select_related("household", "household__division")
    )
    by_household: dict[int, list[Person]] = defaultdict(list)
    households: dict[int, Household] = {}
    for p in persons:
        assert p.household is not None
        by_household[p.household.pk].append(p)
        households[p.household.pk] = p.household
    for hid, group in by_household.items():
        access_log_record(
            actor=actor,
            household=households[hid],
            persons=group,
            action=AccessAction.LOOKUP,
            channel=channel,
        )
    return persons


def division_tree(actor: User) -> list[dict[str, Any]]:
    """The divisions in scope as nested nodes ``{code, name, level, children}``."""
    nodes = list(access.divisions_visible(actor).order_by("path"))
    by_id: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for d in nodes:
        node = {"code": d.code, "name": d.name, "level": d.level, "children": []}
        by_id[d.pk] = node
        parent = by_id.get(d.parent_id) if d.parent_id else None
        (parent["children"] if parent else roots).append(node)
    return roots


def divisions_for_select(actor: User) -> QuerySet[Division]:
    return access.divisions_visible(actor).order_by("path")
