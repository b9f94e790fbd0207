"""Bank accounts for benefit transfers: which banks the district pays through and how
an account number is checked.

A bank card number (16–19 digits, ISO/IEC 7812, every UnionPay debit card) carries a
Luhn check digit, so a mistyped digit is caught here rather than by the bank a month
later. A passbook or settlement account number (8–30 digits) has no published check
digit and is checked for its form only.
"""

from __future__ import annotations

from dataclasses import dataclass

from minzheng.core.crypto import encrypt
from minzheng.core.errors import FieldError
from minzheng.core.text import has_control_characters

from .errors import BenefitsErrorCode as Code

# CNAPS bank category codes (the first three digits of a branch's 12-digit code).
BANKS: dict[str, str] = {
    "102": "中国工商银行",
    "103": "中国农业银行",
    "104": "中国银行",
    "105": "中国建设银行",
    "301": "交通银行",
    "302": "中信银行",
    "303": "中国光大银行",
    "304": "华夏银行",
    "305": "中国民生银行",
    "306": "广发银行",
    "308": "招商银行",
    "309": "兴业银行",
    "310": "上海浦东发展银行",
    "313": "北京银行",
    "314": "北京农村商业银行",
    "403": "中国邮政储蓄银行",
}

ACCOUNT_KINDS = ("card", "passbook")


@dataclass(frozen=True)
class BankAccount:
    bank_code: str
    number: str
    name: str

    @property
    def masked(self) -> str:
        return mask_account(self.number)

    @property
    def encrypted(self) -> str:
        return encrypt(self.number)


def luhn_ok(digits: str) -> bool:
    """ISO/IEC 7812 check: double every second digit from the right."""
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch)
        if k % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_digit(first: str) -> str:
    """The check digit that completes ``first`` (for demo data and tests)."""
    for d in "0123456789":
        if luhn_ok(first + d):
            return d
    raise AssertionError("unreachable")


def mask_account(number: str) -> str:
    """``6222021234567890123`` → ``6222 **** **** 0123``."""
    if len(number) <= 8:
        return "*" * len(number)
    return f"{number[:4]} **** **** {number[-4:]}"


def parse_bank_account(bank_code: object, number: object, name: object,
                       kind: object = "card") -> BankAccount:  # fmt: skip
    """Validate what a worker typed; spaces and dashes inside the number are ignored."""
    code = str(bank_code or "").strip()
    if code[:3] not in BANKS or not code.isdigit() or len(code) not in (3, 12):
        raise FieldError("bank_code", Code.BANK_UNKNOWN,
                         "开户银行代码无效（应为3位银行类别代码或12位联行号）")  # fmt: skip
    text = str(number or "").replace(" ", "").replace("-", "")
    if kind not in ACCOUNT_KINDS:
        raise FieldError(
            "account_kind", Code.ACCOUNT_FORMAT, "账户类型应为 card（银行卡）或 passbook（存折）"
        )
    if not text.isascii() or not text.isdigit():
        raise FieldError("account_number", Code.ACCOUNT_FORMAT, "银行账号只能包含数字")
    if kind == "card":
        if not 16 <= len(text) <= 19:
            raise FieldError("account_number", Code.ACCOUNT_FORMAT, "银行卡号应为16至19位数字")
        if not luhn_ok(text):
            raise FieldError("account_number", Code.ACCOUNT_CHECK_DIGIT,
                             "银行卡号校验位错误，请核对卡号")  # fmt: skip
    elif not 8 <= len(text) <= 30:
        raise FieldError("account_number", Code.ACCOUNT_FORMAT, "存折账号应为8至30位数字")
    holder = str(name or "").strip()
    if not holder or len(holder) > 64 or has_control_characters(holder):
        raise FieldError("account_name", Code.ACCOUNT_NAME, "请填写账户名（不超过64个字符）")
    return BankAccount(bank_code=code, number=text, name=holder)
