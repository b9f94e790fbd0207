"""Life events: the scan reads the registry's history since it last ran, raises a task for
households the office works with, and brings their entitlements' review forward.

History rows carry the real time of the change while the workflow's clock (``today``)
stands at 2026-11-23, so an event's day is read from the history row itself, as a date in
the project's time zone (Asia/Shanghai).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from minzheng.accounts.roles import Role
from minzheng.benefits.models import Entitlement, EntitlementEvent
from minzheng.casework import events
from minzheng.casework.models import Task
from minzheng.registry.models import Household, Income, Person
from tests.applications.conftest import Clock, post
from tests.benefits.conftest import entitle
from tests.fixtures import COMMUNITY_A, Cast, household_doc, member, pensioner

ROLES = [str(r) for r in Role]
READERS = {"community_worker", "street_reviewer", "district_approver", "auditor", "admin"}
WRITERS = {"community_worker", "street_reviewer", "district_approver"}
FAR = date(2027, 6, 1)  # a scheduled review well after any event of these tests


def recipient(household: Household, amount: str) -> Entitlement:
    """A live dibao entitlement whose next scheduled review is far ahead."""
    ent = entitle(household, amount, date(2026, 1, 1))
    Entitlement.objects.filter(pk=ent.pk).update(next_review_on=FAR)
    ent.refresh_from_db()
    return ent


def couple(api: Callable[[str], Client]) -> Household:
    doc = household_doc(COMMUNITY_A, [member("11010219600101111", "王大"),
                                      member("11010219620202222", "李二", "spouse")])  # fmt: skip
    r = post(api("community_worker"), "/api/v1/households", doc)
    assert r.status_code == 201, r.content
    return Household.objects.get(pk=r.json()["household_id"])


def patch(client: Client, household: Household, **body: Any) -> None:
    r = client.patch(f"/api/v1/households/{household.pk}",
                     data=json.dumps({"reason": "据证明材料更新登记", **body}),
                     content_type="application/json")  # fmt: skip
    assert r.status_code == 200, r.content


def day_of_last_change(person: Person) -> tuple[date, int]:
    """The local date and id of the person's latest history row."""
    row = Person.history.filter(id=person.pk).latest("history_id")
    return timezone.localdate(row.history_date), row.history_id


def open_plan(client: Client, household: Household) -> dict[str, Any]:
    body = {"household": household.pk, "summary": "重点关注家庭", "review_on": "2027-01-23",
            "needs": [{"domain": "income", "description": "收入低"}]}  # fmt: skip
    r = post(client, "/api/v1/plans", body)
    assert r.status_code == 201, r.content
    return dict(r.json())


def test_the_first_scan_only_records_where_the_registry_stands(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    family = couple(api)
    recipient(family, "1450.00")
    spouse = family.members.get(relation="spouse")
    # a death recorded before the office ever scanned: history, not news
    patch(api("community_worker"), family, members=[{"person_id": spouse.pk, "leave": "deceased"}])
    first = events.life_events_scan()
    assert first.baseline is True and (first.events, first.tasks) == (0, 0)
    second = events.life_events_scan()
    assert second.baseline is False and (second.events, second.tasks, second.reviews) == (0, 0, 0)
    assert not Task.objects.exists()
    assert Entitlement.objects.get(household=family).next_review_on == FAR


def test_a_death_raises_a_task_and_brings_the_review_forward(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    worker = api("community_worker")
    family = couple(api)
    ent = recipient(family, "1450.00")
    plan = open_plan(api("street_reviewer"), family)  # the street reviewer answers for it
    assert events.life_events_scan().baseline

    spouse = family.members.get(relation="spouse")
    patch(worker, family, members=[{"person_id": spouse.pk, "leave": "deceased"}])
    day, history_id = day_of_last_change(spouse)
    report = events.life_events_scan()
    assert (report.events, report.tasks, report.reviews) == (1, 1, 1)
    assert report.by_kind == {"death": 1}

    task = Task.objects.get()
    assert (task.household_id, task.person_id, task.kind) == (family.pk, spouse.pk, "death")
    assert task.event_on == day  # the day of the change, in Beijing
    assert task.description == "成员 李二 去世"
    assert task.source == f"person:{history_id}"
    assert task.division_path == family.division.path
    assert task.assigned_to_id == plan["responsible"]["id"] == cast.users["street_reviewer"].pk
    assert (task.reviews_triggered, task.status) == (1, "open")

    ent.refresh_from_db()
    assert ent.next_review_on == day
    event = EntitlementEvent.objects.get(entitlement=ent, kind="review")
    assert event.data == {"task": task.pk, "next_review_on_was": FAR.isoformat()}
    assert event.reason == "生活事件：成员 李二 去世，提前复核"

    # the entitlement is due for review from the day of the death
    today.day = day
    due = worker.get("/api/v1/reviews", {"due": "true"}).json()
    assert [row["entitlement"] for row in due["items"]] == [ent.pk]
    assert due["items"][0]["next_review_on"] == day.isoformat()

    # the task is the street reviewer's (the plan's responsible), not the worker's
    assert [
        t["id"] for t in api("street_reviewer").get("/api/v1/casework/tasks").json()["items"]
    ] == [task.pk]
    assert worker.get("/api/v1/casework/tasks").json()["items"] == []
    every = worker.get("/api/v1/casework/tasks", {"open": "false"}).json()["items"]
    assert [(t["id"], t["kind"], t["assigned_to"]["id"]) for t in every] == [
        (task.pk, "death", cast.users["street_reviewer"].pk)
    ]
    assert api("street_reviewer").get("/api/v1/casework/inbox").json()["tasks"] == 1

    # scanning again raises nothing, and brings nothing forward twice
    again = events.life_events_scan()
    assert (again.events, again.tasks, again.reviews) == (0, 0, 0)
    assert Task.objects.count() == 1
    assert EntitlementEvent.objects.filter(entitlement=ent, kind="review").count() == 1


def test_a_new_income_and_a_new_disability_grade_raise_tasks(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    worker = api("community_worker")
    elder = pensioner("800.00", "11010219500101123")
    ent = recipient(elder, "1012.50")
    person = elder.members.get()
    assert events.life_events_scan().baseline

    # a wage beside the pension: the month's incomes are replaced by the two given
    patch(worker, elder, members=[{"person_id": person.pk, "incomes": [
        {"type": "pension", "monthly": "800.00"}, {"type": "wage", "monthly": "300.00"}]}])  # fmt: skip
    report = events.life_events_scan()
    assert (report.tasks, report.reviews, report.by_kind) == (1, 1, {"income": 1})
    income = Task.objects.get(kind="income")
    assert income.person_id is None and income.assigned_to_id is None  # no plan: nobody's yet
    assert income.description.startswith("新增收入登记 2 条")
    assert "300.00" in income.description
    day = income.event_on
    assert day == timezone.localdate(Income.history.latest("history_id").history_date)
    assert income.source == f"income:{elder.pk}:{day.isoformat()}"
    ent.refresh_from_db()
    assert ent.next_review_on == day

    # a disability grade: another task; the review is already due that day
    patch(worker, elder, members=[{"person_id": person.pk,
                                   "disability": {"kind": "physical", "grade": 2}}])  # fmt: skip
    report = events.life_events_scan()
    assert (report.tasks, report.reviews, report.by_kind) == (1, 0, {"disability": 1})
    grade = Task.objects.get(kind="disability")
    assert (grade.person_id, grade.reviews_triggered) == (person.pk, 0)
    assert grade.description == "成员 老人 残疾等级登记为 2 级"
    assert grade.event_on == day_of_last_change(person)[0]

    # a change that is no life event (a phone number), and the same grade again: nothing
    patch(worker, elder, members=[{"person_id": person.pk, "phone": "13800000000",
                                   "disability": {"kind": "physical", "grade": 2}}])  # fmt: skip
    assert events.life_events_scan().tasks == 0
    # a different grade is news again
    patch(worker, elder, members=[{"person_id": person.pk,
                                   "disability": {"kind": "physical", "grade": 1}}])  # fmt: skip
    assert events.life_events_scan().by_kind == {"disability": 1}
    assert Task.objects.count() == 3
    # unassigned tasks of the jurisdiction are in every caseworker's list there
    listed = {t["id"] for t in worker.get("/api/v1/casework/tasks").json()["items"]}
    assert listed == set(Task.objects.values_list("pk", flat=True))
    assert worker.get("/api/v1/casework/inbox").json()["tasks"] == 3


def test_an_age_band_reached_between_two_scans(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    nonagenarian = pensioner("800.00", "11010219361125123")  # 90 on 2026-11-25
    ent = recipient(nonagenarian, "1012.50")
    stranger = pensioner("800.00", "11010219461124234")  # 80 on 2026-11-24, unknown here
    assert events.life_events_scan().baseline  # 2026-11-23
    assert events.life_events_scan().events == 0  # the same day again: no birthday read

    today.advance(3)  # 2026-11-26: both birthdays lie between the two scans
    report = events.life_events_scan()
    assert (report.events, report.tasks, report.by_kind) == (2, 1, {"age_band": 1})
    task = Task.objects.get()
    person = nonagenarian.members.get()
    assert (task.kind, task.person_id, task.event_on) == ("age_band", person.pk, date(2026, 11, 25))
    assert task.source == f"age:{person.pk}:90"
    assert task.description == "成员 老人 年满 90 周岁"
    ent.refresh_from_db()
    assert (ent.next_review_on, task.reviews_triggered) == (date(2026, 11, 25), 1)
    assert not Task.objects.filter(household=stranger).exists()

    today.advance(1)
    assert events.life_events_scan().events == 0  # those birthdays are behind the cursor
    assert Task.objects.count() == 1


def test_a_household_unknown_to_the_office_raises_nothing(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    """No live entitlement, open plan or open application: proactive discovery covers it."""
    district = api("district_approver")
    person = cast.other_street.members.get()
    assert events.life_events_scan().baseline
    patch(district, cast.other_street, members=[{"person_id": person.pk,
          "incomes": [{"type": "wage", "monthly": "3000.00"}],
          "disability": {"kind": "visual", "grade": 3}}])  # fmt: skip
    report = events.life_events_scan()
    assert (report.events, report.tasks, report.reviews) == (2, 0, 0)
    assert not Task.objects.exists()
    # once the office opens a plan, the next change is news
    open_plan(district, cast.other_street)
    patch(district, cast.other_street, members=[{"person_id": person.pk,
          "disability": {"kind": "visual", "grade": 2}}])  # fmt: skip
    report = events.life_events_scan()
    assert (report.tasks, report.reviews) == (1, 0)
    assert Task.objects.get().assigned_to == cast.users["district_approver"]


# -- completing a task, roles and scope ----------------------------------------------------------------


def task_for(household: Household, source: str) -> Task:
    return Task.objects.create(
        household=household, division_path=household.division.path, kind="income",
        event_on=date(2026, 11, 20), description="新增收入登记 1 条（月收入 3000.00 元）",
        source=source,
    )  # fmt: skip


def test_completing_a_task_needs_a_result_and_happens_once(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    task = task_for(cast.own, "t:own")
    worker = api("community_worker")
    r = post(worker, f"/api/v1/casework/tasks/{task.pk}/completion", {})
    assert r.status_code == 422 and r.json()["details"]["errors"][0]["field"] == "result"
    r = post(worker, f"/api/v1/casework/tasks/{task.pk}/completion", {"result": " "})
    assert r.status_code == 422
    assert r.json()["details"]["errors"] == [
        {
            "field": "result",
            "code": "casework.reason_required",
            "message": "请填写处理结果（至少两个字）",
        }
    ]
    task.refresh_from_db()
    assert (task.status, task.result, task.done_at) == ("open", "", None)

    r = post(worker, f"/api/v1/casework/tasks/{task.pk}/completion",
             {"result": "已入户核实，工资属实，已发起复核"})  # fmt: skip
    assert r.status_code == 200, r.content
    out = r.json()
    assert (out["status"], out["result"]) == ("done", "已入户核实，工资属实，已发起复核")
    task.refresh_from_db()
    assert task.done_by == cast.users["community_worker"] and task.done_at is not None
    assert worker.get("/api/v1/casework/tasks").json()["items"] == []
    done = worker.get("/api/v1/casework/tasks", {"open": "false"}).json()["items"]
    assert [(t["id"], t["status"]) for t in done] == [(task.pk, "done")]

    r = post(worker, f"/api/v1/casework/tasks/{task.pk}/completion", {"result": "再次处理"})
    assert (r.status_code, r.json()["code"]) == (409, "task.already_done")
    task.refresh_from_db()
    assert task.result == "已入户核实，工资属实，已发起复核"


@pytest.mark.parametrize("role", ROLES)
def test_tasks_follow_role_and_jurisdiction(cast: Cast, role: str, today: Clock) -> None:
    own, street_b = task_for(cast.own, "t:own"), task_for(cast.other_street, "t:b")
    far = task_for(cast.other_district, "t:far")
    client = cast.api(role)
    reader, writer = role in READERS, role in WRITERS
    sees_street_b = reader and role not in {"community_worker", "street_reviewer"}

    for query in ({}, {"open": "false"}):
        ids = {t["id"] for t in client.get("/api/v1/casework/tasks", query).json()["items"]}
        assert ids == ({own.pk} if reader else set()) | ({street_b.pk} if sees_street_b else set())
    assert client.get("/api/v1/casework/inbox").json()["tasks"] == (
        1 + sees_street_b if reader else 0
    )

    body = {"result": "已核实"}
    outside = post(client, f"/api/v1/casework/tasks/{far.pk}/completion", body)
    missing = post(client, "/api/v1/casework/tasks/999999/completion", body)
    assert outside.status_code == 404
    assert (outside.status_code, outside.json()) == (missing.status_code, missing.json())
    far.refresh_from_db()
    assert far.status == "open"

    r = post(client, f"/api/v1/casework/tasks/{own.pk}/completion", body)
    if writer:
        assert r.status_code == 200 and r.json()["status"] == "done"
    else:
        assert r.status_code == (403 if reader else 404)
        assert r.json()["code"] == ("casework.role_forbidden" if reader else "task.not_found")
        own.refresh_from_db()
        assert own.status == "open"
