"""The engine's input tables: one row per household, one row per person, keyed by id.

Money is in yuan as ``Float64`` (the engine rounds once, where the policy says);
counts are ``Int64``; every status is a boolean column ``status_<name>``; every income
type is a column ``income_<type>`` holding the monthly amount in force on the as-of
date. :func:`frames_from_documents` builds both tables from household documents that
the caller has already validated (the registry's pydantic model does that).

>>> h, p = frames_from_documents([{
...     "id": "H-1", "division": "110102", "hukou": "beijing",
...     "members": [{"id": "P-1", "birth_date": "1949-12-31", "sex": "F",
...                  "relation": "head", "statuses": ["lives_alone"],
...                  "incomes": [{"type": "pension", "monthly": "1200.00"}]}]}],
...     as_of=date(2025, 7, 1))
>>> p.select("household", "member", "income_pension", "status_lives_alone").row(0)
('H-1', 'P-1', 1200.0, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

INCOME_TYPES: tuple[str, ...] = (
    "wage",
    "pension",
    "business",
    "property",
    "support_received",
    "unemployment_benefit",
    "age_allowance",
    "disability_subsidy",
    "veteran_allowance",
    "one_child_reward",
    "heroism_award",
    "temporary_assistance",
    "orphan_allowance",
)
STATUSES: tuple[str, ...] = (
    "serious_illness",
    "no_supporter",
    "orphan",
    "lives_alone",
    "empty_nest",
    "student",
    "no_work_capacity",
    "family_planning_special",
    "care_tier_1",
    "care_tier_2",
    "care_hearing_speech",
)
DISABILITY_KINDS: tuple[str, ...] = (
    "visual",
    "hearing",
    "speech",
    "physical",
    "intellectual",
    "mental",
    "multiple",
)

HOUSEHOLD_SCHEMA: dict[str, Any] = {
    "household": pl.Utf8,
    "division": pl.Utf8,
    "hukou": pl.Utf8,
    "deposits": pl.Float64,
    "securities": pl.Float64,
    "vehicles": pl.Int64,
    "houses": pl.Int64,
    "business": pl.Boolean,
    "medical_monthly": pl.Float64,
    "education_monthly": pl.Float64,
    "outpatient_total": pl.Float64,
    "outpatient_insurance_paid": pl.Float64,
    "inpatient_total": pl.Float64,
    "inpatient_insurance_paid": pl.Float64,
    # gradual exit (渐退): supplied by the benefits ledger for current recipients
    "dibao_previous_amount": pl.Float64,
    "dibao_months_since_work_exit": pl.Int64,
}
PERSON_SCHEMA: dict[str, Any] = {
    "household": pl.Utf8,
    "member": pl.Utf8,
    "birth_date": pl.Date,
    "sex": pl.Utf8,
    "relation": pl.Utf8,
    "disability_kind": pl.Utf8,
    "disability_grade": pl.Int64,
    "schooling": pl.Utf8,
    **{f"status_{s}": pl.Boolean for s in STATUSES},
    **{f"income_{t}": pl.Float64 for t in INCOME_TYPES},
}
HOUSEHOLD_DEFAULTS: dict[str, Any] = {
    "deposits": 0.0,
    "securities": 0.0,
    "vehicles": 0,
    "houses": 0,
    "business": False,
    "medical_monthly": 0.0,
    "education_monthly": 0.0,
    "outpatient_total": 0.0,
    "outpatient_insurance_paid": 0.0,
    "inpatient_total": 0.0,
    "inpatient_insurance_paid": 0.0,
    "dibao_previous_amount": 0.0,
    "dibao_months_since_work_exit": 0,
}


def _yuan(value: Any) -> float:
    return float(Decimal(str(value))) if value is not None else 0.0


def household_key(doc: Mapping[str, Any], position: int) -> str:
    """A document's id, or ``#<n>`` (its 1-based place in the input) when it has none."""
    return str(doc.get("id") or f"#{position}")


def member_key(member: Mapping[str, Any], position: int) -> str:
    return str(member.get("id") or f"#{position}")


def incomes_in_force(incomes: Iterable[Mapping[str, Any]], as_of: date) -> dict[str, float]:
    """Per income type, the monthly amount in force on ``as_of``: a line without a month is
    the current amount; otherwise the latest month on or before the as-of month, or, when
    every recorded month is later, the earliest of them (the best knowledge there is;
    treating the income as zero would overstate need)."""
    month = f"{as_of.year:04d}-{as_of.month:02d}"
    chosen: dict[str, tuple[int, str, float]] = {}
    for line in incomes:
        kind, when = str(line["type"]), str(line.get("month") or "")
        # rank: undated lines first, then the latest month not after as_of, then the
        # earliest later month
        if not when:
            rank = (0, "")
        elif when <= month:
            rank = (1, _invert(when))
        else:
            rank = (2, when)
        if kind not in chosen or rank < chosen[kind][:2]:
            chosen[kind] = (*rank, _yuan(line["monthly"]))
    return {kind: amount for kind, (_, _, amount) in chosen.items()}


def _invert(month: str) -> str:
    """A key that sorts later months first."""
    return "".join(chr(0x7F - ord(c)) for c in month)


def frames_from_documents(
    documents: Iterable[Mapping[str, Any]], as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(households, persons) from validated household documents (plain JSON-like dicts)."""
    h_rows: list[dict[str, Any]] = []
    p_rows: list[dict[str, Any]] = []
    for position, doc in enumerate(documents, start=1):
        key = household_key(doc, position)
        assets = doc.get("assets") or {}
        expenses = doc.get("expenses") or {}
        bills: dict[str, float] = {}
        for bill in doc.get("medical_bills") or []:
            kind = str(bill["kind"])
            bills[f"{kind}_total"] = bills.get(f"{kind}_total", 0.0) + _yuan(bill["total"])
            bills[f"{kind}_insurance_paid"] = bills.get(f"{kind}_insurance_paid", 0.0) + _yuan(
                bill.get("insurance_paid")
            )
        h_rows.append(
            {
                **HOUSEHOLD_DEFAULTS,
                "household": key,
                "division": str(doc.get("division", "")),
                "hukou": str(doc["hukou"]),
                "deposits": _yuan(assets.get("deposits")),
                "securities": _yuan(assets.get("securities")),
                "vehicles": int(assets.get("vehicles") or 0),
                "houses": int(assets.get("houses") or 0),
                "business": bool(assets.get("business") or False),
                "medical_monthly": _yuan(expenses.get("medical_monthly")),
                "education_monthly": _yuan(expenses.get("education_monthly")),
                **bills,
            }
        )
        for m_position, member in enumerate(doc["members"], start=1):
            statuses = set(member.get("statuses") or ())
            disability = member.get("disability") or {}
            incomes = incomes_in_force(member.get("incomes") or (), as_of)
            birth = member["birth_date"]
            p_rows.append(
                {
                    "household": key,
                    "member": member_key(member, m_position),
                    "birth_date": birth if isinstance(birth, date) else date.fromisoformat(birth),
                    "sex": str(member.get("sex") or ""),
                    "relation": str(member.get("relation") or ""),
                    "disability_kind": str(disability.get("kind") or ""),
                    "disability_grade": int(disability.get("grade") or 0),
                    "schooling": str(member.get("schooling") or ""),
                    **{f"status_{s}": s in statuses for s in STATUSES},
                    **{f"income_{t}": incomes.get(t, 0.0) for t in INCOME_TYPES},
                }
            )
    return (
        pl.DataFrame(h_rows, schema=HOUSEHOLD_SCHEMA),
        pl.DataFrame(p_rows, schema=PERSON_SCHEMA),
    )


def complete(households: pl.DataFrame, persons: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add any optional column a caller left out, with its default, in the schema's type."""
    if dict(households.schema) == HOUSEHOLD_SCHEMA and dict(persons.schema) == PERSON_SCHEMA:
        return households, persons
    h = households.with_columns(
        pl.lit(HOUSEHOLD_DEFAULTS[c], dtype=t).alias(c)
        for c, t in HOUSEHOLD_SCHEMA.items()
        if c not in households.columns and c in HOUSEHOLD_DEFAULTS
    )
    p_defaults = {
        "disability_kind": "",
        "disability_grade": 0,
        "schooling": "",
        "sex": "",
        "relation": "",
        **{f"status_{s}": False for s in STATUSES},
        **{f"income_{t}": 0.0 for t in INCOME_TYPES},
    }
    p = persons.with_columns(
        pl.lit(p_defaults[c], dtype=t).alias(c)
        for c, t in PERSON_SCHEMA.items()
        if c not in persons.columns and c in p_defaults
    )
    return h.cast(HOUSEHOLD_SCHEMA), p.cast(PERSON_SCHEMA)  # type: ignore[arg-type]
