"""Emergency calls (紧急呼叫): devices at elders' homes, the events their gateways post,
and the incidents those events open, which staff acknowledge and close with an outcome.

A call device gets a key when it is registered: a random ``key_id`` and a secret shown
once; only an HMAC of the two (``core.crypto.lookup_hash``, keyed by the installation's
``LOOKUP_KEY``) is kept, and it is compared in constant time. The gateway posts each
event with ``Authorization: Device <key_id>:<secret>``.

``event_receive`` is the hot path (a gateway may post hundreds of events a second): one
short transaction that locks the device row first, so that events of one device are
taken one at a time however many gateways post them, then

- an ``event_id`` the device already sent answers with the incident it went to (a
  resend is harmless and never counted twice: ``device_event_once`` backs it);
- an open incident of the device (nobody has answered yet) takes the event;
- an acknowledged incident takes it if it falls within the merge window of its last
  event (``policy/eldercare/visits.yaml``: 10 minutes);
- otherwise the event opens a new incident (``one_open_incident_per_device`` backs the
  one-open-incident rule).

An incident left open too long raises a street alert (``visits.alerts_sweep``).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from minzheng.accounts import access
from minzheng.accounts.models import User
from minzheng.accounts.services import access_log_record
from minzheng.applications import clock
from minzheng.core.crypto import lookup_hash
from minzheng.core.errors import (
    ApplicationError,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from minzheng.registry.models import Person

from . import visits
from .errors import ElderErrorCode as Code
from .models import (
    Alert,
    AlertKind,
    AlertStatus,
    Device,
    DeviceEvent,
    DeviceKind,
    DeviceStatus,
    ElderProfile,
    Incident,
    IncidentStatus,
    Provider,
    ProviderStatus,
)

EVENT_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_EVENT_ID = 64
KEY_INVALID_MESSAGE = "设备密钥无效"


class DeviceKeyInvalid(ApplicationError):
    status = 401

    def __init__(self) -> None:
        super().__init__(Code.DEVICE_KEY, KEY_INVALID_MESSAGE)


def merge_window() -> timedelta:
    return timedelta(minutes=visits.policy()["incidents"]["merge_window_minutes"])


def clock_skew() -> timedelta:
    return timedelta(minutes=visits.policy()["incidents"]["clock_skew_minutes"])


def event_kind_label(kind: str) -> str:
    return str(visits.policy()["event_kinds"].get(kind, kind))


def _key_hash(key_id: str, secret: str) -> str:
    return lookup_hash(f"eldercare.device:{key_id}:{secret}")


# -- scope -------------------------------------------------------------------------------------------


def access_device_by_id(actor: User, device_id: int) -> Device:
    found = (
        access.devices_visible(actor)
        .select_related("person", "supplier")
        .filter(pk=device_id)
        .first()
    )
    if found is None:
        raise NotFound(Code.DEVICE_NOT_FOUND, "设备不存在或不在您的管辖范围内")
    return found


def access_incident_by_id(actor: User, incident_id: int) -> Incident:
    found = (
        access.incidents_visible(actor)
        .select_related(
            "device", "elder__household__division", "elder__elder", "acknowledged_by", "closed_by"
        )
        .filter(pk=incident_id)
        .first()
    )
    if found is None:
        raise NotFound(Code.INCIDENT_NOT_FOUND, "紧急呼叫不存在或不在您的管辖范围内")
    return found


# -- devices -----------------------------------------------------------------------------------------


@dataclass
class Registered:
    """A new device and, for a call device, its key: the secret is shown this once."""

    device: Device
    key_id: str | None
    secret: str | None


def _new_key_id() -> str:
    return "dk" + secrets.token_hex(10)  # 22 characters, no ':'


def device_register(*, actor: User, person_id: int, kind: Any, installed_on: Any,
                    supplier_id: Any = None, serial: Any = "") -> Registered:  # fmt: skip
    """Register a device installed at an elder's home; a call device gets its key."""
    person = visits.access_elder_by_id(actor, person_id)
    visits.ensure_writer(actor, "登记设备")
    today = clock.today()
    errors = visits._Errors()
    visits.check_elder(person, today, errors, "person")
    kind_v = errors.choice(kind, "kind", "设备类型", DeviceKind)
    installed = errors.day(installed_on, "installed_on", "安装日期", not_after=today)
    serial_v = errors.text(serial, "serial", "设备编号", required=False, limit=64)
    supplier: Provider | None = None
    if supplier_id not in (None, ""):
        try:
            supplier = Provider.objects.filter(pk=int(supplier_id)).first()
        except (TypeError, ValueError):
            supplier = None
        if supplier is None or supplier.status != ProviderStatus.ACTIVE:
            errors.add("supplier", Code.PROVIDER_NOT_FOUND, "供应商须为合作中的加盟服务商")
    errors.raise_any()
    assert installed is not None and person.household is not None
    key_id = secret = None
    if kind_v == DeviceKind.EMERGENCY_CALL:
        key_id, secret = _new_key_id(), secrets.token_urlsafe(32)
    with transaction.atomic():
        device = Device.objects.create(
            person=person, division_path=person.household.division.path, kind=kind_v,
            installed_on=installed, supplier=supplier, serial=serial_v, key_id=key_id,
            key_hash=_key_hash(key_id, secret) if key_id and secret else "",
        )  # fmt: skip
    return Registered(device, key_id, secret)


def supplier_choices() -> list[dict[str, Any]]:
    """Providers a device may be bought from (those under contract)."""
    rows = Provider.objects.filter(status=ProviderStatus.ACTIVE).order_by("name")
    return [{"id": p.pk, "name": p.name} for p in rows.only("pk", "name")]


def device_revoke(*, actor: User, device_id: int) -> Device:
    """Stop a device (removed, lost, replaced): its key is refused from now on."""
    device = access_device_by_id(actor, device_id)
    visits.ensure_writer(actor, "停用设备")
    with transaction.atomic():
        device = Device.objects.select_for_update().get(pk=device.pk)
        if device.status == DeviceStatus.REVOKED:
            raise Conflict(Code.DEVICE_REVOKED, "设备已停用")
        device.status = DeviceStatus.REVOKED
        device.revoked_at = timezone.now()
        device.save(update_fields=["status", "revoked_at"])
    return device


# -- events ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    incident: int
    merged: bool
    duplicate: bool


def _parse_event(event_id: Any, kind: Any, occurred_at: Any,
                 installed_on: date) -> tuple[str, str, datetime]:  # fmt: skip
    errors = visits._Errors()
    eid = str(event_id).strip() if isinstance(event_id, str | int) else ""
    if not eid or len(eid) > MAX_EVENT_ID or not eid.isprintable():
        errors.add("event_id", Code.FIELD_INVALID, f"事件编号须为 1 到 {MAX_EVENT_ID} 个可打印字符")
    kind_v = str(kind).strip() if isinstance(kind, str) else ""
    if not EVENT_KIND.match(kind_v):
        errors.add("kind", Code.FIELD_INVALID,
                   "事件类型须为小写英文字母、数字或下划线（如 button、fall、smoke）")  # fmt: skip
    at = errors.moment(occurred_at, "occurred_at", "事件时间",
                       not_after=timezone.now() + clock_skew(),
                       not_before=timezone.make_aware(datetime.combine(installed_on, time.min)))  # fmt: skip
    errors.raise_any()
    assert at is not None
    return eid, kind_v, at


def event_receive(*, key_id: str, secret: str, event_id: Any, kind: Any,
                  occurred_at: Any) -> Received:  # fmt: skip
    """Take one event from a device gateway (401 ``device.key_invalid`` for an unknown
    key or a wrong secret; 403 ``device.revoked``; 422 naming each bad field)."""
    expected = _key_hash(key_id, secret)
    if connection.vendor == "postgresql":
        fast = _receive_in_one_call(key_id, expected, event_id, kind, occurred_at)
        if fast is not None:
            return fast
    for attempt in (1, 2):
        try:
            return _receive(key_id, expected, event_id, kind, occurred_at)
        except IntegrityError:
            # only if a writer bypassed the device lock (the constraints hold regardless):
            # what it wrote is visible now, so taking the event again decides right
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# Far enough back that only the device's own installation day bounds an event.
_ANY_INSTALLATION = date(2000, 1, 1)


def _receive_in_one_call(key_id: str, expected: str, event_id: Any, kind: Any,
                         occurred_at: Any) -> Received | None:  # fmt: skip
    """PostgreSQL: the whole decision in ``minzheng_device_event`` (migration 0002), one
    round trip. None when the fields do not parse, or the function returned no row (an
    unknown or wrong key, a revoked device, an event before its installation): the full
    path then answers, naming the refusal as it does on every database."""
    try:
        eid, kind_v, at = _parse_event(event_id, kind, occurred_at, _ANY_INSTALLATION)
    except ValidationFailed:
        return None
    params: list[Any] = [key_id, expected, eid, kind_v, at, merge_window(), timezone.now(),
                         settings.TIME_ZONE]  # fmt: skip
    try:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT incident, merged, duplicate FROM minzheng_device_event"
                "(%s, %s, %s, %s, %s, %s, %s, %s)",
                params,
            )
            row = cur.fetchone()
    except IntegrityError:  # only if a writer bypassed the device lock: decide again
        return None
    if row is None:
        return None
    return Received(int(row[0]), merged=bool(row[1]), duplicate=bool(row[2]))


@cache
def _sql() -> dict[str, str]:
    """The hot path's statements, written once for both databases. The ORM would build
    the same queries, but building them cost more than running them (measured on
    PostgreSQL: 2.1 ms of CPU per event with the ORM, 0.4 ms with these), and the
    gateway posts hundreds a second."""
    q = connection.ops.quote_name
    device, event, incident = (q(m._meta.db_table) for m in (Device, DeviceEvent, Incident))
    lock = (
        f" {connection.ops.for_update_sql()}" if connection.features.has_select_for_update else ""
    )
    return {
        # the device's row lock: events of one device are taken one at a time
        "device": "SELECT id, key_hash, status, person_id, division_path, installed_on "
        f"FROM {device} WHERE key_id = %s{lock}",
        # the incident an event already went to, and the incident a new event joins: the
        # device's open incident, else its acknowledged incident whose events lie within
        # the merge window of this one (started - window <= at <= last + window)
        "decide": f"SELECT 0, incident_id FROM {event} WHERE device_id = %s AND event_id = %s "
        f"UNION ALL SELECT 1, c.id FROM (SELECT id FROM {incident} WHERE device_id = %s AND "
        f"(status = '{IncidentStatus.OPEN}' OR (status = '{IncidentStatus.ACKNOWLEDGED}' AND "
        "last_event_at >= %s AND started_at <= %s)) ORDER BY CASE WHEN status = "
        f"'{IncidentStatus.OPEN}' THEN 0 ELSE 1 END, last_event_at DESC LIMIT 1) c",
        "merge": f"UPDATE {incident} SET events = events + 1, last_event_at = CASE WHEN "
        "last_event_at < %s THEN %s ELSE last_event_at END WHERE id = %s",
        "open": f"INSERT INTO {incident} (device_id, elder_id, division_path, kind, started_at, "
        f"last_event_at, events, status, outcome) VALUES (%s, %s, %s, %s, %s, %s, 1, "
        f"'{IncidentStatus.OPEN}', '') RETURNING id",
        "event": f"INSERT INTO {event} (device_id, incident_id, event_id, kind, occurred_at, "
        "received_at) VALUES (%s, %s, %s, %s, %s, %s)",
    }


def _receive(key_id: str, expected: str, event_id: Any, kind: Any, occurred_at: Any) -> Received:
    sql = _sql()
    stamp = connection.ops.adapt_datetimefield_value
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql["device"], [key_id])
        device = cur.fetchone()
        if device is None or not hmac.compare_digest(device[1], expected):
            raise DeviceKeyInvalid
        pk, _hash, status, person_id, division_path, installed_on = device
        if status != DeviceStatus.ACTIVE:
            raise PermissionDenied(Code.DEVICE_REVOKED, "设备已停用，事件不予接收")
        # a date on PostgreSQL, its ISO text on SQLite
        eid, kind_v, at = _parse_event(
            event_id, kind, occurred_at, date.fromisoformat(str(installed_on))
        )
        window = merge_window()
        cur.execute(sql["decide"], [pk, eid, pk, stamp(at - window), stamp(at + window)])
        found = dict(cur.fetchall())
        if 0 in found:
            return Received(int(found[0]), merged=False, duplicate=True)
        incident_id = found.get(1)
        if incident_id is not None:
            cur.execute(sql["merge"], [stamp(at), stamp(at), incident_id])
        else:
            cur.execute(sql["open"], [pk, person_id, division_path, kind_v, stamp(at), stamp(at)])
            incident_id = cur.fetchone()[0]
        cur.execute(sql["event"], [pk, incident_id, eid, kind_v, stamp(at), stamp(timezone.now())])
        return Received(int(incident_id), merged=1 in found, duplicate=False)


# -- incidents ---------------------------------------------------------------------------------------


def _settle_alerts(incident: Incident, actor: User, now: datetime, action: str) -> None:
    Alert.objects.filter(
        incident=incident, kind=AlertKind.INCIDENT, status=AlertStatus.OPEN
    ).update(status=AlertStatus.ACKNOWLEDGED, acknowledged_by=actor, acknowledged_at=now,
             action=action)  # fmt: skip


def incident_acknowledge(*, actor: User, incident_id: int, note: Any = "") -> Incident:
    """Someone has answered the call: the incident is in hand (409 unless open); its
    street alert, if the sweep raised one, is settled with it."""
    incident = access_incident_by_id(actor, incident_id)
    visits.ensure_writer(actor, "响应紧急呼叫")
    errors = visits._Errors()
    text = errors.text(note, "note", "响应说明", required=False)
    errors.raise_any()
    now = visits.current_time()
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status != IncidentStatus.OPEN:
            raise Conflict(Code.INCIDENT_STATE,
                           f"紧急呼叫{incident.get_status_display()}，不能再次响应")  # fmt: skip
        incident.status = IncidentStatus.ACKNOWLEDGED
        incident.acknowledged_by = actor
        incident.acknowledged_at = now
        incident.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        _settle_alerts(incident, actor, now, f"紧急呼叫已响应{('：' + text) if text else ''}"[:500])
    return incident


def incident_close(*, actor: User, incident_id: int, outcome: Any) -> Incident:
    """Close an acknowledged incident with its outcome (422 without one; 409 if it was
    not acknowledged first or is closed already)."""
    incident = access_incident_by_id(actor, incident_id)
    visits.ensure_writer(actor, "结束紧急呼叫")
    errors = visits._Errors()
    text = errors.text(outcome, "outcome", "处置结果")
    errors.raise_any()
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status == IncidentStatus.OPEN:
            raise Conflict(Code.INCIDENT_STATE, "紧急呼叫尚未响应，须先响应再结束")
        if incident.status == IncidentStatus.CLOSED:
            raise Conflict(Code.INCIDENT_STATE, "紧急呼叫已结束")
        incident.status = IncidentStatus.CLOSED
        incident.closed_by = actor
        incident.closed_at = visits.current_time()
        incident.outcome = text
        incident.save(update_fields=["status", "closed_by", "closed_at", "outcome"])
    return incident


# -- output ------------------------------------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _user(user: User | None) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.get_full_name() or user.username} if user else None


def device_out(d: Device) -> dict[str, Any]:
    return {
        "id": d.pk,
        "person": {"id": d.person_id, "name": d.person.name},
        "kind": d.kind,
        "kind_label": d.get_kind_display(),
        "installed_on": d.installed_on.isoformat(),
        "supplier": {"id": d.supplier.pk, "name": d.supplier.name} if d.supplier else None,
        "serial": d.serial,
        "key_id": d.key_id,
        "status": d.status,
        "status_label": d.get_status_display(),
        "revoked_at": _when(d.revoked_at),
    }


def incident_out(i: Incident) -> dict[str, Any]:
    return {
        "id": i.pk,
        "device": i.device_id,
        "elder": {"id": i.elder_id, "name": i.elder.name},
        "kind": i.kind,
        "kind_label": event_kind_label(i.kind),
        "started_at": _when(i.started_at),
        "last_event_at": _when(i.last_event_at),
        "events": i.events,
        "status": i.status,
        "status_label": i.get_status_display(),
        "acknowledged_by": _user(i.acknowledged_by),
        "acknowledged_at": _when(i.acknowledged_at),
        "closed_by": _user(i.closed_by),
        "closed_at": _when(i.closed_at),
        "outcome": i.outcome,
    }


def _contacts(person: Person, profile: ElderProfile | None) -> list[dict[str, str]]:
    """Whom to call: the emergency contact of the assessment, then the household."""
    out: list[dict[str, str]] = []
    if profile is not None and (profile.emergency_contact or profile.emergency_phone):
        out.append({"name": profile.emergency_contact, "relation": "紧急联系人",
                    "phone": profile.emergency_phone})  # fmt: skip
    if person.household_id is not None:
        members = Person.objects.filter(household_id=person.household_id, state="active")
        for m in members.exclude(pk=person.pk).order_by("pk"):
            out.append({"name": m.name, "relation": m.get_relation_display(), "phone": m.phone})
    return out


def incident_detail(actor: User, i: Incident, *, channel: str = "web") -> dict[str, Any]:
    """The incident with the elder's file (masked ID number), the assessment and whom to
    call, its events and the alerts it raised. The read of the elder's file is logged."""
    person = i.elder
    if person.household is not None:
        access_log_record(actor=actor, household=person.household, persons=[person],
                          reason="处置紧急呼叫", channel=channel)  # fmt: skip
    profile: ElderProfile | None = getattr(person, "elder", None)
    events = DeviceEvent.objects.filter(incident=i).order_by("occurred_at", "pk")[:200]
    return {
        **incident_out(i),
        "elder": visits.elder_brief(person),
        "profile": (
            {
                "care_level": profile.care_level,
                "care_level_label": profile.get_care_level_display(),
                "living": profile.living,
                "living_label": profile.get_living_display(),
                "risk": profile.risk,
                "risk_label": profile.get_risk_display(),
                "assessed_on": profile.assessed_on.isoformat(),
                "emergency_contact": profile.emergency_contact,
                "emergency_phone": profile.emergency_phone,
            }
            if profile is not None
            else None
        ),
        "contacts": _contacts(person, profile),
        "device_info": {
            "id": i.device.pk,
            "kind_label": i.device.get_kind_display(),
            "serial": i.device.serial,
            "status": i.device.status,
        },
        "device_events": [
            {
                "event_id": e.event_id,
                "kind": e.kind,
                "kind_label": event_kind_label(e.kind),
                "occurred_at": _when(e.occurred_at),
                "received_at": _when(e.received_at),
            }
            for e in events
        ],
        "alerts": [
            visits.alert_out(a) for a in i.alerts.select_related("elder", "acknowledged_by")
        ],
    }
