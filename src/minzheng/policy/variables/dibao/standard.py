"""The dibao standard in force on the as-of date (元/人·月)."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, Params, formula


@formula("dibao_standard", HOUSEHOLD, "低保标准", "yuan/month",
         reference="京民社救发〔2024〕80号 等")  # fmt: skip
def dibao_standard(p: Params) -> nw.Expr:
    return nw.lit(float(p("dibao.standard")))
