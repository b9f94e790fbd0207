"""Dibao means test: hukou, income, monetary assets, houses, vehicles, business.
京民社救发〔2018〕445号 §九; vehicle easing for serious illness (2019)."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, Params, all_of, compare, formula

dibao_income_test = compare(
    "dibao_income_test", HOUSEHOLD, "人均收入低于低保标准", "dibao_pci", "<", "dibao_standard"
)


@formula("dibao_assets_limit", HOUSEHOLD, "人均货币财产限额", "yuan", uses=["dibao_standard"])
def dibao_assets_limit(p: Params) -> nw.Expr:
    return float(p("dibao.monetary_assets_limit_months")) * nw.col("dibao_standard")


dibao_assets_test = compare(
    "dibao_assets_test", HOUSEHOLD, "人均货币财产低于限额",
    "monetary_assets_per_capita", "<", "dibao_assets_limit",
)  # fmt: skip


@formula("dibao_houses_limit", HOUSEHOLD, "住房套数上限", "count")
def dibao_houses_limit(p: Params) -> nw.Expr:
    return nw.lit(int(p("dibao.max_houses")))


dibao_houses_test = compare(
    "dibao_houses_test", HOUSEHOLD, "住房不超过上限", "houses", "<=", "dibao_houses_limit"
)


@formula("dibao_vehicles_limit", HOUSEHOLD, "机动车数上限", "count", uses=["has_serious_illness"])
def dibao_vehicles_limit(p: Params) -> nw.Expr:
    allowed = int(p("dibao.vehicles_allowed"))
    if_ill = int(p("dibao.vehicle_allowed_if_serious_illness"))
    return (
        nw.when(nw.col("has_serious_illness"))
        .then(nw.lit(max(allowed, if_ill)))
        .otherwise(nw.lit(allowed))
    )


dibao_vehicles_test = compare(
    "dibao_vehicles_test", HOUSEHOLD, "机动车不超过上限", "vehicles", "<=", "dibao_vehicles_limit"
)


@formula(
    "dibao_business_test",
    HOUSEHOLD,
    "无经营实体",
    "boolean",
    uses=["business"],
    true_text="家庭无经营实体",
    false_text="家庭有经营实体，不符合低保条件",
)
def dibao_business_test(p: Params) -> nw.Expr:
    allowed = bool(p("dibao.business_allowed"))
    return nw.lit(True) if allowed else ~nw.col("business")


CONDITIONS = (
    "hukou_beijing",
    "dibao_income_test",
    "dibao_assets_test",
    "dibao_houses_test",
    "dibao_vehicles_test",
    "dibao_business_test",
)


@formula("dibao_means_eligible", HOUSEHOLD, "符合低保条件", "boolean", uses=CONDITIONS,
         true_text="符合低保条件", false_text="不符合低保条件")  # fmt: skip
def dibao_means_eligible(p: Params) -> nw.Expr:
    return all_of(nw.col(c) for c in CONDITIONS)
