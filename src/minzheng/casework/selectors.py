"""Every read of casework, starting from ``accounts.access``: the worker's casework inbox
(follow-ups due, life-event tasks, discovery items, plans due for review) and the JSON
shapes of plans, items and tasks."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from minzheng.accounts import access
from minzheng.accounts.models import User
from minzheng.applications import clock
from minzheng.core.money import quantize
from minzheng.programmes.eligibility import programme_labels

from .models import (
    DiscoveryItem,
    DiscoveryRun,
    FollowUp,
    ItemStatus,
    Plan,
    PlanStatus,
    Task,
    TaskStatus,
)

# Follow-ups and plan reviews show in the inbox from a week before they fall due.
HORIZON_DAYS = 7


def _user(u: User | None) -> dict[str, Any] | None:
    return None if u is None else {"id": u.pk, "name": u.get_full_name() or u.username}


def follow_ups_due(actor: User, today: date | None = None) -> QuerySet[FollowUp]:
    """The actor's pending follow-ups due within the horizon (overdue first)."""
    day = today or clock.today()
    return (
        access.follow_ups_visible(actor)
        .filter(
            assigned_to=actor, done_at__isnull=True, due_on__lte=day + timedelta(days=HORIZON_DAYS)
        )
        .select_related("plan__household", "assigned_to")
        .order_by("due_on", "pk")
    )


def tasks_open(actor: User) -> QuerySet[Task]:
    """Open life-event tasks assigned to the actor, or to nobody in their jurisdiction."""
    return (
        access.tasks_visible(actor)
        .filter(status=TaskStatus.OPEN)
        .filter(Q(assigned_to=actor) | Q(assigned_to__isnull=True))
        .select_related("household", "person", "assigned_to")
        .order_by("event_on", "pk")
    )


def items_open(actor: User) -> QuerySet[DiscoveryItem]:
    return (
        access.discovery_items_visible(actor)
        .filter(status=ItemStatus.OPEN)
        .select_related("household__division")
        .order_by("division_path", "household_id", "programme")
    )


def plans_due(actor: User, today: date | None = None) -> QuerySet[Plan]:
    day = today or clock.today()
    return (
        access.plans_visible(actor)
        .filter(
            status=PlanStatus.OPEN,
            responsible=actor,
            review_on__lte=day + timedelta(days=HORIZON_DAYS),
        )
        .select_related("household")
        .order_by("review_on", "pk")
    )


def inbox_counts(actor: User, today: date | None = None) -> dict[str, int]:
    day = today or clock.today()
    fu = follow_ups_due(actor, day)
    return {
        "follow_ups": fu.count(),
        "follow_ups_overdue": fu.filter(due_on__lt=day).count(),
        "tasks": tasks_open(actor).count(),
        "discovery": items_open(actor).count(),
        "plans_due": plans_due(actor, day).count(),
    }


def latest_runs(actor: User, n: int = 5) -> list[DiscoveryRun]:
    """Recent discovery runs whose scope the actor can see (whole-registry runs and runs of
    a division inside the actor's jurisdiction)."""
    path = access.case_path(actor)
    if path is None:
        return []
    runs = DiscoveryRun.objects.select_related("division").order_by("-pk")
    return [r for r in runs[:50] if r.division is None or r.division.path.startswith(path)][:n]


# -- JSON shapes -------------------------------------------------------------------------------------


def _label(programme: str) -> str:
    return programme_labels().get(programme, (programme,))[0] if programme else ""


def follow_up_out(fu: FollowUp, today: date | None = None) -> dict[str, Any]:
    day = today or clock.today()
    return {
        "id": fu.pk,
        "plan": fu.plan_id,
        "household": fu.plan.household_id,
        "household_number": fu.plan.household.number,
        "due_on": fu.due_on.isoformat(),
        "overdue": fu.done_at is None and fu.due_on < day,
        "purpose": fu.purpose,
        "assigned_to": _user(fu.assigned_to),
        "done_at": fu.done_at.isoformat() if fu.done_at else None,
        "result": fu.result,
    }


def task_out(task: Task) -> dict[str, Any]:
    return {
        "id": task.pk,
        "household": task.household_id,
        "household_number": task.household.number,
        "person": task.person_id,
        "kind": task.kind,
        "kind_label": task.get_kind_display(),
        "event_on": task.event_on.isoformat(),
        "description": task.description,
        "assigned_to": _user(task.assigned_to),
        "reviews_triggered": task.reviews_triggered,
        "status": task.status,
        "result": task.result,
    }


def item_out(item: DiscoveryItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "household": item.household_id,
        "household_number": item.household.number,
        "programme": item.programme,
        "programme_label": _label(item.programme),
        "amount": f"{quantize(item.amount):.2f}",
        "unit": item.unit,
        "reasons": item.reasons,
        "status": item.status,
        "status_label": item.get_status_display(),
        "found_on": item.found_on.isoformat(),
        "reason": item.reason,
        "application": item.application_id,
        "decided_at": item.decided_at.isoformat() if item.decided_at else None,
    }


def run_out(run: DiscoveryRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "as_of": run.as_of.isoformat(),
        "division": run.division.code if run.division else None,
        "status": run.status,
        "households": run.households,
        "eligible": run.eligible,
        "receiving": run.receiving,
        "applied": run.applied,
        "dismissed_unchanged": run.dismissed_unchanged,
        "new_items": run.new_items,
        "refreshed_items": run.refreshed_items,
        "resolved_items": run.resolved_items,
        "seconds": round(run.seconds, 2),
        "error": run.error,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def plan_out(plan: Plan, today: date | None = None) -> dict[str, Any]:
    day = today or clock.today()
    return {
        "id": plan.pk,
        "household": plan.household_id,
        "household_number": plan.household.number,
        "status": plan.status,
        "status_label": plan.get_status_display(),
        "summary": plan.summary,
        "responsible": _user(plan.responsible),
        "review_on": plan.review_on.isoformat(),
        "opened_at": plan.opened_at.isoformat(),
        "closed_at": plan.closed_at.isoformat() if plan.closed_at else None,
        "outcome": plan.outcome,
        "outcome_label": plan.get_outcome_display() if plan.outcome else "",
        "outcome_note": plan.outcome_note,
        "version": plan.version,
        "needs": [
            {"id": n.pk, "domain": n.domain, "domain_label": n.get_domain_display(),
             "severity": n.severity, "severity_label": n.get_severity_display(),
             "description": n.description, "person": n.person_id,
             "assessed_on": n.assessed_on.isoformat()}
            for n in plan.needs.all()
        ],
        "measures": [
            {"id": m.pk, "kind": m.kind, "kind_label": m.get_kind_display(),
             "programme": m.programme, "programme_label": _label(m.programme), "target": m.target,
             "description": m.description, "responsible": _user(m.responsible),
             "due_on": m.due_on.isoformat() if m.due_on else None, "status": m.status,
             "status_label": m.get_status_display()}
            for m in plan.measures.select_related("responsible")
        ],
        "follow_ups": [follow_up_out(f, day) for f in plan.follow_ups.select_related("plan__household", "assigned_to")],
        "contacts": [
            {"id": c.pk, "contacted_on": c.contacted_on.isoformat(), "mode": c.mode,
             "mode_label": c.get_mode_display(), "content": c.content, "worker": _user(c.worker),
             "follow_up": c.follow_up_id}
            for c in plan.contacts.select_related("worker")
        ],
    }  # fmt: skip
