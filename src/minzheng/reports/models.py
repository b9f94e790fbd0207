"""Statistics: standard reports kept as snapshots, and cached dashboard aggregates.

A report is computed once per (kind, period, division) from the ledger and the registry as
of the report date and stored: a rerun of a past month shows the stored figures, and
``reports.monthly`` can recompute them to prove they still agree.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReportKind(models.TextChoices):
    MONTHLY = "monthly", "月度统计"
    YEARLY = "yearly", "年度汇总"


class Report(models.Model):
    kind = models.CharField("报表类型", max_length=16, choices=ReportKind.choices)
    period = models.DateField("统计期")  # the first day of the month, or of the year
    division = models.ForeignKey("registry.Division", on_delete=models.PROTECT, related_name="+")
    division_path = models.CharField(max_length=128, db_index=True)
    as_of = models.DateField("数据截至")
    data = models.JSONField("报表数据")
    digest = models.CharField(max_length=64)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    generated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "统计报表"
        verbose_name_plural = "统计报表"
        ordering = ["-period", "division_path"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "period", "division"], name="one_report_per_kind_period_division"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period:%Y-%m} {self.division_id}"


class Aggregate(models.Model):
    """A dashboard's figures for one division, refreshed by the background job; the page
    shows them with their "as of" time."""

    division = models.ForeignKey("registry.Division", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=40)
    payload = models.JSONField()
    computed_at = models.DateTimeField()
    seconds = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["division", "name"], name="one_aggregate_per_division")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.division_id} {self.computed_at}"
