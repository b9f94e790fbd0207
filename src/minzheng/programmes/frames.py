"""Engine input tables from the places households come from, built without row loops.

- :func:`frames_from_generator`: the demo generator's synthetic registry (benchmarks, tests);
- :func:`frames_from_flat`: the documented flat Parquet layout for bulk evaluation
  (``docs/subsystems/rules.md``), validated column by column.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from minzheng.demo.generator import STATUS_NAMES, generate
from minzheng.rules.frames import (
    DISABILITY_KINDS,
    HOUSEHOLD_DEFAULTS,
    HOUSEHOLD_SCHEMA,
    INCOME_TYPES,
    PERSON_SCHEMA,
    STATUSES,
    complete,
)


def frames_from_generator(households: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(households, persons) in the engine's schema for ``households`` synthetic ones."""
    hh, persons, incomes = generate(households, seed)
    keys = hh.select(pl.col("household"), pl.col("id").alias("key"))
    h = hh.join(keys, on="household").select(
        pl.col("key").alias("household"),
        "division",
        "hukou",
        (pl.col("deposits_fen") / 100).alias("deposits"),
        (pl.col("securities_fen") / 100).alias("securities"),
        pl.col("vehicles").cast(pl.Int64),
        pl.col("houses").cast(pl.Int64),
        "business",
        (pl.col("medical_fen") / 100).alias("medical_monthly"),
        (pl.col("education_fen") / 100).alias("education_monthly"),
    )
    wide = (
        incomes.with_columns((pl.col("fen") / 100).alias("yuan"))
        .pivot(on="type", index="person", values="yuan", aggregate_function="sum")
        .rename(lambda c: c if c == "person" else f"income_{c}")
    )
    p = (
        persons.with_row_index("person")
        .with_columns(pl.col("person").cast(pl.Int64))
        .join(wide.with_columns(pl.col("person").cast(pl.Int64)), on="person", how="left")
        .join(keys, on="household", how="left")
        .with_columns(
            pl.col("key").alias("household"),
            pl.col("person_key").alias("member"),
            pl.col("birth_date").cast(pl.Date),
            *(pl.col(s).alias(f"status_{s}") for s in STATUS_NAMES),
        )
    )
    income_cols = [pl.col(c).fill_null(0.0) for c in p.columns if c.startswith("income_")]
    p = p.with_columns(income_cols).select(
        "household",
        "member",
        "birth_date",
        "sex",
        "relation",
        "disability_kind",
        "disability_grade",
        "schooling",
        *(f"status_{s}" for s in STATUS_NAMES),
        *(c for c in p.columns if c.startswith("income_")),
    )
    return complete(h, p)


# -- the flat Parquet layout ---------------------------------------------------------------

FLAT_HOUSEHOLD = {
    "household_id": pl.Utf8, "division": pl.Utf8, "hukou": pl.Utf8,
    "deposits": pl.Float64, "securities": pl.Float64, "vehicles": pl.Int64,
    "houses": pl.Int64, "business": pl.Boolean, "medical_monthly": pl.Float64,
    "education_monthly": pl.Float64, "outpatient_total": pl.Float64,
    "outpatient_insurance_paid": pl.Float64, "inpatient_total": pl.Float64,
    "inpatient_insurance_paid": pl.Float64,
}  # fmt: skip
FLAT_MEMBER = {
    "member_id": pl.Utf8, "id_number": pl.Utf8, "birth_date": pl.Date, "sex": pl.Utf8,
    "relation": pl.Utf8, "disability_kind": pl.Utf8, "disability_grade": pl.Int64,
    "schooling": pl.Utf8, "statuses": pl.Utf8,
    **{f"income_{t}": pl.Float64 for t in INCOME_TYPES},
}  # fmt: skip
FLAT_REQUIRED = ("household_id", "division", "hukou", "member_id", "birth_date")
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def _id_number_ok(col: str) -> pl.Expr:
    """GB 11643 check character, vectorised (upper-cased, 18 characters)."""
    c = pl.col(col).str.strip_chars().str.to_uppercase()
    total = pl.sum_horizontal(
        c.str.slice(i, 1).cast(pl.Int64, strict=False) * w for i, w in enumerate(_WEIGHTS)
    )
    check = pl.lit("10X98765432").str.slice((total % 11).cast(pl.Int64), 1)
    return (
        (c.str.len_chars() == 18)
        & c.str.slice(0, 17).str.contains(r"^\d{17}$")
        & (c.str.slice(17, 1) == check)
    )


def frames_from_flat(frame: pl.DataFrame) -> tuple[tuple[pl.DataFrame, pl.DataFrame], list[dict[str, Any]]]:  # fmt: skip
    """Engine tables from the flat layout (one row per member, household columns repeated),
    and every problem found, each naming row (1-based), household, member and field."""
    errors: list[dict[str, Any]] = []
    known = set(FLAT_HOUSEHOLD) | set(FLAT_MEMBER)
    unknown = [c for c in frame.columns if c not in known]
    missing = [c for c in FLAT_REQUIRED if c not in frame.columns]
    for c in unknown:
        errors.append({"row": None, "household": None, "member": None, "field": c,
                       "code": "field.extra_forbidden", "message": "不认识的列（不会被忽略）"})  # fmt: skip
    for c in missing:
        errors.append({"row": None, "household": None, "member": None, "field": c,
                       "code": "field.missing", "message": "缺少必需的列"})  # fmt: skip
    if errors:
        return (pl.DataFrame(), pl.DataFrame()), errors
    f = frame.with_row_index("__row", offset=1)
    casts = {}
    for name, dtype in {**FLAT_HOUSEHOLD, **FLAT_MEMBER}.items():
        if name not in f.columns:
            continue
        source = pl.col(name)
        casted = (
            source.cast(pl.Utf8).str.to_date("%Y-%m-%d", strict=False)
            if dtype == pl.Date and f.schema[name] != pl.Date
            else source.cast(dtype, strict=False)
        )
        casts[name] = casted
        bad = f.filter(source.is_not_null() & casted.is_null())
        for r in bad.head(100).iter_rows(named=True):
            errors.append(_error(r, name, "field.type", f"类型应为 {dtype}"))
    f = f.with_columns(v.alias(k) for k, v in casts.items())
    checks: list[tuple[str, pl.Expr, str, str]] = [
        (c, pl.col(c).is_null(), "field.missing", "必填") for c in FLAT_REQUIRED
    ]
    money = [c for c, t in {**FLAT_HOUSEHOLD, **FLAT_MEMBER}.items() if t == pl.Float64]
    checks += [
        (c, pl.col(c) < 0, "amount.negative", "金额不能为负") for c in money if c in f.columns
    ]
    checks.append(("hukou", ~pl.col("hukou").is_in(["beijing", "other"]), "field.enum",
                   "户籍应为 beijing 或 other"))  # fmt: skip
    checks.append(("division", ~pl.col("division").str.contains(r"^(\d{6}|\d{9}|\d{12})$"),
                   "division.format", "区划代码应为6、9或12位数字"))  # fmt: skip
    if "disability_kind" in f.columns:
        checks.append(("disability_kind",
                       pl.col("disability_kind").is_not_null() & (pl.col("disability_kind") != "")
                       & ~pl.col("disability_kind").is_in(list(DISABILITY_KINDS)),
                       "field.enum", "残疾类别不在允许范围内"))  # fmt: skip
    if "disability_grade" in f.columns:
        checks.append(("disability_grade", ~pl.col("disability_grade").is_between(0, 4),
                       "field.range", "残疾等级应为1–4"))  # fmt: skip
    if "id_number" in f.columns:
        checks.append(("id_number", pl.col("id_number").is_not_null() & ~_id_number_ok("id_number"),
                       "id_number.checksum", "身份证号码格式或校验位错误"))  # fmt: skip
        born = pl.col("id_number").str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
        checks.append(("birth_date", pl.col("id_number").is_not_null() & (born != pl.col("birth_date")),
                       "person.birth_date_mismatch", "出生日期与身份证号码不一致"))  # fmt: skip
    if "statuses" in f.columns:
        parts = pl.col("statuses").fill_null("").str.split(",").list.eval(
            pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != ""))  # fmt: skip
        f = f.with_columns(parts.alias("__statuses"))
        checks.append(("statuses", pl.col("__statuses").list.eval(
            ~pl.element().is_in(list(STATUSES))).list.any(), "field.enum",
            "特殊身份不在允许范围内"))  # fmt: skip
    for field, expr, code, message in checks:
        for r in f.filter(expr.fill_null(False)).head(100).iter_rows(named=True):
            errors.append(_error(r, field, code, message))
    dup = f.filter(pl.struct("household_id", "member_id").is_duplicated())
    for r in dup.head(100).iter_rows(named=True):
        errors.append(_error(r, "member_id", "person.duplicate_in_household", "同一户成员编号重复"))
    household_cols = [c for c in FLAT_HOUSEHOLD if c in f.columns and c != "household_id"]
    mixed = (
        f.group_by("household_id")
        .agg(pl.col(c).n_unique().alias(c) for c in household_cols)
        .filter(pl.any_horizontal(pl.col(c) > 1 for c in household_cols))
    )
    for r in mixed.head(100).iter_rows(named=True):
        field = next(c for c in household_cols if r[c] > 1)
        errors.append({"row": None, "household": r["household_id"], "member": None,
                       "field": field, "code": "household.inconsistent",
                       "message": "同一户各行的家庭信息不一致"})  # fmt: skip
    if errors:
        return (pl.DataFrame(), pl.DataFrame()), errors
    h = (
        f.group_by("household_id", maintain_order=True)
        .agg(pl.col(c).first() for c in household_cols)
        .rename({"household_id": "household"})
    )
    statuses = [
        (
            pl.col("__statuses").list.contains(s) if "__statuses" in f.columns else pl.lit(False)
        ).alias(f"status_{s}")
        for s in STATUSES
    ]
    p = f.with_columns(*statuses).rename({"household_id": "household", "member_id": "member"})
    p = p.with_columns(pl.col(c).fill_null(0.0) for c in p.columns if c.startswith("income_"))
    for c in ("disability_kind", "schooling", "sex", "relation"):
        if c in p.columns:
            p = p.with_columns(pl.col(c).fill_null(""))
    if "disability_grade" in p.columns:
        p = p.with_columns(pl.col("disability_grade").fill_null(0))
    h = h.with_columns(
        pl.col(c).fill_null(HOUSEHOLD_DEFAULTS[c]) for c in h.columns if c in HOUSEHOLD_DEFAULTS
    )
    return complete(
        h.select(c for c in HOUSEHOLD_SCHEMA if c in h.columns),
        p.select(c for c in PERSON_SCHEMA if c in p.columns),
    ), []


def _error(row: dict[str, Any], field: str, code: str, message: str) -> dict[str, Any]:
    return {"row": row["__row"], "household": row.get("household_id"),
            "member": row.get("member_id"), "field": field, "code": code, "message": message}  # fmt: skip
