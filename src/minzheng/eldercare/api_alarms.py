"""/api/v1/visit-schedules, /visits, /alerts, /devices, /incidents and the device gateway's
/device-events: a thin skin over ``eldercare.visits`` and ``eldercare.alarms``.

Every route takes the staff bearer token except ``POST /device-events``, which a call
gateway signs per device: ``Authorization: Device <key_id>:<secret>``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import APIKeyHeader
from pydantic import Field

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.applications import clock
from minzheng.core.errors import ApplicationError
from minzheng.core.pagination import paginate
from minzheng.core.schemas import Strict, error_responses

from . import alarms, visits
from .errors import ElderErrorCode as Code
from .models import AlertLevel, AlertStatus, IncidentStatus

router = Router(tags=["居家养老 eldercare"])
# The device gateway's one route, mounted ahead of every other (config.api).
gateway_router = Router(tags=["居家养老 eldercare"])

ERRORS = error_responses(401, 403, 404, 409, 422)


class DeviceKey(APIKeyHeader):
    """``Authorization: Device <key_id>:<secret>``, the key a call device got when it was
    registered. Only parsed here: ``alarms.event_receive`` checks it in its transaction."""

    param_name = "Authorization"
    openapi_description = (
        "呼叫设备密钥：`Authorization: Device <key_id>:<secret>`（登记设备时一次性发放）"
    )

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        scheme, _, credentials = (key or "").strip().partition(" ")
        key_id, sep, secret = credentials.strip().partition(":")
        if scheme.lower() != "device" or not sep or not key_id or not secret:
            raise alarms.DeviceKeyInvalid
        return (key_id, secret)


class ScheduleIn(Strict):
    elder: int = Field(description="老年人（人员 id）")
    mode: str = Field(description="方式：phone 电话巡视、home 上门探访")
    every_days: int | str = Field(description="间隔天数（1–366）")
    visitor_kind: str = Field(
        description="探访人类型：worker 工作人员、volunteer 志愿者、provider 服务商"
    )
    visitor: int | None = Field(
        None, description="探访人（用户 id；工作人员缺省为本人；志愿者不填）"
    )
    volunteer_name: str = Field("", description="志愿者姓名（volunteer 必填）")
    first_due: date | str | None = Field(
        None, description="首次探访日期 YYYY-MM-DD（缺省今天，不早于今天）"
    )


class VisitIn(Strict):
    visited_at: str = Field(
        description="探访时间 ISO 8601（如 2026-11-23T10:00+08:00），不晚于现在"
    )
    outcome: str = Field(
        description="结果：well 情况良好、no_answer 无人应答、unwell 身体不适、other_need 有其他需求"
    )
    note: str = Field("", description="情况记录")


class ActionIn(Strict):
    action: str = Field(description="处置情况（必填）")


class DeviceIn(Strict):
    person: int = Field(description="老年人（人员 id）")
    kind: str = Field(
        description="类型：emergency_call 紧急呼叫设备、doorbell 邻里互助门铃、accessibility 适老化改造"
    )
    installed_on: date | str = Field(description="安装日期 YYYY-MM-DD（不晚于今天）")
    supplier: int | None = Field(None, description="供应商（服务商 id，可选）")
    serial: str = Field("", description="设备编号")


class NoteIn(Strict):
    note: str = Field("", description="响应说明（可选）")


class OutcomeIn(Strict):
    outcome: str = Field(description="处置结果（必填）")


class EventIn(Schema):
    """One event as a gateway sends it. Fields are checked after the device key (so a
    request with a bad key learns nothing else); fields a newer gateway adds are ignored
    rather than refusing an emergency call."""

    event_id: Any = Field(None, description="网关的事件编号（同一设备内唯一，重发不重复计数）")
    kind: Any = Field(None, description="事件类型：button 一键呼叫、fall 跌倒、smoke 烟雾……")
    occurred_at: Any = Field(None, description="事件时间 ISO 8601（带时区；不带时按北京时间）")


class ReceivedOut(Schema):
    incident: int
    merged: bool
    duplicate: bool


def _choice(raw: str | None, choices: Any, field: str) -> str | None:
    if raw in (None, ""):
        return None
    if raw not in choices.values:
        raise ApplicationError(
            Code.FIELD_INVALID, f"取值无效：{raw!r}", {"field": field}, status=422
        )
    return raw


def _day(raw: str | None, field: str) -> date | None:
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise ApplicationError(Code.FIELD_INVALID, f"日期格式应为 YYYY-MM-DD：{raw!r}",
                               {"field": field}, status=422) from None  # fmt: skip


# -- schedules and visits ---------------------------------------------------------------------------


@router.get("/visit-schedules", response={200: dict[str, Any], **ERRORS},
            summary="巡视探访安排（本辖区；?elder= 同时给出按风险建议的安排）")  # fmt: skip
def schedules_list(request: HttpRequest, elder: int | None = None, active: bool | None = True,
                   page: int = 1, page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    actor = actor_of(request)
    qs = access.schedules_visible(actor).select_related(
        "elder__household__division", "elder__elder", "visitor"
    )
    extra: dict[str, Any] = {}
    if elder is not None:
        person = visits.access_elder_by_id(actor, elder)
        qs = qs.filter(elder=person)
        extra["suggested"] = visits.schedules_for_risk(getattr(person, "elder", None))
    if active is not None:
        qs = qs.filter(active=active)
    today = clock.today()
    return {**paginate(qs.order_by("next_due", "pk"), page, page_size,
                       lambda s: visits.schedule_out(s, today)), **extra}  # fmt: skip


@router.post("/visit-schedules", response={201: dict[str, Any], **ERRORS}, summary="安排巡视探访")
def schedules_create(request: HttpRequest, body: ScheduleIn) -> tuple[int, dict[str, Any]]:
    actor = actor_of(request)
    schedule = visits.schedule_create(
        actor=actor, elder_person_id=body.elder, mode=body.mode, every_days=body.every_days,
        visitor_kind=body.visitor_kind, visitor_id=body.visitor,
        volunteer_name=body.volunteer_name, first_due=body.first_due,
    )  # fmt: skip
    return 201, visits.schedule_out(visits.access_schedule_by_id(actor, schedule.pk))


@router.get("/visits/daily", response={200: dict[str, Any], **ERRORS},
            summary="今日探访清单（到期及逾期；社区工作者含志愿者和未指派的安排）")  # fmt: skip
def visits_daily(request: HttpRequest, day: str | None = None) -> dict[str, Any]:
    actor = actor_of(request)
    on = _day(day, "day") or clock.today()
    rows = [visits.schedule_out(s, on) for s in visits.daily_list(actor, on)[:500]]
    return {"day": on.isoformat(), "items": rows, "count": len(rows)}


@router.post("/visit-schedules/{schedule_id}/visits", response={201: dict[str, Any], **ERRORS},
             summary="记录一次探访（无人应答、身体不适即时预警）")  # fmt: skip
def visits_record(
    request: HttpRequest, schedule_id: int, body: VisitIn
) -> tuple[int, dict[str, Any]]:
    actor = actor_of(request)
    visit = visits.visit_record(actor=actor, schedule_id=schedule_id, visited_at=body.visited_at,
                                outcome=body.outcome, note=body.note)  # fmt: skip
    schedule = visits.access_schedule_by_id(actor, schedule_id)
    alert = access.alerts_visible(actor).filter(visit=visit).first()
    return 201, {**visits.visit_out(visit), "next_due": schedule.next_due.isoformat(),
                 "alert": alert.pk if alert else None}  # fmt: skip


# -- alerts -----------------------------------------------------------------------------------------


@router.get("/alerts", response={200: dict[str, Any], **ERRORS},
            summary="预警（本辖区；?status=open|acknowledged&level=community|street）")  # fmt: skip
def alerts_list(request: HttpRequest, status: str | None = None, level: str | None = None,
                page: int = 1, page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    actor = actor_of(request)
    qs = access.alerts_visible(actor).select_related("elder", "acknowledged_by")
    if (s := _choice(status, AlertStatus, "status")) is not None:
        qs = qs.filter(status=s)
    if (lv := _choice(level, AlertLevel, "level")) is not None:
        qs = qs.filter(level=lv)
    page_out = paginate(qs.order_by("-raised_at", "-pk"), page, page_size,
                        lambda a: visits.alert_out(a, actor))  # fmt: skip
    return {**page_out, "overdue_schedules": visits.overdue_schedules(actor).count()}


@router.post("/alerts/{alert_id}/acknowledgement", response={200: dict[str, Any], **ERRORS},
             summary="确认预警并记录处置情况")  # fmt: skip
def alerts_acknowledge(request: HttpRequest, alert_id: int, body: ActionIn) -> dict[str, Any]:
    actor = actor_of(request)
    visits.alert_acknowledge(actor=actor, alert_id=alert_id, action=body.action)
    return visits.alert_out(visits.access_alert_by_id(actor, alert_id), actor)


# -- devices ----------------------------------------------------------------------------------------


@router.get("/devices", response={200: dict[str, Any], **ERRORS}, summary="居家设备（本辖区）")
def devices_list(request: HttpRequest, person: int | None = None, page: int = 1,
                 page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    qs = access.devices_visible(actor_of(request)).select_related("person", "supplier")
    if person is not None:
        qs = qs.filter(person_id=person)
    return paginate(qs.order_by("-pk"), page, page_size, alarms.device_out)


@router.post("/devices", response={201: dict[str, Any], **ERRORS},
             summary="登记设备（紧急呼叫设备的密钥仅此一次返回）")  # fmt: skip
def devices_register(request: HttpRequest, body: DeviceIn) -> tuple[int, dict[str, Any]]:
    actor = actor_of(request)
    done = alarms.device_register(actor=actor, person_id=body.person, kind=body.kind,
                                  installed_on=body.installed_on, supplier_id=body.supplier,
                                  serial=body.serial)  # fmt: skip
    out = alarms.device_out(alarms.access_device_by_id(actor, done.device.pk))
    return 201, {**out, "secret": done.secret}


@router.post("/devices/{device_id}/revocation", response={200: dict[str, Any], **ERRORS},
             summary="停用设备（其密钥不再被接受）")  # fmt: skip
def devices_revoke(request: HttpRequest, device_id: int) -> dict[str, Any]:
    actor = actor_of(request)
    alarms.device_revoke(actor=actor, device_id=device_id)
    return alarms.device_out(alarms.access_device_by_id(actor, device_id))


# -- incidents --------------------------------------------------------------------------------------


@router.get("/incidents", response={200: dict[str, Any], **ERRORS},
            summary="紧急呼叫（本辖区；?status=open|acknowledged|closed）")  # fmt: skip
def incidents_list(request: HttpRequest, status: str | None = None, page: int = 1,
                   page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    qs = access.incidents_visible(actor_of(request)).select_related(
        "elder", "acknowledged_by", "closed_by"
    )
    if (s := _choice(status, IncidentStatus, "status")) is not None:
        qs = qs.filter(status=s)
    return paginate(qs.order_by("-started_at", "-pk"), page, page_size, alarms.incident_out)


@router.get("/incidents/{incident_id}", response={200: dict[str, Any], **ERRORS},
            summary="紧急呼叫详情（老人档案、紧急联系人、事件）")  # fmt: skip
def incidents_get(request: HttpRequest, incident_id: int) -> dict[str, Any]:
    actor = actor_of(request)
    incident = alarms.access_incident_by_id(actor, incident_id)
    return alarms.incident_detail(actor, incident, channel="api")


@router.post("/incidents/{incident_id}/acknowledgement", response={200: dict[str, Any], **ERRORS},
             summary="响应紧急呼叫")  # fmt: skip
def incidents_acknowledge(request: HttpRequest, incident_id: int, body: NoteIn) -> dict[str, Any]:
    actor = actor_of(request)
    alarms.incident_acknowledge(actor=actor, incident_id=incident_id, note=body.note)
    return alarms.incident_detail(
        actor, alarms.access_incident_by_id(actor, incident_id), channel="api"
    )


@router.post("/incidents/{incident_id}/closure", response={200: dict[str, Any], **ERRORS},
             summary="结束紧急呼叫并记录处置结果（须先响应）")  # fmt: skip
def incidents_close(request: HttpRequest, incident_id: int, body: OutcomeIn) -> dict[str, Any]:
    actor = actor_of(request)
    alarms.incident_close(actor=actor, incident_id=incident_id, outcome=body.outcome)
    return alarms.incident_detail(
        actor, alarms.access_incident_by_id(actor, incident_id), channel="api"
    )


# -- the device gateway ------------------------------------------------------------------------------


@gateway_router.post(
    "/device-events",
    auth=DeviceKey(),
    response={200: ReceivedOut, 202: ReceivedOut, **error_responses(401, 403, 422)},
    summary="呼叫设备事件（网关按设备签名；重发同一事件返回 200 与原呼叫）",
)
def device_events(request: HttpRequest, body: EventIn) -> tuple[int, ReceivedOut]:
    key_id, secret = request.auth  # type: ignore[attr-defined]
    got = alarms.event_receive(key_id=key_id, secret=secret, event_id=body.event_id,
                               kind=body.kind, occurred_at=body.occurred_at)  # fmt: skip
    out = ReceivedOut(incident=got.incident, merged=got.merged, duplicate=got.duplicate)
    return (200 if got.duplicate else 202), out
