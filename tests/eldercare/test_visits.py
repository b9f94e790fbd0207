"""Patrol visits (巡视探访) through the API and the pages: schedules per elder, the
visitor's daily list, visits with their outcome, alerts raised by a failed or missed
visit and escalated to the street by the sweep, acknowledgement by the right level, and
who may read and write what (Xicheng 110102 against Dongcheng 110101).

The clock: the workflow's ``today`` is 2026-11-23 (a Monday) and the visits' "now" is
10:00 that day (``moment``); the sweep takes ``now`` explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import token_create, user_create
from minzheng.eldercare import visits
from minzheng.eldercare.models import (
    Alert,
    ElderProfile,
    Provider,
    ProviderMember,
    Visit,
    VisitSchedule,
)
from minzheng.registry.documents import validate_document
from minzheng.registry.models import Division, Person
from minzheng.registry.services import households_create
from tests.applications.conftest import Clock
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, DONGCHENG, Cast, member
from tests.registry.test_api_fuzz import FUZZ, _no_500, json_values

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 10, 0, tzinfo=BEIJING)
ROLES = [str(r) for r in Role]
STAFF = {"community_worker", "street_reviewer", "district_approver", "auditor", "admin"}
WRITERS = {"community_worker", "street_reviewer", "district_approver"}


class Moment:
    """The visits' now, moving the workflow's today with it."""

    def __init__(self, today: Clock) -> None:
        self.at = START
        self.today = today
        today.day = START.date()

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        self.today.day = self.at.date()
        return self.at


@pytest.fixture
def moment(today: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Moment]:
    fake = Moment(today)
    monkeypatch.setattr(visits, "current_time", fake)
    yield fake


def make_elder(division: str, stem17: str, name: str, *, profile: dict[str, str] | None = None,
               **extra: Any) -> Person:  # fmt: skip
    doc = validate_document({"division": division, "hukou": "beijing", "assets": {"houses": 1},
                             "members": [member(stem17, name, **extra)]})  # fmt: skip
    (household,) = households_create(actor=None, documents=[doc], reason="测试数据")
    person = household.members.get()
    if profile is not None:
        ElderProfile.objects.create(
            person=person, division_path=household.division.path, care_level="self_care",
            assessed_on=date(2026, 11, 1), assessor="社区评估员", **profile,
        )  # fmt: skip
    return person


@pytest.fixture
def grandma(cast: Cast) -> Person:
    """76, living alone at high risk in community A."""
    return make_elder(COMMUNITY_A, "11010219500101123", "刘奶奶", phone="13800000001",
                      profile={"living": "alone", "risk": "high",
                               "emergency_contact": "刘儿子", "emergency_phone": "13900000002"})  # fmt: skip


@pytest.fixture
def far(cast: Cast) -> Person:
    """70, in Dongcheng: outside every cast user."""
    return make_elder(DONGCHENG, "11010119560101345", "东城老人")


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def schedule(client: Client, elder: Person, **extra: Any) -> Any:
    body = {"elder": elder.pk, "mode": "phone", "every_days": 1, "visitor_kind": "worker", **extra}
    return post(client, "/api/v1/visit-schedules", body)


def record(client: Client, schedule_id: int, at: datetime | str, outcome: str = "well",
           note: str = "") -> Any:  # fmt: skip
    when = at.isoformat() if isinstance(at, datetime) else at
    return post(client, f"/api/v1/visit-schedules/{schedule_id}/visits",
                {"visited_at": when, "outcome": outcome, "note": note})  # fmt: skip


def errors_of(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation.failed"
    return {e["field"]: e["code"] for e in body["details"]["errors"]}


# -- schedules and the daily list --------------------------------------------------------------------


def test_schedule_a_daily_call_and_record_it(cast: Cast, grandma: Person, moment: Moment) -> None:
    worker = cast.api("community_worker")
    r = schedule(worker, grandma)
    assert r.status_code == 201, r.content
    s = r.json()
    assert (s["mode"], s["every_days"], s["visitor_kind"], s["next_due"]) == (
        "phone", 1, "worker", "2026-11-23"
    )  # fmt: skip
    assert s["visitor"]["id"] == cast.users["community_worker"].pk  # the scheduler by default
    assert s["elder"]["id_number"].count("*") == 8 and s["elder"]["risk"] == "high"

    daily = worker.get("/api/v1/visits/daily").json()
    assert [x["id"] for x in daily["items"]] == [s["id"]] and daily["day"] == "2026-11-23"

    r = record(worker, s["id"], moment.at - timedelta(hours=1), "well", "精神不错")
    assert r.status_code == 201, r.content
    assert (r.json()["outcome"], r.json()["next_due"], r.json()["alert"]) == (
        "well", "2026-11-24", None
    )  # fmt: skip
    assert worker.get("/api/v1/visits/daily").json()["items"] == []
    assert worker.get("/api/v1/visits/daily?day=2026-11-24").json()["count"] == 1
    assert Alert.objects.count() == 0


def test_the_suggestion_follows_risk_and_living(
    cast: Cast, grandma: Person, moment: Moment
) -> None:
    r = cast.api("community_worker").get(f"/api/v1/visit-schedules?elder={grandma.pk}")
    assert r.status_code == 200
    assert [(x["mode"], x["every_days"]) for x in r.json()["suggested"]] == [
        ("phone", 1),
        ("home", 7),
    ]
    profile = ElderProfile(living="with_family", risk="low")
    assert [(x["mode"], x["every_days"]) for x in visits.schedules_for_risk(profile)] == [
        ("phone", 30)
    ]
    profile = ElderProfile(living="with_family", risk="high")
    assert [x["every_days"] for x in visits.schedules_for_risk(profile)] == [2, 14]
    assert [(x["mode"], x["every_days"]) for x in visits.schedules_for_risk(None)] == [("phone", 7)]


def test_a_refused_schedule_names_every_field_and_writes_nothing(
    cast: Cast, grandma: Person, moment: Moment
) -> None:
    worker = cast.api("community_worker")
    r = schedule(worker, grandma, mode="fax", every_days=0, visitor_kind="robot",
                 first_due="2026-11-20")  # fmt: skip
    assert errors_of(r) == {
        "mode": "eldercare.field_invalid",
        "every_days": "eldercare.field_invalid",
        "visitor_kind": "eldercare.field_invalid",
        "first_due": "eldercare.date_in_past",
    }
    r = schedule(worker, grandma, visitor_kind="volunteer")
    assert errors_of(r) == {"volunteer_name": "eldercare.field_invalid"}
    r = schedule(worker, grandma, visitor=cast.users["auditor"].pk)  # not a visiting role
    assert errors_of(r) == {"visitor": "eldercare.field_invalid"}
    r = schedule(
        worker, grandma, visitor_kind="provider", visitor=cast.users["service_provider"].pk
    )
    assert errors_of(r) == {"visitor": "eldercare.field_invalid"}  # no provider of the area
    young = make_elder(COMMUNITY_A, "11010219900101555", "小王")
    assert errors_of(schedule(worker, young)) == {"elder": "elder.not_an_elder"}
    assert VisitSchedule.objects.count() == 0

    assert schedule(worker, grandma).status_code == 201
    again = schedule(worker, grandma, every_days=2)
    assert (again.status_code, again.json()["code"]) == (409, "visit.schedule_exists")
    assert schedule(worker, grandma, mode="home", every_days=7).status_code == 201
    assert VisitSchedule.objects.count() == 2


def test_a_visit_in_the_future_is_refused(cast: Cast, grandma: Person, moment: Moment) -> None:
    worker = cast.api("community_worker")
    sid = schedule(worker, grandma).json()["id"]
    r = record(worker, sid, moment.at + timedelta(minutes=5), "well")
    assert errors_of(r) == {"visited_at": "eldercare.date_in_future"}
    r = record(worker, sid, "yesterday", "lost")
    assert errors_of(r) == {
        "visited_at": "eldercare.field_invalid",
        "outcome": "eldercare.field_invalid",
    }
    for ancient in ("0001-01-01T00:00", (moment.at - timedelta(days=32)).isoformat()):
        assert errors_of(record(worker, sid, ancient)) == {"visited_at": "eldercare.date_in_past"}
    assert Visit.objects.count() == 0
    assert VisitSchedule.objects.get(pk=sid).next_due == date(2026, 11, 23)
    # a naive time is Beijing time; a late record never moves the next visit back
    assert record(worker, sid, "2026-11-23T09:00", "well").status_code == 201
    assert record(worker, sid, "2026-11-21T09:00", "well").json()["next_due"] == "2026-11-24"


# -- alerts ------------------------------------------------------------------------------------------


def test_a_failed_visit_alerts_the_community_then_the_street(
    cast: Cast, grandma: Person, moment: Moment
) -> None:
    worker, street = cast.api("community_worker"), cast.api("street_reviewer")
    sid = schedule(worker, grandma).json()["id"]
    r = record(worker, sid, moment.at - timedelta(minutes=30), "no_answer", "连续三次无人接听")
    alert_id = r.json()["alert"]
    assert alert_id is not None
    a = worker.get("/api/v1/alerts?status=open").json()
    assert [(x["id"], x["kind"], x["level"]) for x in a["items"]] == [
        (alert_id, "failed_visit", "community")
    ]
    assert a["items"][0]["can_acknowledge"] is True and "无人应答" in a["items"][0]["description"]

    raised = moment.at
    assert visits.alerts_sweep(raised + timedelta(hours=1, minutes=59))["escalated"] == 0
    done = visits.alerts_sweep(raised + timedelta(hours=2, minutes=1))
    assert done["escalated"] == 1
    assert visits.alerts_sweep(raised + timedelta(hours=3))["escalated"] == 0  # idempotent
    alert = Alert.objects.get(pk=alert_id)
    assert alert.level == "street" and alert.escalated_at == raised + timedelta(hours=2, minutes=1)

    r = post(worker, f"/api/v1/alerts/{alert_id}/acknowledgement", {"action": "已上门查看"})
    assert (r.status_code, r.json()["code"]) == (403, "eldercare.role_forbidden")
    assert worker.get("/api/v1/alerts?level=street").json()["items"][0]["can_acknowledge"] is False
    r = post(street, f"/api/v1/alerts/{alert_id}/acknowledgement", {"action": ""})
    assert errors_of(r) == {"action": "eldercare.field_invalid"}
    r = post(street, f"/api/v1/alerts/{alert_id}/acknowledgement", {"action": "联系家属，老人外出"})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["acknowledged_by"]["id"]) == (
        "acknowledged", cast.users["street_reviewer"].pk
    )  # fmt: skip
    again = post(street, f"/api/v1/alerts/{alert_id}/acknowledgement", {"action": "再次确认"})
    assert (again.status_code, again.json()["code"]) == (409, "alert.already_acknowledged")


def test_the_community_worker_settles_an_alert_before_it_escalates(
    cast: Cast, grandma: Person, moment: Moment
) -> None:
    worker = cast.api("community_worker")
    sid = schedule(worker, grandma).json()["id"]
    alert_id = record(worker, sid, moment.at, "unwell", "头晕").json()["alert"]
    r = post(worker, f"/api/v1/alerts/{alert_id}/acknowledgement", {"action": "已联系社区医生上门"})
    assert r.status_code == 200
    assert visits.alerts_sweep(moment.at + timedelta(days=1, hours=3))["escalated"] == 0
    assert Alert.objects.get(pk=alert_id).level == "community"


def test_a_missed_visit_raises_one_alert_which_the_visit_settles(
    cast: Cast, grandma: Person, moment: Moment
) -> None:
    worker = cast.api("community_worker")
    sid = schedule(worker, grandma).json()["id"]  # due 2026-11-23
    assert visits.alerts_sweep(START + timedelta(hours=12))["missed"] == 0  # due today
    day_after = START + timedelta(days=1)
    assert visits.alerts_sweep(day_after) == {
        "at": day_after.isoformat(), "missed": 1, "escalated": 0, "incidents": 0
    }  # fmt: skip
    assert visits.alerts_sweep(day_after + timedelta(hours=1))["missed"] == 0  # raised once
    alert = Alert.objects.get(kind="missed_visit")
    assert alert.source == f"missed:{sid}:2026-11-23" and alert.level == "community"
    assert worker.get("/api/v1/alerts").json()["overdue_schedules"] == 0  # today is still 11-23

    moment.advance(days=1)  # 2026-11-24 10:00
    assert worker.get("/api/v1/alerts").json()["overdue_schedules"] == 1
    assert record(worker, sid, moment.at, "well").status_code == 201
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and "已完成探访" in alert.action
    # missed alerts wait a day at the community before the street
    sid2 = schedule(worker, grandma, mode="home", every_days=7).json()["id"]
    visits.alerts_sweep(moment.at + timedelta(days=1))
    missed = Alert.objects.get(source=f"missed:{sid2}:2026-11-24")
    assert visits.alerts_sweep(moment.at + timedelta(days=2))["escalated"] == 1
    missed.refresh_from_db()
    assert missed.level == "street"


def test_volunteers_and_providers_on_the_daily_lists(
    cast: Cast, grandma: Person, moment: Moment
) -> None:
    worker, street = cast.api("community_worker"), cast.api("street_reviewer")
    r = schedule(worker, grandma, visitor_kind="volunteer", volunteer_name="李志愿")
    assert r.status_code == 201, r.content
    vid = r.json()["id"]
    provider = Provider.objects.create(
        name="康乐养老服务中心", credit_code="91110102MA0000001X", contract_start=date(2026, 1, 1),
        contract_end=date(2027, 12, 31), division=Division.objects.get(code="110102"),
        division_path=Division.objects.get(code="110102").path,
    )  # fmt: skip
    provider.areas.add(Division.objects.get(code="110102009"))  # the street of community A
    carer = cast.users["service_provider"]
    ProviderMember.objects.create(provider=provider, user=carer)
    r = schedule(
        worker, grandma, mode="home", every_days=7, visitor_kind="provider", visitor=carer.pk
    )
    assert r.status_code == 201, r.content
    pid = r.json()["id"]

    assert {x["id"] for x in worker.get("/api/v1/visits/daily").json()["items"]} == {vid}
    assert street.get("/api/v1/visits/daily").json()["items"] == []  # assigned to nobody there
    carer_api = cast.api("service_provider")
    assert [x["id"] for x in carer_api.get("/api/v1/visits/daily").json()["items"]] == [pid]
    assert [x["id"] for x in carer_api.get("/api/v1/visit-schedules").json()["items"]] == [pid]
    assert record(carer_api, vid, moment.at, "well").status_code == 404  # not theirs
    assert record(carer_api, pid, moment.at, "well").status_code == 201
    assert record(worker, vid, moment.at, "well").status_code == 201  # on the volunteer's behalf
    assert carer_api.get("/api/v1/alerts").json()["items"] == []  # staff only


# -- scope -------------------------------------------------------------------------------------------


@pytest.fixture
def both_sides(cast: Cast, grandma: Person, far: Person, moment: Moment) -> dict[str, int]:
    """A failed visit with its alert on each side (Dongcheng's by a Dongcheng worker)."""
    east = user_create(username="u_east", role=Role.DISTRICT_APPROVER, division_code=DONGCHENG,
                       password="pw-123456")  # fmt: skip
    ids: dict[str, int] = {}
    for key, actor, elder in (("own", cast.users["community_worker"], grandma), ("far", east, far)):
        s = visits.schedule_create(actor=actor, elder_person_id=elder.pk, mode="phone",
                                   every_days=1, visitor_kind="worker")  # fmt: skip
        v = visits.visit_record(actor=actor, schedule_id=s.pk, visited_at=moment.at,
                                outcome="no_answer")  # fmt: skip
        ids[f"{key}_schedule"] = s.pk
        ids[f"{key}_alert"] = Alert.objects.get(visit=v).pk
    return ids


@pytest.mark.parametrize("role", ROLES)
def test_scope_and_roles(
    cast: Cast, both_sides: dict[str, int], grandma: Person, role: str
) -> None:
    client = cast.api(role)
    alerts = client.get("/api/v1/alerts").json()
    schedules = client.get("/api/v1/visit-schedules").json()
    seen_alerts = {a["id"] for a in alerts["items"]}
    seen_schedules = {s["id"] for s in schedules["items"]}
    assert (both_sides["own_alert"] in seen_alerts) == (role in STAFF)
    assert (both_sides["own_schedule"] in seen_schedules) == (role in STAFF)
    assert both_sides["far_alert"] not in seen_alerts
    assert both_sides["far_schedule"] not in seen_schedules

    far_ack = post(
        client, f"/api/v1/alerts/{both_sides['far_alert']}/acknowledgement", {"action": "看过"}
    )
    assert far_ack.status_code == 404
    far_visit = record(client, both_sides["far_schedule"], START, "well")
    assert far_visit.status_code == 404
    own = post(
        client, f"/api/v1/alerts/{both_sides['own_alert']}/acknowledgement", {"action": "已处置"}
    )
    assert own.status_code == (200 if role in WRITERS else 403 if role in STAFF else 404), (
        own.content
    )
    new = schedule(client, grandma, mode="home", every_days=7)
    assert new.status_code == (201 if role in WRITERS else 403 if role in STAFF else 404), (
        new.content
    )
    assert schedule(client, Person.objects.get(name="东城老人")).status_code == 404


def test_another_street_is_out_of_a_street_reviewers_scope(cast: Cast, moment: Moment) -> None:
    elsewhere = make_elder(COMMUNITY_B, "11010219480101888", "西长安街老人")
    street = cast.api("street_reviewer")  # 展览路街道
    assert schedule(street, elsewhere).status_code == 404
    assert schedule(cast.api("district_approver"), elsewhere).status_code == 201


# -- pages -------------------------------------------------------------------------------------------


def test_the_pages_schedule_record_escalate_and_acknowledge(
    cast: Cast, grandma: Person, moment: Moment
) -> None:
    worker = cast.client("community_worker")
    page = worker.get(f"/eldercare/visits/schedules/?elder={grandma.pk}")
    assert page.status_code == 200
    assert "按风险建议" in page.content.decode() and "刘奶奶" in page.content.decode()
    r = worker.post(f"/eldercare/visits/schedules/?elder={grandma.pk}", {
        "elder": grandma.pk, "mode": "phone", "every_days": "1", "visitor_kind": "worker",
        "visitor": cast.users["community_worker"].pk, "first_due": "2026-11-23"})  # fmt: skip
    assert r.status_code == 302
    s = VisitSchedule.objects.get(elder=grandma)
    refused = worker.post(f"/eldercare/visits/schedules/?elder={grandma.pk}", {
        "elder": grandma.pk, "mode": "phone", "every_days": "1", "visitor_kind": "worker"},
        follow=True)  # fmt: skip
    assert "已有电话巡视安排" in refused.content.decode()

    daily = worker.get("/eldercare/visits/").content.decode()
    assert f'id="visit-form-{s.pk}"' in daily
    future = worker.post(f"/eldercare/visits/schedules/{s.pk}/visit/",
                         {"visited_at": "2026-11-23T11:00", "outcome": "well"}, follow=True)  # fmt: skip
    assert "探访时间不能晚于现在" in future.content.decode()
    r = worker.post(f"/eldercare/visits/schedules/{s.pk}/visit/",
                    {"visited_at": "2026-11-23T09:30", "outcome": "no_answer", "note": "电话无人接听"})  # fmt: skip
    assert r.status_code == 302
    alert = Alert.objects.get(schedule=s)
    board = worker.get("/eldercare/alerts/").content.decode()
    assert f'id="alert-ack-{alert.pk}"' in board and "电话无人接听" in board

    visits.alerts_sweep(moment.at + timedelta(hours=3))
    board = worker.get("/eldercare/alerts/").content.decode()
    assert f'id="alert-ack-{alert.pk}"' not in board and "待街道确认" in board
    street = cast.client("street_reviewer")
    assert f'id="alert-ack-{alert.pk}"' in street.get("/eldercare/alerts/").content.decode()
    r = street.post(
        f"/eldercare/alerts/{alert.pk}/acknowledge/", {"action": "已派人上门"}, follow=True
    )
    assert "预警已确认" in r.content.decode()
    alert.refresh_from_db()
    assert (alert.status, alert.action) == ("acknowledged", "已派人上门")
    assert cast.client("resident").get("/eldercare/alerts/").status_code == 404
    assert (
        cast.client("street_reviewer").get("/eldercare/visits/schedules/?elder=999999").status_code
        == 404
    )


def test_a_provider_user_records_on_the_daily_page(
    cast: Cast, grandma: Person, moment: Moment
) -> None:
    provider = Provider.objects.create(
        name="康乐养老服务中心", credit_code="91110102MA0000002X", contract_start=date(2026, 1, 1),
        contract_end=date(2027, 12, 31), division=Division.objects.get(code="110102"),
        division_path=Division.objects.get(code="110102").path,
    )  # fmt: skip
    provider.areas.add(Division.objects.get(code="110102"))
    carer: User = cast.users["service_provider"]
    ProviderMember.objects.create(provider=provider, user=carer)
    s = visits.schedule_create(actor=cast.users["community_worker"], elder_person_id=grandma.pk,
                               mode="home", every_days=7, visitor_kind="provider",
                               visitor_id=carer.pk)  # fmt: skip
    page = cast.client("service_provider").get("/eldercare/visits/").content.decode()
    assert f'id="visit-form-{s.pk}"' in page
    token = token_create(username=carer.username)
    assert (
        Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/incidents").json()["count"] == 0
    )


# -- whatever a client sends -------------------------------------------------------------------------

schedule_like = st.fixed_dictionaries(
    {"elder": json_values, "mode": json_values, "every_days": json_values,
     "visitor_kind": json_values},
    optional={"visitor": json_values, "volunteer_name": json_values, "first_due": json_values},
)  # fmt: skip
visit_like = st.fixed_dictionaries(
    {"visited_at": json_values, "outcome": json_values}, optional={"note": json_values}
)


@FUZZ
@given(
    schedule_body=st.one_of(schedule_like, json_values),
    visit_body=st.one_of(visit_like, json_values),
)
def test_visits_fuzz(cast: Cast, grandma: Person, moment: Moment, schedule_body: Any,
                     visit_body: Any) -> None:  # fmt: skip
    worker = cast.api("community_worker")
    before = VisitSchedule.objects.count()
    r = post(worker, "/api/v1/visit-schedules", schedule_body)
    _no_500(r)
    if r.status_code != 201:
        assert VisitSchedule.objects.count() == before
    s = VisitSchedule.objects.filter(elder=grandma).first() or visits.schedule_create(
        actor=cast.users["community_worker"], elder_person_id=grandma.pk, mode="phone",
        every_days=1, visitor_kind="worker")  # fmt: skip
    rows = (
        Visit.objects.count(),
        Alert.objects.count(),
        VisitSchedule.objects.get(pk=s.pk).next_due,
    )
    r = post(worker, f"/api/v1/visit-schedules/{s.pk}/visits", visit_body)
    _no_500(r)
    if r.status_code != 201:
        assert (Visit.objects.count(), Alert.objects.count(),
                VisitSchedule.objects.get(pk=s.pk).next_due) == rows  # fmt: skip
