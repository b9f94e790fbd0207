"""Low-income household (低收入家庭): needed here for single-person dibao cover.
京民社救发〔2018〕445号 §十一."""

import numpy
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from benchmarks.peers.openfisca_minzheng.entities import Household


class low_income_eligible(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "低收入家庭"

    def formula(household, period, parameters):
        p = parameters(period)
        line = float(p.general.minimum_wage)
        business_ok = (
            numpy.ones(household.count, dtype=bool)
            if p.dibao.business_allowed
            else ~household("business", period)
        )
        return (
            household("hukou_beijing", period)
            * ~household("dibao_means_eligible", period)
            * (household("counted_income_per_capita", period) < line)
            * (
                household("monetary_assets_per_capita", period)
                < p.low_income.monetary_assets_limit_months * line
            )
            * (household("vehicles", period) <= p.low_income.vehicles_allowed)
            * (household("houses", period) <= p.dibao.max_houses)
            * business_ok
        )
