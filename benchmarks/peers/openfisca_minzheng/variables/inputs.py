"""Input variables: what a household document supplies (Minzheng's rules/frames.py)."""

from datetime import date

from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from benchmarks.peers.openfisca_minzheng.base import DisabilityKind, Float64Variable, Hukou
from benchmarks.peers.openfisca_minzheng.entities import Household, Person

INCOME_TYPES = (
    "wage",
    "pension",
    "business",
    "property",
    "support_received",
    "unemployment_benefit",
    "age_allowance",
    "disability_subsidy",
    "veteran_allowance",
    "one_child_reward",
    "heroism_award",
    "temporary_assistance",
    "orphan_allowance",
)
STATUSES = ("serious_illness", "student", "no_work_capacity", "no_supporter")


# ---------------------------------------------------------------- person


class birth_date(Variable):
    value_type = date
    entity = Person
    definition_period = DateUnit.ETERNITY
    label = "出生日期"


class disability_kind(Variable):
    value_type = Enum
    possible_values = DisabilityKind
    default_value = DisabilityKind.none
    entity = Person
    definition_period = DateUnit.MONTH
    label = "残疾类别"


class disability_grade(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.MONTH
    label = "残疾等级（0 无）"


class status_serious_illness(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "重病"


class status_student(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "全日制在校学生"


class status_no_work_capacity(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "无劳动能力"


class status_no_supporter(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "无法定赡养抚养扶养人"


# Monthly income in force, per type (src/minzheng/rules/frames.py INCOME_TYPES).


class income_wage(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "工资性收入"


class income_pension(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "养老金"


class income_business(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "经营性收入"


class income_property(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "财产性收入"


class income_support_received(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "赡养抚养费"


class income_unemployment_benefit(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "失业保险金"


class income_age_allowance(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "高龄津贴"


class income_disability_subsidy(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "残疾人补贴"


class income_veteran_allowance(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "优抚金"


class income_one_child_reward(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "独生子女费"


class income_heroism_award(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "见义勇为奖金"


class income_temporary_assistance(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "临时救助金"


class income_orphan_allowance(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "孤儿基本生活费"


# ---------------------------------------------------------------- household


class hukou(Variable):
    value_type = Enum
    possible_values = Hukou
    default_value = Hukou.other
    entity = Household
    definition_period = DateUnit.MONTH
    label = "户籍"


class deposits(Float64Variable):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    label = "存款"


class securities(Float64Variable):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    label = "有价证券"


class vehicles(Variable):
    value_type = int
    entity = Household
    definition_period = DateUnit.MONTH
    label = "机动车数"


class houses(Variable):
    value_type = int
    entity = Household
    definition_period = DateUnit.MONTH
    label = "住房套数"


class business(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "有经营实体"


class dibao_previous_amount(Float64Variable):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    label = "原低保金额（渐退）"


class dibao_months_since_work_exit(Variable):
    value_type = int
    entity = Household
    definition_period = DateUnit.MONTH
    label = "就业增收后的月数（渐退）"
