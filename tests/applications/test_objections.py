"""The public notice (公示) of a dibao case and the objections raised against it.

With the fake clock on Monday 2026-11-23 a notice posted today runs seven calendar
days, 11-23 … 11-29; it may be closed from 11-30, but never while an objection is
open.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from minzheng.applications.models import ApplicationLine, Objection
from minzheng.registry.documents import validate_document
from minzheng.registry.models import Household, Person
from minzheng.registry.services import households_create
from tests.applications.conftest import Clock, post
from tests.applications.test_workflow_api import VISIT, act, apply
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, Cast, member

NAME = "诸葛明亮"
OBJECTION = {"programme": "dibao", "content": "该户子女每月给付赡养费两千元，未如实申报"}
RESOLUTION = {"upheld": False, "resolution": "经入户核实，子女无固定收入，未给付赡养费，异议不成立"}


def household(name: str, stem17: str, division: str = COMMUNITY_A) -> Household:
    """A one-person pensioner household (800 yuan a month) with the given name."""
    doc = validate_document(
        {
            "division": division,
            "hukou": "beijing",
            "members": [member(stem17, name, incomes=[{"type": "pension", "monthly": "800.00"}])],
            "assets": {"houses": 1},
        }
    )
    (created,) = households_create(actor=None, documents=[doc], reason="测试数据")
    return created


@pytest.fixture
def zhuge(cast: Cast) -> Household:
    return household(NAME, "11010219500101456")


def to_notice(api: Callable[[str], Client], target: Household) -> int:
    """Walk a dibao case through acceptance, visit and verification to its notice."""
    aid = int(apply(api, target, "dibao")["id"])
    worker = api("community_worker")
    for action, extra in [("accept", {}), ("record_visit", {"visit": VISIT}), ("verify", {}),
                          ("publish_notice", {})]:  # fmt: skip
        r = act(worker, aid, action, **extra)
        assert r.status_code == 200, (action, r.content)
    return aid


def notice(community: str = COMMUNITY_A) -> Any:
    """The notice as the public reads it: no token."""
    return Client().get(f"/api/v1/notices/{community}")


def lodge(client: Client, aid: int, body: dict[str, Any] | None = None) -> Any:
    return post(client, f"/api/v1/applications/{aid}/objections", body or OBJECTION)


def resolve(client: Client, oid: int, body: dict[str, Any] | None = None) -> Any:
    return post(client, f"/api/v1/applications/objections/{oid}/resolution", body or RESOLUTION)


def line_state(aid: int) -> str:
    return ApplicationLine.objects.get(application_id=aid, programme="dibao").state


def test_public_notice_shows_the_case_with_masked_name_and_id(
    api: Callable[[str], Client], zhuge: Household, today: Clock
) -> None:
    person = Person.objects.get(household=zhuge)
    aid = int(apply(api, zhuge, "dibao")["id"])
    worker = api("community_worker")
    for action, extra in [("accept", {}), ("record_visit", {"visit": VISIT}), ("verify", {})]:
        act(worker, aid, action, **extra)
    assert notice().json()["rows"] == []  # not yet posted

    body = act(worker, aid, "publish_notice").json()
    (line,) = body["lines"]
    r = notice()
    assert r.status_code == 200
    (row,) = r.json()["rows"]
    assert row["line"] == line["id"]
    assert row["name_masked"] == "诸***"
    assert row["id_masked"] == person.id_number_masked
    assert row["id_masked"].count("*") >= 8
    assert row["id_masked"][:6] == person.id_number[:6]
    assert row["programme"] == "最低生活保障"
    assert row["amount"] == line["proposed_amount"] and row["unit"] == "元/月"
    assert (row["period_start"], row["period_end"]) == ("2026-11-23", "2026-11-29")
    assert row["members"] == 1
    # neither the full name nor the full ID number is anywhere in what the public gets
    text = r.content.decode()
    decoded = json.dumps(r.json(), ensure_ascii=False)
    for secret in (NAME, NAME[1:], person.id_number, person.id_number[6:14]):
        assert secret not in text and secret not in decoded, secret
    # the notice of community A is not the notice of community B
    assert notice(COMMUNITY_B).json()["rows"] == []

    today.advance(6)  # 11-29: last day
    assert [x["line"] for x in notice().json()["rows"]] == [line["id"]]
    today.advance(1)  # 11-30: over, even though nobody closed it yet
    assert notice().json()["rows"] == []
    assert line_state(aid) == "public_notice"


def test_name_masking_keeps_the_family_name_only(
    api: Callable[[str], Client], cast: Cast, today: Clock
) -> None:
    cases = {
        "王芳": household("王芳", "11010219500101512"),
        "李": household("李", "11010219500101520"),
        "欧阳小明": household("欧阳小明", "11010219500101539"),
    }
    for target in cases.values():
        to_notice(api, target)
    rows = notice().json()["rows"]
    assert sorted(r["name_masked"] for r in rows) == sorted(["王*", "李*", "欧***"])
    text = json.dumps(rows, ensure_ascii=False)
    assert "王芳" not in text and "小明" not in text


def test_open_objection_blocks_close_notice_until_a_worker_resolves_it(
    api: Callable[[str], Client], zhuge: Household, today: Clock
) -> None:
    aid = to_notice(api, zhuge)
    worker = api("community_worker")
    today.advance(3)  # 11-26, inside the notice
    r = lodge(worker, aid)
    assert r.status_code == 201, r.content
    oid = r.json()["id"]
    assert r.json()["resolved"] is False

    today.advance(4)  # 11-30: the notice has run out
    r = act(worker, aid, "close_notice")
    assert r.status_code == 409, r.content
    assert r.json()["code"] == "workflow.objection_unresolved"
    assert r.json()["details"]["open"] == 1
    assert line_state(aid) == "public_notice"

    # only the community worker resolves objections
    for role in ("street_reviewer", "district_approver", "auditor", "admin", "department_liaison"):
        r = resolve(api(role), oid)
        assert r.status_code == 403, (role, r.content)
        assert r.json()["code"] == "workflow.role_forbidden"
    # the resident of another household does not even see the case
    r = resolve(api("resident"), oid)
    assert (r.status_code, r.json()["code"]) == (404, "application.not_found")
    assert Objection.objects.get(pk=oid).resolved_at is None
    assert act(worker, aid, "close_notice").status_code == 409

    r = resolve(worker, oid)
    assert r.status_code == 200, r.content
    assert r.json() == {"id": oid, "resolved": True, "upheld": False,
                        "resolution": RESOLUTION["resolution"]}  # fmt: skip
    case = worker.get(f"/api/v1/applications/{aid}").json()
    assert [(o["id"], o["resolved"], o["upheld"]) for o in case["objections"]] == [
        (oid, True, False)
    ]

    r = act(worker, aid, "close_notice")
    assert r.status_code == 200, r.content
    assert r.json()["lines"][0]["state"] == "street_review"


def test_every_objection_must_be_resolved(
    api: Callable[[str], Client], zhuge: Household, today: Clock
) -> None:
    aid = to_notice(api, zhuge)
    worker = api("community_worker")
    first = lodge(worker, aid).json()["id"]
    second = lodge(api("street_reviewer"), aid,
                   {"programme": "dibao", "content": "该户另有一套出租房屋"}).json()["id"]  # fmt: skip
    today.advance(7)
    assert resolve(worker, first).status_code == 200
    r = act(worker, aid, "close_notice")
    assert (r.status_code, r.json()["code"]) == (409, "workflow.objection_unresolved")
    assert r.json()["details"]["open"] == 1
    assert (
        resolve(worker, second, {"upheld": True, "resolution": "属实，已核减收入"}).status_code
        == 200
    )
    assert act(worker, aid, "close_notice").status_code == 200


def test_resolving_twice_is_409_and_keeps_the_first_outcome(
    api: Callable[[str], Client], zhuge: Household, today: Clock
) -> None:
    aid = to_notice(api, zhuge)
    worker = api("community_worker")
    oid = lodge(worker, aid).json()["id"]
    assert resolve(worker, oid).status_code == 200
    r = resolve(worker, oid, {"upheld": True, "resolution": "改为异议成立"})
    assert r.status_code == 409, r.content
    assert r.json()["code"] == "objection.already_resolved"
    objection = Objection.objects.get(pk=oid)
    assert objection.upheld is False and objection.resolution == RESOLUTION["resolution"]


def test_objections_outside_the_notice_period_are_404(
    api: Callable[[str], Client], zhuge: Household, today: Clock
) -> None:
    aid = int(apply(api, zhuge, "dibao")["id"])
    worker = api("community_worker")
    act(worker, aid, "accept")

    def refused() -> None:
        r = lodge(worker, aid)
        assert r.status_code == 404, r.content
        assert r.json()["code"] == "objection.not_in_notice"

    refused()  # in investigation: nothing has been posted
    act(worker, aid, "record_visit", visit=VISIT)
    act(worker, aid, "verify")
    act(worker, aid, "publish_notice")
    today.advance(6)  # 11-29, the last day: still accepted
    assert lodge(worker, aid).status_code == 201
    today.advance(1)  # 11-30: the notice is over, though the line is still in it
    assert line_state(aid) == "public_notice"
    refused()
    oid = Objection.objects.get().pk
    resolve(worker, oid)
    act(worker, aid, "close_notice")
    refused()  # in street review
    assert Objection.objects.count() == 1


def test_objection_needs_content_and_a_programme_of_the_case(
    api: Callable[[str], Client], zhuge: Household, today: Clock
) -> None:
    aid = to_notice(api, zhuge)
    worker = api("community_worker")
    r = lodge(worker, aid, {"programme": "dibao", "content": "不同意"})
    assert (r.status_code, r.json()["code"]) == (422, "objection.content")
    r = lodge(worker, aid, {"programme": "age_allowance", "content": OBJECTION["content"]})
    assert r.status_code == 404
    r = lodge(worker, aid, {**OBJECTION, "anonymous": True})
    assert (r.status_code, r.json()["code"]) == (422, "validation.failed")
    assert Objection.objects.count() == 0
