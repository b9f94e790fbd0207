"""Every refusal of the payroll API: the status, the stable code, a message in Chinese,
and nothing changed (no run, line, payment, bank batch or journal entry written; payments
still "sent" after a refused bank return)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django import Settings

from minzheng.benefits.models import (
    BankBatch,
    IdempotencyRecord,
    JournalEntry,
    Payment,
    PayrollLine,
    PayrollRun,
)
from tests.applications.conftest import Clock
from tests.benefits.conftest import bank_return, entitle, post
from tests.fixtures import COMMUNITY_A, DONGCHENG, STREET_A, Cast

CJK = re.compile(r"[\u4e00-\u9fff]")


def state() -> tuple[Any, ...]:
    return (
        list(PayrollRun.objects.order_by("pk").values_list("pk", "status")),
        PayrollLine.objects.count(),
        sorted(Payment.objects.values_list("pk", "status")),
        list(BankBatch.objects.values_list("pk", "return_imported_at")),
        JournalEntry.objects.count(),
        list(IdempotencyRecord.objects.values_list("key", "status")),
    )


def refused(response: Any, status: int, code: str, before: tuple[Any, ...],
            says: str = "") -> dict[str, Any]:  # fmt: skip
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == code, body
    assert CJK.search(body["message"]), body["message"]
    assert says in body["message"], body["message"]
    assert state() == before
    return dict(body)


@pytest.fixture
def district(cast: Cast, today: Clock, settings: Settings, tmp_path: Any) -> Client:
    settings.MEDIA_ROOT = tmp_path
    entitle(cast.own, "1012.50", date(2026, 11, 1))
    entitle(cast.other_street, "500.00", date(2026, 11, 1))
    return cast.api("district_approver")


def _run(client: Client, period: str = "2026-11", **body: Any) -> dict[str, Any]:
    r = post(client, "/api/v1/payrolls", {"period": period, **body})
    assert r.status_code == 202, r.content
    return dict(r.json())


def _approve(client: Client, run: dict[str, Any]) -> None:
    r = post(client, f"/api/v1/payrolls/{run['id']}/approval", {"reason": "同意"})
    assert r.status_code == 200, r.content


# -- creating a run ------------------------------------------------------------------------


def test_period_refusals(district: Client) -> None:
    before = state()
    r = post(district, "/api/v1/payrolls", {"period": "2026-12"})  # today is 2026-11-23
    body = refused(r, 422, "payroll.period_future", before, "未来月份")
    assert body["details"] == {"field": "period"}
    for bad in ("2026-13", "11/2026", "", "2026-11-15"):
        r = post(district, "/api/v1/payrolls", {"period": bad})
        body = refused(r, 422, "payroll.period_invalid", before, "月份")
        assert body["details"] == {"field": "period"}


def test_division_refusals(district: Client) -> None:
    before = state()
    r = post(district, "/api/v1/payrolls", {"period": "2026-11", "division": COMMUNITY_A})
    body = refused(r, 422, "payroll.division_level", before, "区或街道")
    assert body["details"] == {"field": "division"}
    # another district: as if it did not exist
    r = post(district, "/api/v1/payrolls", {"period": "2026-11", "division": DONGCHENG})
    refused(r, 404, "division.not_found", before, "不存在")
    r = post(district, "/api/v1/payrolls", {"period": "2026-11", "division": "999999"})
    refused(r, 404, "division.not_found", before, "不存在")


def test_overlapping_runs_are_refused(district: Client, second_approver: Client,
                                      today: Clock) -> None:  # fmt: skip
    run = _run(district)
    assert run["status"] == "preview"
    before = state()
    # the same month again, or the street inside the district, while the first waits
    for body in ({"period": "2026-11"}, {"period": "2026-11", "division": STREET_A},
                 {"period": "2026-10"}):  # fmt: skip
        r = post(district, "/api/v1/payrolls", body)
        refused(r, 409, "payroll.in_progress", before, run["number"])
    _approve(second_approver, run)
    before = state()
    r = post(district, "/api/v1/payrolls", {"period": "2026-11"})
    body = refused(r, 409, "payroll.already_approved", before, "已审批")
    assert body["details"] == {"payroll": run["id"], "number": run["number"]}
    r = post(district, "/api/v1/payrolls", {"period": "2026-11", "division": STREET_A})
    refused(r, 409, "payroll.already_approved", before, run["number"])
    # an earlier month after a later one was approved
    r = post(district, "/api/v1/payrolls", {"period": "2026-10"})
    refused(r, 409, "payroll.period_closed", before, "更晚月份")


def test_unknown_field_in_the_body(district: Client) -> None:
    before = state()
    r = post(district, "/api/v1/payrolls", {"period": "2026-11", "amount": "1.00"})
    body = refused(r, 422, "validation.failed", before)
    assert [e["field"] for e in body["details"]["errors"]] == ["amount"]
    r = post(district, "/api/v1/payrolls", {})
    body = refused(r, 422, "validation.failed", before)
    assert [e["field"] for e in body["details"]["errors"]] == ["period"]


@pytest.mark.parametrize("role", ["community_worker", "street_reviewer", "auditor", "resident",
                                  "admin"])  # fmt: skip
def test_only_district_approvers_compute_payrolls(cast: Cast, today: Clock, role: str) -> None:
    before = state()
    r = post(cast.api(role), "/api/v1/payrolls", {"period": "2026-11"})
    refused(r, 403, "benefits.role_forbidden", before, "区级审批员")


# -- approval ------------------------------------------------------------------------------


def test_the_preparer_cannot_approve(district: Client) -> None:
    run = _run(district)
    before = state()
    r = post(district, f"/api/v1/payrolls/{run['id']}/approval", {"reason": "同意"})
    refused(r, 403, "payroll.four_eyes", before, "制表人以外")


def test_a_stale_preview_is_not_approved(cast: Cast, district: Client,
                                         second_approver: Client) -> None:  # fmt: skip
    run = _run(district)
    ent = cast.own.entitlements.get()
    r = post(cast.api("community_worker"), f"/api/v1/entitlements/{ent.pk}/status",
             {"action": "suspend", "month": "2026-11", "reason": "外出务工"})  # fmt: skip
    assert r.status_code == 200, r.content
    before = state()
    r = post(second_approver, f"/api/v1/payrolls/{run['id']}/approval", {"reason": "同意"})
    body = refused(r, 409, "payroll.stale", before, "重新计算")
    assert body["details"] == {"changed": 1}
    # recomputed, it no longer pays the suspended household: 500.00 only
    r = post(district, f"/api/v1/payrolls/{run['id']}/recompute", {"reason": "待遇已变更"})
    assert r.status_code == 202 and r.json()["total"] == "500.00"
    _approve(second_approver, run)


def test_approving_twice_or_an_unknown_run(district: Client, second_approver: Client) -> None:
    run = _run(district)
    _approve(second_approver, run)
    before = state()
    r = post(second_approver, f"/api/v1/payrolls/{run['id']}/approval", {"reason": "同意"})
    refused(r, 409, "payroll.illegal_state", before, "已审批")
    r = post(second_approver, f"/api/v1/payrolls/{run['id'] + 999}/approval", {"reason": "同意"})
    refused(r, 404, "payroll.not_found", before, "不存在")
    r = post(second_approver, f"/api/v1/payrolls/{run['id']}/approval", {"reason": " "})
    body = refused(r, 422, "benefits.reason_required", before, "理由")
    assert body["details"] == {"field": "reason"}


# -- idempotency ---------------------------------------------------------------------------


def test_idempotency_key(district: Client) -> None:
    first = post(district, "/api/v1/payrolls", {"period": "2026-11"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 202
    before = state()
    again = post(district, "/api/v1/payrolls", {"period": "2026-11"}, HTTP_IDEMPOTENCY_KEY="k-1")
    # the first answer again, and still one run (without the key: 409 in progress)
    assert again.status_code == 202 and again.json() == first.json()
    assert PayrollRun.objects.count() == 1 and state() == before
    # POST /payments is the same request
    same = post(district, "/api/v1/payments", {"period": "2026-11"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert same.status_code == 202 and same.json() == first.json()
    r = post(district, "/api/v1/payrolls", {"period": "2026-10"}, HTTP_IDEMPOTENCY_KEY="k-1")
    body = refused(r, 422, "idempotency.key_reused", before, "另一个请求")
    assert body["details"] == {"header": "Idempotency-Key"}
    r = post(district, "/api/v1/payrolls", {"period": "2026-11"}, HTTP_IDEMPOTENCY_KEY=" ")
    refused(r, 422, "idempotency.key_invalid", before, "Idempotency-Key")
    # a refused first request leaves no record: the key is still free
    r = post(district, "/api/v1/payrolls", {"period": "2026-12"}, HTTP_IDEMPOTENCY_KEY="k-2")
    refused(r, 422, "payroll.period_future", before)


# -- bank files and returns ---------------------------------------------------------------


@pytest.fixture
def exported(district: Client, second_approver: Client) -> dict[str, Any]:
    """The November run approved and its bank file written: two transfers, 1,512.50."""
    run = _run(district)
    _approve(second_approver, run)
    r = district.post(f"/api/v1/payrolls/{run['id']}/bank-file")
    assert r.status_code == 201 and r.json()["control_total"] == "1512.50"
    text = district.get(f"/api/v1/payrolls/{run['id']}/bank-file").content.decode()
    assert Payment.objects.filter(status="sent").count() == 2
    return {"run": run, "text": text, "client": district}


def _upload(client: Client, run_id: int, content: bytes) -> Any:
    return client.post(f"/api/v1/payrolls/{run_id}/bank-return",
                       {"file": SimpleUploadedFile("return.csv", content)})  # fmt: skip


def test_bank_file_twice_and_return_before_the_file(district: Client,
                                                    second_approver: Client) -> None:  # fmt: skip
    run = _run(district)
    before = state()
    r = district.post(f"/api/v1/payrolls/{run['id']}/bank-file")
    refused(r, 409, "payroll.illegal_state", before, "审批后")
    _approve(second_approver, run)
    before = state()
    r = _upload(district, run["id"], b"H,x,0,0.00\nT,0,0.00\n")
    refused(r, 409, "bank_file.not_exported", before, "尚未生成银行代发文件")
    r = district.get(f"/api/v1/payrolls/{run['id']}/bank-file")
    refused(r, 404, "bank_file.not_exported", before, "尚未生成")
    assert district.post(f"/api/v1/payrolls/{run['id']}/bank-file").status_code == 201
    before = state()
    r = district.post(f"/api/v1/payrolls/{run['id']}/bank-file")
    refused(r, 409, "bank_file.already_exported", before, "已生成")


def _rows(exported: dict[str, Any]) -> list[str]:
    return bank_return(exported["text"]).decode().strip().split("\n")


def _with(rows: list[str], k: int, column: int, value: str) -> list[str]:
    cells = rows[k].split(",")
    cells[column] = value
    return [*rows[:k], ",".join(cells), *rows[k + 1 :]]


def test_bad_returns_change_nothing(exported: dict[str, Any]) -> None:
    run, client = exported["run"], exported["client"]
    rows = _rows(exported)  # H, D (1,012.50), D (500.00), T
    assert rows[0] == f"H,{run['number']},2,1512.50" and rows[-1] == "T,2,1512.50"
    ref = rows[1].split(",")[1]
    cases: list[tuple[list[str], str, dict[str, Any]]] = [
        # (the file's rows, the response code, the first error: row, column, code)
        (_with(rows, 1, 1, f"{run['number']}-999999"), "bank_return.unknown_payment",
         {"row": 2, "column": "业务参考号"}),
        (_with(rows, 2, 2, "500.01"), "bank_return.amount_mismatch",
         {"row": 3, "column": "金额"}),
        (_with(rows, 0, 3, "1512.51"), "bank_return.control_total",
         {"row": 1, "column": "控制总额"}),
        (_with(rows, 3, 2, "1500.00"), "bank_return.control_total",
         {"row": 4, "column": "控制总额"}),
        (_with(rows, 3, 1, "3"), "bank_return.control_total", {"row": 4, "column": "控制总额"}),
        ([*rows[:2], rows[1], *rows[2:]], "bank_return.duplicate_row",
         {"row": 3, "column": "业务参考号"}),
        ([rows[0], rows[1], rows[3]], "bank_return.missing_payments",
         {"row": 3, "column": "明细"}),
        (_with(rows, 0, 1, "FF110102-202610-01"), "bank_return.wrong_batch",
         {"row": 1, "column": "批次号"}),
        (rows[1:], "bank_return.format", {"row": 1, "column": "记录类型"}),
        (_with(rows, 1, 3, ""), "bank_return.format", {"row": 2, "column": "结果代码"}),
        ([*rows[:2], "D,只有两列", *rows[2:]], "bank_return.format",
         {"row": 3, "column": "记录类型"}),
    ]  # fmt: skip
    before = state()
    for content, code, first in cases:
        r = _upload(client, run["id"], ("\n".join(content) + "\n").encode())
        body = refused(r, 422, code, before, "未导入")
        error = body["details"]["errors"][0]
        assert {k: error[k] for k in first} == first, (code, body)
        assert error["code"] == code and CJK.search(error["message"])
        assert body["details"]["count"] == len(body["details"]["errors"])
    # the unknown reference also leaves one transfer without a result
    r = _upload(client, run["id"], ("\n".join(cases[0][0]) + "\n").encode())
    unknown, missing = r.json()["details"]["errors"]
    assert unknown["code"] == "bank_return.unknown_payment"
    assert f"{run['number']}-999999" in unknown["message"]  # the row's reference, named
    assert missing["code"] == "bank_return.missing_payments" and "1 笔" in missing["message"]
    assert ref not in unknown["message"]
    # not a text file at all
    r = _upload(client, run["id"], b"\xff\xfe\x00\x81garbage\xff")
    refused(r, 422, "bank_return.format", before, "编码")
    assert set(Payment.objects.values_list("status", flat=True)) == {"sent"}
    # the good file is then taken
    r = _upload(client, run["id"], bank_return(exported["text"]))
    assert r.status_code == 200 and r.json()["paid"] == "1512.50"
    assert set(Payment.objects.values_list("status", flat=True)) == {"paid"}
