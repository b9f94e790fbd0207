"""Elderly care close to home (居家养老, 三边四级): providers and facilities with star ratings
and supervision; elders (a view over the registry) with care assessments and devices;
the service catalogue, orders, deliveries and monthly settlements; patrol visits with
alerts that escalate; emergency calls from devices.

Rows read by scope carry ``division_path`` (the elder's community, or the facility's or
provider's registering division) so a jurisdiction is one prefix range.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.db.models.lookups import Exact
from simple_history.models import HistoricalRecords

ZERO = Decimal("0.00")


# -- providers and facilities ---------------------------------------------------------------------


class ProviderStatus(models.TextChoices):
    ACTIVE = "active", "合作中"
    SUSPENDED = "suspended", "暂停"
    TERMINATED = "terminated", "已解约"


class Provider(models.Model):
    """加盟服务商: an organisation contracted to serve elders in an area."""

    name = models.CharField("名称", max_length=100)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True)
    licence = models.CharField("许可或备案编号", max_length=64, blank=True)
    services = models.JSONField("服务项目", default=list)  # ServiceItem codes
    areas = models.ManyToManyField("registry.Division", related_name="+", verbose_name="服务区域")
    contract_start = models.DateField("合同开始")
    contract_end = models.DateField("合同结束")
    status = models.CharField(
        "状态", max_length=16, choices=ProviderStatus.choices, default=ProviderStatus.ACTIVE
    )
    contact = models.CharField("联系人", max_length=32, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    division = models.ForeignKey(
        "registry.Division", on_delete=models.PROTECT, related_name="+", verbose_name="登记区划"
    )
    division_path = models.CharField(max_length=128, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # who changed what, when and why (the status with its reason); areas are named in the
    # reason of the change that sets them
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = "服务商"
        verbose_name_plural = "服务商"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contract_end__gte=F("contract_start")), name="provider_contract_order"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ProviderMember(models.Model):
    """A service-provider user who records deliveries and visits for their provider."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_membership"
    )

    def __str__(self) -> str:
        return f"{self.user_id}@{self.provider_id}"


class FacilityKind(models.TextChoices):
    INSTITUTION = "institution", "养老机构"
    STREET_CENTRE = "street_centre", "街道养老照料中心"
    STATION = "station", "社区养老服务驿站"


class Facility(models.Model):
    kind = models.CharField("类型", max_length=16, choices=FacilityKind.choices)
    name = models.CharField("名称", max_length=100)
    operator = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="facilities",
        verbose_name="运营方",
    )  # fmt: skip
    division = models.ForeignKey("registry.Division", on_delete=models.PROTECT, related_name="+")
    division_path = models.CharField(max_length=128, db_index=True)
    address = models.CharField("地址", max_length=200, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    capacity = models.PositiveIntegerField("服务能力（人）", default=0)
    beds = models.PositiveIntegerField("床位", default=0)
    staff = models.PositiveIntegerField("工作人员", default=0)
    opening_hours = models.CharField("开放时间", max_length=64, blank=True)
    active = models.BooleanField("运营中", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = "养老服务设施"
        verbose_name_plural = "养老服务设施"
        ordering = ["division_path", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="facility_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="facility_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StarRating(models.Model):
    """评定: criteria scores → stars; every rating is kept (the latest is in force)."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="ratings")
    rated_on = models.DateField("评定日期")
    scores = models.JSONField("各项得分")
    total = models.DecimalField("总分", max_digits=6, decimal_places=1)
    stars = models.PositiveSmallIntegerField("星级")
    note = models.CharField("说明", max_length=500, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-rated_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(stars__gte=0, stars__lte=5), name="stars_0_to_5"),
            models.CheckConstraint(condition=Q(total__gte=0), name="rating_total_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.stars}★"


class InspectionStatus(models.TextChoices):
    OPEN = "open", "待整改"
    CORRECTED = "corrected", "已整改"
    CLOSED = "closed", "无需整改"


class Inspection(models.Model):
    """综合监管: an inspection of a facility or a provider, its findings and the deadline
    for correction."""

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, null=True, blank=True, related_name="inspections"
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, null=True, blank=True, related_name="inspections"
    )
    division_path = models.CharField(max_length=128, db_index=True)
    inspected_on = models.DateField("检查日期")
    findings = models.CharField("发现问题", max_length=1000)
    correction_due = models.DateField("整改期限", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=InspectionStatus.choices, default=InspectionStatus.OPEN
    )
    corrected_on = models.DateField("整改完成", null=True, blank=True)
    follow_up = models.CharField("复查情况", max_length=500, blank=True)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])  # who corrected or closed it

    class Meta:
        ordering = ["-inspected_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(facility__isnull=False) | Q(provider__isnull=False),
                name="inspection_has_subject",
            ),
            models.CheckConstraint(
                condition=Q(correction_due__isnull=True) | Q(correction_due__gte=F("inspected_on")),
                name="inspection_due_after_inspection",
            ),
            models.CheckConstraint(
                condition=Q(corrected_on__isnull=True) | Q(corrected_on__gte=F("inspected_on")),
                name="inspection_corrected_after_inspection",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.inspected_on} {self.findings[:20]}"


# -- elders ------------------------------------------------------------------------------------------


class CareLevel(models.TextChoices):
    SELF_CARE = "self_care", "能力完好（自理）"
    PARTIAL = "partial", "部分失能"
    FULL = "full", "完全失能"


class Living(models.TextChoices):
    ALONE = "alone", "独居"
    EMPTY_NEST = "empty_nest", "空巢"
    WITH_FAMILY = "with_family", "与家人同住"


class Risk(models.TextChoices):
    LOW = "low", "低"
    MEDIUM = "medium", "中"
    HIGH = "high", "高"


class ElderProfile(models.Model):
    """What the registry does not hold about a resident aged 60+: the care assessment, the
    living situation and the risk that sets their patrol visits."""

    person = models.OneToOneField("registry.Person", on_delete=models.PROTECT, related_name="elder")
    division_path = models.CharField(max_length=128, db_index=True)
    care_level = models.CharField("照护需求", max_length=16, choices=CareLevel.choices)
    assessed_on = models.DateField("评估日期")
    assessor = models.CharField("评估人或机构", max_length=64)
    living = models.CharField("居住状况", max_length=16, choices=Living.choices)
    risk = models.CharField("风险等级", max_length=8, choices=Risk.choices, default=Risk.LOW)
    emergency_contact = models.CharField("紧急联系人", max_length=32, blank=True)
    emergency_phone = models.CharField("紧急联系电话", max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.person_id} {self.get_care_level_display()}"


class DeviceKind(models.TextChoices):
    EMERGENCY_CALL = "emergency_call", "紧急呼叫设备"
    DOORBELL = "doorbell", "邻里互助门铃"
    ACCESSIBILITY = "accessibility", "适老化改造"


class DeviceStatus(models.TextChoices):
    ACTIVE = "active", "使用中"
    REVOKED = "revoked", "已停用"


class Device(models.Model):
    """An in-kind benefit installed at an elder's home. A call device has a key (only its
    hash is kept) with which its gateway signs the events it posts."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="devices")
    division_path = models.CharField(max_length=128, db_index=True)
    kind = models.CharField("类型", max_length=16, choices=DeviceKind.choices)
    installed_on = models.DateField("安装日期")
    supplier = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    serial = models.CharField("设备编号", max_length=64, blank=True)
    key_id = models.CharField(max_length=24, unique=True, null=True, blank=True)
    key_hash = models.CharField(max_length=128, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=DeviceStatus.choices, default=DeviceStatus.ACTIVE
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-installed_on", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.serial}"


# -- services, orders, settlements ------------------------------------------------------------------


class ServiceItem(models.Model):
    """The catalogue: a service, its price and the share the programme pays."""

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64)
    unit = models.CharField("计价单位", max_length=16)
    price = models.DecimalField("单价", max_digits=10, decimal_places=2)
    subsidy_share = models.DecimalField("补贴比例", max_digits=4, decimal_places=3, default=ZERO)
    subsidy_cap = models.DecimalField(
        "单次补贴上限", max_digits=10, decimal_places=2, null=True, blank=True
    )
    programme = models.CharField("补贴项目", max_length=40, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(subsidy_share__gte=0, subsidy_share__lte=1), name="subsidy_share_0_to_1"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="service_price_non_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    PLACED = "placed", "已下单"
    DISPATCHED = "dispatched", "已派单"
    DELIVERED = "delivered", "已服务"
    CANCELLED = "cancelled", "已取消"


class OrderChannel(models.TextChoices):
    WORKER = "worker", "工作人员代下单"
    FAMILY = "family", "家属下单"
    ELDER = "elder", "老人本人"


class Order(models.Model):
    elder = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    division_path = models.CharField(max_length=128, db_index=True)
    service = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="orders")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="orders")
    quantity = models.PositiveSmallIntegerField("数量", default=1)
    scheduled_for = models.DateField("服务日期")
    channel = models.CharField("下单渠道", max_length=16, choices=OrderChannel.choices)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        "状态", max_length=16, choices=OrderStatus.choices, default=OrderStatus.PLACED
    )
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    total = models.DecimalField("金额", max_digits=12, decimal_places=2)
    subsidy = models.DecimalField("补贴金额", max_digits=12, decimal_places=2)
    elder_pays = models.DecimalField("个人支付", max_digits=12, decimal_places=2)
    note = models.CharField("备注", max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField("派单时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.CharField("取消原因", max_length=300, blank=True)

    class Meta:
        ordering = ["-scheduled_for", "-pk"]
        constraints = [
            # compared in whole fen: SQLite keeps decimals as floats (0.10 + 0.20 != 0.30)
            models.CheckConstraint(
                condition=Exact(
                    Round(F("total") * 100),
                    Round(F("subsidy") * 100) + Round(F("elder_pays") * 100),
                ),
                name="order_split_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(subsidy__gte=0, elder_pays__gte=0), name="order_split_non_negative"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} × {self.quantity}"


class Delivery(models.Model):
    """The provider's record that the service was delivered: one per order."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="delivery")
    delivered_at = models.DateTimeField("服务时间")
    staff_name = models.CharField("服务人员", max_length=32)
    evidence = models.CharField("签字或照片", max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.order_id} {self.delivered_at}"


class SettlementStatus(models.TextChoices):
    DRAFT = "draft", "待审核"
    APPROVED = "approved", "已审核"
    PAID = "paid", "已支付"


class Settlement(models.Model):
    """A provider's month: its delivered orders, the subsidies to be paid to it."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="settlements")
    month = models.DateField("结算月份")
    division_path = models.CharField(max_length=128, db_index=True)
    status = models.CharField(
        "状态", max_length=16, choices=SettlementStatus.choices, default=SettlementStatus.DRAFT
    )
    orders = models.PositiveIntegerField("服务单数", default=0)
    total = models.DecimalField("服务总额", max_digits=14, decimal_places=2, default=ZERO)
    subsidy = models.DecimalField("补贴总额", max_digits=14, decimal_places=2, default=ZERO)
    elder_pays = models.DecimalField("个人支付总额", max_digits=14, decimal_places=2, default=ZERO)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_reason = models.CharField("审核意见", max_length=500, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment_reference = models.CharField("支付凭证号", max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-month", "provider_id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "month"], name="one_settlement_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="settlement_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.month:%Y-%m}"


class SettlementLine(models.Model):
    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="lines")
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="settlement_line")
    total = models.DecimalField(max_digits=12, decimal_places=2)
    subsidy = models.DecimalField(max_digits=12, decimal_places=2)
    elder_pays = models.DecimalField(max_digits=12, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.settlement_id} {self.order_id}"


# -- patrol visits and alerts -------------------------------------------------------------------------


class VisitMode(models.TextChoices):
    PHONE = "phone", "电话巡视"
    HOME = "home", "上门探访"


class VisitorKind(models.TextChoices):
    WORKER = "worker", "社区工作人员"
    VOLUNTEER = "volunteer", "志愿者"
    PROVIDER = "provider", "服务商"


class VisitSchedule(models.Model):
    """巡视探访: how often an elder is called or visited, and by whom."""

    elder = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    division_path = models.CharField(max_length=128, db_index=True)
    mode = models.CharField("方式", max_length=8, choices=VisitMode.choices)
    every_days = models.PositiveSmallIntegerField("间隔天数")
    visitor_kind = models.CharField("探访人类型", max_length=16, choices=VisitorKind.choices)
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="探访人",
    )  # fmt: skip
    volunteer_name = models.CharField("志愿者姓名", max_length=32, blank=True)
    next_due = models.DateField("下次探访")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["next_due", "pk"]
        indexes = [models.Index(fields=["visitor", "active", "next_due"], name="visit_daily_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(every_days__gte=1), name="visit_interval_positive"),
            models.UniqueConstraint(
                fields=["elder", "mode"],
                condition=Q(active=True),
                name="one_active_schedule_per_mode",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.elder_id} {self.mode} /{self.every_days}d"


class VisitOutcome(models.TextChoices):
    WELL = "well", "情况良好"
    NO_ANSWER = "no_answer", "无人应答"
    UNWELL = "unwell", "身体不适"
    OTHER_NEED = "other_need", "有其他需求"


class Visit(models.Model):
    schedule = models.ForeignKey(VisitSchedule, on_delete=models.PROTECT, related_name="visits")
    elder = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    division_path = models.CharField(max_length=128)
    visited_at = models.DateTimeField("探访时间")
    outcome = models.CharField("结果", max_length=16, choices=VisitOutcome.choices)
    note = models.CharField("情况记录", max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-visited_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.elder_id} {self.visited_at} {self.outcome}"


class AlertKind(models.TextChoices):
    MISSED_VISIT = "missed_visit", "探访逾期未做"
    FAILED_VISIT = "failed_visit", "探访发现异常"
    INCIDENT = "incident", "紧急呼叫未响应"


class AlertLevel(models.TextChoices):
    COMMUNITY = "community", "社区"
    STREET = "street", "街道"


class AlertStatus(models.TextChoices):
    OPEN = "open", "待确认"
    ACKNOWLEDGED = "acknowledged", "已确认"


class Alert(models.Model):
    """Raised for the community worker; escalated to the street when nobody acknowledges
    it within the set time."""

    elder = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    division_path = models.CharField(max_length=128, db_index=True)
    kind = models.CharField("类型", max_length=16, choices=AlertKind.choices)
    visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    schedule = models.ForeignKey(
        VisitSchedule, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    incident = models.ForeignKey(
        "Incident", on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    source = models.CharField(max_length=64, unique=True)  # what raised it, so it is raised once
    description = models.CharField("说明", max_length=300)
    level = models.CharField(
        "层级", max_length=16, choices=AlertLevel.choices, default=AlertLevel.COMMUNITY
    )
    raised_at = models.DateTimeField("发出时间")
    escalated_at = models.DateTimeField("升级时间", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    action = models.CharField("处置情况", max_length=500, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [models.Index(fields=["division_path", "status"], name="alert_scope_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.elder_id}"


# -- emergency calls ------------------------------------------------------------------------------------


class IncidentStatus(models.TextChoices):
    OPEN = "open", "待响应"
    ACKNOWLEDGED = "acknowledged", "处置中"
    CLOSED = "closed", "已结束"


class Incident(models.Model):
    """An emergency call: events from one device close together merge into one incident,
    which must be acknowledged and closed with an outcome."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="incidents")
    elder = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    division_path = models.CharField(max_length=128, db_index=True)
    kind = models.CharField("呼叫类型", max_length=32)
    started_at = models.DateTimeField("首次呼叫")
    last_event_at = models.DateTimeField("最近呼叫")
    events = models.PositiveIntegerField("呼叫次数", default=1)
    status = models.CharField(
        "状态", max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField("处置结果", max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["device"], condition=Q(status="open"), name="one_open_incident_per_device"
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(outcome=""), name="closed_incident_has_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.started_at}"


class DeviceEvent(models.Model):
    """One event as the gateway posted it; ``event_id`` (the gateway's) makes a resend
    harmless."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="events")
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="device_events")
    event_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=32)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "event_id"], name="device_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.event_id}"
