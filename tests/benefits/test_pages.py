"""The benefits ledger's pages as district approvers, auditors, workers and residents see
them (no browser): payroll runs from computing to reconciliation, entitlements and their
forms, the journal, scope, and the English on request."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import user_create
from minzheng.benefits import payroll
from minzheng.benefits.models import (
    Entitlement,
    EntitlementEvent,
    JournalLine,
    Payment,
    PayrollRun,
    PayrollStatus,
)
from minzheng.registry.models import Household
from tests.applications.conftest import Clock
from tests.benefits.conftest import bank_return, card, entitle
from tests.fixtures import COMMUNITY_A, Cast

NOV = date(2026, 11, 1)


def _text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def _web(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def approver2(second_approver: Client) -> Client:
    """The second district approver, signed in to the pages."""
    return _web("u_approver2")


@pytest.fixture
def month(cast: Cast, today: Clock, make_household: Callable[..., Household]) -> dict[str, Entitlement]:  # fmt: skip
    """November's entitlements: one in street A, one back-dated in street B (two months
    of arrears), and one without a bank account (held)."""
    return {
        "near": entitle(cast.own, "1012.50", NOV),
        "far": entitle(cast.other_street, "500.00", date(2026, 9, 1)),
        "no_account": entitle(make_household(COMMUNITY_A, "王五"), "300.00", NOV, account=False),
    }


def _compute(client: Client, period: str = "2026-11", division: str = "110102") -> PayrollRun:
    r = client.post("/benefits/payrolls/", {"period": period, "division": division})
    assert r.status_code == 302, _text(r)
    run = PayrollRun.objects.get()
    assert r["Location"] == f"/benefits/payrolls/{run.pk}/"
    return run


# -- payroll runs ---------------------------------------------------------------------------


def test_a_month_from_computing_to_reconciliation_through_the_pages(
    cast: Cast, month: dict[str, Entitlement], approver2: Client
) -> None:
    district = cast.client("district_approver")
    page = _text(district.get("/benefits/payrolls/"))
    assert 'id="payroll-form"' in page and 'value="2026-11"' in page and "展览路街道" in page
    run = _compute(district)
    assert run.status == PayrollStatus.PREVIEW and run.line_count == 4

    page = _text(district.get(f"/benefits/payrolls/{run.pk}/"))
    assert "2512.50" in page and "待审批" in page and "hx-get" not in page
    assert 'data-kind="arrears"' in page and "1000.00" in page  # September and October
    assert "展览路街道" in page and "西长安街街道" in page  # by street
    assert "暂缓发放" in page and "未登记银行账户" in page  # the held entitlement
    assert 'id="four-eyes"' in page  # the preparer is told a second person approves

    # the preparer's own approval is refused with the service's message; nothing is paid
    r = district.post(f"/benefits/payrolls/{run.pk}/approval/", {"reason": "同意"}, follow=True)
    assert "发放须由制表人以外的另一名区级审批员审批" in _text(r)
    assert not Payment.objects.exists()
    # an approval without a reason is refused too
    r = approver2.post(f"/benefits/payrolls/{run.pk}/approval/", {"reason": " "}, follow=True)
    assert "请填写理由" in _text(r) and not Payment.objects.exists()
    r = approver2.post(f"/benefits/payrolls/{run.pk}/approval/", {"reason": "同意发放"},
                       follow=True)  # fmt: skip
    assert "已审批，发放记录已生成" in _text(r) and Payment.objects.count() == 4
    run.refresh_from_db()
    assert run.status == PayrollStatus.APPROVED and run.approved_by.username == "u_approver2"

    r = district.post(f"/benefits/payrolls/{run.pk}/bank-file/export/", follow=True)
    assert "已生成银行代发文件" in _text(r) and "2 笔" in _text(r)
    r = district.get(f"/benefits/payrolls/{run.pk}/bank-file/")
    assert r.status_code == 200 and r["Content-Disposition"].startswith("attachment;")
    content = r.content
    assert hashlib.sha256(content).hexdigest() == r["X-Content-SHA256"] == run.batch.sha256
    text = content.decode()
    far_ref = f"{run.number}-{month['far'].pk}"

    # a return whose control total is wrong is refused whole, with row, column and reason
    bad = bank_return(text, total="9999.99")
    r = district.post(f"/benefits/payrolls/{run.pk}/bank-return/",
                      {"file": SimpleUploadedFile("return.csv", bad)})  # fmt: skip
    page = _text(r)
    assert r.status_code == 422 and 'id="return-errors"' in page and "控制总额" in page
    assert not Payment.objects.filter(status__in=["paid", "failed"]).exists()
    r = district.post(f"/benefits/payrolls/{run.pk}/bank-return/", {})
    assert r.status_code == 422 and "请选择回盘文件" in _text(r)

    good = bank_return(text, {far_ref: ("E01", "账户不存在")})
    r = district.post(f"/benefits/payrolls/{run.pk}/bank-return/",
                      {"file": SimpleUploadedFile("return.csv", good)}, follow=True)  # fmt: skip
    page = _text(r)
    assert "回盘已导入并完成对账：3 笔发放失败" in page
    assert 'id="rec-approved">2512.50' in page and 'id="rec-failed">1500.00' in page
    assert 'id="rec-paid">1012.50' in page and "平衡 ✓" in page
    assert "账户不存在" in page and "6222 **** ****" in page  # the account, masked
    assert card(f"6222021234{month['far'].household_id:08d}") not in page

    failed = Payment.objects.filter(status="failed").order_by("pk").first()
    assert failed is not None
    r = district.post(f"/benefits/payments/{failed.pk}/reissue/", {"reason": "", "back": "payroll"},
                      follow=True)  # fmt: skip
    assert "请填写理由" in _text(r)
    failed.refresh_from_db()
    assert not failed.reissue_ready
    r = district.post(f"/benefits/payments/{failed.pk}/reissue/",
                      {"reason": "银行系统故障已排除", "back": "payroll"})  # fmt: skip
    assert r.status_code == 302 and r["Location"] == f"/benefits/payrolls/{run.pk}/"
    failed.refresh_from_db()
    assert failed.reissue_ready
    assert "已确认重发" in _text(district.get(f"/benefits/payrolls/{run.pk}/"))


def test_the_compute_form_shows_errors_in_chinese_and_creates_nothing(
    cast: Cast, month: dict[str, Entitlement]
) -> None:
    district = cast.client("district_approver")
    cases = [
        ({"period": "2026-12", "division": "110102"}, 422, "不能计算未来月份"),
        ({"period": "2026/11", "division": "110102"}, 422, "月份格式应为 YYYY-MM"),
        ({"period": "2026-11", "division": COMMUNITY_A}, 422, "发放按区或街道计算"),
        ({"period": "2026-11", "division": "110101"}, 404, "不在您的管辖范围内"),
    ]
    for data, status, message in cases:
        r = district.post("/benefits/payrolls/", data)
        assert r.status_code == status and message in _text(r), (data, _text(r))
        assert 'id="payroll-error"' in _text(r)
    assert not PayrollRun.objects.exists()
    _compute(district)
    r = district.post("/benefits/payrolls/", {"period": "2026-11", "division": "110102"})
    assert r.status_code == 409 and "尚未审批" in _text(r)
    assert PayrollRun.objects.count() == 1
    # the list's month filter
    r = district.get("/benefits/payrolls/", {"period": "2026-10"})
    assert r.status_code == 200 and "还没有发放批次" in _text(r)
    r = district.get("/benefits/payrolls/", {"period": "11/2026"})
    assert r.status_code == 422 and "月份格式" in _text(r)


def test_progress_is_polled_and_a_stalled_run_can_continue(
    cast: Cast, month: dict[str, Entitlement]
) -> None:
    district = cast.client("district_approver")
    run = payroll.payroll_create(actor=cast.users["district_approver"], period="2026-11")
    page = _text(district.get(f"/benefits/payrolls/{run.pk}/"))
    assert f'hx-get="/benefits/payrolls/{run.pk}/"' in page and "排队中" in page
    fragment = district.get(f"/benefits/payrolls/{run.pk}/", HTTP_HX_REQUEST="true")
    assert 'id="progress"' in _text(fragment) and "<html" not in _text(fragment)

    # its process died in the middle: no heartbeat for ten minutes
    PayrollRun.objects.filter(pk=run.pk).update(
        status=PayrollStatus.COMPUTING, heartbeat=timezone.now() - timedelta(minutes=11), total=3
    )
    fragment = district.get(f"/benefits/payrolls/{run.pk}/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and fragment["HX-Refresh"] == "true"
    page = _text(district.get(f"/benefits/payrolls/{run.pk}/"))
    assert "计算中断" in page and "继续计算" in page and "hx-get" not in page
    assert "计算中断" in _text(district.get("/benefits/payrolls/"))
    r = district.post(f"/benefits/payrolls/{run.pk}/recompute/", {}, follow=True)
    assert "已开始计算" in _text(r)
    run.refresh_from_db()
    assert run.status == PayrollStatus.PREVIEW and run.line_count == 4

    # 重新计算 needs a reason; 撤销 too, and then the month can be computed again
    r = district.post(f"/benefits/payrolls/{run.pk}/recompute/", {"reason": ""}, follow=True)
    assert "请填写理由" in _text(r)
    r = district.post(f"/benefits/payrolls/{run.pk}/recompute/", {"reason": "待遇已变化"})
    assert r.status_code == 302
    r = district.post(f"/benefits/payrolls/{run.pk}/cancellation/", {"reason": ""}, follow=True)
    assert "请填写理由" in _text(r)
    r = district.post(f"/benefits/payrolls/{run.pk}/cancellation/", {"reason": "口径有误"},
                      follow=True)  # fmt: skip
    assert "发放批次已撤销" in _text(r) and "口径有误" in _text(r)
    run.refresh_from_db()
    assert run.status == PayrollStatus.CANCELLED


def test_who_sees_payroll_runs_and_out_of_scope_is_not_found(
    cast: Cast, month: dict[str, Entitlement]
) -> None:
    run = _compute(cast.client("district_approver"))
    for role in ("community_worker", "street_reviewer", "department_liaison", "resident"):
        r = cast.client(role).get("/benefits/payrolls/")
        assert r.status_code == 403 and "仅供区级审批员" in _text(r), role
        assert cast.client(role).get(f"/benefits/payrolls/{run.pk}/").status_code in (403, 404)
    for role in ("auditor", "admin"):
        page = _text(cast.client(role).get("/benefits/payrolls/"))
        assert run.number in page and 'id="read-only"' in page and 'id="payroll-form"' not in page
        detail = _text(cast.client(role).get(f"/benefits/payrolls/{run.pk}/"))
        assert "2512.50" in detail and 'id="actions"' not in detail
    # the auditor cannot approve; the refusal is a message, not a 500
    r = cast.client("auditor").post(f"/benefits/payrolls/{run.pk}/approval/", {"reason": "同意"},
                                    follow=True)  # fmt: skip
    assert "须由区级审批员办理" in _text(r)
    # a district approver of Dongcheng does not see Xicheng's run at all
    user_create(username="dongcheng", role=Role.DISTRICT_APPROVER, division_code="110101",
                password="pw-123456")  # fmt: skip
    outsider = _web("dongcheng")
    assert run.number not in _text(outsider.get("/benefits/payrolls/"))
    assert outsider.get(f"/benefits/payrolls/{run.pk}/").status_code == 404
    assert (
        outsider.post(f"/benefits/payrolls/{run.pk}/approval/", {"reason": "x"}).status_code == 404
    )
    assert outsider.get(f"/benefits/payrolls/{run.pk}/bank-file/").status_code == 404
    assert outsider.post(f"/benefits/payrolls/{run.pk}/bank-return/", {}).status_code in (404, 422)
    assert outsider.get(f"/benefits/entitlements/{month['near'].pk}/").status_code == 404
    # the bank file before it exists: a Chinese message
    r = cast.client("district_approver").get(f"/benefits/payrolls/{run.pk}/bank-file/")
    assert r.status_code == 404 and "尚未生成银行代发文件" in _text(r)


# -- entitlements ---------------------------------------------------------------------------


def test_entitlement_pages_are_scoped_and_mask_identities(
    cast: Cast, month: dict[str, Entitlement]
) -> None:
    near, far = month["near"], month["far"]
    head = cast.own.members.get()
    Entitlement.objects.filter(pk=near.pk).update(payee=head)
    worker = cast.client("community_worker")
    page = _text(worker.get("/benefits/entitlements/"))
    assert cast.own.number in page and cast.other_street.number not in page
    assert head.id_number_masked in page and head.id_number not in page
    assert "未登记" in page  # the household without a bank account
    detail = _text(worker.get(f"/benefits/entitlements/{near.pk}/"))
    assert "1012.50" in detail and head.id_number not in detail and "6222 **** ****" in detail
    assert 'class="act act-account"' in detail  # a worker may change it
    assert worker.get(f"/benefits/entitlements/{far.pk}/").status_code == 404
    assert (
        cast.client("street_reviewer").get(f"/benefits/entitlements/{far.pk}/").status_code == 404
    )
    assert (
        cast.client("district_approver").get(f"/benefits/entitlements/{far.pk}/").status_code == 200
    )
    auditor = _text(cast.client("auditor").get(f"/benefits/entitlements/{near.pk}/"))
    assert "1012.50" in auditor and 'class="act act-account"' not in auditor  # read only
    for role in ("department_liaison", "service_provider"):
        assert cast.client(role).get("/benefits/entitlements/").status_code == 403
    # a resident sees their own, read only, and nobody else's
    resident = cast.client("resident")
    assert cast.own.number in _text(resident.get("/benefits/entitlements/"))
    mine = _text(resident.get(f"/benefits/entitlements/{near.pk}/"))
    assert "1012.50" in mine and "act-account" not in mine
    assert resident.get(f"/benefits/entitlements/{far.pk}/").status_code == 404

    district = cast.client("district_approver")
    r = district.get("/benefits/entitlements/", {"household": cast.other_street.number})
    assert cast.other_street.number in _text(r) and cast.own.number not in _text(r)
    r = district.get("/benefits/entitlements/", {"status": "suspended"})
    assert "没有符合条件的救助待遇" in _text(r)
    r = district.get("/benefits/entitlements/", {"programme": "dibao", "status": "active"})
    assert cast.own.number in _text(r) and cast.other_street.number in _text(r)
    # the household page links to its entitlements
    household = _text(worker.get(f"/households/{cast.own.pk}/"))
    assert f"/benefits/entitlements/?household={cast.own.number}" in household


def test_entitlement_forms_refuse_bad_input_in_chinese_and_change_nothing(
    cast: Cast, month: dict[str, Entitlement]
) -> None:
    ent = month["no_account"]
    worker = cast.client("community_worker")
    url = f"/benefits/entitlements/{ent.pk}"
    events = EntitlementEvent.objects.filter(entitlement=ent).count()

    bad_digit = card("622202123456789012")[:-1] + "0"
    if bad_digit == card("622202123456789012"):
        bad_digit = bad_digit[:-1] + "1"
    r = worker.post(f"{url}/bank-account/", {"bank_code": "102", "account_number": bad_digit,
                                             "account_name": "王五", "account_kind": "card"})  # fmt: skip
    page = _text(r)
    assert r.status_code == 422 and "银行卡号校验位错误" in page and 'id="account-error"' in page
    assert bad_digit not in page  # a typed account number is not echoed back
    r = worker.post(f"{url}/bank-account/", {"bank_code": "999", "account_number": card(),
                                             "account_name": "王五"})  # fmt: skip
    assert r.status_code == 422 and "开户银行代码无效" in _text(r)
    r = worker.post(f"{url}/status/", {"action": "suspend", "month": "2026-12", "reason": ""})
    assert r.status_code == 422 and "请填写理由" in _text(r) and 'id="status-error"' in _text(r)
    r = worker.post(f"{url}/status/", {"action": "fly", "month": "2026-12", "reason": "x"})
    assert r.status_code == 422 and "请选择暂停、恢复或终止" in _text(r)
    r = worker.post(f"{url}/amount/", {"from_month": "2026-12", "amount": "abc", "reason": "复核"})
    assert r.status_code == 422 and "金额无效" in _text(r) and 'value="abc"' in _text(r)
    r = worker.post(f"{url}/amount/", {"from_month": "12/2026", "amount": "350", "reason": "复核"})
    assert r.status_code == 422 and "月份格式" in _text(r)
    ent.refresh_from_db()
    assert ent.account_masked == "" and ent.status == "active" and str(ent.amount) == "300.00"
    assert EntitlementEvent.objects.filter(entitlement=ent).count() == events
    # a department liaison may not change it; another street's worker does not find it
    assert cast.client("auditor").post(f"{url}/amount/", {"from_month": "2026-12", "amount": "1",
                                                          "reason": "x"}).status_code == 403  # fmt: skip
    far = month["far"]
    r = worker.post(f"/benefits/entitlements/{far.pk}/amount/",
                    {"from_month": "2026-12", "amount": "1", "reason": "x"})  # fmt: skip
    assert r.status_code == 404

    number = card("622202777766665555")
    r = worker.post(f"{url}/bank-account/", {"bank_code": "102", "account_number": number,
                                             "account_name": "王五", "account_kind": "card",
                                             "reason": "本人提供银行卡"}, follow=True)  # fmt: skip
    page = _text(r)
    assert "银行账户已保存" in page and "6222 **** **** 5555"[:9] in page and number not in page
    r = worker.post(f"{url}/status/", {"action": "suspend", "month": "2026-12",
                                       "reason": "外出务工，暂停"}, follow=True)  # fmt: skip
    assert "已暂停发放" in _text(r) and 'data-status="suspended"' in _text(r)
    assert 'id="suspensions"' in _text(r)
    r = worker.post(f"{url}/status/", {"action": "resume", "month": "2027-01",
                                       "reason": "返回本市"}, follow=True)  # fmt: skip
    assert "已恢复发放" in _text(r) and 'data-status="active"' in _text(r)
    r = worker.post(f"{url}/amount/", {"from_month": "2027-01", "amount": "350.00",
                                       "reason": "复核调整"}, follow=True)  # fmt: skip
    page = _text(r)
    assert "金额已调整" in page and "300.00 → 350.00" in page and "复核调整" in page
    r = worker.post(f"{url}/status/", {"action": "end", "month": "2027-03",
                                       "reason": "收入超过标准"}, follow=True)  # fmt: skip
    assert "已终止发放" in _text(r) and 'class="act act-account"' not in _text(r)
    assert EntitlementEvent.objects.filter(entitlement=ent).count() == events + 5


def test_a_failed_payment_is_released_from_the_entitlement_page(
    cast: Cast, month: dict[str, Entitlement], approver2: Client
) -> None:
    district = cast.client("district_approver")
    run = _compute(district)
    approver2.post(f"/benefits/payrolls/{run.pk}/approval/", {"reason": "同意"})
    district.post(f"/benefits/payrolls/{run.pk}/bank-file/export/")
    text = district.get(f"/benefits/payrolls/{run.pk}/bank-file/").content.decode()
    near = month["near"]
    district.post(f"/benefits/payrolls/{run.pk}/bank-return/", {"file": SimpleUploadedFile(
        "r.csv", bank_return(text, {f"{run.number}-{near.pk}": ("E09", "银行系统故障")}))})  # fmt: skip
    worker = cast.client("community_worker")
    page = _text(worker.get(f"/benefits/entitlements/{near.pk}/"))
    assert "发放失败" in page and "银行系统故障" in page and 'class="inline reissue"' in page
    (failed,) = Payment.objects.filter(entitlement=near, status="failed")
    r = worker.post(f"/benefits/payments/{failed.pk}/reissue/",
                    {"reason": "银行已修复", "back": "payroll"})  # fmt: skip
    # a worker does not read payroll runs: back to the entitlement
    assert r.status_code == 302 and r["Location"] == f"/benefits/entitlements/{near.pk}/"
    failed.refresh_from_db()
    assert failed.reissue_ready
    r = worker.post(f"/benefits/payments/{failed.pk}/reissue/", {"reason": "再次"}, follow=True)
    assert "只有发放失败且尚未重发的记录可以重新发放" in _text(r) or "已确认重发" in _text(r)
    far_payment = Payment.objects.filter(entitlement=month["far"]).first()
    assert far_payment is not None
    assert worker.post(f"/benefits/payments/{far_payment.pk}/reissue/",
                       {"reason": "x"}).status_code == 404  # fmt: skip


# -- the journal ----------------------------------------------------------------------------


def test_ledger_balances_and_the_csv_export(
    cast: Cast, month: dict[str, Entitlement], approver2: Client
) -> None:
    district = cast.client("district_approver")
    run = _compute(district)
    approver2.post(f"/benefits/payrolls/{run.pk}/approval/", {"reason": "同意"})
    for role in ("district_approver", "auditor", "admin"):
        page = _text(cast.client(role).get("/benefits/ledger/"))
        assert 'data-account="expense"' in page and "2512.50" in page and "救助支出" in page, role
    for role in ("community_worker", "street_reviewer", "resident"):
        assert cast.client(role).get("/benefits/ledger/").status_code == 403
        assert cast.client(role).get("/benefits/ledger/journal.csv").status_code == 403
    r = district.get("/benefits/ledger/", {"period": "2026-10", "programme": "dibao"})
    assert "暂无记账记录" in _text(r)
    r = district.get("/benefits/ledger/", {"period": "2026/10"})
    assert r.status_code == 422 and "月份格式" in _text(r)

    r = district.get("/benefits/ledger/journal.csv", {"period": "2026-11"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    body = b"".join(r.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["凭证号", "记账时间", "业务", "发放批次", "发放月份", "救助项目", "科目",
                       "借方", "贷方", "摘要", "经办人"]  # fmt: skip
    assert len(rows) - 1 == JournalLine.objects.count() > 0
    assert {r[2] for r in rows[1:]} == {"发放审批"} and {r[3] for r in rows[1:]} == {run.number}
    assert sum(float(r[7]) for r in rows[1:]) == sum(float(r[8]) for r in rows[1:])
    assert district.get("/benefits/ledger/journal.csv", {"period": "x"}).status_code == 422


# -- language -------------------------------------------------------------------------------


def test_the_pages_in_english_on_request(cast: Cast, month: dict[str, Entitlement]) -> None:
    district = cast.client("district_approver")
    run = _compute(district)
    chinese = _text(district.get("/benefits/payrolls/"))
    assert "发放批次" in chinese and "资金发放" in chinese
    district.cookies["django_language"] = "en"
    english = _text(district.get("/benefits/payrolls/"))
    assert 'lang="en"' in english and "Payroll runs" in english and "Compute payroll" in english
    assert "Benefit payments" in english and "发放批次" not in english  # the nav entry, the page
    detail = _text(district.get(f"/benefits/payrolls/{run.pk}/"))
    assert "Awaiting approval" in detail and "Minimum living allowance" in detail
    assert "Held back" in detail and "Arrears" in detail
    assert "Entitlements" in _text(district.get("/benefits/entitlements/"))
    assert "General ledger" in _text(district.get("/benefits/ledger/"))
