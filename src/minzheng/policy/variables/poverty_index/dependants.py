"""Poverty index, dependants dimension (抚养负担): the share of members who depend on others —
children under the age limit, the elderly from theirs, full-time students and those
unable to work (``poverty_index.dependant_ages``).

score = 100 × dependants / members. Project choice (to-confirm)."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, PERSON, Params, aggregate, formula, round_half_up


@formula("poverty_index_dependant", PERSON, "被抚养人口", "boolean",
         uses=["age", "status_student", "status_no_work_capacity"],
         true_text="被抚养人口（未成年、老年、在校学生或无劳动能力）",
         false_text="非被抚养人口")  # fmt: skip
def poverty_index_dependant(p: Params) -> nw.Expr:
    ages = p("poverty_index.dependant_ages")
    age = nw.col("age")
    return (
        (age < int(ages["child_under_age"]))
        | (age >= int(ages["elderly_from_age"]))
        | nw.col("status_student")
        | nw.col("status_no_work_capacity")
    )


poverty_index_dependants = aggregate(
    "poverty_index_dependants", "被抚养人口数", "persons", "poverty_index_dependant", "count"
)


@formula("poverty_index_dependant_share", HOUSEHOLD, "被抚养人口占比", "share",
         uses=["poverty_index_dependants", "members"])  # fmt: skip
def poverty_index_dependant_share(p: Params) -> nw.Expr:
    return nw.col("poverty_index_dependants") / nw.col("members")


@formula("poverty_index_dependants_score", HOUSEHOLD, "抚养负担得分", "score",
         uses=["poverty_index_dependant_share"], reference="贫困指数（项目取值，待核实）")  # fmt: skip
def poverty_index_dependants_score(p: Params) -> nw.Expr:
    return 100 * nw.col("poverty_index_dependant_share").clip(0.0, 1.0)


@formula("poverty_index_dependants_contribution", HOUSEHOLD, "抚养负担贡献", "score",
         uses=["poverty_index_dependants_score"])  # fmt: skip
def poverty_index_dependants_contribution(p: Params) -> nw.Expr:
    weight = float(p("poverty_index.weights")["dependants"])
    return round_half_up(weight * nw.col("poverty_index_dependants_score"))
