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


def engine_columns() -> dict[str, Any]:
    return {"households": HOUSEHOLD_SCHEMA, "persons": PERSON_SCHEMA}


__all__ = ["INCOME_TYPES", "STATUSES", "engine_columns", "frames_from_generator"]
