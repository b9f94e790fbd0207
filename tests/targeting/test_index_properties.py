"""The index over ~1,000 random households on several days: every score in 0–100, the
contributions add up to the index, the index in 0–100, and the suggested amount one of
the table's multiples of the standard (or nothing)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from minzheng.programmes.eligibility import parameter_value
from minzheng.programmes.targeting import dimension_labels, poverty_index_table
from minzheng.rules.frames import frames_from_documents
from tests.rules.households import random_households

DAYS = [date(2024, 6, 30), date(2025, 7, 1), date(2026, 3, 1)]


@pytest.mark.parametrize("as_of", DAYS, ids=str)
def test_index_properties(as_of: date) -> None:
    docs = random_households(as_of.toordinal(), 350, as_of)
    h, p = frames_from_documents(docs, as_of)
    table = poverty_index_table(h, p, as_of)
    assert table.height == len(docs)
    keys = list(dimension_labels())
    for key in keys:
        assert table.filter(~pl.col(f"{key}_score").is_between(0, 100)).is_empty(), key
    fen = sum(((pl.col(f"{k}_contribution") * 100).round(0).cast(pl.Int64) for k in keys),
              pl.lit(0))  # fmt: skip
    index_fen = (pl.col("index") * 100).round(0).cast(pl.Int64)
    assert table.filter(fen != index_fen).is_empty()
    assert table.filter(~pl.col("index").is_between(0, 100)).is_empty()
    standard = float(parameter_value("dibao.standard", as_of))
    multiples = {0.0, *(float(r["multiple"]) for r in
                        parameter_value("poverty_index.assistance_table", as_of))}  # fmt: skip
    allowed = {round(m * standard, 2) for m in multiples}
    assert set(table.get_column("assistance").round(2).to_list()) <= allowed
    # the top dimension is the largest contribution, and none when the index is 0
    assert table.filter((pl.col("index") == 0) != pl.col("top_dimension").is_null()).is_empty()
