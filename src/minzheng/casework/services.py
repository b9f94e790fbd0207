"""Every write of the household plan (一户一策), its contacts (个案帮扶), file notes and
life-event tasks: one function per use case, each in one transaction.

Input comes from forms and the API as raw values; each function validates all of it
first and raises ``ValidationFailed`` naming every bad field (``needs.0.domain``), so a
refused request writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from minzheng.accounts import access
from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.applications import clock
from minzheng.core.errors import (
    ApplicationError,
    Conflict,
    NotFound,
    PermissionDenied,
)
from minzheng.core.forms import FieldErrors
from minzheng.programmes.eligibility import programme_labels
from minzheng.registry.models import Household, Person
from minzheng.registry.vocab import PersonState

from .errors import CaseErrorCode as Code
from .models import (
    Contact,
    ContactMode,
    FollowUp,
    HouseholdNote,
    Measure,
    MeasureKind,
    MeasureStatus,
    Need,
    NeedDomain,
    Plan,
    PlanOutcome,
    PlanStatus,
    Severity,
    Task,
    TaskStatus,
)

MAX_TEXT = 500


def ensure_writer(actor: User, what: str) -> None:
    if not actor.is_active or actor.role not in access.CASE_WRITERS:
        names = "、".join(Role(r).label for r in sorted(access.CASE_WRITERS))
        raise PermissionDenied(Code.ROLE_FORBIDDEN, f"{what}须由{names}办理")


# -- parsing -------------------------------------------------------------------------------------


class _Errors(FieldErrors):
    """Field errors with this app's codes (``core.forms``)."""

    INVALID = Code.FIELD_INVALID
    SHORT = Code.REASON_REQUIRED
    PAST = Code.DATE_IN_PAST
    FUTURE = Code.DATE_IN_FUTURE
    LIMIT = MAX_TEXT

    def user(self, raw: Any, field: str, household: Household) -> User | None:
        """A responsible worker: an active casework writer whose jurisdiction covers the
        household."""
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            self.add(field, Code.RESPONSIBLE_INVALID, f"责任人应为工作人员编号：{raw!r}")
            return None
        found = User.objects.select_related("division").filter(pk=pk, is_active=True).first()
        ok = (
            found is not None
            and found.role in access.CASE_WRITERS
            and found.division is not None
            and household.division.path.startswith(found.division.path)
        )
        if not ok:
            self.add(field, Code.RESPONSIBLE_INVALID,
                     "责任人须为管辖该户的社区、街道或区级工作人员")  # fmt: skip
            return None
        return found


def _list(raw: Any, field: str, errors: _Errors) -> list[dict[str, Any]]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        errors.add(field, Code.FIELD_INVALID, f"{field} 应为对象列表")
        return []
    return raw


# -- plans ------------------------------------------------------------------------------------------


@dataclass
class _NeedIn:
    domain: str
    severity: str
    description: str
    person: Person | None


@dataclass
class _MeasureIn:
    kind: str
    programme: str
    target: str
    description: str
    responsible: User | None
    due_on: date | None


@dataclass
class _FollowUpIn:
    due_on: date | None
    purpose: str
    assigned_to: User | None


def _parse_needs(raw: Any, household: Household, errors: _Errors) -> list[_NeedIn]:
    out: list[_NeedIn] = []
    seen: set[str] = set()
    members = {p.pk: p for p in household.members.filter(state=PersonState.ACTIVE)}
    for k, item in enumerate(_list(raw, "needs", errors)):
        f = f"needs.{k}"
        domain = errors.choice(item.get("domain"), f"{f}.domain", "需求领域", NeedDomain)
        if domain and domain in seen:
            errors.add(f"{f}.domain", Code.FIELD_INVALID, "同一需求领域只填写一次")
        seen.add(domain)
        person = None
        if item.get("person") not in (None, ""):
            try:
                person = members.get(int(item["person"]))
            except (TypeError, ValueError):
                person = None
            if person is None:
                errors.add(f"{f}.person", Code.FIELD_INVALID, "涉及成员须为本户在册成员")
        out.append(
            _NeedIn(
                domain=domain,
                severity=errors.choice(item.get("severity", "medium"), f"{f}.severity", "程度", Severity),
                description=errors.text(item.get("description"), f"{f}.description", "需求描述"),
                person=person,
            )
        )  # fmt: skip
    return out


def _parse_measures(raw: Any, household: Household, actor: User, today: date,
                    errors: _Errors) -> list[_MeasureIn]:  # fmt: skip
    out: list[_MeasureIn] = []
    labels = programme_labels()
    for k, item in enumerate(_list(raw, "measures", errors)):
        f = f"measures.{k}"
        kind = errors.choice(item.get("kind"), f"{f}.kind", "措施类别", MeasureKind)
        programme = str(item.get("programme") or "")
        target = " ".join(str(item.get("target") or "").split())
        if kind == MeasureKind.CASH and programme not in labels:
            errors.add(f"{f}.programme", Code.FIELD_INVALID,
                       f"物质救助措施须写明救助项目，可选：{'、'.join(labels)}")  # fmt: skip
        if kind == MeasureKind.REFERRAL and len(target) < 2:
            errors.add(f"{f}.target", Code.FIELD_INVALID, "转介措施须写明承接的部门或社会组织")
        if len(target) > 100:
            errors.add(f"{f}.target", Code.FIELD_INVALID, "承接部门或组织不超过 100 字")
        responsible = (
            errors.user(item["responsible"], f"{f}.responsible", household)
            if item.get("responsible") not in (None, "")
            else actor
        )
        out.append(
            _MeasureIn(
                kind=kind, programme=programme if kind == MeasureKind.CASH else "",
                target=target, description=errors.text(item.get("description"), f"{f}.description", "措施内容"),
                responsible=responsible,
                due_on=errors.day(item.get("due_on"), f"{f}.due_on", "完成时限", not_before=today,
                                  required=False),
            )
        )  # fmt: skip
    return out


def _parse_follow_ups(raw: Any, household: Household, actor: User, today: date,
                      errors: _Errors, prefix: str = "follow_ups") -> list[_FollowUpIn]:  # fmt: skip
    out: list[_FollowUpIn] = []
    for k, item in enumerate(_list(raw, prefix, errors)):
        f = f"{prefix}.{k}"
        assigned = (
            errors.user(item["assigned_to"], f"{f}.assigned_to", household)
            if item.get("assigned_to") not in (None, "")
            else actor
        )
        out.append(
            _FollowUpIn(
                due_on=errors.day(item.get("due_on"), f"{f}.due_on", "回访日期", not_before=today),
                purpose=errors.text(item.get("purpose"), f"{f}.purpose", "回访事项"),
                assigned_to=assigned,
            )
        )
    return out


def _write_follow_ups(plan: Plan, items: list[_FollowUpIn], actor: User) -> None:
    for fu in items:
        assert fu.due_on is not None and fu.assigned_to is not None
        FollowUp.objects.create(
            plan=plan, division_path=plan.division_path, due_on=fu.due_on, purpose=fu.purpose,
            assigned_to=fu.assigned_to, created_by=actor,
        )  # fmt: skip


def plan_open(*, actor: User, household_id: int, summary: Any, review_on: Any,
              responsible: Any = None, needs: Any = None, measures: Any = None,
              follow_ups: Any = None) -> Plan:  # fmt: skip
    """Open the household's plan with its first assessment; one open plan per household
    (a second is 409)."""
    household = access.access_household_by_id(actor, household_id)
    ensure_writer(actor, "建立帮扶计划")
    today = clock.today()
    errors = _Errors()
    summary_text = errors.text(summary, "summary", "帮扶目标")
    review_day = errors.day(review_on, "review_on", "计划复查日期", not_before=today)
    owner = (
        errors.user(responsible, "responsible", household)
        if responsible not in (None, "")
        else actor
    )
    need_rows = _parse_needs(needs, household, errors)
    if not need_rows:
        errors.add("needs", Code.FIELD_INVALID, "请至少评估一个需求领域")
    measure_rows = _parse_measures(measures, household, actor, today, errors)
    follow_rows = _parse_follow_ups(follow_ups, household, actor, today, errors)
    errors.raise_any()
    assert owner is not None and review_day is not None
    with transaction.atomic():
        Household.objects.select_for_update().filter(pk=household.pk).first()
        if Plan.objects.filter(household=household, status=PlanStatus.OPEN).exists():
            raise Conflict(Code.PLAN_OPEN_EXISTS, "该户已有帮扶中的计划，请在原计划上更新")
        plan = Plan.objects.create(
            household=household, division_path=household.division.path, summary=summary_text,
            responsible=owner, review_on=review_day, opened_by=actor,
        )  # fmt: skip
        for n in need_rows:
            Need.objects.create(plan=plan, domain=n.domain, severity=n.severity,
                                description=n.description, person=n.person, assessed_on=today,
                                assessed_by=actor)  # fmt: skip
        for m in measure_rows:
            assert m.responsible is not None
            Measure.objects.create(plan=plan, kind=m.kind, programme=m.programme, target=m.target,
                                   description=m.description, responsible=m.responsible,
                                   due_on=m.due_on)  # fmt: skip
        _write_follow_ups(plan, follow_rows, actor)
    return plan


def _open_plan(actor: User, plan_id: int, what: str) -> Plan:
    """The plan locked for writing: in scope, open, and the actor may write."""
    plan = access.access_plan_by_id(actor, plan_id)
    ensure_writer(actor, what)
    plan = Plan.objects.select_for_update().select_related("household__division").get(pk=plan.pk)
    if plan.status != PlanStatus.OPEN:
        raise Conflict(Code.PLAN_CLOSED, "该帮扶计划已结案，不能再修改")
    return plan


def _bump(plan: Plan) -> None:
    Plan.objects.filter(pk=plan.pk).update(version=F("version") + 1)


def plan_assess(*, actor: User, plan_id: int, needs: Any) -> Plan:
    """Re-assess: each domain given replaces that domain's earlier need."""
    with transaction.atomic():
        plan = _open_plan(actor, plan_id, "需求评估")
        errors = _Errors()
        rows = _parse_needs(needs, plan.household, errors)
        if not rows:
            errors.add("needs", Code.FIELD_INVALID, "请至少评估一个需求领域")
        errors.raise_any()
        today = clock.today()
        for n in rows:
            Need.objects.update_or_create(
                plan=plan, domain=n.domain,
                defaults={"severity": n.severity, "description": n.description,
                          "person": n.person, "assessed_on": today, "assessed_by": actor},
            )  # fmt: skip
        _bump(plan)
    return plan


def measure_add(*, actor: User, plan_id: int, measure: Any) -> Measure:
    with transaction.atomic():
        plan = _open_plan(actor, plan_id, "制定帮扶措施")
        errors = _Errors()
        rows = _parse_measures([measure] if isinstance(measure, dict) else measure,
                               plan.household, actor, clock.today(), errors)  # fmt: skip
        if len(rows) != 1:
            errors.add("measure", Code.FIELD_INVALID, "请填写一项措施")
        errors.raise_any()
        m = rows[0]
        assert m.responsible is not None
        created = Measure.objects.create(plan=plan, kind=m.kind, programme=m.programme,
                                         target=m.target, description=m.description,
                                         responsible=m.responsible, due_on=m.due_on)  # fmt: skip
        _bump(plan)
    return created


MEASURE_MOVES = {
    MeasureStatus.PLANNED: {MeasureStatus.IN_PROGRESS, MeasureStatus.DONE, MeasureStatus.CANCELLED},
    MeasureStatus.IN_PROGRESS: {MeasureStatus.DONE, MeasureStatus.CANCELLED},
}


def measure_status_set(*, actor: User, measure_id: int, status: Any) -> Measure:
    found = Measure.objects.filter(pk=measure_id, plan__in=access.plans_visible(actor)).first()
    if found is None:
        raise NotFound(Code.MEASURE_NOT_FOUND, "帮扶措施不存在或不在您的管辖范围内")
    with transaction.atomic():
        _open_plan(actor, found.plan_id, "更新措施进度")
        errors = _Errors()
        chosen = errors.choice(status, "status", "措施状态", MeasureStatus)
        errors.raise_any()
        measure = Measure.objects.select_for_update().get(pk=measure_id)
        if chosen not in MEASURE_MOVES.get(MeasureStatus(measure.status), set()):
            raise Conflict(
                Code.MEASURE_STATE,
                f"措施当前为「{measure.get_status_display()}」，不能改为「{MeasureStatus(chosen).label}」",
            )
        measure.status = chosen
        measure.save(update_fields=["status"])
        _bump(measure.plan)
    return measure


def follow_up_add(*, actor: User, plan_id: int, due_on: Any, purpose: Any,
                  assigned_to: Any = None, measure_id: int | None = None) -> FollowUp:  # fmt: skip
    with transaction.atomic():
        plan = _open_plan(actor, plan_id, "安排回访")
        errors = _Errors()
        item = {"due_on": due_on, "purpose": purpose, "assigned_to": assigned_to}
        rows = _parse_follow_ups([item], plan.household, actor, clock.today(), errors,
                                 prefix="follow_up")  # fmt: skip
        for e in errors.items:  # one follow-up: its fields are named as the request names them
            e["field"] = e["field"].removeprefix("follow_up.0.")
        measure = None
        if measure_id is not None:
            measure = Measure.objects.filter(pk=measure_id, plan=plan).first()
            if measure is None:
                errors.add("measure", Code.FIELD_INVALID, "措施不属于该帮扶计划")
        errors.raise_any()
        fu = rows[0]
        assert fu.due_on is not None and fu.assigned_to is not None
        created = FollowUp.objects.create(
            plan=plan, division_path=plan.division_path, due_on=fu.due_on, purpose=fu.purpose,
            assigned_to=fu.assigned_to, created_by=actor, measure=measure,
        )  # fmt: skip
        _bump(plan)
    return created


def contact_record(*, actor: User, plan_id: int, contacted_on: Any, mode: Any, content: Any,
                   follow_up_id: int | None = None) -> Contact:  # fmt: skip
    """个案帮扶: record one contact; naming a pending follow-up completes it with this
    contact's content as its result."""
    with transaction.atomic():
        plan = _open_plan(actor, plan_id, "记录帮扶")
        today = clock.today()
        errors = _Errors()
        day = errors.day(contacted_on, "contacted_on", "联系日期", not_after=today)
        chosen = errors.choice(mode, "mode", "联系方式", ContactMode)
        text = errors.text(content, "content", "帮扶内容", limit=1000)
        follow_up = None
        if follow_up_id is not None:
            follow_up = (
                FollowUp.objects.select_for_update().filter(pk=follow_up_id, plan=plan).first()
            )
            if follow_up is None:
                errors.add("follow_up", Code.FIELD_INVALID, "回访事项不属于该帮扶计划")
            elif follow_up.done_at is not None:
                errors.add("follow_up", Code.FOLLOW_UP_DONE, "该回访已完成")
        errors.raise_any()
        assert day is not None
        contact = Contact.objects.create(
            plan=plan, household=plan.household, division_path=plan.division_path,
            contacted_on=day, mode=chosen, content=text, follow_up=follow_up, worker=actor,
        )  # fmt: skip
        if follow_up is not None:
            follow_up.done_at, follow_up.done_by, follow_up.result = (
                timezone.now(),
                actor,
                text[:500],
            )
            follow_up.save(update_fields=["done_at", "done_by", "result"])
        _bump(plan)
    return contact


def follow_up_complete(*, actor: User, follow_up_id: int, result: Any,
                       mode: Any = ContactMode.PHONE) -> FollowUp:  # fmt: skip
    """Done from the inbox: records the contact (today) and completes the follow-up."""
    fu = access.follow_ups_visible(actor).filter(pk=follow_up_id).first()
    if fu is None:
        raise NotFound(Code.FOLLOW_UP_NOT_FOUND, "回访事项不存在或不在您的管辖范围内")
    if fu.done_at is not None:
        raise Conflict(Code.FOLLOW_UP_DONE, "该回访已完成")
    ensure_writer(actor, "完成回访")
    reason_text(result, field="result", label="回访结果")
    contact_record(actor=actor, plan_id=fu.plan_id, contacted_on=clock.today(), mode=mode,
                   content=result, follow_up_id=fu.pk)  # fmt: skip
    fu.refresh_from_db()
    return fu


def plan_review(*, actor: User, plan_id: int, review_on: Any, note: Any) -> Plan:
    """The periodic review of the plan: what changed, and when to look again."""
    with transaction.atomic():
        plan = _open_plan(actor, plan_id, "复查帮扶计划")
        today = clock.today()
        errors = _Errors()
        day = errors.day(review_on, "review_on", "下次复查日期", not_before=today)
        text = errors.text(note, "note", "复查意见")
        errors.raise_any()
        assert day is not None
        plan.review_on, plan.reviewed_at = day, timezone.now()
        plan.save(update_fields=["review_on", "reviewed_at"])
        HouseholdNote.objects.create(household=plan.household, division_path=plan.division_path,
                                     text=f"计划复查：{text}", author=actor)  # fmt: skip
        _bump(plan)
    return plan


def plan_close(*, actor: User, plan_id: int, outcome: Any, note: Any) -> Plan:
    """Close with an outcome; pending follow-ups are closed with the plan (recorded)."""
    with transaction.atomic():
        plan = _open_plan(actor, plan_id, "帮扶计划结案")
        errors = _Errors()
        chosen = errors.choice(outcome, "outcome", "结案结果", PlanOutcome)
        text = errors.text(note, "note", "结案说明")
        errors.raise_any()
        now = timezone.now()
        FollowUp.objects.filter(plan=plan, done_at__isnull=True).update(
            done_at=now, done_by=actor, result="计划结案，未再回访"
        )
        Measure.objects.filter(plan=plan, status__in=[MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS]).update(
            status=MeasureStatus.CANCELLED
        )  # fmt: skip
        plan.status, plan.outcome, plan.outcome_note = PlanStatus.CLOSED, chosen, text
        plan.closed_at, plan.closed_by = now, actor
        plan.save(update_fields=["status", "outcome", "outcome_note", "closed_at", "closed_by"])
        _bump(plan)
    return plan


# -- the household file and life-event tasks ---------------------------------------------------------


def note_add(*, actor: User, household_id: int, text: Any) -> HouseholdNote:
    household = access.access_household_by_id(actor, household_id)
    ensure_writer(actor, "记录工作日志")
    errors = _Errors()
    value = errors.text(text, "text", "记录内容", limit=1000)
    errors.raise_any()
    return HouseholdNote.objects.create(household=household, division_path=household.division.path,
                                        text=value, author=actor)  # fmt: skip


def task_complete(*, actor: User, task_id: int, result: Any) -> Task:
    found = access.tasks_visible(actor).filter(pk=task_id).first()
    if found is None:
        raise NotFound(Code.TASK_NOT_FOUND, "待办事项不存在或不在您的管辖范围内")
    ensure_writer(actor, "处理生活事件")
    errors = _Errors()
    text = errors.text(result, "result", "处理结果")
    errors.raise_any()
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=found.pk)
        if task.status != TaskStatus.OPEN:
            raise Conflict(Code.TASK_DONE, "该事项已处理")
        task.status, task.result, task.done_by, task.done_at = (
            TaskStatus.DONE,
            text,
            actor,
            timezone.now(),
        )
        task.save(update_fields=["status", "result", "done_by", "done_at"])
    return task


def reason_text(raw: Any, field: str = "reason", label: str = "理由") -> str:
    errors = _Errors()
    value = errors.text(raw, field, label)
    errors.raise_any()
    return value


__all__ = [
    "ApplicationError",
    "contact_record",
    "ensure_writer",
    "follow_up_add",
    "follow_up_complete",
    "measure_add",
    "measure_status_set",
    "note_add",
    "plan_assess",
    "plan_close",
    "plan_open",
    "plan_review",
    "reason_text",
    "task_complete",
]
