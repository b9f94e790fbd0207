"""Education assistance (教育救助): a monthly amount by school stage for each member in
education in a dibao or low-income household, or who receives extreme-poverty support."""

import narwhals.stable.v2 as nw

from minzheng.rules import PERSON, Params, amount_if, formula, round_yuan

STAGES = ("preschool", "primary", "junior", "senior", "college", "postgraduate")


@formula("education_in_school", PERSON, "在学", "boolean", uses=["schooling", "status_student"],
         true_text="在学", false_text="不在学")  # fmt: skip
def education_in_school(p: Params) -> nw.Expr:
    return nw.col("schooling").is_in(list(STAGES)) | nw.col("status_student")


@formula(
    "education_household_assisted",
    PERSON,
    "低保、低收入家庭或特困人员",
    "boolean",
    uses=["hukou_beijing", "dibao_means_eligible", "low_income_eligible",
          "extreme_poverty_eligible"],
    true_text="属于低保、低收入家庭或特困人员",
    false_text="不属于低保、低收入家庭或特困人员",
)  # fmt: skip
def education_household_assisted(p: Params) -> nw.Expr:
    return nw.col("hukou_beijing") & (
        nw.col("dibao_means_eligible")
        | nw.col("low_income_eligible")
        | nw.col("extreme_poverty_eligible")
    )


@formula("education_assistance_amount", PERSON, "教育救助金额", "yuan/month",
         uses=["education_in_school", "education_household_assisted", "schooling"])  # fmt: skip
def education_assistance_amount(p: Params) -> nw.Expr:
    amounts = p("education_assistance.amount")
    stage = nw.col("schooling")
    # a full-time student with no stage recorded is taken to be in college
    value: nw.Expr = nw.lit(float(amounts["college"]))
    for name in STAGES:
        value = nw.when(stage == name).then(nw.lit(float(amounts[name]))).otherwise(value)
    return round_yuan(
        amount_if(nw.col("education_in_school") & nw.col("education_household_assisted"), value)
    )
