"""Scoped reads of evaluation runs and their results, for the pages (and the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum

from minzheng.accounts.roles import REGISTRY_READERS, Role
from minzheng.core.errors import NotFound
from minzheng.programmes.models import EvaluationRun, RunStatus
from minzheng.registry.models import Division
from minzheng.rules.evaluate import default_evaluator

if TYPE_CHECKING:
    from minzheng.accounts.models import User


def runs_visible(actor: User) -> QuerySet[EvaluationRun]:
    """Runs over a division in the actor's jurisdiction, runs over the whole jurisdiction
    of a creator inside it, and the actor's own runs; an administrator sees every run."""
    runs = EvaluationRun.objects.select_related("division", "created_by")
    if not actor.is_active or actor.role not in REGISTRY_READERS:
        return runs.none()
    if actor.role == Role.ADMIN:
        return runs.order_by("-pk")
    if actor.division is None:
        return runs.filter(created_by=actor).order_by("-pk")
    path = actor.division.path
    return runs.filter(
        Q(created_by=actor)
        | Q(division__path__startswith=path)
        | Q(division__isnull=True, created_by__division__path__startswith=path)
    ).order_by("-pk")


def run_get(actor: User, run_id: int) -> EvaluationRun:
    run = runs_visible(actor).filter(pk=run_id).first()
    if run is None:
        raise NotFound("evaluation_run.not_found", "评估任务不存在或不在您的管辖范围内")
    return run


def runs_active(runs: QuerySet[EvaluationRun]) -> bool:
    return runs.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists()


def run_programme_counts(run: EvaluationRun) -> list[dict[str, Any]]:
    """Per programme of the catalogue (in its order): households that may qualify and the
    sum of their amounts (in the programme's unit)."""
    sums = {
        row["programme"]: row
        for row in run.results.values("programme").annotate(
            households=Count("household", distinct=True), amount=Sum("amount")
        )
    }
    out = []
    for programme in default_evaluator().catalogue:
        row = sums.get(programme.id, {})
        out.append(
            {
                "programme": programme.id,
                "label": programme.label,
                "unit": programme.unit,
                "households": row.get("households", 0),
                "amount": f"{row.get('amount') or 0:.2f}",
            }
        )
    return out


def division_names(codes: set[str]) -> dict[str, str]:
    """Names of administrative divisions by code (public; the codes come from scoped
    results, and a street reviewer's district is above their own subtree)."""
    return dict(Division.objects.filter(code__in=codes).values_list("code", "name"))
