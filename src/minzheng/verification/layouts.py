"""The documented column layout of each department feed (居民家庭经济状况核对).

Every feed row names one person (ID number, name; birth date, sex and address help
linking when the ID number is missing or mistyped) and the facts the department holds
about them. Headers may be given in Chinese or as the English keys. A file is CSV
(UTF-8 or GB18030), XLSX or Parquet.

>>> LAYOUTS["bank_deposits"].fields[0].key
'balance'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    key: str
    header: str
    kind: str  # money | int | bool | text
    required: bool = True


@dataclass(frozen=True)
class Layout:
    source: str
    label: str
    department: str
    fields: tuple[Field, ...]
    # what the found value is compared with: a household asset, or a person's income type
    compares: str


IDENTITY: tuple[Field, ...] = (
    Field("id_number", "公民身份号码", "text", required=False),
    Field("name", "姓名", "text"),
    Field("birth_date", "出生日期", "date", required=False),
    Field("sex", "性别", "text", required=False),
    Field("address", "住址", "text", required=False),
)

LAYOUTS: dict[str, Layout] = {
    lay.source: lay
    for lay in (
        Layout("bank_deposits", "银行存款", "pboc_banks",
               (Field("balance", "存款余额", "money"), Field("bank", "开户银行", "text", False)),
               "household.deposits"),
        Layout("securities", "有价证券", "securities_regulator",
               (Field("market_value", "证券市值", "money"),), "household.securities"),
        Layout("real_estate", "不动产登记", "planning_natural_resources",
               (Field("houses", "房产套数", "int"), Field("area", "建筑面积", "text", False)),
               "household.houses"),
        Layout("vehicles", "机动车登记", "public_security",
               (Field("vehicles", "机动车数", "int"), Field("plate", "号牌号码", "text", False)),
               "household.vehicles"),
        Layout("business", "工商登记", "market_regulation",
               (Field("business", "经营实体", "bool"), Field("uscc", "统一社会信用代码", "text", False)),
               "household.business"),
        Layout("social_insurance", "社会保险与养老金", "human_resources",
               (Field("pension_monthly", "月养老金", "money"),), "income.pension"),
        Layout("provident_fund", "住房公积金", "housing_provident_fund",
               (Field("wage_base_monthly", "月缴存基数", "money"),), "income.wages"),
        Layout("tax", "个人所得税", "taxation",
               (Field("income_annual", "年度收入", "money"),), "income.total"),
    )
}  # fmt: skip
SOURCES: tuple[str, ...] = tuple(LAYOUTS)


def headers_of(layout: Layout) -> dict[str, Field]:
    """Header (Chinese or English key) → field, for identity and the source's fields."""
    out: dict[str, Field] = {}
    for f in (*IDENTITY, *layout.fields):
        out[f.header] = f
        out[f.key] = f
    return out
