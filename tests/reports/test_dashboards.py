"""The dashboards of issue 8 as a user sees them: the money of the latest approved month
at each level, applications by step and overdue, decisions, discovery, the coverage map,
the cache and its "as of" time, the lists behind the figures, and who may see what.

Time is frozen: the workflow's today (``clock.today``) and Django's ``timezone.now`` move
together, 10:00 Beijing time on the ``today`` fixture's day (2026-11-23, a Monday), so that
the 24-month window, the due days and the days from application to decision are exact.

Amounts, worked by hand (tests/benefits, tests/e2e/test_browser_payroll.py): dibao
1,450.00 − pension 800.00 + 362.50 (aged 60+) = 1,012.50; with 950.00: 862.50. Community A
pays 1,012.50 + 862.50 = 1,875.00 a month; with 500.00 in the other street the district
pays 2,375.00.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import token_create, user_create
from minzheng.applications.models import OPEN_STATES, ApplicationLine
from minzheng.benefits import payroll
from minzheng.benefits.models import Payment, PayrollRun, PayrollStatus
from minzheng.casework import discovery
from minzheng.casework.models import DiscoveryItem
from minzheng.registry.models import Division, Household
from minzheng.reports import aggregates, selectors
from minzheng.reports.models import Aggregate
from tests.applications.conftest import Clock
from tests.benefits.conftest import entitle, second_approver, today
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, DONGCHENG, STREET_A, Cast, pensioner

__all__ = ["second_approver", "today"]  # fixtures used by name

DISTRICT = "110102"  # 西城区
STREET_B = COMMUNITY_B[:9]  # 西长安街街道
ROLES = [str(r) for r in Role]
READERS = {"community_worker", "street_reviewer", "district_approver", "auditor", "admin"}
APPROVED_RUNS = (PayrollStatus.APPROVED, PayrollStatus.EXPORTED, PayrollStatus.RECONCILED)
BEIJING = ZoneInfo("Asia/Shanghai")


class Now:
    """``timezone.now`` following the workflow clock: 10:00 in Beijing on its day, plus
    ``extra`` (minutes within the day, for the cache)."""

    def __init__(self, day: Clock) -> None:
        self.day = day
        self.extra = timedelta(0)

    def __call__(self) -> datetime:
        local = datetime.combine(self.day.day, time(10, 0), BEIJING) + self.extra
        return local.astimezone(UTC)


@pytest.fixture
def now(today: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Now]:
    fake = Now(today)
    monkeypatch.setattr(timezone, "now", fake)
    monkeypatch.setattr(selectors, "REFRESH_IN_BACKGROUND", False)
    yield fake


def board(client: Client, division: str | None = None) -> dict[str, Any]:
    r = client.get("/api/v1/dashboards", {"division": division} if division else {})
    assert r.status_code == 200, r.content
    return dict(r.json())


def listing(client: Client, **params: str) -> Any:
    return client.get("/api/v1/dashboards/list", params)


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def staff(username: str, role: str, division: str) -> Client:
    user_create(username=username, role=role, division_code=division, password="pw-123456")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(username=username)}")


# -- the money: payments of approved payrolls ------------------------------------------------------


@dataclass
class Paid:
    near: Household  # community A, 1,012.50
    second: Household  # community A, 862.50
    far: Household  # the other street, 500.00 back-dated to September


def _pay(preparer: User, approver: User, period: str) -> PayrollRun:
    run = payroll.payroll_create(actor=preparer, period=period)
    run = payroll.payroll_execute(run.pk)
    assert run.status == PayrollStatus.PREVIEW
    return payroll.payroll_approve(actor=approver, run_id=run.pk, reason="经复核，同意发放")


@pytest.fixture
def paid(cast: Cast, now: Now, second_approver: Client) -> Paid:
    """October and November approved for the district; December computed, in preview."""
    near = pensioner("800.00", "11010219500101123")
    second = pensioner("950.00", "11010219480305234")
    far = pensioner("700.00", "11010219450709345", COMMUNITY_B)
    entitle(near, "1012.50", date(2026, 10, 1))
    entitle(second, "862.50", date(2026, 10, 1))
    entitle(far, "500.00", date(2026, 9, 1))  # October pays September as arrears
    district = cast.users["district_approver"]
    other = User.objects.get(username="u_approver2")
    _pay(district, other, "2026-10")
    _pay(district, other, "2026-11")
    now.day.day = date(2026, 12, 3)
    december = payroll.payroll_execute(payroll.payroll_create(actor=district, period="2026-12").pk)
    assert december.status == PayrollStatus.PREVIEW and december.line_amount == Decimal("2375.00")
    return Paid(near, second, far)


def _orm_sum(month: date, path: str = "") -> str:
    """The same figure straight from the ledger: payments of approved runs for the month."""
    total = Payment.objects.filter(
        period=month, run__status__in=APPROVED_RUNS, division_path__startswith=path
    ).aggregate(s=Sum("amount"))["s"]
    return f"{total or Decimal(0):.2f}"


def test_each_level_shows_the_latest_approved_month(cast: Cast, paid: Paid) -> None:
    district = board(cast.api("district_approver"))
    assert district["division"] == {"code": DISTRICT, "name": "西城区", "level": "district"}
    # December is only a preview: the current month is November, the latest approved
    current = district["current"]
    assert current["month"] == "2026-11"
    assert current["households"] == 3
    assert current["amount"] == "2375.00" == _orm_sum(date(2026, 11, 1))
    assert current["by_programme"] == [{"programme": "dibao", "label": "最低生活保障",
                                        "households": 3, "amount": "2375.00"}]  # fmt: skip
    assert district["computed_at"] and district["stale"] is False

    # 24 months up to the current calendar month (December 2026)
    months = district["months"]
    assert len(months) == 24 and months[0] == "2025-01" and months[-1] == "2026-12"
    (dibao,) = district["trend"].values()
    assert set(district["trend"]) == {"dibao"} and dibao["label"] == "最低生活保障"
    assert len(dibao["households"]) == len(dibao["amounts"]) == 24
    filled = {m: (h, a) for m, h, a in zip(months, dibao["households"], dibao["amounts"],
                                           strict=True) if h or a != "0.00"}  # fmt: skip
    # September: the far household's arrears (money, no regular payment); December: none
    assert filled == {"2026-09": (0, "500.00"), "2026-10": (3, "2375.00"),
                      "2026-11": (3, "2375.00")}  # fmt: skip
    for month in ("2026-09", "2026-10", "2026-11", "2026-12"):
        k = months.index(month)
        assert dibao["amounts"][k] == _orm_sum(date.fromisoformat(month + "-01"))

    # the street and the community see only theirs: 1,012.50 + 862.50
    for role, asked, shown in (("street_reviewer", None, STREET_A),
                               ("district_approver", STREET_A, STREET_A),
                               ("community_worker", None, COMMUNITY_A),
                               ("admin", COMMUNITY_A, COMMUNITY_A)):  # fmt: skip
        own = board(cast.api(role), asked)
        assert own["division"]["code"] == shown
        assert (own["current"]["month"], own["current"]["households"],
                own["current"]["amount"]) == ("2026-11", 2, "1875.00")  # fmt: skip
        assert own["current"]["amount"] == _orm_sum(date(2026, 11, 1), paid.near.division.path)
        (theirs,) = own["trend"].values()
        k = months.index("2026-09")
        assert theirs["amounts"][k : k + 4] == ["0.00", "1875.00", "1875.00", "0.00"]
        assert theirs["households"][k : k + 4] == [0, 2, 2, 0]
    other = board(cast.api("district_approver"), STREET_B)
    assert (other["current"]["households"], other["current"]["amount"]) == (1, "500.00")


def test_coverage_per_child_division(cast: Cast, paid: Paid) -> None:
    district = board(cast.api("district_approver"))
    rows = {r["code"]: r for r in district["coverage"]}
    streets = list(
        Division.objects.filter(parent__code=DISTRICT)
        .order_by("code")
        .values_list("code", flat=True)
    )
    assert [r["code"] for r in district["coverage"]] == streets
    assert [c["code"] for c in district["children"]] == streets
    # street A: the cast's household and the two recipients; 2 / 3 × 1,000 = 666.666… → 666.7
    assert rows[STREET_A] == {"code": STREET_A, "name": "展览路街道", "households": 3,
                              "recipients": 2, "per_thousand": 666.7}  # fmt: skip
    # the other street: its cast household and the far recipient, 1 / 2 × 1,000
    assert (rows[STREET_B]["households"], rows[STREET_B]["recipients"],
            rows[STREET_B]["per_thousand"]) == (2, 1, 500.0)  # fmt: skip
    empty = [r for c, r in rows.items() if c not in (STREET_A, STREET_B)]
    assert empty and all((r["households"], r["recipients"], r["per_thousand"]) == (0, 0, 0.0)
                         for r in empty)  # fmt: skip
    assert (
        sum(r["households"] for r in rows.values())
        == Household.objects.filter(
            division__path__startswith=Division.objects.get(code=DISTRICT).path
        ).count()
    )

    street = board(cast.api("street_reviewer"))
    community = {r["code"]: r for r in street["coverage"]}[COMMUNITY_A]
    assert (community["households"], community["recipients"], community["per_thousand"]) == (
        3, 2, 666.7,
    )  # fmt: skip
    assert board(cast.api("community_worker"))["coverage"] == []  # a community has no children


def test_drill_down_lists_exactly_the_payments(cast: Cast, paid: Paid) -> None:
    query = {"figure": "recipients", "month": "2026-11", "programme": "dibao"}
    r = listing(cast.api("district_approver"), **query)
    assert r.status_code == 200, r.content
    body = r.json()
    expected = Payment.objects.filter(period=date(2026, 11, 1), programme="dibao", kind="regular")
    assert body["count"] == 3 == expected.count()
    got = {(row["household"], row["amount"], row["month"]) for row in body["items"]}
    assert got == {(p.household_id, f"{p.amount:.2f}", "2026-11") for p in expected}
    assert got == {(paid.near.pk, "1012.50", "2026-11"), (paid.second.pk, "862.50", "2026-11"),
                   (paid.far.pk, "500.00", "2026-11")}  # fmt: skip

    # the community worker: only community A's two, whatever division they ask for
    mine = listing(cast.api("community_worker"), **query).json()
    assert {row["household"] for row in mine["items"]} == {paid.near.pk, paid.second.pk}
    r = listing(cast.api("community_worker"), **query, division=STREET_B)
    assert r.status_code == 404
    # December is in preview: nobody is listed as paid
    assert (
        listing(cast.api("district_approver"), figure="recipients", month="2026-12").json()["count"]
        == 0
    )

    # the page behind the KPI shows the same rows
    page = cast.client("community_worker").get("/reports/list/", query)
    assert page.status_code == 200
    html = page.content.decode()
    assert "1012.50" in html and "862.50" in html and "500.00" not in html


# -- applications by step, overdue, decisions ------------------------------------------------------


def _act(client: Client, app_id: int, action: str, **extra: Any) -> dict[str, Any]:
    r = post(client, f"/api/v1/applications/{app_id}/transitions",
             {"action": action, "reason": extra.pop("reason", "经办"), **extra})  # fmt: skip
    assert r.status_code == 200, r.content
    return dict(r.json())


def _apply(client: Client, household: Household, programme: str) -> dict[str, Any]:
    r = post(client, "/api/v1/applications",
             {"household": household.pk, "programmes": [programme], "include_suggested": False})  # fmt: skip
    assert r.status_code == 201, r.content
    return dict(r.json())


def test_applications_by_step_overdue_and_decisions(cast: Cast, now: Now) -> None:
    """Driven through the workflow API; created on Monday 2026-11-23 at 10:00."""
    worker, street, district = (cast.api(r) for r in ("community_worker", "street_reviewer",
                                                      "district_approver"))  # fmt: skip
    worker_b = staff("u_worker_b", Role.COMMUNITY_WORKER, COMMUNITY_B)
    elder = pensioner("800.00", "11010219500101123")
    elder2 = pensioner("800.00", "11010219510202234")
    waiting = _apply(worker, cast.own, "dibao")  # stays at acceptance
    assert waiting["lines"][0]["step_due"] == "2026-11-26"  # 3 working days
    investigated = _apply(worker_b, cast.other_street, "dibao")
    line_b = _act(worker_b, investigated["id"], "accept")["lines"][0]
    assert line_b["state"] == "investigation" and line_b["step_due"] > "2026-11-27"
    approved = _apply(worker, elder, "elderly_service_subsidy")
    rejected = _apply(worker, elder2, "elderly_service_subsidy")
    _act(worker, approved["id"], "accept")

    first = board(district)
    steps = {r["state"]: (r["open"], r["overdue"]) for r in first["applications"]}
    assert steps == {"submitted": (2, 0), "investigation": (1, 0), "street_review": (1, 0)}
    assert {r["state"]: r["label"] for r in first["applications"]}["submitted"] == "待受理"
    assert first["decisions"] == []
    # the poverty-index distribution covers the households with an open application
    assert sum(first["poverty"]) == 4 and len(first["poverty"]) == 10

    now.day.advance(2)  # Wednesday 25th: rejected at acceptance after 2 days
    _act(worker, rejected["id"], "reject", reason="不符合申请条件")
    now.day.advance(2)  # Friday 27th: the acceptance due on the 26th is now overdue
    _act(street, approved["id"], "review")
    assert _act(district, approved["id"], "approve", reason="符合条件")["lines"][0]["state"] == (
        "approved"
    )

    # the cached figures are four days old: recomputed (inline in tests) on reading
    later = board(district)
    assert later["computed_at"] > first["computed_at"] and later["stale"] is False
    steps = {r["state"]: (r["open"], r["overdue"]) for r in later["applications"]}
    assert steps == {"submitted": (1, 1), "investigation": (1, 0)}
    (decided,) = later["decisions"]
    # approved after 4 days, rejected after 2: 1 of 2 approved, (4 + 2) / 2 days
    assert decided == {"programme": "elderly_service_subsidy", "label": "养老服务补贴",
                       "approved": 1, "rejected": 1, "approval_rate": 0.5,
                       "average_days": 3.0}  # fmt: skip
    # the street sees its own: the other street's investigation is not there
    mine = board(street)
    assert {r["state"]: (r["open"], r["overdue"]) for r in mine["applications"]} == {
        "submitted": (1, 1)
    }
    assert board(worker_b)["applications"] == [
        {"state": "investigation", "label": "入户调查", "open": 1, "overdue": 0}
    ]

    # the lists behind the figures: exactly the overdue line, and the open ones per step
    r = listing(district, figure="overdue")
    assert r.status_code == 200, r.content
    overdue = ApplicationLine.objects.filter(state__in=OPEN_STATES, step_due__lt=date(2026, 11, 27))
    assert (
        [row["application"] for row in r.json()["items"]]
        == [waiting["id"]]
        == [line.application_id for line in overdue]
    )
    (row,) = r.json()["items"]
    assert (row["household"], row["state"], row["step_due"]) == (cast.own.pk, "submitted",
                                                                 "2026-11-26")  # fmt: skip
    opened = listing(district, figure="applications").json()
    assert {row["application"] for row in opened["items"]} == {waiting["id"], investigated["id"]}
    by_step = listing(district, figure="applications", state="investigation").json()
    assert [row["application"] for row in by_step["items"]] == [investigated["id"]]
    assert listing(street, figure="overdue", division=STREET_B).status_code == 404
    assert listing(worker_b, figure="overdue").json()["items"] == []
    r = listing(district, figure="applications", state="flying")
    assert (r.status_code, r.json()["code"]) == (422, "report.kind_invalid")


# -- proactive discovery ---------------------------------------------------------------------------


def test_discovery_counts_and_conversion_rate(cast: Cast, now: Now) -> None:
    elder = pensioner("800.00", "11010219500101123")
    run = discovery.discovery_run(None, as_of=date(2026, 11, 23))
    # each cast household qualifies for dibao; the elder for dibao, the elderly service
    # subsidy and the preferential card (tests/casework/test_discovery.py)
    found = set(DiscoveryItem.objects.values_list("household_id", "programme"))
    assert run.new_items == 6 and (elder.pk, "preferential_card") in found
    worker = cast.api("community_worker")
    card = DiscoveryItem.objects.get(household=elder, programme="preferential_card")
    r = post(worker, f"/api/v1/discovery/items/{card.pk}/dismissal",
             {"reason": "本人表示暂不需要"})  # fmt: skip
    assert r.status_code == 200, r.content
    own = DiscoveryItem.objects.get(household=cast.own, programme="dibao")
    r = post(worker, f"/api/v1/discovery/items/{own.pk}/conversion", {})
    assert r.status_code == 201, r.content

    district = board(cast.api("district_approver"))["discovery"]
    # Xicheng: 5 items (the Dongcheng household's is not theirs), 1 converted, 1 dismissed
    assert district == {"found": 5, "open": 3, "converted": 1, "dismissed": 1, "resolved": 0,
                        "conversion_rate": 0.2}  # fmt: skip
    street = board(cast.api("street_reviewer"))["discovery"]
    assert street == {"found": 4, "open": 2, "converted": 1, "dismissed": 1, "resolved": 0,
                      "conversion_rate": 0.25}  # fmt: skip
    assert board(cast.api("community_worker"))["discovery"] == street
    # the converted item's application is open at acceptance
    apps = board(cast.api("community_worker"))["applications"]
    assert apps == [{"state": "submitted", "label": "待受理", "open": 1, "overdue": 0}]

    r = listing(cast.api("street_reviewer"), figure="discovery", state="open")
    assert r.status_code == 200, r.content
    assert {(row["household"], row["programme"]) for row in r.json()["items"]} == {
        (elder.pk, "dibao"), (elder.pk, "elderly_service_subsidy"),
    }  # fmt: skip
    everything = listing(cast.api("district_approver"), figure="discovery").json()
    assert everything["count"] == 5
    r = listing(cast.api("district_approver"), figure="discovery", state="converted")
    assert [row["household"] for row in r.json()["items"]] == [cast.own.pk]
    r = listing(cast.api("district_approver"), figure="discovery", state="lost")
    assert (r.status_code, r.json()["code"]) == (422, "report.kind_invalid")


# -- the cache --------------------------------------------------------------------------------------


def test_cached_until_refreshed_or_stale(
    cast: Cast, now: Now, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = cast.api("street_reviewer")
    street = Division.objects.get(code=STREET_A)

    def recipients(body: dict[str, Any]) -> int:
        return int({r["code"]: r for r in body["coverage"]}[COMMUNITY_A]["recipients"])

    first = board(client)
    assert recipients(first) == 0 and first["stale"] is False
    # computed for the street and every division below it, once
    below = Division.objects.filter(path__startswith=street.path).count()
    assert Aggregate.objects.count() == below
    now.extra = timedelta(minutes=5)
    again = board(client)
    assert again["computed_at"] == first["computed_at"]

    entitle(cast.own, "1450.00", date(2026, 11, 1))  # a new recipient in community A
    now.extra = timedelta(minutes=29)
    cached = board(client)
    assert recipients(cached) == 0  # still the old figures, with their time
    assert cached["computed_at"] == first["computed_at"] and cached["stale"] is False

    # older than 30 minutes, in the web process: the old figures, flagged stale, and a
    # refresh queued in the background
    queued: list[str] = []
    monkeypatch.setattr(selectors, "REFRESH_IN_BACKGROUND", True)
    monkeypatch.setattr(selectors, "_refresh_later", lambda d: queued.append(d.code))
    now.extra = timedelta(minutes=31)
    stale = board(client)
    assert stale["stale"] is True and recipients(stale) == 0
    assert stale["computed_at"] == first["computed_at"] and queued == [STREET_A]
    page = cast.client("street_reviewer").get("/reports/")
    assert page.status_code == 200 and "正在后台刷新" in page.content.decode()

    # inline (tests, the CLI): recomputed on reading, the new figures
    monkeypatch.setattr(selectors, "REFRESH_IN_BACKGROUND", False)
    fresh = board(client)
    assert fresh["stale"] is False and recipients(fresh) == 1
    assert fresh["computed_at"] > first["computed_at"]
    assert datetime.fromisoformat(fresh["computed_at"]) == now()

    # an explicit refresh (the scheduled job) shows new data at once
    entitle(pensioner("800.00", "11010219500101123"), "1012.50", date(2026, 11, 1))
    assert recipients(board(client)) == 1
    now.extra = timedelta(minutes=40)
    assert aggregates.refresh(street) == below
    refreshed = board(client)
    assert recipients(refreshed) == 2 and refreshed["computed_at"] > fresh["computed_at"]


# -- refusals -------------------------------------------------------------------------------------


def test_malformed_queries(cast: Cast, now: Now) -> None:
    client = cast.api("district_approver")
    for month in ("2026-13", "2026/11", "11-2026", "2026-11-15"):
        r = listing(client, figure="recipients", month=month)
        assert r.status_code == 422, month
        assert r.json()["code"] == "report.period_invalid"
        assert r.json()["details"]["field"] == "month"
    r = listing(client, figure="salaries")
    assert (r.status_code, r.json()["code"]) == (422, "report.kind_invalid")
    assert "未知的统计项" in r.json()["message"]
    r = listing(client, figure="recipients", programme="lottery")
    assert (r.status_code, r.json()["code"]) == (422, "report.kind_invalid")
    r = listing(client)
    assert r.status_code == 422  # figure is required

    page = cast.client("district_approver")
    r = page.get("/reports/list/", {"figure": "bad"})
    assert r.status_code == 200
    assert "未知的统计项：bad" in r.content.decode()
    r = page.get("/reports/list/", {"figure": "recipients", "month": "2026-13"})
    assert r.status_code == 200 and "月份格式应为 YYYY-MM" in r.content.decode()


# -- who sees what ----------------------------------------------------------------------------------


@pytest.mark.parametrize("inside", [True, False], ids=["own", "outside"])
@pytest.mark.parametrize("role", ROLES)
def test_scope(cast: Cast, now: Now, role: str, inside: bool) -> None:
    """Readers: their jurisdiction (community A is in every Xicheng reader's), never
    Dongcheng (404, as if it did not exist); others: refused (403 on the API, 404 on the
    page)."""
    code = COMMUNITY_A if inside else DONGCHENG
    api = cast.api(role)
    r = api.get("/api/v1/dashboards", {"division": code})
    drill = listing(api, figure="recipients", division=code)
    page = cast.client(role).get("/reports/", {"division": code})
    if role in READERS and inside:
        assert r.status_code == 200, r.content
        assert r.json()["division"]["code"] == code
        assert drill.status_code == 200 and drill.json()["items"] == []
        assert page.status_code == 200 and "西便门社区" in page.content.decode()
    elif role in READERS:
        assert (r.status_code, r.json()["code"]) == (404, "report.division_not_found")
        assert (drill.status_code, drill.json()["code"]) == (404, "report.division_not_found")
        assert page.status_code == 404
        assert not Aggregate.objects.filter(division__code=DONGCHENG).exists()
    else:
        assert (r.status_code, r.json()["code"]) == (403, "report.role_forbidden")
        assert (drill.status_code, drill.json()["code"]) == (403, "report.role_forbidden")
        assert page.status_code == 404
        assert not Aggregate.objects.exists()


@pytest.mark.parametrize(
    ("role", "code", "name"),
    [
        ("community_worker", COMMUNITY_A, "西便门社区"),
        ("street_reviewer", STREET_A, "展览路街道"),
        ("district_approver", DISTRICT, "西城区"),
    ],
)
def test_page_of_each_level(cast: Cast, now: Now, role: str, code: str, name: str) -> None:
    r = cast.client(role).get("/reports/")
    assert r.status_code == 200
    html = r.content.decode()
    assert Division.objects.get(code=code).name == name
    assert f'<span id="dashboard-division">{name}</span>' in html
    assert "数据时间 2026-11-23 10:00" in html
    assert "正在后台刷新" not in html


def test_api_login_required(db: None) -> None:
    assert Client().get("/api/v1/dashboards").status_code == 401
    assert Client().get("/api/v1/dashboards/list", {"figure": "recipients"}).status_code == 401
    r = Client().get("/reports/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
