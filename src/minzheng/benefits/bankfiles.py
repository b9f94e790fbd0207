"""Bank batch files, the bank's return files, and reconciliation.

Layout (``docs/subsystems/ledger.md`` has the full description), UTF-8, comma-separated,
one record per line, the first field naming the record type:

    bank file    H,<batch>,<period YYYY-MM>,<count>,<control total>
                 D,<seq>,<reference>,<payee>,<bank code>,<account>,<amount>,<purpose>
                 T,<count>,<control total>
    return file  H,<batch>,<count>,<control total>
                 D,<reference>,<amount>,<result code>,<message>      (result 00 = paid)
                 T,<count>,<control total>

One transfer per entitlement and run: its payments net (a recovery deducted from the
month's money). The file's SHA-256 is recorded and sent with every download; the file
itself is kept encrypted, since it carries full account numbers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from minzheng.accounts import access
from minzheng.core.crypto import decrypt, encrypt
from minzheng.core.errors import ApplicationError, Conflict
from minzheng.programmes.eligibility import programme_labels
from minzheng.registry.spreadsheet import SheetError, decode_text

from . import journal, locks
from .errors import BenefitsErrorCode as Code
from .models import BankBatch, Entitlement, Payment, PaymentStatus, PayrollRun, PayrollStatus
from .payroll import PAYROLL_ROLES, fen_sum_sql
from .services import ensure_role

if TYPE_CHECKING:
    from minzheng.accounts.models import User

log = logging.getLogger(__name__)
ZERO = Decimal("0.00")
SUCCESS = "00"


def _root() -> Path:
    return Path(settings.MEDIA_ROOT) / "bankfiles"


def _money(fen: Any) -> Decimal:
    return Decimal(int(fen or 0)) / 100


def _transfers(run: PayrollRun) -> list[tuple[int, str, str, Decimal]]:
    """(entitlement, reference, programme, net amount) per transfer of the run."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT entitlement_id, transfer_ref, programme, {fen_sum_sql('amount')} "
            "FROM benefits_payment WHERE run_id = %s "
            "GROUP BY entitlement_id, transfer_ref, programme ORDER BY transfer_ref",
            [run.pk],
        )
        return [(e, ref, p, _money(fen)) for e, ref, p, fen in cur.fetchall()]


def bank_file_export(*, actor: User, run_id: int) -> BankBatch:
    """Write the approved payroll's bank file (once)."""
    ensure_role(actor, PAYROLL_ROLES, "生成银行代发文件")
    access.access_payroll_by_id(actor, run_id)
    with transaction.atomic():
        run = locks.lock_payroll(run_id)
        if BankBatch.objects.filter(run=run).exists():
            raise Conflict(Code.BANK_FILE_EXISTS, "该批次的银行代发文件已生成，请下载已有文件")
        if run.status != PayrollStatus.APPROVED:
            raise Conflict(Code.PAYROLL_STATE,
                           f"批次状态为“{run.get_status_display()}”，审批后才能生成银行代发文件")  # fmt: skip
        transfers = _transfers(run)
        zero = [e for e, _, _, amount in transfers if amount == 0]
        sending = [(e, ref, p, amount) for e, ref, p, amount in transfers if amount > 0]
        if any(amount < 0 for *_, amount in transfers):  # compute() never leaves one
            raise AssertionError(f"negative transfer in {run.number}")
        # The run's entitlements by subquery, not a list of ids: a million ids is more
        # than SQLite takes as parameters (and a very long statement on PostgreSQL).
        accounts = {
            pk: (name, bank, token)
            for pk, name, bank, token in Entitlement.objects.filter(
                pk__in=Payment.objects.filter(run=run).values("entitlement_id")
            ).values_list("pk", "account_name", "bank_code", "account_encrypted").iterator()
        }  # fmt: skip
        labels = programme_labels()
        total = sum((amount for *_, amount in sending), ZERO)
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        out.writerow(["H", run.number, run.period.strftime("%Y-%m"), len(sending), f"{total:.2f}"])
        for seq, (ent, ref, programme, amount) in enumerate(sending, 1):
            name, bank, token = accounts[ent]
            purpose = f"{labels.get(programme, (programme,))[0]} {run.period:%Y-%m}"
            out.writerow(["D", seq, ref, name, bank, decrypt(token), f"{amount:.2f}", purpose])
        out.writerow(["T", len(sending), f"{total:.2f}"])
        content = buf.getvalue().encode("utf-8")
        digest = hashlib.sha256(content).hexdigest()
        name = f"{run.number}.csv"
        _root().mkdir(parents=True, exist_ok=True)
        (_root() / f"{name}.enc").write_text(encrypt(content.decode("utf-8")), encoding="ascii")
        batch = BankBatch.objects.create(run=run, file_name=name, row_count=len(sending),
                                         control_total=total, sha256=digest, exported_by=actor)  # fmt: skip
        now = timezone.now()
        if zero:  # fully offset by a recovery: nothing to send, settled here
            Payment.objects.filter(run=run, entitlement_id__in=zero).update(
                status=PaymentStatus.PAID, transfer_ref="", settled_at=now
            )
        Payment.objects.filter(run=run).exclude(transfer_ref="").update(
            status=PaymentStatus.SENT, batch=batch
        )
        by_programme: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for _, _, programme, amount in sending:
            by_programme[programme] += amount
        journal.post_transfer(run, actor, dict(by_programme))
        PayrollRun.objects.filter(pk=run.pk).update(status=PayrollStatus.EXPORTED)
    log.info("bank file %s: %s transfers, %s, sha256 %s", name, len(sending), total, digest)
    return batch


def bank_file_content(*, actor: User, run_id: int) -> tuple[BankBatch, bytes]:
    ensure_role(actor, PAYROLL_ROLES, "下载银行代发文件")
    run = access.access_payroll_by_id(actor, run_id)
    batch = BankBatch.objects.filter(run=run).first()
    if batch is None:
        raise ApplicationError(Code.BANK_FILE_MISSING, "该批次尚未生成银行代发文件", status=404)
    content = decrypt((_root() / f"{batch.file_name}.enc").read_text(encoding="ascii")).encode()
    if hashlib.sha256(content).hexdigest() != batch.sha256:
        raise AssertionError(f"bank file {batch.file_name} does not match its recorded hash")
    log.info("bank file %s downloaded by %s", batch.file_name, actor.pk)
    return batch, content


# -- the bank's return ----------------------------------------------------------------------------


def _error(errors: list[dict[str, Any]], row: int, column: str, code: str, message: str) -> None:
    errors.append({"row": row, "column": column, "code": code, "message": message})


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        return None
    return value


def _parse_return(run: PayrollRun, batch: BankBatch, text: str,
                  expected: dict[str, Decimal]) -> tuple[dict[str, tuple[str, str]], list[dict[str, Any]]]:  # fmt: skip
    """Failed references → (code, message), or the list of errors (row, column, reason)."""
    errors: list[dict[str, Any]] = []
    rows = list(csv.reader(io.StringIO(text)))
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    if len(rows) < 2 or rows[0][:1] != ["H"] or rows[-1][:1] != ["T"]:
        _error(errors, 1, "记录类型", Code.RETURN_FORMAT, "回盘文件应以 H 记录开始、以 T 记录结束")
        return {}, errors
    head, tail = rows[0], rows[-1]
    if len(head) != 4:
        _error(errors, 1, "H", Code.RETURN_FORMAT, "H 记录应为：H,批次号,笔数,控制总额")
        return {}, errors
    if head[1].strip() != run.number:
        _error(errors, 1, "批次号", Code.RETURN_BATCH,
               f"回盘批次号 {head[1].strip()[:40]} 与本批次 {run.number} 不符")  # fmt: skip
        return {}, errors
    failed: dict[str, tuple[str, str]] = {}
    seen: set[str] = set()
    total = ZERO
    for k, row in enumerate(rows[1:-1], start=2):
        if len(row) != 5 or row[0] != "D":
            _error(errors, k, "记录类型", Code.RETURN_FORMAT,
                   "明细记录应为：D,业务参考号,金额,结果代码,说明")  # fmt: skip
            continue
        ref, amount_text, code, message = (c.strip() for c in row[1:])
        if ref in seen:
            _error(
                errors, k, "业务参考号", Code.RETURN_DUPLICATE_ROW, f"业务参考号 {ref[:40]} 重复"
            )
            continue
        seen.add(ref)
        want = expected.get(ref)
        if want is None:
            _error(errors, k, "业务参考号", Code.RETURN_UNKNOWN,
                   f"本批次没有业务参考号为 {ref[:40]} 的代发记录")  # fmt: skip
            continue
        amount = _amount(amount_text)
        if amount is None or amount != want:
            _error(errors, k, "金额", Code.RETURN_AMOUNT,
                   f"金额 {amount_text[:20]} 与代发金额 {want:.2f} 不符")  # fmt: skip
            continue
        if not code or len(code) > 16:
            _error(
                errors, k, "结果代码", Code.RETURN_FORMAT, "结果代码应为 00（成功）或银行的失败代码"
            )
            continue
        total += amount
        if code != SUCCESS:
            failed[ref] = (code, message[:200] or "银行退回")
    missing = len(expected) - len(seen & expected.keys())
    if missing:
        _error(errors, len(rows), "明细", Code.RETURN_MISSING,
               f"回盘缺少 {missing} 笔代发记录的结果")  # fmt: skip
    end = len(rows)
    for where, row, count_at, total_at in (("H", head, 2, 3), ("T", tail, 1, 2)):
        if len(row) != total_at + 1:
            _error(errors, 1 if where == "H" else end, where, Code.RETURN_FORMAT,
                   f"{where} 记录的字段数不正确")  # fmt: skip
            continue
        declared = _amount(row[total_at])
        if row[count_at].strip() != str(batch.row_count) or declared != batch.control_total:
            _error(errors, 1 if where == "H" else end, "控制总额", Code.RETURN_CONTROL_TOTAL,
                   f"{where} 记录的笔数或控制总额（{row[count_at].strip()[:12]} 笔，"
                   f"{row[total_at].strip()[:20]}）与代发文件（{batch.row_count} 笔，"
                   f"{batch.control_total:.2f}）不符")  # fmt: skip
    if not errors and total != batch.control_total:
        _error(errors, end, "控制总额", Code.RETURN_CONTROL_TOTAL,
               f"明细合计 {total:.2f} 与控制总额 {batch.control_total:.2f} 不符")  # fmt: skip
    return failed, errors


def bank_return_import(*, actor: User, run_id: int, content: bytes) -> dict[str, Any]:
    """Take the bank's return: all or nothing; failed payments are marked with the bank's
    reason and come back to the next payroll once their account is fixed."""
    ensure_role(actor, PAYROLL_ROLES, "导入银行回盘")
    access.access_payroll_by_id(actor, run_id)
    try:
        text = decode_text(content)
    except SheetError as exc:
        raise ApplicationError(Code.RETURN_FORMAT, exc.message, status=422) from None
    with transaction.atomic():
        run = locks.lock_payroll(run_id)
        batch = BankBatch.objects.filter(run=run).first()
        if run.status == PayrollStatus.RECONCILED:
            raise Conflict(Code.RETURN_ALREADY, "该批次的银行回盘已导入并完成对账")
        if batch is None or run.status != PayrollStatus.EXPORTED:
            raise Conflict(Code.BANK_FILE_MISSING, "该批次尚未生成银行代发文件，不能导入回盘")
        expected = {ref: amount for _, ref, _, amount in _transfers(run) if ref}
        failed, errors = _parse_return(run, batch, text, expected)
        if errors:
            raise ApplicationError(
                errors[0]["code"], f"回盘文件有 {len(errors)} 处错误，未导入：{errors[0]['message']}",
                {"errors": errors[:200], "count": len(errors)}, status=422,
            )  # fmt: skip
        now = timezone.now()
        by_reason: dict[tuple[str, str], list[str]] = defaultdict(list)
        for ref, reason in failed.items():
            by_reason[reason].append(ref)
        for (code, message), refs in by_reason.items():
            for k in range(0, len(refs), 500):
                Payment.objects.filter(run=run, transfer_ref__in=refs[k : k + 500]).update(
                    status=PaymentStatus.FAILED, failure_code=code, failure_reason=message,
                    settled_at=now,
                )  # fmt: skip
        Payment.objects.filter(run=run, status=PaymentStatus.SENT).update(
            status=PaymentStatus.PAID, settled_at=now
        )
        failed_rows = list(
            Payment.objects.filter(run=run, status=PaymentStatus.FAILED)
            .values_list("entitlement_id", "period", "programme", "amount")
        )  # fmt: skip
        first_failed: dict[int, Any] = {}
        by_programme: dict[str, Decimal] = defaultdict(lambda: ZERO)
        recoveries: dict[str, Decimal] = defaultdict(lambda: ZERO)  # netted, so not recovered
        for ent, period, programme, amount in failed_rows:
            first_failed[ent] = min(period, first_failed.get(ent, period))
            if amount < 0:
                recoveries[programme] -= amount
            else:
                by_programme[programme] += amount
        for ent, period in first_failed.items():
            Entitlement.objects.filter(pk=ent).filter(
                Q(dirty_from__isnull=True) | Q(dirty_from__gt=period)
            ).update(dirty_from=period)
        Entitlement.objects.filter(pk__in=list(first_failed)).update(changed_at=now)
        failed_total = sum(expected[ref] for ref in failed)
        BankBatch.objects.filter(pk=batch.pk).update(
            return_sha256=hashlib.sha256(content).hexdigest(), return_imported_by=actor,
            return_imported_at=now, failed_count=len(failed), failed_total=failed_total,
        )  # fmt: skip
        journal.post_return(run, actor, dict(by_programme), dict(recoveries))
        PayrollRun.objects.filter(pk=run.pk).update(status=PayrollStatus.RECONCILED)
        run.refresh_from_db()
    log.info("bank return for %s: %s failed (%s)", run.number, len(failed), failed_total)
    return reconciliation(run)


def reconciliation(run: PayrollRun, failed_limit: int = 200) -> dict[str, Any]:
    """Per programme: approved, failed and paid, with paid = approved − failed to the fen."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT programme, status, COUNT(*), "
            f"{fen_sum_sql('amount')} FROM benefits_payment WHERE run_id = %s "
            "GROUP BY programme, status",
            [run.pk],
        )
        rows = cur.fetchall()
    labels = programme_labels()
    per: dict[str, dict[str, Any]] = {}
    for programme, status, n, fen in rows:
        row = per.setdefault(programme, {"programme": programme,
                                         "label": labels.get(programme, (programme,))[0],
                                         "approved_count": 0, "approved": ZERO,
                                         "failed_count": 0, "failed": ZERO,
                                         "paid_count": 0, "paid": ZERO,
                                         "pending_count": 0, "pending": ZERO})  # fmt: skip
        amount = _money(fen)
        row["approved_count"] += int(n)
        row["approved"] += amount
        key = {"failed": "failed", "paid": "paid"}.get(status, "pending")
        row[f"{key}_count"] += int(n)
        row[key] += amount
    programmes = sorted(per.values(), key=lambda r: r["programme"])
    for row in programmes:
        row["balanced"] = (
            row["paid"] == row["approved"] - row["failed"] and not row["pending_count"]
        )
    batch = BankBatch.objects.filter(run=run).first()
    failed = list(
        Payment.objects.filter(run=run, status=PaymentStatus.FAILED)
        .select_related("household", "entitlement")
        .order_by("pk")[:failed_limit]
    )
    totals = Payment.objects.filter(run=run).aggregate(n=Count("pk"), s=Sum("amount"))
    return {
        "payroll": run.pk, "number": run.number, "period": run.period.strftime("%Y-%m"),
        "status": run.status, "programmes": programmes,
        "approved": sum((r["approved"] for r in programmes), ZERO),
        "failed": sum((r["failed"] for r in programmes), ZERO),
        "paid": sum((r["paid"] for r in programmes), ZERO),
        "payments": totals["n"],
        "balanced": all(r["balanced"] for r in programmes),
        "bank": None if batch is None else {
            "file_name": batch.file_name, "sha256": batch.sha256, "row_count": batch.row_count,
            "control_total": batch.control_total,
            "returned": batch.return_imported_at is not None,
            "failed_count": batch.failed_count, "failed_total": batch.failed_total,
            "paid_total": batch.control_total - batch.failed_total,
        },
        "failed_payments": [
            {"id": p.pk, "reference": p.reference, "household": p.household.number,
             "programme": p.programme, "period": p.period.strftime("%Y-%m"),
             "amount": p.amount, "failure_code": p.failure_code,
             "failure_reason": p.failure_reason, "reissue_ready": p.reissue_ready,
             "account": p.entitlement.account_masked}
            for p in failed
        ],
    }  # fmt: skip
