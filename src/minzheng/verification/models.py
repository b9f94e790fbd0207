"""Department feeds, their records, links to registry persons, and verification reports.

A feed is never overwritten: a new file for the same source and division is a new
version. A record keeps what the department wrote (the ID number only masked and as a
keyed hash; a mistyped one is kept encrypted so that it can be linked again).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from minzheng.verification.layouts import LAYOUTS


class Feed(models.Model):
    source = models.CharField(
        "数据来源", max_length=32, choices=[(k, v.label) for k, v in LAYOUTS.items()]
    )
    division = models.ForeignKey(
        "registry.Division", on_delete=models.PROTECT, related_name="+", verbose_name="覆盖区划"
    )
    version = models.PositiveIntegerField("版本")
    describes_on = models.DateField("数据日期")
    file_name = models.CharField("文件名", max_length=120)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField("记录数")
    linked = models.PositiveIntegerField("已关联", default=0)
    review = models.PositiveIntegerField("待人工确认", default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "部门数据"
        verbose_name_plural = "部门数据"
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "division", "version"], name="feed_version_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} v{self.version} {self.describes_on}"


class FeedRecord(models.Model):
    feed = models.ForeignKey(Feed, on_delete=models.PROTECT, related_name="records")
    row = models.PositiveIntegerField("行号")
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    id_number_masked = models.CharField("公民身份号码", max_length=24, blank=True)
    id_number_encrypted = models.TextField(blank=True)
    id_valid = models.BooleanField(default=False)
    name = models.CharField("姓名", max_length=64)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    sex = models.CharField("性别", max_length=1, blank=True)
    address = models.CharField("住址", max_length=200, blank=True)
    values = models.JSONField("数据", default=dict)

    class Meta:
        verbose_name = "部门数据记录"
        verbose_name_plural = "部门数据记录"
        ordering = ["feed", "row"]
        constraints = [models.UniqueConstraint(fields=["feed", "row"], name="feed_row_once")]

    def __str__(self) -> str:
        return f"{self.feed_id}#{self.row}"


class LinkStatus(models.TextChoices):
    AUTO = "auto", "自动关联"
    REVIEW = "review", "待人工确认"
    CONFIRMED = "confirmed", "已确认"
    REJECTED = "rejected", "已否定"


class RecordLink(models.Model):
    """A feed record matched to a registry person, with the evidence a worker can see."""

    record = models.OneToOneField(FeedRecord, on_delete=models.PROTECT, related_name="link")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    method = models.CharField("方式", max_length=16)  # exact | probabilistic
    match_weight = models.FloatField("匹配权重", null=True, blank=True)
    match_probability = models.FloatField("匹配概率")
    status = models.CharField("状态", max_length=16, choices=LinkStatus.choices)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "记录关联"
        verbose_name_plural = "记录关联"
        indexes = [models.Index(fields=["person", "status"]), models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(match_probability__gte=0) & Q(match_probability__lte=1),
                name="link_probability_0_1",
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_id}→{self.person_id} {self.status}"


class VerificationReport(models.Model):
    """Declared vs found for one household at one moment, attached to its application."""

    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="verification_reports"
    )
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    as_of = models.DateField("核对日期")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    eligibility = models.JSONField("对资格的影响", default=dict)

    class Meta:
        verbose_name = "核对报告"
        verbose_name_plural = "核对报告"
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.as_of}"


class Discrepancy(models.Model):
    report = models.ForeignKey(
        VerificationReport, on_delete=models.CASCADE, related_name="discrepancies"
    )
    source = models.CharField("来源", max_length=32)
    subject = models.CharField("对象", max_length=64)  # the household, or a member's name
    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    field = models.CharField("项目", max_length=32)
    declared = models.CharField("申报", max_length=32)
    found = models.CharField("核对", max_length=32)
    difference = models.CharField("差额", max_length=32)
    changes_eligibility = models.BooleanField("影响资格", default=False)
    resolution = models.CharField("处理说明", max_length=500, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "核对差异"
        verbose_name_plural = "核对差异"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | ~Q(resolution=""),
                name="resolved_discrepancy_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.report_id} {self.source} {self.field}"
