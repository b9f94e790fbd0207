"""Elderly-care service subsidies (困难老年人养老服务补贴, 失能老年人护理补贴): Beijing hukou,
60 or over, without a disability (a disabled member has the disability subsidies instead),
not in extreme-poverty support. The hardship amount for the household's status, the highest
only, plus the disabled-care amount for an assessed tier. 京民养老发〔2019〕160号."""

import narwhals.stable.v2 as nw

from minzheng.rules import PERSON, Params, amount_if, compare, formula, round_yuan


@formula(
    "elderly_service_subsidy_amount",
    PERSON,
    "养老服务补贴",
    "yuan/month",
    uses=["hukou_beijing", "age", "disabled", "extreme_poverty_eligible",
          "dibao_means_eligible", "low_income_eligible", "status_family_planning_special",
          "status_care_tier_1", "status_care_tier_2", "status_care_hearing_speech"],
)  # fmt: skip
def elderly_service_subsidy_amount(p: Params) -> nw.Expr:
    hardship = p("elderly_service_subsidy.hardship")
    care = p("elderly_service_subsidy.disabled_care")
    hardship_amount = nw.max_horizontal(
        amount_if(nw.col("dibao_means_eligible"), nw.lit(float(hardship["dibao"]))),
        amount_if(nw.col("low_income_eligible"), nw.lit(float(hardship["low_income"]))),
        amount_if(
            nw.col("status_family_planning_special"),
            nw.lit(float(hardship["family_planning_special"])),
        ),
    )
    care_amount = (
        nw.when(nw.col("status_care_tier_1"))
        .then(nw.lit(float(care["tier_1"])))
        .otherwise(
            nw.when(nw.col("status_care_tier_2"))
            .then(nw.lit(float(care["tier_2"])))
            .otherwise(amount_if(nw.col("status_care_hearing_speech"),
                                 nw.lit(float(care["hearing_speech"]))))
        )
    )  # fmt: skip
    qualifies = (
        nw.col("hukou_beijing")
        & (nw.col("age") >= int(p("elderly_service_subsidy.min_age")))
        & ~nw.col("disabled")
        & ~nw.col("extreme_poverty_eligible")
    )
    return round_yuan(amount_if(qualifies, hardship_amount + care_amount))


@formula("elderly_service_subsidy_min_age", PERSON, "养老服务补贴年龄", "years")
def elderly_service_subsidy_min_age(p: Params) -> nw.Expr:
    return nw.lit(int(p("elderly_service_subsidy.min_age")))


elderly_service_subsidy_age_test = compare(
    "elderly_service_subsidy_age_test", PERSON, "达到养老服务补贴年龄", "age", ">=",
    "elderly_service_subsidy_min_age",
)  # fmt: skip


@formula("elderly_service_subsidy_not_disabled", PERSON, "无残疾（残疾人享受两项补贴）",
         "boolean", uses=["disabled"], true_text="无残疾",
         false_text="持证残疾人按残疾人两项补贴享受，不重复享受养老服务补贴")  # fmt: skip
def elderly_service_subsidy_not_disabled(p: Params) -> nw.Expr:
    return ~nw.col("disabled")
