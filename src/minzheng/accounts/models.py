from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from minzheng.accounts.roles import Department, Role


class User(AbstractUser):
    """A person who signs in: staff of one division, or a resident of one household."""

    role = models.CharField("角色", max_length=32, choices=Role.choices)
    division = models.ForeignKey(
        "registry.Division",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name="所属区划",
    )
    department = models.CharField(
        "所属委办局", max_length=32, choices=Department.choices, blank=True
    )
    household = models.ForeignKey(
        "registry.Household",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resident_users",
        verbose_name="本人家庭",
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                condition=Q(role="resident", household__isnull=False)
                | (~Q(role="resident") & Q(division__isnull=False)),
                name="user_has_scope",
            ),
            models.CheckConstraint(
                condition=~Q(role="department_liaison") | ~Q(department=""),
                name="liaison_has_department",
            ),
        ]


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"


class AccessAction(models.TextChoices):
    VIEW = "view", "查看档案"
    REVEAL = "reveal", "查看完整身份证号"
    LOOKUP = "lookup", "按身份证号查询"
    EXPORT = "export", "导出"


class AccessLog(models.Model):
    """Every read of a person's file: who, whom, when, why."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_logs"
    )
    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="access_logs", null=True
    )
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="access_logs", null=True
    )
    division = models.ForeignKey(
        "registry.Division", on_delete=models.PROTECT, related_name="access_logs"
    )
    action = models.CharField("操作", max_length=16, choices=AccessAction.choices)
    reason = models.CharField("事由", max_length=200, blank=True)
    channel = models.CharField("渠道", max_length=8, default="web")
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "档案查阅日志"
        verbose_name_plural = "档案查阅日志"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "at"]), models.Index(fields=["actor", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.person_id}"
