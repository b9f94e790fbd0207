"""Household plans (一户一策) through the API: opening with needs, measures and follow-ups,
every refusal naming each bad field, the follow-up inbox, contacts, review, closure, and
who may read and write a plan (in scope, out of scope, by role).

The clock is the workflow's ``today`` (2026-11-23, a Monday); the inbox looks seven days
ahead (``selectors.HORIZON_DAYS``), so a follow-up due on or before 2026-11-30 is listed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import user_create
from minzheng.casework import services
from minzheng.casework.models import (
    Contact,
    FollowUp,
    HouseholdNote,
    Measure,
    Need,
    Plan,
)
from minzheng.registry.models import Household
from tests.applications.conftest import Clock, post
from tests.fixtures import COMMUNITY_B, DONGCHENG, Cast

ROLES = [str(r) for r in Role]
READERS = {"community_worker", "street_reviewer", "district_approver", "auditor", "admin"}
WRITERS = {"community_worker", "street_reviewer", "district_approver"}
# Who sees cast.own's household in the registry (and so reaches the casework role check
# of a note rather than a 404): staff reading the registry, and the resident's own.
HOUSEHOLD_VIEWERS = READERS | {"department_liaison", "resident"}


def plan_body(household: Household, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "household": household.pk,
        "summary": "缓解生活困难，帮助恢复就业",
        "review_on": "2027-02-23",
        "needs": [
            {"domain": "income", "severity": "high", "description": "无固定收入来源"},
            {"domain": "employment", "description": "失业半年，有就业意愿"},
        ],
        "measures": [
            {"kind": "cash", "programme": "dibao", "description": "协助申请最低生活保障"},
            {"kind": "referral", "target": "展览路街道就业服务站", "description": "推荐公益性岗位"},
            {"kind": "service", "description": "心理疏导", "due_on": "2026-12-31"},
        ],
        "follow_ups": [
            {"due_on": "2026-11-27", "purpose": "了解低保申请进度"},
            {"due_on": "2026-12-20", "purpose": "回访就业情况"},
        ],
    }
    body.update(extra)
    return body


def open_plan(client: Client, household: Household, **extra: Any) -> dict[str, Any]:
    r = post(client, "/api/v1/plans", plan_body(household, **extra))
    assert r.status_code == 201, r.content
    return dict(r.json())


def rows() -> tuple[int, int, int, int, int, int]:
    return (
        Plan.objects.count(),
        Need.objects.count(),
        Measure.objects.count(),
        FollowUp.objects.count(),
        Contact.objects.count(),
        HouseholdNote.objects.count(),
    )


def errors_of(response: Any) -> dict[str, str]:
    """field → code of a 422 naming every bad field."""
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation.failed"
    return {e["field"]: e["code"] for e in body["details"]["errors"]}


# -- opening ---------------------------------------------------------------------------------------


def test_open_a_plan_with_needs_measures_and_follow_ups(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    worker = cast.users["community_worker"]
    street = cast.users["street_reviewer"]
    body = plan_body(cast.own, responsible=street.pk)
    body["follow_ups"][1]["assigned_to"] = street.pk
    r = post(api("community_worker"), "/api/v1/plans", body)
    assert r.status_code == 201, r.content
    plan = r.json()
    assert plan["household"] == cast.own.pk and plan["household_number"] == cast.own.number
    assert (plan["status"], plan["status_label"]) == ("open", "帮扶中")
    assert plan["summary"] == "缓解生活困难，帮助恢复就业"
    assert plan["responsible"]["id"] == street.pk  # named; the opener otherwise
    assert plan["review_on"] == "2027-02-23"
    assert (plan["closed_at"], plan["outcome"], plan["version"]) == (None, "", 0)
    assert [(n["domain"], n["severity"], n["assessed_on"]) for n in plan["needs"]] == [
        ("income", "high", "2026-11-23"),
        ("employment", "medium", "2026-11-23"),  # severity defaults to medium
    ]
    assert [(m["kind"], m["programme"], m["target"], m["status"]) for m in plan["measures"]] == [
        ("cash", "dibao", "", "planned"),
        ("referral", "", "展览路街道就业服务站", "planned"),
        ("service", "", "", "planned"),
    ]
    assert plan["measures"][0]["programme_label"] == "最低生活保障"
    assert {m["responsible"]["id"] for m in plan["measures"]} == {worker.pk}
    assert plan["measures"][2]["due_on"] == "2026-12-31"
    assert [(f["due_on"], f["assigned_to"]["id"], f["overdue"]) for f in plan["follow_ups"]] == [
        ("2026-11-27", worker.pk, False),
        ("2026-12-20", street.pk, False),
    ]
    assert plan["contacts"] == []
    stored = Plan.objects.get(pk=plan["id"])
    assert stored.division_path == cast.own.division.path
    assert set(FollowUp.objects.values_list("division_path", flat=True)) == {stored.division_path}
    assert stored.opened_by == worker

    # one open plan per household: a second is refused and writes nothing
    before = rows()
    r = post(api("street_reviewer"), "/api/v1/plans", plan_body(cast.own))
    assert r.status_code == 409 and r.json()["code"] == "plan.open_exists"
    assert rows() == before


def test_bad_input_names_every_bad_field_and_writes_nothing(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    outsider = user_create(username="u_worker_b", role=Role.COMMUNITY_WORKER,
                           division_code=COMMUNITY_B, password="pw-123456")  # fmt: skip
    auditor = cast.users["auditor"]
    body = plan_body(
        cast.own,
        summary="x",  # under two characters
        review_on="2026-11-22",  # yesterday
        responsible=outsider.pk,  # a worker of another street
        needs=[
            {"domain": "money", "description": "收入低"},
            {"domain": "health", "severity": "critical", "description": "慢性病"},
            {"domain": "housing", "description": "住房漏雨", "person": cast.other_street.members.get().pk},
        ],
        measures=[
            {"kind": "cash", "description": "申请救助"},  # no programme
            {"kind": "referral", "description": "转介"},  # no target
            {"kind": "service", "description": "上门照料", "responsible": auditor.pk},
            {"kind": "gift", "description": "慰问品", "due_on": "2026-13-01"},
        ],
        follow_ups=[
            {"due_on": "2026-11-22", "purpose": "回访"},  # yesterday
            {"due_on": "2026-11-30", "purpose": "回访", "assigned_to": outsider.pk},
        ],
    )  # fmt: skip
    before = rows()
    errors = errors_of(post(api("community_worker"), "/api/v1/plans", body))
    assert errors == {
        "summary": "casework.reason_required",
        "review_on": "casework.date_in_past",
        "responsible": "casework.responsible_invalid",
        "needs.0.domain": "casework.field_invalid",
        "needs.1.severity": "casework.field_invalid",
        "needs.2.person": "casework.field_invalid",  # not a member of this household
        "measures.0.programme": "casework.field_invalid",
        "measures.1.target": "casework.field_invalid",
        "measures.2.responsible": "casework.responsible_invalid",  # an auditor does no casework
        "measures.3.kind": "casework.field_invalid",
        "measures.3.due_on": "casework.field_invalid",
        "follow_ups.0.due_on": "casework.date_in_past",
        "follow_ups.1.assigned_to": "casework.responsible_invalid",
    }
    assert rows() == before == (0, 0, 0, 0, 0, 0)

    # no need at all, and an unknown field the schema rejects before the service
    errors = errors_of(
        post(api("community_worker"), "/api/v1/plans", plan_body(cast.own, needs=[]))
    )
    assert errors == {"needs": "casework.field_invalid"}
    r = post(api("community_worker"), "/api/v1/plans", plan_body(cast.own, colour="red"))
    assert r.status_code == 422 and rows() == before

    # a contact dated tomorrow, an unknown mode and no content: three fields, nothing written
    plan = open_plan(api("community_worker"), cast.own)
    before = rows()
    r = post(api("community_worker"), f"/api/v1/plans/{plan['id']}/contacts",
             {"contacted_on": "2026-11-24", "mode": "fax", "content": ""})  # fmt: skip
    assert errors_of(r) == {
        "contacted_on": "casework.date_in_future",
        "mode": "casework.field_invalid",
        "content": "casework.reason_required",
    }
    # a follow-up and a review dated yesterday
    r = post(api("community_worker"), f"/api/v1/plans/{plan['id']}/follow-ups",
             {"due_on": "2026-11-22", "purpose": "回访"})  # fmt: skip
    assert errors_of(r) == {"due_on": "casework.date_in_past"}
    r = post(api("community_worker"), f"/api/v1/plans/{plan['id']}/review",
             {"review_on": "2026-11-22", "note": ""})  # fmt: skip
    assert errors_of(r) == {
        "review_on": "casework.date_in_past",
        "note": "casework.reason_required",
    }
    r = post(api("community_worker"), f"/api/v1/plans/{plan['id']}/closure",
             {"outcome": "happy", "note": "结案"})  # fmt: skip
    assert errors_of(r) == {"outcome": "casework.field_invalid"}
    assert rows() == before
    assert Plan.objects.get(pk=plan["id"]).version == 0


def test_a_responsible_above_the_community_is_accepted(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    """The street and the district cover community A; another street's worker does not."""
    district = cast.users["district_approver"]
    plan = open_plan(api("community_worker"), cast.own, responsible=district.pk)
    assert plan["responsible"]["id"] == district.pk
    # another street's household is not the community worker's: not found
    r = post(api("community_worker"), "/api/v1/plans", plan_body(cast.other_street))
    assert (r.status_code, r.json()["code"]) == (404, "household.not_found")
    # the district approver may also open a plan for another street of the district,
    # but a community-A worker cannot be made responsible for it
    worker = cast.users["community_worker"]
    r = post(api("district_approver"), "/api/v1/plans",
             plan_body(cast.other_street, responsible=worker.pk))  # fmt: skip
    assert errors_of(r) == {"responsible": "casework.responsible_invalid"}
    assert (
        open_plan(api("district_approver"), cast.other_street)["responsible"]["id"] == district.pk
    )


# -- follow-ups, contacts, the inbox ------------------------------------------------------------------


def test_follow_ups_in_the_inbox_and_completed_from_it(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    worker, street = api("community_worker"), api("street_reviewer")
    body = plan_body(cast.own)
    body["follow_ups"].append(
        {
            "due_on": "2026-11-26",
            "purpose": "街道复核",
            "assigned_to": cast.users["street_reviewer"].pk,
        }
    )
    plan = open_plan(worker, cast.own, follow_ups=body["follow_ups"])
    soon, later, streets = (FollowUp.objects.get(plan_id=plan["id"], purpose=p)
                            for p in ("了解低保申请进度", "回访就业情况", "街道复核"))  # fmt: skip

    # 2026-11-27 is within seven days; 2026-12-20 is not; the street's is the street's
    listed = worker.get("/api/v1/follow-ups").json()
    assert [f["id"] for f in listed["items"]] == [soon.pk]
    assert listed["items"][0]["household"] == cast.own.pk
    assert [f["id"] for f in street.get("/api/v1/follow-ups").json()["items"]] == [streets.pk]
    every = worker.get("/api/v1/follow-ups", {"due": "false"}).json()
    assert [f["id"] for f in every["items"]] == [later.pk, soon.pk, streets.pk]  # latest first
    assert worker.get("/api/v1/casework/inbox").json() == {
        "follow_ups": 1, "follow_ups_overdue": 0, "tasks": 0, "discovery": 0, "plans_due": 0,
    }  # fmt: skip

    today.advance(5)  # 2026-11-28: the first is a day overdue
    listed = worker.get("/api/v1/follow-ups").json()
    assert listed["items"][0]["overdue"] is True
    assert worker.get("/api/v1/casework/inbox").json()["follow_ups_overdue"] == 1

    # completing needs a result, and records a contact dated today
    r = post(worker, f"/api/v1/follow-ups/{soon.pk}/completion", {"result": ""})
    assert errors_of(r) == {"result": "casework.reason_required"}  # the field that was sent
    r = post(worker, f"/api/v1/follow-ups/{soon.pk}/completion", {"result": "电话联系，低保已受理"})
    assert r.status_code == 200, r.content
    done = r.json()
    assert done["result"] == "电话联系，低保已受理" and done["done_at"] is not None
    assert done["overdue"] is False
    contact = Contact.objects.get(follow_up=soon)
    assert (contact.contacted_on.isoformat(), contact.mode, contact.content) == (
        "2026-11-28", "phone", "电话联系，低保已受理",
    )  # fmt: skip
    assert contact.worker == cast.users["community_worker"]
    assert worker.get("/api/v1/follow-ups").json()["items"] == []
    assert worker.get("/api/v1/casework/inbox").json()["follow_ups"] == 0
    detail = worker.get(f"/api/v1/plans/{plan['id']}").json()
    assert [(c["follow_up"], c["mode"]) for c in detail["contacts"]] == [(soon.pk, "phone")]
    assert detail["version"] == 1

    # twice: refused, and no second contact
    r = post(worker, f"/api/v1/follow-ups/{soon.pk}/completion", {"result": "再次联系"})
    assert r.status_code == 409 and r.json()["code"] == "follow_up.already_done"
    assert Contact.objects.count() == 1
    # nor through a contact naming it
    r = post(worker, f"/api/v1/plans/{plan['id']}/contacts",
             {"contacted_on": "2026-11-28", "mode": "home_visit", "content": "入户走访",
              "follow_up": soon.pk})  # fmt: skip
    assert errors_of(r) == {"follow_up": "follow_up.already_done"}

    # a contact naming a pending follow-up completes it with the contact's content
    r = post(street, f"/api/v1/plans/{plan['id']}/contacts",
             {"contacted_on": "2026-11-27", "mode": "home_visit", "content": "街道入户复核，情况属实",
              "follow_up": streets.pk})  # fmt: skip
    assert r.status_code == 201, r.content
    streets.refresh_from_db()
    assert streets.done_at is not None and streets.result == "街道入户复核，情况属实"
    assert street.get("/api/v1/follow-ups").json()["items"] == []
    # an auditor reads the follow-ups of the jurisdiction but completes none
    auditor = api("auditor")
    assert auditor.get("/api/v1/follow-ups", {"due": "false"}).json()["count"] == 3
    r = post(auditor, f"/api/v1/follow-ups/{later.pk}/completion", {"result": "审计回访"})
    assert r.status_code == 403 and r.json()["code"] == "casework.role_forbidden"
    assert FollowUp.objects.get(pk=later.pk).done_at is None


def test_measures_needs_follow_ups_and_notes_on_an_open_plan(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    worker = api("community_worker")
    plan = open_plan(worker, cast.own)
    pid = plan["id"]
    # re-assessing a domain replaces its need; a new domain is added
    r = post(worker, f"/api/v1/plans/{pid}/needs",
             {"needs": [{"domain": "income", "severity": "low", "description": "已有临时收入"},
                        {"domain": "care", "description": "母亲需要照护"}]})  # fmt: skip
    assert r.status_code == 200, r.content
    assert [(n["domain"], n["severity"]) for n in r.json()["needs"]] == [
        ("income", "low"), ("employment", "medium"), ("care", "medium"),
    ]  # fmt: skip
    r = post(worker, f"/api/v1/plans/{pid}/measures",
             {"kind": "cash", "programme": "temporary_assistance", "description": "临时救助"})  # fmt: skip
    assert r.status_code == 201 and len(r.json()["measures"]) == 4
    assert r.json()["version"] == 2  # the assessment and the measure
    r = post(worker, f"/api/v1/plans/{pid}/measures", {"kind": "referral", "description": "转介"})
    assert errors_of(r) == {"measures.0.target": "casework.field_invalid"}

    cash = Measure.objects.filter(plan_id=pid).earliest("pk")
    r = post(worker, f"/api/v1/measures/{cash.pk}/status", {"status": "in_progress"})
    assert r.status_code == 200 and r.json()["measures"][0]["status"] == "in_progress"
    assert post(worker, f"/api/v1/measures/{cash.pk}/status", {"status": "done"}).status_code == 200
    r = post(worker, f"/api/v1/measures/{cash.pk}/status", {"status": "in_progress"})
    assert r.status_code == 409  # done is final
    r = post(worker, f"/api/v1/measures/{cash.pk}/status", {"status": "finished"})
    assert errors_of(r) == {"status": "casework.field_invalid"}

    version = Plan.objects.get(pk=pid).version
    r = post(worker, f"/api/v1/plans/{pid}/follow-ups",
             {"due_on": "2026-11-30", "purpose": "核实低保进度", "measure": cash.pk})  # fmt: skip
    assert r.status_code == 201 and r.json()["due_on"] == "2026-11-30"
    assert Plan.objects.get(pk=pid).version == version + 1
    assert FollowUp.objects.get(pk=r.json()["id"]).measure == cash
    other = open_plan(api("district_approver"), cast.other_street)
    foreign = Measure.objects.filter(plan_id=other["id"]).earliest("pk")
    r = post(worker, f"/api/v1/plans/{pid}/follow-ups",
             {"due_on": "2026-11-30", "purpose": "回访", "measure": foreign.pk})  # fmt: skip
    assert errors_of(r) == {"measure": "casework.field_invalid"}

    r = post(worker, f"/api/v1/households/{cast.own.pk}/notes", {"text": "户主来电询问低保进度"})
    assert r.status_code == 201 and r.json()["text"] == "户主来电询问低保进度"
    assert errors_of(post(worker, f"/api/v1/households/{cast.own.pk}/notes", {"text": " "})) == {
        "text": "casework.reason_required"
    }


# -- review and closure -------------------------------------------------------------------------------


def test_review_then_close_and_nothing_more(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    worker = api("community_worker")
    plan = open_plan(worker, cast.own, review_on="2026-11-25")
    pid = plan["id"]
    assert worker.get("/api/v1/casework/inbox").json()["plans_due"] == 1  # due in two days

    r = post(worker, f"/api/v1/plans/{pid}/review",
             {"review_on": "2027-05-23", "note": "低保已获批，就业仍有困难"})  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["review_on"] == "2027-05-23" and r.json()["version"] == 1
    assert Plan.objects.get(pk=pid).reviewed_at is not None
    (note,) = HouseholdNote.objects.filter(household=cast.own)
    assert note.text == "计划复查：低保已获批，就业仍有困难"
    assert note.division_path == cast.own.division.path
    assert worker.get("/api/v1/casework/inbox").json()["plans_due"] == 0

    done_before = FollowUp.objects.filter(plan_id=pid).earliest("pk")
    post(worker, f"/api/v1/follow-ups/{done_before.pk}/completion", {"result": "已回访"})
    r = post(worker, f"/api/v1/plans/{pid}/closure",
             {"outcome": "improved", "note": "低保已获批，生活基本稳定"})  # fmt: skip
    assert r.status_code == 200, r.content
    closed = r.json()
    assert (closed["status"], closed["outcome"], closed["outcome_label"]) == (
        "closed", "improved", "困难缓解",
    )  # fmt: skip
    assert closed["closed_at"] is not None and closed["outcome_note"] == "低保已获批，生活基本稳定"
    # the pending follow-up was closed with the plan; the one done keeps its result
    results = dict(FollowUp.objects.filter(plan_id=pid).values_list("pk", "result"))
    assert results.pop(done_before.pk) == "已回访"
    assert list(results.values()) == ["计划结案，未再回访"]
    assert not FollowUp.objects.filter(plan_id=pid, done_at__isnull=True).exists()
    assert set(Measure.objects.filter(plan_id=pid).values_list("status", flat=True)) == {
        "cancelled"
    }
    assert worker.get("/api/v1/follow-ups").json()["items"] == []

    measure = Measure.objects.filter(plan_id=pid).earliest("pk")
    before = (rows(), Plan.objects.get(pk=pid).version)
    writes: list[tuple[str, dict[str, Any]]] = [
        (f"/api/v1/plans/{pid}/needs", {"needs": [{"domain": "care", "description": "需要照护"}]}),
        (f"/api/v1/plans/{pid}/measures", {"kind": "service", "description": "上门服务"}),
        (f"/api/v1/plans/{pid}/follow-ups", {"due_on": "2026-12-01", "purpose": "回访"}),
        (f"/api/v1/plans/{pid}/contacts",
         {"contacted_on": "2026-11-23", "mode": "phone", "content": "电话回访"}),
        (f"/api/v1/plans/{pid}/review", {"review_on": "2027-01-01", "note": "再次复查"}),
        (f"/api/v1/plans/{pid}/closure", {"outcome": "other", "note": "重复结案"}),
        (f"/api/v1/measures/{measure.pk}/status", {"status": "done"}),
    ]  # fmt: skip
    for path, body in writes:
        r = post(worker, path, body)
        assert (r.status_code, r.json()["code"]) == (409, "plan.closed"), path
    assert (rows(), Plan.objects.get(pk=pid).version) == before
    # the household may have a new plan now
    assert open_plan(worker, cast.own)["status"] == "open"
    listed = worker.get("/api/v1/plans", {"household": cast.own.pk}).json()
    assert [p["status"] for p in listed["items"]] == ["open", "closed"]
    assert worker.get("/api/v1/plans", {"status": "closed"}).json()["count"] == 1
    r = worker.get("/api/v1/plans", {"status": "ended"})
    assert r.status_code == 422 and r.json()["code"] == "casework.field_invalid"


# -- roles and scope ------------------------------------------------------------------------------------


@pytest.fixture
def dongcheng(cast: Cast, today: Clock) -> Plan:
    """An open plan of the Dongcheng household, opened by a Dongcheng district approver,
    with a measure and a follow-up due tomorrow."""
    approver = user_create(username="u_dc_approver", role=Role.DISTRICT_APPROVER,
                           division_code=DONGCHENG, password="pw-123456")  # fmt: skip
    return services.plan_open(
        actor=approver, household_id=cast.other_district.pk, summary="东城区的帮扶计划",
        review_on="2026-11-24", needs=[{"domain": "health", "description": "慢性病"}],
        measures=[{"kind": "service", "description": "家庭医生签约"}],
        follow_ups=[{"due_on": "2026-11-24", "purpose": "东城回访"}],
    )  # fmt: skip


def _own_plan(cast: Cast) -> Plan:
    worker: User = cast.users["community_worker"]
    return services.plan_open(
        actor=worker, household_id=cast.own.pk, summary="社区A的帮扶计划", review_on="2026-11-24",
        needs=[{"domain": "income", "description": "无收入"}],
        measures=[{"kind": "service", "description": "就业指导"}],
        follow_ups=[{"due_on": "2026-11-24", "purpose": "社区回访"}],
    )  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_reads_follow_the_jurisdiction(
    cast: Cast, dongcheng: Plan, role: str, today: Clock
) -> None:
    own = _own_plan(cast)
    street_b = services.plan_open(
        actor=cast.users["district_approver"], household_id=cast.other_street.pk,
        summary="社区B的帮扶计划", review_on="2026-12-01",
        needs=[{"domain": "housing", "description": "危房"}],
    )  # fmt: skip
    client = cast.api(role)
    reader = role in READERS
    sees_street_b = role in READERS - {"community_worker", "street_reviewer"}

    r = client.get(f"/api/v1/plans/{own.pk}")
    assert r.status_code == (200 if reader else 404)
    if not reader:
        assert r.json()["code"] == "plan.not_found"
    assert client.get(f"/api/v1/plans/{street_b.pk}").status_code == (200 if sees_street_b else 404)
    out = client.get(f"/api/v1/plans/{dongcheng.pk}")
    missing = client.get("/api/v1/plans/999999")
    assert (out.status_code, out.json()) == (missing.status_code, missing.json())
    assert out.status_code == 404

    listed = {p["id"] for p in client.get("/api/v1/plans", {"page_size": 200}).json()["items"]}
    expected = {own.pk} if reader else set()
    assert listed == expected | ({street_b.pk} if sees_street_b else set())
    follow = {f["plan"] for f in client.get("/api/v1/follow-ups", {"due": "false"}).json()["items"]}
    assert follow == ({own.pk} if reader else set())
    assert dongcheng.pk not in follow
    inbox = client.get("/api/v1/casework/inbox")
    assert inbox.status_code == 200
    mine = role == "community_worker"  # the follow-up and the review are the worker's
    assert inbox.json()["follow_ups"] == inbox.json()["plans_due"] == (1 if mine else 0)


@pytest.mark.parametrize("role", ROLES)
def test_writes_follow_role_and_jurisdiction(
    cast: Cast, dongcheng: Plan, role: str, today: Clock
) -> None:
    """In scope: writers write, readers who do no casework are refused (403), the rest do
    not see the plan (404). Out of scope: every write answers like a missing record."""
    own = _own_plan(cast)
    client = cast.api(role)
    reader, writer = role in READERS, role in WRITERS

    def calls(plan_id: int, household_id: int, measure_id: int, follow_up_id: int) -> list[Any]:
        base = f"/api/v1/plans/{plan_id}"
        return [
            post(client, "/api/v1/plans", plan_body(Household(pk=household_id))),
            post(client, f"{base}/needs", {"needs": [{"domain": "care", "description": "需要照护"}]}),
            post(client, f"{base}/measures", {"kind": "service", "description": "上门服务"}),
            post(client, f"/api/v1/measures/{measure_id}/status", {"status": "in_progress"}),
            post(client, f"{base}/follow-ups", {"due_on": "2026-12-01", "purpose": "回访"}),
            post(client, f"{base}/contacts",
                 {"contacted_on": "2026-11-23", "mode": "phone", "content": "电话回访"}),
            post(client, f"/api/v1/follow-ups/{follow_up_id}/completion", {"result": "已回访"}),
            post(client, f"{base}/review", {"review_on": "2027-01-01", "note": "复查"}),
            post(client, f"/api/v1/households/{household_id}/notes", {"text": "工作记录"}),
            post(client, f"{base}/closure", {"outcome": "stable", "note": "转常规管理"}),
        ]  # fmt: skip

    def ids(plan: Plan) -> tuple[int, int, int, int]:
        return (plan.pk, plan.household_id, plan.measures.get().pk, plan.follow_ups.get().pk)

    untouched = (rows(), Plan.objects.get(pk=dongcheng.pk).version)
    answers = [(r.status_code, r.json()) for r in calls(*ids(dongcheng))]
    assert {status for status, _ in answers} == {404}, answers
    assert answers == [(r.status_code, r.json()) for r in calls(10**8, 10**8, 10**8, 10**8)]
    assert (rows(), Plan.objects.get(pk=dongcheng.pk).version) == untouched

    # in scope; the household already has an open plan, so opening one is 409 for a writer
    statuses = [r.status_code for r in calls(*ids(own))]
    if writer:
        assert statuses == [409, 200, 201, 200, 201, 201, 200, 200, 201, 200]
        assert Plan.objects.get(pk=own.pk).status == "closed"
    else:
        seen_plan = 403 if reader else 404
        seen_household = 403 if role in HOUSEHOLD_VIEWERS else 404
        assert statuses == [seen_household, *[seen_plan] * 7, seen_household, seen_plan]
        assert (rows(), Plan.objects.get(pk=own.pk).version) == untouched
