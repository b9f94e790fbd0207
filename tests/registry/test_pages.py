"""Every page renders for a user in scope, in Chinese, and bad input never gives a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from minzheng.accounts.models import AccessLog
from tests.fixtures import COMMUNITY_B, Cast


def test_login_page_is_chinese() -> None:
    page = Client().get("/accounts/login/")
    assert page.status_code == 200
    assert "工作人员登录" in page.content.decode()


def test_anonymous_users_are_sent_to_login(db: None) -> None:
    response = Client().get("/households/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_search_page_lists_households_in_scope_and_htmx_gets_the_fragment(cast: Cast) -> None:
    client = cast.client("district_approver")
    full = client.get("/households/", {"name": "李"}).content.decode()
    assert "家庭查询" in full and cast.other_street.number in full and "共 1 户" in full
    assert cast.own.number not in full
    fragment = client.get("/households/", {"name": "李"}, HTTP_HX_REQUEST="true").content.decode()
    assert cast.other_street.number in fragment and "<html" not in fragment
    by_division = client.get("/households/", {"division": COMMUNITY_B}).content.decode()
    assert cast.other_street.number in by_division and cast.own.number not in by_division


@pytest.mark.parametrize(
    "query", [{"id_number": "123"}, {"division": "999999"}, {"page": "abc"}, {"name": "x" * 100}]
)
def test_bad_search_input_is_explained_not_a_500(cast: Cast, query: dict[str, str]) -> None:
    response = cast.client("community_worker").get("/households/", query)
    assert response.status_code == 200


def test_detail_masks_ids_logs_the_read_and_reveals_with_a_reason(cast: Cast) -> None:
    client = cast.client("community_worker")
    head = cast.own.members.get()
    page = client.get(f"/households/{cast.own.pk}/").content.decode()
    assert head.id_number_masked in page and head.id_number not in page
    assert AccessLog.objects.filter(person=head, action="view").count() == 1
    revealed = client.post(
        f"/households/{cast.own.pk}/", {"reason": "核对申请材料"}
    ).content.decode()
    assert head.id_number in revealed
    assert AccessLog.objects.filter(person=head, action="reveal", reason="核对申请材料").exists()


def test_edit_requires_a_reason_and_shows_it_in_history(cast: Cast) -> None:
    client = cast.client("community_worker")
    url = f"/households/{cast.own.pk}/edit/"
    form = {
        "address": "新地址2号",
        "hukou": "beijing",
        "deposits": "100.00",
        "securities": "0",
        "houses": "1",
        "vehicles": "0",
    }
    refused = client.post(url, {**form, "reason": ""})
    assert refused.status_code == 200 and "请填写修改原因" in refused.content.decode()
    cast.own.refresh_from_db()
    assert cast.own.address != "新地址2号"
    negative = client.post(url, {**form, "deposits": "-1", "reason": "核实"})
    assert negative.status_code == 200
    saved = client.post(url, {**form, "reason": "入户核实"}, follow=True).content.decode()
    assert "新地址2号" in saved and "入户核实" in saved and "u_community_worker" in saved


def test_readers_cannot_open_the_edit_page(cast: Cast) -> None:
    response = cast.client("auditor").get(f"/households/{cast.own.pk}/edit/", follow=True)
    assert "只能查看" in response.content.decode()


def test_import_page_template_download_and_access_log_page(cast: Cast) -> None:
    client = cast.client("community_worker")
    assert "批量导入" in client.get("/households/import/").content.decode()
    template = client.get("/households/import/template.xlsx")
    assert template.status_code == 200 and template.content.startswith(b"PK")
    assert client.get("/households/import/errors/nope.xlsx").status_code == 404
    assert cast.client("community_worker").get("/accounts/access-log/").status_code == 403
    auditor_page = cast.client("auditor").get("/accounts/access-log/")
    assert auditor_page.status_code == 200 and "档案查阅日志" in auditor_page.content.decode()


def test_import_upload_shows_errors_and_offers_the_report(cast: Cast) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = cast.client("community_worker")
    bad = "户编号,所属区划代码,户籍类型,姓名,公民身份号码,与户主关系\nX1,110102009001,本市户籍,钱八,110102195001010010,户主\n"
    page = client.post("/households/import/", {"file": SimpleUploadedFile("bad.csv", bad.encode())})
    html = page.content.decode()
    assert "导入被拒绝" in html and "身份证号码校验位错误" in html
    report_link = html.split('id="error-report" href="')[1].split('"')[0]
    report = client.get(report_link)
    assert report.status_code == 200 and report.content.startswith(b"PK")
    not_sheet = client.post("/households/import/", {"file": SimpleUploadedFile("x.xlsx", b"hello")})
    assert "不是有效的 Excel" in not_sheet.content.decode()


def test_pages_are_chinese_first_and_english_on_request(cast: Cast) -> None:
    client = cast.client("community_worker")
    chinese = client.get("/households/").content.decode()
    assert "家庭查询" in chinese and 'lang="zh-CN"' in chinese
    client.post("/i18n/setlang/", {"language": "en", "next": "/households/"})
    english = client.get("/households/").content.decode()
    assert "Households" in english and "Sign out" in english and 'lang="en"' in english
    detail = client.get(f"/households/{cast.own.pk}/").content.decode()
    assert "Household members" in detail and "Change history" in detail
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/households/"})
    assert "家庭查询" in client.get("/households/").content.decode()


def test_an_english_browser_still_gets_chinese_until_the_user_switches(cast: Cast) -> None:
    client = cast.client("community_worker")
    page = client.get("/households/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "家庭查询" in page


def test_navigation_offers_only_what_the_role_may_do(cast: Cast) -> None:
    worker = cast.client("community_worker").get("/households/").content.decode()
    auditor = cast.client("auditor").get("/households/").content.decode()
    assert 'href="/households/import/"' in worker and 'href="/accounts/access-log/"' not in worker
    assert 'href="/households/import/"' not in auditor and 'href="/accounts/access-log/"' in auditor
