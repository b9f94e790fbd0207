"""Low-income household (低收入家庭): the line is Beijing's minimum wage; no cash of its
own, it opens other assistance. 京民社救发〔2018〕445号 §十一."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, Params, all_of, compare, formula


@formula("low_income_line", HOUSEHOLD, "低收入认定标准（本市最低工资）", "yuan/month")
def low_income_line(p: Params) -> nw.Expr:
    return nw.lit(float(p("general.minimum_wage")))


low_income_income_test = compare(
    "low_income_income_test", HOUSEHOLD, "人均收入低于低收入标准",
    "counted_income_per_capita", "<", "low_income_line",
)  # fmt: skip


@formula("low_income_assets_limit", HOUSEHOLD, "人均货币财产限额", "yuan",
         uses=["low_income_line"])  # fmt: skip
def low_income_assets_limit(p: Params) -> nw.Expr:
    return float(p("low_income.monetary_assets_limit_months")) * nw.col("low_income_line")


low_income_assets_test = compare(
    "low_income_assets_test", HOUSEHOLD, "人均货币财产低于限额",
    "monetary_assets_per_capita", "<", "low_income_assets_limit",
)  # fmt: skip


@formula("low_income_vehicles_limit", HOUSEHOLD, "机动车数上限", "count")
def low_income_vehicles_limit(p: Params) -> nw.Expr:
    return nw.lit(int(p("low_income.vehicles_allowed")))


low_income_vehicles_test = compare(
    "low_income_vehicles_test", HOUSEHOLD, "机动车不超过上限",
    "vehicles", "<=", "low_income_vehicles_limit",
)  # fmt: skip


@formula(
    "low_income_not_dibao",
    HOUSEHOLD,
    "不符合低保条件",
    "boolean",
    uses=["dibao_means_eligible"],
    true_text="不符合低保条件（按低收入家庭认定）",
    false_text="已符合低保条件，按低保救助",
)
def low_income_not_dibao(p: Params) -> nw.Expr:
    return ~nw.col("dibao_means_eligible")


CONDITIONS = (
    "hukou_beijing",
    "low_income_not_dibao",
    "low_income_income_test",
    "low_income_assets_test",
    "low_income_vehicles_test",
    "dibao_houses_test",
    "dibao_business_test",
)


@formula("low_income_eligible", HOUSEHOLD, "低收入家庭", "boolean", uses=CONDITIONS,
         true_text="认定为低收入家庭", false_text="不符合低收入家庭条件")  # fmt: skip
def low_income_eligible(p: Params) -> nw.Expr:
    return all_of(nw.col(c) for c in CONDITIONS)


@formula("low_income_amount", HOUSEHOLD, "低收入家庭（无现金待遇）", "yuan/month")
def low_income_amount(p: Params) -> nw.Expr:
    return nw.lit(0.0)
