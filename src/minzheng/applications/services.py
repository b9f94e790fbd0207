"""Every write of the application workflow: intake, transitions, documents, objections.

Each service takes the acting user first, checks scope through ``accounts.access`` and
the role through ``applications.workflow``, and writes inside one transaction: the
state change and its ``Transition`` row land together or not at all. Concurrent moves
of the same line are serialised by a row lock plus a conditional update on the line's
``version``: the loser gets a 409 and changes nothing.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from minzheng.accounts import access
from minzheng.accounts.models import AccessAction, User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import access_log_record
from minzheng.applications import clock, files, workflow
from minzheng.applications.errors import ApplicationErrorCode as Code
from minzheng.applications.models import (
    OPEN_STATES,
    Application,
    ApplicationDocument,
    ApplicationLine,
    Channel,
    DocumentKind,
    HomeVisit,
    Objection,
    State,
    Transition,
)
from minzheng.applications.selectors import household_results
from minzheng.core.crypto import lookup_hash
from minzheng.core.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from minzheng.core.ids import IdNumberError, parse_id_number
from minzheng.core.money import MoneyError, parse_amount
from minzheng.core.text import clean_query_text
from minzheng.programmes.eligibility import programme_labels
from minzheng.registry.models import Household, Person
from minzheng.registry.vocab import PersonState

log = logging.getLogger("minzheng.applications")

INTAKE_ROLES = frozenset({Role.COMMUNITY_WORKER, Role.RESIDENT})


def _text(raw: Any, field: str) -> str:
    """User text with control characters refused (PostgreSQL cannot store NUL)."""
    return clean_query_text(str(raw) if raw is not None else "", field) or ""


def _reason(raw: str | None, *, required: bool = True, field: str = "reason") -> str:
    text = " ".join(_text(raw, field).split())
    if required and len(text) < 2:
        raise ApplicationError(
            Code.REASON_REQUIRED, "请填写理由（至少两个字）", {"field": "reason"}, status=422
        )
    if len(text) > 500:
        raise ApplicationError(
            Code.REASON_REQUIRED, "理由不超过 500 字", {"field": "reason"}, status=422
        )
    return text


def _new_number(today: date) -> str:
    return f"SQ{today:%Y%m%d}{secrets.token_hex(3).upper()}"


def _amount_of(result: dict[str, Any] | None) -> Decimal | None:
    if not result or not result.get("eligible"):
        return None
    return Decimal(str(result["amount"]))


@dataclass(frozen=True)
class Intake:
    household: Household
    applicant: Person
    channel: str
    received_division_id: int | None


def _locate(
    actor: User,
    *,
    household_id: int | None,
    applicant_id_number: str | None,
    applicant_person_id: int | None,
) -> Intake:
    """The household applied for, and through which channel (跨区通办 when out of scope)."""
    if actor.role not in INTAKE_ROLES or not actor.is_active:
        raise PermissionDenied(Code.INTAKE_FORBIDDEN, "只有社区工作人员或居民本人可以提交申请")
    if actor.role == Role.RESIDENT:
        if actor.household_id is None:
            raise PermissionDenied(Code.INTAKE_FORBIDDEN, "您的账号未关联家庭，不能网上申请")
        household = access.access_household_by_id(actor, actor.household_id)
        if household_id is not None and household_id != household.pk:
            raise NotFound(Code.NOT_FOUND, "家庭不存在或不在您的管辖范围内")
        applicant = _applicant(household, applicant_person_id)
        return Intake(household, applicant, Channel.ONLINE, None)
    if household_id is not None:
        household = access.access_household_by_id(actor, household_id)
        return Intake(household, _applicant(household, applicant_person_id), Channel.WINDOW,
                      actor.division_id)  # fmt: skip
    if not applicant_id_number:
        raise ApplicationError(
            Code.HOUSEHOLD_REQUIRED, "请指定申请家庭（household）或申请人身份证号码",
            {"field": "household"}, status=422,
        )  # fmt: skip
    try:
        number = parse_id_number(applicant_id_number).number
    except IdNumberError as exc:
        raise ApplicationError(
            exc.code, exc.message, {"field": "applicant_id_number"}, status=422
        ) from None
    person = (
        Person.objects.filter(id_number_hash=lookup_hash(number), state=PersonState.ACTIVE)
        .select_related("household", "household__division")
        .first()
    )
    if person is None or person.household is None:
        raise ApplicationError(
            Code.HOUSEHOLD_UNKNOWN,
            "申请人未在本市登记家庭信息，请先到户籍所在地社区办理家庭登记",
            {"field": "applicant_id_number"}, status=422,
        )  # fmt: skip
    household = person.household
    in_scope = access.households_visible(actor).filter(pk=household.pk).exists()
    channel = Channel.WINDOW if in_scope else Channel.CROSS_REGION
    access_log_record(actor=actor, household=household, persons=[person],
                      action=AccessAction.LOOKUP, reason="受理申请", channel="web")  # fmt: skip
    return Intake(household, person, channel, actor.division_id)


def _applicant(household: Household, person_id: int | None) -> Person:
    members = household.members.filter(state=PersonState.ACTIVE)
    if person_id is not None:
        person = members.filter(pk=person_id).first()
        if person is None:
            raise ApplicationError(
                Code.APPLICANT_NOT_MEMBER, "申请人须为本户在册成员", {"field": "applicant"},
                status=422,
            )  # fmt: skip
        return person
    head = members.filter(relation="head").first() or members.order_by("pk").first()
    if head is None:
        raise ApplicationError(Code.APPLICANT_NOT_MEMBER, "该户没有在册成员", status=422)
    return head


def application_create(
    *,
    actor: User,
    programmes: Sequence[str],
    household_id: int | None = None,
    applicant_id_number: str | None = None,
    applicant_person_id: int | None = None,
    include_suggested: bool = True,
    note: str = "",
) -> Application:
    """Record one application: the programmes asked for plus those the engine suggests.

    Routed to the division that owns the household, wherever it was received. A
    programme already open for the household is a 409 (nothing is written).
    """
    labels = programme_labels()
    asked = list(dict.fromkeys(programmes))
    unknown = [p for p in asked if p not in labels]
    if unknown:
        raise ApplicationError(
            Code.PROGRAMME_UNKNOWN, f"未知救助项目：{'、'.join(unknown)}",
            {"field": "programmes", "unknown": unknown, "known": list(labels)}, status=422,
        )  # fmt: skip
    note = _reason(note, required=False, field="note")
    intake = _locate(
        actor,
        household_id=household_id,
        applicant_id_number=applicant_id_number,
        applicant_person_id=applicant_person_id,
    )
    household = intake.household
    today = clock.today()
    open_now = set(
        ApplicationLine.objects.filter(household=household, state__in=OPEN_STATES).values_list(
            "programme", flat=True
        )
    )
    duplicates = [p for p in asked if p in open_now]
    if duplicates:
        raise Conflict(
            Code.DUPLICATE,
            f"该户已有办理中的申请：{'、'.join(labels[p][0] for p in duplicates)}，不能重复申请",
            {"programmes": duplicates},
        )
    results = household_results(household, today)
    suggested = [
        pid
        for pid in labels
        if include_suggested and pid not in asked and pid not in open_now
        and results.get(pid, {}).get("eligible")
    ]  # fmt: skip
    if not asked and not suggested:
        raise ApplicationError(
            Code.NO_PROGRAMMES, "请至少选择一个申请项目（系统未发现可能符合的项目）",
            {"field": "programmes"}, status=422,
        )  # fmt: skip
    try:
        with transaction.atomic():
            application = Application.objects.create(
                number=_new_number(today),
                household=household,
                applicant=intake.applicant,
                division=household.division,
                received_division_id=intake.received_division_id,
                channel=intake.channel,
                note=note,
                created_by=actor,
            )
            for pid in asked + suggested:
                route, department = workflow.route_of(pid)
                state = workflow.first_state(route)
                line = ApplicationLine.objects.create(
                    application=application,
                    programme=pid,
                    household=household,
                    division_path=household.division.path,
                    route=route,
                    department=department,
                    state=state,
                    waiting_role=workflow.waiting_role(state),
                    step_entered_on=today,
                    step_due=workflow.deadline(state, today),
                    requested=pid in asked,
                    suggested=pid in suggested,
                    estimated_amount=_amount_of(results.get(pid)),
                    unit=labels[pid][2],
                )
                Transition.objects.create(
                    line=line, action="submit", from_state="", to_state=state, actor=actor,
                    actor_role=actor.role, reason=note or "提交申请",
                    data={"channel": intake.channel, "suggested": pid in suggested,
                          "reasons": (results.get(pid) or {}).get("reasons", [])},
                )  # fmt: skip
    except IntegrityError:
        # another application for the same programme landed between our check and insert
        raise Conflict(Code.DUPLICATE, "该户已有办理中的同类申请，不能重复申请") from None
    return application


# --------------------------------------------------------------------------- transitions


def _parse_visit(raw: dict[str, Any] | None, today: date) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ApplicationError(
            Code.VISIT_REQUIRED, "请填写入户调查记录（调查日期、调查人员、调查情况）",
            {"field": "visit"}, status=422,
        )  # fmt: skip
    errors = []
    try:
        visited_on = date.fromisoformat(str(raw.get("visited_on") or today.isoformat()))
        if visited_on > today:
            errors.append({"field": "visit.visited_on", "code": "visit.future",
                           "message": "调查日期不能晚于今天"})  # fmt: skip
    except ValueError:
        visited_on = today
        errors.append({"field": "visit.visited_on", "code": "field.date_parsing",
                       "message": "调查日期格式应为 YYYY-MM-DD"})  # fmt: skip
    visitors = " ".join(_text(raw.get("visitors"), "visit.visitors").split())[:200]
    findings = _text(raw.get("findings"), "visit.findings").strip()[:4000]
    living = " ".join(_text(raw.get("living_conditions"), "visit.living_conditions").split())[:500]
    if len(visitors) < 2:
        errors.append({"field": "visit.visitors", "code": "visit.visitors",
                       "message": "请填写调查人员（至少两人签名）"})  # fmt: skip
    if len(findings) < 4:
        errors.append({"field": "visit.findings", "code": "visit.findings",
                       "message": "请填写调查情况"})  # fmt: skip
    if errors:
        raise ApplicationError(Code.VISIT_REQUIRED, "入户调查记录不完整", {"errors": errors},
                               status=422)  # fmt: skip
    return {"visited_on": visited_on, "visitors": visitors, "findings": findings,
            "living_conditions": living}  # fmt: skip


def _parse_amount(raw: Any) -> Decimal:
    try:
        value = parse_amount(raw)
    except MoneyError as exc:
        raise ApplicationError(Code.AMOUNT_INVALID, f"批准金额无效：{exc}", {"field": "amount"},
                               status=422) from None  # fmt: skip
    return value


def _parse_month(raw: Any, today: date) -> date:
    if raw in (None, ""):
        return today.replace(day=1)
    text = str(raw)
    try:
        month = date.fromisoformat(text + "-01" if len(text) == 7 else text).replace(day=1)
    except ValueError:
        raise ApplicationError(
            Code.START_MONTH_INVALID, "起始月份格式应为 YYYY-MM", {"field": "start_month"},
            status=422,
        ) from None  # fmt: skip
    return month


def _refuse(lines: list[ApplicationLine], action: str, role: str) -> ApplicationError:
    """The clearest error when no line of the application can take ``action``."""
    labels = programme_labels()
    states = "、".join(
        f"{labels.get(ln.programme, (ln.programme,))[0]}（{ln.get_state_display()}）"
        for ln in lines
    )
    details = {"action": action, "lines": [{"programme": ln.programme, "state": ln.state}
                                           for ln in lines]}  # fmt: skip
    legal = [ln for ln in lines if workflow.next_state(ln.route, ln.state, action,
                                                       returned_from=ln.returned_from)]  # fmt: skip
    if legal:
        roles = sorted({r for ln in legal for r in workflow.role_for(ln.route, ln.state, action)})
        role_names = "、".join(Role(r).label for r in roles)
        return PermissionDenied(Code.ROLE_FORBIDDEN, f"此操作须由{role_names}办理")
    if action == "approve" and any(ln.state == State.PUBLIC_NOTICE for ln in lines):
        message = f"公示期未结束，不能审批：{states}"
    elif any(ln.state == State.WITHDRAWN for ln in lines) and all(
        ln.state not in OPEN_STATES for ln in lines
    ):
        message = f"申请已撤回，不能再办理：{states}"
    else:
        message = f"当前环节不能执行“{workflow.ACTIONS[action]}”：{states}"
    return ApplicationError(Code.ILLEGAL_TRANSITION, message, details, status=409)


def application_transition(
    *,
    actor: User,
    application_id: int,
    action: str,
    reason: str,
    programmes: Sequence[str] | None = None,
    amount: Any = None,
    start_month: Any = None,
    visit: dict[str, Any] | None = None,
    version: int | None = None,
) -> list[Transition]:
    """Move the application's lines by ``action``: the ones named in ``programmes``, or
    every line where the actor may take it. Atomic: all named lines move or none."""
    if action not in workflow.ACTIONS:
        raise ApplicationError(
            Code.ACTION_UNKNOWN, f"未知操作：{action}", {"field": "action",
                                                       "known": list(workflow.ACTIONS)},
            status=422,
        )  # fmt: skip
    reason = _reason(reason)
    today = clock.today()
    if action == "verify":
        _verify_first(actor, application_id, today)
    with transaction.atomic():
        application = access.access_application_by_id(actor, application_id)
        lines = list(
            ApplicationLine.objects.select_for_update()
            .filter(application=application)
            .order_by("pk")
        )
        if programmes:
            missing = [p for p in programmes if p not in {ln.programme for ln in lines}]
            if missing:
                raise ApplicationError(
                    Code.PROGRAMME_NOT_IN_APPLICATION, f"本申请不含项目：{'、'.join(missing)}",
                    {"field": "programmes", "missing": missing}, status=422,
                )  # fmt: skip
            named = [ln for ln in lines if ln.programme in set(programmes)]
            for ln in named:
                if not workflow.next_state(
                    ln.route, ln.state, action, returned_from=ln.returned_from
                ):
                    raise _refuse([ln], action, actor.role)
                if not workflow.may_act(actor, ln, action):
                    raise _refuse([ln], action, actor.role)
            targets = named
        else:
            targets = [
                ln for ln in lines
                if workflow.next_state(ln.route, ln.state, action, returned_from=ln.returned_from)
                and workflow.may_act(actor, ln, action)
            ]  # fmt: skip
            if not targets:
                raise _refuse(lines, action, actor.role)
        if version is not None and any(ln.version != version for ln in targets):
            raise Conflict(Code.STALE, "该申请已被他人处理，请刷新后重试",
                           {"versions": {ln.programme: ln.version for ln in targets}})  # fmt: skip
        extra = _prepare(actor, application, targets, action, today, amount=amount,
                         start_month=start_month, visit=visit)  # fmt: skip
        return [_move(actor, ln, action, reason, today, extra.get(ln.pk, {})) for ln in targets]


def _verify_first(actor: User, application_id: int, today: date) -> None:
    """Before the verification step is passed, compare declared with department data.

    The report is committed on its own, so that a worker refused for unresolved
    differences can open it and resolve them."""
    from minzheng.verification.services import verification_run

    application = access.access_application_by_id(actor, application_id)
    waiting = application.lines.filter(state=State.VERIFICATION).exists()
    if waiting and actor.role == Role.COMMUNITY_WORKER:
        verification_run(actor=actor, application_id=application_id, as_of=today)


def _prepare(
    actor: User,
    application: Application,
    lines: list[ApplicationLine],
    action: str,
    today: date,
    *,
    amount: Any,
    start_month: Any,
    visit: dict[str, Any] | None,
) -> dict[int, dict[str, Any]]:
    """Check the action's guards and work out what each line records with it."""
    out: dict[int, dict[str, Any]] = {ln.pk: {} for ln in lines}
    if action == "record_visit":
        fields = _parse_visit(visit, today)
        record = HomeVisit.objects.create(application=application, recorded_by=actor, **fields)
        for ln in lines:
            out[ln.pk] = {"data": {"visit": record.pk, "visited_on": fields["visited_on"].isoformat(),
                                   "visitors": fields["visitors"]}}  # fmt: skip
    elif action == "verify":
        from minzheng.verification.services import unresolved

        open_count = unresolved(application)
        if open_count:
            raise ApplicationError(
                Code.DISCREPANCY_OPEN,
                f"经济状况核对发现 {open_count} 处差异尚未处理，请在核对报告中逐项说明后再提交",
                {"unresolved": open_count}, status=409,
            )  # fmt: skip
        results = household_results(application.household, today)
        for ln in lines:
            result = results.get(ln.programme) or {}
            proposed = _amount_of(result)
            out[ln.pk] = {
                "fields": {"proposed_amount": proposed if proposed is not None else Decimal("0.00")},
                "data": {"eligible": bool(result.get("eligible")), "as_of": today.isoformat(),
                         "amount": str(proposed or "0.00"), "reasons": result.get("reasons", [])},
            }  # fmt: skip
    elif action == "publish_notice":
        starts, ends = workflow.notice_period(today)
        for ln in lines:
            out[ln.pk] = {"fields": {"notice_starts_on": starts, "notice_ends_on": ends},
                          "data": {"notice_starts_on": starts.isoformat(),
                                   "notice_ends_on": ends.isoformat()}}  # fmt: skip
    elif action == "close_notice":
        for ln in lines:
            if ln.notice_ends_on is None or today <= ln.notice_ends_on:
                raise ApplicationError(
                    Code.NOTICE_RUNNING,
                    f"公示期至 {ln.notice_ends_on} 结束，期满后方可进入街道审核",
                    {"notice_ends_on": str(ln.notice_ends_on), "programme": ln.programme},
                    status=409,
                )  # fmt: skip
            open_objections = ln.objections.filter(resolved_at__isnull=True).count()
            if open_objections:
                raise ApplicationError(
                    Code.OBJECTION_OPEN, f"尚有 {open_objections} 条公示异议未处理",
                    {"programme": ln.programme, "open": open_objections}, status=409,
                )  # fmt: skip
    elif action == "approve":
        month = _parse_month(start_month, today)
        for ln in lines:
            if amount not in (None, ""):
                value = _parse_amount(amount)
            elif ln.proposed_amount is not None:
                value = ln.proposed_amount
            elif ln.estimated_amount is not None:
                value = ln.estimated_amount
            else:
                raise ApplicationError(
                    Code.AMOUNT_INVALID, "请填写批准金额", {"field": "amount"}, status=422
                )
            out[ln.pk] = {"fields": {"amount": value, "start_month": month},
                          "data": {"amount": f"{value:.2f}", "start_month": month.strftime("%Y-%m")}}  # fmt: skip
    return out


def _move(
    actor: User, line: ApplicationLine, action: str, reason: str, today: date, extra: dict[str, Any]
) -> Transition:
    to_state = workflow.next_state(line.route, line.state, action, returned_from=line.returned_from)
    fields: dict[str, Any] = dict(extra.get("fields", {}))
    fields.update(
        state=to_state,
        waiting_role=workflow.waiting_role(to_state),
        step_entered_on=today,
        step_due=workflow.deadline(to_state, today, notice_ends_on=fields.get("notice_ends_on")),
        returned_from=line.state if to_state == State.RETURNED else "",
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if to_state in (State.APPROVED, State.REJECTED):
        fields["decided_at"] = timezone.now()
        fields["decision_reason"] = reason
    moved = ApplicationLine.objects.filter(
        pk=line.pk, state=line.state, version=line.version
    ).update(**fields)
    if moved != 1:  # only reachable without row locks: another move won the race
        raise Conflict(Code.STALE, "该申请已被他人处理，请刷新后重试")
    transition = Transition.objects.create(
        line=line, action=action, from_state=line.state, to_state=to_state, actor=actor,
        actor_role=actor.role, reason=reason, data=extra.get("data", {}),
    )  # fmt: skip
    log.info("line %s %s: %s -> %s by %s", line.pk, action, line.state, to_state, actor.pk)
    if to_state == State.APPROVED:
        # the decision becomes an entitlement in the same transaction
        from minzheng.benefits.services import entitlement_from_line

        line.refresh_from_db()
        entitlement_from_line(line, actor)
    return transition


# ----------------------------------------------------------------------------- documents


def document_attach(
    *, actor: User, application_id: int, kind: str, name: str, content: bytes
) -> ApplicationDocument:
    application = access.access_application_by_id(actor, application_id)
    if actor.role not in INTAKE_ROLES and actor.role not in {Role.STREET_REVIEWER,
                                                             Role.DISTRICT_APPROVER}:  # fmt: skip
        raise PermissionDenied(Code.INTAKE_FORBIDDEN, "您的角色不能上传申请材料")
    if kind not in DocumentKind.values:
        raise ApplicationError(
            Code.DOCUMENT_KIND, f"材料类别无效：{kind}",
            {"field": "kind", "known": list(DocumentKind.values)}, status=422,
        )  # fmt: skip
    if not application.lines.filter(state__in=OPEN_STATES).exists():
        raise Conflict(Code.DOCUMENT_CLOSED, "申请已办结或撤回，不能再上传材料")
    checked = files.check(name, content)
    key = files.store(checked)
    try:
        with transaction.atomic():
            return ApplicationDocument.objects.create(
                application=application, kind=kind, name=checked.name,
                content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
                storage_key=key, uploaded_by=actor,
            )  # fmt: skip
    except Exception:
        files.discard(key)
        raise


# ---------------------------------------------------------------------------- objections


def objection_lodge(
    *, actor: User | None, line_id: int, content: str, contact: str = ""
) -> Objection:
    """Record an objection to a line in public notice (anyone may object, signed in or not)."""
    text = " ".join(_text(content, "content").split())
    if len(text) < 5 or len(text) > 1000:
        raise ApplicationError(Code.OBJECTION_CONTENT, "异议内容须为 5 至 1000 字",
                               {"field": "content"}, status=422)  # fmt: skip
    contact = " ".join(_text(contact, "contact").split())[:100]
    today = clock.today()
    with transaction.atomic():
        line = ApplicationLine.objects.select_for_update().filter(pk=line_id).first()
        if (
            line is None
            or line.state != State.PUBLIC_NOTICE
            or line.notice_starts_on is None
            or line.notice_ends_on is None
            or not (line.notice_starts_on <= today <= line.notice_ends_on)
        ):
            raise NotFound(Code.OBJECTION_NOT_IN_NOTICE, "该公示不存在或不在公示期内")
        return Objection.objects.create(line=line, content=text, contact=contact,
                                        lodged_by=actor if actor and actor.is_authenticated else None)  # fmt: skip


def objection_resolve(
    *, actor: User, objection_id: int, upheld: bool, resolution: str
) -> Objection:
    resolution = _reason(resolution, field="resolution")
    with transaction.atomic():
        objection = (
            Objection.objects.select_for_update()
            .filter(pk=objection_id, line__application__in=access.applications_visible(actor))
            .select_related("line")
            .first()
        )
        if objection is None:
            raise NotFound(Code.NOT_FOUND, "异议不存在或不在您的管辖范围内")
        if actor.role != Role.COMMUNITY_WORKER:
            raise PermissionDenied(Code.ROLE_FORBIDDEN, "公示异议由社区工作人员核实处理")
        if objection.resolved_at is not None:
            raise Conflict(Code.OBJECTION_RESOLVED, "该异议已处理")
        objection.upheld = upheld
        objection.resolution = resolution
        objection.resolved_by = actor
        objection.resolved_at = timezone.now()
        objection.save(update_fields=["upheld", "resolution", "resolved_by", "resolved_at"])
        return objection
