"""The household API as a department's script would use it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from minzheng.accounts.models import AccessLog
from minzheng.registry.models import Household, Income, Person
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, Cast, _id


def post(client: Client, doc: dict[str, Any]) -> Any:
    return client.post("/api/v1/households", data=json.dumps(doc), content_type="application/json")


def doc_for(division: str = COMMUNITY_A, **extra: Any) -> dict[str, Any]:
    return {
        "id": "H-0001",
        "division": division,
        "hukou": "beijing",
        "address": "展览路1号",
        "members": [
            {
                "id": "P-1",
                "id_number": "11010519491231002X",
                "name": "张某",
                "relation": "head",
                "birth_date": "1949-12-31",
                "sex": "F",
                "incomes": [{"type": "pension", "monthly": "1200.00"}],
                "disability": {"kind": "physical", "grade": 2},
                "statuses": ["lives_alone"],
            }
        ],
        "assets": {
            "deposits": "20000.00",
            "securities": "0.00",
            "vehicles": 0,
            "houses": 1,
            "business": False,
        },
        "expenses": {"medical_monthly": "0.00", "education_monthly": "0.00"},
        "medical_bills": [{"kind": "inpatient", "total": "50000.00", "insurance_paid": "30000.00"}],
        **extra,
    }


def test_create_stores_the_contract_document_and_masks_the_id(cast: Cast) -> None:
    response = post(cast.api("community_worker"), doc_for())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["household_id"] > 0
    member = body["members"][0]
    assert member["id_number"] == "110105********002X"
    assert member["incomes"][0]["monthly"] == "1200.00"
    assert body["assets"]["deposits"] == "20000.00"
    assert body["medical_bills"] == [
        {"kind": "inpatient", "total": "50000.00", "insurance_paid": "30000.00"}
    ]
    person = Person.objects.get(pk=member["person_id"])
    assert person.id_number == "11010519491231002X"
    assert "11010519491231002X" not in person.id_number_encrypted  # encrypted at rest
    assert Income.objects.get(person=person).monthly == 1200


def test_unknown_fields_are_rejected_not_ignored(cast: Cast) -> None:
    doc = doc_for()
    doc["members"][0]["nickname"] = "x"
    response = post(cast.api("community_worker"), doc)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation.failed"
    errors = body["details"]["errors"]
    assert errors[0]["field"] == "members.0.nickname"
    assert errors[0]["code"] == "field.extra_forbidden"
    assert Household.objects.filter(external_id="H-0001").count() == 0


def test_bad_values_name_field_code_and_reason(cast: Cast) -> None:
    doc = doc_for()
    doc["members"][0]["id_number"] = "110105194912310021"
    doc["members"][0]["incomes"][0]["monthly"] = "-5"
    doc["assets"]["deposits"] = "很多"
    response = post(cast.api("community_worker"), doc)
    assert response.status_code == 422
    found = {(e["field"], e["code"]) for e in response.json()["details"]["errors"]}
    assert ("members.0.id_number", "id_number.checksum") in found
    assert ("members.0.incomes.0.monthly", "amount.negative") in found
    assert ("assets.deposits", "amount.invalid") in found


def test_birth_date_and_sex_must_agree_with_the_id_number(cast: Cast) -> None:
    doc = doc_for()
    doc["members"][0]["birth_date"] = "1950-01-01"
    response = post(cast.api("community_worker"), doc)
    assert response.status_code == 422
    assert response.json()["details"]["errors"][0]["code"] == "person.birth_date_mismatch"
    doc = doc_for()
    doc["members"][0]["sex"] = "M"
    response = post(cast.api("community_worker"), doc)
    assert response.json()["details"]["errors"][0]["code"] == "person.sex_mismatch"


def test_a_household_needs_exactly_one_head(cast: Cast) -> None:
    doc = doc_for()
    doc["members"][0]["relation"] = "spouse"
    response = post(cast.api("community_worker"), doc)
    assert response.status_code == 422
    assert response.json()["details"]["errors"][0]["code"] == "household.head_count"


def test_duplicate_id_number_names_where_the_person_is_only_if_visible(cast: Cast) -> None:
    existing = cast.other_street.members.get()
    doc = doc_for()
    doc["members"][0]["id_number"] = existing.id_number
    doc["members"][0].pop("birth_date")
    doc["members"][0].pop("sex")
    # the district approver can see the other street: told where
    response = post(cast.api("district_approver"), doc)
    assert response.status_code == 422
    error = response.json()["details"]["errors"][0]
    assert error["code"] == "person.id_number_registered"
    assert cast.other_street.number in error["message"]
    # the community worker cannot: told only that it is registered
    response = post(cast.api("community_worker"), doc)
    error = response.json()["details"]["errors"][0]
    assert error["code"] == "person.id_number_registered"
    assert cast.other_street.number not in error["message"]
    assert existing.name not in error["message"]


def test_patch_requires_a_reason_and_history_keeps_who_when_why(cast: Cast) -> None:
    client = cast.api("community_worker")
    url = f"/api/v1/households/{cast.own.pk}"
    missing = client.patch(url, data=json.dumps({"address": "x"}), content_type="application/json")
    assert missing.status_code == 422
    assert missing.json()["details"]["errors"][0]["field"] == "reason"
    ok = client.patch(
        url,
        data=json.dumps({"reason": "入户核实，住址变更", "address": "百万庄大街9号"}),
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["address"] == "百万庄大街9号"
    history = client.get(f"{url}/history").json()
    change = next(e for e in history if e["reason"] == "入户核实，住址变更")
    assert change["user"] == "u_community_worker"
    assert {"field": "住址", "old": "（空）", "new": "百万庄大街9号"} in change["changes"]


def test_patch_members_income_disability_and_a_new_member(cast: Cast) -> None:
    client = cast.api("community_worker")
    head = cast.own.members.get()
    body = {
        "reason": "复核收入",
        "members": [
            {
                "person_id": head.pk,
                "incomes": [{"type": "wage", "monthly": "3000.00"}],
                "disability": {"kind": "visual", "grade": 1},
            }
        ],
        "members_add": [
            {"id_number": _id("11010220100101002"), "name": "张小", "relation": "child"}
        ],
    }
    response = client.patch(
        f"/api/v1/households/{cast.own.pk}", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    members = response.json()["members"]
    assert len(members) == 2
    head_doc = next(m for m in members if m["person_id"] == head.pk)
    assert head_doc["incomes"][0] == {
        "type": "wage",
        "monthly": "3000.00",
        "month": head_doc["incomes"][0]["month"],
    }
    assert head_doc["disability"] == {"kind": "visual", "grade": 1}


def test_a_second_head_is_refused_and_nothing_changes(cast: Cast) -> None:
    client = cast.api("community_worker")
    body = {
        "reason": "增加成员",
        "address": "不应保存",
        "members_add": [
            {"id_number": _id("11010220100101002"), "name": "张小", "relation": "head"}
        ],
    }
    response = client.patch(
        f"/api/v1/households/{cast.own.pk}", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 422
    cast.own.refresh_from_db()
    assert cast.own.address != "不应保存"
    assert cast.own.members.count() == 1


def test_reading_a_file_is_logged_and_reveal_needs_a_reason(cast: Cast) -> None:
    client = cast.api("community_worker")
    url = f"/api/v1/households/{cast.own.pk}"
    before = AccessLog.objects.count()
    assert "*" in client.get(url).json()["members"][0]["id_number"]
    assert AccessLog.objects.count() == before + 1
    no_reason = client.get(url, {"reveal": "true"})
    assert no_reason.status_code == 422
    assert no_reason.json()["code"] == "reveal.reason_required"
    revealed = client.get(url, {"reveal": "true", "reason": "核对低保申请材料"})
    assert revealed.status_code == 200
    head = cast.own.members.get()
    assert revealed.json()["members"][0]["id_number"] == head.id_number
    log = AccessLog.objects.order_by("-id").first()
    assert log is not None
    assert (log.action, log.reason, log.person_id) == ("reveal", "核对低保申请材料", head.pk)
    # the liaison may read the file but never the full number
    denied = cast.api("department_liaison").get(url, {"reveal": "true", "reason": "核对"})
    assert denied.status_code == 403


def test_auditor_searches_the_access_log_and_cannot_write(cast: Cast) -> None:
    cast.api("community_worker").get(f"/api/v1/households/{cast.own.pk}")
    auditor = cast.api("auditor")
    found = auditor.get("/api/v1/access-logs", {"username": "u_community_worker"}).json()
    assert found["count"] >= 1
    assert found["items"][0]["person_id"] == cast.own.members.get().pk
    write = auditor.patch(
        f"/api/v1/households/{cast.own.pk}",
        data=json.dumps({"reason": "试图修改"}),
        content_type="application/json",
    )
    assert write.status_code == 403


def test_search_by_name_prefix_id_number_and_division(cast: Cast) -> None:
    client = cast.api("district_approver")
    by_name = client.get("/api/v1/households", {"name": "李"}).json()
    assert [h["id"] for h in by_name["items"]] == [cast.other_street.pk]
    number = cast.own.members.get().id_number
    by_id = client.get("/api/v1/households", {"id_number": number}).json()
    assert [h["id"] for h in by_id["items"]] == [cast.own.pk]
    by_division = client.get("/api/v1/households", {"division": COMMUNITY_B}).json()
    assert [h["id"] for h in by_division["items"]] == [cast.other_street.pk]
    bad = client.get("/api/v1/households", {"id_number": "123"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "id_number.format"


def test_pagination_limits(cast: Cast) -> None:
    client = cast.api("district_approver")
    assert client.get("/api/v1/households", {"page_size": 201}).status_code == 422
    assert client.get("/api/v1/households", {"page": 0}).status_code == 422
    page = client.get("/api/v1/households", {"page_size": 1, "page": 2}).json()
    assert page["count"] == 2 and len(page["items"]) == 1


def test_malformed_json_and_wrong_types_are_422_never_500(cast: Cast) -> None:
    client = cast.api("community_worker")
    broken = client.post("/api/v1/households", data="{not json", content_type="application/json")
    assert broken.status_code in {400, 422}
    assert "code" in broken.json()
    wrong = post(client, {"division": 110102, "hukou": "mars", "members": "x"})
    assert wrong.status_code == 422
    assert client.get("/api/v1/households/abc").status_code == 422


def test_openapi_document_is_served(cast: Cast) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/households" in schema["paths"]


def test_a_broad_name_prefix_still_finds_households_in_scope(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from minzheng.registry import selectors

    monkeypatch.setattr(selectors, "NAME_ID_LIST_MAX", 0)  # force the subquery branch
    client = cast.api("community_worker")
    assert [h["id"] for h in client.get("/api/v1/households", {"name": "张"}).json()["items"]] == [
        cast.own.pk
    ]
    assert client.get("/api/v1/households", {"name": "李"}).json()["count"] == 0  # other street


def test_a_race_on_the_same_person_is_a_409_without_database_details(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from minzheng.registry import services

    # Simulate the other writer winning between the check and the insert.
    monkeypatch.setattr(services, "_where_registered", lambda actor, hashes: {})
    doc = doc_for()
    doc["members"][0]["id_number"] = cast.own.members.get().id_number
    doc["members"][0].pop("birth_date")
    doc["members"][0].pop("sex")
    response = post(cast.api("community_worker"), doc)
    assert response.status_code == 409
    assert response.json() == {
        "code": "registry.conflict",
        "message": "数据已被他人同时修改，请重试",
        "details": {},
    }
    assert Household.objects.filter(external_id="H-0001").count() == 0
