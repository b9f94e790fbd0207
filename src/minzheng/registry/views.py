"""Pages of the registry: a thin skin over the same services and selectors as the API."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.core.errors import ApplicationError, NotFound
from minzheng.registry import imports, selectors, services
from minzheng.registry.documents import AssetsDoc, HouseholdPatch
from minzheng.registry.forms import HouseholdEditForm, ImportForm, RevealForm, SearchForm
from minzheng.registry.spreadsheet import write_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(content: bytes, filename: str, content_type: str = XLSX) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


@login_required
def household_list(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    page = None
    error = ""
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if form.is_bound else {}
        try:
            qs = selectors.household_search(
                actor_of(request),
                name=data.get("name") or None,
                id_number=data.get("id_number") or None,
                division=data.get("division") or None,
            )
            page = Paginator(qs, 20).get_page(request.GET.get("page"))
            page.object_list = selectors.with_heads(page.object_list)
        except ApplicationError as exc:
            error = exc.message
    context = {
        "form": form,
        "page": page,
        "error": error,
        "divisions": selectors.divisions_for_select(actor_of(request)),
        "query": request.GET.urlencode(),
    }
    template = (
        "registry/household_list.html#results"
        if getattr(request, "htmx", False)
        else "registry/household_list.html"
    )
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    reveal_form = RevealForm(request.POST or None)
    reveal = request.method == "POST" and reveal_form.is_valid()
    reason = reveal_form.cleaned_data["reason"] if reveal else ""
    try:
        household, members = selectors.household_file(
            actor_of(request),
            household_id,
            reveal=reveal,
            reason=reason,
        )
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("household_detail", household_id=household_id)
    from minzheng.programmes.eligibility import household_eligibility

    document = selectors.household_document(household, members, reveal=reveal)
    context = {
        "household": household,
        "eligibility": household_eligibility(household, document),
        "document": document,
        "members": members,
        "history": selectors.household_history(actor_of(request), household_id),
        "reveal_form": reveal_form,
        "revealed": reveal,
        "can_reveal": access.can_reveal_id_numbers(actor_of(request)),
        "can_write": access.can_write(actor_of(request)),
    }
    return render(request, "registry/household_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def household_edit(request: HttpRequest, household_id: int) -> HttpResponse:
    try:
        household = access.access_household_by_id(
            actor_of(request),
            household_id,
            for_write=True,
        )
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("household_detail", household_id=household_id)
    initial = {
        "address": household.address,
        "hukou": household.hukou,
        "deposits": household.deposits,
        "securities": household.securities,
        "houses": household.houses,
        "vehicles": household.vehicles,
        "business": household.business,
    }
    form = HouseholdEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        patch = HouseholdPatch(
            reason=data["reason"],
            address=data["address"],
            hukou=data["hukou"],
            assets=AssetsDoc(
                deposits=data["deposits"],
                securities=data["securities"],
                houses=data["houses"],
                vehicles=data["vehicles"],
                business=data["business"],
            ),
        )
        try:
            services.household_update(
                actor=actor_of(request), household_id=household_id, patch=patch
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "已保存，修改原因已记入历史")
            return redirect("household_detail", household_id=household_id)
    return render(request, "registry/household_edit.html", {"form": form, "household": household})


@login_required
@require_http_methods(["GET", "POST"])
def household_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    error_key = ""
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > settings.MAX_UPLOAD_BYTES:
            report = imports.too_large(settings.MAX_UPLOAD_BYTES, form.cleaned_data["dry_run"])
        else:
            try:
                report = imports.households_import(
                    actor=actor_of(request),
                    content=upload.read(),
                    filename=upload.name,
                    dry_run=form.cleaned_data["dry_run"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        if report is not None and report.errors and report.source_rows:
            error_key = uuid.uuid4().hex
            cache.set(
                f"import-errors:{actor_of(request).pk}:{error_key}", report.error_workbook(), 3600
            )
    return render(
        request,
        "registry/household_import.html",
        {"form": form, "report": report, "error_key": error_key},
    )


@login_required
def import_error_report(request: HttpRequest, key: str) -> HttpResponse:
    content = cache.get(f"import-errors:{actor_of(request).pk}:{key}")
    if content is None:
        raise Http404
    return _download(content, "导入错误报告.xlsx")


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    return _download(write_xlsx([]), "家庭成员导入模板.xlsx")
