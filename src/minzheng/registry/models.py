"""The household registry: divisions, households, persons, incomes, medical bills."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from minzheng.registry.vocab import (
    DisabilityKind,
    Employment,
    Health,
    Hukou,
    IncomeType,
    MedicalBillKind,
    PersonState,
    Relation,
    Schooling,
    Sex,
)

ZERO = Decimal("0.00")


class DivisionLevel(models.TextChoices):
    CITY = "city", "市"
    DISTRICT = "district", "区"
    STREET = "street", "街道/乡镇"
    COMMUNITY = "community", "社区/村"


class Division(models.Model):
    """A node of the jurisdiction tree; ``path`` ("110000/110102/…/") makes subtrees cheap."""

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=64)
    level = models.CharField("层级", max_length=16, choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    path = models.CharField(max_length=128, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Household(models.Model):
    number = models.CharField("户编号", max_length=32, unique=True)
    external_id = models.CharField("外部编号", max_length=64, blank=True, db_index=True)
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="households", verbose_name="所属区划"
    )
    address = models.CharField("住址", max_length=200, blank=True)
    hukou = models.CharField("户籍类型", max_length=16, choices=Hukou.choices)
    deposits = models.DecimalField("存款", max_digits=14, decimal_places=2, default=ZERO)
    securities = models.DecimalField("有价证券", max_digits=14, decimal_places=2, default=ZERO)
    houses = models.PositiveSmallIntegerField("房产套数", default=0)
    vehicles = models.PositiveSmallIntegerField("机动车数", default=0)
    business = models.BooleanField("经营实体", default=False)
    medical_monthly = models.DecimalField(
        "月医疗支出", max_digits=12, decimal_places=2, default=ZERO
    )
    education_monthly = models.DecimalField(
        "月教育支出", max_digits=12, decimal_places=2, default=ZERO
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "家庭"
        verbose_name_plural = "家庭"
        constraints = [
            models.CheckConstraint(
                condition=Q(deposits__gte=0)
                & Q(securities__gte=0)
                & Q(medical_monthly__gte=0)
                & Q(education_monthly__gte=0),
                name="household_amounts_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Person(models.Model):
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name="所在家庭",
    )
    external_id = models.CharField("外部编号", max_length=64, blank=True)
    name = models.CharField("姓名", max_length=64)
    id_number_encrypted = models.TextField()
    id_number_hash = models.CharField(max_length=64, unique=True)
    id_number_masked = models.CharField("公民身份号码", max_length=18)
    birth_date = models.DateField("出生日期")
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    relation = models.CharField("与户主关系", max_length=16, choices=Relation.choices)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    disability_kind = models.CharField(
        "残疾类别", max_length=16, choices=DisabilityKind.choices, blank=True
    )
    disability_grade = models.PositiveSmallIntegerField("残疾等级", null=True, blank=True)
    health = models.CharField("健康状况", max_length=16, choices=Health.choices, blank=True)
    employment = models.CharField("就业状况", max_length=24, choices=Employment.choices, blank=True)
    schooling = models.CharField("在学情况", max_length=16, choices=Schooling.choices, blank=True)
    statuses = models.JSONField("特殊身份", default=list, blank=True)
    state = models.CharField(
        "状态", max_length=16, choices=PersonState.choices, default=PersonState.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at", "id_number_encrypted"])

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        indexes = [models.Index(fields=["name"], name="person_name_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=Q(relation="head"), name="one_head_per_household"
            ),
            models.CheckConstraint(
                condition=Q(disability_grade__isnull=True)
                | Q(disability_grade__gte=1, disability_grade__lte=4),
                name="disability_grade_1_to_4",
            ),
            models.CheckConstraint(
                condition=(Q(disability_kind="") & Q(disability_grade__isnull=True))
                | (~Q(disability_kind="") & Q(disability_grade__isnull=False)),
                name="disability_kind_and_grade_together",
            ),
            models.CheckConstraint(
                condition=Q(state="active", household__isnull=False) | ~Q(state="active"),
                name="active_person_has_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.id_number_masked}）"

    @property
    def id_number(self) -> str:
        from minzheng.core.crypto import decrypt

        return decrypt(self.id_number_encrypted)


class Income(models.Model):
    """One income of one person, by type, for one month (the first day stands for it)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="incomes")
    type = models.CharField("收入类型", max_length=32, choices=IncomeType.choices)
    month = models.DateField("所属月份")
    monthly = models.DecimalField("月收入", max_digits=12, decimal_places=2)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "收入"
        verbose_name_plural = "收入"
        ordering = ["-month", "type"]
        constraints = [
            models.UniqueConstraint(fields=["person", "type", "month"], name="income_once_a_month"),
            models.CheckConstraint(condition=Q(monthly__gte=0), name="income_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.month:%Y-%m} {self.monthly}"


class MedicalBill(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="medical_bills")
    kind = models.CharField("类别", max_length=16, choices=MedicalBillKind.choices)
    total = models.DecimalField("总费用", max_digits=12, decimal_places=2)
    insurance_paid = models.DecimalField("医保已支付", max_digits=12, decimal_places=2)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "医疗费用"
        verbose_name_plural = "医疗费用"
        constraints = [
            models.CheckConstraint(
                condition=Q(insurance_paid__gte=0) & Q(insurance_paid__lte=models.F("total")),
                name="bill_insurance_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.total}"
