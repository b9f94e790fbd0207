"""Extreme-poverty support (特困人员救助供养), per person: basic living at a multiple of
the dibao standard plus care by dependency tier as a share of the minimum wage.
Beijing extreme-poverty support rules (2017)."""

import narwhals.stable.v2 as nw

from minzheng.rules import (
    PERSON,
    Params,
    aggregate,
    all_of,
    amount_if,
    any_of,
    compare,
    formula,
    round_yuan,
)


@formula(
    "extreme_poverty_category",
    PERSON,
    "老年人、未成年人或重度残疾人",
    "boolean",
    uses=["age", "severely_disabled"],
    true_text="属于老年人、未成年人或重度残疾人",
    false_text="不属于老年人、未成年人或重度残疾人",
)
def extreme_poverty_category(p: Params) -> nw.Expr:
    ages = p("extreme_poverty.ages")
    age = nw.col("age")
    return any_of([age >= ages["elderly_from"], age < ages["child_under"],
                   nw.col("severely_disabled")])  # fmt: skip


@formula("extreme_poverty_no_supporter", PERSON, "无法定赡养抚养扶养人", "boolean",
         uses=["status_no_supporter"], true_text="无法定赡养、抚养、扶养义务人",
         false_text="有法定赡养、抚养、扶养义务人")  # fmt: skip
def extreme_poverty_no_supporter(p: Params) -> nw.Expr:
    return nw.col("status_no_supporter")


extreme_poverty_income_test = compare(
    "extreme_poverty_income_test", PERSON, "本人收入低于低保标准",
    "counted_income", "<", "dibao_standard",
)  # fmt: skip

CONDITIONS = (
    "hukou_beijing",
    "extreme_poverty_category",
    "extreme_poverty_no_supporter",
    "extreme_poverty_income_test",
)


@formula("extreme_poverty_eligible", PERSON, "特困人员", "boolean", uses=CONDITIONS,
         true_text="符合特困人员条件", false_text="不符合特困人员条件")  # fmt: skip
def extreme_poverty_eligible(p: Params) -> nw.Expr:
    return all_of(nw.col(c) for c in CONDITIONS)


@formula("extreme_poverty_basic_living", PERSON, "基本生活标准", "yuan/month",
         uses=["dibao_standard"])  # fmt: skip
def extreme_poverty_basic_living(p: Params) -> nw.Expr:
    return float(p("extreme_poverty.basic_living_multiple_of_dibao")) * nw.col("dibao_standard")


@formula(
    "extreme_poverty_care",
    PERSON,
    "照料护理标准",
    "yuan/month",
    uses=["status_care_tier_1", "status_care_tier_2"],
)
def extreme_poverty_care(p: Params) -> nw.Expr:
    share = p("extreme_poverty.care_share_of_minimum_wage")
    wage = float(p("general.minimum_wage"))
    return (
        nw.when(nw.col("status_care_tier_1"))
        .then(nw.lit(share["fully_dependent"] * wage))
        .otherwise(
            nw.when(nw.col("status_care_tier_2"))
            .then(nw.lit(share["partly_dependent"] * wage))
            .otherwise(nw.lit(share["self_care"] * wage))
        )
    )


@formula("extreme_poverty_amount", PERSON, "特困供养金", "yuan/month",
         uses=["extreme_poverty_eligible", "extreme_poverty_basic_living",
               "extreme_poverty_care"])  # fmt: skip
def extreme_poverty_amount(p: Params) -> nw.Expr:
    return round_yuan(
        amount_if(
            nw.col("extreme_poverty_eligible"),
            nw.col("extreme_poverty_basic_living") + nw.col("extreme_poverty_care"),
        )
    )


has_extreme_poverty = aggregate(
    "has_extreme_poverty", "家有特困人员", "boolean", "extreme_poverty_eligible", "any"
)
