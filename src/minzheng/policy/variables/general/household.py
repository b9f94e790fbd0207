"""Household facts every means test reads: size, hukou, counted income, monetary assets."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, PERSON, Params, aggregate, formula
from minzheng.rules.frames import INCOME_TYPES


@formula("member_count", PERSON, "成员计数", "persons")
def member_count(p: Params) -> nw.Expr:
    return nw.lit(1)


members = aggregate("members", "家庭人口", "persons", "member_count", "sum")


@formula(
    "hukou_beijing",
    HOUSEHOLD,
    "本市户籍",
    "boolean",
    uses=["hukou"],
    true_text="本市户籍",
    false_text="非本市户籍，本市救助项目不适用",
)
def hukou_beijing(p: Params) -> nw.Expr:
    return nw.col("hukou") == "beijing"


@formula(
    "counted_income",
    PERSON,
    "个人计入收入",
    "yuan/month",
    uses=[f"income_{t}" for t in INCOME_TYPES],
    reference="京民社救发〔2018〕445号",
)
def counted_income(p: Params) -> nw.Expr:
    counted = p("general.income_counted")
    return nw.sum_horizontal(
        *(nw.col(f"income_{t}") for t in INCOME_TYPES if counted.get(t, False))
    )


household_counted_income = aggregate(
    "household_counted_income", "家庭月收入（计入部分）", "yuan/month", "counted_income", "sum"
)


@formula(
    "counted_income_per_capita",
    HOUSEHOLD,
    "家庭月人均收入",
    "yuan/month",
    uses=["household_counted_income", "members"],
)
def counted_income_per_capita(p: Params) -> nw.Expr:
    return nw.col("household_counted_income") / nw.col("members")


@formula("monetary_assets", HOUSEHOLD, "货币财产", "yuan", uses=["deposits", "securities"])
def monetary_assets(p: Params) -> nw.Expr:
    return nw.col("deposits") + nw.col("securities")


@formula(
    "monetary_assets_per_capita",
    HOUSEHOLD,
    "人均货币财产",
    "yuan",
    uses=["monetary_assets", "members"],
)
def monetary_assets_per_capita(p: Params) -> nw.Expr:
    return nw.col("monetary_assets") / nw.col("members")
