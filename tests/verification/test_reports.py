"""Declared vs found: the verification report, and the workflow step it guards."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from minzheng.applications.models import ApplicationLine
from minzheng.registry.models import Household
from minzheng.verification.models import Discrepancy, VerificationReport
from tests.fixtures import Cast, pensioner


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def feed(client: Client, source: str, header: str, row: str) -> None:
    data: dict[str, Any] = {"source": source, "division": "110102", "describes_on": "2026-10-31",
            "file": io.BytesIO((header + "\n" + row + "\n").encode())}  # fmt: skip
    data["file"].name = "feed.csv"
    r = client.post("/api/v1/feeds", data=data)
    assert r.status_code == 201 and r.json()["linked"] == 1, r.content


@pytest.fixture
def case(cast: Cast, api: Callable[[str], Client]) -> tuple[Household, int]:
    """A pensioner (800.00 a month, no savings declared) whose dibao case awaits verification."""
    household = pensioner("800.00", "11010219500101123")
    worker = api("community_worker")
    r = post(worker, "/api/v1/applications",
             {"household": household.pk, "programmes": ["dibao"], "include_suggested": False})  # fmt: skip
    aid = r.json()["id"]
    for action, extra in [
        ("accept", {}),
        ("record_visit", {"visit": {"visitors": "王、李", "findings": "独居，生活困难"}}),
    ]:
        assert post(worker, f"/api/v1/applications/{aid}/transitions",
                    {"action": action, "reason": "经办", **extra}).status_code == 200  # fmt: skip
    return household, aid


def test_savings_found_at_the_bank_block_verification_until_resolved(
    cast: Cast, api: Callable[[str], Client], case: tuple[Household, int]
) -> None:
    household, aid = case
    number = household.members.get().id_number
    feed(
        api("district_approver"),
        "bank_deposits",
        "公民身份号码,姓名,存款余额",
        f"{number},老人,60000.00",
    )
    worker = api("community_worker")
    r = post(
        worker, f"/api/v1/applications/{aid}/transitions", {"action": "verify", "reason": "核对"}
    )
    assert r.status_code == 409 and r.json()["code"] == "workflow.discrepancy_unresolved"
    assert ApplicationLine.objects.get().state == "verification"
    # the report was kept: declared 0.00, found 60,000.00, and it changes eligibility
    report = VerificationReport.objects.get()
    body = worker.get(f"/api/v1/verification-reports/{report.pk}").json()
    (d,) = body["discrepancies"]
    assert (d["field"], d["declared"], d["found"], d["difference"]) == (
        "deposits",
        "0.00",
        "60000.00",
        "60000.00",
    )
    assert d["changes_eligibility"] is True and d["resolved"] is False
    # 60,000.00 per capita is above the 24-month limit (1,450.00 × 24 = 34,800.00)
    (e,) = body["eligibility"]
    assert e["declared"] == {"eligible": True, "amount": "1012.50"}
    assert e["found"]["eligible"] is False
    # resolving needs a reason; then the step passes and the resolution carries over
    assert (
        post(worker, f"/api/v1/discrepancies/{d['id']}/resolution", {"resolution": ""}).status_code
        == 422
    )
    r = post(
        worker,
        f"/api/v1/discrepancies/{d['id']}/resolution",
        {"resolution": "定期存款为他人代管，已核实"},
    )
    assert r.status_code == 200
    r = post(
        worker, f"/api/v1/applications/{aid}/transitions", {"action": "verify", "reason": "核对"}
    )
    assert r.status_code == 200 and r.json()["lines"][0]["state"] == "appraisal"
    latest = VerificationReport.objects.order_by("-pk").first()
    assert latest is not None and latest.pk != report.pk
    assert latest.discrepancies.get().resolution == "定期存款为他人代管，已核实"


def test_a_higher_pension_is_a_discrepancy_in_the_amount(
    cast: Cast, api: Callable[[str], Client], case: tuple[Household, int]
) -> None:
    household, aid = case
    number = household.members.get().id_number
    feed(
        api("district_approver"),
        "social_insurance",
        "公民身份号码,姓名,月养老金",
        f"{number},老人,1200.00",
    )
    worker = api("community_worker")
    r = post(worker, f"/api/v1/applications/{aid}/verification", {})
    assert r.status_code == 201
    (d,) = r.json()["discrepancies"]
    assert (d["field"], d["declared"], d["found"], d["difference"]) == (
        "income.pension",
        "800.00",
        "1200.00",
        "400.00",
    )
    (e,) = r.json()["eligibility"]
    # 1,450.00 − 1,200.00 = 250.00, plus the 362.50 add-on for a member aged 60+: 612.50
    assert e["found"] == {"eligible": True, "amount": "612.50"} and d["changes_eligibility"] is True
    page = cast.client("community_worker").get(f"/verification/reports/{r.json()['id']}/")
    assert page.status_code == 200 and "月养老金" in page.content.decode()
    pdf = cast.client("community_worker").get(f"/verification/reports/{r.json()['id']}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_reports_are_scoped(
    cast: Cast, api: Callable[[str], Client], case: tuple[Household, int]
) -> None:
    _household, aid = case
    report = post(api("community_worker"), f"/api/v1/applications/{aid}/verification", {}).json()
    assert (
        api("service_provider").get(f"/api/v1/verification-reports/{report['id']}").status_code
        == 404
    )
    assert post(api("auditor"), f"/api/v1/applications/{aid}/verification", {}).status_code == 403
    assert not Discrepancy.objects.exists()
