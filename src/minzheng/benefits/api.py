"""/api/v1/payrolls, /api/v1/payments, /api/v1/entitlements, /api/v1/ledger: a thin skin
over the ledger's services and selectors. POSTs that create payroll runs accept an
``Idempotency-Key`` header: a repeat gets the first answer."""

from __future__ import annotations

import threading
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from ninja import File, Header, Router
from ninja.files import UploadedFile
from pydantic import Field

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.core.errors import ApplicationError
from minzheng.core.pagination import paginate
from minzheng.core.schemas import Strict, error_responses

from . import bankfiles, payroll, selectors, services
from .errors import BenefitsErrorCode as Code
from .idempotency import idempotent

router = Router(tags=["救助资金发放 benefits ledger"])
ERRORS = error_responses(401, 403, 404, 409, 413, 422)
MAX_RETURN_BYTES = 200 * 1024 * 1024

# Tests compute inside the request; the server computes in a thread after commit.
RUN_IN_BACKGROUND = True


def _execute(run_id: int) -> None:
    try:
        payroll.payroll_execute(run_id)
    except Exception:  # marked failed and logged by the service
        pass
    finally:
        connection.close()


def start_payroll(run_id: int) -> None:
    if not RUN_IN_BACKGROUND:
        payroll.payroll_execute(run_id)
        return
    thread = threading.Thread(target=_execute, args=(run_id,), daemon=True,
                              name=f"payroll-{run_id}")  # fmt: skip
    transaction.on_commit(thread.start)


class PayrollIn(Strict):
    period: str = Field(description="发放月份 YYYY-MM（不能是未来月份）")
    division: str | None = Field(None, description="区或街道的区划代码，缺省为本人所在区划")


class ReasonIn(Strict):
    reason: str = Field(description="意见或理由（必填）")


class AccountIn(Strict):
    bank_code: str = Field(description="开户银行代码：3位银行类别代码或12位联行号")
    account_number: str = Field(description="银行卡号（16–19位，含校验位）或存折账号")
    account_name: str = Field(description="账户名")
    account_kind: str = Field("card", description="card（银行卡）或 passbook（存折）")
    reason: str = Field("登记银行账户", description="理由")


class StatusIn(Strict):
    action: str = Field(description="suspend（暂停）、resume（恢复）或 end（终止）")
    month: str = Field(description="suspend/resume：起始月份；end：最后发放月份（YYYY-MM）")
    reason: str


class AmountIn(Strict):
    amount: str
    from_month: str
    reason: str


def _create_run(request: HttpRequest, payload: PayrollIn, key: str | None, endpoint: str) -> tuple[int, dict[str, Any]]:  # fmt: skip
    actor = actor_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        run = payroll.payroll_create(actor=actor, period=payload.period, division=payload.division)
        start_payroll(run.pk)
        run.refresh_from_db()
        return 202, selectors.payroll_out(run, detail=True)

    return idempotent(actor, key, endpoint, payload.model_dump(), work)


@router.get("/payrolls", response={200: dict[str, Any], **ERRORS}, summary="发放批次列表")
def payrolls_list(request: HttpRequest, page: int = 1, page_size: int = 50,
                  period: str | None = None) -> dict[str, Any]:  # fmt: skip
    actor = actor_of(request)
    return paginate(selectors.payrolls_list(actor, period=period), page, page_size,
                    selectors.payroll_out)  # fmt: skip


@router.post("/payrolls", response={202: dict[str, Any], **ERRORS},
             summary="计算某月发放（后台任务；支持 Idempotency-Key）")  # fmt: skip
def payrolls_create(request: HttpRequest, payload: PayrollIn,
                    idempotency_key: str | None = Header(None, alias="Idempotency-Key")) -> tuple[int, dict[str, Any]]:  # fmt: skip
    return _create_run(request, payload, idempotency_key, "POST /payrolls")


@router.get("/payrolls/{run_id}", response={200: dict[str, Any], **ERRORS},
            summary="发放批次（预览：按项目、按街道合计）")  # fmt: skip
def payrolls_get(request: HttpRequest, run_id: int) -> dict[str, Any]:
    run = access.access_payroll_by_id(actor_of(request), run_id)
    return selectors.payroll_out(run, detail=True)


@router.post("/payrolls/{run_id}/approval", response={200: dict[str, Any], **ERRORS},
             summary="审批发放（须为制表人以外的另一人）")  # fmt: skip
def payrolls_approve(request: HttpRequest, run_id: int, payload: ReasonIn) -> dict[str, Any]:
    run = payroll.payroll_approve(actor=actor_of(request), run_id=run_id, reason=payload.reason)
    return selectors.payroll_out(run, detail=True)


@router.post("/payrolls/{run_id}/recompute", response={202: dict[str, Any], **ERRORS},
             summary="重新计算（待遇变化后，或计算中断后继续）")  # fmt: skip
def payrolls_recompute(request: HttpRequest, run_id: int, payload: ReasonIn) -> tuple[int, dict[str, Any]]:  # fmt: skip
    actor = actor_of(request)
    run = access.access_payroll_by_id(actor, run_id)
    if payroll.payroll_stalled(run):
        payroll.payroll_resume(actor=actor, run_id=run_id)
    else:
        run = payroll.payroll_recompute(actor=actor, run_id=run_id, reason=payload.reason)
    start_payroll(run.pk)
    run.refresh_from_db()
    return 202, selectors.payroll_out(run, detail=True)


@router.post("/payrolls/{run_id}/cancellation", response={200: dict[str, Any], **ERRORS},
             summary="撤销未审批的发放批次")  # fmt: skip
def payrolls_cancel(request: HttpRequest, run_id: int, payload: ReasonIn) -> dict[str, Any]:
    run = payroll.payroll_cancel(actor=actor_of(request), run_id=run_id, reason=payload.reason)
    return selectors.payroll_out(run)


@router.post("/payrolls/{run_id}/bank-file", response={201: dict[str, Any], **ERRORS},
             summary="生成银行代发文件（含控制总额与文件摘要）")  # fmt: skip
def bank_file_create(request: HttpRequest, run_id: int) -> tuple[int, dict[str, Any]]:
    batch = bankfiles.bank_file_export(actor=actor_of(request), run_id=run_id)
    return 201, {"file_name": batch.file_name, "row_count": batch.row_count,
                 "control_total": f"{batch.control_total:.2f}", "sha256": batch.sha256,
                 "download": f"/api/v1/payrolls/{run_id}/bank-file"}  # fmt: skip


@router.get("/payrolls/{run_id}/bank-file", response={200: None, **ERRORS},
            summary="下载银行代发文件（CSV，响应头 X-Content-SHA256）")  # fmt: skip
def bank_file_download(request: HttpRequest, run_id: int) -> HttpResponse:
    batch, content = bankfiles.bank_file_content(actor=actor_of(request), run_id=run_id)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{batch.file_name}"'
    response["X-Content-SHA256"] = batch.sha256
    response["Cache-Control"] = "no-store"
    return response


@router.post("/payrolls/{run_id}/bank-return", response={200: dict[str, Any], **ERRORS},
             summary="导入银行回盘文件并对账（全部成功或全部不导入）")  # fmt: skip
def bank_return_import(request: HttpRequest, run_id: int, file: File[UploadedFile]) -> dict[str, Any]:  # fmt: skip
    content = file.read(MAX_RETURN_BYTES + 1)
    if len(content) > MAX_RETURN_BYTES:
        raise ApplicationError(Code.RETURN_FORMAT, "回盘文件超过 200 MB", status=413)
    return bankfiles.bank_return_import(actor=actor_of(request), run_id=run_id, content=content)


@router.get("/payrolls/{run_id}/reconciliation", response={200: dict[str, Any], **ERRORS},
            summary="对账报告：实发 = 审批 − 失败（按项目，精确到分）")  # fmt: skip
def payrolls_reconciliation(request: HttpRequest, run_id: int) -> dict[str, Any]:
    run = access.access_payroll_by_id(actor_of(request), run_id)
    return bankfiles.reconciliation(run)


@router.get("/payments", response={200: dict[str, Any], **ERRORS}, summary="发放记录（本辖区）")
def payments_list(request: HttpRequest, page: int = 1, page_size: int = 50,
                  period: str | None = None, programme: str | None = None,
                  status: str | None = None, household: int | None = None,
                  payroll: int | None = None) -> dict[str, Any]:  # fmt: skip
    qs = selectors.payments_list(actor_of(request), period=period, programme=programme,
                                 status=status, household=household, payroll=payroll)  # fmt: skip
    return paginate(qs, page, page_size, selectors.payment_out)


@router.post("/payments", response={202: dict[str, Any], **ERRORS},
             summary="发放某月（同 POST /payrolls：创建并计算发放批次；支持 Idempotency-Key）")  # fmt: skip
def payments_create(request: HttpRequest, payload: PayrollIn,
                    idempotency_key: str | None = Header(None, alias="Idempotency-Key")) -> tuple[int, dict[str, Any]]:  # fmt: skip
    return _create_run(request, payload, idempotency_key, "POST /payrolls")


@router.post("/payments/{payment_id}/reissue", response={200: dict[str, Any], **ERRORS},
             summary="失败的发放确认可重发（银行方原因已排除）")  # fmt: skip
def payments_reissue(request: HttpRequest, payment_id: int, payload: ReasonIn) -> dict[str, Any]:
    p = services.payment_reissue_mark(actor=actor_of(request), payment_id=payment_id,
                                      reason=payload.reason)  # fmt: skip
    return selectors.payment_out(p)


@router.get("/entitlements", response={200: dict[str, Any], **ERRORS}, summary="救助待遇（本辖区）")
def entitlements_list(request: HttpRequest, page: int = 1, page_size: int = 50,
                      programme: str | None = None, status: str | None = None,
                      household: int | None = None) -> dict[str, Any]:  # fmt: skip
    qs = selectors.entitlements_list(actor_of(request), programme=programme, status=status,
                                     household=household)  # fmt: skip
    return paginate(qs, page, page_size, selectors.entitlement_out)


@router.get("/entitlements/{entitlement_id}", response={200: dict[str, Any], **ERRORS},
            summary="救助待遇详情（金额计划、暂停、变更记录）")  # fmt: skip
def entitlements_get(request: HttpRequest, entitlement_id: int) -> dict[str, Any]:
    ent = access.access_entitlement_by_id(actor_of(request), entitlement_id)
    return selectors.entitlement_out(ent, detail=True)


@router.put("/entitlements/{entitlement_id}/bank-account", response={200: dict[str, Any], **ERRORS},
            summary="登记或变更银行账户（银行卡号校验位）")  # fmt: skip
def entitlements_account(request: HttpRequest, entitlement_id: int, payload: AccountIn) -> dict[str, Any]:  # fmt: skip
    ent = services.entitlement_account_set(actor=actor_of(request), entitlement_id=entitlement_id,
                                           **payload.model_dump())  # fmt: skip
    return selectors.entitlement_out(ent, detail=True)


@router.post("/entitlements/{entitlement_id}/status", response={200: dict[str, Any], **ERRORS},
             summary="暂停、恢复或终止发放")  # fmt: skip
def entitlements_status(request: HttpRequest, entitlement_id: int, payload: StatusIn) -> dict[str, Any]:  # fmt: skip
    actor = actor_of(request)
    if payload.action == "suspend":
        ent = services.entitlement_suspend(actor=actor, entitlement_id=entitlement_id,
                                           from_month=payload.month, reason=payload.reason)  # fmt: skip
    elif payload.action == "resume":
        ent = services.entitlement_resume(actor=actor, entitlement_id=entitlement_id,
                                          from_month=payload.month, reason=payload.reason)  # fmt: skip
    elif payload.action == "end":
        ent = services.entitlement_end(actor=actor, entitlement_id=entitlement_id,
                                       last_month=payload.month, reason=payload.reason)  # fmt: skip
    else:
        raise ApplicationError(Code.ENTITLEMENT_STATE, "action 应为 suspend、resume 或 end",
                               {"field": "action"}, status=422)  # fmt: skip
    return selectors.entitlement_out(ent, detail=True)


@router.post("/entitlements/{entitlement_id}/amount", response={200: dict[str, Any], **ERRORS},
             summary="从某月起调整金额（早于已发月份的差额由下次发放补发或追回）")  # fmt: skip
def entitlements_amount(request: HttpRequest, entitlement_id: int, payload: AmountIn) -> dict[str, Any]:  # fmt: skip
    ent = services.entitlement_amount_set(actor=actor_of(request), entitlement_id=entitlement_id,
                                          from_month=payload.from_month, amount=payload.amount,
                                          reason=payload.reason)  # fmt: skip
    return selectors.entitlement_out(ent, detail=True)


@router.get("/ledger/balances", response={200: dict[str, Any], **ERRORS},
            summary="总账余额（按项目、月份、科目）")  # fmt: skip
def ledger_balances(request: HttpRequest, programme: str | None = None,
                    period: str | None = None) -> dict[str, Any]:  # fmt: skip
    rows = selectors.ledger_balances(actor_of(request), programme=programme, period=period)
    return {"items": rows, "count": len(rows)}
