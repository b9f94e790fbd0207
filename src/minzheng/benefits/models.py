"""The benefits ledger: entitlements, payroll runs, payments, bank batches and the journal.

Invariants the database keeps (``docs/subsystems/ledger.md`` explains each):

- one live entitlement per household and programme;
- one payment per beneficiary (household), programme and period for the month's own
  money (``regular`` or ``arrears``); at most one correction per month and run
  (``adjustment`` or ``recovery``); a failed payment is re-issued at most once;
- periods are first days of months; amounts are never negative except a recovery;
- a payroll is approved by someone other than the person who prepared it;
- a journal line is either a debit or a credit, never negative.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class EntitlementStatus(models.TextChoices):
    ACTIVE = "active", "正常发放"
    SUSPENDED = "suspended", "暂停发放"
    ENDED = "ended", "已终止"


LIVE_STATUSES = (EntitlementStatus.ACTIVE, EntitlementStatus.SUSPENDED)


class ReviewClass(models.TextChoices):
    """分类管理: how often a recipient household is re-examined (policy file)."""

    STABLE = "stable", "A类（收入稳定，每年复核）"
    IRREGULAR = "irregular_income_or_work_capacity", "B类（收入不稳定或有劳动能力，每半年复核）"


class Entitlement(models.Model):
    """What an approved decision owes a household every month (or once)."""

    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="entitlements",
        verbose_name="救助家庭",
    )  # fmt: skip
    payee = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="+", null=True, blank=True,
        verbose_name="收款人",
    )  # fmt: skip
    programme = models.CharField("救助项目", max_length=40)
    line = models.OneToOneField(
        "applications.ApplicationLine", on_delete=models.PROTECT, null=True, blank=True,
        related_name="entitlement", verbose_name="审批决定",
    )  # fmt: skip
    division = models.ForeignKey("registry.Division", on_delete=models.PROTECT, related_name="+")
    division_path = models.CharField(max_length=128, db_index=True)
    # The amount in force from ``amount_from`` on; earlier or scheduled amounts are rows
    # of ``EntitlementAmount``. A one-off programme is paid once, in ``start_month``.
    amount = models.DecimalField("月发放金额", max_digits=12, decimal_places=2)
    amount_from = models.DateField("金额起始月份")
    one_off = models.BooleanField("一次性发放", default=False)
    start_month = models.DateField("起始月份")
    end_month = models.DateField("终止月份", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=EntitlementStatus.choices, default=EntitlementStatus.ACTIVE
    )
    status_reason = models.CharField("状态原因", max_length=500, blank=True)
    bank_code = models.CharField("开户银行代码", max_length=12, blank=True)
    account_encrypted = models.TextField(blank=True)
    account_masked = models.CharField("银行账号", max_length=32, blank=True)
    account_name = models.CharField("账户名", max_length=64, blank=True)
    account_changed_at = models.DateTimeField(null=True, blank=True)
    review_class = models.CharField(
        "分类管理", max_length=40, choices=ReviewClass.choices, default=ReviewClass.STABLE
    )
    next_review_on = models.DateField("下次复核日期", null=True, blank=True)
    # The payroll's bookkeeping: every month up to ``settled_through`` was considered by
    # an approved payroll; ``dirty_from`` is the earliest month whose amount may differ
    # from what was paid (a back-dated change), so the next payroll looks again.
    settled_through = models.DateField(null=True, blank=True)
    dirty_from = models.DateField(null=True, blank=True)
    changed_at = models.DateTimeField("发放要素变更时间", auto_now_add=True)
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "救助待遇"
        verbose_name_plural = "救助待遇"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "programme"],
                condition=Q(status__in=["active", "suspended"]),
                name="one_live_entitlement_per_household_programme",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="entitlement_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(end_month__isnull=True) | Q(end_month__gte=F("start_month")),
                name="entitlement_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(start_month__day=1)
                & Q(amount_from__day=1)
                & (Q(end_month__isnull=True) | Q(end_month__day=1)),
                name="entitlement_months_are_first_days",
            ),
        ]
        indexes = [
            models.Index(fields=["division_path", "status"], name="entitlement_scope_idx"),
            models.Index(fields=["next_review_on"], name="entitlement_review_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}/{self.programme} {self.amount}"


class EntitlementAmount(models.Model):
    """The monthly amount from a month on (history and schedule, e.g. gradual exit)."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="amounts")
    from_month = models.DateField("起始月份")
    amount = models.DecimalField("月发放金额", max_digits=12, decimal_places=2)
    cause = models.CharField("原因", max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entitlement", "from_month"]
        constraints = [
            models.UniqueConstraint(
                fields=["entitlement", "from_month"], name="one_amount_per_entitlement_month"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="scheduled_amount_non_negative"
            ),
            models.CheckConstraint(condition=Q(from_month__day=1), name="amount_from_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.entitlement_id} {self.from_month:%Y-%m} {self.amount}"


class Suspension(models.Model):
    """Months in which nothing is paid (暂停发放); open while ``to_month`` is empty."""

    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.PROTECT, related_name="suspensions"
    )
    from_month = models.DateField("暂停起始月份")
    to_month = models.DateField("恢复前最后月份", null=True, blank=True)
    reason = models.CharField("原因", max_length=500)

    class Meta:
        ordering = ["entitlement", "from_month"]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_month__isnull=True) | Q(to_month__gte=F("from_month")),
                name="suspension_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.entitlement_id} {self.from_month:%Y-%m}–{self.to_month or ''}"


class EntitlementEvent(models.Model):
    """The history of an entitlement: every change, who made it and why."""

    class Kind(models.TextChoices):
        CREATED = "created", "待遇生效"
        AMOUNT = "amount", "金额调整"
        SUSPENDED = "suspended", "暂停发放"
        RESUMED = "resumed", "恢复发放"
        ENDED = "ended", "终止发放"
        ACCOUNT = "account", "变更银行账户"
        REVIEW = "review", "动态复核"
        STANDARD = "standard", "标准调整"

    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField("事项", max_length=16, choices=Kind.choices)
    effective_month = models.DateField("生效月份", null=True, blank=True)
    old_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    new_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    reason = models.CharField("理由", max_length=500)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.entitlement_id} {self.kind}"


class PayrollStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    COMPUTING = "computing", "计算中"
    PREVIEW = "preview", "待审批"
    APPROVED = "approved", "已审批"
    EXPORTED = "exported", "已生成银行文件"
    RECONCILED = "reconciled", "已对账"
    CANCELLED = "cancelled", "已撤销"
    FAILED = "failed", "计算失败"


OPEN_PAYROLL_STATUSES = (PayrollStatus.PENDING, PayrollStatus.COMPUTING, PayrollStatus.PREVIEW)
DONE_PAYROLL_STATUSES = (PayrollStatus.APPROVED, PayrollStatus.EXPORTED, PayrollStatus.RECONCILED)


class PayrollRun(models.Model):
    """One month's payroll for a division: computed in the background, approved by a
    second person, then written as immutable payments."""

    number = models.CharField("发放批次号", max_length=32, unique=True)
    period = models.DateField("发放月份")
    division = models.ForeignKey("registry.Division", on_delete=models.PROTECT, related_name="+")
    division_path = models.CharField(max_length=128)
    status = models.CharField(
        "状态", max_length=16, choices=PayrollStatus.choices, default=PayrollStatus.PENDING
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="制表人"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
        blank=True, verbose_name="审批人",
    )  # fmt: skip
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    approval_reason = models.CharField("审批意见", max_length=500, blank=True)
    # Computation progress; a restarted job continues after ``cursor`` (an entitlement id).
    started_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    cursor = models.BigIntegerField(default=0)
    scope_max_id = models.BigIntegerField(default=0)
    total = models.PositiveIntegerField("待遇数", default=0)
    done = models.PositiveIntegerField("已计算", default=0)
    line_count = models.PositiveIntegerField("发放笔数", default=0)
    line_amount = models.DecimalField("发放总额", max_digits=16, decimal_places=2, default=0)
    # Entitlement id → first month still to be looked at again (a recovery larger
    # than what could be deducted this month stays open).
    carry = models.JSONField(default=dict, blank=True)
    held = models.JSONField("暂缓发放", default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "发放批次"
        verbose_name_plural = "发放批次"
        ordering = ["-period", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(period__day=1), name="payroll_period_first_day"),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("prepared_by")),
                name="payroll_four_eyes",
            ),
            models.UniqueConstraint(
                fields=["division", "period"],
                condition=~Q(status__in=["cancelled", "failed"]),
                name="one_live_payroll_per_division_period",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done / self.total)


class PaymentKind(models.TextChoices):
    REGULAR = "regular", "当月发放"
    ARREARS = "arrears", "补发"
    ADJUSTMENT = "adjustment", "差额补发"
    RECOVERY = "recovery", "追回扣减"
    REISSUE = "reissue", "失败重发"


BASE_KINDS = (PaymentKind.REGULAR, PaymentKind.ARREARS)
CORRECTION_KINDS = (PaymentKind.ADJUSTMENT, PaymentKind.RECOVERY)


class PayrollLine(models.Model):
    """A computed line of a payroll preview (a draft until the run is approved)."""

    run = models.ForeignKey(PayrollRun, on_delete=models.CASCADE, related_name="lines")
    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="+")
    household_id = models.BigIntegerField()
    programme = models.CharField(max_length=40)
    period = models.DateField()
    kind = models.CharField(max_length=16, choices=PaymentKind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reissue_of = models.ForeignKey(
        "Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "entitlement", "period", "kind"],
                condition=~Q(kind="reissue"), name="one_line_per_run_month_kind",
            ),
            models.UniqueConstraint(
                fields=["run", "reissue_of"], condition=Q(kind="reissue"),
                name="one_reissue_line_per_run_payment",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.run_id} {self.household_id}/{self.programme} {self.period:%Y-%m}"


class PaymentStatus(models.TextChoices):
    APPROVED = "approved", "已审批待发送"
    SENT = "sent", "已发送银行"
    PAID = "paid", "已到账"
    FAILED = "failed", "发放失败"


class Payment(models.Model):
    """An immutable payment record: amounts never change; the bank's answer sets status."""

    run = models.ForeignKey(PayrollRun, on_delete=models.PROTECT, related_name="payments")
    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="payments")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    programme = models.CharField("救助项目", max_length=40)
    period = models.DateField("所属月份")
    kind = models.CharField("类别", max_length=16, choices=PaymentKind.choices)
    amount = models.DecimalField("金额", max_digits=12, decimal_places=2)
    division_path = models.CharField(max_length=128)
    status = models.CharField(
        "状态", max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.APPROVED
    )
    reference = models.CharField("业务参考号", max_length=40, unique=True)
    batch = models.ForeignKey(
        "BankBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    # The bank transfer this payment travels in: one per entitlement and run (its
    # payments net, recoveries deducted); empty when the net was nothing to send.
    transfer_ref = models.CharField("转账参考号", max_length=40, blank=True, db_index=True)
    reissue_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reissue"
    )
    reissue_ready = models.BooleanField("可重发", default=False)
    failure_code = models.CharField("失败代码", max_length=16, blank=True)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "发放记录"
        verbose_name_plural = "发放记录"
        ordering = ["-period", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "programme", "period"],
                condition=Q(kind__in=["regular", "arrears"]),
                name="one_payment_per_beneficiary_programme_period",
            ),
            models.UniqueConstraint(
                fields=["household", "programme", "period", "run"],
                condition=Q(kind__in=["adjustment", "recovery"]),
                name="one_correction_per_month_and_run",
            ),
            models.CheckConstraint(
                condition=Q(kind="recovery", amount__lt=0)
                | (~Q(kind="recovery") & Q(amount__gt=0)),
                name="payment_sign_by_kind",
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="payment_period_first_day"),
            models.CheckConstraint(
                condition=Q(kind="reissue", reissue_of__isnull=False)
                | (~Q(kind="reissue") & Q(reissue_of__isnull=True)),
                name="reissue_names_its_failed_payment",
            ),
        ]
        indexes = [
            models.Index(fields=["household", "programme", "period"], name="payment_month_idx"),
            models.Index(fields=["division_path", "period"], name="payment_scope_idx"),
            models.Index(fields=["status", "reissue_ready"], name="payment_failed_idx"),
        ]

    def __str__(self) -> str:
        return self.reference


class BankBatch(models.Model):
    """The bank file of an approved payroll and, once imported, the bank's return."""

    run = models.OneToOneField(PayrollRun, on_delete=models.PROTECT, related_name="batch")
    file_name = models.CharField(max_length=80)
    row_count = models.PositiveIntegerField("笔数")
    control_total = models.DecimalField("控制总额", max_digits=16, decimal_places=2)
    sha256 = models.CharField("文件摘要", max_length=64)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    exported_at = models.DateTimeField(auto_now_add=True)
    return_sha256 = models.CharField(max_length=64, blank=True)
    return_imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    return_imported_at = models.DateTimeField(null=True, blank=True)
    failed_count = models.PositiveIntegerField(default=0)
    failed_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(control_total__gte=0), name="batch_total_non_negative"
            )
        ]

    def __str__(self) -> str:
        return self.file_name


class Account(models.TextChoices):
    """The journal's accounts, each kept per programme."""

    EXPENSE = "expense", "救助支出"
    PAYABLE = "payable", "应付救助对象款"
    BANK = "bank", "银行存款（代发）"
    RETURNED = "returned", "退回待重发"
    PROVIDER_PAYABLE = "provider_payable", "应付服务商款"


class JournalEntry(models.Model):
    """One balanced posting: the sum of its debits equals the sum of its credits."""

    class Kind(models.TextChoices):
        APPROVAL = "approval", "发放审批"
        TRANSFER = "transfer", "银行代发"
        RETURN = "return", "银行退回"
        REISSUE = "reissue", "退回重发"
        SERVICE_SETTLEMENT = "service_settlement", "服务结算审核"
        SERVICE_PAYMENT = "service_payment", "服务商支付"

    kind = models.CharField("业务", max_length=24, choices=Kind.choices)
    # A payroll's entries point at their run; a provider's settlement has none and names
    # itself in ``reference`` (e.g. ``eldercare.settlement:12``).
    run = models.ForeignKey(
        PayrollRun, on_delete=models.PROTECT, related_name="entries", null=True, blank=True
    )
    reference = models.CharField("业务单号", max_length=64, blank=True, db_index=True)
    division_path = models.CharField(max_length=128, default="", db_index=True)
    period = models.DateField("发放月份")
    programme = models.CharField("救助项目", max_length=40)
    memo = models.CharField("摘要", max_length=200)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(run__isnull=False) | ~Q(reference=""), name="journal_entry_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.programme} {self.period:%Y-%m}"


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.CharField("科目", max_length=16, choices=Account.choices)
    programme = models.CharField(max_length=40)
    period = models.DateField()
    debit = models.DecimalField("借方", max_digits=16, decimal_places=2, default=0)
    credit = models.DecimalField("贷方", max_digits=16, decimal_places=2, default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(debit__gte=0, credit__gte=0) & (Q(debit=0) | Q(credit=0)),
                name="journal_line_one_side",
            )
        ]
        indexes = [models.Index(fields=["programme", "period", "account"], name="journal_idx")]

    def __str__(self) -> str:
        return f"{self.account} {self.debit}/{self.credit}"


class ReviewOutcome(models.TextChoices):
    CONTINUE = "continue", "继续享受"
    ADJUST = "adjust", "调整金额"
    GRADUAL_EXIT = "gradual_exit", "渐退"
    STOP = "stop", "停止发放"


class Review(models.Model):
    """A recertification (动态复核): the engine proposes, a worker confirms."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="reviews")
    due_on = models.DateField("应复核日期", null=True, blank=True)
    as_of = models.DateField("复核基准日")
    proposed = models.CharField("系统建议", max_length=16, choices=ReviewOutcome.choices)
    proposed_amount = models.DecimalField(max_digits=12, decimal_places=2)
    reasons = models.JSONField(default=list)
    outcome = models.CharField("复核结论", max_length=16, choices=ReviewOutcome.choices, blank=True)
    outcome_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    effective_month = models.DateField(null=True, blank=True)
    reason = models.CharField("复核意见", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True) | ~Q(outcome=""),
                name="confirmed_review_has_outcome",
            ),
            models.UniqueConstraint(
                fields=["entitlement"],
                condition=Q(confirmed_at__isnull=True),
                name="one_open_review_per_entitlement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entitlement_id} {self.proposed}"


class StandardChange(models.Model):
    """A new parameter value from a date, applied to every affected entitlement."""

    programme = models.CharField("救助项目", max_length=40)
    effective_month = models.DateField("生效月份")
    division = models.ForeignKey("registry.Division", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField("依据", max_length=500)
    applied = models.BooleanField(default=False)
    affected = models.PositiveIntegerField("涉及待遇数", default=0)
    monthly_difference = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    arrears_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_month__day=1), name="standard_change_first_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.programme} {self.effective_month:%Y-%m}"


class StandardChangeRow(models.Model):
    change = models.ForeignKey(StandardChange, on_delete=models.CASCADE, related_name="rows")
    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="+")
    old_amount = models.DecimalField(max_digits=12, decimal_places=2)
    new_amount = models.DecimalField(max_digits=12, decimal_places=2)
    months_back = models.PositiveSmallIntegerField("需补差月数", default=0)
    arrears = models.DecimalField("补差合计", max_digits=12, decimal_places=2, default=0)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.change_id}/{self.entitlement_id} {self.old_amount}→{self.new_amount}"


class MedicalClaim(models.Model):
    """One medical bill through the support cascade: insurance first, then medical
    assistance up to its ratio and the year's cap, then charity for what remains."""

    class Band(models.TextChoices):
        EXTREME_POVERTY = "extreme_poverty", "特困人员"
        DIBAO = "dibao", "低保对象"
        LOW_INCOME = "low_income", "低收入对象"
        ILLNESS_1 = "illness_1", "因病致贫（一档）"
        ILLNESS_2 = "illness_2", "因病致贫（二档）"
        ILLNESS_3 = "illness_3", "因病致贫（三档）"

    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="medical_claims"
    )
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    division_path = models.CharField(max_length=128)
    kind = models.CharField("类别", max_length=16)
    band = models.CharField("救助类别", max_length=20, choices=Band.choices)
    treated_on = models.DateField("就诊日期")
    total = models.DecimalField("总费用", max_digits=12, decimal_places=2)
    insurance_paid = models.DecimalField("医保支付", max_digits=12, decimal_places=2)
    remaining = models.DecimalField("个人负担", max_digits=12, decimal_places=2)
    ratio = models.DecimalField("救助比例", max_digits=5, decimal_places=4)
    cap = models.DecimalField("年度限额", max_digits=12, decimal_places=2, null=True, blank=True)
    used_before = models.DecimalField("本年已用", max_digits=12, decimal_places=2, default=0)
    assistance = models.DecimalField("医疗救助", max_digits=12, decimal_places=2)
    charity_offered = models.DecimalField("转介慈善", max_digits=12, decimal_places=2)
    steps = models.JSONField("救助顺序", default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "医疗救助"
        verbose_name_plural = "医疗救助"
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    total__gte=0, insurance_paid__gte=0, assistance__gte=0, charity_offered__gte=0
                )
                & Q(insurance_paid__lte=F("total")),
                name="claim_amounts_consistent",
            ),
            models.CheckConstraint(
                condition=Q(remaining=F("total") - F("insurance_paid")),
                name="claim_remaining_is_total_less_insurance",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.treated_on} {self.assistance}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying an ``Idempotency-Key``; a repeat gets it again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_answer_per_idempotency_key")
        ]

    def __str__(self) -> str:
        return self.key
