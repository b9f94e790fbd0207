"""Run the OpenFisca peer on Minzheng's engine frames (Polars, rules/frames.py schema).

:func:`simulate` is the whole path from the two Polars frames to one row per household
(``household``, ``dibao_amount``, ``age_allowance``): the frames' columns as numpy
arrays, a :class:`SimulationBuilder` with integer ids, ``set_input`` for every input
variable, then ``calculate``. The period is the month of ``as_of``; ages are taken on its
first day, so ``as_of`` must be the first of a month (Minzheng takes the exact day).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy
import polars as pl
from openfisca_core.indexed_enums import EnumArray
from openfisca_core.simulations import SimulationBuilder

from benchmarks.peers.openfisca_minzheng import MinzhengTaxBenefitSystem
from benchmarks.peers.openfisca_minzheng.base import DisabilityKind, Hukou
from benchmarks.peers.openfisca_minzheng.variables.inputs import INCOME_TYPES, STATUSES

HOUSEHOLD_FLOATS = ("deposits", "securities", "dibao_previous_amount")
HOUSEHOLD_INTS = ("vehicles", "houses", "dibao_months_since_work_exit")

_system: MinzhengTaxBenefitSystem | None = None


def tax_benefit_system() -> MinzhengTaxBenefitSystem:
    global _system
    if _system is None:
        _system = MinzhengTaxBenefitSystem()
    return _system


def _codes(values: pl.Series, enum: Any, empty: str) -> EnumArray:
    """Encode a text column into an EnumArray through a small lookup (not per row)."""
    names = [m.name for m in enum]
    lookup = pl.DataFrame({"__value": names, "__code": numpy.arange(len(names), dtype=numpy.int16)})
    codes = (
        pl.DataFrame({"__value": values.fill_null(empty).replace("", empty)})
        .join(lookup, on="__value", how="left", maintain_order="left")
        .get_column("__code")
    )
    if codes.null_count():
        raise ValueError(f"{values.name}: values outside {names}")
    return EnumArray(codes.to_numpy().astype(numpy.int16), enum)


def simulate(households: pl.DataFrame, persons: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Dibao amount and age allowance (household sum) per household, by OpenFisca."""
    if as_of.day != 1:
        raise ValueError("the OpenFisca peer evaluates whole months: as_of must be a 1st")
    system = tax_benefit_system()
    period = f"{as_of.year:04d}-{as_of.month:02d}"
    numbers = households.select("household").with_row_index("__number")
    members = persons.join(numbers, on="household", how="inner", maintain_order="left")
    n_h, n_p = households.height, members.height

    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("person", numpy.arange(n_p))
    group = builder.declare_entity("household", numpy.arange(n_h))
    builder.join_with_persons(
        group, members.get_column("__number").to_numpy(), numpy.zeros(n_p, dtype=numpy.int64)
    )
    sim = builder.build(system)

    sim.set_input("birth_date", period, members.get_column("birth_date").to_numpy())
    sim.set_input(
        "disability_kind",
        period,
        _codes(members.get_column("disability_kind"), DisabilityKind, "none"),
    )
    sim.set_input("disability_grade", period, members.get_column("disability_grade").to_numpy())
    for status in STATUSES:
        sim.set_input(f"status_{status}", period, members.get_column(f"status_{status}").to_numpy())
    for kind in INCOME_TYPES:
        sim.set_input(f"income_{kind}", period, members.get_column(f"income_{kind}").to_numpy())
    sim.set_input("hukou", period, _codes(households.get_column("hukou"), Hukou, "other"))
    for name in HOUSEHOLD_FLOATS:
        sim.set_input(name, period, households.get_column(name).to_numpy())
    for name in HOUSEHOLD_INTS:
        sim.set_input(name, period, households.get_column(name).to_numpy())
    sim.set_input("business", period, households.get_column("business").to_numpy())

    return pl.DataFrame(
        {
            "household": households.get_column("household"),
            "dibao_amount": sim.calculate("dibao_amount", period),
            "age_allowance": sim.calculate("age_allowance_household", period),
        }
    )


def situation(households: pl.DataFrame, persons: pl.DataFrame, as_of: date) -> dict[str, Any]:
    """The same households as an OpenFisca situation (the JSON its web API's /calculate
    takes): one dict per person and per household, values keyed by period."""
    period = f"{as_of.year:04d}-{as_of.month:02d}"
    people: dict[str, Any] = {}
    groups: dict[str, Any] = {}
    for r in persons.iter_rows(named=True):
        person: dict[str, Any] = {
            "birth_date": {"ETERNITY": r["birth_date"].isoformat()},
            "disability_kind": {period: r["disability_kind"] or "none"},
            "disability_grade": {period: r["disability_grade"]},
        }
        for status in STATUSES:
            person[f"status_{status}"] = {period: r[f"status_{status}"]}
        for kind in INCOME_TYPES:
            if r[f"income_{kind}"]:
                person[f"income_{kind}"] = {period: r[f"income_{kind}"]}
        people[r["member"]] = person
        groups.setdefault(r["household"], {"members": []})["members"].append(r["member"])
    for r in households.iter_rows(named=True):
        group = groups.setdefault(r["household"], {"members": []})
        group["hukou"] = {period: r["hukou"]}
        for name in (*HOUSEHOLD_FLOATS, *HOUSEHOLD_INTS, "business"):
            group[name] = {period: r[name]}
    return {"persons": people, "households": groups}


def simulate_situation(data: dict[str, Any], as_of: date) -> pl.DataFrame:
    """:func:`simulate` from a situation dict (``SimulationBuilder.build_from_entities``)."""
    period = f"{as_of.year:04d}-{as_of.month:02d}"
    sim = SimulationBuilder().build_from_entities(tax_benefit_system(), data)
    return pl.DataFrame(
        {
            "household": list(sim.populations["household"].ids),
            "dibao_amount": sim.calculate("dibao_amount", period),
            "age_allowance": sim.calculate("age_allowance_household", period),
        }
    )
