"""The poverty index (城市家庭贫困指数): the sum of the dimensions' contributions, each a
weight × a score of 0–100 (higher is poorer), rounded to two places; so the index is
0–100 and an explanation's contributions add up to it exactly. Project choice pending
the Beijing Normal University model's published weights (to-confirm)."""

import narwhals.stable.v2 as nw

from minzheng.rules import HOUSEHOLD, Params, formula, round_half_up
from minzheng.rules.parameters import ParameterError

# Each dimension: its key in ``poverty_index.weights``, the variable holding the raw figure
# an explanation shows, and how the score is computed, as a worker reads it out; its score
# and contribution are ``poverty_index_<key>_score`` and ``poverty_index_<key>_contribution``.
DIMENSIONS: tuple[tuple[str, str, str], ...] = (
    ("income", "counted_income_per_capita",
     "100 ×（低保标准 − 家庭月人均收入）÷ 低保标准，在 0 到 100 之间"),
    ("assets", "monetary_assets_per_capita",
     "100 ×（1 − 人均货币财产 ÷ 人均货币财产限额），在 0 到 100 之间"),
    ("expenses", "poverty_index_expense_share",
     "100 × 支出负担 ÷ 满分比例，不超过 100；支出负担 = 月医疗教育支出（含医保后自付医疗费的月均）"
     "÷ max（家庭月收入，家庭人口 × 低保标准）"),
    ("health", "poverty_index_health_share",
     "100 × 各成员残疾与疾病计分之和 ÷ 家庭人口，不超过 100"),
    ("dependants", "poverty_index_dependant_share",
     "100 × 被抚养人口（未成年、老年、在校学生、无劳动能力）÷ 家庭人口"),
    ("housing", "houses", "无自有住房得住房维度“无房”分，有住房得“有房”分"),
)  # fmt: skip
CONTRIBUTIONS = tuple(f"poverty_index_{key}_contribution" for key, _, _ in DIMENSIONS)


@formula("poverty_index", HOUSEHOLD, "城市家庭贫困指数", "score", uses=CONTRIBUTIONS,
         reference="城市家庭贫困指数模型（项目取值，待核实）")  # fmt: skip
def poverty_index(p: Params) -> nw.Expr:
    weights = p("poverty_index.weights")
    keys = [key for key, _, _ in DIMENSIONS]
    if set(weights) != set(keys):
        raise ParameterError(f"参数 poverty_index.weights 的维度应为：{keys}")
    if abs(sum(float(w) for w in weights.values()) - 1.0) > 1e-9:
        raise ParameterError(f"参数 poverty_index.weights 的权重之和应为 1：{weights}")
    return round_half_up(nw.sum_horizontal(*(nw.col(c) for c in CONTRIBUTIONS)))
