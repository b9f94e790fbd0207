"""Standard reports' pages under /reports/: the list and the generate form of each kind
(月度统计 and 年度汇总 as tabs), a report's table, and its xlsx and PDF downloads.

A thin skin over ``reports.monthly`` and ``reports.exports``, which check roles and scope: a
report or division outside the user's jurisdiction is a 404, a role without statistics a
403 page, a malformed or future period a message on the form (422), never a 500. A period
without payments shows its zeros and "本月无发放数据" without storing anything.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_http_methods

from minzheng.accounts.auth import actor_of
from minzheng.accounts.models import User
from minzheng.applications import clock
from minzheng.core.errors import ApplicationError, NotFound
from minzheng.registry.selectors import divisions_for_select

from . import exports, monthly
from .models import Report, ReportKind

PAGE_SIZE = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _default_period(kind: str) -> str:
    today = clock.today()
    return f"{today:%Y-%m}" if kind == ReportKind.MONTHLY else f"{today.year}"


def _divisions(actor: User) -> list[dict[str, str]]:
    indent = {"district": "", "street": "· ", "community": "·· "}
    return [{"code": d.code, "label": f"{indent.get(d.level, '')}{d.name}（{d.code}）"}
            for d in divisions_for_select(actor)]  # fmt: skip


def _row(report: Report) -> dict[str, Any]:
    data = report.data
    return {
        "id": report.pk,
        "kind": report.kind,
        "period": data["period"],
        "title": exports.title_of(data),
        "division": data["division"]["full_name"],
        "as_of": data["as_of"],
        "provisional": bool(data.get("provisional")),
        "approved": data["figures"]["total"]["amounts"]["approved"],
        "generated_by": exports.who(report),
        "generated_at": exports.generated_text(report),
    }


@login_required
@require_http_methods(["GET", "POST"])
def report_list(request: HttpRequest, kind: str) -> HttpResponse:
    """The stored reports of one kind in the user's jurisdiction, and the form that
    generates one (or shows the stored snapshot)."""
    actor = actor_of(request)
    context: dict[str, Any] = {"kind": kind, "monthly": kind == ReportKind.MONTHLY}
    try:
        monthly.ensure_report_reader(actor)
    except ApplicationError as exc:
        return render(request, "reports/monthly_list.html",
                      {**context, "refused": exc.message}, status=exc.status)  # fmt: skip
    chosen = {
        "period": request.POST.get("period", _default_period(kind)).strip(),
        "division": request.POST.get("division", actor.division.code if actor.division else ""),
    }
    error, error_field, status = "", "", 200
    if request.method == "POST":
        try:
            done = monthly.report_generate(actor=actor, kind=kind, period=chosen["period"],
                                           division=chosen["division"] or None)  # fmt: skip
        except ApplicationError as exc:
            error, error_field, status = exc.message, exc.details.get("field", ""), exc.status
        else:
            if done.report is None:  # nothing paid: the zeros, not stored
                return render(request, "reports/report_detail.html",
                              _detail_context(None, done.data))  # fmt: skip
            if done.created:
                messages.success(request, "报表已生成并保存为快照")
            else:
                messages.info(request, "该期报表已有快照，显示已保存的数字")
            return redirect(f"report_{kind}_detail", report_id=done.report.pk)
    period = request.GET.get("period", "").strip()
    try:
        reports = monthly.reports_list(actor, kind=kind, period=period or None)
    except ApplicationError as exc:
        reports = monthly.reports_list(actor, kind=kind)
        error, error_field, status = exc.message, "filter", exc.status
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    context |= {
        "page": page,
        "rows": [_row(r) for r in page.object_list],
        "divisions": _divisions(actor),
        "chosen": chosen,
        "period": period,
        "error": error,
        "error_field": error_field,
    }
    return render(request, "reports/monthly_list.html", context, status=status)


def _detail_context(report: Report | None, data: dict[str, Any]) -> dict[str, Any]:
    context = exports.page_context(data)
    context |= {
        "report": report,
        "kind": data["kind"],
        "monthly": data["kind"] == ReportKind.MONTHLY,
        "stored": report is not None,
        "runs": data.get("runs", []),
    }
    if report is not None:
        context |= {"generated_by": exports.who(report),
                    "generated_at": exports.generated_text(report)}  # fmt: skip
    return context


def _report(request: HttpRequest, report_id: int, kind: str) -> Report:
    try:
        return monthly.access_report_by_id(actor_of(request), report_id, kind)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def report_detail(request: HttpRequest, report_id: int, kind: str) -> HttpResponse:
    report = _report(request, report_id, kind)
    return render(request, "reports/report_detail.html", _detail_context(report, report.data))


@login_required
@require_GET
def report_xlsx(request: HttpRequest, report_id: int, kind: str) -> HttpResponse:
    report = _report(request, report_id, kind)
    response = HttpResponse(exports.xlsx(report), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{exports.file_name(report, "xlsx")}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def report_pdf(request: HttpRequest, report_id: int, kind: str) -> HttpResponse:
    report = _report(request, report_id, kind)
    try:
        content = exports.pdf(report)
    except ApplicationError as exc:  # the PDF renderer is unavailable (503)
        context = {**_detail_context(report, report.data), "error": exc.message}
        return render(request, "reports/report_detail.html", context, status=exc.status)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{exports.file_name(report, "pdf")}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _routes(kind: str) -> list[URLPattern]:
    extra = {"kind": kind}
    return [
        path(f"{kind}/", report_list, extra, name=f"report_{kind}_list"),
        path(f"{kind}/<int:report_id>/", report_detail, extra, name=f"report_{kind}_detail"),
        path(f"{kind}/<int:report_id>.xlsx", report_xlsx, extra, name=f"report_{kind}_xlsx"),
        path(f"{kind}/<int:report_id>.pdf", report_pdf, extra, name=f"report_{kind}_pdf"),
    ]


urlpatterns: list[URLPattern] = [*_routes(ReportKind.MONTHLY), *_routes(ReportKind.YEARLY)]
