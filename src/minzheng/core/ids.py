"""Resident ID numbers (GB 11643-1999) and division codes (GB/T 2260).

>>> parse_id_number(" 11010519491231002x ").number
'11010519491231002X'
>>> mask_id_number("11010519491231002X")
'110105********002X'
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
