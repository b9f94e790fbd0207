"""Importing a department feed: read, validate every row, then write it as a new version
and link its records to registry persons — all or nothing.

Errors name the row as the department's file shows it (header = row 1), the column and
the reason, in Chinese, with a stable code.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import Max

from minzheng.accounts import access
from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.core.crypto import encrypt, lookup_hash
from minzheng.core.errors import ApplicationError, PermissionDenied, ValidationFailed
from minzheng.core.ids import check_char, mask_id_number
from minzheng.core.money import MoneyError, parse_amount
from minzheng.core.text import has_control_characters
from minzheng.registry.models import Division
from minzheng.registry.spreadsheet import SheetError, cell_text, decode_text
from minzheng.verification.layouts import IDENTITY, LAYOUTS, Field, Layout, headers_of
from minzheng.verification.models import Feed, FeedRecord, LinkStatus, RecordLink
from minzheng.verification.selectors import persons_frame

FEED_IMPORTERS = frozenset({Role.DISTRICT_APPROVER, Role.ADMIN})
MAX_ROWS = 2_000_000
MAX_ERRORS = 200
ID_FORMAT = re.compile(r"^\d{17}[\dX]$")
_YES = {"是", "有", "y", "yes", "true", "1"}
_NO = {"否", "无", "n", "no", "false", "0"}
_SEX = {"男": "M", "女": "F", "M": "M", "F": "F", "m": "M", "f": "F"}


@dataclass
class FeedReport:
    ok: bool
    rows: int
    feed: int | None = None
    version: int | None = None
    linked: int = 0
    review: int = 0
    dry_run: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows": self.rows, "feed": self.feed, "version": self.version,
                "linked": self.linked, "review": self.review, "dry_run": self.dry_run,
                "errors": self.errors}  # fmt: skip


def read_table(content: bytes, file_name: str) -> list[dict[str, str]]:
    """Every data row as {header: text} from CSV, XLSX or Parquet."""
    name = file_name.lower()
    if not content:
        raise ApplicationError("file.empty", "文件为空", status=422)
    try:
        if name.endswith(".parquet"):
            frame = pl.read_parquet(io.BytesIO(content))
            return [{k: _text(v) for k, v in row.items()}
                    for row in frame.cast(pl.Utf8).iter_rows(named=True)]  # fmt: skip
        if name.endswith(".xlsx"):
            import fastexcel

            sheet = fastexcel.read_excel(content).load_sheet(0, dtypes="string").to_arrow()
            return [{k: _text(v) for k, v in row.items() if not k.startswith("__UNNAMED__")}
                    for row in sheet.to_pylist()]  # fmt: skip
        if name.endswith(".csv"):
            try:
                text = decode_text(content)
            except SheetError as exc:
                raise ApplicationError(exc.code, exc.message, status=422) from None
            reader = csv.DictReader(io.StringIO(text))
            rows = []
            for row in reader:
                if None in row:
                    raise ApplicationError("file.extra_cells",
                                           f"第 {reader.line_num} 行的列数多于表头", status=422)  # fmt: skip
                rows.append({(k or "").strip(): _text(v) for k, v in row.items()})
            if reader.fieldnames is None:
                raise ApplicationError("file.no_header", "文件没有表头行", status=422)
            return rows
    except ApplicationError:
        raise
    except Exception as exc:
        raise ApplicationError(
            "file.unreadable", f"无法读取文件：{str(exc)[:120]}", status=422
        ) from None
    raise ApplicationError("file.type", "只支持 .csv、.xlsx 或 .parquet 文件", status=422)


def _text(value: Any) -> str:
    """A cell as text; "null" as a department writes it is empty, as in the registry's
    templates "nan" and "none" are."""
    text = cell_text(value)
    return "" if text.lower() == "null" else text


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, row: int, column: str, code: str, message: str) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append({"row": row, "column": column, "code": code, "message": message})


def _check_headers(layout: Layout, headers: list[str]) -> dict[str, Field]:
    known = headers_of(layout)
    unknown = [h for h in headers if h not in known]
    if unknown:
        raise ValidationFailed(
            [{"row": 1, "column": h, "code": "feed.unknown_column",
              "message": f"无法识别的列：{h}（{layout.label}的列见数据格式说明）"} for h in unknown],
            "表头不符合数据格式",
        )  # fmt: skip
    present = {known[h].key for h in headers}
    missing = [f for f in (*IDENTITY, *layout.fields) if f.required and f.key not in present]
    if missing:
        raise ValidationFailed(
            [{"row": 1, "column": f.header, "code": "feed.missing_column",
              "message": f"缺少必填列：{f.header}"} for f in missing],
            "表头不符合数据格式",
        )  # fmt: skip
    return {h: known[h] for h in headers}


def _parse_value(f: Field, raw: str, row: int, errors: _Errors) -> Any:
    if raw == "":
        if f.required:
            errors.add(row, f.header, "feed.required", f"{f.header}不能为空")
        return None
    if f.kind == "money":
        try:
            return str(parse_amount(raw))
        except MoneyError as exc:
            errors.add(row, f.header, "feed.amount", f"{f.header}无效：{exc}")
    elif f.kind == "int":
        if raw.isdigit() and int(raw) < 1000:
            return int(raw)
        errors.add(row, f.header, "feed.int", f"{f.header}应为非负整数：{raw}")
    elif f.kind == "bool":
        if raw.lower() in _YES:
            return True
        if raw.lower() in _NO:
            return False
        errors.add(row, f.header, "feed.bool", f"{f.header}应为“是”或“否”：{raw}")
    else:
        return raw[:200]
    return None


@dataclass
class _Row:
    row: int
    id_number: str
    id_valid: bool
    name: str
    birth_date: date | None
    sex: str
    address: str
    values: dict[str, Any]


def _parse_rows(layout: Layout, rows: list[dict[str, str]], describes_on: date) -> list[_Row]:
    if not rows:
        raise ValidationFailed([{"row": 1, "column": "", "code": "feed.empty",
                                 "message": "文件没有数据行"}], "文件没有数据行")  # fmt: skip
    if len(rows) > MAX_ROWS:
        raise ValidationFailed([{"row": 1, "column": "", "code": "feed.too_many_rows",
                                 "message": f"单个文件不超过 {MAX_ROWS:,} 行"}], "文件过大")  # fmt: skip
    columns = _check_headers(layout, list(rows[0].keys()))
    errors = _Errors()
    parsed: list[_Row] = []
    seen: dict[tuple[str, ...], int] = {}
    for index, raw in enumerate(rows, start=2):
        cells = {columns[h].key: v for h, v in raw.items()}
        bad = [columns[h].header for h, v in raw.items() if has_control_characters(v)]
        for header in bad:
            errors.add(index, header, "text.control_characters", f"{header}不能包含控制字符")
        if bad:
            continue
        key = tuple(cells.get(f.key, "") for f in (*IDENTITY, *layout.fields))
        if key in seen:
            errors.add(index, "", "feed.duplicate_row", f"与第 {seen[key]} 行完全重复")
            continue
        seen[key] = index
        number = cells.get("id_number", "").upper()
        valid = False
        if number:
            if not ID_FORMAT.match(number):
                errors.add(index, "公民身份号码", "id_number.format",
                           f"身份证号码格式无法识别：{number[:20]}（应为 18 位）")  # fmt: skip
            else:
                valid = check_char(number[:17]) == number[17]
        name = cells.get("name", "")
        if not name:
            errors.add(index, "姓名", "feed.required", "姓名不能为空")
        born = None
        if cells.get("birth_date"):
            try:
                born = date.fromisoformat(cells["birth_date"].replace("/", "-")[:10])
            except ValueError:
                errors.add(index, "出生日期", "field.date_parsing", "出生日期格式应为 YYYY-MM-DD")
            else:
                if born > describes_on:
                    errors.add(index, "出生日期", "feed.birth_future", "出生日期晚于数据日期")
        sex = cells.get("sex", "")
        if sex and sex not in _SEX:
            errors.add(index, "性别", "feed.sex", f"性别应为“男”或“女”：{sex}")
        values = {
            f.key: _parse_value(f, cells.get(f.key, ""), index, errors) for f in layout.fields
        }
        parsed.append(_Row(index, number, valid, name[:64], born, _SEX.get(sex, ""),
                           cells.get("address", "")[:200], values))  # fmt: skip
    if errors.items:
        raise ValidationFailed(
            errors.items, f"数据校验未通过：{len(errors.items)} 处错误，未导入任何数据"
        )
    return parsed


def records_frame(rows: list[tuple[int, str, str, date | None, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": [r[0] for r in rows],
            "id_number": [r[1] or None for r in rows],
            "name": [r[2] for r in rows],
            "birth_date": [r[3] for r in rows],
            "sex": [r[4] or None for r in rows],
            "address": [r[5] or None for r in rows],
        },
        schema={"record_id": pl.Int64, "id_number": pl.Utf8, "name": pl.Utf8,
                "birth_date": pl.Date, "sex": pl.Utf8, "address": pl.Utf8},
    )  # fmt: skip


def link_records(records: pl.DataFrame, division: Division) -> list[RecordLink]:
    """Links (unsaved) for ``records`` against the registry below ``division``."""
    from minzheng.verification.linkage import link

    persons = persons_frame(division)
    if records.is_empty() or persons.is_empty():
        return []
    found = link(records, persons)
    return [
        RecordLink(record_id=r["record_id"], person_id=r["person_id"], method=r["method"],
                   match_weight=r["match_weight"], match_probability=min(max(r["match_probability"], 0.0), 1.0),
                   status=LinkStatus.AUTO if r["status"] == "auto" else LinkStatus.REVIEW)
        for r in found.iter_rows(named=True)
    ]  # fmt: skip


def feed_import(
    *,
    actor: User,
    source: str,
    division_code: str,
    describes_on: date,
    file_name: str,
    content: bytes,
    dry_run: bool = False,
    today: date | None = None,
) -> FeedReport:
    """Validate a department file; unless ``dry_run``, store it as the next version and link it."""
    if actor.role not in FEED_IMPORTERS:
        raise PermissionDenied("feed.importers_only", "部门数据由区级核对机构（区级审批员）导入")
    layout = LAYOUTS.get(source)
    if layout is None:
        raise ApplicationError("feed.source_unknown", f"未知数据来源：{source}",
                               {"field": "source", "known": list(LAYOUTS)}, status=422)  # fmt: skip
    division = access.access_division_by_code(actor, division_code)
    today = today or date.today()
    if describes_on > today:
        raise ApplicationError("feed.date_future", f"数据日期 {describes_on} 晚于今天",
                               {"field": "describes_on"}, status=422)  # fmt: skip
    rows = read_table(content, file_name)
    parsed = _parse_rows(layout, rows, describes_on)
    report = FeedReport(ok=True, rows=len(parsed), dry_run=dry_run)
    if dry_run:
        return report
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        latest = Feed.objects.select_for_update().filter(source=source, division=division)
        version = (latest.aggregate(v=Max("version"))["v"] or 0) + 1
        feed = Feed.objects.create(source=source, division=division, version=version,
                                   describes_on=describes_on, file_name=file_name[:120],
                                   sha256=digest, rows=len(parsed), imported_by=actor)  # fmt: skip
        FeedRecord.objects.bulk_create(
            [FeedRecord(feed=feed, row=r.row,
                        id_number_hash=lookup_hash(r.id_number) if r.id_valid else "",
                        id_number_masked=mask_id_number(r.id_number) if r.id_number else "",
                        id_number_encrypted=encrypt(r.id_number) if r.id_number and not r.id_valid else "",
                        id_valid=r.id_valid, name=r.name, birth_date=r.birth_date, sex=r.sex,
                        address=r.address, values=r.values)
             for r in parsed],
            batch_size=5000,
        )  # fmt: skip
        ids = dict(FeedRecord.objects.filter(feed=feed).values_list("row", "pk"))
        frame = records_frame([(ids[r.row], r.id_number, r.name, r.birth_date, r.sex, r.address)
                               for r in parsed])  # fmt: skip
        links = link_records(frame, division)
        RecordLink.objects.bulk_create(links, batch_size=5000)
        feed.linked = sum(1 for ln in links if ln.status == LinkStatus.AUTO)
        feed.review = sum(1 for ln in links if ln.status == LinkStatus.REVIEW)
        feed.save(update_fields=["linked", "review"])
    report.feed, report.version, report.linked, report.review = (
        feed.pk,
        version,
        feed.linked,
        feed.review,
    )
    return report
