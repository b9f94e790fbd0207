"""Pages of elderly care: the elders of the jurisdiction and one elder's page (profile,
devices, entitlements, and the links to order a service, schedule visits, register a
device)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_POST

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.core.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from minzheng.programmes.eligibility import programme_labels

from . import elders
from .models import CareLevel, Living, Risk


@login_required
def elder_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if access.eldercare_path(actor) is None:
        raise Http404
    filters = {k: request.GET.get(k) or None for k in ("living", "care_level", "risk", "name")}
    page = Paginator(elders.elders_list(actor, **filters), 50).get_page(request.GET.get("page"))
    return render(request, "eldercare/elder_list.html", {
        "page": page, "rows": [elders.elder_out(p) | {"obj": p} for p in page.object_list],
        "filters": filters, "livings": Living.choices, "care_levels": CareLevel.choices, "risks": Risk.choices,
    })  # fmt: skip


@login_required
def elder_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        f = elders.elder_file(actor, person_id)
    except (NotFound, PermissionDenied):
        raise Http404 from None
    labels = programme_labels()
    return render(request, "eldercare/elder_detail.html", {
        "f": f, "can_write": actor.role in access.ELDERCARE_WRITERS,
        "engine": [(labels.get(k, (k,))[0], v) for k, v in f.engine.items()],
        "entitlements": [(labels.get(e.programme, (e.programme,))[0], e) for e in f.entitlements],
        "livings": Living.choices, "care_levels": CareLevel.choices, "risks": Risk.choices,
    })  # fmt: skip


@login_required
@require_POST
def elder_profile(request: HttpRequest, person_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        elders.profile_set(actor, person_id, request.POST.dict())
        messages.success(request, "照护评估已保存")
    except NotFound:
        raise Http404 from None
    except ValidationFailed as exc:
        for e in exc.errors:
            messages.error(request, e["message"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("elder_detail", person_id)


urlpatterns: list[URLPattern] = [
    path("", elder_list, name="elder_list"),
    path("elders/<int:person_id>/", elder_detail, name="elder_detail"),
    path("elders/<int:person_id>/profile", elder_profile, name="elder_profile"),
]
