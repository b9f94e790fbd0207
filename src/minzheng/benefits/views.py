"""Pages of the benefits ledger: payroll runs (compute, approve, bank file, bank return,
reconciliation), entitlements and their changes, and the journal's balances.

A thin skin over ``payroll``, ``bankfiles``, ``services`` and ``selectors``, which check
roles and scope: a record outside the user's jurisdiction is a 404, every other refusal
a Chinese message on the page, never a 500. A payroll computes in the background exactly
as the API starts it (``api.start_payroll``), and its page follows it by polling.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext, gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.applications import clock
from minzheng.core.errors import ApplicationError, NotFound, PermissionDenied
from minzheng.programmes.eligibility import programme_labels
from minzheng.programmes.selectors import division_names
from minzheng.registry.models import DivisionLevel
from minzheng.registry.selectors import divisions_for_select

from . import api, bankfiles, payroll, selectors, services
from .banks import ACCOUNT_KINDS, BANKS
from .models import DONE_PAYROLL_STATUSES, EntitlementStatus, PayrollRun, PayrollStatus

# The ledger's own labels (model choices, written in Chinese), named here so that
# ``makemessages`` keeps their English in the catalogue; templates translate them.
LABELS = (
    gettext_noop("排队中"), gettext_noop("计算中"), gettext_noop("待审批"),
    gettext_noop("已审批"), gettext_noop("已生成银行文件"), gettext_noop("已对账"),
    gettext_noop("已撤销"), gettext_noop("计算失败"),
    gettext_noop("当月发放"), gettext_noop("补发"), gettext_noop("差额补发"),
    gettext_noop("追回扣减"), gettext_noop("失败重发"),
    gettext_noop("已审批待发送"), gettext_noop("已发送银行"), gettext_noop("已到账"),
    gettext_noop("发放失败"),
    gettext_noop("正常发放"), gettext_noop("暂停发放"), gettext_noop("已终止"),
    gettext_noop("待遇生效"), gettext_noop("金额调整"), gettext_noop("恢复发放"),
    gettext_noop("终止发放"), gettext_noop("变更银行账户"), gettext_noop("动态复核"),
    gettext_noop("标准调整"),
    gettext_noop("救助支出"), gettext_noop("应付救助对象款"), gettext_noop("银行存款（代发）"),
    gettext_noop("退回待重发"),
    gettext_noop("发放审批"), gettext_noop("银行代发"), gettext_noop("银行退回"),
    gettext_noop("退回重发"),
)  # fmt: skip
ACTIVE = (PayrollStatus.PENDING, PayrollStatus.COMPUTING)
PAGE_SIZE = 30
PAYMENTS_SHOWN = 60
CSV_HEADERS = ["凭证号", "记账时间", "业务", "发放批次", "发放月份", "救助项目", "科目",
               "借方", "贷方", "摘要", "经办人"]  # fmt: skip


def _refused(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "benefits/refused.html", {"error": exc.message}, status=exc.status)


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _programme(programme_id: str, label: str | None = None) -> str:
    chinese, english, _unit = programme_labels().get(programme_id, (programme_id, "", ""))
    return (english or chinese) if _english() else (label or chinese)


def _paid_programmes() -> list[tuple[str, str]]:
    """The programmes the payroll pays (monthly or once), for the filters."""
    return [(pid, _programme(pid)) for pid in programme_labels() if services.payroll_unit(pid)]


def _payroll_reader(actor: User) -> None:
    if actor.role not in access.PAYROLL_READERS:
        raise PermissionDenied(
            "benefits.payroll_readers_only",
            gettext("发放批次与总账仅供区级审批员、审计监督员和系统管理员查看"),
        )


def _benefit_reader(actor: User) -> None:
    if actor.role not in access.BENEFIT_READERS and actor.role != Role.RESIDENT:
        raise PermissionDenied("benefits.readers_only", gettext("您的角色不能查看救助待遇"))


def _month_now() -> str:
    return clock.today().strftime("%Y-%m")


# -- payroll runs -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def payroll_list(request: HttpRequest) -> HttpResponse:
    """发放批次: the runs of the jurisdiction, and a district approver's form to compute
    a month for the district or one street."""
    actor = actor_of(request)
    try:
        _payroll_reader(actor)
    except ApplicationError as exc:
        return _refused(request, exc)
    can_compute = actor.role in payroll.PAYROLL_ROLES
    chosen = {
        "period": request.POST.get("period", _month_now()).strip(),
        "division": request.POST.get("division", actor.division.code if actor.division else ""),
    }
    error, error_field, status = "", "", 200
    if request.method == "POST":
        try:
            run = payroll.payroll_create(actor=actor, period=chosen["period"],
                                         division=chosen["division"] or None)  # fmt: skip
        except ApplicationError as exc:
            error, error_field, status = exc.message, exc.details.get("field", ""), exc.status
        else:
            api.start_payroll(run.pk)
            messages.success(request, gettext("已创建发放批次 %(number)s，正在后台计算")
                             % {"number": run.number})  # fmt: skip
            return redirect("payroll_detail", run_id=run.pk)
    period = request.GET.get("period", "").strip()
    try:
        runs = selectors.payrolls_list(actor, period=period or None)
    except ApplicationError as exc:
        runs = selectors.payrolls_list(actor)
        error, error_field, status = exc.message, "filter", exc.status
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [selectors.payroll_out(run) for run in page.object_list],
        "can_compute": can_compute,
        "divisions": divisions_for_select(actor).filter(
            level__in=(DivisionLevel.DISTRICT, DivisionLevel.STREET)
        ),
        "chosen": chosen,
        "period": period,
        "error": error,
        "error_field": error_field,
    }
    return render(request, "benefits/payroll_list.html", context, status=status)


def _texts(value: Any) -> Any:
    """Amounts as the page shows them (exact, to the fen), in nested dicts and lists."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dict):
        return {k: _texts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_texts(v) for v in value]
    return value


def _payroll_context(actor: User, run: PayrollRun) -> dict[str, Any]:
    data = selectors.payroll_out(run, detail=True)
    for row in data.get("by_programme", []):
        row["programme_label"] = _programme(row["programme"], row["programme_label"])
    streets = data.get("by_street", [])
    names = division_names({row["division"] for row in streets})
    for row in streets:
        row["name"] = names.get(row["division"], row["division"])
    held = data.get("held", [])
    numbers = dict(
        access.households_visible(actor)
        .filter(pk__in={h["household"] for h in held})
        .values_list("pk", "number")
    )
    held_rows = [{**h, "household_number": numbers.get(h["household"], h["household"]),
                  "programme_label": _programme(h["programme"])} for h in held]  # fmt: skip
    reconciliation = None
    if run.status in DONE_PAYROLL_STATUSES:
        reconciliation = _texts(bankfiles.reconciliation(run))
        for row in reconciliation["programmes"]:
            row["label"] = _programme(row["programme"], row["label"])
        for p in reconciliation["failed_payments"]:
            p["programme_label"] = _programme(p["programme"])
    can_act = actor.role in payroll.PAYROLL_ROLES
    bank = reconciliation["bank"] if reconciliation else None
    return {
        "run": run,
        "data": data,
        "active": run.status in ACTIVE and not data["stalled"],
        "show_preview": "by_programme" in data
        and run.status not in (PayrollStatus.CANCELLED, PayrollStatus.FAILED),
        "by_street": streets,
        "held": held_rows,
        "rec": reconciliation,
        "bank": bank,
        "can_act": can_act,
        "is_preparer": run.prepared_by_id == actor.pk,
        "can_reissue": actor.role in services.ENTITLEMENT_WRITERS,
        "can_approve": can_act and run.status == PayrollStatus.PREVIEW,
        "can_recompute": can_act and run.status in (PayrollStatus.PREVIEW, PayrollStatus.FAILED),
        "can_cancel": can_act and run.status in (PayrollStatus.PENDING, PayrollStatus.PREVIEW,
                                                 PayrollStatus.FAILED),
        "can_export": can_act and run.status == PayrollStatus.APPROVED and bank is None,
        "can_download": can_act and bank is not None,
        "can_return": can_act and run.status == PayrollStatus.EXPORTED,
    }  # fmt: skip


def _payroll_page(request: HttpRequest, run_id: int, status: int = 200,
                  **extra: Any) -> HttpResponse:  # fmt: skip
    actor = actor_of(request)
    try:
        _payroll_reader(actor)
        run = access.access_payroll_by_id(actor, run_id)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        return _refused(request, exc)
    context = _payroll_context(actor, run)
    if getattr(request, "htmx", False):
        # The progress card polls while the run computes; once it is done (or stalled)
        # the whole page is reloaded, with the preview and the buttons its state allows.
        if not context["active"]:
            return HttpResponseClientRefresh()
        return render(request, "benefits/payroll_detail.html#progress", context)
    return render(request, "benefits/payroll_detail.html", context | extra, status=status)


@login_required
@require_GET
def payroll_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    return _payroll_page(request, run_id)


def _payroll_action(request: HttpRequest, run_id: int, action: Any, done: str) -> HttpResponse:
    """Run ``action`` (a service call); a refusal is shown on the run's page."""
    try:
        action(actor_of(request))
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("payroll_detail", run_id=run_id)


@login_required
@require_POST
def payroll_approve(request: HttpRequest, run_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _payroll_action(
        request, run_id,
        lambda actor: payroll.payroll_approve(actor=actor, run_id=run_id, reason=reason),
        gettext("已审批，发放记录已生成"),
    )  # fmt: skip


@login_required
@require_POST
def payroll_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _payroll_action(
        request, run_id,
        lambda actor: payroll.payroll_cancel(actor=actor, run_id=run_id, reason=reason),
        gettext("发放批次已撤销"),
    )  # fmt: skip


@login_required
@require_POST
def payroll_recompute(request: HttpRequest, run_id: int) -> HttpResponse:
    """重新计算 a preview, or 继续计算 a stalled run where it stopped (as the API does)."""

    def recompute(actor: User) -> None:
        run = access.access_payroll_by_id(actor, run_id)
        if payroll.payroll_stalled(run):
            payroll.payroll_resume(actor=actor, run_id=run_id)
        else:
            payroll.payroll_recompute(actor=actor, run_id=run_id,
                                      reason=request.POST.get("reason", ""))  # fmt: skip
        api.start_payroll(run_id)

    return _payroll_action(request, run_id, recompute, gettext("已开始计算"))


@login_required
@require_POST
def bank_file_export(request: HttpRequest, run_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        batch = bankfiles.bank_file_export(actor=actor, run_id=run_id)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            gettext("已生成银行代发文件 %(name)s：%(count)s 笔，控制总额 %(total)s 元")
            % {"name": batch.file_name, "count": batch.row_count,
               "total": f"{batch.control_total:.2f}"},
        )  # fmt: skip
    return redirect("payroll_detail", run_id=run_id)


@login_required
@require_GET
def bank_file_download(request: HttpRequest, run_id: int) -> HttpResponse:
    """The bank file as recorded, its SHA-256 in ``X-Content-SHA256`` (as the API)."""
    try:
        batch, content = bankfiles.bank_file_content(actor=actor_of(request), run_id=run_id)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        return _refused(request, exc)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{batch.file_name}"'
    response["X-Content-SHA256"] = batch.sha256
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def bank_return_import(request: HttpRequest, run_id: int) -> HttpResponse:
    """The bank's return: all or nothing; a rejected file lists row, column and reason."""
    actor = actor_of(request)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ApplicationError("bank_return.format", gettext("请选择回盘文件"), status=422)
        content = upload.read(api.MAX_RETURN_BYTES + 1)
        if len(content) > api.MAX_RETURN_BYTES:
            raise ApplicationError("bank_return.format", gettext("回盘文件超过 200 MB"),
                                   status=413)  # fmt: skip
        result = bankfiles.bank_return_import(actor=actor, run_id=run_id, content=content)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        return _payroll_page(request, run_id, status=exc.status, return_error=exc.message,
                             return_errors=exc.details.get("errors", []))  # fmt: skip
    failed = sum(row["failed_count"] for row in result["programmes"])
    messages.success(request, gettext("回盘已导入并完成对账：%(failed)s 笔发放失败")
                     % {"failed": failed})  # fmt: skip
    return redirect("payroll_detail", run_id=run_id)


@login_required
@require_POST
def payment_reissue(request: HttpRequest, payment_id: int) -> HttpResponse:
    """确认重发: a failed payment whose cause is fixed goes to the next payroll."""
    actor = actor_of(request)
    found = selectors.payments_list(actor).filter(pk=payment_id).first()
    if found is None:
        raise Http404
    try:
        services.payment_reissue_mark(actor=actor, payment_id=payment_id,
                                      reason=request.POST.get("reason", ""))  # fmt: skip
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("已确认重发，下次发放时补发"))
    if request.POST.get("back") == "payroll" and actor.role in access.PAYROLL_READERS:
        return redirect("payroll_detail", run_id=found.run_id)
    return redirect("entitlement_detail", entitlement_id=found.entitlement_id)


# -- entitlements -------------------------------------------------------------------------


@login_required
@require_GET
def entitlement_list(request: HttpRequest) -> HttpResponse:
    """救助待遇 of the jurisdiction, by programme, status and household number."""
    actor = actor_of(request)
    try:
        _benefit_reader(actor)
    except ApplicationError as exc:
        return _refused(request, exc)
    programmes = _paid_programmes()
    programme = request.GET.get("programme", "")
    if programme not in dict(programmes):
        programme = ""
    status = request.GET.get("status", "")
    if status not in EntitlementStatus.values:
        status = ""
    household = request.GET.get("household", "").strip()[:32]
    qs = selectors.entitlements_list(actor, programme=programme or None, status=status or None)
    if household:
        qs = qs.filter(household__number=household)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [selectors.entitlement_out(ent) for ent in page.object_list]
    for row in rows:
        row["programme_label"] = _programme(row["programme"], row["programme_label"])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page, "rows": rows, "programmes": programmes, "statuses": EntitlementStatus.choices,
        "programme": programme, "status": status, "household": household,
        "query": query.urlencode(), "is_resident": actor.role == Role.RESIDENT,
    }  # fmt: skip
    return render(request, "benefits/entitlement_list.html", context)


def _entitlement_page(request: HttpRequest, entitlement_id: int, *, status: int = 200,
                      form: str = "", error: ApplicationError | None = None) -> HttpResponse:  # fmt: skip
    actor = actor_of(request)
    try:
        _benefit_reader(actor)
        ent = access.access_entitlement_by_id(actor, entitlement_id)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        return _refused(request, exc)
    data = selectors.entitlement_out(ent, detail=True)
    data["programme_label"] = _programme(ent.programme, data["programme_label"])
    payments = [
        selectors.payment_out(p)
        for p in selectors.payments_list(actor, household=ent.household_id,
                                         programme=ent.programme)[:PAYMENTS_SHOWN]
    ]  # fmt: skip
    account = data["bank_account"]
    values = request.POST if error is not None else {}
    context = {
        "ent": ent, "data": data, "payments": payments,
        "bank_name": BANKS.get(account["bank_code"][:3], "") if account else "",
        "banks": sorted(BANKS.items()), "account_kinds": ACCOUNT_KINDS,
        "can_write": actor.role in services.ENTITLEMENT_WRITERS
        and ent.status != EntitlementStatus.ENDED,
        "can_reissue": actor.role in services.ENTITLEMENT_WRITERS,
        "is_resident": actor.role == Role.RESIDENT,
        "month": _month_now(),
        "form": form, "error": error.message if error else "",
        "error_field": error.details.get("field", "") if error else "",
        "values": values,
    }  # fmt: skip
    return render(request, "benefits/entitlement_detail.html", context, status=status)


@login_required
@require_GET
def entitlement_detail(request: HttpRequest, entitlement_id: int) -> HttpResponse:
    return _entitlement_page(request, entitlement_id)


def _entitlement_change(request: HttpRequest, entitlement_id: int, form: str, change: Any,
                        done: str) -> HttpResponse:  # fmt: skip
    """Run ``change`` (a service call); a refusal is shown next to the form, unsaved."""
    actor = actor_of(request)
    try:
        _benefit_reader(actor)
        access.access_entitlement_by_id(actor, entitlement_id)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        return _refused(request, exc)
    try:
        change(actor)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        return _entitlement_page(request, entitlement_id, status=exc.status, form=form,
                                 error=exc)  # fmt: skip
    messages.success(request, done)
    return redirect("entitlement_detail", entitlement_id=entitlement_id)


@login_required
@require_POST
def entitlement_account(request: HttpRequest, entitlement_id: int) -> HttpResponse:
    post = request.POST
    return _entitlement_change(
        request, entitlement_id, "account",
        lambda actor: services.entitlement_account_set(
            actor=actor, entitlement_id=entitlement_id, bank_code=post.get("bank_code", ""),
            account_number=post.get("account_number", ""),
            account_name=post.get("account_name", ""),
            account_kind=post.get("account_kind", "card"),
            reason=post.get("reason", ""),
        ),
        gettext("银行账户已保存"),
    )  # fmt: skip


@login_required
@require_POST
def entitlement_status(request: HttpRequest, entitlement_id: int) -> HttpResponse:
    post = request.POST
    action = post.get("action", "")
    month, reason = post.get("month", ""), post.get("reason", "")

    def change(actor: User) -> None:
        if action == "suspend":
            services.entitlement_suspend(actor=actor, entitlement_id=entitlement_id,
                                         from_month=month, reason=reason)  # fmt: skip
        elif action == "resume":
            services.entitlement_resume(actor=actor, entitlement_id=entitlement_id,
                                        from_month=month, reason=reason)  # fmt: skip
        elif action == "end":
            services.entitlement_end(actor=actor, entitlement_id=entitlement_id,
                                     last_month=month, reason=reason)  # fmt: skip
        else:
            raise ApplicationError("entitlement.illegal_status_change",
                                   gettext("请选择暂停、恢复或终止"), status=422)  # fmt: skip

    done = {"suspend": gettext("已暂停发放"), "resume": gettext("已恢复发放"),
            "end": gettext("已终止发放")}.get(action, "")  # fmt: skip
    return _entitlement_change(request, entitlement_id, "status", change, done)


@login_required
@require_POST
def entitlement_amount(request: HttpRequest, entitlement_id: int) -> HttpResponse:
    post = request.POST
    return _entitlement_change(
        request, entitlement_id, "amount",
        lambda actor: services.entitlement_amount_set(
            actor=actor, entitlement_id=entitlement_id, from_month=post.get("from_month", ""),
            amount=post.get("amount", ""), reason=post.get("reason", ""),
        ),
        gettext("金额已调整"),
    )  # fmt: skip


# -- the journal --------------------------------------------------------------------------


def _ledger_filters(request: HttpRequest) -> dict[str, str | None]:
    programme = request.GET.get("programme", "")
    return {
        "programme": programme if programme in programme_labels() else None,
        "period": request.GET.get("period", "").strip() or None,
    }


@login_required
@require_GET
def ledger(request: HttpRequest) -> HttpResponse:
    """总账: debits, credits and balance per programme, month and account."""
    actor = actor_of(request)
    try:
        _payroll_reader(actor)
    except ApplicationError as exc:
        return _refused(request, exc)
    filters = _ledger_filters(request)
    error, status = "", 200
    try:
        rows = selectors.ledger_balances(actor, **filters)
    except ApplicationError as exc:
        rows, error, status = [], exc.message, exc.status
    for row in rows:
        row["programme_label"] = _programme(row["programme"])
    query = request.GET.copy()
    context = {
        "rows": rows, "programmes": _paid_programmes(), "filters": filters,
        "period": request.GET.get("period", ""), "error": error, "query": query.urlencode(),
    }  # fmt: skip
    return render(request, "benefits/ledger.html", context, status=status)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@login_required
@require_GET
def ledger_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The journal lines behind the balances, as CSV with Chinese headers."""
    actor = actor_of(request)
    try:
        _payroll_reader(actor)
        lines = selectors.ledger_lines(actor, **_ledger_filters(request))
    except ApplicationError as exc:
        return _refused(request, exc)
    labels = programme_labels()
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(CSV_HEADERS)
        for line in (
            lines.select_related("entry", "entry__run", "entry__actor").order_by("pk").iterator()
        ):
            entry = line.entry
            yield writer.writerow([_cell(v) for v in (
                entry.pk, entry.at.strftime("%Y-%m-%d %H:%M:%S"), entry.get_kind_display(),
                entry.run.number if entry.run else entry.reference, line.period.strftime("%Y-%m"),
                labels.get(line.programme, (line.programme,))[0], line.get_account_display(),
                f"{line.debit:.2f}", f"{line.credit:.2f}", entry.memo, selectors.who(entry.actor),
            )])  # fmt: skip

    period = request.GET.get("period", "").strip() or "all"
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="journal-{period[:7]}.csv"'
    response["Cache-Control"] = "no-store"
    return response
