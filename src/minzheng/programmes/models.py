"""Stored evaluations of the registry: one run as of a date, its results per household."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class RunStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "计算中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class EvaluationRun(models.Model):
    as_of = models.DateField("评估日期")
    division = models.ForeignKey(
        "registry.Division", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name="范围",
    )  # fmt: skip
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING)
    total = models.PositiveIntegerField("户数", default=0)
    done = models.PositiveIntegerField("已完成户数", default=0)
    eligible_households = models.PositiveIntegerField("可能符合户数", default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField("最近进展", null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total")), name="run_done_le_total"
            )
        ]

    def __str__(self) -> str:
        return f"评估 {self.as_of}（{self.get_status_display()}）"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done / self.total)


class EligibilityResult(models.Model):
    """A programme a household appears to qualify for, as of the run's date, and why."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="results")
    household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, related_name="eligibility"
    )
    programme = models.CharField(max_length=40)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    unit = models.CharField(max_length=20)
    reasons = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "household", "programme"], name="one_result_per_programme"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="result_amount_non_negative"),
        ]
        indexes = [models.Index(fields=["household", "run"])]

    def __str__(self) -> str:
        return f"{self.household_id} {self.programme} {self.amount}"
