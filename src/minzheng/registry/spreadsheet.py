"""The household spreadsheet template (Chinese headers), one row per person.

Rows sharing a ``户编号`` form one household; the household's own columns (division,
hukou, address, assets, expenses) are read from its first row and must be blank or
identical on the others. Import and export use exactly these columns.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import fastexcel
import xlsxwriter
from django.db import models

from minzheng.registry.vocab import (
    DisabilityKind,
    Employment,
    Health,
    Hukou,
    IncomeType,
    Relation,
    Schooling,
    Sex,
    Status,
)

HOUSEHOLD_KEY = "户编号"
ERROR_COLUMN = "错误说明"


@dataclass(frozen=True)
class Column:
    header: str
    path: str  # where the value goes in the household document
    level: str  # "household" or "member"
    required: bool = False
    choices: type[models.TextChoices] | None = None
    hint: str = ""


INCOME_COLUMNS = [
    Column(f"月收入-{t.label}", f"incomes.{t.value}", "member", hint="元/月") for t in IncomeType
]
COLUMNS: list[Column] = [
    Column(HOUSEHOLD_KEY, "id", "household", required=True, hint="同一户各成员填写相同编号"),
    Column("所属区划代码", "division", "household", required=True, hint="社区12位代码"),
    Column("户籍类型", "hukou", "household", required=True, choices=Hukou),
    Column("住址", "address", "household"),
    Column("姓名", "name", "member", required=True),
    Column("公民身份号码", "id_number", "member", required=True, hint="18位，请设置为文本格式"),
    Column("与户主关系", "relation", "member", required=True, choices=Relation),
    Column("性别", "sex", "member", choices=Sex, hint="可不填，须与身份证一致"),
    Column("出生日期", "birth_date", "member", hint="YYYY-MM-DD，可不填"),
    Column("联系电话", "phone", "member"),
    Column("残疾类别", "disability.kind", "member", choices=DisabilityKind),
    Column("残疾等级", "disability.grade", "member", hint="1–4"),
    Column("健康状况", "health", "member", choices=Health),
    Column("就业状况", "employment", "member", choices=Employment),
    Column("在学情况", "schooling", "member", choices=Schooling),
    Column("特殊身份", "statuses", "member", choices=Status, hint="多个用顿号或逗号分隔"),
    *INCOME_COLUMNS,
    Column("存款", "assets.deposits", "household", hint="元"),
    Column("有价证券", "assets.securities", "household", hint="元"),
    Column("房产套数", "assets.houses", "household"),
    Column("机动车数", "assets.vehicles", "household"),
    Column("经营实体", "assets.business", "household", hint="是/否"),
    Column("月医疗支出", "expenses.medical_monthly", "household", hint="元"),
    Column("月教育支出", "expenses.education_monthly", "household", hint="元"),
]
HEADERS = [c.header for c in COLUMNS]
BY_HEADER = {c.header: c for c in COLUMNS}
BY_PATH = {c.path: c for c in COLUMNS}


class SheetError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def read_rows(content: bytes, filename: str) -> list[dict[str, str]]:
    """Every data row as {header: text}; raises SheetError for files that are not a table."""
    name = filename.lower()
    if not content:
        raise SheetError("file.empty", "文件为空")
    if name.endswith(".xlsx"):
        if not content.startswith(b"PK"):
            raise SheetError("file.not_spreadsheet", "文件不是有效的 Excel（.xlsx）表格")
        try:
            reader = fastexcel.read_excel(content)
            arrow = reader.load_sheet(0, dtypes="string").to_arrow()
        except Exception as exc:  # calamine's errors are not typed
            raise SheetError(
                "file.not_spreadsheet", f"无法读取 Excel 文件：{str(exc)[:100]}"
            ) from None
        table = arrow.to_pylist()
        # the schema names the header cells even when the sheet has no data rows
        _check_headers([h for h in arrow.schema.names if h and not h.startswith("__UNNAMED__")])
        return [{k: cell_text(v) for k, v in row.items()} for row in table]
    if name.endswith(".csv"):
        text = decode_text(content)
        reader_csv = csv.DictReader(io.StringIO(text))
        headers = [h.strip() for h in (reader_csv.fieldnames or [])]
        _check_headers(headers)
        reader_csv.fieldnames = headers
        rows = []
        for row in reader_csv:
            if None in row:
                raise SheetError("file.extra_cells", f"第 {reader_csv.line_num} 行的列数多于表头")
            rows.append({k: cell_text(v) for k, v in row.items()})
        return rows
    raise SheetError("file.type", "只支持 .xlsx 或 .csv 文件")


def decode_text(content: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM), else GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError("file.encoding", "无法识别文件编码，请另存为 UTF-8 的 CSV 或 .xlsx")


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    return "" if text.lower() in {"nan", "none"} else text


def _check_headers(headers: list[str]) -> None:
    if not headers:
        raise SheetError("file.no_header", "文件没有表头行")
    unknown = [h for h in headers if h not in BY_HEADER and h != ERROR_COLUMN]
    if unknown:
        raise SheetError(
            "file.unknown_columns", f"无法识别的列：{'、'.join(unknown)}（请使用导入模板）"
        )
    missing = [c.header for c in COLUMNS if c.required and c.header not in headers]
    if missing:
        raise SheetError("file.missing_columns", f"缺少必填列：{'、'.join(missing)}")


def write_xlsx(
    rows: list[dict[str, str]],
    *,
    errors_by_row: dict[int, list[tuple[str, str]]] | None = None,
) -> bytes:
    """The template with ``rows``; with ``errors_by_row`` ({sheet row: [(column, message)]})
    an error column is added and erroneous cells are marked, ready to fix and re-upload."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet("家庭成员")
    head = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    required = book.add_format({"bold": True, "bg_color": "#F8CBAD", "border": 1})
    text = book.add_format({"num_format": "@"})
    bad = book.add_format({"num_format": "@", "bg_color": "#FFC7CE", "font_color": "#9C0006"})
    note = book.add_format({"font_color": "#9C0006", "text_wrap": True})
    headers = ([ERROR_COLUMN] if errors_by_row is not None else []) + HEADERS
    for col, header in enumerate(headers):
        column = BY_HEADER.get(header)
        sheet.write_string(0, col, header, required if column and column.required else head)
        sheet.set_column(
            col, col, 30 if header == ERROR_COLUMN else max(10, len(header) * 2 + 2), text
        )
        if column and (column.hint or column.choices):
            tip = column.hint
            if column.choices:
                tip = (
                    (tip + "；" if tip else "")
                    + "可选："
                    + "、".join(str(c.label) for c in column.choices)
                )
            sheet.write_comment(0, col, tip)
    sheet.freeze_panes(1, 1)
    for r, row in enumerate(rows, start=1):
        sheet_row = r + 1  # as a user sees it: the header is row 1
        errs = (errors_by_row or {}).get(sheet_row, [])
        bad_columns = {c for c, _ in errs}
        offset = 0
        if errors_by_row is not None:
            sheet.write_string(r, 0, "；".join(f"{c}：{m}" for c, m in errs), note)
            offset = 1
        for col, header in enumerate(HEADERS):
            value = row.get(header, "")
            sheet.write_string(r, col + offset, value, bad if header in bad_columns else text)
    book.close()
    return out.getvalue()


def write_csv(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HEADERS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")
