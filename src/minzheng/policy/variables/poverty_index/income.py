"""Poverty index, income dimension (收入缺口): how far the household's monthly counted income
per member falls below the dibao standard, as a share of the standard.

score = 100 × clip((standard − per-capita income) / standard, 0, 1); no income scores 100,
income at or above the standard scores 0. Project choice (to-confirm)."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, Params, formula, round_half_up


@formula("poverty_index_income_score", HOUSEHOLD, "收入缺口得分", "score",
         uses=["counted_income_per_capita", "dibao_standard"],
         reference="贫困指数（项目取值，待核实）")  # fmt: skip
def poverty_index_income_score(p: Params) -> nw.Expr:
    standard = nw.col("dibao_standard")
    gap = (standard - nw.col("counted_income_per_capita")) / standard
    return 100 * gap.clip(lower_bound=0.0, upper_bound=1.0)


@formula("poverty_index_income_contribution", HOUSEHOLD, "收入缺口贡献", "score",
         uses=["poverty_index_income_score"])  # fmt: skip
def poverty_index_income_contribution(p: Params) -> nw.Expr:
    weight = float(p("poverty_index.weights")["income"])
    return round_half_up(weight * nw.col("poverty_index_income_score"))
