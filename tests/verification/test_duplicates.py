"""Duplicate persons in the registry and people on one programme twice (一人多保)."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.test import Client

from minzheng.registry.models import Household
from tests.fixtures import COMMUNITY_B, Cast, pensioner


def apply(client: Client, household: Household) -> None:
    r = client.post("/api/v1/applications", content_type="application/json",
                    data=json.dumps({"household": household.pk, "programmes": ["dibao"],
                                     "include_suggested": False}))  # fmt: skip
    assert r.status_code == 201, r.content


def test_one_person_registered_twice_and_applying_twice_is_listed_for_the_district(
    cast: Cast, api: Callable[[str], Client]
) -> None:
    # the same man, registered in two streets under ID numbers that differ by two
    # transposed digits of the sequence number
    first = pensioner("800.00", "11010219500101135")
    second = pensioner("800.00", "11010219500101153", division=COMMUNITY_B)
    apply(api("community_worker"), first)
    district = api("district_approver")
    # the other street's application is taken by a worker there
    from minzheng.accounts.services import token_create, user_create

    user_create(
        username="u_b", role="community_worker", division_code=COMMUNITY_B, password="pw-123456"
    )
    other = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(username='u_b')}")
    apply(other, second)
    body = district.get("/api/v1/duplicates").json()
    persons = {first.members.get().pk, second.members.get().pk}
    assert any({p["person_id_a"], p["person_id_b"]} == persons for p in body["pairs"]), body
    (double,) = [d for d in body["doubles"] if d["programme"] == "dibao"]
    assert double["reason"] == "duplicate_person" and double["cross_household"] is True
    page = cast.client("district_approver").get("/verification/duplicates/").content.decode()
    assert "疑似同一人重复登记" in page and "最低生活保障" in page
    # the street below sees only its own part; residents are refused
    assert api("resident").get("/api/v1/duplicates").status_code == 403
