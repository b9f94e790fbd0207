"""Pages of casework: the worker's casework inbox (帮扶待办), the household plan
(一户一策) with its forms, and proactive discovery (主动服务).

A thin skin over ``casework.services``, ``casework.discovery`` and ``casework.selectors``:
every refusal comes back as a Chinese message on the page, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_POST

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.applications import clock
from minzheng.core.errors import NotFound
from minzheng.core.pages import attempt
from minzheng.programmes.eligibility import programme_labels
from minzheng.registry.vocab import PersonState

from . import discovery, selectors, services
from .models import (
    ContactMode,
    ItemStatus,
    MeasureKind,
    MeasureStatus,
    NeedDomain,
    PlanOutcome,
    PlanStatus,
    Severity,
)


def _writer(request: HttpRequest) -> bool:
    return actor_of(request).role in access.CASE_WRITERS


# -- the inbox --------------------------------------------------------------------------------------


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if access.case_path(actor) is None:
        raise Http404
    today = clock.today()
    context = {
        "today": today,
        "counts": selectors.inbox_counts(actor, today),
        "follow_ups": [selectors.follow_up_out(f, today) | {"obj": f} for f in selectors.follow_ups_due(actor, today)[:100]],
        "tasks": list(selectors.tasks_open(actor)[:100]),
        "plans_due": list(selectors.plans_due(actor, today)[:50]),
        "can_write": _writer(request),
    }  # fmt: skip
    return render(request, "casework/inbox.html", context)


@login_required
@require_POST
def follow_up_complete(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    actor = actor_of(request)
    attempt(request, lambda: services.follow_up_complete(
        actor=actor, follow_up_id=follow_up_id, result=request.POST.get("result"),
        mode=request.POST.get("mode") or ContactMode.PHONE), "回访已记录")  # fmt: skip
    return redirect(request.POST.get("next") or "casework_inbox")


@login_required
@require_POST
def task_complete(request: HttpRequest, task_id: int) -> HttpResponse:
    actor = actor_of(request)
    attempt(request, lambda: services.task_complete(actor=actor, task_id=task_id,
                                                     result=request.POST.get("result")), "事项已处理")  # fmt: skip
    return redirect("casework_inbox")


# -- plans -----------------------------------------------------------------------------------------


def _needs_from(post: Any) -> list[dict[str, Any]]:
    return [
        {"domain": d, "severity": post.get(f"severity_{d}", "medium"),
         "description": post.get(f"need_{d}", "")}
        for d in NeedDomain.values
        if post.get(f"domain_{d}")
    ]  # fmt: skip


def _measure_from(post: Any, k: str = "") -> dict[str, Any]:
    return {
        "kind": post.get(f"kind{k}", ""), "programme": post.get(f"programme{k}", ""),
        "target": post.get(f"target{k}", ""), "description": post.get(f"description{k}", ""),
        "due_on": post.get(f"due_on{k}") or None,
    }  # fmt: skip


def _form_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "domains": NeedDomain.choices,
        "severities": Severity.choices,
        "kinds": MeasureKind.choices,
        "programmes": [(k, v[0]) for k, v in programme_labels().items()],
        "modes": ContactMode.choices,
        "outcomes": PlanOutcome.choices,
        "measure_statuses": MeasureStatus.choices,
        "today": clock.today(),
        "post": request.POST,
    }


@login_required
def plan_new(request: HttpRequest, household_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        household = access.access_household_by_id(actor, household_id)
    except NotFound:
        raise Http404 from None
    existing = (
        access.plans_visible(actor).filter(household=household, status=PlanStatus.OPEN).first()
    )
    if existing is not None:
        return redirect("plan_detail", existing.pk)
    if request.method == "POST":
        post = request.POST
        measures = [_measure_from(post)] if post.get("kind") else []
        follow_ups = (
            [{"due_on": post.get("follow_up_on"), "purpose": post.get("follow_up_purpose", "")}]
            if post.get("follow_up_on") or post.get("follow_up_purpose")
            else []
        )
        result: dict[str, Any] = {}

        def act() -> None:
            result["plan"] = services.plan_open(
                actor=actor, household_id=household.pk, summary=post.get("summary"),
                review_on=post.get("review_on"), needs=_needs_from(post), measures=measures,
                follow_ups=follow_ups,
            )  # fmt: skip

        if attempt(request, act, "帮扶计划已建立"):
            return redirect("plan_detail", result["plan"].pk)
    return render(
        request, "casework/plan_new.html", {"household": household, **_form_context(request)}
    )


@login_required
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        plan = access.access_plan_by_id(actor, plan_id)
    except NotFound:
        raise Http404 from None
    context = {
        "plan": plan,
        "data": selectors.plan_out(plan),
        "members": list(plan.household.members.filter(state=PersonState.ACTIVE).order_by("pk")),
        "can_write": _writer(request) and plan.status == PlanStatus.OPEN,
        "history": access.plans_visible(actor).filter(household=plan.household).exclude(pk=plan.pk),
        **_form_context(request),
    }
    return render(request, "casework/plan_detail.html", context)


@login_required
@require_POST
def plan_act(request: HttpRequest, plan_id: int, action: str) -> HttpResponse:
    actor = actor_of(request)
    post = request.POST
    acts: dict[str, tuple[Callable[[], Any], str]] = {
        "needs": (lambda: services.plan_assess(actor=actor, plan_id=plan_id, needs=_needs_from(post)), "需求评估已更新"),
        "measure": (lambda: services.measure_add(actor=actor, plan_id=plan_id, measure=_measure_from(post)), "措施已增加"),
        "follow_up": (lambda: services.follow_up_add(actor=actor, plan_id=plan_id, due_on=post.get("due_on"),
                                                     purpose=post.get("purpose")), "回访已安排"),
        "contact": (lambda: services.contact_record(
            actor=actor, plan_id=plan_id, contacted_on=post.get("contacted_on"), mode=post.get("mode"),
            content=post.get("content"),
            follow_up_id=int(post["follow_up"]) if post.get("follow_up", "").isdigit() else None), "帮扶记录已保存"),
        "review": (lambda: services.plan_review(actor=actor, plan_id=plan_id, review_on=post.get("review_on"),
                                                note=post.get("note")), "计划复查已记录"),
        "close": (lambda: services.plan_close(actor=actor, plan_id=plan_id, outcome=post.get("outcome"),
                                              note=post.get("note")), "帮扶计划已结案"),
    }  # fmt: skip
    if action not in acts:
        raise Http404
    fn, done = acts[action]
    attempt(request, fn, done)
    return redirect("plan_detail", plan_id)


@login_required
@require_POST
def measure_status(request: HttpRequest, measure_id: int) -> HttpResponse:
    actor = actor_of(request)
    plan_id = request.POST.get("plan", "")
    attempt(request, lambda: services.measure_status_set(actor=actor, measure_id=measure_id,
                                                          status=request.POST.get("status")), "措施进度已更新")  # fmt: skip
    return (
        redirect("plan_detail", int(plan_id)) if plan_id.isdigit() else redirect("casework_inbox")
    )


@login_required
@require_POST
def note_add(request: HttpRequest, household_id: int) -> HttpResponse:
    actor = actor_of(request)
    attempt(request, lambda: services.note_add(actor=actor, household_id=household_id,
                                                text=request.POST.get("text")), "工作记录已保存")  # fmt: skip
    return redirect("household_file", household_id)


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if access.case_path(actor) is None:
        raise Http404
    status = request.GET.get("status") or PlanStatus.OPEN
    qs = access.plans_visible(actor).select_related("household", "responsible")
    if status in PlanStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("review_on", "pk"), 50).get_page(request.GET.get("page"))
    return render(request, "casework/plan_list.html",
                  {"plans": page, "status": status, "statuses": PlanStatus.choices, "today": clock.today()})  # fmt: skip


# -- discovery ----------------------------------------------------------------------------------------


def _day(raw: str | None, label: str, request: HttpRequest) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        messages.error(request, f"{label}格式应为 YYYY-MM-DD：{raw}，已忽略")
        return None


@login_required
def discovery_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if access.case_path(actor) is None:
        raise Http404
    labels = programme_labels()
    programme = request.GET.get("programme") or ""
    status = request.GET.get("status") or ItemStatus.OPEN
    qs = access.discovery_items_visible(actor).select_related("household__division")
    qs = qs.filter(status=status if status in ItemStatus.values else ItemStatus.OPEN)
    if programme in labels:
        qs = qs.filter(programme=programme)
    page = Paginator(qs.order_by("division_path", "household_id", "programme"), 50).get_page(
        request.GET.get("page")
    )
    start = _day(request.GET.get("start"), "开始日期", request)
    end = _day(request.GET.get("end"), "结束日期", request)
    if start and end and start > end:
        messages.error(request, "开始日期不能晚于结束日期，已按全部日期统计")
        start = end = None
    context = {
        "items": page,
        "rows": [selectors.item_out(i) | {"obj": i} for i in page.object_list],
        "programmes": [(k, v[0]) for k, v in labels.items()],
        "programme": programme,
        "status": status,
        "statuses": ItemStatus.choices,
        "report": discovery.report_by_street(actor, start, end),
        "runs": selectors.latest_runs(actor),
        "can_write": _writer(request),
        "can_run": _writer(request),
        "start": start,
        "end": end,
    }
    return render(request, "casework/discovery.html", context)


@login_required
@require_POST
def discovery_act(request: HttpRequest, item_id: int, action: str) -> HttpResponse:
    actor = actor_of(request)
    if action == "convert":
        result: dict[str, Any] = {}

        def convert() -> None:
            result["item"] = discovery.discovery_convert(actor=actor, item_id=item_id,
                                                         note=request.POST.get("note", ""))  # fmt: skip

        if attempt(request, convert, "已转为申请，进入受理流程"):
            return redirect("application_detail", result["item"].application_id)
    elif action == "dismiss":
        attempt(request, lambda: discovery.discovery_dismiss(actor=actor, item_id=item_id,
                                                              reason=request.POST.get("reason")), "线索已排除")  # fmt: skip
    else:
        raise Http404
    return redirect(request.POST.get("next") or "discovery")


@login_required
@require_POST
def discovery_run_now(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    result: dict[str, Any] = {}

    def run() -> None:
        result["run"] = discovery.discovery_run(actor)

    if attempt(request, run, "主动发现已完成"):
        r = result["run"]
        messages.info(request, f"评估 {r.households} 户：新发现 {r.new_items} 条，情况变化更新 {r.refreshed_items} 条，"
                               f"自动关闭 {r.resolved_items} 条")  # fmt: skip
    return redirect("discovery")


urlpatterns: list[URLPattern] = [
    path("casework/", inbox, name="casework_inbox"),
    path("casework/plans/", plan_list, name="plan_list"),
    path("casework/plans/<int:plan_id>/", plan_detail, name="plan_detail"),
    path("casework/plans/<int:plan_id>/<str:action>", plan_act, name="plan_act"),
    path("casework/measures/<int:measure_id>/status", measure_status, name="measure_status"),
    path(
        "casework/follow-ups/<int:follow_up_id>/done", follow_up_complete, name="follow_up_complete"
    ),
    path("casework/tasks/<int:task_id>/done", task_complete, name="task_complete"),
    path("households/<int:household_id>/plan/new", plan_new, name="plan_new"),
    path("households/<int:household_id>/notes", note_add, name="note_add"),
    path("casework/discovery/", discovery_page, name="discovery"),
    path("casework/discovery/run", discovery_run_now, name="discovery_run"),
    path("casework/discovery/<int:item_id>/<str:action>", discovery_act, name="discovery_act"),
]
