"""The poverty index (城市家庭贫困指数) for apps that may not import the rules engine.

The index, its six dimensions and the temporary-assistance table are rule files under
``policy/variables/poverty_index/`` (see ``docs/subsystems/targeting.md``); this module
runs them over engine tables and shapes what the targeting app shows:

- :func:`poverty_index_table`: one row per household, vectorised (no Python loop over
  households): each dimension's raw figure, score and contribution, the index, the top
  contributing dimension and the suggested temporary assistance;
- :func:`registry_poverty_index`: the same over a scoped registry snapshot;
- :func:`poverty_index_explanation`: one household dimension by dimension, with the
  parameters in force and their sources.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from minzheng.policy.variables.poverty_index.index import DIMENSIONS
from minzheng.programmes.services import _engine_errors, registry_frames
from minzheng.rules.engine import KEY
from minzheng.rules.evaluate import default_evaluator, to_decimal
from minzheng.rules.variables import Variable

if TYPE_CHECKING:
    from minzheng.accounts.models import User

INDEX = "poverty_index"
ASSISTANCE = "poverty_index_assistance"
MULTIPLE = "poverty_index_assistance_multiple"
WEIGHTS = "poverty_index.weights"
TABLE = "poverty_index.assistance_table"
# household facts an explanation lists beside the dimensions
FACTS = (
    "members",
    "dibao_standard",
    "household_counted_income",
    "dibao_assets_limit",
    "poverty_index_spending",
    "poverty_index_expense_base",
    "poverty_index_health_total",
    "poverty_index_dependants",
    "hukou_beijing",
)
MONEY_UNITS = {"yuan", "yuan/month", "yuan/year"}


@dataclass(frozen=True)
class Dimension:
    key: str
    label: str  # 收入缺口
    rule: str  # how the score is computed, in Chinese
    value: str  # the variable holding the raw figure
    value_label: str
    value_unit: str

    @property
    def score(self) -> str:
        return f"poverty_index_{self.key}_score"

    @property
    def contribution(self) -> str:
        return f"poverty_index_{self.key}_contribution"


def dimensions() -> list[Dimension]:
    """The index's dimensions in the order of the rule file, labelled from the engine."""
    variables = default_evaluator().variables
    out = []
    for key, value, rule in DIMENSIONS:
        raw: Variable = variables[value]
        label = variables[f"poverty_index_{key}_score"].label.removesuffix("得分")
        out.append(Dimension(key, label, rule, value, raw.label, raw.unit))
    return out


def dimension_labels() -> dict[str, str]:
    return {d.key: d.label for d in dimensions()}


def _outputs(dims: list[Dimension]) -> list[str]:
    names = [INDEX, ASSISTANCE, MULTIPLE, *FACTS]
    for d in dims:
        names += [d.value, d.score, d.contribution]
    return list(dict.fromkeys(names))


def _with_members(h: pl.DataFrame, p: pl.DataFrame) -> pl.DataFrame:
    """Households that have members (an empty household has no per-capita figures)."""
    return h.join(p.select(KEY).unique(), on=KEY, how="semi", maintain_order="left")


def _run(h: pl.DataFrame, p: pl.DataFrame, as_of: date) -> tuple[pl.DataFrame, Any]:
    engine = default_evaluator().engine
    h = _with_members(h, p)
    run = _engine_errors(lambda: engine.run_polars_batch(h, p, as_of, _outputs(dimensions())))
    frame = run.households.to_native()
    assert isinstance(frame, pl.DataFrame)
    return frame, run


def poverty_index_table(h: pl.DataFrame, p: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per household with members (engine tables in, keyed by ``household``):
    ``<dimension>_value``, ``<dimension>_score``, ``<dimension>_contribution`` for each
    dimension, ``index``, ``top_dimension`` (the key of the largest contribution; null
    when the index is 0), ``assistance_multiple`` and ``assistance`` (yuan, rounded)."""
    frame, _ = _run(h, p, as_of)
    return _shape(frame)


def _shape(frame: pl.DataFrame) -> pl.DataFrame:
    dims = dimensions()
    keys = [d.key for d in dims]
    contributions = pl.concat_list([pl.col(d.contribution) for d in dims])
    top = (
        pl.when(pl.col(INDEX) > 0)
        .then(contributions.list.arg_max().replace_strict(list(range(len(keys))), keys))
        .otherwise(None)
    )
    return frame.select(
        pl.col(KEY),
        *(
            expr
            for d in dims
            for expr in (
                pl.col(d.value).cast(pl.Float64).alias(f"{d.key}_value"),
                pl.col(d.score).alias(f"{d.key}_score"),
                pl.col(d.contribution).alias(f"{d.key}_contribution"),
            )
        ),
        pl.col(INDEX).alias("index"),
        top.alias("top_dimension"),
        pl.col(MULTIPLE).alias("assistance_multiple"),
        pl.col(ASSISTANCE).alias("assistance"),
    )


def registry_poverty_index(
    actor: User | None,
    as_of: date,
    *,
    division: str | None = None,
    household_ids: Iterable[int] | None = None,
) -> pl.DataFrame:
    """:func:`poverty_index_table` over the registry in the actor's jurisdiction (all of
    it for ``actor=None``, the system), keyed by ``household_id`` (the database id)."""
    h, p = registry_frames(actor, as_of, division=division, household_ids=household_ids)
    table = poverty_index_table(h, p, as_of)
    return table.with_columns(pl.col(KEY).cast(pl.Int64)).rename({KEY: "household_id"})


def _shown(variable: Variable, value: Any) -> Any:
    if value is None:
        return None
    if variable.unit in MONEY_UNITS:
        return f"{to_decimal(value):.2f}"
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    number = float(value)
    return int(number) if number.is_integer() else round(number, 4)


def _two(value: Any) -> float:
    return round(float(value or 0.0), 2)


def poverty_index_explanation(actor: User | None, household_id: int, as_of: date) -> dict[str, Any] | None:  # fmt: skip
    """One household's index dimension by dimension: raw figure, score (0–100), weight and
    contribution (their sum is the index), the facts behind them, the assistance table's
    bracket and every parameter read, with the date it took effect and its source.
    ``None`` when the household has no members. The caller has checked the actor's right
    to see the household (``accounts.access``)."""
    h, p = registry_frames(actor, as_of, household_ids=[household_id])
    if p.height == 0:
        return None
    frame, run = _run(h, p, as_of)
    row = frame.row(0, named=True)
    evaluator = default_evaluator()
    variables, parameters = evaluator.variables, evaluator.parameters
    weights = parameters.value(WEIGHTS, as_of)
    dims = []
    for d in dimensions():
        dims.append(
            {
                "key": d.key,
                "label": d.label,
                "rule": d.rule,
                "value": _shown(variables[d.value], row[d.value]),
                "value_label": d.value_label,
                "value_unit": d.value_unit,
                "score": _two(row[d.score]),
                "weight": float(weights[d.key]),
                "contribution": _two(row[d.contribution]),
            }
        )
    table = sorted(parameters.value(TABLE, as_of), key=lambda r: float(r["from_index"]))
    standard = float(row["dibao_standard"])
    index = _two(row[INDEX])
    brackets = []
    for i, r in enumerate(table):
        upper = float(table[i + 1]["from_index"]) if i + 1 < len(table) else None
        brackets.append(
            {
                "from_index": float(r["from_index"]),
                "to_index": upper,
                "multiple": float(r["multiple"]),
                "amount": f"{to_decimal(float(r['multiple']) * standard):.2f}",
                "reached": float(r["from_index"]) <= index and (upper is None or index < upper),
            }
        )
    names = [INDEX, ASSISTANCE]
    used = []
    for name in evaluator.engine.parameters_behind(names, run.parameters_used):
        parameter = parameters.get(name)
        dated = parameter.at(as_of)
        used.append(
            {
                "name": name,
                "label": parameter.label,
                "value": parameters.value(name, as_of),
                "unit": parameter.unit,
                "since": dated.start.isoformat(),
                "source": dated.source,
                "confidence": dated.confidence,
            }
        )
    top = max(dims, key=lambda d: d["contribution"])
    return {
        "household_id": household_id,
        "as_of": as_of.isoformat(),
        "index": index,
        "dimensions": dims,
        "top_dimension": top["key"] if row[INDEX] > 0 else None,
        "facts": [
            {
                "name": n,
                "label": variables[n].label,
                "unit": variables[n].unit,
                "value": _shown(variables[n], row[n]),
            }
            for n in FACTS
        ],
        "assistance": {
            "multiple": float(row[MULTIPLE]),
            "amount": f"{to_decimal(row[ASSISTANCE]):.2f}",
            "hukou_beijing": bool(row["hukou_beijing"]),
            "table": brackets,
        },
        "parameters": used,
    }
