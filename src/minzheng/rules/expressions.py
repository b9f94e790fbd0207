"""Small expression helpers rule files share (all vectorised narwhals expressions).

>>> import polars as pl
>>> df = nw.from_native(pl.DataFrame({"x": [812.499999, 362.5, 0.125, 1.005]}))
>>> df.select(round_yuan(nw.col("x"))).to_native()["x"].to_list()
[812.5, 362.5, 0.13, 1.01]
>>> df.select(round_half_up(nw.col("x"), 1)).to_native()["x"].to_list()
[812.5, 362.5, 0.1, 1.0]
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import narwhals.stable.v2 as nw

# Float64 arithmetic on yuan is exact to far below a fen at these magnitudes; a true
# half-fen can come out a hair under .5, so rounding half up adds this much first.
HALF_UP_SLACK = 1e-6


def round_half_up(expr: nw.Expr, decimals: int = 2) -> nw.Expr:
    """Round half up to ``decimals`` places (scores and indices are published with two)."""
    scale = 10**decimals
    return (expr * scale + 0.5 + HALF_UP_SLACK).floor() / scale


def round_yuan(expr: nw.Expr) -> nw.Expr:
    """Round half up to the fen (0.01 yuan): the one rounding the policy prescribes."""
    return round_half_up(expr, 2)


def age_on(as_of: date, birth_date: str = "birth_date") -> nw.Expr:
    """Completed years on ``as_of``: someone turns 90 on their 90th birthday (a 29 February
    birthday counts from 1 March in other years)."""
    born = nw.col(birth_date)
    before_birthday = (born.dt.month() > as_of.month) | (
        (born.dt.month() == as_of.month) & (born.dt.day() > as_of.day)
    )
    return (nw.lit(as_of.year) - born.dt.year() - before_birthday.cast(nw.Int64)).cast(nw.Int64)


def positive(expr: nw.Expr) -> nw.Expr:
    """``max(expr, 0)``."""
    return expr.clip(lower_bound=0.0)


def any_of(exprs: Iterable[nw.Expr]) -> nw.Expr:
    return nw.any_horizontal(*exprs, ignore_nulls=True)


def all_of(exprs: Iterable[nw.Expr]) -> nw.Expr:
    return nw.all_horizontal(*exprs, ignore_nulls=True)


def amount_if(condition: nw.Expr, amount: nw.Expr) -> nw.Expr:
    return nw.when(condition).then(amount).otherwise(nw.lit(0.0))
