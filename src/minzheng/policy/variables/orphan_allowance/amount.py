"""Orphan allowance (孤儿基本生活费): each orphan under the age limit, per month."""

import narwhals.stable.v2 as nw

from minzheng.rules import PERSON, Params, amount_if, formula, round_yuan


@formula("orphan_allowance_amount", PERSON, "孤儿基本生活费", "yuan/month",
         uses=["hukou_beijing", "status_orphan", "age"])  # fmt: skip
def orphan_allowance_amount(p: Params) -> nw.Expr:
    value = p("orphan_allowance.amount")
    # before 2022 the figure differed by placement; the registry does not record placement,
    # so the scattered (family-based) figure applies
    amount = float(value["scattered"] if isinstance(value, dict) else value)
    return round_yuan(
        amount_if(
            nw.col("hukou_beijing")
            & nw.col("status_orphan")
            & (nw.col("age") < int(p("orphan_allowance.max_age"))),
            nw.lit(amount),
        )
    )


@formula("orphan_allowance_status", PERSON, "孤儿", "boolean", uses=["status_orphan"],
         true_text="登记为孤儿", false_text="未登记为孤儿")  # fmt: skip
def orphan_allowance_status(p: Params) -> nw.Expr:
    return nw.col("status_orphan")
