"""Disability facts: a member is severely disabled (重度残疾人) with grade 1–2 of any kind,
or grade 3 of kind intellectual or mental."""

import narwhals.stable.v2 as nw

from minzheng.rules import PERSON, Params, aggregate, formula


@formula("disabled", PERSON, "持证残疾人", "boolean", uses=["disability_grade"],
         true_text="持有残疾人证", false_text="无残疾")  # fmt: skip
def disabled(p: Params) -> nw.Expr:
    return nw.col("disability_grade") > 0


@formula(
    "severely_disabled",
    PERSON,
    "重度残疾人",
    "boolean",
    uses=["disability_grade", "disability_kind"],
    true_text="重度残疾（一、二级或三级智力、精神残疾）",
    false_text="非重度残疾",
)
def severely_disabled(p: Params) -> nw.Expr:
    grade, kind = nw.col("disability_grade"), nw.col("disability_kind")
    return ((grade >= 1) & (grade <= 2)) | ((grade == 3) & kind.is_in(["intellectual", "mental"]))


has_serious_illness = aggregate(
    "has_serious_illness", "家有重病成员", "boolean", "status_serious_illness", "any"
)
has_severely_disabled = aggregate(
    "has_severely_disabled", "家有重度残疾成员", "boolean", "severely_disabled", "any"
)
