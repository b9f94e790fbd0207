"""/api/v1/rankings and /api/v1/households/{id}/poverty-index: shapes, money as strings,
refusals in the one error shape."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from minzheng.applications.models import Application
from minzheng.registry.models import Household
from tests.fixtures import COMMUNITY_B
from tests.targeting.conftest import Town

MONEY = re.compile(r"^\d+\.\d{2}$")
QUERY = {"as_of": "2025-07-01", "all": "true"}


def test_rankings_shape(town: Town) -> None:
    response = town.cast.api("district_approver").get("/api/v1/rankings", {**QUERY, "page_size": 2})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"items", "count", "as_of", "division", "applicants_only", "histogram"}
    assert body["count"] == 6 and len(body["items"]) == 2 and body["applicants_only"] is False
    assert body["as_of"] == "2025-07-01" and body["division"]["code"] == "110102"
    first = body["items"][0]
    assert set(first) == {
        "rank", "street_rank", "household_id", "number", "head_name_masked", "division",
        "street", "index", "top_dimension", "scores", "assistance", "assistance_multiple",
        "programmes",
    }  # fmt: skip
    assert first["household_id"] == town.poorest.pk and first["rank"] == 1
    assert first["index"] == 75.0 and MONEY.match(first["assistance"])
    assert first["head_name_masked"] == "钱*" and "钱六" not in response.content.decode()
    assert [b["count"] for b in body["histogram"]] == [0, 0, 2, 1, 0, 0, 2, 1, 0, 0]
    assert body["histogram"][0] == {"lower": 0, "upper": 10, "count": 0}


def test_rankings_default_to_applicants(
    town: Town, apply_for: Callable[[Household], Application]
) -> None:
    apply_for(town.cast.other_street)
    body = town.cast.api("district_approver").get("/api/v1/rankings",
                                                  {"as_of": "2025-07-01"}).json()  # fmt: skip
    assert body["applicants_only"] is True and body["count"] == 1
    assert body["items"][0]["household_id"] == town.cast.other_street.pk
    assert body["items"][0]["programmes"] == ["最低生活保障"]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"page_size": 0}, 422, "pagination.page_size"),
        ({"page": 0}, 422, "pagination.page"),
        ({"as_of": "2025-13-01"}, 422, "validation.failed"),
        ({"as_of": "2010-01-01"}, 422, "parameter.not_in_force"),
        ({"division": "110101"}, 404, "division.not_found"),
        ({"division": "1101\x0002"}, 422, "text.control_characters"),
    ],
)
def test_rankings_refuse_bad_requests(
    town: Town, query: dict[str, object], status: int, code: str
) -> None:
    response = town.cast.api("district_approver").get("/api/v1/rankings", {**QUERY, **query})
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code


@pytest.mark.parametrize("role", ["resident", "service_provider"])
def test_residents_and_providers_are_refused(town: Town, role: str) -> None:
    client = town.cast.api(role)
    for url in ("/api/v1/rankings", f"/api/v1/households/{town.cast.own.pk}/poverty-index"):
        response = client.get(url)
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "targeting.registry_readers_only" and "居民" in body["message"]


def test_explanation_shape(town: Town) -> None:
    client = town.cast.api("street_reviewer")
    response = client.get(f"/api/v1/households/{town.old.pk}/poverty-index",
                          {"as_of": "2025-07-01"})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"household_id", "number", "division", "as_of", "index",
                         "top_dimension", "dimensions", "facts", "assistance", "parameters"}  # fmt: skip
    assert body["index"] == 35.86
    assert sum(round(d["contribution"] * 100) for d in body["dimensions"]) == 3586
    assert set(body["dimensions"][0]) == {"key", "label", "rule", "value", "value_label",
                                          "value_unit", "score", "weight", "contribution"}  # fmt: skip
    assert MONEY.match(body["assistance"]["amount"])
    assert all(MONEY.match(b["amount"]) for b in body["assistance"]["table"])
    assert {"name", "label", "value", "unit", "since", "source", "confidence"} == set(
        body["parameters"][0]
    )
    other = client.get(f"/api/v1/households/{town.comfortable_b.pk}/poverty-index")
    assert other.status_code == 404 and other.json()["code"] == "household.not_found"
    missing = client.get("/api/v1/households/99999999/poverty-index")
    assert missing.json() == other.json()
    assert COMMUNITY_B  # community B is outside street A
