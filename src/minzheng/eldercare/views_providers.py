"""Pages of providers, facilities, star ratings and supervision (综合监管), under
/eldercare/: lists with a registration form, detail pages with their forms, and the list of
corrections past their deadline.

A thin skin over ``eldercare.providers``: every refusal comes back as a Chinese message on
the page, never a 500; a record outside the jurisdiction is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.accounts.models import User
from minzheng.applications import clock
from minzheng.core.errors import NotFound
from minzheng.core.pages import attempt

from . import providers, ratings
from .models import FacilityKind, InspectionStatus, Provider, ProviderStatus


def _reader(request: HttpRequest) -> User:
    actor = actor_of(request)
    if not providers.reads_anything(actor):
        raise Http404
    return actor


def stars_text(stars: int | None) -> str:
    return "" if stars is None else "★" * stars + "☆" * (5 - stars)


def _divisions(actor: User) -> list[tuple[str, str]]:
    """(code, indented name) of every division the actor may choose."""
    depth = {"city": 0, "district": 0, "street": 1, "community": 2}
    return [
        (d.code, "\u3000" * depth.get(d.level, 0) + d.name)
        for d in access.divisions_visible(actor).order_by("path")
    ]


def _provider_form(post: Any) -> dict[str, Any]:
    return {
        "name": post.get("name", ""), "credit_code": post.get("credit_code", ""),
        "licence": post.get("licence", ""), "services": post.getlist("services"),
        "areas": post.getlist("areas"), "contract_start": post.get("contract_start", ""),
        "contract_end": post.get("contract_end", ""), "contact": post.get("contact", ""),
        "phone": post.get("phone", ""),
    }  # fmt: skip


def _facility_form(post: Any) -> dict[str, Any]:
    return {
        "name": post.get("name", ""), "operator": post.get("operator") or None,
        "address": post.get("address", ""), "latitude": post.get("latitude") or None,
        "longitude": post.get("longitude") or None, "capacity": post.get("capacity", ""),
        "beds": post.get("beds", ""), "staff": post.get("staff", ""),
        "opening_hours": post.get("opening_hours", ""),
    }  # fmt: skip


def _inspection_form(post: Any) -> dict[str, Any]:
    return {
        "inspected_on": post.get("inspected_on"),
        "findings": post.get("findings"),
        "correction_due": post.get("correction_due") or None,
    }


def _safe_next(request: HttpRequest, fallback: str, *args: Any) -> HttpResponse:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect(fallback, *args)


# -- providers ------------------------------------------------------------------------------------------


@login_required
def provider_list(request: HttpRequest) -> HttpResponse:
    actor = _reader(request)
    if request.method == "POST":
        form = _provider_form(request.POST)
        created = attempt(request, lambda: providers.provider_create(
            actor=actor, division=request.POST.get("division") or None, **form), "服务商已登记")  # fmt: skip
        if created:
            return redirect("eldercare_provider_detail", created.result.pk)
    status = request.GET.get("status") or ""
    qs = access.providers_visible(actor).select_related("division")
    if status in ProviderStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("name", "pk"), 50).get_page(request.GET.get("page"))
    context = {
        "providers": page,
        "status": status,
        "statuses": ProviderStatus.choices,
        "can_create": providers.can_supervise(actor),
        "catalogue": providers.service_catalogue(),
        "divisions": _divisions(actor) if providers.can_supervise(actor) else [],
        "post": request.POST,
        "today": clock.today(),
    }
    return render(request, "eldercare/provider_list.html", context)


@login_required
def provider_detail(request: HttpRequest, provider_id: int) -> HttpResponse:
    actor = _reader(request)
    try:
        provider = providers.access_provider_by_id(actor, provider_id)
    except NotFound:
        raise Http404 from None
    registrar = actor.division is not None and provider.division_path.startswith(
        actor.division.path
    )
    context = {
        "provider": provider,
        "data": providers.provider_out(provider),
        "facilities": access.facilities_visible(actor)
        .filter(operator=provider)
        .select_related("division"),
        "inspections": access.inspections_visible(actor)
        .filter(provider=provider)
        .select_related("inspector"),
        "can_edit": providers.can_supervise(actor) and registrar,
        "can_inspect": providers.can_supervise(actor),
        "statuses": [
            (s, ProviderStatus(s).label)
            for s in sorted(providers.PROVIDER_MOVES.get(ProviderStatus(provider.status), set()))
        ],
        "catalogue": providers.service_catalogue(),
        "divisions": _divisions(actor) if providers.can_supervise(actor) else [],
        "area_codes": set(provider.areas.values_list("code", flat=True)),
        "today": clock.today(),
    }
    return render(request, "eldercare/provider_detail.html", context)


@login_required
@require_POST
def provider_act(request: HttpRequest, provider_id: int, action: str) -> HttpResponse:
    actor = actor_of(request)
    post = request.POST
    acts: dict[str, tuple[Callable[[], Any], str]] = {
        "update": (lambda: providers.provider_update(
            actor=actor, provider_id=provider_id, changes=_provider_form(post),
            reason=post.get("reason")), "服务商信息已修改"),
        "status": (lambda: providers.provider_status_set(
            actor=actor, provider_id=provider_id, status=post.get("status"),
            reason=post.get("reason")), "服务商状态已变更"),
        "member": (lambda: providers.provider_member_add(
            actor=actor, provider_id=provider_id, username=post.get("username")), "人员已登记"),
        "inspect": (lambda: providers.inspection_record(
            actor=actor, provider_id=provider_id, **_inspection_form(post)), "检查记录已保存"),
    }  # fmt: skip
    if action not in acts:
        raise Http404
    fn, done = acts[action]
    attempt(request, fn, done)
    return redirect("eldercare_provider_detail", provider_id)


# -- facilities ------------------------------------------------------------------------------------------


@login_required
def facility_list(request: HttpRequest) -> HttpResponse:
    actor = _reader(request)
    if request.method == "POST":
        created = attempt(request, lambda: providers.facility_create(
            actor=actor, kind=request.POST.get("kind"), division=request.POST.get("division"),
            **_facility_form(request.POST)), "设施已登记")  # fmt: skip
        if created:
            return redirect("eldercare_facility_detail", created.result.pk)
    kind = request.GET.get("kind") or ""
    qs = access.facilities_visible(actor).select_related("division", "operator")
    if kind in FacilityKind.values:
        qs = qs.filter(kind=kind)
    page = Paginator(qs.order_by("division_path", "name", "pk"), 50).get_page(
        request.GET.get("page")
    )
    rows = [providers.facility_out(f) | {"obj": f} for f in page.object_list]
    for row in rows:
        row["stars_text"] = stars_text(row["stars"])
    can_create = providers.can_record_facility(actor)
    kinds = [(k, label) for k, label in FacilityKind.choices
             if providers.can_record_facility(actor, k)]  # fmt: skip
    context = {
        "facilities": page,
        "rows": rows,
        "kind": kind,
        "kinds": FacilityKind.choices,
        "create_kinds": kinds,
        "can_create": can_create,
        "divisions": _divisions(actor) if can_create else [],
        "operators": _operators(actor) if can_create else [],
        "post": request.POST,
    }
    return render(request, "eldercare/facility_list.html", context)


def _operators(actor: User) -> list[Provider]:
    return list(
        access.providers_visible(actor)
        .exclude(status=ProviderStatus.TERMINATED)
        .order_by("name")[:200]
    )


@login_required
def facility_detail(request: HttpRequest, facility_id: int) -> HttpResponse:
    actor = _reader(request)
    try:
        facility = providers.access_facility_by_id(actor, facility_id)
    except NotFound:
        raise Http404 from None
    history = [
        providers.rating_out(r) | {"stars_text": stars_text(r.stars)}
        for r in providers.ratings_of(actor, facility.pk)
    ]
    rated = facility.kind in ratings.rated_kinds()
    today = clock.today()
    context = {
        "facility": facility,
        "data": providers.facility_out(facility),
        "stars_text": stars_text(history[0]["stars"]) if history else "",
        "ratings": history,
        "rated": rated,
        "criteria": ratings.rules_as_of(today).criteria if rated else (),
        "inspections": access.inspections_visible(actor)
        .filter(facility=facility)
        .select_related("inspector"),
        "can_edit": providers.can_record_facility(actor, facility.kind),
        "can_supervise": providers.can_supervise(actor),
        "operators": _operators(actor) if providers.can_record_facility(actor) else [],
        "today": today,
    }
    return render(request, "eldercare/facility_detail.html", context)


@login_required
@require_POST
def facility_act(request: HttpRequest, facility_id: int, action: str) -> HttpResponse:
    actor = actor_of(request)
    post = request.POST

    def update() -> Any:
        changes = _facility_form(post) | {"active": post.get("active") == "on"}
        return providers.facility_update(
            actor=actor, facility_id=facility_id, changes=changes, reason=post.get("reason")
        )

    def rate() -> Any:
        scores = {k.removeprefix("score_"): v for k, v in post.items() if k.startswith("score_")}
        return providers.rating_record(actor=actor, facility_id=facility_id, scores=scores,
                                       rated_on=post.get("rated_on"), note=post.get("note", ""))  # fmt: skip

    acts: dict[str, tuple[Callable[[], Any], str]] = {
        "update": (update, "设施信息已修改"),
        "rate": (rate, "星级评定已记录"),
        "inspect": (lambda: providers.inspection_record(
            actor=actor, facility_id=facility_id, **_inspection_form(post)), "检查记录已保存"),
    }  # fmt: skip
    if action not in acts:
        raise Http404
    fn, done = acts[action]
    attempt(request, fn, done)
    return redirect("eldercare_facility_detail", facility_id)


# -- supervision -----------------------------------------------------------------------------------------


@login_required
def inspection_overdue(request: HttpRequest) -> HttpResponse:
    actor = _reader(request)
    today = clock.today()
    page = Paginator(providers.inspections_overdue(actor, today), 50).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "rows": [providers.inspection_out(i, today) | {"obj": i} for i in page.object_list],
        "open_count": access.inspections_visible(actor)
        .filter(status=InspectionStatus.OPEN)
        .count(),
        "can_supervise": providers.can_supervise(actor),
        "today": today,
    }
    return render(request, "eldercare/inspection_overdue.html", context)


@login_required
@require_POST
def inspection_act(request: HttpRequest, inspection_id: int, action: str) -> HttpResponse:
    actor = actor_of(request)
    post = request.POST
    acts: dict[str, tuple[Callable[[], Any], str]] = {
        "correct": (lambda: providers.inspection_correct(
            actor=actor, inspection_id=inspection_id, corrected_on=post.get("corrected_on"),
            follow_up=post.get("follow_up")), "整改已确认"),
        "close": (lambda: providers.inspection_close(
            actor=actor, inspection_id=inspection_id, follow_up=post.get("follow_up")),
            "检查记录已关闭"),
    }  # fmt: skip
    if action not in acts:
        raise Http404
    fn, done = acts[action]
    attempt(request, fn, done)
    return _safe_next(request, "eldercare_inspections_overdue")


urlpatterns: list[URLPattern] = [
    path("providers/", provider_list, name="eldercare_provider_list"),
    path("providers/<int:provider_id>/", provider_detail, name="eldercare_provider_detail"),
    path("providers/<int:provider_id>/<str:action>", provider_act, name="eldercare_provider_act"),
    path("facilities/", facility_list, name="eldercare_facility_list"),
    path("facilities/<int:facility_id>/", facility_detail, name="eldercare_facility_detail"),
    path("facilities/<int:facility_id>/<str:action>", facility_act, name="eldercare_facility_act"),
    path("inspections/overdue/", inspection_overdue, name="eldercare_inspections_overdue"),
    path(
        "inspections/<int:inspection_id>/<str:action>",
        inspection_act,
        name="eldercare_inspection_act",
    ),
]
