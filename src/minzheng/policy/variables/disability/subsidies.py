"""The two disability subsidies (残疾人两项补贴), 京民福发〔2016〕434号: the living subsidy
for disabled members of dibao and low-income households, and the severe-care subsidy by
grade and kind regardless of income. Neither counts as income; extreme-poverty support
replaces both for that person."""

import narwhals.stable.v2 as nw

from minzheng.rules import PERSON, Params, amount_if, formula, round_yuan


@formula(
    "disability_living_subsidy_amount",
    PERSON,
    "困难残疾人生活补贴",
    "yuan/month",
    uses=["hukou_beijing", "disabled", "severely_disabled", "dibao_means_eligible",
          "low_income_eligible", "extreme_poverty_eligible"],
    reference="京民福发〔2016〕434号",
)  # fmt: skip
def disability_living_subsidy_amount(p: Params) -> nw.Expr:
    rates = p("disability.living_subsidy")
    severe = nw.col("severely_disabled")
    dibao = (
        nw.when(severe)
        .then(nw.lit(float(rates["dibao_severe"])))
        .otherwise(nw.lit(float(rates["dibao_other"])))
    )
    # a severely disabled member of a low-income household has single-person dibao instead
    low = amount_if(~severe, nw.lit(float(rates["low_income_other"])))
    amount = (
        nw.when(nw.col("dibao_means_eligible"))
        .then(dibao)
        .otherwise(nw.when(nw.col("low_income_eligible")).then(low).otherwise(nw.lit(0.0)))
    )
    return round_yuan(
        amount_if(
            nw.col("hukou_beijing") & nw.col("disabled") & ~nw.col("extreme_poverty_eligible"),
            amount,
        )
    )


@formula(
    "disability_care_level",
    PERSON,
    "护理补贴档次（2 高档，1 低档，0 无）",
    "level",
    uses=["disability_grade", "disability_kind"],
)
def disability_care_level(p: Params) -> nw.Expr:
    grade, kind = nw.col("disability_grade"), nw.col("disability_kind")
    high = ((grade == 1) & kind.is_in(["visual", "physical", "intellectual", "mental",
                                       "multiple"])) | (
        (grade == 2) & kind.is_in(["intellectual", "mental", "multiple"])
    )  # fmt: skip
    low = (
        ((grade == 2) & kind.is_in(["visual", "physical"]))
        | ((grade == 3) & kind.is_in(["intellectual", "mental"]))
        | ((grade >= 1) & (grade <= 2) & kind.is_in(["hearing", "speech"]))
    )
    return nw.when(high).then(nw.lit(2)).otherwise(nw.when(low).then(nw.lit(1)).otherwise(0))


@formula(
    "disability_care_subsidy_amount",
    PERSON,
    "重度残疾人护理补贴",
    "yuan/month",
    uses=["hukou_beijing", "disability_care_level", "extreme_poverty_eligible"],
    reference="京民福发〔2016〕434号",
)
def disability_care_subsidy_amount(p: Params) -> nw.Expr:
    rates = p("disability.severe_care_subsidy")
    level = nw.col("disability_care_level")
    amount = (
        nw.when(level == 2)
        .then(nw.lit(float(rates["high"])))
        .otherwise(nw.when(level == 1).then(nw.lit(float(rates["low"]))).otherwise(nw.lit(0.0)))
    )
    return round_yuan(
        amount_if(nw.col("hukou_beijing") & ~nw.col("extreme_poverty_eligible"), amount)
    )
