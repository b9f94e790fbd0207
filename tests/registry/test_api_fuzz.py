"""Whatever a client sends, the API answers with the error shape, never a 500."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures import Cast

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["1450.00", "-1", "11010519491231002X", "head", "beijing"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
member_like = st.fixed_dictionaries(
    {"id_number": json_values, "name": json_values, "relation": json_values},
    optional={
        "incomes": json_values,
        "disability": json_values,
        "statuses": json_values,
        "birth_date": json_values,
        "sex": json_values,
    },
)
document_like = st.fixed_dictionaries(
    {"division": json_values, "hukou": json_values, "members": st.lists(member_like, max_size=3)},
    optional={
        "assets": json_values,
        "expenses": json_values,
        "medical_bills": json_values,
        "address": json_values,
        "id": json_values,
    },
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _no_500(response: Any) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        body = response.json()
        assert {"code", "message", "details"} <= set(body)


@FUZZ
@given(body=st.one_of(document_like, json_values))
def test_create_never_500(cast: Cast, body: Any) -> None:
    client = cast.api("community_worker")
    _no_500(
        client.post("/api/v1/households", data=json.dumps(body), content_type="application/json")
    )


@FUZZ
@given(
    body=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"reason": json_values},
            optional={
                "members": json_values,
                "members_add": json_values,
                "assets": json_values,
                "division": json_values,
            },
        ),
    )
)
def test_patch_never_500(cast: Cast, body: Any) -> None:
    client = cast.api("community_worker")
    _no_500(
        client.patch(
            f"/api/v1/households/{cast.own.pk}",
            data=json.dumps(body),
            content_type="application/json",
        )
    )


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["name", "id_number", "division", "page", "page_size", "reveal", "reason"]),
        st.text(max_size=25),
        max_size=5,
    )
)
def test_queries_never_500(cast: Cast, params: dict[str, str]) -> None:
    client = cast.api("district_approver")
    _no_500(client.get("/api/v1/households", params))
    _no_500(client.get(f"/api/v1/households/{cast.own.pk}", params))
    _no_500(client.get("/api/v1/persons", params))
    _no_500(Client(HTTP_AUTHORIZATION="Bearer " + params.get("name", "")).get("/api/v1/divisions"))


def test_control_characters_in_text_are_refused_not_stored(cast: Cast) -> None:
    from tests.fixtures import COMMUNITY_A, _id

    doc = {
        "division": COMMUNITY_A,
        "hukou": "beijing",
        "address": "展览路\x001号",
        "members": [
            {"id_number": _id("11010219900101555"), "name": "张\x00某", "relation": "head"}
        ],
    }
    response = cast.api("community_worker").post(
        "/api/v1/households", data=json.dumps(doc), content_type="application/json"
    )
    assert response.status_code == 422
    fields = {e["field"]: e["code"] for e in response.json()["details"]["errors"]}
    assert fields == {
        "address": "text.control_characters",
        "members.0.name": "text.control_characters",
    }


def test_nul_in_search_parameters_is_a_clear_error(cast: Cast) -> None:
    client = cast.api("district_approver")
    for params in ({"name": "张\x00"}, {"division": "1101\x0002"}, {"id_number": "\x00"}):
        response = client.get("/api/v1/households", params)
        assert response.status_code == 422, params
        assert response.json()["code"] in {"text.control_characters", "id_number.format"}


def test_nul_in_a_reveal_reason_is_refused(cast: Cast) -> None:
    response = cast.api("community_worker").get(
        f"/api/v1/households/{cast.own.pk}", {"reveal": "true", "reason": "核对\x00材料"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "text.control_characters"
