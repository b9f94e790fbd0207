"""The 65+ preferential card (老年人优待卡): eligibility only."""

import narwhals.stable.v2 as nw

from minzheng.rules import PERSON, Params, compare, formula


@formula("preferential_card_min_age", PERSON, "优待卡年龄", "years")
def preferential_card_min_age(p: Params) -> nw.Expr:
    return nw.lit(int(p("preferential_card.min_age")))


preferential_card_age_test = compare(
    "preferential_card_age_test", PERSON, "达到优待卡年龄", "age", ">=",
    "preferential_card_min_age",
)  # fmt: skip


@formula("preferential_card_eligible", PERSON, "可申领优待卡", "boolean",
         uses=["hukou_beijing", "preferential_card_age_test"],
         true_text="可申领老年人优待卡", false_text="不符合优待卡条件")  # fmt: skip
def preferential_card_eligible(p: Params) -> nw.Expr:
    return nw.col("hukou_beijing") & nw.col("preferential_card_age_test")


@formula("preferential_card_amount", PERSON, "优待卡（无现金）", "yuan/month")
def preferential_card_amount(p: Params) -> nw.Expr:
    return nw.lit(0.0)
