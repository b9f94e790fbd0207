"""The household document of CONTRACTS.md, validated once for every entry point.

The API body, ``minzheng import`` (rows are turned into documents), and the demo
generator all pass through :func:`validate_document`. Unknown fields are rejected.
Errors carry a dotted ``field`` path (``members.0.id_number``), a stable ``code`` and
a Chinese ``message``.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from minzheng.core import text
from minzheng.core.errors import ValidationFailed
from minzheng.core.ids import IdNumberError, id_number_facts, parse_id_number
from minzheng.core.money import MoneyError, parse_amount
from minzheng.core.text import has_control_characters
from minzheng.registry.vocab import (
    DisabilityKind,
    Employment,
    Health,
    Hukou,
    IncomeType,
    MedicalBillKind,
    Relation,
    Schooling,
    Sex,
    Status,
)


def _money(raw: object) -> Decimal:
    if isinstance(raw, Decimal):
        raw = str(raw)
    try:
        return parse_amount(raw)
    except MoneyError as exc:
        raise PydanticCustomError(exc.code, exc.message) from None


Money = Annotated[
    Decimal,
    BeforeValidator(_money),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str),
    Field(json_schema_extra={"type": "string", "example": "1450.00"}),
]
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL; no registry text has a reason to hold control codes.
        if isinstance(value, str) and has_control_characters(value):
            raise PydanticCustomError(text.CODE, text.MESSAGE)
        return value


class IncomeDoc(_Strict):
    type: IncomeType
    monthly: Money
    month: str | None = Field(default=None, description="所属月份 YYYY-MM（缺省为当月）")

    @field_validator("month")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        if value is not None and not MONTH.match(value):
            raise PydanticCustomError("month.format", "月份格式应为 YYYY-MM")
        return value


class DisabilityDoc(_Strict):
    kind: DisabilityKind
    grade: int = Field(ge=1, le=4, description="残疾等级 1–4")


class MemberDoc(_Strict):
    id: str | None = Field(default=None, max_length=64, description="外部编号")
    id_number: str = Field(description="公民身份号码（18位）")
    name: str = Field(min_length=1, max_length=64)
    relation: Relation
    birth_date: date | None = None
    sex: Sex | None = None
    phone: str | None = Field(default=None, max_length=20)
    incomes: list[IncomeDoc] = Field(default_factory=list)
    disability: DisabilityDoc | None = None
    statuses: list[Status] = Field(default_factory=list)
    health: Health | None = None
    employment: Employment | None = None
    schooling: Schooling | None = None

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str) -> str:
        try:
            return parse_id_number(value).number
        except IdNumberError as exc:
            raise PydanticCustomError(exc.code, exc.message) from None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"[0-9+\-() ]{5,20}", value):
            raise PydanticCustomError("phone.format", "联系电话只能包含数字、空格和 + - ( )")
        return value or None

    @field_validator("statuses")
    @classmethod
    def _unique_statuses(cls, value: list[Status]) -> list[Status]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _agrees_with_id_number(self) -> MemberDoc:
        parsed = id_number_facts(self.id_number)  # the field validator already checked it
        if self.birth_date is not None and self.birth_date != parsed.birth_date:
            raise PydanticCustomError(
                "person.birth_date_mismatch",
                "出生日期 {given} 与身份证号码中的 {expected} 不一致",
                {"given": str(self.birth_date), "expected": str(parsed.birth_date)},
            )
        if self.sex is not None and self.sex != parsed.sex:
            raise PydanticCustomError("person.sex_mismatch", "性别与身份证号码第17位不一致")
        self.birth_date = parsed.birth_date
        self.sex = Sex(parsed.sex)
        seen: set[tuple[str, str]] = set()
        for income in self.incomes:
            key = (income.type.value, income.month or "")
            if key in seen:
                raise PydanticCustomError("income.duplicate", "同一类型同一月份的收入重复填写")
            seen.add(key)
        return self


class AssetsDoc(_Strict):
    deposits: Money = Decimal("0.00")
    securities: Money = Decimal("0.00")
    vehicles: int = Field(default=0, ge=0, le=99)
    houses: int = Field(default=0, ge=0, le=99)
    business: bool = False


class ExpensesDoc(_Strict):
    medical_monthly: Money = Decimal("0.00")
    education_monthly: Money = Decimal("0.00")


class MedicalBillDoc(_Strict):
    kind: MedicalBillKind
    total: Money
    insurance_paid: Money = Decimal("0.00")

    @model_validator(mode="after")
    def _within_total(self) -> MedicalBillDoc:
        if self.insurance_paid > self.total:
            raise PydanticCustomError(
                "medical_bill.insurance_exceeds_total", "医保已支付金额不能大于总费用"
            )
        return self


class HouseholdDoc(_Strict):
    id: str | None = Field(default=None, max_length=64, description="外部编号")
    division: str = Field(description="所属社区（或最低一级区划）代码")
    hukou: Hukou
    address: str | None = Field(default=None, max_length=200)
    members: list[MemberDoc] = Field(min_length=1, max_length=30)
    assets: AssetsDoc = Field(default_factory=AssetsDoc)
    expenses: ExpensesDoc = Field(default_factory=ExpensesDoc)
    medical_bills: list[MedicalBillDoc] = Field(default_factory=list)

    @field_validator("division")
    @classmethod
    def _division_code(cls, value: str) -> str:
        if not re.fullmatch(r"\d{6}|\d{9}|\d{12}", value):
            raise PydanticCustomError("division.format", "区划代码应为6、9或12位数字")
        return value

    @model_validator(mode="after")
    def _one_head_distinct_people(self) -> HouseholdDoc:
        heads = [m for m in self.members if m.relation == Relation.HEAD]
        if len(heads) != 1:
            raise PydanticCustomError("household.head_count", "每户必须有且只有一名户主")
        seen: set[str] = set()
        for member in self.members:
            if member.id_number in seen:
                raise PydanticCustomError(
                    "person.duplicate_in_household",
                    "同一户中身份证号码 {masked} 重复出现",
                    {"masked": member.id_number[:6] + "********" + member.id_number[14:]},
                )
            seen.add(member.id_number)
        return self


class MemberPatch(_Strict):
    person_id: int
    name: str | None = Field(default=None, min_length=1, max_length=64)
    relation: Relation | None = None
    phone: str | None = Field(default=None, max_length=20)
    disability: DisabilityDoc | None = None
    clear_disability: bool = False
    statuses: list[Status] | None = None
    health: Health | None = None
    employment: Employment | None = None
    schooling: Schooling | None = None
    incomes: list[IncomeDoc] | None = Field(
        default=None, description="替换所列月份（缺省为当月）的全部收入"
    )
    leave: Literal["moved_out", "deceased"] | None = Field(
        default=None, description="成员离开本户：迁出或死亡"
    )


class HouseholdPatch(_Strict):
    reason: str = Field(min_length=2, max_length=500, description="修改原因（必填，记入历史）")
    address: str | None = Field(default=None, max_length=200)
    hukou: Hukou | None = None
    division: str | None = None
    assets: AssetsDoc | None = None
    expenses: ExpensesDoc | None = None
    members: list[MemberPatch] = Field(default_factory=list)
    members_add: list[MemberDoc] = Field(default_factory=list)


_MESSAGES: dict[str, str] = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不认识的字段（不会被忽略，请删除或更正）",
    "string_type": "应为文本",
    "string_too_short": "不能为空",
    "string_too_long": "内容过长",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "bool_parsing": "应为是或否",
    "bool_type": "应为是或否",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "list_type": "应为列表",
    "model_type": "应为对象",
    "dict_type": "应为对象",
    "too_short": "至少需要一项",
    "too_long": "项目过多",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "json_invalid": "不是有效的 JSON",
}


def _code(error_type: str) -> str:
    return error_type if "." in error_type else f"field.{error_type}"


def errors_from_pydantic(
    exc: ValidationError, *, prefix: tuple[Any, ...] = ()
) -> list[dict[str, Any]]:
    """Translate pydantic errors into ``{"field", "code", "message"}`` with Chinese text."""
    out: list[dict[str, Any]] = []
    for err in exc.errors(include_url=False):
        loc = tuple(prefix) + tuple(err["loc"])
        etype = str(err["type"])
        message = err["msg"] if "." in etype else _MESSAGES.get(etype, "取值无效")
        if etype in {"enum", "literal_error"}:
            expected = (err.get("ctx") or {}).get("expected")
            if expected:
                message = f"{message}（可选：{expected}）"
        out.append(
            {"field": ".".join(str(p) for p in loc), "code": _code(etype), "message": message}
        )
    return out


def validate_document(raw: Any) -> HouseholdDoc:
    try:
        return HouseholdDoc.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(errors_from_pydantic(exc)) from None
