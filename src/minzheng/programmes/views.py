"""Pages of the programmes: the catalogue, evaluation runs with progress, and what-if.

A thin skin over ``programmes.services`` (which checks rights and scope) and
``programmes.selectors``; every refusal is a Chinese message, never a 500.
"""

from __future__ import annotations

import contextlib
import threading
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_http_methods

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.core.errors import ApplicationError, NotFound, PermissionDenied
from minzheng.programmes import selectors, services
from minzheng.programmes.forms import LEVELS, RunForm, WhatIfForm, parameter_rows
from minzheng.programmes.models import RunStatus
from minzheng.registry.selectors import divisions_for_select
from minzheng.rules.evaluate import default_evaluator

# Runs execute in a daemon thread once the request's transaction has committed. The
# tests set this to False so that a run executes inside the request instead.
RUN_IN_BACKGROUND = True
MONTHLY = "yuan/month"


def _staff(actor: User) -> None:
    if actor.role == Role.RESIDENT:
        raise PermissionDenied("programmes.staff_only", "只有工作人员可以查看救助项目")


def _reader(actor: User) -> None:
    """Runs and what-if read the registry: only staff who may read it in their division."""
    _staff(actor)
    access.ensure_registry_reader(actor)


def _refused(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "programmes/refused.html", {"error": exc.message}, status=exc.status)


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _label(programme_id: str, label: str) -> str:
    if not _english():
        return label
    catalogue = {p.id: p.label_en for p in default_evaluator().catalogue}
    return catalogue.get(programme_id, label)


@login_required
def programme_list(request: HttpRequest) -> HttpResponse:
    try:
        _staff(actor_of(request))
    except ApplicationError as exc:
        return _refused(request, exc)
    rows = [
        {
            "id": p.id,
            "label": p.label,
            "label_en": p.label_en,
            "unit": p.unit,
            "reference": p.reference,
        }
        for p in default_evaluator().catalogue
    ]
    return render(request, "programmes/programme_list.html", {"programmes": rows})


# -- evaluation runs --------------------------------------------------------------------


def _execute(run_id: int) -> None:
    # A failed run is marked failed, with its error, and logged by the service.
    with contextlib.suppress(Exception):
        services.evaluation_run_execute(run_id)


def _execute_and_close(run_id: int) -> None:
    try:
        _execute(run_id)
    finally:
        connection.close()  # the thread's own connection


def _start(run_id: int) -> None:
    if not RUN_IN_BACKGROUND:
        _execute(run_id)
        return
    thread = threading.Thread(
        target=_execute_and_close, args=(run_id,), daemon=True, name=f"evaluation-run-{run_id}"
    )
    transaction.on_commit(thread.start)


@login_required
@require_http_methods(["GET", "POST"])
def run_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    try:
        _reader(actor)
    except ApplicationError as exc:
        return _refused(request, exc)
    form = RunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.evaluation_run_create(
                actor,
                as_of=form.cleaned_data["as_of"],
                division=form.cleaned_data["division"] or None,
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            _start(run.pk)
            return redirect("run_detail", run_id=run.pk)
    services.evaluation_runs_sweep()  # a run whose process died must not poll for ever
    runs = selectors.runs_visible(actor)
    page = Paginator(runs, 20).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "polling": selectors.runs_active(runs),
        "divisions": divisions_for_select(actor),
        "can_start": access.can_write(actor),
    }
    template = (
        "programmes/run_list.html#runs"
        if getattr(request, "htmx", False)
        else "programmes/run_list.html"
    )
    return render(request, template, context)


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        _reader(actor)
        services.evaluation_runs_sweep()
        run = selectors.run_get(actor, run_id)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        return _refused(request, exc)
    counts = selectors.run_programme_counts(run) if run.status == RunStatus.DONE else []
    for row in counts:
        row["label"] = _label(row["programme"], row["label"])
    template = (
        "programmes/run_detail.html#progress"
        if getattr(request, "htmx", False)
        else "programmes/run_detail.html"
    )
    return render(request, template, {"run": run, "counts": counts})


# -- what-if ------------------------------------------------------------------------------


def _with_changes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **row,
            "label": _label(row["programme"], row["label"]),
            "beneficiaries_change": row["reform_beneficiaries"] - row["base_beneficiaries"],
            "cost_change": f"{Decimal(row['reform_cost']) - Decimal(row['base_cost']):.2f}",
        }
        for row in rows
    ]


def _chart(
    programmes: list[dict[str, Any]], by_division: list[dict[str, Any]], level: str
) -> dict[str, Any]:
    """What the two ECharts bar charts draw: monthly cost per programme, and dibao's
    monthly cost per street (or district), before and after the change."""
    monthly = [p for p in programmes if p["unit"] == MONTHLY]
    dibao = [r for r in by_division if r["programme"] == "dibao"]
    area = dict(LEVELS).get(level, "")
    return {
        "base": gettext("现行"),
        "reform": gettext("调整后"),
        "yuan": gettext("元/月"),
        "programmes": {
            "title": gettext("各救助项目月支出（元/月）"),
            "labels": [p["label"] for p in monthly],
            "base_values": [float(p["base_cost"]) for p in monthly],
            "reform_values": [float(p["reform_cost"]) for p in monthly],
        },
        "dibao": {
            "title": gettext("低保月支出，按%(area)s（元/月）") % {"area": area},
            "labels": [r["area_name"] for r in dibao],
            "base_values": [float(r["base_cost"]) for r in dibao],
            "reform_values": [float(r["reform_cost"]) for r in dibao],
        },
    }


@login_required
def what_if(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    try:
        _reader(actor)
    except ApplicationError as exc:
        return _refused(request, exc)
    form = WhatIfForm(request.GET or None)
    report = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            report = services.simulate(
                actor,
                overrides=data["overrides"],
                as_of=data["as_of"],
                division=data["division"] or None,
                level=int(data["level"]),
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
    cleaned = getattr(form, "cleaned_data", {})
    context: dict[str, Any] = {
        "form": form,
        "report": report,
        "divisions": divisions_for_select(actor),
        "parameters": parameter_rows(cleaned.get("as_of") or timezone.localdate()),
    }
    if report is not None:
        names = selectors.division_names({r["area"] for r in report["by_division"]})
        programmes = _with_changes(report["programmes"])
        by_division = [
            {**r, "area_name": names.get(r["area"], r["area"])}
            for r in _with_changes(report["by_division"])
        ]
        context["programmes"] = programmes
        # Area by area, in catalogue order; only the rows where someone qualifies, before
        # or after, so that the table stays short.
        order = {p.id: i for i, p in enumerate(default_evaluator().catalogue)}
        context["by_division"] = sorted(
            (r for r in by_division if r["base_beneficiaries"] or r["reform_beneficiaries"]),
            key=lambda r: (r["area"], order.get(r["programme"], len(order))),
        )
        context["level_name"] = dict(LEVELS).get(cleaned["level"], "")
        context["chart"] = _chart(programmes, by_division, cleaned["level"])
    template = (
        "programmes/what_if.html#result"
        if getattr(request, "htmx", False)
        else "programmes/what_if.html"
    )
    return render(request, template, context)
