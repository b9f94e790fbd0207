"""Pages of patrol visits and emergency calls: the visitor's daily list with a form per
visit, the schedule form of an elder, the alerts board (open alerts, overdue schedules),
and the emergency calls with their acknowledge and close forms.

A thin skin over ``eldercare.visits`` and ``eldercare.alarms``: every refusal comes back
as a Chinese message on the page, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.applications import clock
from minzheng.core.errors import NotFound
from minzheng.core.pages import attempt

from . import alarms, visits
from .models import (
    AlertLevel,
    AlertStatus,
    DeviceKind,
    IncidentStatus,
    VisitMode,
    VisitorKind,
    VisitOutcome,
)


def _back(request: HttpRequest, fallback: str, *args: Any) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback, *args)


def _staff_or_provider(request: HttpRequest) -> None:
    actor = actor_of(request)
    if access.eldercare_path(actor) is None and access.provider_of(actor) is None:
        raise Http404


def _staff(request: HttpRequest) -> None:
    if access.eldercare_path(actor_of(request)) is None:
        raise Http404


def _writer(request: HttpRequest) -> bool:
    return actor_of(request).role in access.ELDERCARE_WRITERS


# -- visits ------------------------------------------------------------------------------------------


@login_required
def visit_daily(request: HttpRequest) -> HttpResponse:
    """The visitor's list for a day: what is due or overdue, each with its record form."""
    _staff_or_provider(request)
    actor = actor_of(request)
    today = clock.today()
    try:
        day = date.fromisoformat(request.GET.get("day") or today.isoformat())
    except ValueError:
        day = today
    schedules = list(visits.daily_list(actor, day)[:300])
    now = visits.current_time()
    context = {
        "day": day,
        "today": today,
        "rows": [{"obj": s, **visits.schedule_out(s, day)} for s in schedules],
        "outcomes": VisitOutcome.choices,
        "now": now.strftime("%Y-%m-%dT%H:%M"),
        "overdue": visits.overdue_schedules(actor, today).count(),
        "is_staff": access.eldercare_path(actor) is not None,
    }
    return render(request, "eldercare/visit_daily.html", context)


@login_required
@require_POST
def visit_record(request: HttpRequest, schedule_id: int) -> HttpResponse:
    actor = actor_of(request)
    post = request.POST
    attempt(request, lambda: visits.visit_record(
        actor=actor, schedule_id=schedule_id, visited_at=post.get("visited_at"),
        outcome=post.get("outcome"), note=post.get("note", "")), "探访已记录")  # fmt: skip
    return _back(request, "visit_daily")


@login_required
def visit_schedule_new(request: HttpRequest) -> HttpResponse:
    """The schedules of one elder (``?elder=<person id>``), the policy's suggestion for
    their risk, and the form that adds one."""
    _staff(request)
    actor = actor_of(request)
    raw = request.GET.get("elder") or request.POST.get("elder") or ""
    if not raw.isdigit():
        raise Http404
    try:
        elder = visits.access_elder_by_id(actor, int(raw))
    except NotFound:
        raise Http404 from None
    if request.method == "POST":
        post = request.POST
        kind = post.get("visitor_kind", "")
        if attempt(request, lambda: visits.schedule_create(
            actor=actor, elder_person_id=elder.pk, mode=post.get("mode"),
            every_days=post.get("every_days"), visitor_kind=kind,
            visitor_id=post.get("visitor") if kind != VisitorKind.VOLUNTEER else None,
            volunteer_name=post.get("volunteer_name", "") if kind == VisitorKind.VOLUNTEER else "",
            first_due=post.get("first_due") or None), "探访安排已建立"):  # fmt: skip
            return redirect(f"{request.path}?elder={elder.pk}")
    today = clock.today()
    schedules = (
        access.schedules_visible(actor)
        .filter(elder=elder)
        .select_related("elder__household__division", "elder__elder", "visitor")
    )
    profile = getattr(elder, "elder", None)
    context = {
        "elder": elder,
        "brief": visits.elder_brief(elder),
        "profile": profile,
        "suggested": visits.schedules_for_risk(profile),
        "schedules": [visits.schedule_out(s, today) for s in schedules.order_by("-active", "mode")],
        "visitors": visits.visitor_choices(actor, elder) if _writer(request) else [],
        "modes": VisitMode.choices,
        "visitor_kinds": VisitorKind.choices,
        "can_write": _writer(request),
        "today": today,
        "post": request.POST,
        "me": actor.pk,
    }
    return render(request, "eldercare/visit_schedule.html", context)


# -- alerts ------------------------------------------------------------------------------------------


@login_required
def alert_board(request: HttpRequest) -> HttpResponse:
    """Open alerts (street-level first), the count of overdue schedules, recent ones."""
    _staff(request)
    actor = actor_of(request)
    today = clock.today()
    status = request.GET.get("status") or AlertStatus.OPEN
    qs = access.alerts_visible(actor).select_related("elder", "acknowledged_by")
    if status in AlertStatus.values:
        qs = qs.filter(status=status)
    level = request.GET.get("level") or ""
    if level in AlertLevel.values:
        qs = qs.filter(level=level)
    page = Paginator(qs.order_by("-level", "-raised_at", "-pk"), 50).get_page(
        request.GET.get("page")
    )
    overdue = visits.overdue_schedules(actor, today)
    context = {
        "alerts": [visits.alert_out(a, actor) for a in page],
        "page": page,
        "status": status,
        "level": level,
        "statuses": AlertStatus.choices,
        "levels": AlertLevel.choices,
        "overdue_count": overdue.count(),
        "overdue": [visits.schedule_out(s, today) for s in overdue[:50]],
        "open_incidents": access.incidents_visible(actor)
        .filter(status=IncidentStatus.OPEN)
        .count(),
        "today": today,
    }
    return render(request, "eldercare/alert_board.html", context)


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    actor = actor_of(request)
    attempt(request, lambda: visits.alert_acknowledge(
        actor=actor, alert_id=alert_id, action=request.POST.get("action")), "预警已确认")  # fmt: skip
    return _back(request, "alert_list")


# -- devices ---------------------------------------------------------------------------------------


@login_required
def device_new(request: HttpRequest) -> HttpResponse:
    """The devices of one elder (``?elder=<person id>``) and the form that registers one;
    a call device's key is shown on the page that answers the form, this once."""
    _staff(request)
    actor = actor_of(request)
    raw = request.GET.get("elder") or ""
    if not raw.isdigit():
        raise Http404
    try:
        elder = visits.access_elder_by_id(actor, int(raw))
    except NotFound:
        raise Http404 from None
    done: dict[str, Any] = {}
    if request.method == "POST":
        post = request.POST

        def act() -> None:
            done["r"] = alarms.device_register(
                actor=actor, person_id=elder.pk, kind=post.get("kind"),
                installed_on=post.get("installed_on"), supplier_id=post.get("supplier") or None,
                serial=post.get("serial", ""),
            )  # fmt: skip

        attempt(request, act, "设备已登记")
    devices = (
        access.devices_visible(actor).filter(person=elder).select_related("person", "supplier")
    )
    context = {
        "elder": elder,
        "devices": [alarms.device_out(d) for d in devices.order_by("-pk")],
        "registered": done.get("r"),
        "kinds": DeviceKind.choices,
        "suppliers": alarms.supplier_choices(),
        "can_write": _writer(request),
        "today": clock.today(),
    }
    return render(request, "eldercare/device_new.html", context)


@login_required
@require_POST
def device_revoke(request: HttpRequest, device_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        device = alarms.access_device_by_id(actor, device_id)
    except NotFound:
        raise Http404 from None
    attempt(request, lambda: alarms.device_revoke(actor=actor, device_id=device_id), "设备已停用")
    return redirect(f"{reverse('device_new')}?elder={device.person_id}")


# -- incidents ---------------------------------------------------------------------------------------


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    actor = actor_of(request)
    status = request.GET.get("status") or ""
    qs = access.incidents_visible(actor).select_related("elder", "acknowledged_by", "closed_by")
    if status in IncidentStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-started_at", "-pk"), 50).get_page(request.GET.get("page"))
    context = {
        "incidents": [alarms.incident_out(i) for i in page],
        "page": page,
        "status": status,
        "statuses": IncidentStatus.choices,
    }
    return render(request, "eldercare/incident_list.html", context)


@login_required
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        incident = alarms.access_incident_by_id(actor, incident_id)
    except NotFound:
        raise Http404 from None
    context = {"i": alarms.incident_detail(actor, incident), "can_write": _writer(request)}
    return render(request, "eldercare/incident_detail.html", context)


@login_required
@require_POST
def incident_act(request: HttpRequest, incident_id: int, action: str) -> HttpResponse:
    actor = actor_of(request)
    post = request.POST
    acts: dict[str, tuple[Callable[[], Any], str]] = {
        "acknowledge": (lambda: alarms.incident_acknowledge(
            actor=actor, incident_id=incident_id, note=post.get("note", "")), "紧急呼叫已响应"),
        "close": (lambda: alarms.incident_close(
            actor=actor, incident_id=incident_id, outcome=post.get("outcome")), "紧急呼叫已结束"),
    }  # fmt: skip
    if action not in acts:
        raise Http404
    fn, done = acts[action]
    attempt(request, fn, done)
    return redirect("incident_detail", incident_id)


urlpatterns: list[URLPattern] = [
    path("visits/", visit_daily, name="visit_daily"),
    path("visits/schedules/", visit_schedule_new, name="schedule_new"),
    path("visits/schedules/<int:schedule_id>/visit/", visit_record, name="visit_record"),
    path("alerts/", alert_board, name="alert_list"),
    path("alerts/<int:alert_id>/acknowledge/", alert_acknowledge, name="alert_acknowledge"),
    path("devices/", device_new, name="device_new"),
    path("devices/<int:device_id>/revoke/", device_revoke, name="device_revoke"),
    path("incidents/", incident_list, name="incident_list"),
    path("incidents/<int:incident_id>/", incident_detail, name="incident_detail"),
    path("incidents/<int:incident_id>/<str:action>/", incident_act, name="incident_act"),
]
