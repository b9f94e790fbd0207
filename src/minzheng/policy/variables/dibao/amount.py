"""Dibao amount: per member the gap to the standard (the full standard for a severely
disabled member) plus one add-on, the higher only; rounded once on the household total.
Single-person cover (单人保) and gradual exit (渐退) where the household itself does not
qualify. 京民社救发〔2018〕445号 §九(二), §十(二)(四)."""

import narwhals.stable.v2 as nw

from minzheng.rules import (
    HOUSEHOLD,
    PERSON,
    Params,
    aggregate,
    amount_if,
    any_of,
    formula,
    positive,
    round_yuan,
)


@formula(
    "dibao_addon",
    PERSON,
    "低保增发",
    "yuan/month",
    uses=["dibao_standard", "age", "severely_disabled", "status_serious_illness",
          "status_student", "status_no_work_capacity"],
    reference="京民社救发〔2018〕445号 §十(二)",
)  # fmt: skip
def dibao_addon(p: Params) -> nw.Expr:
    rate = p("dibao.addon_rate")
    ages = p("dibao.addon_ages")
    standard, age = nw.col("dibao_standard"), nw.col("age")
    higher = nw.col("status_serious_illness") | nw.col("severely_disabled")
    lower = any_of(
        [
            age >= ages["elderly_from"],
            age <= ages["child_up_to"],
            nw.col("status_student"),
            nw.col("status_no_work_capacity"),
        ]
    )
    return (
        nw.when(higher)
        .then(rate["major_disease_or_severe_disability"] * standard)
        .otherwise(
            nw.when(lower)
            .then(rate["elderly_child_student_or_no_work_capacity"] * standard)
            .otherwise(nw.lit(0.0))
        )
    )


@formula(
    "dibao_member_share",
    PERSON,
    "成员低保金（未取整）",
    "yuan/month",
    uses=["dibao_standard", "dibao_pci", "severely_disabled", "dibao_addon",
          "extreme_poverty_eligible"],
)  # fmt: skip
def dibao_member_share(p: Params) -> nw.Expr:
    full = bool(p("dibao.severe_disability_full_standard"))
    standard = nw.col("dibao_standard")
    gap = positive(standard - nw.col("dibao_pci"))
    base = nw.when(nw.col("severely_disabled")).then(standard).otherwise(gap) if full else gap
    # extreme-poverty support replaces dibao for that person
    return amount_if(~nw.col("extreme_poverty_eligible"), base + nw.col("dibao_addon"))


dibao_shares = aggregate(
    "dibao_shares", "成员低保金合计", "yuan/month", "dibao_member_share", "sum"
)


@formula(
    "dibao_single_person_cover",
    PERSON,
    "单人保金额",
    "yuan/month",
    uses=["dibao_standard", "severely_disabled", "extreme_poverty_eligible"],
    reference="京民社救发〔2018〕445号 §九(二)",
)
def dibao_single_person_cover(p: Params) -> nw.Expr:
    rate = p("dibao.addon_rate")["major_disease_or_severe_disability"]
    standard = nw.col("dibao_standard")
    return amount_if(
        nw.col("severely_disabled") & ~nw.col("extreme_poverty_eligible"),
        standard + rate * standard,
    )


dibao_single_person_covers = aggregate(
    "dibao_single_person_covers", "单人保金额合计", "yuan/month",
    "dibao_single_person_cover", "sum",
)  # fmt: skip


@formula(
    "dibao_gradual_exit_amount",
    HOUSEHOLD,
    "渐退期低保金",
    "yuan/month",
    uses=["dibao_previous_amount", "dibao_months_since_work_exit"],
    reference="京民社救发〔2018〕445号 §十(四)",
)
def dibao_gradual_exit_amount(p: Params) -> nw.Expr:
    months = p("dibao.gradual_exit")
    full, half = int(months["full_months"]), int(months["half_months"])
    m, previous = nw.col("dibao_months_since_work_exit"), nw.col("dibao_previous_amount")
    return (
        nw.when((m >= 1) & (m <= full))
        .then(previous)
        .otherwise(
            nw.when((m > full) & (m <= full + half)).then(previous * 0.5).otherwise(nw.lit(0.0))
        )
    )


@formula(
    "dibao_amount",
    HOUSEHOLD,
    "低保金",
    "yuan/month",
    uses=["dibao_means_eligible", "dibao_shares", "low_income_eligible",
          "dibao_single_person_covers", "dibao_gradual_exit_amount"],
)  # fmt: skip
def dibao_amount(p: Params) -> nw.Expr:
    return round_yuan(
        nw.when(nw.col("dibao_means_eligible"))
        .then(nw.col("dibao_shares"))
        .otherwise(
            nw.when(nw.col("low_income_eligible") & (nw.col("dibao_single_person_covers") > 0))
            .then(nw.col("dibao_single_person_covers"))
            .otherwise(nw.col("dibao_gradual_exit_amount"))
        )
    )


@formula(
    "dibao_eligible",
    HOUSEHOLD,
    "享受低保",
    "boolean",
    uses=["dibao_amount"],
    true_text="享受低保",
    false_text="不享受低保",
)
def dibao_eligible(p: Params) -> nw.Expr:
    return nw.col("dibao_amount") > 0
