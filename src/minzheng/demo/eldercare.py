"""The demo district's elderly care: the service catalogue, one provider serving the demo
street with a community station, care assessments of the oldest elders of the demo
community, patrol-visit schedules for those living alone, an emergency-call device, and a
meal order — so the eldercare pages open with something in them."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from minzheng.accounts.models import User
from minzheng.core.errors import ApplicationError
from minzheng.core.ids import credit_check_char
from minzheng.eldercare import alarms, elders, orders, providers, visits
from minzheng.eldercare.models import Provider

log = logging.getLogger(__name__)

DEMO_STREET = "110102009"


def demo_eldercare(community: str) -> int:
    """Create the demo's elderly care once; returns the number of elders scheduled. A
    refusal is logged and the demo goes on (it is an illustration, not a fixture)."""
    if Provider.objects.exists():
        return 0
    users = {u.username: u for u in User.objects.filter(username__in=["worker", "reviewer"])}
    if len(users) < 2:
        return 0
    try:
        return _load(users["worker"], users["reviewer"], community,
                     link=User.objects.filter(username="provider").exists())  # fmt: skip
    except ApplicationError as exc:
        log.warning("demo eldercare stopped: %s", exc)
        return 0


def _load(worker: User, reviewer: User, community: str, *, link: bool) -> int:
    today = timezone.localdate()
    orders.catalogue_load()
    body = "91110102MA01DEMX1"
    provider = providers.provider_create(
        actor=reviewer, name="展览路颐养居家服务中心", credit_code=body + credit_check_char(body),
        services=["meal_delivery", "cleaning", "bathing", "companion"], areas=[DEMO_STREET],
        contract_start=(today - timedelta(days=365)).isoformat(),
        contract_end=(today + timedelta(days=730)).isoformat(), contact="王经理", phone="010-68000000",
    )  # fmt: skip
    if link:  # the demo's provider login works for this provider
        providers.provider_member_add(actor=reviewer, provider_id=provider.pk, username="provider")
    providers.facility_create(
        actor=reviewer, kind="station", name="西便门社区养老服务驿站", division=community,
        operator=provider.pk, capacity=60, beds=4, staff=6, opening_hours="08:00-20:00",
    )  # fmt: skip
    oldest = list(elders.elders_list(worker)[:6])
    scheduled = 0
    for k, person in enumerate(oldest):
        alone = k % 2 == 0
        elders.profile_set(worker, person.pk, {
            "care_level": ["partial", "self_care", "full"][k % 3], "assessed_on": today.isoformat(),
            "assessor": "西城区老年人能力评估中心", "living": "alone" if alone else "with_family",
            "risk": "high" if alone else "low", "emergency_contact": "家属", "emergency_phone": "13800000000",
        })  # fmt: skip
        if alone:
            visits.schedule_create(actor=worker, elder_person_id=person.pk, mode="phone", every_days=1,
                                   visitor_kind="worker", visitor_id=worker.pk,
                                   first_due=today.isoformat())  # fmt: skip
            visits.schedule_create(actor=worker, elder_person_id=person.pk, mode="home", every_days=7,
                                   visitor_kind="worker", visitor_id=worker.pk,
                                   first_due=(today + timedelta(days=k)).isoformat())  # fmt: skip
            scheduled += 1
    if oldest:
        alarms.device_register(actor=worker, person_id=oldest[0].pk, kind="emergency_call",
                               installed_on=today.isoformat(), supplier_id=provider.pk,
                               serial="SOS-DEMO-0001")  # fmt: skip
        orders.order_place(actor=worker, elder_person_id=oldest[0].pk, service_code="meal_delivery",
                           provider_id=provider.pk, quantity=2, scheduled_for=today.isoformat(),
                           note="午餐送餐上门")  # fmt: skip
    return scheduled
