"""Poverty index, assets dimension (货币财产): monetary assets (deposits and securities) per
member against the dibao assets limit (months × standard).

score = 100 × (1 − clip(per-capita monetary assets / limit, 0, 1)); no savings scores 100,
savings at or above the limit score 0. Project choice (to-confirm)."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, Params, formula, round_half_up


@formula("poverty_index_assets_score", HOUSEHOLD, "货币财产得分", "score",
         uses=["monetary_assets_per_capita", "dibao_assets_limit"],
         reference="贫困指数（项目取值，待核实）")  # fmt: skip
def poverty_index_assets_score(p: Params) -> nw.Expr:
    used = nw.col("monetary_assets_per_capita") / nw.col("dibao_assets_limit")
    return 100 * (1 - used.clip(lower_bound=0.0, upper_bound=1.0))


@formula("poverty_index_assets_contribution", HOUSEHOLD, "货币财产贡献", "score",
         uses=["poverty_index_assets_score"])  # fmt: skip
def poverty_index_assets_contribution(p: Params) -> nw.Expr:
    weight = float(p("poverty_index.weights")["assets"])
    return round_half_up(weight * nw.col("poverty_index_assets_score"))
