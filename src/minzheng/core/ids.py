"""Resident ID numbers (GB 11643-1999), unified social credit codes (GB 32100-2015) and
division codes (GB/T 2260).

>>> parse_id_number(" 11010519491231002x ").number
'11010519491231002X'
>>> mask_id_number("11010519491231002X")
'110105********002X'
>>> parse_credit_code(" 91350100m000100y43 ")
'91350100M000100Y43'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
# Province-level prefixes of GB/T 2260 (11 Beijing … 82 Macao); 83 is used for
# residence permits of Hong Kong, Macao and Taiwan residents.
_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)


class IdNumberError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: date
    sex: str  # "M" or "F"

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def parse_id_number(raw: str, *, today: date | None = None) -> IdNumber:
    """Validate an 18-character ID number and read its birth date and sex."""
    if not isinstance(raw, str):
        raise IdNumberError("id_number.format", "身份证号码必须是文本")
    number = raw.strip().upper()
    if not number:
        raise IdNumberError("id_number.required", "身份证号码不能为空")
    if not _ID_SHAPE.match(number):
        raise IdNumberError("id_number.format", "身份证号码应为18位：17位数字加1位数字或X")
    if number[:2] not in _PROVINCES:
        raise IdNumberError("id_number.region", "身份证号码前两位不是有效的省级行政区划代码")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("id_number.birth_date", "身份证号码中的出生日期不存在") from None
    today = today or date.today()
    if born > today or born.year < 1880:
        raise IdNumberError("id_number.birth_date", "身份证号码中的出生日期不合理")
    if check_char(number[:17]) != number[17]:
        raise IdNumberError("id_number.checksum", "身份证号码校验位错误")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdNumber(number=number, birth_date=born, sex=sex)


def id_number_facts(number: str) -> IdNumber:
    """Birth date and sex of a number that :func:`parse_id_number` already accepted."""
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return IdNumber(number=number, birth_date=born, sex="M" if int(number[16]) % 2 else "F")


def mask_id_number(number: str) -> str:
    """Keep the region (6) and the last four; hide the birth date and sequence."""
    if len(number) != 18:
        return "*" * len(number)
    return f"{number[:6]}{'*' * 8}{number[14:]}"


DIVISION_CODE = re.compile(r"^(\d{6}|\d{9}|\d{12})$")


def division_level_of(code: str) -> str:
    """Level implied by a GB/T 2260 code and its statistical extensions.

    >>> division_level_of("110000"), division_level_of("110102"), division_level_of("110102001")
    ('city', 'district', 'street')
    """
    if not DIVISION_CODE.match(code):
        raise ValueError("division code must have 6, 9 or 12 digits")
    if len(code) == 12:
        return "community"
    if len(code) == 9:
        return "street"
    return "city" if code.endswith("0000") else "district"


# -- unified social credit codes (统一社会信用代码, GB 32100-2015) ----------------------------------

# The 31 characters of GB 32100 in the order of their values 0..30: digits, then the capital
# letters without I, O, Z, S and V (which are too easily read as 1, 0, 2, 5 and U).
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, …
_CREDIT_VALUES = {c: v for v, c in enumerate(CREDIT_CHARS)}


class CreditCodeError(ValueError):
    """A malformed unified social credit code: ``code`` is ``credit_code.length``,
    ``credit_code.charset`` or ``credit_code.check_char``; ``message`` is Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def credit_check_char(first17: str) -> str:
    """The 18th character of a credit code whose first 17 characters are ``first17``:
    ``31 − (Σ value × 3^i mod 31) mod 31``, where 31 is written ``0``.

    >>> credit_check_char("91350100M000100Y4")
    '3'
    """
    total = sum(_CREDIT_VALUES[c] * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def parse_credit_code(raw: str) -> str:
    """Validate an 18-character unified social credit code and return it upper-cased.

    The code is the registration authority (1 character), the organisation category (1),
    the registering division (6 digits), the organisation code (9) and the check character.
    Length, character set and check character are enforced; the authority and category
    are not restricted to a list, since the registries add to theirs.

    >>> parse_credit_code("91350100M000100Y44")
    Traceback (most recent call last):
    ...
    minzheng.core.ids.CreditCodeError: 统一社会信用代码校验码（第18位）不正确，请核对是否抄错
    """
    if not isinstance(raw, str):
        raise CreditCodeError("credit_code.charset", "统一社会信用代码必须是文本")
    code = raw.strip().upper()
    if not code:
        raise CreditCodeError("credit_code.length", "请填写统一社会信用代码（18位）")
    if len(code) != 18:
        raise CreditCodeError("credit_code.length", f"统一社会信用代码应为18位，现为{len(code)}位")
    for position, char in enumerate(code, 1):
        if char not in _CREDIT_VALUES:
            raise CreditCodeError(
                "credit_code.charset",
                f"统一社会信用代码第{position}位「{char}」不是有效字符"
                "（只用数字和除 I、O、Z、S、V 以外的大写字母）",
            )
    if credit_check_char(code[:17]) != code[17]:
        raise CreditCodeError(
            "credit_code.check_char", "统一社会信用代码校验码（第18位）不正确，请核对是否抄错"
        )
    return code
