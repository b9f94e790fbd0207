"""Age in completed years on the as-of date."""

import narwhals.stable.v2 as nw

from minzheng.rules import PERSON, Params, age_on, formula


@formula("age", PERSON, "年龄", "years", uses=["birth_date"])
def age(p: Params) -> nw.Expr:
    return age_on(p.as_of)
