"""The demo district's casework: household plans with follow-ups (one overdue), contacts,
a closed plan, proactive discovery over the demo street (one item dismissed, one
converted), and life events (a new income and a death in recipient households) that raise
tasks and bring reviews forward — so the casework inbox opens with work in it."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from minzheng.accounts.models import User
from minzheng.applications import clock
from minzheng.benefits.models import LIVE_STATUSES, Entitlement
from minzheng.casework import discovery, events, services
from minzheng.casework.models import DiscoveryItem, ItemStatus, Plan
from minzheng.core.errors import ApplicationError
from minzheng.registry.documents import HouseholdPatch, IncomeDoc, MemberPatch
from minzheng.registry.models import Household, Person
from minzheng.registry.services import household_update
from minzheng.registry.vocab import IncomeType, PersonState

DEMO_COMMUNITY_STREET = "110102009"


def demo_casework(community: str) -> int:
    """Create the demo casework once; returns the number of plans opened."""
    if Plan.objects.exists():
        return 0
    worker = User.objects.filter(username="worker").first()
    if worker is None:
        return 0
    today = timezone.localdate()
    events.life_events_scan(today)  # the baseline: the registry as loaded
    recipients = list(
        Entitlement.objects.filter(household__division__code=community, status__in=LIVE_STATUSES)
        .order_by("household_id")
        .values_list("household_id", flat=True)
        .distinct()[:40]
    )
    if not recipients:
        recipients = list(
            Household.objects.filter(division__code=community)
            .order_by("pk")
            .values_list("pk", flat=True)[:5]
        )
    opened = 0
    # Plans opened three weeks ago: their first follow-up fell due last week (overdue now).
    with clock.as_of(today - timedelta(days=21)):
        for k, household_id in enumerate(recipients[:3]):
            plan = services.plan_open(
                actor=worker, household_id=household_id,
                summary=["保障基本生活，帮助就业", "解决就医负担，稳定照护", "子女教育支持"][k],
                review_on=(today + timedelta(days=60 + 30 * k)).isoformat(),
                needs=[
                    {"domain": "income", "severity": "high", "description": "家庭收入低于低保标准"},
                    [{"domain": "employment", "severity": "medium", "description": "户主失业，有就业意愿"},
                     {"domain": "health", "severity": "high", "description": "慢性病长期服药"},
                     {"domain": "education", "severity": "medium", "description": "子女在读，学杂费负担重"}][k],
                ],
                measures=[
                    {"kind": "cash", "programme": "dibao", "description": "按月发放低保金"},
                    [{"kind": "referral", "target": "街道就业服务站", "description": "推荐公益性岗位"},
                     {"kind": "referral", "target": "区医保局", "description": "办理门诊特病医疗救助"},
                     {"kind": "service", "description": "链接志愿者课业辅导"}][k],
                ],
                follow_ups=[{"due_on": (today - timedelta(days=7 - 5 * k)).isoformat(),
                             "purpose": ["电话了解求职进展", "入户查看用药和照护情况", "了解开学后学费落实情况"][k]}],
            )  # fmt: skip
            services.contact_record(actor=worker, plan_id=plan.pk,
                                    contacted_on=(today - timedelta(days=21)).isoformat(),
                                    mode="home_visit", content="入户评估，与户主共同商定帮扶计划")  # fmt: skip
            opened += 1
    if len(recipients) > 3:
        with clock.as_of(today - timedelta(days=120)):
            old = services.plan_open(
                actor=worker, household_id=recipients[3], summary="渡过临时困难",
                review_on=(today - timedelta(days=60)).isoformat(),
                needs=[{"domain": "housing", "severity": "medium", "description": "房屋漏雨需维修"}],
                measures=[{"kind": "referral", "target": "社区志愿服务队", "description": "协调维修"}],
            )  # fmt: skip
        services.plan_close(actor=worker, plan_id=old.pk, outcome="improved",
                            note="房屋已修缮，困难缓解，转常规管理")  # fmt: skip
        opened += 1
    # Proactive discovery over the demo street: one item dismissed, one converted.
    discovery.discovery_run(None, as_of=today, division=DEMO_COMMUNITY_STREET)
    items = list(
        DiscoveryItem.objects.filter(status=ItemStatus.OPEN, household__division__code=community)
        .exclude(programme__in=["dibao", "low_income"])
        .order_by("pk")[:2]
    )
    if items:
        discovery.discovery_dismiss(actor=worker, item_id=items[0].pk,
                                    reason="已电话告知，本人表示暂不需要")  # fmt: skip
    if len(items) > 1:
        # the demo goes on without it when the fresh check refuses (the item went stale)
        with contextlib.suppress(ApplicationError):
            discovery.discovery_convert(
                actor=worker, item_id=items[1].pk, note="电话联系后同意申请"
            )
    _life_events(worker, recipients)
    events.life_events_scan(today)
    return opened


def _life_events(worker: User, recipients: list[int]) -> None:
    """A new income in one recipient household and, in one with two members or more, a
    death."""
    for household_id in recipients[4:]:
        members = list(
            Person.objects.filter(household_id=household_id, state=PersonState.ACTIVE).order_by(
                "pk"
            )
        )
        if len(members) >= 2 and members[-1].relation != "head":
            household_update(actor=worker, household_id=household_id, patch=HouseholdPatch(
                reason="医院出具死亡证明，办理减员",
                members=[MemberPatch(person_id=members[-1].pk, leave="deceased")],
            ))  # fmt: skip
            break
    if len(recipients) > 5:
        head = (
            Person.objects.filter(household_id=recipients[5], state=PersonState.ACTIVE)
            .order_by("pk")
            .first()
        )
        if head is not None:
            household_update(actor=worker, household_id=recipients[5], patch=HouseholdPatch(
                reason="户主新就业，登记工资收入",
                members=[MemberPatch(person_id=head.pk, incomes=[IncomeDoc(type=IncomeType.WAGE, monthly=Decimal("2600.00"))])],
            ))  # fmt: skip
