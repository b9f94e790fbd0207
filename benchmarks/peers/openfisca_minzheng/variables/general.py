"""Household facts every means test reads, and a person's age and disability."""

import numpy
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from benchmarks.peers.openfisca_minzheng.base import DisabilityKind, Float64Variable, Hukou
from benchmarks.peers.openfisca_minzheng.entities import Household, Person
from benchmarks.peers.openfisca_minzheng.variables.inputs import INCOME_TYPES


class age(Variable):
    value_type = int
    entity = Person
    definition_period = DateUnit.MONTH
    label = "年龄（周岁，按期间首日）"

    def formula(person, period, parameters):
        # completed years on the first day of the period: one turns 90 on the birthday
        born = person("birth_date", period)
        on = numpy.datetime64(str(period.start), "D")
        years = born.astype("datetime64[Y]").astype(numpy.int64) + 1970
        months = born.astype("datetime64[M]")
        month = months.astype(numpy.int64) % 12 + 1
        day = (born - months.astype("datetime64[D]")).astype(numpy.int64) + 1
        on_month, on_day = period.start.month, period.start.day
        before_birthday = (month > on_month) | ((month == on_month) & (day > on_day))
        return on.astype("datetime64[Y]").astype(numpy.int64) + 1970 - years - before_birthday


class severely_disabled(Variable):
    value_type = bool
    entity = Person
    definition_period = DateUnit.MONTH
    label = "重度残疾人（一、二级，或三级智力、精神残疾）"

    def formula(person, period, parameters):
        grade = person("disability_grade", period)
        kind = person("disability_kind", period)
        mental = (kind == DisabilityKind.intellectual) + (kind == DisabilityKind.mental)
        return ((grade >= 1) * (grade <= 2)) + ((grade == 3) * mental)


class counted_income(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "个人计入收入"

    def formula(person, period, parameters):
        counted = parameters(period).general.income_counted
        total = numpy.zeros(person.count, dtype=numpy.float64)
        for kind in INCOME_TYPES:
            if counted[kind]:
                total = total + person(f"income_{kind}", period)
        return total


class members(Variable):
    value_type = int
    entity = Household
    definition_period = DateUnit.MONTH
    label = "家庭人口"

    def formula(household, period, parameters):
        return household.nb_persons()


class hukou_beijing(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "本市户籍"

    def formula(household, period, parameters):
        return household("hukou", period) == Hukou.beijing


class has_serious_illness(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "家有重病成员"

    def formula(household, period, parameters):
        return household.any(household.members("status_serious_illness", period))


class has_severely_disabled(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "家有重度残疾成员"

    def formula(household, period, parameters):
        return household.any(household.members("severely_disabled", period))


class household_counted_income(Float64Variable):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    label = "家庭月收入（计入部分）"

    def formula(household, period, parameters):
        return household.sum(household.members("counted_income", period))


class counted_income_per_capita(Float64Variable):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    label = "家庭月人均收入"

    def formula(household, period, parameters):
        return household("household_counted_income", period) / household("members", period)


class monetary_assets_per_capita(Float64Variable):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    label = "人均货币财产"

    def formula(household, period, parameters):
        assets = household("deposits", period) + household("securities", period)
        return assets / household("members", period)
