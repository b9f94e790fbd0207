"""Input columns: what the household document supplies (see rules/frames.py)."""

from minzheng.rules import HOUSEHOLD, PERSON, input_variable
from minzheng.rules.frames import INCOME_TYPES, STATUSES

birth_date = input_variable("birth_date", PERSON, "出生日期", "date")
sex = input_variable("sex", PERSON, "性别", "code")
relation = input_variable("relation", PERSON, "与户主关系", "code")
disability_kind = input_variable("disability_kind", PERSON, "残疾类别", "code")
disability_grade = input_variable("disability_grade", PERSON, "残疾等级", "grade")
schooling = input_variable("schooling", PERSON, "学段", "code")

STATUS_LABELS = {
    "serious_illness": "重病",
    "no_supporter": "无法定赡养抚养扶养人",
    "orphan": "孤儿",
    "lives_alone": "独居",
    "empty_nest": "空巢",
    "student": "全日制在校学生",
    "no_work_capacity": "无劳动能力",
    "family_planning_special": "计划生育特殊家庭",
    "care_tier_1": "重度失能",
    "care_tier_2": "中度失能",
    "care_hearing_speech": "听力言语失能",
}
INCOME_LABELS = {
    "wage": "工资性收入",
    "pension": "养老金",
    "business": "经营性收入",
    "property": "财产性收入",
    "support_received": "赡养抚养费",
    "unemployment_benefit": "失业保险金",
    "age_allowance": "高龄津贴",
    "disability_subsidy": "残疾人补贴",
    "veteran_allowance": "优抚金",
    "one_child_reward": "独生子女费",
    "heroism_award": "见义勇为奖金",
    "temporary_assistance": "临时救助金",
    "orphan_allowance": "孤儿基本生活费",
}
status_inputs = [
    input_variable(f"status_{s}", PERSON, STATUS_LABELS[s], "boolean") for s in STATUSES
]
income_inputs = [
    input_variable(f"income_{t}", PERSON, INCOME_LABELS[t], "yuan/month") for t in INCOME_TYPES
]

division = input_variable("division", HOUSEHOLD, "所属区划", "code")
hukou = input_variable("hukou", HOUSEHOLD, "户籍", "code")
deposits = input_variable("deposits", HOUSEHOLD, "存款", "yuan")
securities = input_variable("securities", HOUSEHOLD, "有价证券", "yuan")
vehicles = input_variable("vehicles", HOUSEHOLD, "机动车数", "count")
houses = input_variable("houses", HOUSEHOLD, "住房套数", "count")
business = input_variable("business", HOUSEHOLD, "有经营实体", "boolean")
medical_monthly = input_variable("medical_monthly", HOUSEHOLD, "月医疗支出", "yuan/month")
education_monthly = input_variable("education_monthly", HOUSEHOLD, "月教育支出", "yuan/month")
outpatient_total = input_variable("outpatient_total", HOUSEHOLD, "门诊费用合计", "yuan")
outpatient_insurance_paid = input_variable(
    "outpatient_insurance_paid", HOUSEHOLD, "门诊医保已支付", "yuan"
)
inpatient_total = input_variable("inpatient_total", HOUSEHOLD, "住院费用合计", "yuan")
inpatient_insurance_paid = input_variable(
    "inpatient_insurance_paid", HOUSEHOLD, "住院医保已支付", "yuan"
)
dibao_previous_amount = input_variable(
    "dibao_previous_amount", HOUSEHOLD, "原低保金额", "yuan/month"
)
dibao_months_since_work_exit = input_variable(
    "dibao_months_since_work_exit", HOUSEHOLD, "就业增收后的月数", "months"
)
