"""Minimum living allowance (dibao): classified income, means test, amount.
京民社救发〔2018〕445号 §九–§十; shared/policy/README.md "Minimum living allowance"."""

import numpy
from openfisca_core.periods import DateUnit
from openfisca_core.variables import Variable

from benchmarks.peers.openfisca_minzheng.base import Float64Variable, round_half_up
from benchmarks.peers.openfisca_minzheng.entities import Household, Person
from benchmarks.peers.openfisca_minzheng.variables.inputs import INCOME_TYPES

SPECIAL = ("wage", "business")


class dibao_standard(Float64Variable):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    label = "低保标准"

    def formula(household, period, parameters):
        standard = float(parameters(period).dibao.standard)
        return numpy.full(household.count, standard, dtype=numpy.float64)


class dibao_income(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "个人计入低保的收入（就业收入扣减后）"

    def formula(person, period, parameters):
        p = parameters(period)
        counted, incentive = p.general.income_counted, p.dibao.employment_incentive
        standard = person.household("dibao_standard", period)
        total = numpy.zeros(person.count, dtype=numpy.float64)
        for kind in INCOME_TYPES:
            if counted[kind] and kind not in SPECIAL:
                total = total + person(f"income_{kind}", period)
        if counted["wage"]:
            wage = person("income_wage", period)
            total = total + numpy.maximum(wage - incentive.deduction * standard, 0.0)
        if counted["business"]:
            business = person("income_business", period)
            total = total + numpy.select(
                [
                    business >= incentive.self_employed_band_upper * standard,
                    business >= standard,
                ],
                [business - incentive.deduction * standard, standard],
                business,
            )
        return total


class dibao_income_deduction(Float64Variable):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    label = "收入核减（重病或重度残疾）"

    def formula(household, period, parameters):
        rate = parameters(period).dibao.income_deduction_rate
        special = household("has_serious_illness", period) + household(
            "has_severely_disabled", period
        )
        return numpy.where(special, rate * household("dibao_standard", period), 0.0)


class dibao_counted_income(Float64Variable):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    label = "家庭计入低保的月收入"

    def formula(household, period, parameters):
        before = household.sum(household.members("dibao_income", period))
        return numpy.maximum(before - household("dibao_income_deduction", period), 0.0)


class dibao_pci(Float64Variable):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    label = "家庭月人均收入（低保口径）"

    def formula(household, period, parameters):
        return household("dibao_counted_income", period) / household("members", period)


class dibao_means_eligible(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "符合低保条件"

    def formula(household, period, parameters):
        p = parameters(period).dibao
        standard = household("dibao_standard", period)
        vehicles_limit = numpy.where(
            household("has_serious_illness", period),
            max(p.vehicles_allowed, p.vehicle_allowed_if_serious_illness),
            p.vehicles_allowed,
        )
        business_ok = (
            numpy.ones(household.count, dtype=bool)
            if p.business_allowed
            else ~household("business", period)
        )
        return (
            household("hukou_beijing", period)
            * (household("dibao_pci", period) < standard)
            * (
                household("monetary_assets_per_capita", period)
                < p.monetary_assets_limit_months * standard
            )
            * (household("houses", period) <= p.max_houses)
            * (household("vehicles", period) <= vehicles_limit)
            * business_ok
        )


class dibao_addon(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "低保增发（取较高一项）"

    def formula(person, period, parameters):
        p = parameters(period).dibao
        standard = person.household("dibao_standard", period)
        age = person("age", period)
        higher = person("status_serious_illness", period) + person("severely_disabled", period)
        lower = (
            (age >= p.addon_ages.elderly_from)
            + (age <= p.addon_ages.child_up_to)
            + person("status_student", period)
            + person("status_no_work_capacity", period)
        )
        return numpy.select(
            [higher, lower],
            [
                p.addon_rate.major_disease_or_severe_disability * standard,
                p.addon_rate.elderly_child_student_or_no_work_capacity * standard,
            ],
            0.0,
        )


class dibao_member_share(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "成员低保金（未取整）"

    def formula(person, period, parameters):
        standard = person.household("dibao_standard", period)
        gap = numpy.maximum(standard - person.household("dibao_pci", period), 0.0)
        if parameters(period).dibao.severe_disability_full_standard:
            base = numpy.where(person("severely_disabled", period), standard, gap)
        else:
            base = gap
        share = base + person("dibao_addon", period)
        # extreme-poverty support replaces dibao for that person
        return numpy.where(person("extreme_poverty_eligible", period), 0.0, share)


class dibao_single_person_cover(Float64Variable):
    value_type = float
    entity = Person
    definition_period = DateUnit.MONTH
    label = "单人保金额"

    def formula(person, period, parameters):
        rate = parameters(period).dibao.addon_rate.major_disease_or_severe_disability
        standard = person.household("dibao_standard", period)
        covered = person("severely_disabled", period) * ~person("extreme_poverty_eligible", period)
        return numpy.where(covered, standard + rate * standard, 0.0)


class dibao_gradual_exit_amount(Float64Variable):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    label = "渐退期低保金"

    def formula(household, period, parameters):
        months = parameters(period).dibao.gradual_exit
        full, half = months.full_months, months.half_months
        m = household("dibao_months_since_work_exit", period)
        previous = household("dibao_previous_amount", period)
        return numpy.select(
            [(m >= 1) * (m <= full), (m > full) * (m <= full + half)],
            [previous, previous * 0.5],
            0.0,
        )


class dibao_amount(Float64Variable):
    value_type = float
    entity = Household
    definition_period = DateUnit.MONTH
    label = "低保金（元/月）"

    def formula(household, period, parameters):
        shares = household.sum(household.members("dibao_member_share", period))
        covers = household.sum(household.members("dibao_single_person_cover", period))
        single = household("low_income_eligible", period) * (covers > 0)
        amount = numpy.select(
            [household("dibao_means_eligible", period), single],
            [shares, covers],
            household("dibao_gradual_exit_amount", period),
        )
        return round_half_up(amount)


class dibao_eligible(Variable):
    value_type = bool
    entity = Household
    definition_period = DateUnit.MONTH
    label = "享受低保"

    def formula(household, period, parameters):
        return household("dibao_amount", period) > 0
