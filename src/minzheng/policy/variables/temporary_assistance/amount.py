"""Temporary assistance (临时救助), expenditure type: a share of necessary spending (what
medical bills leave after insurance and medical assistance, plus this month's medical and
education expenses) when that spending pushes per-capita income below the dibao standard;
capped at a multiple of the standard. The urgent-type ceiling is shown for the worker.
京民社救发〔2020〕86号. The poverty index will refine the amount."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, Params, all_of, compare, formula, positive, round_yuan


@formula("temporary_assistance_spending", HOUSEHOLD, "必需支出", "yuan",
         uses=["medical_charity_remaining", "medical_monthly", "education_monthly"])  # fmt: skip
def temporary_assistance_spending(p: Params) -> nw.Expr:
    return (
        nw.col("medical_charity_remaining") + nw.col("medical_monthly")
        + nw.col("education_monthly")
    )  # fmt: skip


@formula("temporary_assistance_pci_after_spending", HOUSEHOLD, "支出后家庭月人均收入",
         "yuan/month", uses=["household_counted_income", "temporary_assistance_spending",
                             "members"])  # fmt: skip
def temporary_assistance_pci_after_spending(p: Params) -> nw.Expr:
    return (nw.col("household_counted_income") - nw.col("temporary_assistance_spending")) / nw.col(
        "members"
    )


temporary_assistance_hardship_test = compare(
    "temporary_assistance_hardship_test", HOUSEHOLD, "支出后人均收入低于低保标准",
    "temporary_assistance_pci_after_spending", "<", "dibao_standard",
)  # fmt: skip


@formula("temporary_assistance_has_spending", HOUSEHOLD, "有必需支出", "boolean",
         uses=["temporary_assistance_spending"], true_text="有医疗、教育等必需支出",
         false_text="无医疗、教育等必需支出")  # fmt: skip
def temporary_assistance_has_spending(p: Params) -> nw.Expr:
    return nw.col("temporary_assistance_spending") > 0


CONDITIONS = (
    "hukou_beijing",
    "temporary_assistance_has_spending",
    "temporary_assistance_hardship_test",
)


@formula("temporary_assistance_eligible", HOUSEHOLD, "支出型临时救助", "boolean",
         uses=CONDITIONS, true_text="符合支出型临时救助条件",
         false_text="不符合支出型临时救助条件")  # fmt: skip
def temporary_assistance_eligible(p: Params) -> nw.Expr:
    return all_of(nw.col(c) for c in CONDITIONS)


@formula("temporary_assistance_share", HOUSEHOLD, "救助比例", "share",
         uses=["dibao_means_eligible", "temporary_assistance_spending", "dibao_standard"])  # fmt: skip
def temporary_assistance_share(p: Params) -> nw.Expr:
    shares = p("temporary_assistance.expenditure_share")
    larger = float(p("temporary_assistance.larger_expenditure_multiple_of_dibao"))
    big = nw.col("temporary_assistance_spending") >= larger * nw.col("dibao_standard")
    dibao = (
        nw.when(big)
        .then(nw.lit(float(shares["dibao"][1])))
        .otherwise(nw.lit(float(shares["dibao"][0])))
    )
    other = (
        nw.when(big)
        .then(nw.lit(float(shares["other"][1])))
        .otherwise(nw.lit(float(shares["other"][0])))
    )
    return nw.when(nw.col("dibao_means_eligible")).then(dibao).otherwise(other)


@formula("temporary_assistance_cap", HOUSEHOLD, "支出型救助上限", "yuan",
         uses=["dibao_standard"])  # fmt: skip
def temporary_assistance_cap(p: Params) -> nw.Expr:
    return float(p("temporary_assistance.expenditure_cap_multiple_of_dibao")) * nw.col(
        "dibao_standard"
    )


@formula("temporary_assistance_urgent_ceiling", HOUSEHOLD, "急难型救助一般上限", "yuan",
         uses=["dibao_standard", "members"])  # fmt: skip
def temporary_assistance_urgent_ceiling(p: Params) -> nw.Expr:
    return round_yuan(
        float(p("temporary_assistance.general_multiple_of_dibao"))
        * nw.col("dibao_standard") * nw.col("members")
    )  # fmt: skip


@formula("temporary_assistance_amount", HOUSEHOLD, "临时救助金额", "yuan",
         uses=["temporary_assistance_eligible", "temporary_assistance_share",
               "temporary_assistance_spending", "temporary_assistance_cap"])  # fmt: skip
def temporary_assistance_amount(p: Params) -> nw.Expr:
    amount = nw.min_horizontal(
        nw.col("temporary_assistance_share") * nw.col("temporary_assistance_spending"),
        nw.col("temporary_assistance_cap"),
    )
    return round_yuan(
        nw.when(nw.col("temporary_assistance_eligible")).then(positive(amount)).otherwise(0.0)
    )
