"""Every read of applications, starting from ``accounts.access``."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import FileResponse

from minzheng.accounts import access
from minzheng.accounts.models import AccessAction, User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import access_log_record
from minzheng.applications import clock, files, workflow
from minzheng.applications.models import (
    OPEN_STATES,
    Application,
    ApplicationDocument,
    ApplicationLine,
    Objection,
    State,
    Transition,
)
from minzheng.core.errors import ApplicationError, NotFound
from minzheng.core.money import format_amount
from minzheng.programmes.eligibility import evaluate_document, programme_labels
from minzheng.registry.models import Division, Household
from minzheng.registry.selectors import household_document
from minzheng.registry.vocab import PersonState

log = logging.getLogger("minzheng.applications")


def household_results(household: Household, as_of: date) -> dict[str, dict[str, Any]]:
    """Every programme's result for the household's registry document as of ``as_of``
    (the engine's advice: a failure is logged and gives no suggestions)."""
    members = list(
        household.members.filter(state=PersonState.ACTIVE)
        .prefetch_related("incomes")
        .order_by("pk")
    )
    try:
        return evaluate_document(household_document(household, members, reveal=False), as_of)
    except ApplicationError:
        raise
    except Exception:
        log.exception("evaluation failed for household %s", household.pk)
        return {}


def lines_visible(actor: User) -> QuerySet[ApplicationLine]:
    return ApplicationLine.objects.filter(application__in=access.applications_visible(actor))


def inbox(actor: User) -> QuerySet[ApplicationLine]:
    """What is waiting for the actor's role in their jurisdiction, overdue (earliest due) first.

    The jurisdiction is ``division_path IN`` the paths of the actor's subtree (a list,
    read first) rather than ``LIKE 'path%'``: equality is a range of ``line_inbox_idx`` on
    every database, a LIKE prefix is not (SQLite's LIKE ignores case; PostgreSQL needs the
    C collation). The application, applicant and division of a page's lines come by one
    prefetch query, so that the sort runs over lines alone (SQLite joined every line
    before sorting). Measured in benchmarks/bench_inbox.py.
    """
    if actor.role not in {s.role for s in workflow.STEPS.values()} or actor.division is None:
        return ApplicationLine.objects.none()
    subtree = list(
        Division.objects.filter(path__startswith=actor.division.path).values_list("path", flat=True)
    )
    lines = ApplicationLine.objects.filter(waiting_role=actor.role, division_path__in=subtree)
    if actor.role == Role.DEPARTMENT_LIAISON:
        lines = lines.filter(department=actor.department)
    cases = Application.objects.select_related("applicant", "division")
    return lines.prefetch_related(Prefetch("application", cases)).order_by("step_due", "pk")


def inbox_counts(actor: User, today: date | None = None) -> dict[str, int]:
    today = today or clock.today()
    return inbox(actor).aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(step_due__lt=today)),
        due_today=Count("pk", filter=Q(step_due=today)),
    )


def step_summary(actor: User, today: date | None = None) -> list[dict[str, Any]]:
    """Open lines in the actor's jurisdiction per step: how many, how many overdue."""
    today = today or clock.today()
    rows = (
        lines_visible(actor)
        .filter(state__in=OPEN_STATES)
        .values("state")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(step_due__lt=today)))
    )
    by_state = {r["state"]: r for r in rows}
    return [
        {"state": s.value, "label": s.label, "open": by_state[s.value]["open"],
         "overdue": by_state[s.value]["overdue"]}
        for s in State if s.value in by_state
    ]  # fmt: skip


def applications_list(
    actor: User,
    *,
    state: str | None = None,
    programme: str | None = None,
    household: int | None = None,
    overdue: bool = False,
) -> QuerySet[Application]:
    qs = access.applications_visible(actor)
    lines = ApplicationLine.objects.all()
    if state:
        lines = lines.filter(state=state)
    if programme:
        lines = lines.filter(programme=programme)
    if overdue:
        lines = lines.filter(state__in=OPEN_STATES, step_due__lt=clock.today())
    if state or programme or overdue:
        qs = qs.filter(pk__in=lines.values("application_id"))
    if household is not None:
        qs = qs.filter(household_id=household)
    return (
        qs.select_related("household", "division", "applicant")
        .prefetch_related("lines")
        .order_by("-pk")
    )


def application_get(actor: User, application_id: int, *, channel: str = "web") -> Application:
    """Open an application; the read of the applicant's details is logged."""
    application = access.access_application_by_id(actor, application_id)
    if actor.role != Role.RESIDENT:
        access_log_record(actor=actor, household=application.household,
                          persons=[application.applicant], action=AccessAction.VIEW,
                          reason=f"查看申请 {application.number}", channel=channel)  # fmt: skip
    return application


UNIT_LABELS = {"yuan/month": "元/月", "yuan/year": "元/年", "yuan": "元"}


def _money(value: Any) -> str | None:
    return None if value is None else format_amount(value)


def line_out(line: ApplicationLine, actor: User, today: date) -> dict[str, Any]:
    labels = programme_labels()
    label, label_en, _unit = labels.get(line.programme, (line.programme, line.programme, ""))
    open_ = line.state in OPEN_STATES
    return {
        "id": line.pk,
        "programme": line.programme,
        "label": label,
        "label_en": label_en,
        "state": line.state,
        "state_label": line.get_state_display(),
        "route": line.route,
        "department": line.department or None,
        "waiting_role": line.waiting_role or None,
        "step_entered_on": line.step_entered_on,
        "step_due": line.step_due,
        "overdue": bool(open_ and line.step_due and line.step_due < today),
        "requested": line.requested,
        "suggested": line.suggested,
        "estimated_amount": _money(line.estimated_amount),
        "proposed_amount": _money(line.proposed_amount),
        "amount": _money(line.amount),
        "unit": line.unit,
        "start_month": line.start_month.strftime("%Y-%m") if line.start_month else None,
        "notice_starts_on": line.notice_starts_on,
        "notice_ends_on": line.notice_ends_on,
        "decision_reason": line.decision_reason or None,
        "decided_at": line.decided_at,
        "version": line.version,
        "actions": [
            a
            for a in workflow.actions_for(
                line.route, line.state, actor.role, returned_from=line.returned_from
            )
            if workflow.may_act(actor, line, a)
        ],
        "steps": [
            {"step": s.name, "label": s.label, "state": s.state.value}
            for s in workflow.steps_of(line.route)
        ],
    }


def application_out(application: Application, actor: User) -> dict[str, Any]:
    today = clock.today()
    lines = list(application.lines.order_by("pk"))
    transitions = (
        Transition.objects.filter(line__application=application)
        .select_related("actor", "line")
        .order_by("at", "pk")
    )
    states = {ln.state for ln in lines}
    status = "open" if states & set(OPEN_STATES) else (
        "withdrawn" if states == {State.WITHDRAWN} else "decided")  # fmt: skip
    received = application.received_division
    labels = programme_labels()
    return {
        "id": application.pk,
        "number": application.number,
        "status": status,
        "channel": application.channel,
        "household": {"id": application.household_id, "number": application.household.number},
        "applicant": {
            "id": application.applicant_id,
            "name": application.applicant.name,
            "id_number": application.applicant.id_number_masked,
        },
        "division": {"code": application.division.code, "name": application.division.name},
        "received_division": {"code": received.code, "name": received.name} if received else None,
        "note": application.note or None,
        "created_at": application.created_at,
        "lines": [line_out(ln, actor, today) for ln in lines],
        "transitions": [_transition_out(t, labels) for t in transitions],
        "documents": [
            {
                "id": d.pk,
                "kind": d.kind,
                "kind_label": d.get_kind_display(),
                "name": d.name,
                "content_type": d.content_type,
                "size": d.size,
                "uploaded_at": d.uploaded_at,
            }
            for d in application.documents.all()
        ],
        "visits": [
            {
                "visited_on": v.visited_on,
                "visitors": v.visitors,
                "findings": v.findings,
                "living_conditions": v.living_conditions,
            }
            for v in application.visits.all()
        ],
        "objections": [
            {
                "id": o.pk,
                "programme": o.line.programme,
                "programme_label": labels.get(o.line.programme, (o.line.programme,))[0],
                "content": o.content,
                "lodged_at": o.lodged_at,
                "resolved": o.resolved_at is not None,
                "upheld": o.upheld,
                "resolution": o.resolution or None,
            }
            for o in Objection.objects.filter(line__application=application).select_related("line")
        ],
    }


def _transition_out(t: Transition, labels: dict[str, tuple[str, str, str]]) -> dict[str, Any]:
    states = dict(State.choices)
    return {
        "programme": t.line.programme,
        "programme_label": labels.get(t.line.programme, (t.line.programme,))[0],
        "action": t.action,
        "action_label": workflow.ACTIONS.get(t.action, "提交申请"),
        "from_state": t.from_state or None,
        "from_label": states.get(t.from_state, ""),
        "to_state": t.to_state,
        "to_label": states.get(t.to_state, t.to_state),
        "actor": t.actor.get_full_name() or t.actor.username,
        "role": t.actor_role,
        "role_label": Role(t.actor_role).label if t.actor_role in Role.values else t.actor_role,
        "reason": t.reason,
        "at": t.at,
        "data": t.data,
    }


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳小明 → 欧***: the family name stays, as public notices show it."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def public_notice(community: Division, today: date | None = None) -> dict[str, Any]:
    """What the public may see of the lines in public notice in one community today."""
    today = today or clock.today()
    labels = programme_labels()
    lines = (
        ApplicationLine.objects.filter(
            state=State.PUBLIC_NOTICE,
            application__division=community,
            notice_starts_on__lte=today,
            notice_ends_on__gte=today,
        )
        .select_related("application__applicant", "application__household")
        .annotate(members=Count("application__household__members",
                                filter=Q(application__household__members__state="active")))
        .order_by("notice_ends_on", "pk")
    )  # fmt: skip
    rows = []
    for ln in lines:
        applicant = ln.application.applicant
        amount = ln.proposed_amount if ln.proposed_amount is not None else ln.estimated_amount
        rows.append({
            "line": ln.pk,
            "name_masked": mask_name(applicant.name),
            "id_masked": applicant.id_number_masked,
            "programme": labels.get(ln.programme, (ln.programme,))[0],
            "members": ln.members,
            "amount": _money(amount) or "—",
            "unit": UNIT_LABELS.get(ln.unit, ln.unit),
            "period_start": ln.notice_starts_on,
            "period_end": ln.notice_ends_on,
        })  # fmt: skip
    return {"community": community, "rows": rows, "today": today}


def document_get(
    actor: User, application_id: int, document_id: int, *, channel: str = "web", log: bool = True
) -> ApplicationDocument:
    """An attached document, only for users who may see its application; the read of the
    file is logged (``log=False`` for the viewer page, whose file fetch logs it)."""
    application = access.access_application_by_id(actor, application_id)
    doc = application.documents.filter(pk=document_id).first()
    if doc is None:
        raise NotFound("document.not_found", "材料不存在或无权查看")
    if log and actor.role != Role.RESIDENT:
        access_log_record(actor=actor, household=application.household,
                          persons=[application.applicant], action=AccessAction.VIEW,
                          reason=f"查看申请材料 {application.number}/{doc.pk}", channel=channel)  # fmt: skip
    return doc


def document_response(doc: ApplicationDocument, *, inline: bool) -> FileResponse:
    path = files.path_of(doc.storage_key)
    if not path.exists():
        raise NotFound("document.missing", "材料文件缺失，请联系管理员")
    response = FileResponse(path.open("rb"), content_type=doc.content_type,
                            as_attachment=not inline, filename=doc.name)  # fmt: skip
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def decided_line(actor: User, application_id: int, line_id: int) -> ApplicationLine:
    """A decided line of an application the actor may see (for its decision letter)."""
    application = application_get(actor, application_id)
    line = (
        ApplicationLine.objects.filter(
            application=application, pk=line_id, state__in=[State.APPROVED, State.REJECTED]
        )
        .select_related("application__applicant", "application__household", "application__division")
        .first()
    )
    if line is None:
        raise NotFound("application.not_decided", "该项目尚未作出决定或不存在")
    return line


def community_for_notice(code: str) -> Division:
    """The division (a community, or the lowest division a household is in) whose public
    notice anyone may read."""
    community = Division.objects.filter(code=code).first()
    if community is None:
        raise NotFound("division.not_found", "社区不存在")
    return community


def line_in_community(line_id: int, community: Division) -> bool:
    return ApplicationLine.objects.filter(pk=line_id, application__division=community).exists()
