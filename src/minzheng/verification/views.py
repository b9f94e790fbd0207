"""Pages of verification: department feeds, the link review queue, verification reports
(web and PDF), and duplicates / double recipients. Thin over services and selectors."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from minzheng.accounts.auth import actor_of
from minzheng.core.errors import ApplicationError, NotFound, ValidationFailed
from minzheng.core.pdf import render_pdf
from minzheng.registry.selectors import divisions_for_select
from minzheng.verification import feeds, selectors, services
from minzheng.verification.layouts import IDENTITY, LAYOUTS


def _refused(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "applications/refused.html", {"error": exc.message}, status=exc.status)


@login_required
@require_http_methods(["GET", "POST"])
def feed_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    report = None
    errors: list[dict[str, object]] = []
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ApplicationError("file.empty", "请选择文件", status=422)
            try:
                describes_on = date.fromisoformat(request.POST.get("describes_on", ""))
            except ValueError:
                raise ApplicationError(
                    "field.date_parsing", "数据日期格式应为 YYYY-MM-DD", status=422
                ) from None
            report = feeds.feed_import(actor=actor, source=request.POST.get("source", ""),
                                       division_code=request.POST.get("division", ""),
                                       describes_on=describes_on, file_name=upload.name or "",
                                       content=upload.read(),
                                       dry_run=request.POST.get("dry_run") == "1")  # fmt: skip
        except ValidationFailed as exc:
            error, errors = exc.message, exc.errors
        except ApplicationError as exc:
            error = exc.message
        else:
            if not report.dry_run:
                messages.success(request, f"已导入第 {report.version} 版，共 {report.rows} 条；"
                                          f"自动关联 {report.linked} 条，待人工确认 {report.review} 条")  # fmt: skip
                return redirect("feed_list")
    page = Paginator(selectors.feeds_visible(actor).select_related("division").order_by("-pk"), 30)
    context = {
        "page": page.get_page(request.GET.get("page")),
        "layouts": [{"source": lay.source, "label": lay.label,
                     "columns": [f for f in (*IDENTITY, *lay.fields)]} for lay in LAYOUTS.values()],
        "divisions": divisions_for_select(actor),
        "can_import": actor.role in feeds.FEED_IMPORTERS,
        "report": report, "error": error, "errors": errors,
    }  # fmt: skip
    return render(request, "verification/feeds.html", context, status=422 if error else 200)


@login_required
def link_queue(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    page = Paginator(selectors.links_for_review(actor), 30).get_page(request.GET.get("page"))
    rows = [selectors.link_out(link) for link in page.object_list]
    return render(request, "verification/links.html",
                  {"page": page, "rows": rows, "can_review": actor.role in services.LINK_REVIEWERS})  # fmt: skip


@login_required
@require_POST
def link_decide(request: HttpRequest, link_id: int) -> HttpResponse:
    try:
        services.link_review(actor=actor_of(request), link_id=link_id,
                             confirm=request.POST.get("confirm") == "1",
                             reason=request.POST.get("reason", ""))  # fmt: skip
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已处理")
    return redirect("link_queue")


@login_required
@require_POST
def verification_create(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        report = services.verification_run(actor=actor_of(request), application_id=application_id)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("application_detail", application_id=application_id)
    return redirect("verification_report", report_id=report.pk)


def _report_context(request: HttpRequest, report_id: int) -> dict[str, object]:
    report = selectors.report_get(actor_of(request), report_id)
    return {"report": report, "data": selectors.report_out(report),
            "can_resolve": actor_of(request).role in services.VERIFIERS}  # fmt: skip


@login_required
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    try:
        context = _report_context(request, report_id)
    except NotFound:
        raise Http404 from None
    return render(request, "verification/report.html", context)


@login_required
def report_pdf(request: HttpRequest, report_id: int) -> HttpResponse:
    try:
        context = _report_context(request, report_id)
        content = render_pdf("verification/pdf/report.html", context)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        return _refused(request, exc)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="verification-{report_id}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def discrepancy_resolve(request: HttpRequest, report_id: int, discrepancy_id: int) -> HttpResponse:
    try:
        services.discrepancy_resolve(actor=actor_of(request), discrepancy_id=discrepancy_id,
                                     resolution=request.POST.get("resolution", ""))  # fmt: skip
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "差异已处理")
    return redirect("verification_report", report_id=report_id)


@login_required
def duplicates(request: HttpRequest) -> HttpResponse:
    try:
        found = selectors.duplicates_and_double_recipients(
            actor_of(request), request.GET.get("division") or None
        )
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        return _refused(request, exc)
    return render(request, "verification/duplicates.html", found)
