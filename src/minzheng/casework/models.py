"""Household plans (一户一策), case contacts (个案帮扶), file notes, proactive discovery
(主动服务) and the tasks raised by life events.

Every row that is read by scope carries ``division_path``, copied from the household
when it is written, so a jurisdiction is one indexed prefix range.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class NeedDomain(models.TextChoices):
    INCOME = "income", "收入"
    HEALTH = "health", "健康"
    HOUSING = "housing", "住房"
    EDUCATION = "education", "教育"
    EMPLOYMENT = "employment", "就业"
    CARE = "care", "照护"
    PSYCHOLOGICAL = "psychological", "心理"


class Severity(models.TextChoices):
    LOW = "low", "一般"
    MEDIUM = "medium", "较重"
    HIGH = "high", "严重"


class MeasureKind(models.TextChoices):
    CASH = "cash", "物质救助（现金项目）"
    SERVICE = "service", "服务"
    REFERRAL = "referral", "转介"


class MeasureStatus(models.TextChoices):
    PLANNED = "planned", "计划中"
    IN_PROGRESS = "in_progress", "实施中"
    DONE = "done", "已完成"
    CANCELLED = "cancelled", "已取消"


class PlanStatus(models.TextChoices):
    OPEN = "open", "帮扶中"
    CLOSED = "closed", "已结案"


class PlanOutcome(models.TextChoices):
    IMPROVED = "improved", "困难缓解"
    SELF_RELIANT = "self_reliant", "实现自立"
    STABLE = "stable", "保持稳定，转常规管理"
    MOVED = "moved", "迁出本辖区"
    DECEASED = "deceased", "户内成员均已去世"
    DECLINED = "declined", "本人不再接受帮扶"
    OTHER = "other", "其他"


class ContactMode(models.TextChoices):
    HOME_VISIT = "home_visit", "入户走访"
    PHONE = "phone", "电话联系"
    OFFICE = "office", "来访接待"
    ONLINE = "online", "网络联系"


class Plan(models.Model):
    """一户一策: the needs assessed, the measures agreed, who answers for them, follow-ups.
    At most one open plan per household; a closed plan keeps its outcome."""

    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="plans", verbose_name="家庭"
    )
    division_path = models.CharField(max_length=128, db_index=True)
    status = models.CharField(
        "状态", max_length=16, choices=PlanStatus.choices, default=PlanStatus.OPEN
    )
    summary = models.CharField("帮扶目标", max_length=500)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name="责任人",
    )  # fmt: skip
    review_on = models.DateField("计划复查日期")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField("建档时间", auto_now_add=True)
    reviewed_at = models.DateTimeField("最近复查", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    outcome = models.CharField("结案结果", max_length=16, choices=PlanOutcome.choices, blank=True)
    outcome_note = models.CharField("结案说明", max_length=500, blank=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "帮扶计划"
        verbose_name_plural = "帮扶计划"
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=Q(status="open"), name="one_open_plan_per_household"
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True, outcome="")
                | Q(status="closed", closed_at__isnull=False) & ~Q(outcome=""),
                name="closed_plan_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"帮扶计划 {self.pk}（{self.get_status_display()}）"


class Need(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="needs")
    domain = models.CharField("需求领域", max_length=16, choices=NeedDomain.choices)
    severity = models.CharField("程度", max_length=8, choices=Severity.choices)
    description = models.CharField("需求描述", max_length=500)
    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="涉及成员",
    )  # fmt: skip
    assessed_on = models.DateField("评估日期")
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "domain"], name="one_need_per_domain")
        ]

    def __str__(self) -> str:
        return f"{self.get_domain_display()}：{self.description}"


class Measure(models.Model):
    """物质 + 服务: a cash programme, a service, or a referral to a department or a social
    organisation, with the one who answers for it."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="measures")
    kind = models.CharField("措施类别", max_length=16, choices=MeasureKind.choices)
    programme = models.CharField("救助项目", max_length=40, blank=True)
    target = models.CharField("承接部门或组织", max_length=100, blank=True)
    description = models.CharField("措施内容", max_length=500)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name="责任人",
    )  # fmt: skip
    due_on = models.DateField("完成时限", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=MeasureStatus.choices, default=MeasureStatus.PLANNED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="cash") | ~Q(programme=""), name="cash_measure_names_programme"
            ),
            models.CheckConstraint(
                condition=~Q(kind="referral") | ~Q(target=""), name="referral_names_target"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.description}"


class FollowUp(models.Model):
    """A date by which someone must look at the household again; due ones are in the
    assignee's inbox until done."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="follow_ups")
    division_path = models.CharField(max_length=128)
    measure = models.ForeignKey(
        Measure, on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups"
    )
    due_on = models.DateField("回访日期")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name="负责人",
    )  # fmt: skip
    purpose = models.CharField("回访事项", max_length=300)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    result = models.CharField("回访结果", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["assigned_to", "done_at", "due_on"], name="followup_inbox_idx"),
            models.Index(fields=["division_path", "due_on"], name="followup_scope_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_at__isnull=True) | ~Q(result=""), name="done_follow_up_has_result"
            )
        ]

    def __str__(self) -> str:
        return f"{self.due_on} {self.purpose}"


class Contact(models.Model):
    """个案帮扶: one contact with the household, under its plan."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="contacts")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    division_path = models.CharField(max_length=128)
    contacted_on = models.DateField("联系日期")
    mode = models.CharField("方式", max_length=16, choices=ContactMode.choices)
    content = models.CharField("帮扶内容", max_length=1000)
    follow_up = models.OneToOneField(
        FollowUp, on_delete=models.PROTECT, null=True, blank=True, related_name="contact"
    )
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-contacted_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.contacted_on} {self.get_mode_display()}"


class HouseholdNote(models.Model):
    """A note on the household file (工作记录); notes are never edited, only added."""

    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    division_path = models.CharField(max_length=128)
    text = models.CharField("内容", max_length=1000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.text[:20]


# -- proactive discovery ------------------------------------------------------------------------


class DiscoveryRunStatus(models.TextChoices):
    RUNNING = "running", "运行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class DiscoveryRun(models.Model):
    """One pass of proactive discovery over the registry (or a division of it)."""

    as_of = models.DateField("发现日期")
    division = models.ForeignKey(
        "registry.Division", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=DiscoveryRunStatus.choices, default=DiscoveryRunStatus.RUNNING
    )
    households = models.PositiveIntegerField("评估户数", default=0)
    eligible = models.PositiveIntegerField("可能符合（户×项目）", default=0)
    receiving = models.PositiveIntegerField("已在享受", default=0)
    applied = models.PositiveIntegerField("已申请或近期办结", default=0)
    dismissed_unchanged = models.PositiveIntegerField("已排除且情况未变", default=0)
    new_items = models.PositiveIntegerField("新发现", default=0)
    refreshed_items = models.PositiveIntegerField("情况变化后更新", default=0)
    resolved_items = models.PositiveIntegerField("自动关闭", default=0)
    seconds = models.FloatField("耗时（秒）", default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"主动发现 {self.as_of}（{self.get_status_display()}）"


class ItemStatus(models.TextChoices):
    OPEN = "open", "待处理"
    CONVERTED = "converted", "已转为申请"
    DISMISSED = "dismissed", "已排除"
    RESOLVED = "resolved", "已自动关闭"


class DiscoveryItem(models.Model):
    """A household that appears to qualify for a programme it neither receives nor has
    applied for. ``facts`` is what the engine saw ("dibao:1012.50"): a dismissed item comes
    back only when a later run sees different facts."""

    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="discoveries"
    )
    division_path = models.CharField(max_length=128)
    programme = models.CharField("救助项目", max_length=40)
    amount = models.DecimalField("测算金额", max_digits=12, decimal_places=2)
    unit = models.CharField(max_length=20)
    reasons = models.JSONField(default=list)
    facts = models.CharField(max_length=64)
    status = models.CharField(
        "状态", max_length=16, choices=ItemStatus.choices, default=ItemStatus.OPEN
    )
    found_run = models.ForeignKey(DiscoveryRun, on_delete=models.PROTECT, related_name="+")
    seen_run = models.ForeignKey(DiscoveryRun, on_delete=models.PROTECT, related_name="+")
    found_on = models.DateField("发现日期")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField("处理说明", max_length=500, blank=True)
    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = "主动发现线索"
        verbose_name_plural = "主动发现线索"
        ordering = ["-found_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "programme"],
                condition=Q(status="open"),
                name="one_open_discovery_per_programme",
            ),
            models.CheckConstraint(
                condition=~Q(status="dismissed") | ~Q(reason=""), name="dismissal_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status="converted") | Q(application__isnull=False),
                name="conversion_names_application",
            ),
        ]
        indexes = [
            models.Index(fields=["division_path", "status"], name="discovery_scope_idx"),
            models.Index(fields=["household", "programme", "facts"], name="discovery_facts_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.programme}（{self.get_status_display()}）"


# -- life events ----------------------------------------------------------------------------------


class EventKind(models.TextChoices):
    DEATH = "death", "成员死亡"
    MOVED_OUT = "moved_out", "成员迁出"
    AGE_BAND = "age_band", "年满年龄段"
    DISABILITY = "disability", "新增或变更残疾等级"
    INCOME = "income", "新增收入"


class TaskStatus(models.TextChoices):
    OPEN = "open", "待处理"
    DONE = "done", "已处理"


class Task(models.Model):
    """A life event that the responsible worker must look at. ``source`` identifies what
    raised it (a history row, or a person and an age band), so a rescan raises nothing
    twice."""

    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    division_path = models.CharField(max_length=128)
    kind = models.CharField("事件", max_length=16, choices=EventKind.choices)
    event_on = models.DateField("发生日期")
    description = models.CharField("说明", max_length=300)
    source = models.CharField(max_length=64, unique=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name="负责人",
    )  # fmt: skip
    reviews_triggered = models.PositiveSmallIntegerField("触发复核的待遇数", default=0)
    status = models.CharField(
        "状态", max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField("处理结果", max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event_on", "pk"]
        indexes = [models.Index(fields=["division_path", "status"], name="task_scope_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(result=""), name="done_task_has_result"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.event_on}"


class ScanCursor(models.Model):
    """Where the life-event scan stopped: the last history row read per source and the
    last day whose birthdays were looked at."""

    name = models.CharField(max_length=32, unique=True)
    last_id = models.BigIntegerField(default=0)
    last_day = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} {self.last_id} {self.last_day}"
