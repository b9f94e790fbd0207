"""One-window applications: one application per household visit, one line per programme.

Each programme line moves through its own workflow (``applications.workflow``); every
move is a ``Transition`` row written in the same transaction as the state change. The
database keeps at most one open line per household and programme.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Channel(models.TextChoices):
    WINDOW = "window", "社区窗口"
    ONLINE = "online", "网上申请"
    CROSS_REGION = "cross_region", "跨区通办"


class State(models.TextChoices):
    SUBMITTED = "submitted", "待受理"
    INVESTIGATION = "investigation", "入户调查"
    VERIFICATION = "verification", "经济状况核对"
    APPRAISAL = "appraisal", "民主评议"
    PUBLIC_NOTICE = "public_notice", "公示中"
    STREET_REVIEW = "street_review", "街道审核"
    DISTRICT_APPROVAL = "district_approval", "区级审批"
    REFERRED = "referred", "部门办理"
    RETURNED = "returned", "退回补正"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "不予批准"
    WITHDRAWN = "withdrawn", "已撤回"


OPEN_STATES = (
    State.SUBMITTED,
    State.INVESTIGATION,
    State.VERIFICATION,
    State.APPRAISAL,
    State.PUBLIC_NOTICE,
    State.STREET_REVIEW,
    State.DISTRICT_APPROVAL,
    State.REFERRED,
    State.RETURNED,
)
DECIDED_STATES = (State.APPROVED, State.REJECTED)


class Application(models.Model):
    """What the household asked for at one visit (or one online submission)."""

    number = models.CharField("申请编号", max_length=24, unique=True)
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="applications",
        verbose_name="申请家庭",
    )  # fmt: skip
    applicant = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="applications",
        verbose_name="申请人",
    )  # fmt: skip
    division = models.ForeignKey(
        "registry.Division", on_delete=models.PROTECT, related_name="applications",
        verbose_name="办理区划",
    )  # fmt: skip
    received_division = models.ForeignKey(
        "registry.Division", on_delete=models.PROTECT, related_name="+",
        null=True, blank=True, verbose_name="收件区划",
    )  # fmt: skip
    channel = models.CharField("申请渠道", max_length=16, choices=Channel.choices)
    note = models.CharField("申请说明", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("申请时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "申请"
        verbose_name_plural = "申请"
        ordering = ["-pk"]

    def __str__(self) -> str:
        return self.number


class ApplicationLine(models.Model):
    """One programme of an application: its own state, deadline and decision."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="lines")
    programme = models.CharField("救助项目", max_length=40)
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    # Copied from the application's division so the inbox is one indexed scan.
    division_path = models.CharField(max_length=128)
    route = models.CharField("办理流程", max_length=16)
    department = models.CharField("承办部门", max_length=32, blank=True)
    state = models.CharField("状态", max_length=24, choices=State.choices, default=State.SUBMITTED)
    # Whose turn it is (a role), empty once decided or withdrawn.
    waiting_role = models.CharField(max_length=32, blank=True)
    step_entered_on = models.DateField("本环节开始")
    step_due = models.DateField("本环节时限", null=True, blank=True)
    returned_from = models.CharField(max_length=24, blank=True)
    requested = models.BooleanField("申请人申请", default=True)
    suggested = models.BooleanField("系统推荐", default=False)
    estimated_amount = models.DecimalField(
        "受理时测算金额", max_digits=12, decimal_places=2, null=True, blank=True
    )
    proposed_amount = models.DecimalField(
        "核对后拟定金额", max_digits=12, decimal_places=2, null=True, blank=True
    )
    unit = models.CharField("金额单位", max_length=16, blank=True)
    notice_starts_on = models.DateField("公示开始", null=True, blank=True)
    notice_ends_on = models.DateField("公示结束", null=True, blank=True)
    amount = models.DecimalField("批准金额", max_digits=12, decimal_places=2, null=True, blank=True)
    start_month = models.DateField("起始月份", null=True, blank=True)
    decision_reason = models.CharField("决定理由", max_length=500, blank=True)
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "申请项目"
        verbose_name_plural = "申请项目"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "programme"],
                condition=Q(state__in=[s.value for s in OPEN_STATES]),
                name="one_open_line_per_household_programme",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="line_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=~Q(state="approved") | Q(amount__isnull=False, start_month__isnull=False),
                name="approved_line_has_amount_and_start",
            ),
            models.CheckConstraint(
                condition=Q(notice_ends_on__isnull=True)
                | Q(notice_ends_on__gte=models.F("notice_starts_on")),
                name="notice_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["waiting_role", "division_path", "step_due"], name="line_inbox_idx"
            ),
            models.Index(fields=["state", "division_path"], name="line_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}/{self.programme} {self.state}"


class Transition(models.Model):
    """An immutable record of one move of one line: who, when, why, from where to where."""

    line = models.ForeignKey(ApplicationLine, on_delete=models.PROTECT, related_name="transitions")
    action = models.CharField("操作", max_length=24)
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=32)
    reason = models.CharField("理由", max_length=500)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "流转记录"
        verbose_name_plural = "流转记录"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.line_id} {self.action} {self.from_state}→{self.to_state}"


class HomeVisit(models.Model):
    """The record of a home visit (入户调查) for an application."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="visits")
    visited_on = models.DateField("调查日期")
    visitors = models.CharField("调查人员", max_length=200)
    living_conditions = models.CharField("居住状况", max_length=500, blank=True)
    findings = models.TextField("调查情况")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "入户调查记录"
        verbose_name_plural = "入户调查记录"
        ordering = ["-visited_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.visited_on}"


class DocumentKind(models.TextChoices):
    IDENTITY = "identity", "身份证明"
    HUKOU = "hukou", "户口簿"
    INCOME = "income", "收入证明"
    MEDICAL = "medical", "病历或医疗票据"
    DISABILITY = "disability", "残疾人证"
    SCHOOLING = "schooling", "在学证明"
    OTHER = "other", "其他材料"


class ApplicationDocument(models.Model):
    """An attached photo or PDF; the file lives under MEDIA_ROOT, never in the database."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField("材料类别", max_length=16, choices=DocumentKind.choices)
    name = models.CharField("文件名", max_length=120)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=80, unique=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "申请材料"
        verbose_name_plural = "申请材料"
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class Objection(models.Model):
    """An objection raised during the public notice; it must be resolved before review."""

    line = models.ForeignKey(ApplicationLine, on_delete=models.PROTECT, related_name="objections")
    content = models.CharField("异议内容", max_length=1000)
    contact = models.CharField("联系方式", max_length=100, blank=True)
    lodged_at = models.DateTimeField("提出时间", auto_now_add=True)
    lodged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
        blank=True,
    )  # fmt: skip
    resolution = models.CharField("处理结果", max_length=1000, blank=True)
    upheld = models.BooleanField("异议成立", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
        blank=True,
    )  # fmt: skip
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        verbose_name = "公示异议"
        verbose_name_plural = "公示异议"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True)
                | (~Q(resolution="") & Q(upheld__isnull=False)),
                name="resolved_objection_has_outcome",
            )
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.lodged_at:%Y-%m-%d}"
