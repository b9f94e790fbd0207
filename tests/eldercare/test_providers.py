"""Providers (加盟服务商), facilities, star ratings and supervision (综合监管) through the API
and the pages: credit codes refused with the reason and nothing written, duplicates, stars
worked by hand from the scores, rating history, corrections past their deadline on a moved
clock, and who may read and write what (in and out of the jurisdiction, by role).

The clock is the workflow's ``today`` (2026-11-23). Star thresholds are those of
``policy/eldercare/ratings.yaml``: ★★★★★ total ≥ 900 and each part ≥ 85 % of its maximum,
★★★★ 800 / 75 %, ★★★ 700 / 65 %, ★★ 550 / 50 %, ★ 400 / 35 %; the maxima are 环境 120,
设施设备 130, 运营管理 150, 服务 600.
"""

from __future__ import annotations

import doctest
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from minzheng.accounts.roles import Role
from minzheng.accounts.services import token_create, user_create
from minzheng.eldercare import providers, ratings
from minzheng.eldercare.models import (
    Facility,
    Inspection,
    Provider,
    ProviderMember,
    ServiceItem,
    StarRating,
)
from tests.applications.conftest import Clock, post
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, DONGCHENG, STREET_A, Cast

pytestmark = pytest.mark.django_db

ROLES = [str(r) for r in Role]
READERS = {"community_worker", "street_reviewer", "district_approver", "auditor", "admin"}
SUPERVISORS = {"street_reviewer", "district_approver"}
FACILITY_WRITERS = SUPERVISORS | {"community_worker"}
VALID = "91350100M000100Y43"  # the example commonly cited for GB 32100
OTHER_VALID = "91110108551385082Q"
DONGCHENG_CODE = "51110000500021676X"


def patch(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.patch(path, data=json.dumps(body), content_type="application/json")


def errors_of(response: Any) -> dict[str, str]:
    """field → code of a 422 naming every bad field."""
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation.failed"
    return {e["field"]: e["code"] for e in body["details"]["errors"]}


def counts() -> tuple[int, ...]:
    return (
        Provider.objects.count(),
        Provider.history.count(),  # type: ignore[attr-defined]
        ProviderMember.objects.count(),
        Facility.objects.count(),
        Facility.history.count(),  # type: ignore[attr-defined]
        StarRating.objects.count(),
        Inspection.objects.count(),
        Inspection.history.count(),  # type: ignore[attr-defined]
    )


@pytest.fixture
def catalogue(db: None) -> list[str]:
    rows = [("meal_delivery", "助餐配送"), ("cleaning", "助洁"), ("bathing", "助浴")]
    for code, name in rows:
        ServiceItem.objects.get_or_create(
            code=code, defaults={"name": name, "unit": "次", "price": Decimal("20.00")}
        )
    return [code for code, _ in rows]


@pytest.fixture
def api(cast: Cast) -> Callable[[str], Client]:
    clients: dict[str, Client] = {}

    def get(role: str) -> Client:
        if role not in clients:
            clients[role] = cast.api(role)
        return clients[role]

    return get


def provider_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "康乐居家养老服务有限公司",
        "credit_code": VALID,
        "licence": "京养服备2026001",
        "services": ["meal_delivery", "cleaning"],
        "areas": [STREET_A],
        "contract_start": "2026-01-01",
        "contract_end": "2028-12-31",
        "contact": "刘经理",
        "phone": "010-68001234",
    }
    body.update(extra)
    return body


# -- providers --------------------------------------------------------------------------------------


def test_register_a_provider_and_read_it_back(
    cast: Cast, api: Callable[[str], Client], catalogue: list[str], today: Clock
) -> None:
    r = post(
        api("district_approver"),
        "/api/v1/providers",
        provider_body(credit_code=" 91350100m000100y43 "),
    )
    assert r.status_code == 201, r.content
    p = r.json()
    assert p["credit_code"] == VALID  # trimmed, upper-cased
    assert [s["code"] for s in p["services"]] == ["meal_delivery", "cleaning"]
    assert p["services"][0]["name"] == "助餐配送"
    assert p["areas"] == [{"code": STREET_A, "name": "展览路街道"}]
    assert (p["division"]["code"], p["status"], p["status_label"]) == ("110102", "active", "合作中")
    assert p["in_contract"] is True
    stored = Provider.objects.get(pk=p["id"])
    assert stored.division_path == stored.division.path
    (row,) = stored.history.all()  # type: ignore[attr-defined]
    assert row.history_user == cast.users["district_approver"]
    assert row.history_change_reason == "登记服务商（服务区域：展览路街道）"
    # the street it serves reads it, and so does its community worker
    for role in ("street_reviewer", "community_worker"):
        assert api(role).get(f"/api/v1/providers/{p['id']}").status_code == 200
    # a street reviewer registers in their street, by default and explicitly
    r = post(api("street_reviewer"), "/api/v1/providers",
             provider_body(credit_code=OTHER_VALID, division=COMMUNITY_A, areas=[COMMUNITY_A]))  # fmt: skip
    assert r.status_code == 201, r.content
    assert r.json()["division"]["code"] == COMMUNITY_A


@pytest.mark.parametrize(
    ("credit_code", "code", "says"),
    [
        ("", "credit_code.length", "请填写统一社会信用代码"),
        ("91350100M000100Y4", "credit_code.length", "现为17位"),
        ("91350100M000100Y4300", "credit_code.length", "现为20位"),
        ("91350100M0001OOY43", "credit_code.charset", "第14位「O」"),
        ("9135010SM000100Y43", "credit_code.charset", "第8位「S」"),
        ("91350100M000100Y44", "credit_code.check_char", "校验码（第18位）不正确"),
        ("19350100M000100Y43", "credit_code.check_char", "校验码"),  # two swapped
    ],
)
def test_malformed_credit_codes_are_422_naming_the_field_and_write_nothing(
    cast: Cast, api: Callable[[str], Client], catalogue: list[str], today: Clock,
    credit_code: str, code: str, says: str,
) -> None:  # fmt: skip
    before = counts()
    r = post(api("district_approver"), "/api/v1/providers", provider_body(credit_code=credit_code))
    assert errors_of(r) == {"credit_code": code}
    (error,) = r.json()["details"]["errors"]
    assert says in error["message"]
    assert counts() == before


def test_a_credit_code_that_is_not_text_is_refused_by_the_schema(
    cast: Cast, api: Callable[[str], Client], catalogue: list[str], today: Clock
) -> None:
    r = post(api("district_approver"), "/api/v1/providers", provider_body(credit_code=91350100))
    assert "credit_code" in errors_of(r)
    assert Provider.objects.count() == 0


def test_every_bad_field_is_named_at_once(
    cast: Cast, api: Callable[[str], Client], catalogue: list[str], today: Clock
) -> None:
    body = provider_body(
        name="康", credit_code="91350100M000100Y4I", services=["meal_delivery", "massage"],
        areas=[STREET_A, DONGCHENG, "999999"], contract_start="2027-01-01",
        contract_end="2026-12-31", phone="call me", division=DONGCHENG,
    )  # fmt: skip
    before = counts()
    assert errors_of(post(api("district_approver"), "/api/v1/providers", body)) == {
        "name": "eldercare.field_invalid",
        "credit_code": "credit_code.charset",
        "services.1": "provider.service_unknown",
        "areas.1": "eldercare.division_invalid",  # Dongcheng: outside Xicheng
        "areas.2": "eldercare.division_invalid",  # no such division
        "contract_end": "eldercare.field_invalid",
        "phone": "eldercare.field_invalid",
        "division": "eldercare.division_invalid",
    }
    r = post(api("district_approver"), "/api/v1/providers",
             provider_body(services=[], areas=[], contract_start="2026-02-30"))  # fmt: skip
    assert errors_of(r) == {"services": "eldercare.field_invalid",
                            "areas": "eldercare.field_invalid",
                            "contract_start": "eldercare.field_invalid"}  # fmt: skip
    # a street reviewer may not name another street as an area
    r = post(api("street_reviewer"), "/api/v1/providers", provider_body(areas=[COMMUNITY_B]))
    assert errors_of(r) == {"areas.0": "eldercare.division_invalid"}
    assert counts() == before


def test_a_duplicate_credit_code_is_409_and_writes_nothing(
    cast: Cast, api: Callable[[str], Client], catalogue: list[str], today: Clock
) -> None:
    first = post(api("district_approver"), "/api/v1/providers", provider_body()).json()
    second = post(api("district_approver"), "/api/v1/providers",
                  provider_body(credit_code=OTHER_VALID, name="第二家")).json()  # fmt: skip
    before = counts()
    for client, code in [
        (api("district_approver"), VALID.lower()),
        (api("street_reviewer"), VALID),
    ]:
        r = post(client, "/api/v1/providers", provider_body(name="另一家", credit_code=code))
        assert r.status_code == 409, r.content
        assert r.json()["code"] == "provider.credit_code_taken"
        assert r.json()["details"] == {"field": "credit_code"}
    # changing a provider's code to another's is the same conflict
    r = patch(api("district_approver"), f"/api/v1/providers/{second['id']}",
              {"credit_code": VALID, "reason": "更正信用代码"})  # fmt: skip
    assert r.status_code == 409 and r.json()["code"] == "provider.credit_code_taken"
    assert counts() == before
    assert Provider.objects.get(pk=second["id"]).credit_code == OTHER_VALID
    # keeping one's own code is no conflict
    r = patch(api("district_approver"), f"/api/v1/providers/{first['id']}",
              {"credit_code": VALID, "phone": "13800000000", "reason": "更新联系电话"})  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["phone"] == "13800000000"


def test_update_status_and_members_with_reasons_in_the_history(
    cast: Cast, api: Callable[[str], Client], catalogue: list[str], today: Clock
) -> None:
    approver = api("district_approver")
    p = post(approver, "/api/v1/providers", provider_body()).json()
    url = f"/api/v1/providers/{p['id']}"
    before = counts()
    # a reason is required, an unknown field refused by the schema, bad values named
    assert "reason" in errors_of(patch(approver, url, {"name": "新名称"}))
    assert "division" in errors_of(patch(approver, url, {"division": DONGCHENG, "reason": "迁址"}))
    r = patch(approver, url, {"contract_end": "2025-12-31", "reason": "提前结束"})
    assert errors_of(r) == {"contract_end": "eldercare.field_invalid"}
    assert errors_of(patch(approver, url, {"reason": "无内容"})) == {
        "changes": "eldercare.field_invalid"
    }
    assert counts() == before

    r = patch(approver, url, {"areas": [STREET_A, COMMUNITY_B], "services": ["bathing"],
                              "reason": "续签合同，扩大服务范围"})  # fmt: skip
    assert r.status_code == 200, r.content
    assert [a["code"] for a in r.json()["areas"]] == [COMMUNITY_B, STREET_A]
    assert [s["code"] for s in r.json()["services"]] == ["bathing"]
    provider = Provider.objects.get(pk=p["id"])
    latest = provider.history.latest("history_date")  # type: ignore[attr-defined]
    assert (
        latest.history_change_reason
        == f"续签合同，扩大服务范围（服务区域：展览路街道、{provider.areas.get(code=COMMUNITY_B).name}）"
    )

    r = post(approver, f"{url}/status", {"status": "suspended", "reason": "服务投诉较多，暂停派单"})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["status_reason"]) == (
        "suspended",
        "服务投诉较多，暂停派单",
    )
    r = post(approver, f"{url}/status", {"status": "suspended", "reason": "再次暂停"})
    assert r.status_code == 409 and r.json()["code"] == "provider.illegal_state"
    assert "暂停" in r.json()["message"]
    assert errors_of(post(approver, f"{url}/status", {"status": "gone", "reason": "x"})) == {
        "status": "eldercare.field_invalid", "reason": "eldercare.reason_required"}  # fmt: skip

    # members: an existing service-provider account, one provider each
    sp = cast.users["service_provider"]
    r = post(approver, f"{url}/members", {"username": sp.username})
    assert r.status_code == 201, r.content
    assert [m["id"] for m in r.json()["members"]] == [sp.pk]
    r = post(approver, f"{url}/members", {"username": sp.username})
    assert r.status_code == 409 and r.json()["code"] == "provider.member_taken"
    for name in ("u_community_worker", "nobody"):
        r = post(approver, f"{url}/members", {"username": name})
        assert errors_of(r) == {"username": "provider.member_invalid"}
    # the member now reads their provider, and nothing else
    own = api("service_provider").get("/api/v1/providers").json()
    assert [x["id"] for x in own["items"]] == [p["id"]]

    r = post(approver, f"{url}/status", {"status": "terminated", "reason": "合同解除"})
    assert r.status_code == 200
    r = post(approver, f"{url}/status", {"status": "active", "reason": "恢复合作"})
    assert r.status_code == 409
    user_create(username="u_sp2", role=Role.SERVICE_PROVIDER, division_code="110102")
    r = post(approver, f"{url}/members", {"username": "u_sp2"})
    assert r.status_code == 409 and r.json()["code"] == "provider.inactive"
    reasons = [h.history_change_reason for h in provider.history.order_by("history_date")]  # type: ignore[attr-defined]
    assert reasons[-3:] == ["服务投诉较多，暂停派单", f"登记服务商人员：{sp.username}", "合同解除"]


def test_only_the_registering_jurisdiction_changes_a_provider(
    cast: Cast, api: Callable[[str], Client], catalogue: list[str], today: Clock
) -> None:
    # registered by the district for street A: the street reads and inspects it, but does
    # not change it
    p = post(api("district_approver"), "/api/v1/providers", provider_body()).json()
    street = api("street_reviewer")
    r = patch(street, f"/api/v1/providers/{p['id']}", {"phone": "13900000000", "reason": "更新"})
    assert r.status_code == 403 and r.json()["code"] == "provider.registrar_only"
    assert "西城区" in r.json()["message"]
    r = post(street, "/api/v1/inspections", {"provider": p["id"], "inspected_on": "2026-11-20",
                                             "findings": "助餐配送不及时", "correction_due": "2026-12-05"})  # fmt: skip
    assert r.status_code == 201, r.content
    inspection = Inspection.objects.get(pk=r.json()["id"])
    assert inspection.division_path.endswith(f"/{STREET_A}/")  # the street's record
    ids = {i["id"] for i in street.get("/api/v1/inspections").json()["items"]}
    assert inspection.pk in ids


# -- facilities ----------------------------------------------------------------------------------------


def facility_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "institution", "name": "展览路养老院", "division": COMMUNITY_A,
        "address": "西城区展览路1号", "latitude": "39.93", "longitude": 116.34,
        "capacity": 120, "beds": "100", "staff": 35, "opening_hours": "全天",
    }  # fmt: skip
    body.update(extra)
    return body


def test_facilities_are_validated_and_kept_with_their_history(
    cast: Cast, api: Callable[[str], Client], catalogue: list[str], today: Clock
) -> None:
    approver = api("district_approver")
    p = post(approver, "/api/v1/providers", provider_body()).json()
    r = post(approver, "/api/v1/facilities", facility_body(operator=p["id"]))
    assert r.status_code == 201, r.content
    f = r.json()
    assert (f["kind_label"], f["beds"], f["latitude"], f["longitude"]) == (
        "养老机构", 100, "39.930000", "116.340000")  # fmt: skip
    assert f["operator"] == {"id": p["id"], "name": "康乐居家养老服务有限公司"}
    assert (f["rated"], f["stars"]) == (True, None)
    before = counts()
    bad = facility_body(kind="hotel", division=DONGCHENG, capacity=-1, beds="many", staff="3.5",
                        latitude=91, longitude="east", operator=10**9, name="")  # fmt: skip
    assert errors_of(post(approver, "/api/v1/facilities", bad)) == {
        "kind": "eldercare.field_invalid",
        "division": "eldercare.division_invalid",
        "capacity": "eldercare.field_invalid",
        "beds": "eldercare.field_invalid",
        "staff": "eldercare.field_invalid",
        "latitude": "eldercare.field_invalid",
        "longitude": "eldercare.field_invalid",
        "operator": "provider.not_found",
        "name": "eldercare.field_invalid",
    }
    r = post(approver, "/api/v1/facilities", facility_body(longitude=None))
    assert errors_of(r) == {"longitude": "eldercare.field_invalid"}  # both or neither
    r = patch(approver, f"/api/v1/facilities/{f['id']}", {"beds": -5, "reason": "核减床位"})
    assert errors_of(r) == {"beds": "eldercare.field_invalid"}
    # a boolean is not a count, nor a coordinate (the schema says so, naming the field)
    r = post(approver, "/api/v1/facilities", facility_body(staff=True, latitude=False))
    assert errors_of(r) == {"staff": "field.value_error", "latitude": "field.value_error"}
    assert counts() == before

    r = patch(approver, f"/api/v1/facilities/{f['id']}",
              {"beds": 90, "active": False, "operator": None, "reason": "改造期间停运"})  # fmt: skip
    assert r.status_code == 200, r.content
    assert (r.json()["beds"], r.json()["active"], r.json()["operator"]) == (90, False, None)
    latest = Facility.objects.get(pk=f["id"]).history.latest("history_date")  # type: ignore[attr-defined]
    assert (latest.history_change_reason, latest.beds) == ("改造期间停运", 90)


def test_community_workers_record_the_stations_of_their_community_only(
    cast: Cast, api: Callable[[str], Client], catalogue: list[str], today: Clock
) -> None:
    worker = api("community_worker")
    r = post(worker, "/api/v1/facilities", facility_body(kind="station", name="展览路驿站"))
    assert r.status_code == 201, r.content
    station = r.json()
    r = patch(worker, f"/api/v1/facilities/{station['id']}", {"staff": 4, "reason": "新增护理员"})
    assert r.status_code == 200 and r.json()["staff"] == 4
    before = counts()
    r = post(worker, "/api/v1/facilities", facility_body())  # an institution
    assert r.status_code == 403 and r.json()["code"] == "eldercare.role_forbidden"
    assert "社区工作者可登记和维护本社区的养老服务驿站" in r.json()["message"]
    r = post(worker, "/api/v1/facilities", facility_body(kind="station", division=STREET_A))
    assert errors_of(r) == {"division": "eldercare.division_invalid"}  # above their community
    institution = post(api("street_reviewer"), "/api/v1/facilities", facility_body()).json()
    before = counts()
    r = patch(worker, f"/api/v1/facilities/{institution['id']}", {"staff": 1, "reason": "更新"})
    assert r.status_code == 403
    assert counts() == before


# -- star ratings ---------------------------------------------------------------------------------------


SCORES = ["environment", "facilities", "management", "service"]


def scored(*points: float | str) -> dict[str, Any]:
    return dict(zip(SCORES, points, strict=True))


@pytest.mark.parametrize(
    ("points", "total", "stars"),
    [
        # 930; every part ≥ 85 % (102, 110.5, 127.5, 510): five stars
        ((110, 120, 140, 560), "930.0", 5),
        # exactly on every five-star minimum, total 900
        ((102, "110.5", "127.5", 560), "900.0", 5),
        # 950, but 环境 95 < 102 (85 % of 120); four stars needs 90, 97.5, 112.5, 450 and 800
        ((95, 125, 150, 580), "950.0", 4),
        # 510 < 550 (two stars); one star needs 400 and 42, 45.5, 52.5, 210
        ((60, 70, 80, 300), "510.0", 1),
        # 920, but 环境 40 < 42 (35 % of 120): no star at all
        ((40, 130, 150, 600), "920.0", 0),
        # 700 with every part ≥ 65 % (78, 84.5, 97.5, 390): three stars
        ((78, "84.5", "97.5", 440), "700.0", 3),
    ],
)
def test_scores_give_stars_as_worked_by_hand(
    points: tuple[Any, ...], total: str, stars: int
) -> None:
    rules = ratings.rules_as_of(date(2026, 11, 23))
    scores = {k: Decimal(str(v)) for k, v in scored(*points).items()}
    assert f"{rules.total(scores):.1f}" == total
    assert rules.stars_for(scores) == stars


def test_the_criteria_file_is_marked_to_confirm_and_its_examples_run() -> None:
    rules = ratings.rules_as_of(date(2026, 11, 23))
    assert rules.max_total == 1000
    assert rules.confidence == "to-confirm"
    assert ratings.rated_kinds() == {"institution", "street_centre"}
    with pytest.raises(LookupError):
        ratings.rules_as_of(date(2019, 6, 30))
    assert doctest.testmod(ratings).failed == 0


def test_ratings_through_the_api_keep_their_history(
    cast: Cast, api: Callable[[str], Client], catalogue: list[str], today: Clock
) -> None:
    approver = api("district_approver")
    f = post(approver, "/api/v1/facilities", facility_body()).json()
    url = f"/api/v1/facilities/{f['id']}/ratings"
    r = post(approver, url, {"scores": scored(60, 70, 80, 300), "rated_on": "2025-06-30"})
    assert r.status_code == 201, r.content
    assert (r.json()["total"], r.json()["stars"], r.json()["rated_on"]) == (
        "510.0",
        1,
        "2025-06-30",
    )
    r = post(approver, url, {"scores": scored(110, 120, 140, "560.5"), "note": "复评"})
    assert r.status_code == 201, r.content
    assert (r.json()["total"], r.json()["stars"], r.json()["rated_on"]) == (
        "930.5",
        5,
        "2026-11-23",
    )
    assert r.json()["scores"][0] == {"code": "environment", "label": "环境", "score": "110.0"}
    history = approver.get(url).json()
    assert [(x["rated_on"], x["stars"]) for x in history["items"]] == [
        ("2026-11-23", 5), ("2025-06-30", 1)]  # fmt: skip
    assert approver.get(f"/api/v1/facilities/{f['id']}").json()["stars"] == 5

    before = counts()
    bad = {"scores": {"environment": 121, "facilities": -1, "management": "12.25",
                      "cleanliness": 5}, "rated_on": "2026-11-24"}  # fmt: skip
    assert errors_of(post(approver, url, bad)) == {
        "rated_on": "eldercare.date_in_future",
    }
    bad["rated_on"] = "2026-11-23"
    assert errors_of(post(approver, url, bad)) == {
        "scores.cleanliness": "eldercare.field_invalid",
        "scores.environment": "eldercare.field_invalid",  # above 120
        "scores.facilities": "eldercare.field_invalid",  # negative
        "scores.management": "eldercare.field_invalid",  # two decimals
        "scores.service": "eldercare.field_invalid",  # missing
    }
    r = post(approver, url, {"scores": scored(1, 1, 1, 1), "rated_on": "2019-01-01"})
    assert errors_of(r) == {"rated_on": "rating.no_rules"}
    # a station is not rated
    station = post(
        approver, "/api/v1/facilities", facility_body(kind="station", name="驿站")
    ).json()
    before = counts()
    r = post(
        approver, f"/api/v1/facilities/{station['id']}/ratings", {"scores": scored(1, 1, 1, 1)}
    )
    assert r.status_code == 409 and r.json()["code"] == "rating.kind_not_rated"
    assert counts() == before


# -- supervision --------------------------------------------------------------------------------------


def test_corrections_past_their_deadline_are_listed_until_corrected(
    cast: Cast, api: Callable[[str], Client], catalogue: list[str], today: Clock
) -> None:
    street = api("street_reviewer")
    f = post(street, "/api/v1/facilities", facility_body()).json()
    body = {"facility": f["id"], "inspected_on": "2026-11-23", "findings": "消防通道堆放杂物",
            "correction_due": "2026-11-30"}  # fmt: skip
    r = post(street, "/api/v1/inspections", body)
    assert r.status_code == 201, r.content
    first = r.json()
    assert (first["status"], first["overdue"]) == ("open", False)
    fine = post(street, "/api/v1/inspections", {"facility": f["id"], "inspected_on": "2026-11-23",
                                                "findings": "未发现问题"}).json()  # fmt: skip
    assert fine["status"] == "closed"  # nothing to correct
    assert street.get("/api/v1/inspections?overdue=true").json()["items"] == []

    today.advance(7)  # 2026-11-30: due today, not yet overdue
    assert street.get("/api/v1/inspections?overdue=true").json()["count"] == 0
    today.advance(3)  # 2026-12-03
    items = street.get("/api/v1/inspections?overdue=true").json()["items"]
    assert [(i["id"], i["days_overdue"], i["overdue"]) for i in items] == [(first["id"], 3, True)]
    # the district sees it too; another district never
    assert api("district_approver").get("/api/v1/inspections?overdue=true").json()["count"] == 1

    before = counts()
    url = f"/api/v1/inspections/{first['id']}/correction"
    assert errors_of(post(street, url, {"corrected_on": "2026-11-22", "follow_up": "已清理"})) == {
        "corrected_on": "eldercare.field_invalid"}  # fmt: skip
    assert errors_of(post(street, url, {"corrected_on": "2026-12-04", "follow_up": ""})) == {
        "corrected_on": "eldercare.date_in_future", "follow_up": "eldercare.field_invalid"}  # fmt: skip
    assert counts() == before
    r = post(street, url, {"corrected_on": "2026-12-02", "follow_up": "复查：杂物已清理，通道畅通"})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["corrected_on"]) == ("corrected", "2026-12-02")
    assert street.get("/api/v1/inspections?overdue=true").json()["count"] == 0
    r = post(street, url, {"corrected_on": "2026-12-02", "follow_up": "再次确认"})
    assert r.status_code == 409 and r.json()["code"] == "inspection.illegal_state"
    row = Inspection.objects.get(pk=first["id"]).history.latest("history_date")  # type: ignore[attr-defined]
    assert (row.history_user, row.history_change_reason) == (
        cast.users["street_reviewer"],
        "确认整改",
    )

    # closing without correction
    second = post(
        street,
        "/api/v1/inspections",
        {**body, "inspected_on": "2026-12-01", "correction_due": "2026-12-10"},
    ).json()
    r = post(
        street, f"/api/v1/inspections/{second['id']}/closure", {"follow_up": "复查认定不属于问题"}
    )
    assert r.status_code == 200 and r.json()["status"] == "closed"


def test_bad_inspections_name_the_field_and_write_nothing(
    cast: Cast, api: Callable[[str], Client], catalogue: list[str], today: Clock
) -> None:
    street = api("street_reviewer")
    f = post(street, "/api/v1/facilities", facility_body()).json()
    p = post(street, "/api/v1/providers", provider_body()).json()
    before = counts()
    r = post(street, "/api/v1/inspections", {"inspected_on": "2026-11-23", "findings": "问题"})
    assert errors_of(r) == {"facility": "eldercare.field_invalid"}  # neither
    r = post(street, "/api/v1/inspections", {"facility": f["id"], "provider": p["id"],
                                             "inspected_on": "2026-11-23", "findings": "问题"})  # fmt: skip
    assert errors_of(r) == {"facility": "eldercare.field_invalid"}  # both
    r = post(street, "/api/v1/inspections", {"facility": f["id"], "inspected_on": "2026-11-24",
                                             "findings": "", "correction_due": "2026-11-01"})  # fmt: skip
    assert errors_of(r) == {"inspected_on": "eldercare.date_in_future",
                            "findings": "eldercare.field_invalid"}  # fmt: skip
    r = post(street, "/api/v1/inspections", {"facility": f["id"], "inspected_on": "2026-11-20",
                                             "findings": "问题", "correction_due": "2026-11-19"})  # fmt: skip
    assert errors_of(r) == {"correction_due": "eldercare.field_invalid"}
    r = post(street, "/api/v1/inspections", {"facility": 10**9, "inspected_on": "2026-11-20",
                                             "findings": "问题"})  # fmt: skip
    assert r.status_code == 404 and r.json()["code"] == "facility.not_found"
    assert counts() == before


# -- scope by role ----------------------------------------------------------------------------------------


@dataclass
class World:
    """One of each record inside Xicheng (seen by the cast) and one in Dongcheng."""

    provider: dict[bool, Provider]
    facility: dict[bool, Facility]
    inspection: dict[bool, Inspection]
    second: dict[bool, Inspection]  # another open inspection, to close


@pytest.fixture
def world(cast: Cast, catalogue: list[str], today: Clock) -> World:
    street = cast.users["street_reviewer"]
    dongcheng = user_create(username="u_dongcheng", role=Role.DISTRICT_APPROVER,
                            division_code=DONGCHENG)  # fmt: skip
    made: dict[str, dict[bool, Any]] = {"p": {}, "f": {}, "i": {}, "j": {}}
    for inside, actor, code, area in [(True, street, VALID, STREET_A),
                                      (False, dongcheng, DONGCHENG_CODE, DONGCHENG)]:  # fmt: skip
        p = providers.provider_create(
            actor=actor, name=f"服务商{code[-4:]}", credit_code=code, services=["meal_delivery"],
            areas=[area], contract_start="2026-01-01", contract_end="2028-12-31",
        )  # fmt: skip
        f = providers.facility_create(actor=actor, kind="institution", name=f"养老院{code[-4:]}",
                                      division=COMMUNITY_A if inside else DONGCHENG, operator=p.pk)  # fmt: skip
        made["p"][inside], made["f"][inside] = p, f
        for key in ("i", "j"):
            made[key][inside] = providers.inspection_record(
                actor=actor, facility_id=f.pk, inspected_on="2026-11-01", findings="护理记录不全",
                correction_due="2026-11-15",
            )  # fmt: skip
    ProviderMember.objects.create(provider=made["p"][True], user=cast.users["service_provider"])
    return World(made["p"], made["f"], made["i"], made["j"])


def _reads(role: str) -> bool:
    return role in READERS or role == "service_provider"


@pytest.mark.parametrize("role", ROLES)
def test_scope_of_every_endpoint_by_role(cast: Cast, world: World, role: str) -> None:
    """Out of the jurisdiction: 404, the same answer as a missing record; a role that may
    read but not write: 403; a role that reads nothing: 403 on lists, 404 on records."""
    client = cast.api(role)
    reads, supervises = _reads(role), role in SUPERVISORS
    user_create(username=f"u_sp_{role}", role=Role.SERVICE_PROVIDER, division_code="110102")

    def record(inside: bool, ok: int, allowed: bool) -> int:
        if not inside or not reads:
            return 404
        return ok if allowed else 403

    def listing(path: str, target: dict[bool, Any]) -> None:
        r = client.get(path)
        if not reads:
            assert r.status_code == 403, (path, r.content)
            assert r.json()["code"] == "eldercare.role_forbidden"
            return
        assert r.status_code == 200, (path, r.content)
        ids = {x["id"] for x in r.json()["items"]}
        assert target[True].pk in ids and target[False].pk not in ids, path

    listing("/api/v1/providers", world.provider)
    listing("/api/v1/facilities", world.facility)
    listing("/api/v1/inspections", world.inspection)
    listing("/api/v1/inspections?overdue=true", world.inspection)

    def check(inside: bool) -> None:
        pid, fid = world.provider[inside].pk, world.facility[inside].pk
        iid, jid = world.inspection[inside].pk, world.second[inside].pk
        calls: list[tuple[str, Callable[[], Any], int]] = [
            ("provider", lambda: client.get(f"/api/v1/providers/{pid}"), record(inside, 200, True)),
            ("provider patch", lambda: patch(client, f"/api/v1/providers/{pid}",
                                             {"phone": "13800000000", "reason": "更新电话"}),
             record(inside, 200, supervises)),
            ("provider member", lambda: post(client, f"/api/v1/providers/{pid}/members",
                                             {"username": f"u_sp_{role}"}),
             record(inside, 201, supervises)),
            ("provider status", lambda: post(client, f"/api/v1/providers/{pid}/status",
                                             {"status": "suspended", "reason": "暂停派单"}),
             record(inside, 200, supervises)),
            ("facility", lambda: client.get(f"/api/v1/facilities/{fid}"), record(inside, 200, True)),
            ("facility patch", lambda: patch(client, f"/api/v1/facilities/{fid}",
                                             {"staff": 40, "reason": "更新人数"}),
             record(inside, 200, supervises)),
            ("ratings", lambda: client.get(f"/api/v1/facilities/{fid}/ratings"),
             record(inside, 200, True)),
            ("rate", lambda: post(client, f"/api/v1/facilities/{fid}/ratings",
                                  {"scores": scored(100, 100, 100, 500)}),
             record(inside, 201, supervises)),
            ("inspection", lambda: client.get(f"/api/v1/inspections/{iid}"),
             record(inside, 200, True)),
            ("inspect", lambda: post(client, "/api/v1/inspections",
                                     {"facility": fid, "inspected_on": "2026-11-20", "findings": "复查"}),
             record(inside, 201, supervises)),
            ("correct", lambda: post(client, f"/api/v1/inspections/{iid}/correction",
                                     {"corrected_on": "2026-11-20", "follow_up": "已补齐护理记录"}),
             record(inside, 200, supervises)),
            ("close", lambda: post(client, f"/api/v1/inspections/{jid}/closure",
                                   {"follow_up": "复查认定无需整改"}),
             record(inside, 200, supervises)),
        ]  # fmt: skip
        for name, call, expected in calls:
            r = call()
            assert r.status_code == expected, (name, inside, r.content)
            assert set(r.json()) >= {"code", "message", "details"} or expected < 400
        # creating: a role check first (403), then the division in the body (422)
        division = COMMUNITY_A if inside else DONGCHENG
        r = post(client, "/api/v1/providers", provider_body(
            credit_code=OTHER_VALID, division=division, areas=[division]))  # fmt: skip
        assert r.status_code == ((201 if inside else 422) if supervises else 403), r.content
        r = post(client, "/api/v1/facilities", facility_body(kind="station", division=division))
        writes = role in FACILITY_WRITERS
        assert r.status_code == ((201 if inside else 422) if writes else 403), r.content

    check(True)
    check(False)

    # Dongcheng's records were never touched, and answer like records that do not exist
    out = world.inspection[False]
    assert Inspection.objects.get(pk=out.pk).status == "open"
    assert Provider.objects.get(pk=world.provider[False].pk).status == "active"
    assert not StarRating.objects.filter(facility=world.facility[False]).exists()
    for path in ("providers", "facilities", "inspections"):
        target = {"providers": world.provider, "facilities": world.facility,
                  "inspections": world.inspection}[path][False].pk  # fmt: skip
        assert client.get(f"/api/v1/{path}/{target}").json() == client.get(
            f"/api/v1/{path}/{10**9}").json()  # fmt: skip


def test_a_street_does_not_see_another_streets_facilities(
    cast: Cast, world: World, api: Callable[[str], Client]
) -> None:
    other = providers.facility_create(actor=cast.users["district_approver"], kind="station",
                                      name="西长安街驿站", division=COMMUNITY_B)  # fmt: skip
    for role, status in [("street_reviewer", 404), ("community_worker", 404),
                         ("district_approver", 200)]:  # fmt: skip
        assert api(role).get(f"/api/v1/facilities/{other.pk}").status_code == status, role


# -- pages ------------------------------------------------------------------------------------------------


def test_pages_render_and_show_refusals_in_chinese(
    cast: Cast, world: World, catalogue: list[str], today: Clock
) -> None:
    page = cast.client("district_approver")
    facility, provider = world.facility[True], world.provider[True]
    r = page.get("/eldercare/providers/")
    assert r.status_code == 200
    text = r.content.decode()
    assert provider.name in text and world.provider[False].name not in text
    assert "登记服务商" in text and "助餐配送" in text

    # a bad credit code: the form comes back with the reason, and nothing is written
    before = counts()
    form = {"name": "新服务商", "credit_code": "91350100M000100Y44", "services": ["cleaning"],
            "areas": [STREET_A], "contract_start": "2026-01-01", "contract_end": "2026-12-31",
            "division": "110102"}  # fmt: skip
    r = page.post("/eldercare/providers/", form)
    assert r.status_code == 200
    assert "统一社会信用代码校验码（第18位）不正确" in r.content.decode()
    assert counts() == before
    r = page.post("/eldercare/providers/", {**form, "credit_code": OTHER_VALID}, follow=True)
    assert r.status_code == 200 and "服务商已登记" in r.content.decode()
    assert Provider.objects.filter(credit_code=OTHER_VALID).exists()

    r = page.get(f"/eldercare/providers/{provider.pk}/")
    assert r.status_code == 200 and facility.name in r.content.decode()
    assert page.get(f"/eldercare/providers/{world.provider[False].pk}/").status_code == 404

    # a rating through the page, shown with its stars
    r = page.post(f"/eldercare/facilities/{facility.pk}/rate",
                  {"score_environment": "110", "score_facilities": "120", "score_management": "140",
                   "score_service": "560", "rated_on": "2026-11-23"}, follow=True)  # fmt: skip
    text = r.content.decode()
    assert "星级评定已记录" in text and "★★★★★" in text and "930.0" in text
    r = page.post(f"/eldercare/facilities/{facility.pk}/rate", {"score_environment": "500"},
                  follow=True)  # fmt: skip
    assert "「环境」得分应在 0 至 120 分之间" in r.content.decode()
    assert page.get(f"/eldercare/facilities/{world.facility[False].pk}/").status_code == 404
    assert page.get("/eldercare/facilities/").status_code == 200

    # the overdue list (due 2026-11-15; today 2026-11-23), and a correction from it
    r = page.get("/eldercare/inspections/overdue/")
    text = r.content.decode()
    assert r.status_code == 200 and "护理记录不全" in text and "逾期未整改" in text
    inspection = world.inspection[True]
    r = page.post(f"/eldercare/inspections/{inspection.pk}/correct",
                  {"corrected_on": "2026-11-20", "follow_up": "已补齐护理记录"}, follow=True)  # fmt: skip
    assert "整改已确认" in r.content.decode()
    assert Inspection.objects.get(pk=inspection.pk).status == "corrected"

    # a role that may read but not act: the refusal is a message on the page
    auditor = cast.client("auditor")
    r = auditor.post(f"/eldercare/providers/{provider.pk}/status",
                     {"status": "suspended", "reason": "暂停"}, follow=True)  # fmt: skip
    assert "须由" in r.content.decode() and "办理" in r.content.decode()
    assert Provider.objects.get(pk=provider.pk).status == "active"
    worker = cast.client("community_worker")
    r = worker.post("/eldercare/facilities/", {"kind": "institution", "name": "新养老院",
                                               "division": COMMUNITY_A})  # fmt: skip
    assert (
        r.status_code == 200 and "社区工作者可登记和维护本社区的养老服务驿站" in r.content.decode()
    )
    # a role that reads nothing here
    assert cast.client("resident").get("/eldercare/providers/").status_code == 404
    assert (
        cast.client("department_liaison").get("/eldercare/inspections/overdue/").status_code == 404
    )


def test_a_service_provider_user_reads_their_own_records_only(cast: Cast, world: World) -> None:
    client = cast.api("service_provider")
    assert [p["id"] for p in client.get("/api/v1/providers").json()["items"]] == [
        world.provider[True].pk]  # fmt: skip
    assert [f["id"] for f in client.get("/api/v1/facilities").json()["items"]] == [
        world.facility[True].pk]  # fmt: skip
    assert {i["id"] for i in client.get("/api/v1/inspections").json()["items"]} == {
        world.inspection[True].pk, world.second[True].pk}  # fmt: skip
    # and the pages, without forms
    page = cast.client("service_provider")
    r = page.get(f"/eldercare/providers/{world.provider[True].pk}/")
    assert r.status_code == 200 and "变更状态" not in r.content.decode()
    r = page.get(f"/eldercare/facilities/{world.facility[True].pk}/")
    assert r.status_code == 200 and "记录评定" not in r.content.decode()
    assert "护理记录不全" in r.content.decode()
    assert page.get(f"/eldercare/facilities/{world.facility[False].pk}/").status_code == 404
    # a community worker's form offers stations only
    r = cast.client("community_worker").get("/eldercare/facilities/")
    text = r.content.decode()
    assert r.status_code == 200 and "登记设施" in text
    assert '<option value="station"' in text and '<option value="institution"' not in text.split(
        'id="new_kind"')[1].split("</select>")[0]  # fmt: skip
    # an unlinked provider account reads nothing
    user_create(username="u_sp_free", role=Role.SERVICE_PROVIDER, division_code="110102")
    free = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(username='u_sp_free')}")
    assert free.get("/api/v1/providers").status_code == 403
    assert free.get(f"/api/v1/providers/{world.provider[True].pk}").status_code == 404
