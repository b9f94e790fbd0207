"""Income for dibao (分类救助): employment incentive per income line, then the household's
deduction for a major disease or severe disability, then per capita.
京民社救发〔2018〕445号 §十(一)(三)."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, PERSON, Params, aggregate, formula, positive
from minzheng.rules.frames import INCOME_TYPES

SPECIAL = ("wage", "business")


@formula(
    "dibao_income",
    PERSON,
    "个人计入低保的收入",
    "yuan/month",
    uses=["dibao_standard", *(f"income_{t}" for t in INCOME_TYPES)],
    reference="京民社救发〔2018〕445号 §十(三)",
)
def dibao_income(p: Params) -> nw.Expr:
    counted = p("general.income_counted")
    incentive = p("dibao.employment_incentive")
    standard = nw.col("dibao_standard")
    wage = nw.col("income_wage")
    business = nw.col("income_business")
    wage_counted = positive(wage - incentive["deduction"] * standard)
    business_counted = (
        nw.when(business >= incentive["self_employed_band_upper"] * standard)
        .then(business - incentive["deduction"] * standard)
        .otherwise(nw.when(business >= standard).then(standard).otherwise(business))
    )
    parts = [nw.col(f"income_{t}") for t in INCOME_TYPES if counted.get(t) and t not in SPECIAL]
    if counted.get("wage"):
        parts.append(wage_counted)
    if counted.get("business"):
        parts.append(business_counted)
    return nw.sum_horizontal(*parts)


dibao_income_before_deduction = aggregate(
    "dibao_income_before_deduction", "家庭计入低保的收入（核减前）", "yuan/month",
    "dibao_income", "sum",
)  # fmt: skip


@formula(
    "dibao_income_deduction",
    HOUSEHOLD,
    "收入核减（重病或重度残疾）",
    "yuan/month",
    uses=["dibao_standard", "has_serious_illness", "has_severely_disabled"],
    reference="京民社救发〔2018〕445号 §十(一)",
)
def dibao_income_deduction(p: Params) -> nw.Expr:
    rate = float(p("dibao.income_deduction_rate"))
    return (
        nw.when(nw.col("has_serious_illness") | nw.col("has_severely_disabled"))
        .then(rate * nw.col("dibao_standard"))
        .otherwise(nw.lit(0.0))
    )


@formula(
    "dibao_counted_income",
    HOUSEHOLD,
    "家庭计入低保的月收入",
    "yuan/month",
    uses=["dibao_income_before_deduction", "dibao_income_deduction"],
)
def dibao_counted_income(p: Params) -> nw.Expr:
    return positive(nw.col("dibao_income_before_deduction") - nw.col("dibao_income_deduction"))


@formula(
    "dibao_pci",
    HOUSEHOLD,
    "家庭月人均收入（低保口径）",
    "yuan/month",
    uses=["dibao_counted_income", "members"],
)
def dibao_pci(p: Params) -> nw.Expr:
    return nw.col("dibao_counted_income") / nw.col("members")
