"""The double-entry journal behind payments, kept per programme and period.

    approval   Dr 救助支出 expense        Cr 应付救助对象款 payable     (new money owed)
               Dr 退回待重发 returned      Cr 应付救助对象款 payable     (a re-issue)
               Dr 应付救助对象款 payable    Cr 救助支出 expense          (a recovery)
    transfer   Dr 应付救助对象款 payable    Cr 银行存款 bank              (the bank file)
    return     Dr 银行存款 bank             Cr 退回待重发 returned        (failed payments)
               Dr 救助支出 expense                                       (a failed recovery:
                                                                          not recovered)

    service_settlement  Dr 救助支出 expense    Cr 应付服务商款 provider_payable
                                           (a provider's approved monthly settlement)
    service_payment     Dr 应付服务商款 provider_payable   Cr 银行存款 bank
                                           (the subsidies paid to the provider)

So at any time, per programme: expense = net money granted; payable = approved but not
yet sent; bank (a credit balance) = sent − returned, i.e. what reached people;
returned = failed and not yet re-issued. Every entry balances; the tests check it.
A recovery travels netted inside a transfer: when the bank returns that transfer, the
recovery did not happen (the next payroll computes it again), so it goes back to
expense and only the failed money owed to the person waits in returned.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import QuerySet

from .models import Account, JournalEntry, JournalLine, PayrollRun

if TYPE_CHECKING:
    from minzheng.accounts.models import User

ZERO = Decimal("0.00")


def _fen(column: str) -> str:
    return f"SUM(CAST(ROUND({column} * 100) AS BIGINT))"


def _post(run: PayrollRun, actor: User, kind: str, programme: str, memo: str,
          legs: list[tuple[str, Decimal, Decimal]]) -> JournalEntry | None:  # fmt: skip
    return _write(actor, kind, programme, memo, legs, period=run.period, run=run,
                  division_path=run.division_path)  # fmt: skip


def _write(actor: User, kind: str, programme: str, memo: str,
           legs: list[tuple[str, Decimal, Decimal]], *, period: date,
           division_path: str, run: PayrollRun | None = None,
           reference: str = "") -> JournalEntry | None:  # fmt: skip
    legs = [(acc, d, c) for acc, d, c in legs if d or c]
    if not legs:
        return None
    debit = sum((d for _, d, _ in legs), ZERO)
    credit = sum((c for _, _, c in legs), ZERO)
    if debit != credit:  # a bug, never bad input: refuse to write an unbalanced entry
        raise AssertionError(f"unbalanced journal entry {kind} {programme}: {debit} != {credit}")
    entry = JournalEntry.objects.create(kind=kind, run=run, period=period, programme=programme,
                                        memo=memo[:200], actor=actor, reference=reference,
                                        division_path=division_path)  # fmt: skip
    JournalLine.objects.bulk_create(
        JournalLine(entry=entry, account=acc, programme=programme, period=period,
                    debit=d, credit=c)
        for acc, d, c in legs
    )  # fmt: skip
    return entry


def post_approval(run: PayrollRun, actor: User) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT programme, kind, "
            f"{_fen('CASE WHEN amount > 0 THEN amount ELSE 0 END')}, "
            f"{_fen('CASE WHEN amount < 0 THEN -amount ELSE 0 END')} "
            "FROM benefits_payment WHERE run_id = %s GROUP BY programme, kind",
            [run.pk],
        )
        rows = cur.fetchall()
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for programme, kind, pos, neg in rows:
        sums[programme]["reissue" if kind == "reissue" else "new"] += Decimal(int(pos or 0)) / 100
        sums[programme]["recovery"] += Decimal(int(neg or 0)) / 100
    for programme, s in sorted(sums.items()):
        _post(run, actor, JournalEntry.Kind.APPROVAL, programme,
              f"{run.number} 发放审批", [
                  (Account.EXPENSE, s["new"], ZERO),
                  (Account.RETURNED, s["reissue"], ZERO),
                  (Account.PAYABLE, ZERO, s["new"] + s["reissue"]),
                  (Account.PAYABLE, s["recovery"], ZERO),
                  (Account.EXPENSE, ZERO, s["recovery"]),
              ])  # fmt: skip


def post_transfer(run: PayrollRun, actor: User, by_programme: dict[str, Decimal]) -> None:
    for programme, amount in sorted(by_programme.items()):
        _post(run, actor, JournalEntry.Kind.TRANSFER, programme, f"{run.number} 银行代发",
              [(Account.PAYABLE, amount, ZERO), (Account.BANK, ZERO, amount)])  # fmt: skip


def post_return(run: PayrollRun, actor: User, by_programme: dict[str, Decimal],
                recoveries: dict[str, Decimal] | None = None) -> None:  # fmt: skip
    """``by_programme``: the failed money owed (positive payments); ``recoveries``: the
    failed recoveries netted in the same transfers (positive figures)."""
    recoveries = recoveries or {}
    for programme in sorted(set(by_programme) | set(recoveries)):
        owed = by_programme.get(programme, ZERO)
        undone = recoveries.get(programme, ZERO)
        _post(run, actor, JournalEntry.Kind.RETURN, programme, f"{run.number} 银行退回",
              [(Account.BANK, owed - undone, ZERO), (Account.EXPENSE, undone, ZERO),
               (Account.RETURNED, ZERO, owed)])  # fmt: skip


def _post_service(kind: str, debit: str, credit: str, *, actor: User, reference: str,
                  period: date, division_path: str, memo: str,
                  by_programme: dict[str, Decimal]) -> None:  # fmt: skip
    for programme, amount in sorted(by_programme.items()):
        _write(actor, kind, programme, memo, [(debit, amount, ZERO), (credit, ZERO, amount)],
               period=period, division_path=division_path, reference=reference)  # fmt: skip


def post_service_settlement(**document: Any) -> None:
    """A provider's settlement approved: the subsidies it earned become a debt to it.
    ``document``: actor, reference, period, division_path, memo, by_programme."""
    _post_service(JournalEntry.Kind.SERVICE_SETTLEMENT, Account.EXPENSE,
                  Account.PROVIDER_PAYABLE, **document)  # fmt: skip


def post_service_payment(**document: Any) -> None:
    """The settled subsidies paid to the provider's bank account (same ``document``)."""
    _post_service(JournalEntry.Kind.SERVICE_PAYMENT, Account.PROVIDER_PAYABLE, Account.BANK,
                  **document)  # fmt: skip


def entries_for(reference: str) -> list[dict[str, Any]]:
    """The entries posted for one business document, with their lines, oldest first."""
    out = []
    for entry in JournalEntry.objects.filter(reference=reference).prefetch_related("lines"):
        out.append({"kind": entry.kind, "kind_label": entry.get_kind_display(),
                    "programme": entry.programme, "period": entry.period.strftime("%Y-%m"),
                    "memo": entry.memo, "at": entry.at,
                    "lines": [{"account": line.account,
                               "account_label": Account(line.account).label,
                               "debit": line.debit, "credit": line.credit}
                              for line in entry.lines.all()]})  # fmt: skip
    return out


# -- reading -----------------------------------------------------------------------------------

# The side on which each account normally carries its balance.
DEBIT_NORMAL = frozenset({Account.EXPENSE})


def balances(lines: QuerySet[JournalLine]) -> list[dict[str, Any]]:
    """Debits, credits and balance per programme, period and account."""
    out: dict[tuple[str, date, str], list[Decimal]] = {}
    for programme, period, account, debit, credit in lines.values_list(
        "programme", "period", "account", "debit", "credit"
    ).iterator():
        row = out.setdefault((programme, period, account), [ZERO, ZERO])
        row[0] += debit
        row[1] += credit
    result = []
    for (programme, period, account), (debit, credit) in sorted(out.items()):
        balance = debit - credit if account in DEBIT_NORMAL else credit - debit
        result.append({"programme": programme, "period": period.strftime("%Y-%m"),
                       "account": account, "account_label": Account(account).label,
                       "debit": debit, "credit": credit, "balance": balance})  # fmt: skip
    return result
