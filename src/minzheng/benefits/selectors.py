"""Reads of the ledger, each starting from the actor's scope (``accounts.access``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from minzheng.accounts import access
from minzheng.core.errors import FieldError
from minzheng.core.periods import parse_month
from minzheng.programmes.eligibility import programme_labels

from .errors import BenefitsErrorCode as Code
from .journal import balances
from .models import Entitlement, JournalLine, Payment, PayrollRun, PayrollStatus
from .payroll import payroll_stalled, run_summary

if TYPE_CHECKING:
    from minzheng.accounts.models import User


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def month_text(value: date | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m")


def who(user: User) -> str:
    return user.get_full_name() or user.username


def _label(programme: str) -> str:
    return programme_labels().get(programme, (programme,))[0]


def entitlements_list(actor: User, *, programme: str | None = None, status: str | None = None,
                      household: int | None = None) -> QuerySet[Entitlement]:  # fmt: skip
    qs = access.entitlements_visible(actor).select_related("household", "payee", "division")
    if programme:
        qs = qs.filter(programme=programme)
    if status:
        qs = qs.filter(status=status)
    if household is not None:
        qs = qs.filter(household_id=household)
    return qs.order_by("pk")


def entitlement_out(ent: Entitlement, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": ent.pk, "programme": ent.programme, "programme_label": _label(ent.programme),
        "household": {"id": ent.household_id, "number": ent.household.number},
        "payee": None if ent.payee is None else {
            "name": ent.payee.name, "id_number": ent.payee.id_number_masked},
        "division": ent.division.code if detail else None,
        "amount": money(ent.amount), "amount_from": month_text(ent.amount_from),
        "one_off": ent.one_off, "start_month": month_text(ent.start_month),
        "end_month": month_text(ent.end_month), "status": ent.status,
        "status_label": ent.get_status_display(), "status_reason": ent.status_reason,
        "bank_account": None if not ent.account_masked else {
            "bank_code": ent.bank_code, "number": ent.account_masked, "name": ent.account_name},
        "review_class": ent.review_class, "next_review_on": ent.next_review_on,
        "settled_through": month_text(ent.settled_through),
        "application_line": ent.line_id, "version": ent.version,
    }  # fmt: skip
    if detail:
        out["schedule"] = [{"from_month": month_text(a.from_month), "amount": money(a.amount),
                            "cause": a.cause} for a in ent.amounts.all()]  # fmt: skip
        out["suspensions"] = [{"from_month": month_text(s.from_month),
                               "to_month": month_text(s.to_month), "reason": s.reason}
                              for s in ent.suspensions.all()]  # fmt: skip
        out["events"] = [{"kind": e.kind, "label": e.get_kind_display(),
                          "effective_month": month_text(e.effective_month),
                          "old_amount": money(e.old_amount), "new_amount": money(e.new_amount),
                          "reason": e.reason, "actor": who(e.actor) if e.actor else "",
                          "at": e.at} for e in ent.events.select_related("actor")]  # fmt: skip
    return out


def payments_list(actor: User, *, period: str | None = None, programme: str | None = None,
                  status: str | None = None, household: int | None = None,
                  payroll: int | None = None) -> QuerySet[Payment]:  # fmt: skip
    qs = access.payments_visible(actor).select_related("household", "run")
    if period:
        qs = qs.filter(period=parse_month(period, "period", Code.PERIOD_INVALID))
    if programme:
        qs = qs.filter(programme=programme)
    if status:
        if status not in {"approved", "sent", "paid", "failed"}:
            raise FieldError(
                "status", Code.PERIOD_INVALID, "status 应为 approved、sent、paid 或 failed"
            )
        qs = qs.filter(status=status)
    if household is not None:
        qs = qs.filter(household_id=household)
    if payroll is not None:
        qs = qs.filter(run_id=payroll)
    return qs.order_by("-period", "pk")


def payment_out(p: Payment) -> dict[str, Any]:
    return {
        "id": p.pk, "reference": p.reference, "payroll": p.run_id, "payroll_number": p.run.number,
        "household": {"id": p.household_id, "number": p.household.number},
        "entitlement": p.entitlement_id, "programme": p.programme,
        "programme_label": _label(p.programme), "period": month_text(p.period), "kind": p.kind,
        "kind_label": p.get_kind_display(), "amount": money(p.amount), "status": p.status,
        "status_label": p.get_status_display(), "failure_code": p.failure_code,
        "failure_reason": p.failure_reason, "reissue_ready": p.reissue_ready,
        "reissue_of": p.reissue_of_id,
    }  # fmt: skip


def payrolls_list(actor: User, *, period: str | None = None) -> QuerySet[PayrollRun]:
    qs = access.payrolls_visible(actor).select_related("division", "prepared_by", "approved_by")
    if period:
        qs = qs.filter(period=parse_month(period, "period", Code.PERIOD_INVALID))
    return qs.order_by("-period", "-pk")


def payroll_out(run: PayrollRun, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": run.pk, "number": run.number, "period": month_text(run.period),
        "division": {"code": run.division.code, "name": run.division.name},
        "status": run.status, "status_label": run.get_status_display(),
        "stalled": payroll_stalled(run), "progress": {"done": run.done, "total": run.total},
        "line_count": run.line_count, "total": money(run.line_amount),
        "prepared_by": who(run.prepared_by),
        "approved_by": None if run.approved_by is None else who(run.approved_by),
        "approved_at": run.approved_at, "error": run.error,
        "held_count": len(run.held),
    }  # fmt: skip
    if detail and run.status not in (PayrollStatus.PENDING, PayrollStatus.COMPUTING):
        summary = run_summary(run)
        out["by_programme"] = [
            {"programme": p, "programme_label": _label(p), "kind": k, "count": n,
             "amount": money(a)} for p, k, n, a in summary["by_kind"]
        ]  # fmt: skip
        out["by_street"] = [{"division": code, "count": n, "amount": money(a)}
                            for code, (n, a) in sorted(summary["by_street"].items())]  # fmt: skip
        out["held"] = run.held[:200]
    return out


def ledger_lines(actor: User, *, programme: str | None = None,
                 period: str | None = None) -> QuerySet[JournalLine]:  # fmt: skip
    path = access.journal_path(actor)
    if path is None:
        return JournalLine.objects.none()
    qs = JournalLine.objects.filter(entry__division_path__startswith=path)
    if programme:
        qs = qs.filter(programme=programme)
    if period:
        qs = qs.filter(period=parse_month(period, "period", Code.PERIOD_INVALID))
    return qs


def ledger_balances(actor: User, **filters: Any) -> list[dict[str, Any]]:
    return [{**row, "debit": money(row["debit"]), "credit": money(row["credit"]),
             "balance": money(row["balance"])}
            for row in balances(ledger_lines(actor, **filters))]  # fmt: skip
