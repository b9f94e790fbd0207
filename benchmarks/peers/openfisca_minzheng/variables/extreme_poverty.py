"""Extreme-poverty eligibility (特困), per person: it replaces dibao for that person.
Beijing extreme-poverty support rules (2017)."""

from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from benchmarks.peers.openfisca_minzheng.entities import Person


class extreme_poverty_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "特困人员"

    def formula(person, period, parameters):
        ages = parameters(period).extreme_poverty.ages
        age = person("age", period)
        category = (
            (age >= ages.elderly_from)
            + (age < ages.child_under)
            + person("severely_disabled", period)
        )
        standard = person.household("dibao_standard", period)
        return (
            person.household("hukou_beijing", period)
            * category
            * person("status_no_supporter", period)
            * (person("counted_income", period) < standard)
        )
