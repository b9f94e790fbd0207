"""Import and export of households through the spreadsheet template: all or nothing."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from pydantic import ValidationError

from minzheng.accounts import access
from minzheng.accounts.errors import AccessErrorCode
from minzheng.accounts.models import AccessAction, AccessLog
from minzheng.core.errors import PermissionDenied, ValidationFailed
from minzheng.core.money import format_amount
from minzheng.registry import services
from minzheng.registry.documents import HouseholdDoc, errors_from_pydantic
from minzheng.registry.models import Household, Person
from minzheng.registry.selectors import latest_incomes
from minzheng.registry.spreadsheet import (
    BY_PATH,
    COLUMNS,
    HOUSEHOLD_KEY,
    SheetError,
    read_rows,
    write_csv,
    write_xlsx,
)
from minzheng.registry.vocab import IncomeType, label_to_code

if TYPE_CHECKING:
    from minzheng.accounts.models import User

MAX_ROWS = 200_000
_SPLIT = re.compile(r"[、,，;；\s]+")
_YES = {"是", "有", "y", "yes", "true", "1"}
_NO = {"否", "无", "n", "no", "false", "0", ""}


@dataclass
class ImportReport:
    ok: bool
    rows: int
    households: int = 0
    persons: int = 0
    dry_run: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)
    source_rows: list[dict[str, str]] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "households": self.households,
            "persons": self.persons,
            "dry_run": self.dry_run,
            "errors": self.errors,
        }

    def error_workbook(self) -> bytes:
        by_row: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for e in self.errors:
            if e.get("row"):
                by_row[e["row"]].append((e["column"], e["message"]))
        return write_xlsx(self.source_rows, errors_by_row=dict(by_row))


class _Errors:
    """Collects errors, at most one per (row, column) so a bad cell is named once."""

    def __init__(self) -> None:
        self.items: dict[tuple[int, str], dict[str, Any]] = {}

    def add(self, row: int, column: str, code: str, message: str) -> None:
        self.items.setdefault(
            (row, column), {"row": row, "column": column, "code": code, "message": message}
        )

    def sorted(self) -> list[dict[str, Any]]:
        return sorted(self.items.values(), key=lambda e: (e["row"], e["column"]))


@dataclass
class _Group:
    key: str
    rows: list[int]  # sheet row numbers (header = 1)
    income_types: list[list[str]]  # per member, the income types in document order


_CHOICE_MAPS = {c.path: label_to_code(c.choices) for c in COLUMNS if c.choices is not None}


def _member_from_row(
    row: dict[str, str], sheet_row: int, errors: _Errors
) -> tuple[dict[str, Any], list[str]]:
    member: dict[str, Any] = {}
    for column in COLUMNS:
        if column.level != "member":
            continue
        raw = row.get(column.header, "")
        if column.path.startswith("incomes.") or column.path.startswith("disability."):
            continue
        if not raw:
            if column.required:
                errors.add(sheet_row, column.header, "field.missing", "必填项不能为空")
            continue
        if column.path == "statuses":
            mapping = _CHOICE_MAPS["statuses"]
            values = [v for v in _SPLIT.split(raw) if v]
            unknown = [v for v in values if v not in mapping]
            if unknown:
                errors.add(
                    sheet_row,
                    column.header,
                    "field.enum",
                    _choice_message(column.path, "、".join(unknown)),
                )
            member["statuses"] = [mapping.get(v, v) for v in values]
        elif column.path in _CHOICE_MAPS:
            mapping = _CHOICE_MAPS[column.path]
            if raw not in mapping:
                errors.add(
                    sheet_row, column.header, "field.enum", _choice_message(column.path, raw)
                )
            member[column.path] = mapping.get(raw, raw)
        else:
            member[column.path] = raw
    kind = row.get(BY_PATH["disability.kind"].header, "")
    grade = row.get(BY_PATH["disability.grade"].header, "")
    if kind or grade:
        if not (kind and grade):
            errors.add(
                sheet_row,
                BY_PATH["disability.grade"].header if kind else BY_PATH["disability.kind"].header,
                "disability.incomplete",
                "残疾类别和残疾等级须同时填写",
            )
        else:
            mapping = _CHOICE_MAPS["disability.kind"]
            if kind not in mapping:
                errors.add(
                    sheet_row,
                    BY_PATH["disability.kind"].header,
                    "field.enum",
                    _choice_message("disability.kind", kind),
                )
            member["disability"] = {"kind": mapping.get(kind, kind), "grade": _int_or_raw(grade)}
    incomes = []
    types: list[str] = []
    for t in IncomeType:
        raw = row.get(BY_PATH[f"incomes.{t.value}"].header, "")
        if raw:
            incomes.append({"type": t.value, "monthly": raw})
            types.append(t.value)
    member["incomes"] = incomes
    return member, types


def _choice_message(path: str, raw: str) -> str:
    column = BY_PATH[path]
    assert column.choices is not None
    allowed = "、".join(str(c.label) for c in column.choices)
    return f"“{raw}”不是有效的{column.header}（可选：{allowed}）"


def _int_or_raw(raw: str) -> Any:
    """``"2"`` and ``"2.0"`` (Excel's habit) as 2; anything else is left for validation."""
    return int(float(raw)) if re.fullmatch(r"\d+(\.0+)?", raw) else raw


def _household_from_rows(rows: list[tuple[int, dict[str, str]]], errors: _Errors) -> dict[str, Any]:
    first_row, first = rows[0]
    doc: dict[str, Any] = {"id": first.get(HOUSEHOLD_KEY, "")}
    for column in COLUMNS:
        if column.level != "household" or column.path == "id":
            continue
        raw = first.get(column.header, "")
        for sheet_row, row in rows[1:]:
            other = row.get(column.header, "")
            if other and other != raw:
                errors.add(
                    sheet_row,
                    column.header,
                    "household.inconsistent",
                    f"同一户的{column.header}不一致（本户第一行为“{raw or '空'}”）",
                )
        if not raw:
            if column.required:
                errors.add(first_row, column.header, "field.missing", "必填项不能为空")
            continue
        value: Any = raw
        if column.path in _CHOICE_MAPS:
            mapping = _CHOICE_MAPS[column.path]
            if raw not in mapping:
                errors.add(
                    first_row, column.header, "field.enum", _choice_message(column.path, raw)
                )
            value = mapping.get(raw, raw)
        elif column.path == "assets.business":
            low = raw.lower()
            if low not in _YES | _NO:
                errors.add(first_row, column.header, "field.bool_parsing", "应填写“是”或“否”")
            value = low in _YES
        elif column.path in {"assets.houses", "assets.vehicles"}:
            value = _int_or_raw(raw)
        section, _, name = column.path.partition(".")
        if name:
            doc.setdefault(section, {})[name] = value
        else:
            doc[section] = value
    return doc


def rows_to_documents(
    rows: list[dict[str, str]], errors: _Errors
) -> tuple[list[HouseholdDoc], list[_Group]]:
    groups: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
    for index, row in enumerate(rows):
        sheet_row = index + 2
        if not any(row.values()):
            continue
        key = row.get(HOUSEHOLD_KEY, "")
        if not key:
            errors.add(sheet_row, HOUSEHOLD_KEY, "field.missing", "必填项不能为空")
            continue
        groups[key].append((sheet_row, row))
    documents: list[HouseholdDoc] = []
    meta: list[_Group] = []
    for key, group_rows in groups.items():
        raw = _household_from_rows(group_rows, errors)
        raw["members"] = []
        types: list[list[str]] = []
        for sheet_row, row in group_rows:
            member, member_types = _member_from_row(row, sheet_row, errors)
            raw["members"].append(member)
            types.append(member_types)
        group = _Group(key, [r for r, _ in group_rows], types)
        try:
            doc = HouseholdDoc.model_validate(raw)
        except ValidationError as exc:
            for err in errors_from_pydantic(exc):
                row_no, column = _locate(err["field"], err["code"], group)
                errors.add(row_no, column, err["code"], err["message"])
            continue
        documents.append(doc)
        meta.append(group)
    return documents, meta


_CODE_COLUMNS = {
    "person.birth_date_mismatch": "出生日期",
    "person.sex_mismatch": "性别",
    "household.head_count": "与户主关系",
    "person.duplicate_in_household": "公民身份号码",
}


def _locate(path: str, code: str, group: _Group) -> tuple[int, str]:
    """Map a document path (``members.2.incomes.0.monthly``) to (sheet row, column header)."""
    parts = path.split(".") if path else []
    row_no = group.rows[0]
    if parts[:1] == ["members"] and len(parts) >= 2 and parts[1].isdigit():
        j = int(parts[1])
        row_no = group.rows[j] if j < len(group.rows) else row_no
        rest = parts[2:]
        if rest[:1] == ["incomes"] and len(rest) >= 2 and rest[1].isdigit():
            k = int(rest[1])
            types = group.income_types[j] if j < len(group.income_types) else []
            if k < len(types):
                return row_no, BY_PATH[f"incomes.{types[k]}"].header
        member_path = ".".join(rest)
        if member_path in BY_PATH:
            return row_no, BY_PATH[member_path].header
        return row_no, _CODE_COLUMNS.get(code, "姓名")
    if path in BY_PATH:
        return row_no, BY_PATH[path].header
    return row_no, _CODE_COLUMNS.get(code, HOUSEHOLD_KEY)


def too_large(max_bytes: int, dry_run: bool = False) -> ImportReport:
    """The report for a file over the upload limit (nothing is read or written)."""
    return ImportReport(
        False,
        0,
        dry_run=dry_run,
        errors=[
            {
                "row": None,
                "column": None,
                "code": "file.too_large",
                "message": f"文件超过 {max_bytes // (1024 * 1024)} MB 上限，请分批导入",
            }
        ],
    )


def households_import(
    *,
    actor: User | None,
    content: bytes,
    filename: str,
    dry_run: bool = False,
    max_bytes: int | None = None,
) -> ImportReport:
    """Validate every row; unless ``dry_run`` and only if no row failed, write them all."""
    if actor is not None:
        access.ensure_can_write(actor)
    if max_bytes is not None and len(content) > max_bytes:
        return too_large(max_bytes, dry_run)
    try:
        rows = read_rows(content, filename)
    except SheetError as exc:
        return ImportReport(
            False,
            0,
            dry_run=dry_run,
            errors=[{"row": None, "column": None, "code": exc.code, "message": exc.message}],
        )
    report = ImportReport(False, len(rows), dry_run=dry_run, source_rows=rows)
    if not rows:
        report.errors = [
            {"row": None, "column": None, "code": "file.no_rows", "message": "文件中没有数据行"}
        ]
        return report
    if len(rows) > MAX_ROWS:
        report.errors = [
            {
                "row": None,
                "column": None,
                "code": "file.too_many_rows",
                "message": f"一次最多导入 {MAX_ROWS} 行，请分批导入",
            }
        ]
        return report
    errors = _Errors()
    documents, groups = rows_to_documents(rows, errors)
    report.households = len(documents)
    report.persons = sum(len(d.members) for d in documents)
    if errors.items or dry_run:
        # Report the database's objections too, so one upload shows every error.
        for e in services.households_check(actor, documents):
            row_no, column = _locate(e.field, e.code, groups[e.index])
            errors.add(row_no, column, e.code, e.message)
    else:
        try:  # households_create checks the database itself, then writes all or nothing
            services.households_create(
                actor=actor, documents=documents, reason=f"批量导入：{filename}"
            )
        except ValidationFailed as exc:
            for err in exc.errors:
                row_no, column = _locate(err["field"], err["code"], groups[err["index"]])
                errors.add(row_no, column, err["code"], err["message"])
    report.errors = errors.sorted()
    report.ok = not report.errors
    return report


def export_rows(households: QuerySet[Household]) -> list[dict[str, str]]:
    """Template rows for the households, full ID numbers (the caller logs the export)."""
    rows: list[dict[str, str]] = []
    qs = households.select_related("division").prefetch_related("members__incomes").order_by("pk")
    for h in qs.iterator(chunk_size=2000):
        for m in sorted(h.members.all(), key=lambda p: (p.relation != "head", p.pk)):
            if m.state != "active":
                continue
            rows.append(_export_row(h, m))
    return rows


def _export_row(h: Household, m: Person) -> dict[str, str]:
    def label(path: str, value: str) -> str:
        column = BY_PATH[path]
        assert column.choices is not None
        return str(column.choices(value).label) if value else ""

    row = {
        HOUSEHOLD_KEY: h.external_id or h.number,
        "所属区划代码": h.division.code,
        "户籍类型": label("hukou", h.hukou),
        "住址": h.address,
        "姓名": m.name,
        "公民身份号码": m.id_number,
        "与户主关系": label("relation", m.relation),
        "性别": label("sex", m.sex),
        "出生日期": m.birth_date.isoformat(),
        "联系电话": m.phone,
        "残疾类别": label("disability.kind", m.disability_kind),
        "残疾等级": str(m.disability_grade or ""),
        "健康状况": label("health", m.health),
        "就业状况": label("employment", m.employment),
        "在学情况": label("schooling", m.schooling),
        "特殊身份": "、".join(label("statuses", s) for s in m.statuses),
        "存款": format_amount(h.deposits),
        "有价证券": format_amount(h.securities),
        "房产套数": str(h.houses),
        "机动车数": str(h.vehicles),
        "经营实体": "是" if h.business else "否",
        "月医疗支出": format_amount(h.medical_monthly),
        "月教育支出": format_amount(h.education_monthly),
    }
    for inc in latest_incomes(m):
        row[BY_PATH[f"incomes.{inc.type}"].header] = format_amount(inc.monthly)
    return row


def households_export(
    *, actor: User, division: str | None = None, fmt: str = "xlsx", reason: str = "导出"
) -> tuple[bytes, int]:
    """Export households in scope as the import template; every exported person is logged."""
    if not access.can_reveal_id_numbers(actor):
        raise PermissionDenied(
            AccessErrorCode.REVEAL_FORBIDDEN, "您的角色不能导出含完整身份证号码的数据"
        )
    qs = access.households_visible(actor)
    if division:
        node = access.access_division_by_code(actor, division)
        qs = qs.filter(division__path__startswith=node.path)
    rows = export_rows(qs)
    persons = (
        access.persons_visible(actor)
        .filter(household__in=qs.values("pk"))
        .values_list("pk", "household_id", "household__division_id")
    )
    AccessLog.objects.bulk_create(
        [
            AccessLog(
                actor=actor,
                person_id=p,
                household_id=h,
                division_id=d,
                action=AccessAction.EXPORT,
                reason=reason[:200],
                channel="export",
            )
            for p, h, d in persons
        ],
        batch_size=5000,
    )
    content = write_xlsx(rows) if fmt == "xlsx" else write_csv(rows)
    return content, len(rows)
