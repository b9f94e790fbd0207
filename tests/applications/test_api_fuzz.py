"""Whatever a client sends to the workflow and verification endpoints: the error shape,
never a 500, and nothing half-written."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from minzheng.applications.models import Application, ApplicationLine, Transition
from tests.fixtures import Cast
from tests.registry.test_api_fuzz import FUZZ, _no_500, json_values

ACTIONS = st.sampled_from(["accept", "record_visit", "verify", "approve", "reject", "return",
                           "withdraw", "resubmit", "publish_notice", "close_notice", "review"])  # fmt: skip
transition_like = st.fixed_dictionaries(
    {"action": st.one_of(ACTIONS, json_values), "reason": json_values},
    optional={"programmes": json_values, "amount": json_values, "start_month": json_values,
              "visit": json_values, "version": json_values},
)  # fmt: skip
application_like = st.fixed_dictionaries(
    {},
    optional={"household": json_values, "programmes": json_values, "applicant": json_values,
              "applicant_id_number": json_values, "include_suggested": json_values,
              "note": json_values},
)  # fmt: skip


def _post(client: Any, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


@FUZZ
@given(body=application_like)
def test_intake_fuzz(cast: Cast, body: dict[str, Any]) -> None:
    before = Application.objects.count()
    r = _post(cast.api("community_worker"), "/api/v1/applications", body)
    _no_500(r)
    if r.status_code != 201:
        assert Application.objects.count() == before


@FUZZ
@given(body=transition_like)
def test_transition_fuzz(cast: Cast, body: dict[str, Any]) -> None:
    worker = cast.api("community_worker")
    application = Application.objects.filter(household=cast.own).first()
    if application is None:
        r = _post(worker, "/api/v1/applications",
                  {"household": cast.own.pk, "programmes": ["dibao"], "include_suggested": False})  # fmt: skip
        application = Application.objects.get(pk=r.json()["id"])
    before = list(ApplicationLine.objects.values_list("state", "version"))
    transitions = Transition.objects.count()
    r = _post(worker, f"/api/v1/applications/{application.pk}/transitions", body)
    _no_500(r)
    if r.status_code != 200:
        assert list(ApplicationLine.objects.values_list("state", "version")) == before
        assert Transition.objects.count() == transitions


@FUZZ
@given(body=json_values)
def test_objection_and_resolution_fuzz(cast: Cast, body: Any) -> None:
    worker = cast.api("community_worker")
    _no_500(_post(worker, "/api/v1/applications/1/objections", body))
    _no_500(_post(worker, "/api/v1/applications/objections/1/resolution", body))
    _no_500(_post(worker, "/api/v1/discrepancies/1/resolution", body))
    _no_500(_post(cast.api("district_approver"), "/api/v1/links/1/review", body))
