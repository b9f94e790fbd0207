"""Age allowance (高龄津贴) by age band, for members with Beijing hukou; age counts from the
birthday. 京民养老发〔2019〕160号."""

import narwhals.stable.v2 as nw

from minzheng.rules import PERSON, Params, amount_if, compare, formula, round_yuan


@formula("age_allowance_amount", PERSON, "高龄津贴", "yuan/month", uses=["hukou_beijing", "age"])
def age_allowance_amount(p: Params) -> nw.Expr:
    age = nw.col("age")
    value: nw.Expr = nw.lit(0.0)
    for band in p("age_allowance.bands"):
        inside = age >= int(band["from_age"])
        if band.get("to_age") is not None:
            inside = inside & (age <= int(band["to_age"]))
        value = nw.when(inside).then(nw.lit(float(band["amount"]))).otherwise(value)
    return round_yuan(amount_if(nw.col("hukou_beijing"), value))


@formula("age_allowance_min_age", PERSON, "高龄津贴起始年龄", "years")
def age_allowance_min_age(p: Params) -> nw.Expr:
    return nw.lit(min(int(band["from_age"]) for band in p("age_allowance.bands")))


age_allowance_age_test = compare(
    "age_allowance_age_test", PERSON, "达到高龄津贴年龄", "age", ">=", "age_allowance_min_age"
)
