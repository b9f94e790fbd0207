"""Pages of the one-window workflow: the inbox, intake, the case page with its timeline
and transition forms, documents, the PDFs, and the public notice of a community.

A thin skin over ``applications.services`` and ``applications.selectors``: every
refusal comes back as a Chinese message on the page, never a 500.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods, require_POST

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.accounts.roles import Role
from minzheng.applications import clock, letters, selectors, services, workflow
from minzheng.applications.models import Channel, DocumentKind, State
from minzheng.core.errors import ApplicationError, NotFound
from minzheng.programmes.eligibility import programme_labels
from minzheng.registry.models import Division
from minzheng.verification.selectors import reports_for
from minzheng.verification.services import VERIFIERS


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """待我办理 (what waits for my role, overdue first) and, below it, all applications."""
    actor = actor_of(request)
    today = clock.today()
    waiting = Paginator(selectors.inbox(actor), 50).get_page(request.GET.get("page"))
    state = request.GET.get("state") or None
    if state not in State.values:
        state = None
    applications = Paginator(
        selectors.applications_list(
            actor,
            state=state,
            overdue=request.GET.get("overdue") == "1",
            household=int(raw) if (raw := request.GET.get("household", "")).isdigit() else None,
        ),
        30,
    ).get_page(request.GET.get("all_page"))
    labels = programme_labels()
    for a in applications.object_list:
        a.line_rows = [(labels.get(ln.programme, (ln.programme,))[0], ln.get_state_display())
                       for ln in a.lines.all()]  # fmt: skip
    context = {
        "waiting": waiting,
        "rows": [
            selectors.line_out(ln, actor, today) | {"application": ln.application}
            for ln in waiting.object_list
        ],
        "counts": selectors.inbox_counts(actor, today),
        "summary": [] if actor.role == Role.RESIDENT else selectors.step_summary(actor, today),
        "applications": applications,
        "states": State.choices,
        "state": state,
        "today": today,
        "can_apply": actor.role in services.INTAKE_ROLES,
        "is_resident": actor.role == Role.RESIDENT,
    }
    return render(request, "applications/inbox.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    """Intake: a worker for a household of the community (or by ID number, 跨区通办),
    a resident for their own household (全程网办)."""
    actor = actor_of(request)
    if actor.role not in services.INTAKE_ROLES:
        return render(request, "applications/refused.html",
                      {"error": "只有社区工作人员或居民本人可以提交申请"}, status=403)  # fmt: skip
    labels = programme_labels()
    raw_household = request.POST.get("household") or request.GET.get("household")
    if actor.role == Role.RESIDENT:
        raw_household = str(actor.household_id)
    household = None
    suggestions: dict[str, dict[str, Any]] = {}
    error, error_status = "", 200
    if raw_household and raw_household.isdigit():
        try:
            household = access.access_household_by_id(actor, int(raw_household))
        except NotFound:
            raise Http404 from None
    if request.method == "POST":
        chosen = [p for p in request.POST.getlist("programmes") if p]
        try:
            application = services.application_create(
                actor=actor,
                programmes=chosen,
                household_id=household.pk if household else None,
                applicant_id_number=request.POST.get("applicant_id_number") or None,
                include_suggested=False,
                note=request.POST.get("note", ""),
            )
        except ApplicationError as exc:
            error, error_status = exc.message, exc.status
        else:
            upload = request.FILES.get("file")
            if upload is not None:
                try:
                    services.document_attach(actor=actor, application_id=application.pk,
                                             kind=request.POST.get("kind") or "other",
                                             name=upload.name or "", content=upload.read())  # fmt: skip
                except ApplicationError as exc:
                    messages.error(request, f"申请已提交，但材料未能上传：{exc.message}")
            if application.channel == Channel.CROSS_REGION:
                messages.success(request, f"已受理跨区通办申请 {application.number}，"
                                          f"已转至 {application.division.name} 办理")  # fmt: skip
                return redirect("application_inbox")
            messages.success(request, f"申请已提交，编号 {application.number}")
            return redirect("application_detail", application_id=application.pk)
    if household is not None:
        suggestions = selectors.household_results(household, clock.today())
    programmes = [
        {"id": pid, "label": label, "unit": unit,
         "eligible": bool(suggestions.get(pid, {}).get("eligible")),
         "amount": suggestions.get(pid, {}).get("amount"),
         "reasons": suggestions.get(pid, {}).get("reasons", [])}
        for pid, (label, _en, unit) in labels.items()
    ]  # fmt: skip
    context = {
        "household": household,
        "programmes": programmes,
        "kinds": DocumentKind.choices,
        "error": error,
        "is_resident": actor.role == Role.RESIDENT,
        "chosen": request.POST.getlist("programmes"),
    }
    return render(request, "applications/apply.html", context, status=error_status)


def _case_context(request: HttpRequest, application_id: int) -> dict[str, Any]:
    actor = actor_of(request)
    application = selectors.application_get(actor, application_id)
    data = selectors.application_out(application, actor)
    for line in data["lines"]:
        done = {t["to_state"] for t in data["transitions"] if t["programme"] == line["programme"]}
        current = line["state"]
        line["progress"] = [
            {"label": s["label"],
             "status": "current" if s["state"] == current else ("done" if s["state"] in done else "todo")}
            for s in line["steps"]
        ]  # fmt: skip
        names = workflow.ACTIONS_EN if (get_language() or "").startswith("en") else workflow.ACTIONS
        line["forms"] = [{"action": a, "label": names[a]} for a in line["actions"]]
    return {
        "application": application,
        "data": data,
        "kinds": DocumentKind.choices,
        "is_resident": actor.role == Role.RESIDENT,
        "can_upload": actor.role in services.INTAKE_ROLES
        or actor.role in {Role.STREET_REVIEWER, Role.DISTRICT_APPROVER},
        "can_resolve": actor.role == Role.COMMUNITY_WORKER,
        "reports": [] if actor.role == Role.RESIDENT else list(reports_for(application.pk)[:5]),
        "can_verify": actor.role in VERIFIERS,
        "today": clock.today(),
    }


@login_required
def detail(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        context = _case_context(request, application_id)
    except NotFound:
        raise Http404 from None
    return render(request, "applications/detail.html", context)


@login_required
@require_POST
def transition(request: HttpRequest, application_id: int) -> HttpResponse:
    actor = actor_of(request)
    programme = request.POST.get("programme")
    visit = None
    if request.POST.get("action") == "record_visit":
        visit = {k: request.POST.get(k, "") for k in ("visited_on", "visitors", "findings",
                                                     "living_conditions")}  # fmt: skip
    version = request.POST.get("version")
    try:
        moved = services.application_transition(
            actor=actor,
            application_id=application_id,
            action=request.POST.get("action", ""),
            reason=request.POST.get("reason", ""),
            programmes=[programme] if programme else None,
            amount=request.POST.get("amount") or None,
            start_month=request.POST.get("start_month") or None,
            visit=visit,
            version=int(version) if version and version.isdigit() else None,
        )
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        details = exc.details.get("errors") if isinstance(exc.details, dict) else None
        extra = "；".join(e["message"] for e in details) if details else ""
        messages.error(request, exc.message + (f"：{extra}" if extra else ""))
    else:
        names = "、".join(State(t.to_state).label for t in moved)
        messages.success(request, f"已办理：{workflow.ACTIONS[moved[0].action]}（当前：{names}）")
    return redirect("application_detail", application_id=application_id)


@login_required
@require_POST
def upload(request: HttpRequest, application_id: int) -> HttpResponse:
    file = request.FILES.get("file")
    try:
        if file is None:
            raise ApplicationError("document.empty", "请选择要上传的文件", status=422)
        services.document_attach(actor=actor_of(request), application_id=application_id,
                                 kind=request.POST.get("kind", ""), name=file.name or "",
                                 content=file.read(services.files.MAX_DOCUMENT_BYTES + 1))  # fmt: skip
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "材料已上传")
    return redirect("application_detail", application_id=application_id)


@login_required
def document_view(request: HttpRequest, application_id: int, document_id: int) -> HttpResponse:
    """The document viewer: the file shown inside the page, with what it is."""
    try:
        doc = selectors.document_get(actor_of(request), application_id, document_id, log=False)
    except NotFound:
        raise Http404 from None
    return render(request, "applications/document.html",
                  {"doc": doc, "application_id": application_id})  # fmt: skip


@login_required
def document_file(request: HttpRequest, application_id: int, document_id: int) -> FileResponse:
    try:
        doc = selectors.document_get(actor_of(request), application_id, document_id)
        response = selectors.document_response(doc, inline=request.GET.get("download") != "1")
    except NotFound:
        raise Http404 from None
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


@login_required
@require_POST
def resolve(request: HttpRequest, application_id: int, objection_id: int) -> HttpResponse:
    try:
        services.objection_resolve(actor=actor_of(request), objection_id=objection_id,
                                   upheld=request.POST.get("upheld") == "1",
                                   resolution=request.POST.get("resolution", ""))  # fmt: skip
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "异议已处理")
    return redirect("application_detail", application_id=application_id)


@login_required
def receipt(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        application = selectors.application_get(actor_of(request), application_id)
        url = request.build_absolute_uri(reverse("application_detail", args=[application.pk]))
        return _pdf(
            letters.receipt_pdf(application, status_url=url), f"receipt-{application.number}.pdf"
        )
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        return render(
            request, "applications/refused.html", {"error": exc.message}, status=exc.status
        )


@login_required
def decision(request: HttpRequest, application_id: int, line_id: int) -> HttpResponse:
    try:
        line = selectors.decided_line(actor_of(request), application_id, line_id)
        application = line.application
        return _pdf(letters.decision_pdf(line), f"decision-{application.number}-{line.pk}.pdf")
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        return render(
            request, "applications/refused.html", {"error": exc.message}, status=exc.status
        )


# -- public notice (no sign-in) ---------------------------------------------------------


def _community(code: str) -> Division:
    try:
        return selectors.community_for_notice(code)
    except NotFound:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def notice(request: HttpRequest, community_code: str) -> HttpResponse:
    """The public notice of a community and the objection form (anyone may object)."""
    community = _community(community_code)
    error = ""
    if request.method == "POST":
        raw_line = request.POST.get("line", "")
        try:
            if not raw_line.isdigit():
                raise ApplicationError("objection.line", "请选择异议对象", status=422)
            line_id = int(raw_line)
            if not selectors.line_in_community(line_id, community):
                raise ApplicationError(
                    "objection.not_in_notice", "该公示不存在或不在公示期内", status=404
                )
            user = request.user if request.user.is_authenticated else None
            services.objection_lodge(actor=user, line_id=line_id,
                                     content=request.POST.get("content", ""),
                                     contact=request.POST.get("contact", ""))  # fmt: skip
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, "您的异议已提交，社区将在公示期内核实处理。")
            return redirect("notice", community_code=community_code)
    data = selectors.public_notice(community)
    return render(request, "applications/notice.html",
                  {"notice": data, "community": community, "error": error},
                  status=422 if error else 200)  # fmt: skip


def notice_pdf(request: HttpRequest, community_code: str) -> HttpResponse:
    community = _community(community_code)
    data = selectors.public_notice(community)
    url = request.build_absolute_uri(reverse("notice", args=[community_code]))
    try:
        return _pdf(letters.notice_pdf(data, url=url), f"notice-{community_code}.pdf")
    except ApplicationError as exc:
        return render(
            request, "applications/refused.html", {"error": exc.message}, status=exc.status
        )
