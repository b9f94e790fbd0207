"""Emergency calls: registering a call device (its secret shown once, only a keyed hash
kept), the gateway endpoint authenticated per device (unknown key, wrong secret, revoked
device, resent events), merging events of one device into one incident, acknowledging
and closing an incident, the street alert for an unanswered call, who may read and act
(Xicheng 110102 against Dongcheng 110101), and two gateways posting for one device at
the same moment (PostgreSQL).

``/api/v1/device-events`` is authenticated per device, not by a staff token: its scope
rows are here rather than in tests/accounts/test_scope_matrix.py.
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from minzheng.accounts.models import AccessLog
from minzheng.accounts.roles import Role
from minzheng.accounts.services import user_create
from minzheng.eldercare import alarms, visits
from minzheng.eldercare.models import Alert, Device, DeviceEvent, Incident
from minzheng.registry.models import Person
from tests.eldercare.test_visits import BEIJING, Moment, make_elder, moment, post
from tests.fixtures import COMMUNITY_A, DONGCHENG, Cast, member
from tests.registry.test_api_fuzz import FUZZ, _no_500, json_values

__all__ = ["moment"]  # the fixture, imported for these tests

pytestmark = pytest.mark.django_db

ROLES = [str(r) for r in Role]
STAFF = {"community_worker", "street_reviewer", "district_approver", "auditor", "admin"}
WRITERS = {"community_worker", "street_reviewer", "district_approver"}
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=BEIJING)
URL = "/api/v1/device-events"


@pytest.fixture
def grandpa(cast: Cast) -> Person:
    """81, living alone in community A, with a son in the same household."""
    from minzheng.registry.documents import validate_document
    from minzheng.registry.services import households_create

    doc = validate_document({
        "division": COMMUNITY_A, "hukou": "beijing", "assets": {"houses": 1}, "address": "展览路1号",
        "members": [member("11010219450301123", "陈爷爷", phone="13800000011"),
                    member("11010219750301234", "陈儿子", relation="child", phone="13900000022")],
    })  # fmt: skip
    (household,) = households_create(actor=None, documents=[doc], reason="测试数据")
    person = household.members.get(name="陈爷爷")
    from minzheng.eldercare.models import ElderProfile

    ElderProfile.objects.create(
        person=person, division_path=household.division.path, care_level="partial",
        assessed_on=date(2026, 11, 1), assessor="社区评估员", living="alone", risk="high",
        emergency_contact="陈女儿", emergency_phone="13700000033",
    )  # fmt: skip
    return person


def register(client: Client, person: Person, **extra: Any) -> Any:
    body = {"person": person.pk, "kind": "emergency_call", "installed_on": "2026-11-01",
            "serial": "SOS-001", **extra}  # fmt: skip
    return post(client, "/api/v1/devices", body)


@pytest.fixture
def device(cast: Cast, grandpa: Person) -> dict[str, Any]:
    r = register(cast.api("community_worker"), grandpa)
    assert r.status_code == 201, r.content
    return dict(r.json())


def send(key: str, event_id: str, at: datetime | str, kind: str = "button", **extra: Any) -> Any:
    body = {"event_id": event_id, "kind": kind,
            "occurred_at": at.isoformat() if isinstance(at, datetime) else at, **extra}  # fmt: skip
    return Client().post(URL, data=json.dumps(body), content_type="application/json",
                         HTTP_AUTHORIZATION=key)  # fmt: skip


def key_of(d: dict[str, Any]) -> str:
    return f"Device {d['key_id']}:{d['secret']}"


# -- devices and keys --------------------------------------------------------------------------------


def test_a_call_device_gets_a_key_shown_once(
    cast: Cast, grandpa: Person, device: dict[str, Any]
) -> None:
    assert device["key_id"].startswith("dk") and len(device["secret"]) >= 40
    stored = Device.objects.get(pk=device["id"])
    assert stored.key_hash and device["secret"] not in stored.key_hash
    assert device["secret"] not in json.dumps(list(Device.objects.values()), default=str)
    listed = cast.api("street_reviewer").get("/api/v1/devices").json()["items"]
    assert [d["id"] for d in listed] == [device["id"]] and "secret" not in listed[0]
    doorbell = register(cast.api("community_worker"), grandpa, kind="doorbell")
    assert doorbell.status_code == 201 and doorbell.json()["secret"] is None
    assert doorbell.json()["key_id"] is None


def test_a_refused_registration_names_every_field(cast: Cast, grandpa: Person) -> None:
    worker = cast.api("community_worker")
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    r = register(worker, grandpa, kind="pager", installed_on=future, supplier=999999)
    assert r.status_code == 422
    assert {e["field"]: e["code"] for e in r.json()["details"]["errors"]} == {
        "kind": "eldercare.field_invalid",
        "installed_on": "eldercare.date_in_future",
        "supplier": "provider.not_found",
    }
    son = Person.objects.get(name="陈儿子")
    r = register(worker, son)
    assert r.json()["details"]["errors"][0]["code"] == "elder.not_an_elder"
    assert Device.objects.count() == 0


def test_keys_are_checked_before_anything_else(cast: Cast, device: dict[str, Any]) -> None:
    now = timezone.now()
    ok = send(key_of(device), "e-1", now)
    assert ok.status_code == 202, ok.content
    for bad in (f"Device nokey:{device['secret']}", f"Device {device['key_id']}:wrong-secret",
                f"Device {device['key_id']}", "Bearer whatever", ""):  # fmt: skip
        r = send(bad, "e-2", now)
        assert (r.status_code, r.json()["code"]) == (401, "device.key_invalid"), bad
    token = cast.api("admin")  # a staff token is not a device key
    r = token.post(URL, data=json.dumps({"event_id": "e-3", "kind": "button",
                                         "occurred_at": now.isoformat()}),
                   content_type="application/json")  # fmt: skip
    assert r.status_code == 401
    # a bad key learns nothing about the body
    bad_body = send(f"Device {device['key_id']}:wrong", "", "soon", kind="NOT A KIND")
    assert bad_body.status_code == 401
    assert DeviceEvent.objects.count() == 1 and Incident.objects.get().events == 1


def test_a_revoked_device_is_refused(cast: Cast, device: dict[str, Any]) -> None:
    worker = cast.api("community_worker")
    auditor = cast.api("auditor")
    assert post(auditor, f"/api/v1/devices/{device['id']}/revocation", {}).status_code == 403
    r = post(worker, f"/api/v1/devices/{device['id']}/revocation", {})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    again = post(worker, f"/api/v1/devices/{device['id']}/revocation", {})
    assert (again.status_code, again.json()["code"]) == (409, "device.revoked")
    r = send(key_of(device), "e-1", timezone.now())
    assert (r.status_code, r.json()["code"]) == (403, "device.revoked")
    assert Incident.objects.count() == 0 and DeviceEvent.objects.count() == 0


def test_bad_event_fields_are_named_and_nothing_is_written(device: dict[str, Any]) -> None:
    key = key_of(device)
    r = send(key, "", timezone.now() + timedelta(hours=1), kind="Fall Down")
    assert r.status_code == 422
    assert {e["field"]: e["code"] for e in r.json()["details"]["errors"]} == {
        "event_id": "eldercare.field_invalid",
        "kind": "eldercare.field_invalid",
        "occurred_at": "eldercare.date_in_future",
    }
    r = send(key, "x" * 65, "not a time")
    assert {e["field"] for e in r.json()["details"]["errors"]} == {"event_id", "occurred_at"}
    for early in ("0001-01-01T00:00:00", "2026-10-31T23:59:00+08:00"):  # installed 2026-11-01
        r = send(key, "e-0", early)
        assert r.json()["details"]["errors"] == [
            {"field": "occurred_at", "code": "eldercare.date_in_past",
             "message": "事件时间不能早于 2026-11-01 00:00"}
        ]  # fmt: skip
    assert Incident.objects.count() == 0 and DeviceEvent.objects.count() == 0
    # a little clock drift is accepted, and so is a field a newer gateway adds
    r = send(key, "e-1", timezone.now() + timedelta(minutes=2), battery=80)
    assert r.status_code == 202, r.content


# -- merging -----------------------------------------------------------------------------------------


def test_a_resent_event_is_answered_with_its_incident_and_not_counted_twice(
    device: dict[str, Any],
) -> None:
    key = key_of(device)
    first = send(key, "evt-42", T0)
    assert first.status_code == 202
    assert first.json()["merged"] is False and first.json()["duplicate"] is False
    again = send(key, "evt-42", T0)
    assert again.status_code == 200
    assert again.json() == {
        "incident": first.json()["incident"],
        "merged": False,
        "duplicate": True,
    }
    assert DeviceEvent.objects.count() == 1 and Incident.objects.get().events == 1


def test_events_close_together_merge_and_far_apart_open_a_new_incident(
    cast: Cast, device: dict[str, Any], moment: Moment
) -> None:
    key = key_of(device)
    a = send(key, "a", T0).json()
    b = send(key, "b", T0 + timedelta(minutes=3), kind="fall").json()
    assert b == {"incident": a["incident"], "merged": True, "duplicate": False}
    incident = Incident.objects.get()
    assert (incident.events, incident.last_event_at, incident.kind) == (
        2, T0 + timedelta(minutes=3), "button"
    )  # fmt: skip
    # nobody has answered: every event of the device goes to the open incident
    c = send(key, "c", T0 + timedelta(minutes=25)).json()
    assert c["incident"] == a["incident"] and c["merged"] is True

    worker = cast.api("community_worker")
    assert post(worker, f"/api/v1/incidents/{a['incident']}/acknowledgement", {}).status_code == 200
    d = send(key, "d", T0 + timedelta(minutes=30)).json()  # 5 minutes after its last event
    assert d["incident"] == a["incident"] and d["merged"] is True
    e = send(key, "e", T0 + timedelta(minutes=50)).json()  # 20 minutes after: a new call
    assert e["incident"] != a["incident"] and e["merged"] is False
    assert Incident.objects.count() == 2
    assert sorted(Incident.objects.values_list("events", flat=True)) == [1, 4]
    assert DeviceEvent.objects.count() == 5
    f = send(key, "f", T0 + timedelta(minutes=53)).json()  # 3 minutes after the new one
    assert f["incident"] == e["incident"] and f["merged"] is True


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-call path is PostgreSQL's")
def test_on_postgresql_an_event_is_taken_in_one_round_trip(device: dict[str, Any]) -> None:
    """``minzheng_device_event`` decides in the database; a refusal goes the full way and
    is named as on SQLite (the other tests here run both ways, one per database)."""
    from django.test.utils import CaptureQueriesContext

    key = key_of(device)
    with CaptureQueriesContext(connection) as queries:
        assert send(key, "one-call", T0).status_code == 202
        assert send(key, "one-call", T0).status_code == 200  # the resend, also one call
    calls = [q["sql"] for q in queries.captured_queries if "minzheng_device_event" in q["sql"]]
    assert len(calls) == 2 and len(queries.captured_queries) == 2
    wrong = f"Device {device['key_id']}:not-the-secret"
    assert send(wrong, "x", T0).json()["code"] == "device.key_invalid"
    Device.objects.update(installed_on=T0.date() + timedelta(days=1))
    r = send(key, "before", T0)  # before its installation: the function declines, 422
    assert r.status_code == 422 and r.json()["details"]["errors"][0]["field"] == "occurred_at"
    assert DeviceEvent.objects.count() == 1


# -- incidents ---------------------------------------------------------------------------------------


def test_an_incident_is_acknowledged_then_closed_with_an_outcome(
    cast: Cast, grandpa: Person, device: dict[str, Any], moment: Moment
) -> None:
    worker = cast.api("community_worker")
    iid = send(key_of(device), "e-1", T0).json()["incident"]
    detail = worker.get(f"/api/v1/incidents/{iid}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["status"] == "open" and body["kind_label"] == "一键呼叫"
    assert body["elder"]["name"] == "陈爷爷" and body["elder"]["id_number"].count("*") == 8
    assert body["profile"]["risk"] == "high" and body["profile"]["living_label"] == "独居"
    assert [(c["name"], c["phone"]) for c in body["contacts"]] == [
        ("陈女儿", "13700000033"), ("陈儿子", "13900000022")
    ]  # fmt: skip
    assert [e["event_id"] for e in body["device_events"]] == ["e-1"]
    assert AccessLog.objects.filter(person=grandpa, channel="api").exists()

    early = post(worker, f"/api/v1/incidents/{iid}/closure", {"outcome": "误触"})
    assert (early.status_code, early.json()["code"]) == (409, "incident.illegal_state")
    r = post(worker, f"/api/v1/incidents/{iid}/acknowledgement", {"note": "已电话联系老人"})
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    again = post(worker, f"/api/v1/incidents/{iid}/acknowledgement", {})
    assert (again.status_code, again.json()["code"]) == (409, "incident.illegal_state")
    blank = post(worker, f"/api/v1/incidents/{iid}/closure", {"outcome": " "})
    assert blank.status_code == 422 and blank.json()["details"]["errors"][0]["field"] == "outcome"
    r = post(worker, f"/api/v1/incidents/{iid}/closure", {"outcome": "老人跌倒，已送医"})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["outcome"]) == ("closed", "老人跌倒，已送医")
    closed = post(worker, f"/api/v1/incidents/{iid}/closure", {"outcome": "再次结束"})
    assert closed.status_code == 409
    # the next call opens a new incident
    assert send(key_of(device), "e-2", T0 + timedelta(minutes=5)).json()["incident"] != iid


def test_an_unanswered_call_raises_a_street_alert_settled_by_the_response(
    cast: Cast, device: dict[str, Any], moment: Moment
) -> None:
    iid = send(key_of(device), "e-1", T0).json()["incident"]
    assert visits.alerts_sweep(T0 + timedelta(minutes=4))["incidents"] == 0
    assert visits.alerts_sweep(T0 + timedelta(minutes=6))["incidents"] == 1
    assert visits.alerts_sweep(T0 + timedelta(minutes=9))["incidents"] == 0  # raised once
    alert = Alert.objects.get(incident_id=iid)
    assert (alert.kind, alert.level, alert.status) == ("incident", "street", "open")
    street = cast.api("street_reviewer")
    assert [a["id"] for a in street.get("/api/v1/alerts?level=street").json()["items"]] == [
        alert.pk
    ]
    assert post(street, f"/api/v1/incidents/{iid}/acknowledgement", {}).status_code == 200
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == cast.users["street_reviewer"]


def test_the_incident_pages(cast: Cast, device: dict[str, Any], moment: Moment) -> None:
    iid = send(key_of(device), "e-1", T0, kind="fall").json()["incident"]
    worker = cast.client("community_worker")
    assert f'data-incident="{iid}"' in worker.get("/eldercare/incidents/").content.decode()
    page = worker.get(f"/eldercare/incidents/{iid}/").content.decode()
    assert "跌倒报警" in page and "陈女儿" in page and 'id="incident-ack"' in page
    r = worker.post(f"/eldercare/incidents/{iid}/close/", {"outcome": "误报"}, follow=True)
    assert "须先响应再结束" in r.content.decode()
    worker.post(f"/eldercare/incidents/{iid}/acknowledge/", {"note": ""})
    page = worker.get(f"/eldercare/incidents/{iid}/").content.decode()
    assert 'id="incident-close"' in page
    worker.post(f"/eldercare/incidents/{iid}/close/", {"outcome": "老人误触按钮，已回访"})
    assert Incident.objects.get(pk=iid).status == "closed"
    assert cast.client("auditor").get(f"/eldercare/incidents/{iid}/").status_code == 200
    assert cast.client("service_provider").get(f"/eldercare/incidents/{iid}/").status_code == 404


def test_the_device_page_shows_the_key_once(cast: Cast, grandpa: Person) -> None:
    worker = cast.client("community_worker")
    r = worker.post(f"/eldercare/devices/?elder={grandpa.pk}",
                    {"kind": "emergency_call", "installed_on": "2026-11-01", "serial": "SOS-9"})  # fmt: skip
    device = Device.objects.get()
    assert device.key_id and f"Device {device.key_id}:" in r.content.decode()
    again = worker.get(f"/eldercare/devices/?elder={grandpa.pk}").content.decode()
    assert device.key_id in again and "Authorization: Device" not in again
    worker.post(f"/eldercare/devices/{device.pk}/revoke/")
    device.refresh_from_db()
    assert device.status == "revoked"


# -- scope -------------------------------------------------------------------------------------------


@pytest.fixture
def both_sides(cast: Cast, device: dict[str, Any]) -> dict[str, int]:
    """A call device and an open incident on each side (Dongcheng's by its own staff)."""
    east = user_create(username="u_east", role=Role.DISTRICT_APPROVER, division_code=DONGCHENG,
                       password="pw-123456")  # fmt: skip
    far = make_elder(DONGCHENG, "11010119500101345", "东城老人")
    done = alarms.device_register(actor=east, person_id=far.pk, kind="emergency_call",
                                  installed_on="2026-11-01")  # fmt: skip
    far_key = f"Device {done.key_id}:{done.secret}"
    return {
        "own_device": device["id"],
        "own_incident": send(key_of(device), "e-1", T0).json()["incident"],
        "far_device": done.device.pk,
        "far_incident": send(far_key, "e-1", T0).json()["incident"],
    }


@pytest.mark.parametrize("role", ROLES)
def test_scope_and_roles(cast: Cast, both_sides: dict[str, int], role: str) -> None:
    client = cast.api(role)
    incidents = {i["id"] for i in client.get("/api/v1/incidents").json()["items"]}
    devices = {d["id"] for d in client.get("/api/v1/devices").json()["items"]}
    assert (both_sides["own_incident"] in incidents) == (role in STAFF)
    assert (both_sides["own_device"] in devices) == (role in STAFF)
    assert both_sides["far_incident"] not in incidents and both_sides["far_device"] not in devices
    own, far = both_sides["own_incident"], both_sides["far_incident"]
    assert client.get(f"/api/v1/incidents/{own}").status_code == (200 if role in STAFF else 404)
    assert client.get(f"/api/v1/incidents/{far}").status_code == 404
    assert post(client, f"/api/v1/incidents/{far}/acknowledgement", {}).status_code == 404
    assert post(client, f"/api/v1/incidents/{far}/closure", {"outcome": "结束"}).status_code == 404
    assert (
        post(client, f"/api/v1/devices/{both_sides['far_device']}/revocation", {}).status_code
        == 404
    )
    ack = post(client, f"/api/v1/incidents/{own}/acknowledgement", {})
    assert ack.status_code == (200 if role in WRITERS else 403 if role in STAFF else 404)
    close = post(client, f"/api/v1/incidents/{own}/closure", {"outcome": "已处置"})
    assert close.status_code == (200 if role in WRITERS else 403 if role in STAFF else 404)
    grandpa = Person.objects.get(name="陈爷爷")
    reg = register(client, grandpa, serial="SOS-2")
    assert reg.status_code == (201 if role in WRITERS else 403 if role in STAFF else 404)
    far_person = Person.objects.get(name="东城老人")
    assert register(client, far_person).status_code == 404


# -- concurrency (PostgreSQL) ------------------------------------------------------------------------


def _together(monkeypatch: pytest.MonkeyPatch, key: str, events: list[tuple[str, datetime]],
              conflicts: list[str]) -> list[Any]:  # fmt: skip
    """Post the events from one thread each, all reaching ``alarms._receive`` (the
    transaction) at the same moment; a unique-constraint conflict inside it is noted in
    ``conflicts`` (the device lock should leave none for the retry to mop up)."""
    barrier = threading.Barrier(len(events), timeout=30)
    real = alarms._receive

    met = threading.local()

    def gated(*args: Any) -> Any:
        if not getattr(met, "done", False):  # the first attempt; a retry goes straight in
            met.done = True
            barrier.wait()
        try:
            return real(*args)
        except IntegrityError as exc:
            conflicts.append(str(exc))
            raise

    monkeypatch.setattr(alarms, "_receive", gated)
    results: list[Any] = [None] * len(events)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = send(key, events[i][0], events[i][1])
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(events))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    monkeypatch.setattr(alarms, "_receive", real)
    assert not any(t.is_alive() for t in threads), "a request never finished (deadlock?)"
    assert not errors, errors
    return results


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite takes one writer at a time: there is no race to lose")  # fmt: skip
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_gateways_posting_for_one_device_at_once_make_one_incident(
    cast: Cast, grandpa: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = alarms.device_register(actor=cast.users["community_worker"], person_id=grandpa.pk,
                                  kind="emergency_call", installed_on="2026-11-01")  # fmt: skip
    key = f"Device {done.key_id}:{done.secret}"
    conflicts: list[str] = []
    for round_ in range(5):
        at = T0 + timedelta(hours=round_)
        results = _together(monkeypatch, key, [(f"r{round_}-a", at),
                                               (f"r{round_}-b", at + timedelta(seconds=1))],
                            conflicts)  # fmt: skip
        assert sorted(r.status_code for r in results) == [202, 202], [r.content for r in results]
        bodies = [r.json() for r in results]
        assert bodies[0]["incident"] == bodies[1]["incident"]
        assert sorted(b["merged"] for b in bodies) == [False, True]
        incident = Incident.objects.get(pk=bodies[0]["incident"])
        assert incident.events == 2
        Incident.objects.filter(pk=incident.pk).update(status="acknowledged")  # the next round
    # the same event from two gateways at once is taken once
    again = _together(monkeypatch, key, [("dup", T0 + timedelta(hours=9))] * 2, conflicts)
    assert sorted(r.status_code for r in again) == [200, 202]
    assert Incident.objects.count() == 6 and DeviceEvent.objects.count() == 11
    assert not conflicts  # the device lock serialised them: no retry was needed


# -- whatever a gateway or a client sends ------------------------------------------------------------

event_like = st.fixed_dictionaries(
    {}, optional={"event_id": json_values, "kind": json_values, "occurred_at": json_values}
)


@FUZZ
@given(body=st.one_of(event_like, json_values), header=st.one_of(st.none(), st.text(max_size=80)))
def test_gateway_fuzz(device: dict[str, Any], body: Any, header: str | None) -> None:
    before = (Incident.objects.count(), DeviceEvent.objects.count())
    for auth in (key_of(device), header):
        extra = {"HTTP_AUTHORIZATION": auth} if auth is not None else {}
        r = Client().post(URL, data=json.dumps(body), content_type="application/json", **extra)
        _no_500(r)
        if r.status_code not in (200, 202):
            assert (Incident.objects.count(), DeviceEvent.objects.count()) == before
        before = (Incident.objects.count(), DeviceEvent.objects.count())
