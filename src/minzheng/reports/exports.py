"""A report's table, once, for the page, the spreadsheet (xlsxwriter) and the PDF
(``core.pdf.render_pdf``).

``table(data)`` lays a report's stored data out as columns (grouped under two header rows),
one row per programme and a total row; ``xlsx(report)`` writes it to the sheet "月度统计" (or
"年度汇总", with the months on a second sheet "分月情况") with numbers as numbers, and
``pdf(report)`` renders ``reports/report_pdf.html``. Nothing here computes a figure.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.utils import timezone

from minzheng.core.pdf import render_pdf

from .models import Report, ReportKind
from .monthly import EMPTY_MONTH, EMPTY_YEAR, PROVISIONAL

Value = int | Decimal | None


@dataclass(frozen=True)
class Column:
    group: str  # the first header row ("" when the column stands alone over both rows)
    header: str
    path: tuple[str, ...]  # where the value sits in a row of the figures
    money: bool = False
    average: bool = False


HOUSEHOLDS = "救助户数（户）"
PERSONS = "救助人数（人）"
AMOUNTS = "发放金额（元）"
KIND_HEADERS = (("regular", "当月发放"), ("arrears", "补发"), ("adjustment", "差额补发"),
                ("recovery", "追回扣减"), ("reissue", "失败重发"))  # fmt: skip

MONTHLY_COLUMNS = [
    Column(HOUSEHOLDS, "合计", ("households", "total")),
    Column(HOUSEHOLDS, "本市户籍", ("households", "beijing")),
    Column(HOUSEHOLDS, "外地户籍", ("households", "other")),
    Column(PERSONS, "合计", ("persons", "total")),
    Column(PERSONS, "本市户籍", ("persons", "beijing")),
    Column(PERSONS, "外地户籍", ("persons", "other")),
    *(Column(AMOUNTS, label, ("amounts", kind), money=True) for kind, label in KIND_HEADERS),
    Column(AMOUNTS, "应发合计", ("amounts", "approved"), money=True),
    Column(AMOUNTS, "其中本市户籍", ("amounts", "beijing"), money=True),
    Column(AMOUNTS, "其中外地户籍", ("amounts", "other"), money=True),
    Column(AMOUNTS, "发放失败", ("amounts", "failed"), money=True),
    Column(AMOUNTS, "实发金额", ("amounts", "paid"), money=True),
    Column("", "新增户数", ("new",)),
    Column("", "退出户数", ("exited",)),
]
YEARLY_COLUMNS = [
    Column("", "月均救助户数", ("households_avg",), average=True),
    *(Column(AMOUNTS, label, ("amounts", kind), money=True) for kind, label in KIND_HEADERS),
    Column(AMOUNTS, "应发合计", ("amounts", "approved"), money=True),
    Column(AMOUNTS, "发放失败", ("amounts", "failed"), money=True),
    Column(AMOUNTS, "实发金额", ("amounts", "paid"), money=True),
    Column("", "新增户数（累计）", ("new",)),
    Column("", "退出户数（累计）", ("exited",)),
]
MONTH_COLUMNS = [
    Column("", "救助户数", ("households",)),
    Column("", "应发金额（元）", ("approved",), money=True),
    Column("", "发放失败（元）", ("failed",), money=True),
    Column("", "实发金额（元）", ("paid",), money=True),
    Column("", "新增户数", ("new",)),
    Column("", "退出户数", ("exited",)),
]
FIRST_HEADER = "救助项目"
TOTAL_LABEL = "合计"

NOTES = {
    ReportKind.MONTHLY: [
        "救助户数：本月（含以后批次补发的本月）当月发放或补发的家庭，一户享受多个项目时合计行只计一次。",
        "救助人数：上述家庭在统计月末的在册成员（按户籍档案历史记录）。",
        "发放金额：本月发放批次中已审批的全部发放记录，应发合计 = 当月发放 + 补发 + 差额补发 + 追回扣减 + 失败重发；实发金额 = 应发合计 − 发放失败。",
        "新增户数：本月有当月发放而上月没有当月发放的家庭；退出户数：上月有当月发放而本月没有的家庭（按项目，临时救助不计）。",
    ],
    ReportKind.YEARLY: [
        "月均救助户数：各月救助户数之和除以统计月数；新增、退出户数为各月之和。",
        "发放金额：本年度各月发放批次中已审批的全部发放记录；实发金额 = 应发合计 − 发放失败。",
    ],
}


@dataclass
class Table:
    title: str
    subtitle: str
    columns: list[Column]
    rows: list[tuple[str, list[Value]]]
    total: tuple[str, list[Value]]
    notes: list[str] = field(default_factory=list)
    months: list[tuple[str, list[Value]]] = field(default_factory=list)


def _value(row: dict[str, Any], column: Column) -> Value:
    value: Any = row
    for key in column.path:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        return None
    if column.money or column.average:
        return Decimal(str(value))
    return int(value)


def _period_label(data: dict[str, Any]) -> str:
    year, _, month = str(data["period"]).partition("-")
    return f"{year}年{int(month)}月" if month else f"{year}年"


def title_of(data: dict[str, Any]) -> str:
    what = "社会救助统计月报" if data["kind"] == ReportKind.MONTHLY else "社会救助年度汇总"
    return f"{data['division']['full_name']}{what}（{_period_label(data)}）"


def table(data: dict[str, Any]) -> Table:
    """The report laid out for people: a row per programme in the stored layout (zeros where
    nothing was paid), the total row, notes on what the figures count."""
    monthly = data["kind"] == ReportKind.MONTHLY
    columns = MONTHLY_COLUMNS if monthly else YEARLY_COLUMNS
    figures = data["figures"]
    one_off = set(data.get("one_off", []))
    rows = [
        (data["labels"].get(pid, pid),
         [_value(figures["programmes"][pid], c) if pid in figures["programmes"]
          else _zero(c, pid in one_off) for c in columns])
        for pid in data["layout"]
    ]  # fmt: skip
    total = (TOTAL_LABEL, [_value(figures["total"], c) for c in columns])
    division = data["division"]
    subtitle = (f"统计范围：{division['full_name']}（{division['code']}）　统计期：{_period_label(data)}"
                f"　数据截至：{data['as_of']}")  # fmt: skip
    notes = []
    if data.get("empty"):
        notes.append(EMPTY_MONTH if monthly else EMPTY_YEAR)
    if data.get("provisional"):
        notes.append(PROVISIONAL)
    notes += NOTES[ReportKind(data["kind"])]
    if data.get("registered_late"):
        notes.append(f"其中 {data['registered_late']} 户在统计月末尚未登记（补发或存量迁移），"
                     "人数和户籍按报表生成时的登记信息统计。")  # fmt: skip
    if data.get("runs"):
        notes.append("数据来源（发放批次）：" + "、".join(data["runs"]))
    months = [(f"{m['period']}", [_value(m, c) for c in MONTH_COLUMNS])
              for m in figures.get("months", [])]  # fmt: skip
    return Table(title_of(data), subtitle, list(columns), rows, total, notes, months)


def _zero(column: Column, one_off: bool) -> Value:
    """A programme without figures shows zeros (a one-off programme: no new/exited)."""
    if column.money or column.average:
        return Decimal("0.00")
    if one_off and column.path in (("new",), ("exited",)):
        return None
    return 0


def text(value: Value, column: Column) -> str:
    """A cell as a page or the PDF shows it: amounts to the fen with thousands separators."""
    if value is None:
        return "—"
    if column.money or column.average:
        return f"{value:,.2f}"
    return f"{value}"


def header_rows(columns: list[Column]) -> tuple[list[dict[str, Any]], list[str]]:
    """The two header rows: groups (with their span) and lone columns over both rows, then
    the grouped columns' own headers."""
    top: list[dict[str, Any]] = [{"label": FIRST_HEADER, "colspan": 1, "rowspan": 2}]
    second: list[str] = []
    for column in columns:
        if not column.group:
            top.append({"label": column.header, "colspan": 1, "rowspan": 2})
        elif top[-1]["label"] == column.group and top[-1]["rowspan"] == 1:
            top[-1]["colspan"] += 1
            second.append(column.header)
        else:
            top.append({"label": column.group, "colspan": 1, "rowspan": 1})
            second.append(column.header)
    return top, second


def page_context(data: dict[str, Any]) -> dict[str, Any]:
    """Display values for the page and the PDF (the templates compute nothing)."""
    t = table(data)
    top, second = header_rows(t.columns)

    def cells(values: list[Value], columns: list[Column]) -> list[dict[str, Any]]:
        return [{"text": text(v, c), "num": True} for v, c in zip(values, columns, strict=True)]

    return {
        "title": t.title,
        "subtitle": t.subtitle,
        "top": top,
        "second": second,
        "rows": [{"label": label, "cells": cells(values, t.columns)} for label, values in t.rows],
        "total": {"label": t.total[0], "cells": cells(t.total[1], t.columns)},
        "notes": t.notes,
        "month_headers": [c.header for c in MONTH_COLUMNS],
        "months": [
            {"label": label, "cells": cells(values, MONTH_COLUMNS)} for label, values in t.months
        ],
        "empty": bool(data.get("empty")),
        "empty_message": EMPTY_MONTH if data["kind"] == ReportKind.MONTHLY else EMPTY_YEAR,
        "provisional": bool(data.get("provisional")),
        "provisional_message": PROVISIONAL,
        "as_of": data["as_of"],
        "column_count": len(t.columns) + 1,
    }


def who(report: Report) -> str:
    user = report.generated_by
    if user is None:
        return "系统"
    return user.get_full_name() or user.username


def generated_text(report: Report) -> str:
    return f"{timezone.localtime(report.generated_at):%Y-%m-%d %H:%M}"


def file_name(report: Report, extension: str) -> str:
    """ASCII file names (the title is inside the file): ``report-monthly-110102-2026-11.xlsx``."""
    return f"report-{report.kind}-{report.division.code}-{report.data['period']}.{extension}"


# -- xlsx -------------------------------------------------------------------------------------


def _write_table(sheet: Any, columns: list[Column], first_row: int,
                 rows: list[tuple[str, list[Value]]], total: tuple[str, list[Value]],
                 formats: dict[str, Any]) -> int:  # fmt: skip
    """Two header rows, the body and the total row from ``first_row``; returns the next row."""
    top, second = header_rows(columns)
    col = 0
    for cell in top:
        last_col = col + cell["colspan"] - 1
        last_row = first_row + cell["rowspan"] - 1
        if last_col > col or last_row > first_row:
            sheet.merge_range(first_row, col, last_row, last_col, cell["label"], formats["head"])
        else:
            sheet.write_string(first_row, col, cell["label"], formats["head"])
        col = last_col + 1
    grouped = [k + 1 for k, c in enumerate(columns) if c.group]
    for k, header in zip(grouped, second, strict=True):
        sheet.write_string(first_row + 1, k, header, formats["head"])
    r = first_row + 2
    lines = [(label, values, "") for label, values in rows] + [(*total, "total_")]
    for label, values, prefix in lines:
        sheet.write_string(r, 0, label, formats[f"{prefix}label"])
        for k, (value, column) in enumerate(zip(values, columns, strict=True), start=1):
            style = "money" if column.money else "average" if column.average else "count"
            if value is None:
                sheet.write_string(r, k, "—", formats[f"{prefix}count"])
            else:
                sheet.write_number(r, k, float(value), formats[f"{prefix}{style}"])
        r += 1
    return r


def xlsx(report: Report) -> bytes:
    """The report as a workbook: a title row, the scope and date row, two header rows,
    the programmes, the total row and the notes."""
    data = report.data
    t = table(data)
    monthly = data["kind"] == ReportKind.MONTHLY
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    border = {"border": 1, "valign": "vcenter"}
    formats = {
        "title": book.add_format({"bold": True, "font_size": 14, "align": "center"}),
        "sub": book.add_format({"font_size": 10}),
        "head": book.add_format(
            {**border, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#DCE6F1"}
        ),
        "label": book.add_format(border),
        "total_label": book.add_format({**border, "bold": True}),
        "count": book.add_format({**border, "num_format": "0"}),
        "money": book.add_format({**border, "num_format": "#,##0.00"}),
        "average": book.add_format({**border, "num_format": "0.00"}),
        "total_count": book.add_format({**border, "bold": True, "num_format": "0"}),
        "total_money": book.add_format({**border, "bold": True, "num_format": "#,##0.00"}),
        "total_average": book.add_format({**border, "bold": True, "num_format": "0.00"}),
        "note": book.add_format({"font_size": 9, "font_color": "#333333"}),
    }
    sheet = book.add_worksheet("月度统计" if monthly else "年度汇总")
    width = len(t.columns)
    sheet.merge_range(0, 0, 0, width, t.title, formats["title"])
    sheet.merge_range(1, 0, 1, width, t.subtitle + f"　生成：{who(report)} "
                      f"{generated_text(report)}", formats["sub"])  # fmt: skip
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, width, 12)
    sheet.set_row(3, 30)
    r = _write_table(sheet, t.columns, 2, t.rows, t.total, formats)
    for note in t.notes:
        r += 1
        sheet.write_string(r, 0, note, formats["note"])
    sheet.freeze_panes(4, 1)
    if not monthly:
        months = book.add_worksheet("分月情况")
        months.merge_range(0, 0, 0, len(MONTH_COLUMNS), t.title + " 分月情况", formats["title"])
        months.set_column(0, 0, 12)
        months.set_column(1, len(MONTH_COLUMNS), 14)
        _write_month_table(months, t, formats)
    book.close()
    return out.getvalue()


def _write_month_table(sheet: Any, t: Table, formats: dict[str, Any]) -> None:
    sheet.write_string(1, 0, "月份", formats["head"])
    for k, column in enumerate(MONTH_COLUMNS, start=1):
        sheet.write_string(1, k, column.header, formats["head"])
    for r, (label, values) in enumerate(t.months, start=2):
        sheet.write_string(r, 0, label, formats["label"])
        for k, (value, column) in enumerate(zip(values, MONTH_COLUMNS, strict=True), start=1):
            sheet.write_number(
                r, k, float(value or 0), formats["money" if column.money else "count"]
            )


# -- PDF --------------------------------------------------------------------------------------


def pdf(report: Report) -> bytes:
    """The report as a PDF: the same table, the title, 数据截至, who generated it and when."""
    context = page_context(report.data)
    context |= {
        "office": _office(report.data),
        "generated_by": who(report),
        "generated_at": generated_text(report),
    }
    return render_pdf("reports/report_pdf.html", context)


def _office(data: dict[str, Any]) -> str:
    district = data["division"].get("district") or ""
    return f"北京市{district}民政局" if district else "北京市民政局"
