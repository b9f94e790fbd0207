"""Importing department feeds: all or nothing, versioned, linked to registry persons."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest
from django.test import Client

from minzheng.registry.models import Household
from minzheng.verification.models import Feed, FeedRecord, RecordLink
from tests.fixtures import Cast, pensioner

HEADER = "公民身份号码,姓名,出生日期,性别,存款余额,开户银行\n"


@pytest.fixture
def poor(cast: Cast) -> Household:
    return pensioner("800.00", "11010219500101123")


def head_id(household: Household) -> str:
    return str(household.members.get().id_number)


def upload(client: Client, content: bytes, name: str = "bank.csv", **form: Any) -> Any:
    data = {"source": "bank_deposits", "division": "110102", "describes_on": "2026-10-31",
            **form, "file": io.BytesIO(content)}  # fmt: skip
    data["file"].name = name
    return client.post("/api/v1/feeds", data=data)


def test_a_feed_is_stored_as_a_new_version_and_linked(
    cast: Cast, poor: Household, api: Callable[[str], Client]
) -> None:
    row = f"{head_id(poor)},老人,1950-01-01,男,60000.00,工商银行\n"
    r = upload(api("district_approver"), (HEADER + row).encode())
    assert r.status_code == 201, r.content
    body = r.json()
    assert body == {**body, "ok": True, "rows": 1, "version": 1, "linked": 1, "review": 0}
    link = RecordLink.objects.get()
    assert link.person == poor.members.get() and link.method == "exact"
    # the record keeps the ID number only masked and hashed
    record = FeedRecord.objects.get()
    assert record.id_number_masked.startswith("110102") and "*" in record.id_number_masked
    assert record.values == {"balance": "60000.00", "bank": "工商银行"}
    # a second file for the same source and division is version 2; version 1 stays
    assert upload(api("district_approver"), (HEADER + row).encode()).json()["version"] == 2
    assert Feed.objects.count() == 2 and FeedRecord.objects.count() == 2


@pytest.mark.parametrize(
    ("content", "form", "status", "code", "where"),
    [
        ("公民身份号码,姓名,余额\n110,张三,1\n".encode(), {}, 422, "feed.unknown_column", {"row": 1, "column": "余额"}),
        ("公民身份号码,姓名\n,张三\n".encode(), {}, 422, "feed.missing_column", {"row": 1, "column": "存款余额"}),
        (f"{HEADER}12345,张三,,,100.00,\n".encode(), {}, 422, "id_number.format", {"row": 2}),
        (f"{HEADER}, 张三,,,abc,\n".encode(), {}, 422, "feed.amount", {"row": 2, "column": "存款余额"}),
        (f"{HEADER},张三,,,1.00,\n,李四,,,2.00,\n,张三,,,1.00,\n".encode(), {}, 422, "feed.duplicate_row", {"row": 4}),
        (f"{HEADER},张三,,,1.00,\n".encode(), {"describes_on": "2099-01-01"}, 422, "feed.date_future", None),
        (f"{HEADER},张三,,,1.00,\n".encode(), {"division": "110101"}, 404, "division.not_found", None),
        (f"{HEADER},张三,,,1.00,\n".encode(), {"source": "lottery"}, 422, "feed.source_unknown", None),
        (b"MZ\x00\x01", {}, 422, "file.unreadable", None),
    ],
)  # fmt: skip
def test_bad_feeds_are_rejected_with_a_report_and_nothing_written(
    cast: Cast, api: Callable[[str], Client], content: bytes, form: dict[str, str], status: int,
    code: str, where: dict[str, Any] | None,
) -> None:  # fmt: skip
    r = upload(
        api("district_approver"),
        content,
        "bank.xlsx" if content.startswith(b"MZ") else "bank.csv",
        **form,
    )
    assert r.status_code == status, r.content
    body = r.json()
    if where is None:
        assert body["code"] == code
    else:
        assert body["code"] == "validation.failed"
        (error,) = [e for e in body["details"]["errors"] if e["code"] == code]
        assert where.items() <= error.items() and error["message"]
    assert not Feed.objects.exists() and not FeedRecord.objects.exists()


def test_only_the_district_imports_feeds(cast: Cast, api: Callable[[str], Client]) -> None:
    content = f"{HEADER},张三,,,1.00,\n".encode()
    assert upload(api("community_worker"), content).status_code == 403
    assert upload(api("auditor"), content).status_code == 403
    assert not Feed.objects.exists()


def test_parquet_and_xlsx_feeds(cast: Cast, poor: Household, api: Callable[[str], Client]) -> None:
    frame = pl.DataFrame(
        {"id_number": [head_id(poor)], "name": ["老人"], "pension_monthly": ["1200.00"]}
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    r = upload(
        api("district_approver"), buffer.getvalue(), "pension.parquet", source="social_insurance"
    )
    assert r.status_code == 201 and r.json()["linked"] == 1, r.content
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out)
    sheet = book.add_worksheet()
    for col, value in enumerate(["公民身份号码", "姓名", "房产套数"]):
        sheet.write_string(0, col, value)
    for col, value in enumerate([head_id(poor), "老人", "2"]):
        sheet.write_string(1, col, value)
    book.close()
    r = upload(api("district_approver"), out.getvalue(), "houses.xlsx", source="real_estate")
    assert r.status_code == 201 and r.json()["linked"] == 1, r.content
    assert FeedRecord.objects.get(feed__source="real_estate").values["houses"] == 2


def test_a_mistyped_id_number_is_linked_by_name_and_birth_date(
    cast: Cast, poor: Household, api: Callable[[str], Client]
) -> None:
    number = head_id(poor)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")  # wrong check digit
    row = f"{wrong},老人,1950-01-01,男,60000.00,\n"
    body = upload(api("district_approver"), (HEADER + row).encode()).json()
    assert body["linked"] + body["review"] == 1
    link = RecordLink.objects.get()
    assert link.method == "probabilistic" and link.person == poor.members.get()
    assert link.match_weight is not None


def test_control_characters_in_a_feed_are_a_row_error(
    cast: Cast, api: Callable[[str], Client]
) -> None:
    r = upload(api("district_approver"), f"{HEADER},张\x00三,,,1.00,\n".encode())
    assert r.status_code == 422
    (error,) = r.json()["details"]["errors"]
    assert (
        error["row"] == 2
        and error["column"] == "姓名"
        and error["code"] == "text.control_characters"
    )
    assert not Feed.objects.exists()
