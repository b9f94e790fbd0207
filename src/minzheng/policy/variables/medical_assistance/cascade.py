"""Medical assistance and the support cascade (先保险后救助再慈善, from 2023): insurance pays
first; assistance covers a share of what remains, up to an annual cap; what still remains
is offered to charity. Bills are the household's bills of the as-of year."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, Params, formula, positive, round_yuan


@formula("medical_outpatient_remaining", HOUSEHOLD, "门诊医保后自付", "yuan",
         uses=["outpatient_total", "outpatient_insurance_paid"])  # fmt: skip
def medical_outpatient_remaining(p: Params) -> nw.Expr:
    deductible = float(p("medical_assistance.deductible"))
    return positive(nw.col("outpatient_total") - nw.col("outpatient_insurance_paid") - deductible)


@formula("medical_inpatient_remaining", HOUSEHOLD, "住院医保后自付", "yuan",
         uses=["inpatient_total", "inpatient_insurance_paid", "outpatient_total",
               "outpatient_insurance_paid"])  # fmt: skip
def medical_inpatient_remaining(p: Params) -> nw.Expr:
    # the deductible is taken from outpatient costs first, then from inpatient ones
    deductible = float(p("medical_assistance.deductible"))
    left = positive(deductible - (nw.col("outpatient_total") - nw.col("outpatient_insurance_paid")))
    return positive(nw.col("inpatient_total") - nw.col("inpatient_insurance_paid") - left)


@formula("medical_remaining", HOUSEHOLD, "医保后自付合计", "yuan",
         uses=["medical_outpatient_remaining", "medical_inpatient_remaining"])  # fmt: skip
def medical_remaining(p: Params) -> nw.Expr:
    return nw.col("medical_outpatient_remaining") + nw.col("medical_inpatient_remaining")


@formula(
    "medical_illness_induced",
    HOUSEHOLD,
    "因病致贫家庭",
    "boolean",
    uses=["hukou_beijing", "dibao_means_eligible", "low_income_eligible", "medical_remaining",
          "household_counted_income", "members", "low_income_line"],
    true_text="医疗费用使家庭年人均收入低于低收入标准（因病致贫）",
    false_text="不属于因病致贫家庭",
)  # fmt: skip
def medical_illness_induced(p: Params) -> nw.Expr:
    # project reading: after paying the year's remaining costs, per-capita annual income
    # falls below twelve months of the low-income line
    after = nw.col("household_counted_income") * 12 - nw.col("medical_remaining")
    return (
        nw.col("hukou_beijing")
        & ~nw.col("dibao_means_eligible")
        & ~nw.col("low_income_eligible")
        & (nw.col("medical_remaining") > 0)
        & (after / nw.col("members") < nw.col("low_income_line") * 12)
    )


def _capped(value: nw.Expr, cap: float | None) -> nw.Expr:
    return value if cap is None else value.clip(upper_bound=float(cap))


@formula(
    "medical_assistance_amount",
    HOUSEHOLD,
    "医疗救助金额",
    "yuan/year",
    uses=["has_extreme_poverty", "dibao_means_eligible", "low_income_eligible",
          "medical_illness_induced", "medical_outpatient_remaining",
          "medical_inpatient_remaining", "medical_remaining", "hukou_beijing"],
    reference="2023 Beijing medical-assistance rules",
)  # fmt: skip
def medical_assistance_amount(p: Params) -> nw.Expr:
    ratio, cap = p("medical_assistance.ratio"), p("medical_assistance.annual_cap")
    limits = p("medical_assistance.illness_induced_band_limits")
    bands = ratio["illness_induced_bands"]
    out, inp = nw.col("medical_outpatient_remaining"), nw.col("medical_inpatient_remaining")
    total = nw.col("medical_remaining")
    extreme = _capped(float(ratio["extreme_poverty"]) * total, cap["extreme_poverty"])
    dibao = _capped(ratio["dibao_outpatient"] * out, cap["outpatient"]) + _capped(
        ratio["dibao_inpatient"] * inp, cap["inpatient"]
    )
    low = _capped(ratio["low_income_outpatient"] * out, cap["outpatient"]) + _capped(
        ratio["low_income_inpatient"] * inp, cap["inpatient"]
    )
    # progressive bands: 30 % up to the first limit, 40 % to the second, 50 % above
    edges = [0.0, *(float(x) for x in limits)]
    pieces = []
    for k, rate in enumerate(bands):
        lower = edges[k]
        upper = edges[k + 1] if k + 1 < len(edges) else None
        span = positive(total - lower)
        if upper is not None:
            span = span.clip(upper_bound=upper - lower)
        pieces.append(float(rate) * span)
    illness = _capped(nw.sum_horizontal(*pieces), cap["illness_induced"])
    amount = (
        nw.when(nw.col("has_extreme_poverty"))
        .then(extreme)
        .otherwise(
            nw.when(nw.col("dibao_means_eligible"))
            .then(dibao)
            .otherwise(
                nw.when(nw.col("low_income_eligible"))
                .then(low)
                .otherwise(nw.when(nw.col("medical_illness_induced")).then(illness).otherwise(0.0))
            )
        )
    )
    return round_yuan(nw.when(nw.col("hukou_beijing")).then(amount).otherwise(nw.lit(0.0)))


@formula("medical_charity_remaining", HOUSEHOLD, "救助后仍需自付（可转介慈善）", "yuan",
         uses=["medical_remaining", "medical_assistance_amount"])  # fmt: skip
def medical_charity_remaining(p: Params) -> nw.Expr:
    return round_yuan(positive(nw.col("medical_remaining") - nw.col("medical_assistance_amount")))


@formula("medical_assistance_eligible", HOUSEHOLD, "可获医疗救助", "boolean",
         uses=["medical_assistance_amount"], true_text="可获医疗救助",
         false_text="无医疗救助（无自付费用或不属救助对象）")  # fmt: skip
def medical_assistance_eligible(p: Params) -> nw.Expr:
    return nw.col("medical_assistance_amount") > 0
