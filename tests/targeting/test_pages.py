"""The ranking page and the explanation page: Chinese, scoped, refusals as pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from minzheng.applications.models import Application
from minzheng.registry.models import Household
from tests.fixtures import COMMUNITY_A, DONGCHENG
from tests.targeting.conftest import Town

PAGES = ["/targeting/ranking/"]


def _text(response: Any) -> str:
    return str(response.content.decode())


def test_the_ranking_page_for_a_district_approver(town: Town) -> None:
    client = town.cast.client("district_approver")
    response = client.get("/targeting/ranking/", {"as_of": "2025-07-01", "all": "1"})
    assert response.status_code == 200
    page = _text(response)
    for text in ("贫困指数排序", "名次", "街道内名次", "主要因素", "建议临时救助（元）",
                 "收入缺口", "按街道汇总", "展览路街道", "echarts.min.js", "chart-histogram"):  # fmt: skip
        assert text in page, text
    assert f'href="/households/{town.poorest.pk}/"' in page
    assert f'href="/targeting/households/{town.poorest.pk}/?as_of=2025-07-01"' in page
    assert "钱*" in page and "钱六" not in page and "张三" not in page
    assert "5,800.00" in page and "75.00" in page
    assert page.index(f'data-household="{town.poorest.pk}"') < page.index(
        f'data-household="{town.old.pk}"'
    )
    # the division choices are the user's jurisdiction only
    assert f'value="{COMMUNITY_A}"' in page and f'value="{DONGCHENG}"' not in page
    assert str(town.cast.other_district.number) not in page


def test_the_page_defaults_to_applicants(
    town: Town, apply_for: Callable[[Household], Application]
) -> None:
    apply_for(town.old)
    page = _text(town.cast.client("street_reviewer").get("/targeting/ranking/"))
    assert "有在办申请的家庭" in page and "共 1 户" in page
    assert f'data-household="{town.old.pk}"' in page
    assert f'data-household="{town.poorest.pk}"' not in page


def test_an_htmx_request_gets_the_result_fragment(town: Town) -> None:
    client = town.cast.client("community_worker")
    response = client.get("/targeting/ranking/", {"all": "1", "as_of": "2025-07-01"},
                          HTTP_HX_REQUEST="true")  # fmt: skip
    page = _text(response)
    assert response.status_code == 200 and 'id="ranking"' in page and "<html" not in page


def test_a_division_outside_the_jurisdiction_is_a_message(town: Town) -> None:
    client = town.cast.client("street_reviewer")
    response = client.get("/targeting/ranking/", {"division": DONGCHENG})
    assert response.status_code == 200
    assert "区划不存在或不在您的管辖范围内" in _text(response)


def test_the_explanation_page(town: Town) -> None:
    client = town.cast.client("district_approver")
    response = client.get(f"/targeting/households/{town.old.pk}/", {"as_of": "2025-07-01"})
    assert response.status_code == 200
    page = _text(response)
    for text in ("贫困指数说明", "各维度得分", "收入缺口", "货币财产", "抚养负担", "35.86",
                 "10.86", "临时救助标准表", "所用参数", "poverty_index.weights", "2020-07-27",
                 "待核实", "1,000.00 元"):  # fmt: skip
        assert text in page, text
    outside = client.get(f"/targeting/households/{town.cast.other_district.pk}/")
    assert outside.status_code == 404


@pytest.mark.parametrize("role", ["resident", "service_provider"])
def test_residents_and_providers_get_a_refusal_page(town: Town, role: str) -> None:
    client = town.cast.client(role)
    for url in ("/targeting/ranking/", f"/targeting/households/{town.cast.own.pk}/"):
        response = client.get(url)
        assert response.status_code == 403
        page = _text(response)
        assert 'class="error"' in page and "居民和服务商不能查看" in page
    nav = _text(client.get("/households/"))
    assert 'href="/targeting/ranking/"' not in nav


def test_anonymous_users_are_sent_to_login(db: None) -> None:
    for url in ("/targeting/ranking/", "/targeting/households/1/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_staff_find_the_page_in_the_navigation(town: Town) -> None:
    page = _text(town.cast.client("community_worker").get("/households/"))
    assert 'href="/targeting/ranking/"' in page and "贫困排序" in page


def test_the_pages_in_english(town: Town) -> None:
    client = town.cast.client("district_approver")
    client.cookies["django_language"] = "en"
    page = _text(client.get("/targeting/ranking/", {"as_of": "2025-07-01", "all": "1"}))
    for text in ("Poverty index ranking", "Rank in street", "Main factor", "Income gap",
                 "By street", "Suggested temporary assistance (yuan)"):  # fmt: skip
        assert text in page, text
    explained = _text(client.get(f"/targeting/households/{town.old.pk}/",
                                 {"as_of": "2025-07-01"}))  # fmt: skip
    for text in ("Poverty index explanation", "Scores by dimension", "Monetary assets",
                 "1,000.00 yuan", "In force from", "to be confirmed"):  # fmt: skip
        assert text in explained, text
