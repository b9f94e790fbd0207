"""Poverty index, health dimension (残疾与重病): each member counts for the heaviest of
severe disability, serious illness, full or partial loss of self-care, or another
certified disability (weights 0–1 in ``poverty_index.health_burden``).

score = 100 × clip(Σ members' weights / members, 0, 1). Chronic illness (the registry's
``health = chronic``) is not an engine input yet. Project choice (to-confirm)."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, PERSON, Params, aggregate, formula, round_half_up


@formula("poverty_index_health_burden", PERSON, "残疾与疾病计分（成员）", "share",
         uses=["severely_disabled", "disabled", "status_serious_illness", "status_care_tier_1",
               "status_care_tier_2"])  # fmt: skip
def poverty_index_health_burden(p: Params) -> nw.Expr:
    weights = p("poverty_index.health_burden")
    conditions = {
        "severe_disability": nw.col("severely_disabled"),
        "other_disability": nw.col("disabled") & ~nw.col("severely_disabled"),
        "serious_illness": nw.col("status_serious_illness"),
        "care_tier_1": nw.col("status_care_tier_1"),
        "care_tier_2": nw.col("status_care_tier_2"),
    }
    # a 0/1 column times the weight: Polars 1.44 returns a length-1 column for
    # ``when(all false).then(literal).otherwise(literal)`` inside ``max_horizontal``
    return nw.max_horizontal(
        *(c.cast(nw.Float64) * float(weights[name]) for name, c in conditions.items())
    )


poverty_index_health_total = aggregate(
    "poverty_index_health_total", "残疾与疾病计分合计", "share", "poverty_index_health_burden",
    "sum",
)  # fmt: skip


@formula("poverty_index_health_share", HOUSEHOLD, "残疾与重病成员占比（加权）", "share",
         uses=["poverty_index_health_total", "members"])  # fmt: skip
def poverty_index_health_share(p: Params) -> nw.Expr:
    return nw.col("poverty_index_health_total") / nw.col("members")


@formula("poverty_index_health_score", HOUSEHOLD, "残疾与重病得分", "score",
         uses=["poverty_index_health_share"], reference="贫困指数（项目取值，待核实）")  # fmt: skip
def poverty_index_health_score(p: Params) -> nw.Expr:
    return 100 * nw.col("poverty_index_health_share").clip(0.0, 1.0)


@formula("poverty_index_health_contribution", HOUSEHOLD, "残疾与重病贡献", "score",
         uses=["poverty_index_health_score"])  # fmt: skip
def poverty_index_health_contribution(p: Params) -> nw.Expr:
    weight = float(p("poverty_index.weights")["health"])
    return round_half_up(weight * nw.col("poverty_index_health_score"))
