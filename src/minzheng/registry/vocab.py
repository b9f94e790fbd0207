"""Controlled vocabularies of the registry: codes (English) with Chinese labels.

The same lists drive the API's validation, the spreadsheet template's Chinese values
and the pages. Income types follow the parameter ``general.income_counted``
(``policy/parameters/general/income_counted.yaml``).
"""

from __future__ import annotations

from django.db import models


class Hukou(models.TextChoices):
    BEIJING = "beijing", "本市户籍"
    OTHER = "other", "外地户籍"


class Relation(models.TextChoices):
    HEAD = "head", "户主"
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    PARENT = "parent", "父母"
    GRANDCHILD = "grandchild", "孙子女"
    GRANDPARENT = "grandparent", "祖父母"
    SIBLING = "sibling", "兄弟姐妹"
    CHILD_IN_LAW = "child_in_law", "儿媳女婿"
    OTHER = "other", "其他"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class IncomeType(models.TextChoices):
    WAGE = "wage", "工资性收入"
    PENSION = "pension", "养老金"
    BUSINESS = "business", "经营性收入"
    PROPERTY = "property", "财产性收入"
    SUPPORT_RECEIVED = "support_received", "赡养抚养费"
    UNEMPLOYMENT_BENEFIT = "unemployment_benefit", "失业保险金"
    AGE_ALLOWANCE = "age_allowance", "高龄津贴"
    DISABILITY_SUBSIDY = "disability_subsidy", "残疾人补贴"
    VETERAN_ALLOWANCE = "veteran_allowance", "优抚金"
    ONE_CHILD_REWARD = "one_child_reward", "独生子女费"
    HEROISM_AWARD = "heroism_award", "见义勇为奖金"
    TEMPORARY_ASSISTANCE = "temporary_assistance", "临时救助金"
    ORPHAN_ALLOWANCE = "orphan_allowance", "孤儿基本生活费"


class DisabilityKind(models.TextChoices):
    VISUAL = "visual", "视力残疾"
    HEARING = "hearing", "听力残疾"
    SPEECH = "speech", "言语残疾"
    PHYSICAL = "physical", "肢体残疾"
    INTELLECTUAL = "intellectual", "智力残疾"
    MENTAL = "mental", "精神残疾"
    MULTIPLE = "multiple", "多重残疾"


class Status(models.TextChoices):
    SERIOUS_ILLNESS = "serious_illness", "重病"
    NO_SUPPORTER = "no_supporter", "无法定赡养抚养扶养人"
    ORPHAN = "orphan", "孤儿"
    LIVES_ALONE = "lives_alone", "独居"
    EMPTY_NEST = "empty_nest", "空巢"
    STUDENT = "student", "全日制在校学生"
    NO_WORK_CAPACITY = "no_work_capacity", "无劳动能力"
    FAMILY_PLANNING_SPECIAL = "family_planning_special", "计划生育特殊家庭"
    CARE_TIER_1 = "care_tier_1", "重度失能"
    CARE_TIER_2 = "care_tier_2", "中度失能"
    CARE_HEARING_SPEECH = "care_hearing_speech", "听力言语失能"


class Health(models.TextChoices):
    HEALTHY = "healthy", "健康"
    CHRONIC = "chronic", "慢性病"
    SERIOUS = "serious", "重大疾病"


class Employment(models.TextChoices):
    EMPLOYED = "employed", "就业"
    SELF_EMPLOYED = "self_employed", "个体或灵活就业"
    UNEMPLOYED = "unemployed", "失业"
    RETIRED = "retired", "退休"
    NOT_IN_LABOUR_FORCE = "not_in_labour_force", "非劳动力"


class Schooling(models.TextChoices):
    NONE = "none", "未上学"
    PRESCHOOL = "preschool", "学前"
    PRIMARY = "primary", "小学"
    JUNIOR = "junior", "初中"
    SENIOR = "senior", "高中或中职"
    COLLEGE = "college", "大专或本科"
    POSTGRADUATE = "postgraduate", "研究生"


class PersonState(models.TextChoices):
    ACTIVE = "active", "在册"
    MOVED_OUT = "moved_out", "迁出"
    DECEASED = "deceased", "死亡"


class MedicalBillKind(models.TextChoices):
    OUTPATIENT = "outpatient", "门诊"
    INPATIENT = "inpatient", "住院"


def label_to_code(choices: type[models.TextChoices]) -> dict[str, str]:
    """Both the code and the Chinese label map to the code (spreadsheets use labels)."""
    mapping = {str(c.value): str(c.value) for c in choices}
    mapping.update({str(c.label): str(c.value) for c in choices})
    return mapping
