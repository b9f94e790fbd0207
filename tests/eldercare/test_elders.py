"""Elders: the view over the registry (60+ in the jurisdiction), the care assessment, the
age-related entitlements from the rules engine, and the read logged."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from minzheng.accounts.models import AccessLog
from minzheng.accounts.roles import Role
from minzheng.applications import clock
from minzheng.eldercare.models import ElderProfile
from minzheng.registry.documents import validate_document
from minzheng.registry.models import Household, Person
from minzheng.registry.services import households_create
from tests.fixtures import COMMUNITY_A, DONGCHENG, Cast, member

pytestmark = pytest.mark.django_db


def _household(division: str, *people: tuple[str, str]) -> Household:
    doc = validate_document({
        "division": division, "hukou": "beijing", "assets": {"houses": 1},
        "members": [member(stem, name, relation="head" if k == 0 else "child")
                    for k, (stem, name) in enumerate(people)],
    })  # fmt: skip
    (household,) = households_create(actor=None, documents=[doc], reason="测试数据")
    return household


def _put(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.put(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def elders(cast: Cast) -> dict[str, Person]:
    # born 1934-05-01: 92 on 2026-11-23 (age allowance 90–99: 500.00 a month);
    # born 1980-01-01: 46, not an elder; and a 70-year-old in Dongcheng
    home = _household(COMMUNITY_A, ("11010219340501123", "高奶奶"), ("11010219800101234", "高儿子"))
    far = _household(DONGCHENG, ("11010119560101345", "东城老人"))
    people = {p.name: p for p in Person.objects.filter(household__in=[home, far])}
    return people


def test_the_list_holds_residents_aged_60_and_over_in_the_jurisdiction(
    cast: Cast, elders: dict[str, Person]
) -> None:
    r = cast.api(Role.COMMUNITY_WORKER).get("/api/v1/elders?page_size=200")
    assert r.status_code == 200
    names = {e["name"] for e in r.json()["items"]}
    assert "高奶奶" in names
    assert "高儿子" not in names  # 46
    assert "东城老人" not in names  # another district
    row = next(e for e in r.json()["items"] if e["name"] == "高奶奶")
    assert row["age"] == clock.today().year - 1934 - (
        (clock.today().month, clock.today().day) < (5, 1)
    )
    assert row["id_number"].count("*") >= 8  # masked


def test_the_elder_page_shows_the_engines_age_allowance_and_logs_the_read(
    cast: Cast, elders: dict[str, Person]
) -> None:
    grandma = elders["高奶奶"]
    before = AccessLog.objects.filter(person=grandma).count()
    r = cast.api(Role.STREET_REVIEWER).get(f"/api/v1/elders/{grandma.pk}")
    assert r.status_code == 200
    allowance = r.json()["engine"]["age_allowance"]
    assert allowance["eligible"] is True and allowance["amount"] == "500.00"  # the 90–99 band
    assert AccessLog.objects.filter(person=grandma).count() == before + 1


@pytest.mark.parametrize("role", [str(r) for r in Role])
def test_scope_and_roles(cast: Cast, elders: dict[str, Person], role: str) -> None:
    client = cast.api(role)
    inside = client.get(f"/api/v1/elders/{elders['高奶奶'].pk}")
    outside = client.get(f"/api/v1/elders/{elders['东城老人'].pk}")
    staff = role in {
        Role.COMMUNITY_WORKER,
        Role.STREET_REVIEWER,
        Role.DISTRICT_APPROVER,
        Role.AUDITOR,
        Role.ADMIN,
    }
    assert inside.status_code == (200 if staff else 403)
    assert outside.status_code == (404 if staff else 403)
    assert client.get(f"/api/v1/elders/{elders['高儿子'].pk}").status_code == (
        404 if staff else 403
    )


def test_the_care_assessment_is_validated_and_recorded(
    cast: Cast, elders: dict[str, Person]
) -> None:
    grandma = elders["高奶奶"]
    worker = cast.api(Role.COMMUNITY_WORKER)
    path = f"/api/v1/elders/{grandma.pk}/profile"
    bad = _put(worker, path, {"care_level": "bedridden", "assessed_on": "2999-01-01", "assessor": "x",
                              "living": "alone", "emergency_phone": "call me"})  # fmt: skip
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["details"]["errors"]}
    assert fields == {"care_level", "assessed_on", "assessor", "emergency_phone"}
    assert not ElderProfile.objects.exists()
    ok = _put(worker, path, {"care_level": "partial", "assessed_on": "2026-11-20", "assessor": "西城区评估中心",
                             "living": "alone", "risk": "high", "emergency_contact": "高儿子",
                             "emergency_phone": "13800000000"})  # fmt: skip
    assert ok.status_code == 200
    assert ok.json()["profile"]["care_level_label"] == "部分失能"
    assert ok.json()["profile"]["living"] == "alone"
    assert _put(cast.api(Role.AUDITOR), path, {"care_level": "full", "assessed_on": "2026-11-20",
                                               "assessor": "审计", "living": "alone"}).status_code == 403  # fmt: skip
    only_alone = worker.get("/api/v1/elders?living=alone").json()["items"]
    assert [e["name"] for e in only_alone] == ["高奶奶"]


def test_the_pages_render_and_refuse_in_chinese(cast: Cast, elders: dict[str, Person]) -> None:
    grandma = elders["高奶奶"]
    page = cast.client(Role.COMMUNITY_WORKER)
    assert "高奶奶" in page.get("/eldercare/").content.decode()
    assert "高龄津贴" in page.get(f"/eldercare/elders/{grandma.pk}/").content.decode()
    r = page.post(f"/eldercare/elders/{grandma.pk}/profile", {"care_level": "partial", "living": "alone",
                                                              "assessed_on": "2999-01-01", "assessor": "评估中心"},
                  follow=True)  # fmt: skip
    assert "评估日期不能晚于今天" in r.content.decode()
    assert page.get(f"/eldercare/elders/{elders['东城老人'].pk}/").status_code == 404
    assert cast.client(Role.RESIDENT).get("/eldercare/").status_code == 404
