"""Every write to the registry: one function per use case, history and reason inside."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from minzheng.accounts import access
from minzheng.core.crypto import encrypt, lookup_hash
from minzheng.core.errors import ApplicationError, Conflict, ValidationFailed
from minzheng.core.ids import mask_id_number
from minzheng.registry.bulk import bulk_insert, copy_created_to_history
from minzheng.registry.documents import (
    HouseholdDoc,
    HouseholdPatch,
    IncomeDoc,
    MemberDoc,
    MemberPatch,
)
from minzheng.registry.errors import RegistryErrorCode
from minzheng.registry.models import Division, Household, Income, MedicalBill, Person
from minzheng.registry.vocab import PersonState, Relation

log = logging.getLogger(__name__)
M = TypeVar("M", bound=Model)

if TYPE_CHECKING:
    from minzheng.accounts.models import User


def _month_of(income: IncomeDoc, default: date) -> date:
    if income.month:
        year, month = income.month.split("-")
        return date(int(year), int(month), 1)
    return default


def current_month() -> date:
    today = timezone.localdate()
    return today.replace(day=1)


def new_household_number(division_code: str) -> str:
    return f"{division_code}-{secrets.token_hex(4).upper()}"


@dataclass
class BatchError:
    index: int  # position of the document in the batch
    field: str  # dotted path inside that document
    code: str
    message: str


def _person_from_doc(doc: MemberDoc, household: Household) -> Person:
    assert doc.birth_date is not None and doc.sex is not None
    return Person(
        household=household,
        external_id=doc.id or "",
        name=doc.name,
        id_number_encrypted=encrypt(doc.id_number),
        id_number_hash=lookup_hash(doc.id_number),
        id_number_masked=mask_id_number(doc.id_number),
        birth_date=doc.birth_date,
        sex=doc.sex,
        relation=doc.relation,
        phone=doc.phone or "",
        disability_kind=doc.disability.kind if doc.disability else "",
        disability_grade=doc.disability.grade if doc.disability else None,
        health=doc.health or "",
        employment=doc.employment or "",
        schooling=doc.schooling or "",
        statuses=[s.value for s in doc.statuses],
    )


def _where_registered(actor: User | None, hashes: Iterable[str]) -> dict[str, str]:
    """For each already-registered hash, where the person is, named only if in scope."""
    found = {
        p.id_number_hash: p
        for p in Person.objects.filter(id_number_hash__in=list(hashes)).select_related(
            "household", "household__division"
        )
    }
    if not found:
        return {}
    visible: set[int] = set()
    if actor is not None:
        visible = set(
            access.persons_visible(actor)
            .filter(pk__in=[p.pk for p in found.values()])
            .values_list("pk", flat=True)
        )
    out = {}
    for digest, person in found.items():
        if person.pk in visible and person.household is not None:
            out[digest] = (
                f"该身份证号码已登记：{person.name}，{person.household.division.name}"
                f"，户编号 {person.household.number}"
            )
        else:
            out[digest] = "该身份证号码已在登记系统中，不能重复登记"
    return out


def _resolve_divisions(
    actor: User | None, documents: Sequence[HouseholdDoc], errors: list[BatchError]
) -> dict[str, Division]:
    codes = {d.division for d in documents}
    divisions = {d.code: d for d in Division.objects.filter(code__in=codes)}
    in_scope = set(divisions)
    if actor is not None:
        in_scope = set(
            access.divisions_visible(actor).filter(code__in=codes).values_list("code", flat=True)
        )
    for i, doc in enumerate(documents):
        if doc.division not in divisions:
            errors.append(
                BatchError(
                    i,
                    "division",
                    RegistryErrorCode.DIVISION_UNKNOWN,
                    f"区划代码 {doc.division} 不存在",
                )
            )
        elif doc.division not in in_scope:
            errors.append(
                BatchError(
                    i,
                    "division",
                    RegistryErrorCode.DIVISION_OUT_OF_SCOPE,
                    f"区划 {doc.division} 不在您的管辖范围内",
                )
            )
    return divisions


def households_check(actor: User | None, documents: Sequence[HouseholdDoc]) -> list[BatchError]:
    """Everything that needs the database: divisions in scope, ID numbers not yet registered,
    no person twice in the batch. Returns the errors; writes nothing."""
    return _check(actor, documents)[0]


def _check(
    actor: User | None, documents: Sequence[HouseholdDoc]
) -> tuple[list[BatchError], dict[str, Division]]:
    errors: list[BatchError] = []
    divisions = _resolve_divisions(actor, documents, errors)
    first_seen: dict[str, tuple[int, int]] = {}
    hashes: dict[str, list[tuple[int, int]]] = {}
    for i, doc in enumerate(documents):
        for j, member in enumerate(doc.members):
            if member.id_number in first_seen:
                fi, fj = first_seen[member.id_number]
                errors.append(
                    BatchError(
                        i,
                        f"members.{j}.id_number",
                        RegistryErrorCode.ID_NUMBER_DUPLICATE_IN_BATCH,
                        f"身份证号码 {mask_id_number(member.id_number)} 在本批数据中重复出现"
                        f"（第 {fi + 1} 户第 {fj + 1} 人）",
                    )
                )
                continue
            first_seen[member.id_number] = (i, j)
            hashes.setdefault(lookup_hash(member.id_number), []).append((i, j))
    registered: dict[str, str] = {}
    keys = list(hashes)
    for start in range(0, len(keys), 5000):
        registered.update(_where_registered(actor, keys[start : start + 5000]))
    for digest, message in registered.items():
        for i, j in hashes[digest]:
            errors.append(
                BatchError(
                    i, f"members.{j}.id_number", RegistryErrorCode.ID_NUMBER_REGISTERED, message
                )
            )
    errors.sort(key=lambda e: (e.index, e.field))
    return errors, divisions


def households_create(
    *,
    actor: User | None,
    documents: Sequence[HouseholdDoc],
    reason: str,
    batch_size: int = 2000,
) -> list[Household]:
    """Create households with members, incomes and bills, all or nothing.

    ``actor`` None is the system itself (demo loader); otherwise the actor must be allowed
    to write in each document's division.
    """
    if actor is not None:
        access.ensure_can_write(actor)
    errors, divisions = _check(actor, documents)
    if errors:
        raise ValidationFailed(
            [
                {"index": e.index, "field": e.field, "code": e.code, "message": e.message}
                for e in errors
            ]
        )
    month = current_month()
    try:
        with transaction.atomic():
            households = [
                Household(
                    number=new_household_number(doc.division),
                    external_id=doc.id or "",
                    division=divisions[doc.division],
                    address=doc.address or "",
                    hukou=doc.hukou,
                    deposits=doc.assets.deposits,
                    securities=doc.assets.securities,
                    houses=doc.assets.houses,
                    vehicles=doc.assets.vehicles,
                    business=doc.assets.business,
                    medical_monthly=doc.expenses.medical_monthly,
                    education_monthly=doc.expenses.education_monthly,
                )
                for doc in documents
            ]
            households = _bulk(Household, households, actor, reason, batch_size)
            persons: list[Person] = []
            for doc, household in zip(documents, households, strict=True):
                persons.extend(_person_from_doc(m, household) for m in doc.members)
            persons = _bulk(Person, persons, actor, reason, batch_size)
            incomes: list[Income] = []
            bills: list[MedicalBill] = []
            it = iter(persons)
            for doc, household in zip(documents, households, strict=True):
                for member in doc.members:
                    person = next(it)
                    incomes.extend(
                        Income(
                            person=person,
                            type=inc.type,
                            month=_month_of(inc, month),
                            monthly=inc.monthly,
                        )
                        for inc in member.incomes
                    )
                bills.extend(
                    MedicalBill(
                        household=household,
                        kind=b.kind,
                        total=b.total,
                        insurance_paid=b.insurance_paid,
                    )
                    for b in doc.medical_bills
                )
            _bulk(Income, incomes, actor, reason, batch_size)
            _bulk(MedicalBill, bills, actor, reason, batch_size)
    except IntegrityError as exc:
        # A concurrent writer registered the same person between the check and the insert.
        # The database's text stays in the log: it can name columns and values.
        log.warning("households_create lost a race: %s", exc)
        raise Conflict("registry.conflict", "数据已被他人同时修改，请重试") from None
    return households


def _bulk(
    model: type[M], objs: list[M], actor: User | None, reason: str, batch_size: int
) -> list[M]:
    """Insert and write a "+" history row for each, with the actor and the reason."""
    if not objs:
        return objs
    created = bulk_insert(model, objs, batch_size=batch_size)
    copy_created_to_history(
        model, [o.pk for o in created], user_id=actor.pk if actor else None, reason=reason
    )
    return created


def _save(obj: Person | Household | Income, actor: User, reason: str) -> None:
    obj._change_reason = reason  # type: ignore[union-attr]
    obj._history_user = actor  # type: ignore[union-attr]
    obj.save()


def household_update(*, actor: User, household_id: int, patch: HouseholdPatch) -> Household:
    """Apply a reasoned change; every touched row writes a history entry with the reason."""
    reason = patch.reason.strip()
    if len(reason) < 2:
        raise ApplicationError(RegistryErrorCode.REASON_REQUIRED, "请填写修改原因", status=422)
    with transaction.atomic():
        household = access.access_household_by_id(actor, household_id, for_write=True)
        household = Household.objects.select_for_update().get(pk=household.pk)
        if patch.division is not None and patch.division != household.division.code:
            household.division = access.access_division_by_code(actor, patch.division)
        if patch.address is not None:
            household.address = patch.address
        if patch.hukou is not None:
            household.hukou = patch.hukou
        if patch.assets is not None:
            household.deposits = patch.assets.deposits
            household.securities = patch.assets.securities
            household.houses = patch.assets.houses
            household.vehicles = patch.assets.vehicles
            household.business = patch.assets.business
        if patch.expenses is not None:
            household.medical_monthly = patch.expenses.medical_monthly
            household.education_monthly = patch.expenses.education_monthly
        _save(household, actor, reason)
        members = {p.pk: p for p in household.members.filter(state=PersonState.ACTIVE)}
        errors: list[dict[str, str]] = []
        # Relations moving away from "head" first, so a swap of heads never collides.
        ordered = sorted(enumerate(patch.members), key=lambda kc: kc[1].relation == Relation.HEAD)
        for k, change in ordered:
            person = members.get(change.person_id)
            if person is None:
                errors.append(
                    {
                        "field": f"members.{k}.person_id",
                        "code": RegistryErrorCode.PERSON_NOT_IN_HOUSEHOLD,
                        "message": "该成员不在本户",
                    }
                )
                continue
            _member_apply(person, change, actor, reason)
        if errors:
            raise ValidationFailed(errors)
        if patch.members_add:
            _members_add(actor, household, patch.members_add, reason)
        active = list(
            household.members.filter(state=PersonState.ACTIVE).values_list("relation", flat=True)
        )
        if not active:
            raise ApplicationError(
                RegistryErrorCode.NO_MEMBERS_LEFT, "家庭至少要保留一名在册成员", status=422
            )
        if active.count(Relation.HEAD) != 1:
            raise ApplicationError(
                RegistryErrorCode.HEAD_COUNT, "修改后每户必须有且只有一名户主", status=422
            )
    return household


def _member_apply(person: Person, change: MemberPatch, actor: User, reason: str) -> None:
    for field in ("name", "relation", "phone", "health", "employment", "schooling"):
        value = getattr(change, field)
        if value is not None:
            setattr(person, field, value)
    if change.clear_disability:
        person.disability_kind, person.disability_grade = "", None
    elif change.disability is not None:
        person.disability_kind = change.disability.kind
        person.disability_grade = change.disability.grade
    if change.statuses is not None:
        person.statuses = [s.value for s in dict.fromkeys(change.statuses)]
    if change.leave is not None:
        person.state = change.leave
        person.household = None
        # A person who left is no longer the head of anything.
        if person.relation == Relation.HEAD:
            person.relation = Relation.OTHER
    _save_member(person, actor, reason)
    if change.incomes is not None:
        month = current_month()
        months = {_month_of(inc, month) for inc in change.incomes} or {month}
        for old in Income.objects.filter(person=person, month__in=months):
            old._change_reason = reason  # type: ignore[attr-defined]
            old._history_user = actor  # type: ignore[attr-defined]
            old.delete()
        _save_incomes(person, change.incomes, actor, reason)


def _save_member(person: Person, actor: User, reason: str) -> None:
    """Save with history; the one-head-per-household constraint becomes a clear error."""
    try:
        with transaction.atomic():
            _save(person, actor, reason)
    except IntegrityError:
        raise ApplicationError(
            RegistryErrorCode.HEAD_COUNT, "每户只能有一名户主：请先修改原户主的关系", status=422
        ) from None


def _save_incomes(person: Person, incomes: list[IncomeDoc], actor: User, reason: str) -> None:
    month = current_month()
    for inc in incomes:
        income = Income(
            person=person, type=inc.type, month=_month_of(inc, month), monthly=inc.monthly
        )
        _save(income, actor, reason)


def _members_add(actor: User, household: Household, docs: list[MemberDoc], reason: str) -> None:
    hashes = {lookup_hash(d.id_number): k for k, d in enumerate(docs)}
    registered = _where_registered(actor, hashes)
    if registered:
        raise ValidationFailed(
            [
                {
                    "field": f"members_add.{hashes[h]}.id_number",
                    "code": RegistryErrorCode.ID_NUMBER_REGISTERED,
                    "message": msg,
                }
                for h, msg in registered.items()
            ]
        )
    for doc in docs:
        person = _person_from_doc(doc, household)
        _save_member(person, actor, reason)
        _save_incomes(person, doc.incomes, actor, reason)
