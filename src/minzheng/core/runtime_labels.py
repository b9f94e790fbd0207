"""Labels the pages translate at run time (model choices, the poverty index's dimensions
and formulas from the policy files): listed here so that ``makemessages`` keeps their
English entries. Nothing imports this module; it is read by gettext's extractor."""

from django.utils.translation import gettext_noop

RUNTIME_LABELS = [
    gettext_noop("已完成"),
    gettext_noop("失败"),
    gettext_noop("收入缺口"),
    gettext_noop("货币财产"),
    gettext_noop("医疗教育支出"),
    gettext_noop("残疾与重病"),
    gettext_noop("抚养负担"),
    gettext_noop("住房"),
    gettext_noop("100 ×（低保标准 − 家庭月人均收入）÷ 低保标准，在 0 到 100 之间"),
    gettext_noop("100 ×（1 − 人均货币财产 ÷ 人均货币财产限额），在 0 到 100 之间"),
    gettext_noop(
        "100 × 支出负担 ÷ 满分比例，不超过 100；支出负担 = 月医疗教育支出（含医保后自付医疗费的月均）÷ max（家庭月收入，家庭人口 × 低保标准）"
    ),
    gettext_noop("100 × 各成员残疾与疾病计分之和 ÷ 家庭人口，不超过 100"),
    gettext_noop("100 × 被抚养人口（未成年、老年、在校学生、无劳动能力）÷ 家庭人口"),
    gettext_noop("无自有住房得住房维度“无房”分，有住房得“有房”分"),
]
