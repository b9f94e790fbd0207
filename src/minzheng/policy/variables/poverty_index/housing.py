"""Poverty index, housing dimension (住房): a household without a house of its own scores
``none``, one with a house or more ``owned`` (``poverty_index.housing_scores``); floor area
and the state of the dwelling are not recorded yet. Project choice (to-confirm)."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, Params, formula, round_half_up


@formula("poverty_index_housing_score", HOUSEHOLD, "住房得分", "score", uses=["houses"],
         reference="贫困指数（项目取值，待核实）")  # fmt: skip
def poverty_index_housing_score(p: Params) -> nw.Expr:
    scores = p("poverty_index.housing_scores")
    return (
        nw.when(nw.col("houses") <= 0)
        .then(nw.lit(float(scores["none"])))
        .otherwise(nw.lit(float(scores["owned"])))
    )


@formula("poverty_index_housing_contribution", HOUSEHOLD, "住房贡献", "score",
         uses=["poverty_index_housing_score"])  # fmt: skip
def poverty_index_housing_contribution(p: Params) -> nw.Expr:
    weight = float(p("poverty_index.weights")["housing"])
    return round_half_up(weight * nw.col("poverty_index_housing_score"))
