"""The programme pages: catalogue, evaluation runs with progress, what-if.

Runs execute inside the request here (``views.RUN_IN_BACKGROUND = False``): no threads
in pytest. Every refusal is a Chinese message or a 404, never a 500.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db.models import Count, Sum
from django.test import Client

from minzheng.accounts.roles import Role
from minzheng.programmes import services, views
from minzheng.programmes.models import EligibilityResult, EvaluationRun, RunStatus
from minzheng.registry.models import Household
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, DONGCHENG, STREET_A, Cast, pensioner

READERS = [
    "community_worker",
    "street_reviewer",
    "district_approver",
    "department_liaison",
    "auditor",
    "admin",
]
WRITERS = {"community_worker", "street_reviewer", "district_approver", "admin"}
AS_OF = "2025-07-01"
PAGES = ["/programmes/", "/programmes/runs/", "/programmes/what-if/"]


@pytest.fixture(autouse=True)
def _runs_in_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "RUN_IN_BACKGROUND", False)


@pytest.fixture
def pensioners(cast: Cast) -> list[Household]:
    """Beside the cast: a poor 95-year-old, and one just above today's dibao standard."""
    return [
        pensioner("1000.00", "11010219300101001"),
        pensioner("1500.00", "11010219500101003"),
        pensioner("1500.00", "11010219500101004", COMMUNITY_B),
    ]


def _text(response: Any) -> str:
    return str(response.content.decode())


# -- who may open what ------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login(db: None) -> None:
    for url in PAGES:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", READERS)
def test_pages_render_for_staff_in_scope(cast: Cast, role: str) -> None:
    client = cast.client(role)
    catalogue = _text(client.get("/programmes/"))
    assert "救助项目目录" in catalogue and "最低生活保障" in catalogue and "dibao" in catalogue
    assert "京民社救发" in catalogue  # the reference
    runs = client.get("/programmes/runs/")
    assert runs.status_code == 200 and "评估记录" in _text(runs)
    assert ('id="run-form"' in _text(runs)) is (role in WRITERS)
    what_if = client.get("/programmes/what-if/")
    assert what_if.status_code == 200
    page = _text(what_if)
    assert "政策模拟" in page and 'value="dibao.standard"' in page and "echarts.min.js" in page
    # the division choices are the user's own jurisdiction
    assert f'value="{COMMUNITY_A}"' in page and f'value="{DONGCHENG}"' not in page


@pytest.mark.parametrize("role", [str(r) for r in Role])
def test_page_scope_matrix(cast: Cast, role: str) -> None:
    """Every programme page × every role, and a run inside / outside the user's scope."""
    client = cast.client(role)
    inside = services.evaluation_run_create(None, as_of=date(2025, 7, 1), division=COMMUNITY_A)
    outside = services.evaluation_run_create(None, as_of=date(2025, 7, 1), division=DONGCHENG)
    reader = role in READERS
    expected_pages = {
        "/programmes/": 403 if role == "resident" else 200,
        "/programmes/runs/": 200 if reader else 403,
        "/programmes/what-if/": 200 if reader else 403,
    }
    for url, status in expected_pages.items():
        response = client.get(url)
        assert response.status_code == status, (url, role)
        if status == 403:
            assert 'class="error"' in _text(response)
    inside_status = 200 if reader else 403
    outside_status = 200 if role == "admin" else 404 if reader else 403
    assert client.get(f"/programmes/runs/{inside.pk}/").status_code == inside_status, role
    assert client.get(f"/programmes/runs/{outside.pk}/").status_code == outside_status, role
    assert client.get("/programmes/runs/999999/").status_code in {404, 403}
    listing = _text(client.get("/programmes/runs/"))
    assert (f'href="/programmes/runs/{inside.pk}/"' in listing) is reader
    assert (f'href="/programmes/runs/{outside.pk}/"' in listing) is (role == "admin")


def test_navigation_offers_the_programme_pages_to_staff_only(cast: Cast) -> None:
    worker = _text(cast.client("community_worker").get("/households/"))
    assert all(f'href="{url}"' in worker for url in PAGES)
    provider = _text(cast.client("service_provider").get("/programmes/"))
    assert 'href="/programmes/"' in provider and 'href="/programmes/runs/"' not in provider
    resident = _text(cast.client("resident").get("/households/"))
    assert not any(f'href="{url}"' in resident for url in PAGES)


# -- evaluation runs --------------------------------------------------------------------


def test_a_run_on_the_cast_completes_and_shows_counts_per_programme(
    cast: Cast, pensioners: list[Household]
) -> None:
    client = cast.client("district_approver")
    response = client.post("/programmes/runs/", {"as_of": AS_OF, "division": ""})
    assert response.status_code == 302
    run = EvaluationRun.objects.get()
    assert response["Location"] == f"/programmes/runs/{run.pk}/"
    assert run.status == RunStatus.DONE and run.created_by == cast.users["district_approver"]
    in_district = Household.objects.filter(division__code__startswith="110102").count()
    assert run.total == run.done == in_district

    page = _text(client.get(response["Location"]))
    assert f"评估完成：共 {in_district} 户，其中 {run.eligible_households} 户" in page
    assert "hx-trigger" not in page  # nothing left to poll
    expected = {
        row["programme"]: row
        for row in EligibilityResult.objects.filter(run=run)
        .values("programme")
        .annotate(households=Count("household", distinct=True), amount=Sum("amount"))
    }
    assert expected["dibao"]["households"] >= 1  # the poor pensioner at least
    shown = dict(
        re.findall(r'data-programme="(\w+)"><td>[^<]*</td><td class="households">(\d+)<', page)
    )
    assert len(shown) == 12
    for programme, count in shown.items():
        assert int(count) == expected.get(programme, {}).get("households", 0), programme
    dibao_amount = f"{expected['dibao']['amount']:.2f}"
    assert f'<td class="amount">{dibao_amount}</td>' in page

    listing = _text(client.get("/programmes/runs/"))
    assert f'href="/programmes/runs/{run.pk}/"' in listing and "已完成" in listing
    assert "hx-trigger" not in listing


def test_a_run_of_one_division(cast: Cast, pensioners: list[Household]) -> None:
    client = cast.client("street_reviewer")
    response = client.post("/programmes/runs/", {"as_of": AS_OF, "division": COMMUNITY_A})
    run = EvaluationRun.objects.get()
    assert response.status_code == 302 and run.division is not None
    assert run.total == Household.objects.filter(division__code=COMMUNITY_A).count()
    assert not EligibilityResult.objects.filter(run=run, household=pensioners[2]).exists()


def test_read_only_roles_cannot_start_a_run(cast: Cast) -> None:
    client = cast.client("auditor")
    page = _text(client.get("/programmes/runs/"))
    assert "不能发起评估" in page and 'id="run-form"' not in page
    refused = client.post("/programmes/runs/", {"as_of": AS_OF})
    assert refused.status_code == 200
    assert "只能查看" in _text(refused)
    assert not EvaluationRun.objects.exists()


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"as_of": AS_OF, "division": DONGCHENG}, "不在您的管辖范围内"),
        ({"as_of": AS_OF, "division": COMMUNITY_B}, "不在您的管辖范围内"),
        ({"as_of": AS_OF, "division": "999"}, "不在您的管辖范围内"),
        ({"as_of": "2025-13-01"}, "有效的日期"),
        ({"as_of": ""}, "这个字段是必填项"),
        ({"as_of": "2010-01-01"}, "尚未生效"),
    ],
)
def test_a_bad_run_form_is_explained_not_a_500(
    cast: Cast, form: dict[str, str], message: str
) -> None:
    response = cast.client("community_worker").post("/programmes/runs/", form)
    assert response.status_code == 200
    assert message in _text(response)
    assert not EvaluationRun.objects.exists()


def test_runs_of_others_follow_their_scope(cast: Cast) -> None:
    def start(role: str, division: str | None) -> EvaluationRun:
        return services.evaluation_run_create(
            cast.users[role], as_of=date(2025, 7, 1), division=division
        )

    street_b = start("district_approver", COMMUNITY_B)
    whole_street = start("street_reviewer", None)  # the reviewer's jurisdiction: street A
    own = start("community_worker", None)

    def visible(role: str) -> set[int]:
        page = _text(cast.client(role).get("/programmes/runs/"))
        return {int(n) for n in re.findall(r'href="/programmes/runs/(\d+)/"', page)}

    assert visible("community_worker") == {own.pk}
    assert visible("street_reviewer") == {whole_street.pk, own.pk}
    assert visible("district_approver") == {street_b.pk, whole_street.pk, own.pk}
    assert visible("auditor") == {street_b.pk, whole_street.pk, own.pk}
    worker = cast.client("community_worker")
    assert worker.get(f"/programmes/runs/{street_b.pk}/").status_code == 404
    assert worker.get(f"/programmes/runs/{whole_street.pk}/").status_code == 404


def test_progress_is_polled_every_second_until_the_run_is_done(cast: Cast) -> None:
    client = cast.client("community_worker")
    run = services.evaluation_run_create(cast.users["community_worker"], as_of=date(2025, 7, 1))
    listing = _text(client.get("/programmes/runs/"))
    assert 'hx-trigger="every 1s"' in listing and "排队中" in listing
    fragment = _text(client.get("/programmes/runs/", HTTP_HX_REQUEST="true"))
    assert 'id="runs"' in fragment and 'hx-trigger="every 1s"' in fragment
    assert "<html" not in fragment
    detail = _text(client.get(f"/programmes/runs/{run.pk}/", HTTP_HX_REQUEST="true"))
    assert 'id="progress"' in detail and 'hx-trigger="every 1s"' in detail
    assert "<html" not in detail and "评估进行中" in detail

    seen: list[tuple[int, int]] = []
    services.evaluation_run_execute(run.pk, chunk=1, on_progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] >= 1
    detail = _text(client.get(f"/programmes/runs/{run.pk}/", HTTP_HX_REQUEST="true"))
    assert "hx-trigger" not in detail and "评估完成" in detail and 'value="100"' in detail
    assert "hx-trigger" not in _text(client.get("/programmes/runs/", HTTP_HX_REQUEST="true"))


def test_a_failed_run_says_so(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("engine down")

    monkeypatch.setattr(services, "registry_frames", broken)
    client = cast.client("community_worker")
    response = client.post("/programmes/runs/", {"as_of": AS_OF}, follow=True)
    assert response.status_code == 200
    page = _text(response)
    assert "评估失败" in page and "engine down" in page
    assert EvaluationRun.objects.get().status == RunStatus.FAILED


def test_in_production_a_run_starts_in_a_thread_after_commit(
    cast: Cast,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    monkeypatch.setattr(views, "RUN_IN_BACKGROUND", True)
    started: list[tuple[Any, ...]] = []

    class FakeThread:
        def __init__(self, *, target: Any, args: tuple[Any, ...], daemon: bool, name: str) -> None:
            assert daemon and target is views._execute_and_close
            self.args = args

        def start(self) -> None:
            started.append(self.args)

    monkeypatch.setattr(views.threading, "Thread", FakeThread)
    closed: list[bool] = []

    class FakeConnection:
        def close(self) -> None:
            closed.append(True)

    monkeypatch.setattr(views, "connection", FakeConnection())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = cast.client("community_worker").post("/programmes/runs/", {"as_of": AS_OF})
    run = EvaluationRun.objects.get()
    assert response.status_code == 302 and len(callbacks) == 1
    assert started == [(run.pk,)]
    assert run.status == RunStatus.PENDING  # the (fake) thread has not run it
    views._execute_and_close(run.pk)  # what the thread does
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and closed == [True]


# -- what-if ------------------------------------------------------------------------------


def _cells(page: str, programme: str) -> dict[str, str]:
    row = re.search(rf'<tr data-programme="{programme}">(.*?)</tr>', page, re.S)
    assert row is not None, f"no row for {programme}"
    return dict(re.findall(r'<td class="([\w-]+)">([^<]*)</td>', row.group(1)))


def _chart(page: str) -> dict[str, Any]:
    found = re.search(r'<script id="what-if-chart" type="application/json">(.*?)</script>', page)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_what_if_dibao_standard_shows_the_service_numbers(
    cast: Cast, pensioners: list[Household]
) -> None:
    query = {"name_1": "dibao.standard", "value_1": "1600", "as_of": AS_OF, "level": "9"}
    response = cast.client("district_approver").get("/programmes/what-if/", query)
    assert response.status_code == 200
    page = _text(response)
    report = services.simulate(
        cast.users["district_approver"],
        overrides={"dibao.standard": 1600},
        as_of=date(2025, 7, 1),
        level=9,
    )
    dibao = next(p for p in report["programmes"] if p["programme"] == "dibao")
    cells = _cells(page, "dibao")
    assert int(cells["base-beneficiaries"]) == dibao["base_beneficiaries"]
    assert int(cells["reform-beneficiaries"]) == dibao["reform_beneficiaries"]
    assert int(cells["reform-beneficiaries"]) >= int(cells["base-beneficiaries"])
    assert cells["base-cost"] == dibao["base_cost"] and cells["reform-cost"] == dibao["reform_cost"]
    assert float(dibao["reform_cost"]) >= float(dibao["base_cost"])
    # per street: both streets of the pensioners, by name, and both charts' data
    assert "展览路街道" in page and "西长安街街道" in page
    assert 'id="chart-programmes"' in page and 'id="chart-dibao"' in page
    chart = _chart(page)
    assert chart["programmes"]["title"].startswith("各救助项目月支出")
    index = chart["programmes"]["labels"].index("最低生活保障")
    assert chart["programmes"]["base_values"][index] == float(dibao["base_cost"])
    assert chart["programmes"]["reform_values"][index] == float(dibao["reform_cost"])
    assert {"展览路街道", "西长安街街道"} <= set(chart["dibao"]["labels"])
    street_a = next(
        r for r in report["by_division"] if r["programme"] == "dibao" and r["area"] == STREET_A
    )
    at = chart["dibao"]["labels"].index("展览路街道")
    assert chart["dibao"]["reform_values"][at] == float(street_a["reform_cost"])


def test_what_if_by_district_and_within_a_division(cast: Cast, pensioners: list[Household]) -> None:
    client = cast.client("district_approver")
    base = {"name_1": "dibao.standard", "value_1": "1600", "as_of": AS_OF}
    by_district = _text(client.get("/programmes/what-if/", {**base, "level": "6"}))
    assert 'data-area="110102"' in by_district and "西城区" in by_district
    one_community = _text(
        client.get("/programmes/what-if/", {**base, "level": "9", "division": COMMUNITY_A})
    )
    report = services.simulate(
        cast.users["district_approver"],
        overrides={"dibao.standard": 1600},
        as_of=date(2025, 7, 1),
        division=COMMUNITY_A,
    )
    assert f"共 {report['households']} 户" in one_community
    assert 'data-area="110102001"' not in one_community  # 西长安街街道
    assert 'data-area="110102009"' in one_community


def test_what_if_with_three_changes_and_the_htmx_fragment(
    cast: Cast, pensioners: list[Household]
) -> None:
    query = {
        "name_1": "dibao.standard", "value_1": "1600",
        "name_2": "dibao.gradual_exit", "value_2": "{full_months: 4, half_months: 3}",
        "name_3": "dibao.business_allowed", "value_3": "true",
        "as_of": AS_OF, "level": "9",
    }  # fmt: skip
    fragment = _text(
        cast.client("street_reviewer").get("/programmes/what-if/", query, HTTP_HX_REQUEST="true")
    )
    assert 'id="what-if"' in fragment and "<html" not in fragment
    assert "测算结果" in fragment and "dibao.business_allowed = True" in fragment


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"name_1": "no.such", "value_1": "1"}, "未知参数：no.such"),
        ({"name_1": "dibao.standard", "value_1": "abc"}, "不小于 0 的数字"),
        ({"name_1": "dibao.standard", "value_1": "-100"}, "不小于 0 的数字"),
        ({"name_1": "dibao.standard", "value_1": "1e999"}, "不小于 0 的数字"),
        ({"name_1": "dibao.standard", "value_1": "[1"}, "无法读取"),
        ({"name_1": "dibao.standard", "value_1": ""}, "请填写参数 dibao.standard 的新取值"),
        ({"value_1": "1600"}, "请选择要修改的参数"),
        ({"name_1": "", "value_1": ""}, "请至少修改一个参数"),
        ({"name_1": "dibao.business_allowed", "value_1": "3"}, "true 或 false"),
        ({"name_1": "dibao.gradual_exit", "value_1": "5"}, "结构相同"),
        (
            {
                "name_1": "dibao.standard",
                "value_1": "1",
                "name_2": "dibao.standard",
                "value_2": "2",
            },
            "重复修改",
        ),
        ({"name_1": "dibao.standard", "value_1": "1600", "as_of": "2010-01-01"}, "尚未生效"),
        ({"name_1": "dibao.standard", "value_1": "1600", "as_of": "xx"}, "有效的日期"),
        ({"name_1": "dibao.standard", "value_1": "1600", "level": "4"}, "有效的选项"),
        ({"name_1": "dibao.standard", "value_1": "1600", "division": DONGCHENG}, "管辖范围"),
        ({"name_1": "dibao.standard", "value_1": "x" * 600}, "不超过 500 字符"),
    ],
)
def test_bad_what_if_input_is_explained_not_a_500(
    cast: Cast, query: dict[str, str], message: str
) -> None:
    response = cast.client("community_worker").get(
        "/programmes/what-if/", {"as_of": AS_OF, "level": "9", **query}
    )
    assert response.status_code == 200
    page = _text(response)
    assert message in page
    assert "测算结果" not in page


# -- language ---------------------------------------------------------------------------


def test_programme_pages_in_english_on_request(cast: Cast, pensioners: list[Household]) -> None:
    client = cast.client("district_approver")
    client.post("/i18n/setlang/", {"language": "en", "next": "/programmes/"})
    catalogue = _text(client.get("/programmes/"))
    assert "Programme catalogue" in catalogue and "Minimum living allowance" in catalogue
    client.post("/programmes/runs/", {"as_of": AS_OF})
    run = EvaluationRun.objects.get()
    detail = _text(client.get(f"/programmes/runs/{run.pk}/"))
    assert "Households that may qualify" in detail and "Status:Done" in detail
    what_if = _text(
        client.get(
            "/programmes/what-if/",
            {"name_1": "dibao.standard", "value_1": "1600", "as_of": AS_OF, "level": "9"},
        )
    )
    assert "Beneficiary households" in what_if and "Minimum living allowance" in what_if
    bad = _text(
        client.get(
            "/programmes/what-if/", {"name_1": "dibao.standard", "as_of": AS_OF, "level": "9"}
        )
    )
    assert "Enter the new value of dibao.standard" in bad
