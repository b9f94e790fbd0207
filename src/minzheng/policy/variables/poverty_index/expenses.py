"""Poverty index, expenses dimension (医疗教育支出): the month's necessary spending — medical
and education expenses plus one twelfth of the year's medical bills left after insurance —
as a share of the household's monthly counted income, taken as at least members × the
dibao standard (so that a household without income is measured against the standard).

score = 100 × clip(share / full share, 0, 1). Project choice (to-confirm)."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, Params, formula, positive, round_half_up


@formula("poverty_index_bills_monthly", HOUSEHOLD, "医保后自付医疗费（月均）", "yuan/month",
         uses=["outpatient_total", "outpatient_insurance_paid", "inpatient_total",
               "inpatient_insurance_paid"])  # fmt: skip
def poverty_index_bills_monthly(p: Params) -> nw.Expr:
    outpatient = positive(nw.col("outpatient_total") - nw.col("outpatient_insurance_paid"))
    inpatient = positive(nw.col("inpatient_total") - nw.col("inpatient_insurance_paid"))
    return (outpatient + inpatient) / 12


@formula("poverty_index_spending", HOUSEHOLD, "月医疗教育支出", "yuan/month",
         uses=["medical_monthly", "education_monthly", "poverty_index_bills_monthly"])  # fmt: skip
def poverty_index_spending(p: Params) -> nw.Expr:
    return (
        nw.col("medical_monthly") + nw.col("education_monthly")
        + nw.col("poverty_index_bills_monthly")
    )  # fmt: skip


@formula("poverty_index_expense_base", HOUSEHOLD, "支出负担的计算基数", "yuan/month",
         uses=["household_counted_income", "members", "dibao_standard"])  # fmt: skip
def poverty_index_expense_base(p: Params) -> nw.Expr:
    income = nw.col("household_counted_income")
    floor = nw.col("members") * nw.col("dibao_standard")
    # not max_horizontal: Polars 1.44 gives a length-1 column for it over two broadcast
    # household values (the one-household path)
    return nw.when(income > floor).then(income).otherwise(floor)


@formula("poverty_index_expense_share", HOUSEHOLD, "医疗教育支出负担", "share",
         uses=["poverty_index_spending", "poverty_index_expense_base"])  # fmt: skip
def poverty_index_expense_share(p: Params) -> nw.Expr:
    return nw.col("poverty_index_spending") / nw.col("poverty_index_expense_base")


@formula("poverty_index_expenses_score", HOUSEHOLD, "医疗教育支出得分", "score",
         uses=["poverty_index_expense_share"], reference="贫困指数（项目取值，待核实）")  # fmt: skip
def poverty_index_expenses_score(p: Params) -> nw.Expr:
    full = float(p("poverty_index.expenses_full_share"))
    return 100 * (nw.col("poverty_index_expense_share") / full).clip(0.0, 1.0)


@formula("poverty_index_expenses_contribution", HOUSEHOLD, "医疗教育支出贡献", "score",
         uses=["poverty_index_expenses_score"])  # fmt: skip
def poverty_index_expenses_contribution(p: Params) -> nw.Expr:
    weight = float(p("poverty_index.weights")["expenses"])
    return round_half_up(weight * nw.col("poverty_index_expenses_score"))
