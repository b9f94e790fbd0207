"""一户一档: the household's whole story on one page, in the API and in a printed PDF.

The ``story`` fixture walks a pensioner's household through what the system records: a
son joins and moves out again (each with a reason), a dibao application goes from
submission to approval (home visit and verification report on the way), the first
month is paid, and a worker keeps a plan, a contact and a note.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from minzheng.accounts.models import AccessLog
from minzheng.accounts.roles import Role
from minzheng.benefits.models import Payment
from minzheng.casework import file
from minzheng.casework.models import Contact, ContactMode, HouseholdNote, Plan
from minzheng.registry.models import Household, Person
from tests.applications.conftest import Clock, post
from tests.fixtures import Cast, member

VISIT = {"visitors": "王社工、李社工", "findings": "独居，住房简陋，无其他收入来源",
         "living_conditions": "自有住房一套"}  # fmt: skip
CASE_READERS = {"community_worker", "street_reviewer", "district_approver", "auditor", "admin"}
# Who reads the file of a household of another street of the same district.
DISTRICT_READERS = {"district_approver", "auditor", "admin"}


@dataclass
class Story:
    household: Household
    application_id: int
    son: Person


def _act(client: Client, app_id: int, action: str, **extra: Any) -> Any:
    r = post(client, f"/api/v1/applications/{app_id}/transitions",
             {"action": action, "reason": extra.pop("reason", "经办"), **extra})  # fmt: skip
    assert r.status_code == 200, r.content
    return r.json()


def _patch(client: Client, household: Household, body: dict[str, Any]) -> None:
    r = client.patch(f"/api/v1/households/{household.pk}", data=json.dumps(body),
                     content_type="application/json")  # fmt: skip
    assert r.status_code == 200, r.content


@pytest.fixture
def story(
    cast: Cast,
    poor: Household,
    api: Callable[[str], Client],
    today: Clock,
    second_approver: Client,
) -> Story:
    worker, street, district = (
        api("community_worker"),
        api("street_reviewer"),
        api("district_approver"),
    )
    _patch(worker, poor, {"reason": "儿子户口迁回本户",
                          "members_add": [member("11010219800202003", "老人之子", "child")]})  # fmt: skip
    son = Person.objects.get(household=poor, name="老人之子")
    _patch(worker, poor, {"reason": "儿子迁往天津市工作",
                          "members": [{"person_id": son.pk, "leave": "moved_out"}]})  # fmt: skip

    r = post(worker, "/api/v1/applications",
             {"household": poor.pk, "programmes": ["dibao"], "include_suggested": False})  # fmt: skip
    assert r.status_code == 201, r.content
    aid = r.json()["id"]
    _act(worker, aid, "accept")
    _act(worker, aid, "record_visit", visit=VISIT)
    _act(worker, aid, "verify")
    _act(worker, aid, "publish_notice")
    today.advance(7)
    _act(worker, aid, "close_notice")
    _act(street, aid, "review")
    body = _act(district, aid, "approve", reason="符合低保条件", start_month="2026-12")
    assert body["lines"][0]["amount"] == "1012.50"

    entitlement = poor.entitlements.get()
    r = worker.put(f"/api/v1/entitlements/{entitlement.pk}/bank-account",
                   data={"bank_code": "102", "account_number": "6222021234567890128",
                         "account_name": "老人", "reason": "登记收款账户"},
                   content_type="application/json")  # fmt: skip
    assert r.status_code == 200, r.content
    today.day = date(2026, 12, 3)
    run = post(district, "/api/v1/payrolls", {"period": "2026-12"}).json()
    r = post(second_approver, f"/api/v1/payrolls/{run['id']}/approval", {"reason": "同意"})
    assert r.status_code == 200, r.content
    assert Payment.objects.get(household=poor).amount == 1012.50

    user = cast.users["community_worker"]
    path = poor.division.path
    plan = Plan.objects.create(household=poor, division_path=path, summary="保障基本生活，协助就医",
                               responsible=user, review_on=date(2027, 3, 1), opened_by=user)  # fmt: skip
    Contact.objects.create(plan=plan, household=poor, division_path=path,
                           contacted_on=date(2026, 12, 5), mode=ContactMode.PHONE,
                           content="电话询问低保金到账情况", worker=user)  # fmt: skip
    HouseholdNote.objects.create(household=poor, division_path=path,
                                 text="老人行动不便，走访时请提前电话联系", author=user)  # fmt: skip
    return Story(poor, aid, son)


def _file(client: Client, household: Household, **query: Any) -> Any:
    return client.get(f"/api/v1/households/{household.pk}/file", {"page_size": 200, **query})


def _titles(body: dict[str, Any]) -> list[str]:
    return [item["title"] for item in body["items"]]


def _item(body: dict[str, Any], title: str) -> dict[str, Any]:
    (found,) = [item for item in body["items"] if item["title"] == title]
    return found


def test_the_file_tells_the_household_story_newest_first(cast: Cast, story: Story) -> None:
    r = _file(cast.api("community_worker"), story.household)
    assert r.status_code == 200, r.content
    body = r.json()
    titles = _titles(body)

    # the member who came and went, each change with its reason
    joined = _item(body, "新增成员：老人之子")
    assert "儿子户口迁回本户" in joined["detail"] and joined["kind"] == "registry"
    left = _item(body, "成员迁出：老人之子")
    assert "儿子迁往天津市工作" in left["detail"] and "状态：在册 → 迁出" in left["detail"]
    # the application, step by step, with the decision's figure
    steps = [i["title"] for i in body["items"] if i["kind"] == "application"]
    assert steps == ["最低生活保障：批准", "最低生活保障：街道审核通过", "最低生活保障：公示期满",
                     "最低生活保障：民主评议并公示", "最低生活保障：核对完成",
                     "最低生活保障：录入入户调查", "最低生活保障：受理",
                     "最低生活保障：提交申请"]  # fmt: skip
    approved = _item(body, "最低生活保障：批准")
    assert "批准金额 1,012.50 元/月，自 2026-12 起" in approved["detail"]
    assert "符合低保条件" in approved["detail"]
    assert approved["link"] == f"/applications/{story.application_id}/"
    assert "王社工、李社工" in _item(body, "入户调查")["detail"]
    assert _item(body, "经济状况核对报告")["kind"] == "verification"
    # the money: the entitlement and the first month paid, to the fen
    paid = _item(body, "最低生活保障 2026-12 当月发放")
    assert paid["kind"] == "payment" and "金额 1,012.50 元" in paid["detail"]
    assert "1,012.50" in _item(body, "最低生活保障：待遇生效")["detail"]
    # casework
    assert "电话询问低保金到账情况" in _item(body, "个案帮扶：电话联系")["detail"]
    assert "保障基本生活" in _item(body, "建立帮扶计划（一户一策）")["detail"]
    assert "提前电话联系" in _item(body, "工作记录")["detail"]

    # newest first: the payment after the decision, the decision after the submission
    assert titles.index("最低生活保障 2026-12 当月发放") < titles.index("最低生活保障：批准")
    assert titles.index("最低生活保障：批准") < titles.index("最低生活保障：提交申请")
    assert titles.index("成员迁出：老人之子") < titles.index("新增成员：老人之子")
    timed = [datetime.fromisoformat(i["at"]) for i in body["items"] if not i["all_day"]]
    assert timed == sorted(timed, reverse=True)

    assert body["count"] == len(body["items"])
    assert body["counts"]["services"] == 0 and set(body["counts"]) == set(file.KINDS)
    assert sum(body["counts"].values()) == body["count"]
    assert body["counts"]["payment"] == 1 and body["counts"]["application"] == 8
    # members: the one still in the household, masked; nobody's full ID number anywhere
    (head,) = body["members"]
    assert head["name"] == "老人" and "*" in head["id_number"]
    for person in Person.objects.filter(pk__in=[head["person_id"], story.son.pk]):
        assert person.id_number not in r.content.decode()
        assert person.id_number_hash not in r.content.decode()


def test_the_page_shows_the_file_and_the_read_is_logged(cast: Cast, story: Story) -> None:
    worker = cast.users["community_worker"]
    detail = cast.client("community_worker").get(f"/households/{story.household.pk}/")
    assert f'href="/households/{story.household.pk}/file/"' in detail.content.decode()
    AccessLog.objects.all().delete()

    r = cast.client("community_worker").get(f"/households/{story.household.pk}/file/")
    assert r.status_code == 200
    page = r.content.decode()
    for shown in ("一户一档", story.household.number, "成员迁出：老人之子", "儿子迁往天津市工作",
                  "金额 1,012.50 元", "最低生活保障：批准", "打印 PDF"):  # fmt: skip
        assert shown in page, shown
    assert f'href="/households/{story.household.pk}/file.pdf"' in page
    assert story.son.id_number not in page
    (log,) = AccessLog.objects.filter(actor=worker, household=story.household)
    assert (log.reason, log.channel, log.action) == ("查阅一户一档", "web", "view")
    assert log.person is not None and log.person.name == "老人"

    _file(cast.api("auditor"), story.household)
    (log,) = AccessLog.objects.filter(actor=cast.users["auditor"])
    assert (log.reason, log.channel) == ("查阅一户一档", "api")


def test_query_count_does_not_grow_with_the_history(
    cast: Cast, story: Story, django_assert_max_num_queries: Any
) -> None:
    worker = cast.users["community_worker"]
    h = story.household

    def read() -> int:
        with CaptureQueriesContext(connection) as queries:
            file.household_file(worker, h.pk)
        return len(queries)

    before = read()
    plan = Plan.objects.get(household=h)
    for k in range(15):
        HouseholdNote.objects.create(household=h, division_path=h.division.path,
                                     text=f"记录 {k}", author=worker)  # fmt: skip
        Contact.objects.create(plan=plan, household=h, division_path=h.division.path,
                               contacted_on=date(2026, 12, 6), mode=ContactMode.HOME_VISIT,
                               content=f"走访 {k}", worker=worker)  # fmt: skip
    client = cast.api("community_worker")
    for k in range(5):
        _patch(client, h, {"reason": f"第 {k} 次更新住址", "address": f"展览路 {k} 号"})
    assert read() == before
    with django_assert_max_num_queries(30):
        file.household_file(worker, h.pk)


def _aware(*args: int) -> datetime:
    return timezone.make_aware(datetime(*args))


def test_filters_by_kind_and_by_day(cast: Cast) -> None:
    h, worker = cast.own, cast.users["community_worker"]
    # the registry's two rows (household and member created) on 15 March, 09:00
    Household.history.filter(id=h.pk).update(history_date=_aware(2026, 3, 15, 9, 0))
    Person.history.filter(household_id=h.pk).update(history_date=_aware(2026, 3, 15, 9, 0))
    early = HouseholdNote.objects.create(household=h, division_path=h.division.path,
                                         text="春节慰问", author=worker)  # fmt: skip
    late = HouseholdNote.objects.create(household=h, division_path=h.division.path,
                                        text="了解就医情况", author=worker)  # fmt: skip
    # half past midnight in Beijing is still the previous day in UTC
    HouseholdNote.objects.filter(pk=early.pk).update(created_at=_aware(2026, 1, 20, 0, 30))
    HouseholdNote.objects.filter(pk=late.pk).update(created_at=_aware(2026, 6, 1, 9, 0))
    client = cast.api("community_worker")

    def details(**query: Any) -> list[str]:
        r = _file(client, h, **query)
        assert r.status_code == 200, r.content
        return [i["detail"].split("；")[0] for i in r.json()["items"]]

    everything = _file(client, h).json()
    assert everything["counts"]["registry"] == 2 and everything["counts"]["note"] == 2
    assert details(kind="note") == ["了解就医情况", "春节慰问"]
    assert len(details(kind=["note", "registry"])) == 4
    assert details(kind="note", start="2026-01-20", end="2026-01-20") == ["春节慰问"]
    assert details(kind="note", start="2026-01-21") == ["了解就医情况"]
    assert "了解就医情况" not in details(end="2026-03-15")
    assert len(details(end="2026-03-15")) == 3  # the end day is included
    assert details(start="2026-03-16", end="2026-05-31") == []
    assert details(kind="services") == []

    r = cast.client("community_worker").get(
        f"/households/{h.pk}/file/", {"kind": "note", "start": "2026-02-01"}
    )
    page = r.content.decode()
    assert "了解就医情况" in page and "春节慰问" not in page
    assert "kind=note&amp;start=2026-02-01" in page  # the PDF prints what is filtered


def test_bad_filters_are_422_on_the_api_and_a_message_on_the_page(cast: Cast) -> None:
    h = cast.own
    HouseholdNote.objects.create(household=h, division_path=h.division.path, text="记录一条",
                                 author=cast.users["community_worker"])  # fmt: skip
    client = cast.api("community_worker")
    for query, field, code in (
        ({"start": "2026-02-30"}, "start", "casework.field_invalid"),
        ({"end": "yesterday"}, "end", "casework.field_invalid"),
        ({"start": "20260101"}, "start", "casework.field_invalid"),
        ({"kind": ["note", "bogus"]}, "kind", "casework.field_invalid"),
        ({"start": "2026-12-01", "end": "2026-11-01"}, "end", "casework.period_invalid"),
    ):
        r = _file(client, h, **query)
        assert r.status_code == 422, query
        body = r.json()
        assert body["code"] == code and body["details"] == {"field": field}, body
        assert body["message"]
    assert _file(client, h, page=0).status_code == 422

    r = cast.client("community_worker").get(f"/households/{h.pk}/file/", {"start": "2026-02-30"})
    assert r.status_code == 200
    page = r.content.decode()
    assert "起始日期格式应为 YYYY-MM-DD" in page and "已忽略该条件" in page
    assert "记录一条" in page  # the bad filter is left out, the rest is shown
    r = cast.client("community_worker").get(
        f"/households/{h.pk}/file/", {"kind": "bogus", "end": "not-a-day"}
    )
    assert r.status_code == 200 and "截止日期格式应为" in r.content.decode()


@pytest.mark.parametrize("role", [str(r) for r in Role])
def test_scope_in_and_out_for_every_role(cast: Cast, role: str) -> None:
    """Staff who read casework see households of their jurisdiction; everyone else, the
    resident included (even for their own household), gets 404 on the page and the API."""
    page, api = cast.client(role), cast.api(role)
    expected = {
        cast.own: 200 if role in CASE_READERS else 404,
        cast.other_street: 200 if role in DISTRICT_READERS else 404,
        cast.other_district: 404,
    }
    for household, status in expected.items():
        r = api.get(f"/api/v1/households/{household.pk}/file")
        assert r.status_code == status, (role, household.number, r.content)
        if status == 404:
            assert r.json()["code"] == "household.not_found"
        assert page.get(f"/households/{household.pk}/file/").status_code == status
    assert api.get("/api/v1/households/999999/file").status_code == 404
    # nothing is logged for a refused read
    refused = [h for h, s in expected.items() if s == 404]
    assert not AccessLog.objects.filter(household__in=refused).exists()


def _weasyprint() -> None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: cffi could not load libpango
        message = f"WeasyPrint cannot be loaded ({exc})"
        if os.environ.get("MINZHENG_REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def test_the_pdf_is_the_file_for_the_archive(cast: Cast, story: Story) -> None:
    _weasyprint()
    import pypdfium2 as pdfium

    h = story.household
    AccessLog.objects.all().delete()
    r = cast.client("community_worker").get(f"/households/{h.pk}/file.pdf")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"] == f'inline; filename="household-{h.number}-file.pdf"'
    assert r.content.startswith(b"%PDF")
    document = pdfium.PdfDocument(r.content)
    text = "".join(
        page.get_textpage().get_text_range() for page in document
    ).replace("\r", "").replace("\n", "")  # fmt: skip
    for shown in ("一户一档", h.number, "老人", "1,012.50", "打印人", "儿子迁往天津市工作"):
        assert shown in text, shown
    assert story.son.id_number not in text
    (log,) = AccessLog.objects.filter(household=h)
    assert (log.reason, log.action) == ("打印一户一档", "export")

    # out of scope, and a resident's own household: 404, nothing logged
    assert (
        cast.client("community_worker")
        .get(f"/households/{cast.other_district.pk}/file.pdf")
        .status_code
        == 404
    )
    assert cast.client("resident").get(f"/households/{cast.own.pk}/file.pdf").status_code == 404
    assert (
        cast.client("street_reviewer")
        .get(f"/households/{cast.other_street.pk}/file.pdf")
        .status_code
        == 404
    )
    assert AccessLog.objects.filter(household=h).count() == 1


def test_the_pdf_prints_the_filtered_file(cast: Cast) -> None:
    _weasyprint()
    import pypdfium2 as pdfium

    h = cast.own
    for text in ("只打印这一条", "这一条不打印"):
        HouseholdNote.objects.create(household=h, division_path=h.division.path, text=text,
                                     author=cast.users["community_worker"])  # fmt: skip
    HouseholdNote.objects.filter(text="这一条不打印").update(created_at=_aware(2025, 1, 1, 9, 0))
    HouseholdNote.objects.filter(text="只打印这一条").update(created_at=_aware(2026, 6, 1, 9, 0))
    r = cast.client("district_approver").get(
        f"/households/{h.pk}/file.pdf", {"kind": "note", "start": "2026-01-01"}
    )
    assert r.status_code == 200
    text = "".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(r.content))
    assert "只打印这一条" in text and "这一条不打印" not in text
    assert "筛选条件" in text


def test_services_received_are_in_the_file(cast: Cast, today: Any) -> None:
    """Elderly care received by the household's elder: a meal order delivered, a patrol
    visit, an emergency-call device and a call from it — under 服务记录, in time order."""
    from minzheng.eldercare import alarms, orders, visits
    from minzheng.eldercare.models import Order, ProviderMember
    from tests.eldercare.test_orders import provider
    from tests.fixtures import COMMUNITY_A, pensioner

    worker = cast.users["community_worker"]
    h = pensioner("800.00", "11010219500101123")
    elder = h.members.get()
    orders.catalogue_load()
    meals = provider("展览路助餐", ["meal_delivery"], [COMMUNITY_A])
    ProviderMember.objects.create(provider=meals, user=cast.users["service_provider"])
    order = orders.order_place(actor=worker, elder_person_id=elder.pk, service_code="meal_delivery",
                               quantity=2, scheduled_for="2026-11-23")  # fmt: skip
    schedule = visits.schedule_create(actor=worker, elder_person_id=elder.pk, mode="phone",
                                      every_days=1, visitor_kind="worker", visitor_id=worker.pk)  # fmt: skip
    Order.objects.filter(pk=order.pk).update(
        created_at=_aware(2026, 11, 23, 8, 30)
    )  # placed at 8:30
    today.advance(1)  # recorded the next morning
    orders.delivery_record(actor=cast.users["service_provider"], order_id=order.pk,
                           delivered_at="2026-11-23T11:30", staff_name="刘师傅",
                           evidence="老人签字")  # fmt: skip
    visits.visit_record(actor=worker, schedule_id=schedule.pk, visited_at="2026-11-23T09:00",
                        outcome="well", note="老人精神不错")  # fmt: skip
    device = alarms.device_register(actor=worker, person_id=elder.pk, kind="emergency_call",
                                    installed_on="2026-11-20", serial="SOS-0001")  # fmt: skip
    alarms.event_receive(key_id=device.key_id, secret=device.secret, event_id="e-1",
                         kind="button", occurred_at="2026-11-23T20:15:00+08:00")  # fmt: skip

    body = _file(cast.api("community_worker"), h, kind="services").json()
    assert body["counts"]["services"] == 4
    titles = _titles(body)
    assert titles == [
        f"紧急呼叫：{elder.name}",  # 20:15
        f"巡视探访：{elder.name}（电话巡视）",  # 09:00
        f"养老服务：{elder.name} 助餐配送 × 2",  # placed at 08:30
        f"安装紧急呼叫设备：{elder.name}",  # 20 November
    ]
    meal = _item(body, titles[2])["detail"]
    # 2 meals × 15.00 = 30.00; the subsidy is half, 15.00 (under the 2 × 10.00 cap)
    assert "金额 30.00 元（补贴 15.00 元，个人支付 15.00 元）" in meal
    assert "服务时间 2026-11-23 11:30，服务人员 刘师傅" in meal
    assert "结果：情况良好" in _item(body, titles[1])["detail"]
    assert "呼叫 1 次" in _item(body, titles[0])["detail"]
    assert "设备编号 SOS-0001" in _item(body, titles[3])["detail"]
    # the day filter reaches the devices' installation day too
    assert _titles(_file(cast.api("community_worker"), h, kind="services", end="2026-11-22")
                   .json()) == [titles[3]]  # fmt: skip
