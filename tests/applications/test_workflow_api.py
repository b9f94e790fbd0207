"""The whole path of a dibao application through the API, and every refusal on the way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from minzheng.applications.models import ApplicationLine, Transition
from minzheng.registry.models import Household
from tests.applications.conftest import Clock, post
from tests.fixtures import Cast

VISIT = {"visitors": "王社工、李社工", "findings": "独居，住房简陋，无其他收入来源",
         "living_conditions": "自有住房一套"}  # fmt: skip


def apply(api: Callable[[str], Client], household: Household, *programmes: str,
          suggested: bool = False) -> dict[str, Any]:  # fmt: skip
    r = post(api("community_worker"), "/api/v1/applications",
             {"household": household.pk, "programmes": list(programmes),
              "include_suggested": suggested})  # fmt: skip
    assert r.status_code == 201, r.content
    return dict(r.json())


def act(client: Client, app_id: int, action: str, **extra: Any) -> Any:
    return post(client, f"/api/v1/applications/{app_id}/transitions",
                {"action": action, "reason": extra.pop("reason", "经办"), **extra})  # fmt: skip


def test_dibao_from_application_to_decision(
    api: Callable[[str], Client], poor: Household, today: Clock
) -> None:
    app = apply(api, poor, "dibao")
    (line,) = app["lines"]
    assert line["state"] == "submitted" and line["waiting_role"] == "community_worker"
    # 1,450.00 standard − 800.00 pension = 650.00, plus the add-on for a member aged 60+
    # (25 % of the standard = 362.50): 1,012.50 a month
    assert line["estimated_amount"] == "1012.50"
    assert line["step_due"] == "2026-11-26"  # acceptance: 3 working days
    worker, street, district = (
        api("community_worker"),
        api("street_reviewer"),
        api("district_approver"),
    )
    aid = app["id"]

    assert act(worker, aid, "accept").json()["lines"][0]["state"] == "investigation"
    r = act(worker, aid, "record_visit")
    assert r.status_code == 422 and r.json()["code"] == "workflow.visit_required"
    assert (
        act(worker, aid, "record_visit", visit=VISIT).json()["lines"][0]["state"] == "verification"
    )
    body = act(worker, aid, "verify").json()
    assert body["lines"][0]["proposed_amount"] == "1012.50"
    body = act(worker, aid, "publish_notice").json()
    assert body["lines"][0]["notice_starts_on"] == "2026-11-23"
    assert body["lines"][0]["notice_ends_on"] == "2026-11-29"

    # the district cannot approve while the notice runs, nor can the street review
    r = act(district, aid, "approve")
    assert r.status_code == 409 and r.json()["code"] == "workflow.illegal_transition"
    assert "公示" in r.json()["message"]
    assert act(street, aid, "review").status_code == 409
    r = act(worker, aid, "close_notice")
    assert r.status_code == 409 and r.json()["code"] == "workflow.notice_running"

    today.advance(7)  # 2026-11-30: the notice has run its seven days
    assert act(worker, aid, "close_notice").json()["lines"][0]["state"] == "street_review"
    # wrong role: a community worker cannot review for the street
    r = act(worker, aid, "review")
    assert r.status_code == 403 and r.json()["code"] == "workflow.role_forbidden"
    assert act(street, aid, "review").json()["lines"][0]["state"] == "district_approval"
    body = act(district, aid, "approve", reason="符合低保条件", start_month="2026-12").json()
    (line,) = body["lines"]
    assert line["state"] == "approved" and line["amount"] == "1012.50"
    assert line["start_month"] == "2026-12" and line["waiting_role"] is None

    actions = [t["action"] for t in body["transitions"]]
    assert actions == ["submit", "accept", "record_visit", "verify", "publish_notice",
                       "close_notice", "review", "approve"]  # fmt: skip
    assert Transition.objects.filter(line__application_id=aid).count() == 8
    # decided: nothing more can happen
    r = act(worker, aid, "withdraw")
    assert r.status_code == 409


def test_refusals_change_nothing(
    api: Callable[[str], Client], poor: Household, today: Clock
) -> None:
    app = apply(api, poor, "dibao")
    aid = app["id"]
    worker = api("community_worker")
    before = list(ApplicationLine.objects.values_list("state", "version"))
    cases = [
        ({"action": "fly", "reason": "x理由"}, 422, "workflow.action_unknown"),
        ({"action": "accept", "reason": ""}, 422, "workflow.reason_required"),
        (
            {"action": "accept", "reason": "理由", "programmes": ["age_allowance"]},
            422,
            "workflow.programme_not_in_application",
        ),
        ({"action": "approve", "reason": "理由"}, 409, "workflow.illegal_transition"),
        ({"action": "accept", "reason": "理由", "version": 7}, 409, "workflow.stale"),
        ({"action": "accept", "reason": "理由", "color": "red"}, 422, "validation.failed"),
    ]
    for body, status, code in cases:
        r = post(worker, f"/api/v1/applications/{aid}/transitions", body)
        assert (r.status_code, r.json()["code"]) == (status, code), body
    assert list(ApplicationLine.objects.values_list("state", "version")) == before
    # out of jurisdiction: the other street's reviewer does not see it at all
    r = act(api("auditor"), aid, "accept")
    assert r.status_code == 403


def test_duplicate_application_is_409(api: Callable[[str], Client], poor: Household) -> None:
    apply(api, poor, "dibao")
    r = post(api("community_worker"), "/api/v1/applications",
             {"household": poor.pk, "programmes": ["dibao"]})  # fmt: skip
    assert r.status_code == 409 and r.json()["code"] == "application.duplicate"
    assert "最低生活保障" in r.json()["message"]
    assert ApplicationLine.objects.filter(household=poor).count() == 1


def test_withdrawn_case_cannot_be_acted_on(
    api: Callable[[str], Client], poor: Household, cast: Cast
) -> None:
    app = apply(api, poor, "dibao")
    r = act(api("community_worker"), app["id"], "withdraw", reason="申请人主动撤回")
    assert r.json()["status"] == "withdrawn"
    r = act(api("community_worker"), app["id"], "accept")
    assert r.status_code == 409 and "撤回" in r.json()["message"]
    # withdrawn is closed: the household may apply again
    assert apply(api, poor, "dibao")["lines"][0]["state"] == "submitted"


def test_return_and_resubmit_goes_back_to_the_step(
    api: Callable[[str], Client], poor: Household, today: Clock
) -> None:
    aid = apply(api, poor, "dibao")["id"]
    worker = api("community_worker")
    act(worker, aid, "accept")
    body = act(worker, aid, "return", reason="缺少收入证明").json()
    assert body["lines"][0]["state"] == "returned"
    assert body["lines"][0]["step_due"] == "2026-12-07"  # 10 working days to correct
    assert (
        act(worker, aid, "resubmit", reason="已补交收入证明").json()["lines"][0]["state"]
        == "investigation"
    )


def test_suggested_programmes_join_the_application(
    api: Callable[[str], Client], poor: Household
) -> None:
    app = apply(api, poor, "dibao", suggested=True)
    lines = {ln["programme"]: ln for ln in app["lines"]}
    assert lines["dibao"]["requested"] and not lines["dibao"]["suggested"]
    suggested = {p for p, ln in lines.items() if ln["suggested"]}
    assert suggested, "the engine finds more than dibao for a poor pensioner"
    for pid in suggested:
        assert not lines[pid]["requested"]


def test_department_programme_is_referred_and_decided_by_its_liaison(
    api: Callable[[str], Client], poor: Household, liaison: Client
) -> None:
    aid = apply(api, poor, "medical_assistance")["id"]
    body = act(api("community_worker"), aid, "accept").json()
    (line,) = body["lines"]
    assert line["state"] == "referred" and line["department"] == "medical_security"
    # the human-resources liaison of the cast sees the case but may not decide it
    r = act(api("department_liaison"), aid, "approve", amount="1000.00")
    assert r.status_code == 403
    inbox = liaison.get("/api/v1/applications", {"waiting": "true"}).json()
    assert [i["application"] for i in inbox["items"]] == [aid]
    body = act(liaison, aid, "approve", amount="1000.00", reason="医保部门核准").json()
    assert body["lines"][0]["state"] == "approved" and body["lines"][0]["amount"] == "1000.00"


def test_cross_region_application_is_routed_to_the_owning_community(
    api: Callable[[str], Client], cast: Cast
) -> None:
    from minzheng.accounts.services import token_create, user_create

    user_create(username="u_dongcheng", role="community_worker", division_code="110101",
                password="pw-123456")  # fmt: skip
    far = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(username='u_dongcheng')}")
    number = cast.own.members.get().id_number
    r = post(far, "/api/v1/applications",
             {"applicant_id_number": number, "programmes": ["dibao"], "include_suggested": False})  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["channel"] == "cross_region" and body["routed_to"]["code"] == cast.own.division.code
    assert "household" not in body
    # the receiving office does not see the case afterwards; the owning community does
    assert far.get(f"/api/v1/applications/{body['id']}").status_code == 404
    inbox = api("community_worker").get("/api/v1/applications", {"waiting": "true"}).json()
    assert body["id"] in [i["application"] for i in inbox["items"]]


def test_inbox_lists_overdue_first(api: Callable[[str], Client], cast: Cast, today: Clock) -> None:
    from tests.fixtures import pensioner

    first = pensioner("900.00", "11010219500101211")
    apply(api, first, "dibao")
    today.advance(10)
    second = pensioner("900.00", "11010219500101300")
    apply(api, second, "dibao")
    items = api("community_worker").get("/api/v1/applications", {"waiting": "true"}).json()["items"]
    assert [i["overdue"] for i in items] == [True, False]
    assert items[0]["step_due"] < items[1]["step_due"]
    # the street sees nothing waiting for it yet
    assert (
        api("street_reviewer").get("/api/v1/applications", {"waiting": "true"}).json()["count"] == 0
    )


def test_control_characters_are_refused_not_a_server_error(
    api: Callable[[str], Client], poor: Household
) -> None:
    worker = api("community_worker")
    r = post(worker, "/api/v1/applications",
             {"household": poor.pk, "programmes": ["dibao"], "note": "生活\x00困难"})  # fmt: skip
    assert r.status_code == 422 and r.json()["code"] == "text.control_characters"
    aid = apply(api, poor, "dibao")["id"]
    r = act(worker, aid, "accept", reason="受理\x00")
    assert r.status_code == 422 and r.json()["details"]["field"] == "reason"
    assert ApplicationLine.objects.get().state == "submitted"
