"""Patrol visits (巡视探访): schedules per elder, the visitor's daily list, visits with
their outcome, and the alerts a failed or missed visit raises and escalates.

A schedule says how often an elder is called (``phone``) or visited at home (``home``)
and by whom: a staff member whose jurisdiction covers the elder, a service provider's
user whose provider serves the elder's area, or a named volunteer (whose visits the
community worker records). One active schedule per elder and mode (the database's
``one_active_schedule_per_mode`` backs the check).

A visit moves the schedule's ``next_due`` to the visit's day plus the interval. A visit
whose outcome is failed (``policy/eldercare/visits.yaml``: no answer, elder unwell)
raises an alert for the community worker at once; ``alerts_sweep`` raises an alert for
every visit missed by a day, moves an open alert to the street when nobody acknowledged
it in time, and raises a street alert for every emergency call left unacknowledged
(``alarms``). ``Alert.source`` names what raised an alert, so each is raised once and
the sweep can run as often as one likes.

Times: ``current_time()`` is now on the workflow's movable day (``applications.clock``),
so tests and the demo that move the day move the visits' clock too; ``alerts_sweep``
takes ``now`` explicitly.

Every write validates all of its input first and raises ``ValidationFailed`` naming
every bad field, so a refused request writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from minzheng.accounts import access
from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.applications import clock
from minzheng.core.errors import Conflict, NotFound, PermissionDenied
from minzheng.core.forms import FieldErrors
from minzheng.registry.models import Person
from minzheng.registry.vocab import PersonState

from .errors import ElderErrorCode as Code
from .models import (
    Alert,
    AlertKind,
    AlertLevel,
    AlertStatus,
    ElderProfile,
    Incident,
    IncidentStatus,
    Provider,
    ProviderMember,
    ProviderStatus,
    Visit,
    VisitMode,
    VisitorKind,
    VisitOutcome,
    VisitSchedule,
)

MAX_NOTE = 500
MAX_EVERY_DAYS = 366
# Staff who acknowledge any alert in their jurisdiction, whatever its level.
ALERT_ESCALATION_STAFF = frozenset({Role.STREET_REVIEWER, Role.DISTRICT_APPROVER})


# -- the policy file ---------------------------------------------------------------------------------


@cache
def policy() -> dict[str, Any]:
    """``policy/eldercare/visits.yaml``: schedules by risk, escalation times, merge window."""
    text = resources.files("minzheng.policy").joinpath("eldercare/visits.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def failed_outcomes() -> frozenset[str]:
    return frozenset(policy()["failed_outcomes"])


def escalation_delays() -> dict[str, timedelta]:
    """How long an open alert of each kind waits at the community before the street."""
    e = policy()["escalation"]
    return {
        AlertKind.FAILED_VISIT: timedelta(hours=e["failed_visit_hours"]),
        AlertKind.MISSED_VISIT: timedelta(hours=e["missed_visit_hours"]),
    }


def incident_alert_delay() -> timedelta:
    return timedelta(minutes=policy()["escalation"]["incident_minutes"])


def schedules_for_risk(elder: ElderProfile | None) -> list[dict[str, Any]]:
    """The schedules the policy suggests for an elder's living situation and risk (the
    first matching rule); ``None`` (no assessment yet) gets the ``no_profile`` default."""
    p = policy()
    if elder is None:
        rule: dict[str, Any] = p["no_profile"]
    else:
        facts = {"living": elder.living, "risk": elder.risk}
        rule = next(
            r for r in p["schedules"] if all(facts.get(k) == v for k, v in r["when"].items())
        )
    return [
        {"mode": v["mode"], "mode_label": VisitMode(v["mode"]).label,
         "every_days": int(v["every_days"])}
        for v in rule["visits"]
    ]  # fmt: skip


# -- time --------------------------------------------------------------------------------------------


def current_time() -> datetime:
    """Now, on the workflow's day (``clock.today()``, movable by tests and the demo) at
    the real local time of day."""
    real = timezone.localtime()
    day = clock.today()
    if day == real.date():
        return real
    return datetime.combine(day, real.time(), tzinfo=real.tzinfo)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# -- parsing -----------------------------------------------------------------------------------------


class _Errors(FieldErrors):
    """Field errors with this app's codes (``core.forms``)."""

    INVALID = Code.FIELD_INVALID
    SHORT = Code.FIELD_INVALID
    PAST = Code.DATE_IN_PAST
    FUTURE = Code.DATE_IN_FUTURE
    LIMIT = MAX_NOTE

    def integer(self, raw: Any, field: str, label: str, low: int, high: int) -> int | None:
        try:
            value = int(str(raw).strip()) if not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            value = None
        if value is None or not low <= value <= high:
            self.add(field, Code.FIELD_INVALID, f"{label}应为 {low} 到 {high} 之间的整数：{raw!r}")
            return None
        return value

    def moment(self, raw: Any, field: str, label: str, *, not_after: datetime | None = None,
               not_before: datetime | None = None) -> datetime | None:  # fmt: skip
        """An ISO date-time; without an offset it is Beijing time (the site's zone)."""
        if raw in (None, ""):
            self.add(field, Code.FIELD_INVALID, f"请填写{label}")
            return None
        if isinstance(raw, datetime):
            value = raw
        else:
            text = str(raw).strip()
            try:
                value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
            except ValueError:
                self.add(field, Code.FIELD_INVALID,
                         f"{label}格式应为 YYYY-MM-DDTHH:MM[:SS][+08:00]：{raw!r}")  # fmt: skip
                return None
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        if not_after is not None and value > not_after:
            shown = timezone.localtime(not_after).strftime("%Y-%m-%d %H:%M")
            self.add(field, Code.DATE_IN_FUTURE, f"{label}不能晚于现在（{shown}）")
            return None
        if not_before is not None and value < not_before:
            shown = timezone.localtime(not_before).strftime("%Y-%m-%d %H:%M")
            self.add(field, Code.DATE_IN_PAST, f"{label}不能早于 {shown}")
            return None
        return value


# -- scope -------------------------------------------------------------------------------------------


def ensure_writer(actor: User, what: str) -> None:
    """Staff who may change elderly care (auditors and admins read)."""
    if not actor.is_active or actor.role not in access.ELDERCARE_WRITERS:
        names = "、".join(Role(r).label for r in sorted(access.ELDERCARE_WRITERS))
        raise PermissionDenied(Code.ROLE_FORBIDDEN, f"{what}须由{names}办理")


def access_elder_by_id(actor: User, person_id: int) -> Person:
    found = (
        access.elders_reachable(actor)
        .select_related("household__division", "elder")
        .filter(pk=person_id)
        .first()
    )
    if found is None:
        raise NotFound(Code.ELDER_NOT_FOUND, "老年人不存在或不在您的管辖范围内")
    return found


def check_elder(person: Person, day: date, errors: _Errors, field: str = "elder") -> None:
    """An elder whom elderly care serves: in the registry and aged 60 or more."""
    min_age = int(policy()["elder_min_age"])
    if person.state != PersonState.ACTIVE or person.household_id is None:
        errors.add(field, Code.NOT_AN_ELDER, f"{person.name}不是在册人员")
    elif age_on(person.birth_date, day) < min_age:
        errors.add(field, Code.NOT_AN_ELDER,
                   f"{person.name}未满 {min_age} 周岁（{age_on(person.birth_date, day)} 岁）")  # fmt: skip


def access_schedule_by_id(actor: User, schedule_id: int) -> VisitSchedule:
    found = (
        access.schedules_visible(actor)
        .select_related("elder__household__division", "elder__elder", "visitor")
        .filter(pk=schedule_id)
        .first()
    )
    if found is None:
        raise NotFound(Code.SCHEDULE_NOT_FOUND, "探访安排不存在或不在您的管辖范围内")
    return found


def access_alert_by_id(actor: User, alert_id: int) -> Alert:
    found = (
        access.alerts_visible(actor).select_related("elder", "acknowledged_by").filter(pk=alert_id)
    )
    alert = found.first()
    if alert is None:
        raise NotFound(Code.ALERT_NOT_FOUND, "预警不存在或不在您的管辖范围内")
    return alert


# -- schedules ---------------------------------------------------------------------------------------


def _prefixes(path: str) -> list[str]:
    """``110000/110102/110102009/`` → every ancestor path and itself."""
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: k + 1]) + "/" for k in range(len(parts))]


def _provider_serving(user: User, elder_path: str, day: date) -> Provider | None:
    member = (
        ProviderMember.objects.select_related("provider").filter(user=user).first()
        if user.role == Role.SERVICE_PROVIDER
        else None
    )
    if member is None:
        return None
    provider = member.provider
    serves = provider.areas.filter(path__in=_prefixes(elder_path)).exists()
    in_force = provider.contract_start <= day <= provider.contract_end
    return provider if provider.status == ProviderStatus.ACTIVE and serves and in_force else None


def _staff_covering(user: User, elder_path: str) -> bool:
    return (
        user.role in access.ELDERCARE_WRITERS
        and user.division is not None
        and elder_path.startswith(user.division.path)
    )


def visitor_choices(actor: User, elder: Person) -> list[dict[str, Any]]:
    """Who may be assigned to visit the elder: staff whose jurisdiction covers them and
    the users of providers serving their area (for the schedule form)."""
    elder_path = elder.household.division.path if elder.household else ""
    day = clock.today()
    out: list[dict[str, Any]] = []
    staff = User.objects.select_related("division").filter(
        is_active=True, role__in=access.ELDERCARE_WRITERS, division__path__in=_prefixes(elder_path)
    )
    for u in staff.order_by("division__path", "username"):
        out.append({"id": u.pk, "kind": VisitorKind.WORKER, "name": _user_name(u),
                    "role": u.get_role_display()})  # fmt: skip
    providers = Provider.objects.filter(
        status=ProviderStatus.ACTIVE, contract_start__lte=day, contract_end__gte=day,
        areas__path__in=_prefixes(elder_path),
    ).distinct()  # fmt: skip
    members = ProviderMember.objects.select_related("user", "provider").filter(
        provider__in=providers, user__is_active=True, user__role=Role.SERVICE_PROVIDER
    )
    for m in members.order_by("provider__name", "user__username"):
        out.append({"id": m.user_id, "kind": VisitorKind.PROVIDER,
                    "name": f"{_user_name(m.user)}（{m.provider.name}）", "role": "加盟服务商"})  # fmt: skip
    return out


def _user_name(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _visitor(raw: Any, kind: str, actor: User, elder_path: str, day: date,
             errors: _Errors) -> User | None:  # fmt: skip
    if kind == VisitorKind.WORKER and raw in (None, ""):
        return actor  # the one who schedules visits by default
    if kind == VisitorKind.VOLUNTEER:
        if raw not in (None, ""):
            errors.add("visitor", Code.FIELD_INVALID, "志愿者探访请填写志愿者姓名，不指定工作人员")
        return None
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        errors.add("visitor", Code.FIELD_INVALID, f"探访人应为用户编号：{raw!r}")
        return None
    user = User.objects.select_related("division").filter(pk=pk, is_active=True).first()
    if kind == VisitorKind.WORKER:
        if user is None or not _staff_covering(user, elder_path):
            errors.add("visitor", Code.FIELD_INVALID,
                       "探访人须为管辖该老人的社区、街道或区级工作人员")  # fmt: skip
            return None
        return user
    if user is None or _provider_serving(user, elder_path, day) is None:
        errors.add("visitor", Code.FIELD_INVALID,
                   "探访人须为服务该区域、合同有效的加盟服务商的用户")  # fmt: skip
        return None
    return user


def schedule_create(*, actor: User, elder_person_id: int, mode: Any, every_days: Any,
                    visitor_kind: Any, visitor_id: Any = None, volunteer_name: Any = "",
                    first_due: Any = None) -> VisitSchedule:  # fmt: skip
    """Schedule phone calls or home visits for an elder (404 outside the actor's
    jurisdiction; 403 for read-only roles; 422 naming every bad field; 409 if the elder
    already has an active schedule of that mode)."""
    elder = access_elder_by_id(actor, elder_person_id)
    ensure_writer(actor, "安排巡视探访")
    today = clock.today()
    elder_path = elder.household.division.path if elder.household else ""
    errors = _Errors()
    check_elder(elder, today, errors)
    mode_v = errors.choice(mode, "mode", "探访方式", VisitMode)
    every = errors.integer(every_days, "every_days", "间隔天数", 1, MAX_EVERY_DAYS)
    kind = errors.choice(visitor_kind, "visitor_kind", "探访人类型", VisitorKind)
    visitor = _visitor(visitor_id, kind, actor, elder_path, today, errors) if kind else None
    volunteer = ""
    if kind == VisitorKind.VOLUNTEER:
        volunteer = errors.text(volunteer_name, "volunteer_name", "志愿者姓名", limit=32)
    elif volunteer_name not in (None, ""):
        errors.add("volunteer_name", Code.FIELD_INVALID, "只有志愿者探访填写志愿者姓名")
    due = (
        errors.day(first_due, "first_due", "首次探访日期", not_before=today)
        if first_due not in (None, "")
        else today
    )
    errors.raise_any()
    assert every is not None and due is not None
    taken = VisitSchedule.objects.filter(elder=elder, mode=mode_v, active=True)
    if taken.exists():
        raise Conflict(Code.SCHEDULE_EXISTS, f"{elder.name}已有{VisitMode(mode_v).label}安排")
    try:
        with transaction.atomic():
            return VisitSchedule.objects.create(
                elder=elder, division_path=elder_path, mode=mode_v, every_days=every,
                visitor_kind=kind, visitor=visitor, volunteer_name=volunteer, next_due=due,
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(
            Code.SCHEDULE_EXISTS, f"{elder.name}已有{VisitMode(mode_v).label}安排"
        ) from None


def daily_list(actor: User, day: date | None = None) -> QuerySet[VisitSchedule]:
    """Schedules due on or before ``day`` (default today) that the actor is to do: those
    assigned to them and, for a community worker, the volunteers' and unassigned ones of
    their community."""
    day = day or clock.today()
    mine = Q(visitor=actor)
    if actor.role == Role.COMMUNITY_WORKER:
        mine |= Q(visitor__isnull=True)
    return (
        access.schedules_visible(actor)
        .filter(mine, active=True, next_due__lte=day)
        .select_related("elder__household__division", "elder__elder", "visitor")
        .order_by("next_due", "pk")
    )


def overdue_schedules(actor: User, day: date | None = None) -> QuerySet[VisitSchedule]:
    """Active schedules in the actor's scope whose visit is past due (the dashboard)."""
    day = day or clock.today()
    return (
        access.schedules_visible(actor)
        .filter(active=True, next_due__lt=day)
        .select_related("elder__household__division", "elder__elder", "visitor")
        .order_by("next_due", "pk")
    )


def _may_record(actor: User, schedule: VisitSchedule) -> bool:
    if schedule.visitor_id == actor.pk:
        return True
    if actor.role not in access.ELDERCARE_WRITERS:  # providers record only their own
        return False
    return actor.division is not None and schedule.division_path.startswith(actor.division.path)


def visit_record(*, actor: User, schedule_id: int, visited_at: Any, outcome: Any,
                 note: Any = "") -> Visit:  # fmt: skip
    """Record a call or a home visit. The next one falls due ``every_days`` after the
    latest visit; a failed outcome raises an alert for the community worker at once, and
    recording a visit settles the schedule's open missed-visit alerts."""
    schedule = access_schedule_by_id(actor, schedule_id)
    if not _may_record(actor, schedule):
        raise PermissionDenied(Code.ROLE_FORBIDDEN, "只有探访人或管辖该老人的工作人员可以记录探访")
    now = current_time()
    errors = _Errors()
    backdate = timedelta(days=int(policy()["visit_backdate_days"]))
    at = errors.moment(
        visited_at, "visited_at", "探访时间", not_after=now, not_before=now - backdate
    )
    result = errors.choice(outcome, "outcome", "探访结果", VisitOutcome)
    text = errors.text(note, "note", "情况记录", required=False)
    errors.raise_any()
    assert at is not None
    with transaction.atomic():
        schedule = VisitSchedule.objects.select_for_update().get(pk=schedule.pk)
        if not schedule.active:
            raise Conflict(Code.SCHEDULE_NOT_FOUND, "该探访安排已停止")
        visit = Visit.objects.create(
            schedule=schedule, elder_id=schedule.elder_id, division_path=schedule.division_path,
            visited_at=at, outcome=result, note=text, recorded_by=actor,
        )  # fmt: skip
        latest = schedule.visits.aggregate(m=Max("visited_at"))["m"] or at
        schedule.next_due = timezone.localdate(latest) + timedelta(days=schedule.every_days)
        schedule.save(update_fields=["next_due"])
        when = timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
        if result in failed_outcomes():
            Alert.objects.create(
                elder_id=schedule.elder_id, division_path=schedule.division_path,
                kind=AlertKind.FAILED_VISIT, visit=visit, schedule=schedule,
                source=f"visit:{visit.pk}",
                description=(f"{schedule.get_mode_display()}：{VisitOutcome(result).label}"
                             f"（{when}）{('，' + text) if text else ''}")[:300],
                level=AlertLevel.COMMUNITY, raised_at=now,
            )  # fmt: skip
        else:
            Alert.objects.filter(
                schedule=schedule, kind=AlertKind.MISSED_VISIT, status=AlertStatus.OPEN
            ).update(status=AlertStatus.ACKNOWLEDGED, acknowledged_by=actor, acknowledged_at=now,
                     action=f"已完成探访（{when}）")  # fmt: skip
    return visit


# -- alerts ------------------------------------------------------------------------------------------


def may_acknowledge(actor: User, alert: Alert) -> bool:
    """A community worker settles community-level alerts; street and district staff any
    alert in their jurisdiction."""
    if alert.status != AlertStatus.OPEN or actor.role not in access.ELDERCARE_WRITERS:
        return False
    if actor.role in ALERT_ESCALATION_STAFF:
        return True
    return alert.level == AlertLevel.COMMUNITY


def alert_acknowledge(*, actor: User, alert_id: int, action: Any) -> Alert:
    """Acknowledge an alert with what was done (404 outside scope; 403 for read-only roles
    and for a community worker once the alert is at the street; 409 if already done)."""
    alert = access_alert_by_id(actor, alert_id)
    ensure_writer(actor, "确认预警")
    if actor.role not in ALERT_ESCALATION_STAFF and alert.level == AlertLevel.STREET:
        raise PermissionDenied(Code.ROLE_FORBIDDEN, "预警已升级至街道，须由街道工作人员确认")
    errors = _Errors()
    text = errors.text(action, "action", "处置情况")
    errors.raise_any()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.status != AlertStatus.OPEN:
            raise Conflict(Code.ALERT_DONE, "该预警已确认")
        if actor.role not in ALERT_ESCALATION_STAFF and alert.level == AlertLevel.STREET:
            raise PermissionDenied(Code.ROLE_FORBIDDEN, "预警已升级至街道，须由街道工作人员确认")
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_by = actor
        alert.acknowledged_at = current_time()
        alert.action = text
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "action"])
    return alert


@dataclass
class SweepResult:
    at: datetime
    missed: int
    escalated: int
    incidents: int

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "missed": self.missed, "escalated": self.escalated,
                "incidents": self.incidents}  # fmt: skip


def _raise_once(alerts: list[Alert]) -> int:
    """Insert the alerts whose source is new; returns how many were raised."""
    raised = 0
    for k in range(0, len(alerts), 500):
        chunk = alerts[k : k + 500]
        known = set(
            Alert.objects.filter(source__in=[a.source for a in chunk]).values_list(
                "source", flat=True
            )
        )
        fresh = [a for a in chunk if a.source not in known]
        Alert.objects.bulk_create(fresh, ignore_conflicts=True)
        raised += len(fresh)
    return raised


def alerts_sweep(now: datetime | None = None) -> dict[str, Any]:
    """Raise missed-visit alerts, escalate open alerts left too long, and raise a street
    alert for each emergency call nobody acknowledged: idempotent (``Alert.source``), so
    a scheduler may run it every minute. Returns the counts of what it did."""
    now = now or current_time()
    day = timezone.localdate(now)
    after_days = int(policy()["escalation"]["missed_visit_after_days"])
    with transaction.atomic():
        missed = VisitSchedule.objects.filter(
            active=True, next_due__lte=day - timedelta(days=after_days)
        ).values_list("pk", "elder_id", "division_path", "next_due", "mode")
        raised_missed = _raise_once([
            Alert(elder_id=elder_id, division_path=path, kind=AlertKind.MISSED_VISIT,
                  schedule_id=pk, source=f"missed:{pk}:{due.isoformat()}",
                  description=f"{VisitMode(mode).label}应于 {due.isoformat()} 完成，已逾期 {(day - due).days} 天",
                  level=AlertLevel.COMMUNITY, raised_at=now)
            for pk, elder_id, path, due, mode in missed
        ])  # fmt: skip
        escalated = 0
        for kind, delay in escalation_delays().items():
            escalated += Alert.objects.filter(
                status=AlertStatus.OPEN, level=AlertLevel.COMMUNITY, kind=kind,
                raised_at__lte=now - delay,
            ).update(level=AlertLevel.STREET, escalated_at=now)  # fmt: skip
        stale = Incident.objects.filter(
            status=IncidentStatus.OPEN, started_at__lte=now - incident_alert_delay()
        ).values_list("pk", "elder_id", "division_path", "started_at", "events")
        minutes = int(policy()["escalation"]["incident_minutes"])
        raised_incidents = _raise_once([
            Alert(elder_id=elder_id, division_path=path, kind=AlertKind.INCIDENT, incident_id=pk,
                  source=f"incident:{pk}",
                  description=(f"紧急呼叫（{timezone.localtime(started).strftime('%Y-%m-%d %H:%M')}，"
                               f"{events} 次）超过 {minutes} 分钟无人响应"),
                  level=AlertLevel.STREET, raised_at=now, escalated_at=now)
            for pk, elder_id, path, started, events in stale
        ])  # fmt: skip
    return SweepResult(now, raised_missed, escalated, raised_incidents).as_dict()


# -- output ------------------------------------------------------------------------------------------


def elder_brief(person: Person) -> dict[str, Any]:
    """An elder as lists show them: the masked ID number only."""
    profile: ElderProfile | None = getattr(person, "elder", None)
    household = person.household
    return {
        "id": person.pk,
        "name": person.name,
        "id_number": person.id_number_masked,
        "age": age_on(person.birth_date, clock.today()),
        "phone": person.phone,
        "address": household.address if household else "",
        "household": household.pk if household else None,
        "division": household.division.name if household else "",
        "living": profile.living if profile else "",
        "living_label": profile.get_living_display() if profile else "",
        "risk": profile.risk if profile else "",
        "risk_label": profile.get_risk_display() if profile else "",
    }


def schedule_out(s: VisitSchedule, day: date | None = None) -> dict[str, Any]:
    day = day or clock.today()
    return {
        "id": s.pk,
        "elder": elder_brief(s.elder),
        "mode": s.mode,
        "mode_label": s.get_mode_display(),
        "every_days": s.every_days,
        "visitor_kind": s.visitor_kind,
        "visitor_kind_label": s.get_visitor_kind_display(),
        "visitor": {"id": s.visitor.pk, "name": _user_name(s.visitor)} if s.visitor else None,
        "volunteer_name": s.volunteer_name,
        "next_due": s.next_due.isoformat(),
        "overdue_days": max(0, (day - s.next_due).days),
        "active": s.active,
    }


def visit_out(v: Visit) -> dict[str, Any]:
    return {
        "id": v.pk,
        "schedule": v.schedule_id,
        "elder": v.elder_id,
        "visited_at": timezone.localtime(v.visited_at).isoformat(),
        "outcome": v.outcome,
        "outcome_label": v.get_outcome_display(),
        "note": v.note,
        "recorded_by": v.recorded_by_id,
    }


def _when(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def alert_out(a: Alert, actor: User | None = None) -> dict[str, Any]:
    return {
        "id": a.pk,
        "kind": a.kind,
        "kind_label": a.get_kind_display(),
        "elder": {"id": a.elder_id, "name": a.elder.name},
        "schedule": a.schedule_id,
        "visit": a.visit_id,
        "incident": a.incident_id,
        "description": a.description,
        "level": a.level,
        "level_label": a.get_level_display(),
        "status": a.status,
        "status_label": a.get_status_display(),
        "raised_at": _when(a.raised_at),
        "escalated_at": _when(a.escalated_at),
        "acknowledged_by": (
            {"id": a.acknowledged_by.pk, "name": _user_name(a.acknowledged_by)}
            if a.acknowledged_by
            else None
        ),
        "acknowledged_at": _when(a.acknowledged_at),
        "action": a.action,
        **({"can_acknowledge": may_acknowledge(actor, a)} if actor is not None else {}),
    }
