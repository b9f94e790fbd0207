"""Age allowance (高龄津贴) by age band for members with Beijing hukou.
京民养老发〔2019〕160号."""

from openfisca_core.periods import DateUnit

from benchmarks.peers.openfisca_minzheng.base import Float64Variable, round_half_up
from benchmarks.peers.openfisca_minzheng.entities import Household, Person


class age_allowance(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "高龄津贴（元/月）"

    def formula(person, period, parameters):
        bands = parameters(period).age_allowance.bands  # a single-amount scale on age
        amount = bands.calc(person("age", period))
        return round_half_up(amount * person.household("hukou_beijing", period))


class age_allowance_household(Float64Variable):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    label = "高龄津贴家庭合计（元/月）"

    def formula(household, period, parameters):
        return household.sum(household.members("age_allowance", period))
