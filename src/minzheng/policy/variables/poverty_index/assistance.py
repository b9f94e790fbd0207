"""Temporary assistance from the poverty index (按贫困指数的临时救助标准表): the highest
bracket the index reaches gives a multiple of the monthly dibao standard, paid once per
household; below the lowest bracket nothing is suggested. Beijing hukou is required, as
for every programme. A suggestion beside the expenditure-type amount of
``temporary_assistance``, not a replacement. Project choice (to-confirm)."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, Params, amount_if, formula, round_yuan


@formula("poverty_index_assistance_multiple", HOUSEHOLD, "临时救助倍数（按贫困指数）",
         "multiple_of_standard", uses=["poverty_index"])  # fmt: skip
def poverty_index_assistance_multiple(p: Params) -> nw.Expr:
    table = sorted(p("poverty_index.assistance_table"), key=lambda row: float(row["from_index"]))
    value: nw.Expr = nw.lit(0.0)
    for row in table:  # later (higher) brackets take precedence
        reached = nw.col("poverty_index") >= float(row["from_index"])
        value = nw.when(reached).then(nw.lit(float(row["multiple"]))).otherwise(value)
    return value


@formula("poverty_index_assistance", HOUSEHOLD, "建议临时救助金额（按贫困指数）", "yuan",
         uses=["hukou_beijing", "poverty_index_assistance_multiple", "dibao_standard"],
         reference="按贫困指数的临时救助标准表（项目取值，待核实）")  # fmt: skip
def poverty_index_assistance(p: Params) -> nw.Expr:
    amount = nw.col("poverty_index_assistance_multiple") * nw.col("dibao_standard")
    return round_yuan(amount_if(nw.col("hukou_beijing"), amount))
