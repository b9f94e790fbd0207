"""The programme catalogue (``policy/programmes.yaml``): which variables decide each one.

>>> catalogue = load_programmes()
>>> catalogue["dibao"].label, catalogue["age_allowance"].entity
('最低生活保障', 'person')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import narwhals.stable.v2 as nw
import yaml

from minzheng.rules.variables import Params, Variable, VariableError, VariableSet, aggregate

PROGRAMME_IDS: tuple[str, ...] = (
    "dibao",
    "low_income",
    "extreme_poverty",
    "temporary_assistance",
    "medical_assistance",
    "education_assistance",
    "disability_living_subsidy",
    "disability_care_subsidy",
    "orphan_allowance",
    "age_allowance",
    "elderly_service_subsidy",
    "preferential_card",
)


class UnknownProgramme(VariableError):
    code = "programme.unknown"


@dataclass(frozen=True)
class Programme:
    id: str
    label: str
    label_en: str
    entity: str
    unit: str
    eligible: str
    amount: str
    conditions: tuple[str, ...]
    explain: tuple[str, ...]
    reference: str

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.eligible, self.amount, *self.conditions)


@dataclass(frozen=True)
class Catalogue:
    programmes: Mapping[str, Programme]

    def __iter__(self) -> Iterator[Programme]:
        return iter(self.programmes.values())

    def __getitem__(self, pid: str) -> Programme:
        try:
            return self.programmes[pid]
        except KeyError:
            raise UnknownProgramme(
                f"未知救助项目：{pid}（可选：{', '.join(self.programmes)}）"
            ) from None

    def select(self, ids: Sequence[str] | None) -> list[Programme]:
        return [self[i] for i in ids] if ids else list(self)


def load_programmes(text: str | None = None) -> Catalogue:
    raw: dict[str, Any] = yaml.safe_load(
        text
        if text is not None
        else resources.files("minzheng.policy").joinpath("programmes.yaml").read_text("utf-8")
    )
    programmes = {
        pid: Programme(
            id=pid,
            label=str(entry["label"]),
            label_en=str(entry.get("label_en", pid)),
            entity=str(entry["entity"]),
            unit=str(entry["unit"]),
            eligible=str(entry["eligible"]),
            amount=str(entry["amount"]),
            conditions=tuple(entry.get("conditions", ())),
            explain=tuple(entry.get("explain", ())),
            reference=str(entry.get("reference", "")),
        )
        for pid, entry in raw.items()
    }
    return Catalogue(programmes)


def eligibility_by_amount(programme: Programme, variables: VariableSet) -> Variable | None:
    """For a programme whose eligibility is "an amount above zero", the variable saying so
    (generated, so that rule files state each amount once)."""
    if programme.eligible in variables:
        return None
    amount = programme.amount

    def above_zero(p: Params) -> nw.Expr:
        return nw.col(amount) > 0

    return Variable(
        programme.eligible,
        variables[amount].entity,
        f"享受{programme.label}",
        "boolean",
        formula=above_zero,
        uses=(amount,),
        true_text=f"符合{programme.label}条件",
        false_text=f"不符合{programme.label}条件",
        module=__name__,
    )


def household_totals(programme: Programme) -> tuple[Variable, Variable]:
    """For a programme paid to persons: eligible when any member is, the sum of amounts."""
    return (
        aggregate(f"{programme.id}_household_eligible", f"{programme.label}（户内有人符合）",
                  "boolean", programme.eligible, "any"),
        aggregate(f"{programme.id}_household_amount", f"{programme.label}（户合计）",
                  "yuan/month", programme.amount, "sum"),
    )  # fmt: skip


def household_columns(programme: Programme) -> tuple[str, str]:
    """The household-level (eligible, amount) variables of a programme."""
    if programme.entity == "person":
        return f"{programme.id}_household_eligible", f"{programme.id}_household_amount"
    return programme.eligible, programme.amount


def with_programmes(variables: VariableSet, catalogue: Catalogue) -> VariableSet:
    """The variable set plus generated eligibility and household-total variables; checks
    every programme's variables exist and sit on the programme's entity."""
    extra = {
        v.name: v for v in (eligibility_by_amount(p, variables) for p in catalogue) if v is not None
    }
    for p in catalogue:
        if p.entity == "person":
            extra.update({v.name: v for v in household_totals(p)})
    merged = VariableSet({**variables.variables, **extra})
    merged.check()
    for p in catalogue:
        for name in (p.eligible, p.amount, *p.conditions, *p.explain):
            merged[name]
        if merged[p.amount].entity != p.entity or merged[p.eligible].entity != p.entity:
            raise VariableError(f"{p.id}: eligible and amount must be {p.entity} variables")
    return merged
