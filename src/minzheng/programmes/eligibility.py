"""What the household page shows under 可能符合的救助项目."""

from __future__ import annotations

from datetime import date
from typing import Any

from minzheng.programmes.models import EligibilityResult, EvaluationRun, RunStatus
from minzheng.registry.models import Household
from minzheng.rules.evaluate import default_evaluator


def household_eligibility(household: Household, document: dict[str, Any]) -> dict[str, Any]:
    """The latest completed run's results for the household or, before any run covered it,
    a live evaluation of its document (``household`` must already have been fetched
    through ``accounts.access``)."""
    labels = {p.id: p.label for p in default_evaluator().catalogue}
    members = document.get("members") or []
    stored = (
        EligibilityResult.objects.filter(household=household, run__status=RunStatus.DONE)
        .select_related("run")
        .order_by("-run_id", "programme")
    )
    first = stored.first()
    if first is not None:
        run: EvaluationRun = first.run
        # a run keys members by their database id
        names = {str(m.get("person_id")): m.get("name", "") for m in members}
        rows = [
            {"programme": r.programme, "label": labels.get(r.programme, r.programme),
             "amount": f"{r.amount:.2f}", "unit": r.unit,
             "reasons": _named(r.reasons, names)}
            for r in stored if r.run_id == run.pk
        ]  # fmt: skip
        return {"as_of": run.as_of, "source": "run", "run": run.pk, "rows": rows}
    today = date.today()
    doc = {k: v for k, v in document.items() if k not in {"household_id", "number",
                                                         "division_name"}}  # fmt: skip
    (result,) = default_evaluator().results([doc], today)
    # a document keys members by their external id, else by place (#1, #2, …)
    names = {str(m.get("id") or f"#{k}"): m.get("name", "") for k, m in enumerate(members, 1)}
    rows = [
        {"programme": pid, "label": r["label"], "amount": r["amount"], "unit": r["unit"],
         "reasons": _named(r["reasons"], names)}
        for pid, r in result["programmes"].items() if r["eligible"]
    ]  # fmt: skip
    return {"as_of": today, "source": "live", "run": None, "rows": rows}


def _named(reasons: list[str], names: dict[str, str]) -> list[str]:
    """Reasons with "成员 <key>" read as the member's name, as a worker would say it."""
    out = []
    for line in reasons:
        for key, name in names.items():
            if name and line.startswith(f"成员 {key}"):
                line = f"成员 {name}" + line[len(f"成员 {key}") :]
                break
        out.append(line)
    return out


def parameter_value(name: str, as_of: date) -> Any:
    """A policy parameter's value in force on ``as_of`` (for apps that may not import rules)."""
    return default_evaluator().parameters.value(name, as_of)


def programme_labels() -> dict[str, tuple[str, str, str]]:
    """Programme id → (Chinese label, English label, unit), in catalogue order."""
    return {p.id: (p.label, p.label_en, p.unit) for p in default_evaluator().catalogue}


def evaluate_document(document: dict[str, Any], as_of: date) -> dict[str, dict[str, Any]]:
    """Every programme's result for one household document (from ``household_document``)."""
    doc = {k: v for k, v in document.items() if k not in {"household_id", "number",
                                                         "division_name", "address"}}  # fmt: skip
    (result,) = default_evaluator().results([doc], as_of)
    programmes: dict[str, dict[str, Any]] = result["programmes"]
    return programmes
