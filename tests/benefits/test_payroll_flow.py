"""A month paid end to end through the API: payroll, four eyes, bank file, return,
reconciliation, and the failed payment re-issued next month once its account is fixed."""

from __future__ import annotations

import hashlib
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from minzheng.benefits.models import Entitlement, Payment
from tests.applications.conftest import Clock
from tests.benefits.conftest import bank_return, card, entitle, post
from tests.fixtures import Cast


def test_a_month_paid_end_to_end(cast: Cast, today: Clock, second_approver) -> None:  # type: ignore[no-untyped-def]
    district = cast.api("district_approver")
    entitle(cast.own, "1012.50", date(2026, 11, 1))
    # decided in November, back-dated to September: two months of arrears
    far = entitle(cast.other_street, "500.00", date(2026, 9, 1))

    r = post(district, "/api/v1/payrolls", {"period": "2026-11"})
    assert r.status_code == 202, r.content
    run = r.json()
    # 1,012.50 (near, November) + 3 × 500.00 (far, September to November) = 2,512.50
    assert run["status"] == "preview" and run["line_count"] == 4 and run["total"] == "2512.50"
    kinds = {(row["programme"], row["kind"]): row["amount"] for row in run["by_programme"]}
    assert kinds == {("dibao", "arrears"): "1000.00", ("dibao", "regular"): "1512.50"}

    r = post(district, f"/api/v1/payrolls/{run['id']}/approval", {"reason": "同意"})
    assert r.status_code == 403 and r.json()["code"] == "payroll.four_eyes"
    assert not Payment.objects.exists()
    r = post(second_approver, f"/api/v1/payrolls/{run['id']}/approval", {"reason": "同意"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert Payment.objects.count() == 4

    r = post(district, "/api/v1/payrolls", {"period": "2026-11"})
    assert r.status_code == 409 and r.json()["code"] == "payroll.already_approved"

    r = district.post(f"/api/v1/payrolls/{run['id']}/bank-file")
    assert r.status_code == 201, r.content
    meta = r.json()
    assert meta["row_count"] == 2 and meta["control_total"] == "2512.50"
    r = district.get(f"/api/v1/payrolls/{run['id']}/bank-file")
    content = r.content
    assert hashlib.sha256(content).hexdigest() == meta["sha256"] == r["X-Content-SHA256"]
    text = content.decode()
    assert text.splitlines()[-1] == "T,2,2512.50"
    far_ref = f"{run['number']}-{far.pk}"
    assert f",{far_ref}," in text

    upload = bank_return(text, {far_ref: ("E01", "账户不存在")})
    r = district.post(f"/api/v1/payrolls/{run['id']}/bank-return",
                      {"file": SimpleUploadedFile("return.csv", upload)})  # fmt: skip
    assert r.status_code == 200, r.content
    rec = r.json()
    (dibao,) = rec["programmes"]
    assert (dibao["approved"], dibao["failed"], dibao["paid"]) == ("2512.50", "1500.00", "1012.50")
    assert rec["balanced"] is True and rec["bank"]["paid_total"] == "1012.50"
    assert {p["failure_reason"] for p in rec["failed_payments"]} == {"账户不存在"}
    r = district.post(f"/api/v1/payrolls/{run['id']}/bank-return",
                      {"file": SimpleUploadedFile("return.csv", upload)})  # fmt: skip
    assert r.status_code == 409 and r.json()["code"] == "bank_return.already_imported"

    # December: the failed account is not fixed yet, so its months wait
    today.day = date(2026, 12, 3)
    dec = post(district, "/api/v1/payrolls", {"period": "2026-12"}).json()
    assert dec["line_count"] == 1 and dec["total"] == "1012.50" and dec["held_count"] == 1
    # the worker corrects the account; the preview is now stale
    worker = cast.api("community_worker")
    street = cast.api("street_reviewer")
    r = street.put(f"/api/v1/entitlements/{far.pk}/bank-account",
                   data={"bank_code": "102", "account_number": card("622202999988887777"),
                         "account_name": "李四", "reason": "银行退回后更正"},
                   content_type="application/json")  # fmt: skip
    assert r.status_code == 404  # another street's household
    r = cast.api("district_approver").put(
        f"/api/v1/entitlements/{far.pk}/bank-account",
        data={"bank_code": "102", "account_number": card("622202999988887777"),
              "account_name": "李四", "reason": "银行退回后更正"},
        content_type="application/json",
    )  # fmt: skip
    assert r.status_code == 200, r.content
    assert worker  # the worker of community A cannot see community B either
    r = post(second_approver, f"/api/v1/payrolls/{dec['id']}/approval", {"reason": "同意"})
    assert r.status_code == 409 and r.json()["code"] == "payroll.stale"
    r = post(district, f"/api/v1/payrolls/{dec['id']}/recompute", {"reason": "账户已更正"})
    dec = r.json()
    # 1,012.50 (near) + 3 × 500.00 re-issued + 500.00 (far, December) = 3,012.50
    assert dec["line_count"] == 5 and dec["total"] == "3012.50" and dec["held_count"] == 0
    r = post(second_approver, f"/api/v1/payrolls/{dec['id']}/approval", {"reason": "同意"})
    assert r.status_code == 200
    reissues = Payment.objects.filter(kind="reissue")
    assert reissues.count() == 3 and all(p.reissue_of.status == "failed" for p in reissues)

    balances = district.get("/api/v1/ledger/balances?programme=dibao").json()["items"]
    total = {row["account"]: 0 for row in balances}
    for row in balances:
        total[row["account"]] += float(row["balance"])
    # expense: 2,512.50 + 1,512.50 (new December money; the re-issue is not new expense)
    assert round(total["expense"], 2) == 4025.00
    assert round(total["returned"], 2) == 0.00  # everything returned has been re-issued
    assert Entitlement.objects.get(pk=far.pk).settled_through == date(2026, 12, 1)
