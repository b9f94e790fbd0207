"""Every API endpoint × every role × in-scope / out-of-scope record.

Out of scope is always 404 (never revealing that the record exists). Adding an API
endpoint without adding it to ENDPOINTS fails ``test_every_endpoint_is_in_the_matrix``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from minzheng.accounts.roles import Role
from minzheng.config.api import api
from tests.fixtures import COMMUNITY_A, DONGCHENG, Cast, _id

READERS = {
    "community_worker",
    "street_reviewer",
    "district_approver",
    "department_liaison",
    "auditor",
    "admin",
}
WRITERS = {"community_worker", "street_reviewer", "district_approver", "admin"}
ROLES = [str(r) for r in Role]


def _inside(cast: Cast, role: str) -> int:
    return cast.own.pk


def _outside(cast: Cast, role: str) -> int:
    return cast.other_district.pk


def detail(client: Client, hid: int, cast: Cast) -> Any:
    return client.get(f"/api/v1/households/{hid}")


def history(client: Client, hid: int, cast: Cast) -> Any:
    return client.get(f"/api/v1/households/{hid}/history")


def patch(client: Client, hid: int, cast: Cast) -> Any:
    return client.patch(
        f"/api/v1/households/{hid}",
        data=json.dumps({"reason": "核实住址", "address": "新住址1号"}),
        content_type="application/json",
    )


def lookup(client: Client, hid: int, cast: Cast) -> Any:
    head = cast.own if hid == cast.own.pk else cast.other_district
    number = head.members.get().id_number
    return client.get("/api/v1/persons", {"id_number": number})


def listing(client: Client, hid: int, cast: Cast) -> Any:
    return client.get("/api/v1/households", {"page_size": 200})


def create(client: Client, hid: int, cast: Cast) -> Any:
    division = COMMUNITY_A if hid == cast.own.pk else DONGCHENG
    doc = {
        "division": division,
        "hukou": "beijing",
        "members": [{"id_number": _id("11010219900101555"), "name": "新人", "relation": "head"}],
    }
    return client.post("/api/v1/households", data=json.dumps(doc), content_type="application/json")


def divisions(client: Client, hid: int, cast: Cast) -> Any:
    return client.get("/api/v1/divisions")


def access_logs(client: Client, hid: int, cast: Cast) -> Any:
    return client.get("/api/v1/access-logs", {"household_id": hid})


def evaluation(client: Client, hid: int, cast: Cast) -> Any:
    # a calculation on the submitted document: it reads nothing from the registry, so the
    # answer is the same for every role and never mentions a stored household
    doc = {
        "id": "TRY-1",
        "division": COMMUNITY_A if hid == cast.own.pk else DONGCHENG,
        "hukou": "beijing",
        "members": [{"id_number": _id("11010219400101001"), "name": "试算", "relation": "head"}],
    }
    return client.post(
        "/api/v1/evaluations?as_of=2025-07-01", data=json.dumps(doc),
        content_type="application/json",
    )  # fmt: skip


def programmes(client: Client, hid: int, cast: Cast) -> Any:
    return client.get("/api/v1/programmes")


def _codes(tree: list[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for node in tree:
        out.add(node["code"])
        out |= _codes(node["children"])
    return out


def _expect_detail(role: str, inside: bool) -> int:
    if role == "resident":
        return 200 if inside else 404
    return 200 if inside and role in READERS else 404


def _expect_write(role: str, inside: bool) -> int:
    if not inside:
        return 404
    if role in WRITERS:
        return 200
    return 403 if role in READERS or role == "resident" else 404


def _expect_create(role: str, inside: bool) -> int:
    if role in WRITERS:
        return 201 if inside else 422
    return 403


ENDPOINTS: dict[tuple[str, str], tuple[Callable[..., Any], Callable[[str, bool], Any]]] = {
    ("GET", "/api/v1/households/{household_id}"): (detail, _expect_detail),
    ("GET", "/api/v1/households/{household_id}/history"): (history, _expect_detail),
    ("PATCH", "/api/v1/households/{household_id}"): (patch, _expect_write),
    ("GET", "/api/v1/persons"): (lookup, lambda role, inside: "lookup"),
    ("GET", "/api/v1/households"): (listing, lambda role, inside: "listing"),
    ("POST", "/api/v1/households"): (create, _expect_create),
    ("GET", "/api/v1/divisions"): (divisions, lambda role, inside: "divisions"),
    ("GET", "/api/v1/access-logs"): (access_logs, lambda role, inside: "access_logs"),
    ("POST", "/api/v1/evaluations"): (evaluation, lambda role, inside: "evaluation"),
    ("GET", "/api/v1/programmes"): (programmes, lambda role, inside: "programmes"),
}


def test_every_endpoint_is_in_the_matrix() -> None:
    schema = api.get_openapi_schema()
    served = {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}
    assert served == set(ENDPOINTS), "add each new endpoint to ENDPOINTS with its expected outcome"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("inside", [True, False], ids=["in_scope", "out_of_scope"])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS), ids=lambda e: f"{e[0]} {e[1]}")
def test_scope(cast: Cast, endpoint: tuple[str, str], role: str, inside: bool) -> None:
    call, expect = ENDPOINTS[endpoint]
    client = cast.api(role)
    hid = _inside(cast, role) if inside else _outside(cast, role)
    response = call(client, hid, cast)
    expected = expect(role, inside)
    body = response.json()
    if expected == "listing":
        assert response.status_code == 200
        ids = {item["id"] for item in body["items"]}
        visible = _expect_detail(role, inside) == 200
        assert (hid in ids) == visible
        assert cast.other_district.pk not in ids
    elif expected == "lookup":
        assert response.status_code == 200
        visible = _expect_detail(role, inside) == 200
        assert body["count"] == (1 if visible else 0)
        if visible:
            assert "*" in body["items"][0]["id_number"]
    elif expected == "divisions":
        assert response.status_code == 200
        codes = _codes(body)
        assert (DONGCHENG in codes) is False
        assert (COMMUNITY_A in codes) is True
    elif expected == "evaluation":
        assert response.status_code == 200, body
        assert body["household"] == "TRY-1"
        assert body["programmes"]["age_allowance"]["amount"] == "100.00"  # aged 85 on 2025-07-01
    elif expected == "programmes":
        assert response.status_code == 200
        assert {p["id"] for p in body} >= {"dibao", "age_allowance"}
    elif expected == "access_logs":
        if role in {"auditor", "admin"}:
            assert response.status_code == 200
        else:
            assert response.status_code == 403
            assert body["code"] == "permission.audit_only"
    else:
        assert response.status_code == expected, body
        if expected >= 400:
            assert set(body) == {"code", "message", "details"}
        if expected == 404:
            # the same answer as for a record that does not exist at all
            assert body["code"] in {"household.not_found", "not_found"}


@pytest.mark.parametrize("role", ROLES)
def test_pages_follow_the_same_scope(cast: Cast, role: str) -> None:
    client = cast.client(role)
    inside = client.get(f"/households/{cast.own.pk}/")
    outside = client.get(f"/households/{cast.other_district.pk}/")
    assert inside.status_code == _expect_detail(role, True)
    assert outside.status_code == 404
    edit_out = client.get(f"/households/{cast.other_district.pk}/edit/")
    assert edit_out.status_code == 404


def test_street_reviewer_does_not_see_another_street(cast: Cast) -> None:
    for role, status in [
        ("street_reviewer", 404),
        ("community_worker", 404),
        ("district_approver", 200),
    ]:
        response = cast.api(role).get(f"/api/v1/households/{cast.other_street.pk}")
        assert response.status_code == status, role


def test_no_token_or_bad_token_is_401(cast: Cast) -> None:
    assert Client().get("/api/v1/households").status_code == 401
    bad = Client(HTTP_AUTHORIZATION="Bearer mz_not-a-token").get("/api/v1/households")
    assert bad.status_code == 401
    assert bad.json()["code"] == "auth.unauthenticated"
