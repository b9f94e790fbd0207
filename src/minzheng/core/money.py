"""Money is ``Decimal`` yuan with two places (fen); this is the one place that rounds."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")


class MoneyError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def quantize(value: Decimal) -> Decimal:
    """Round half up to the fen.

    >>> quantize(Decimal("362.505"))
    Decimal('362.51')
    """
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def parse_amount(raw: object, *, allow_negative: bool = False) -> Decimal:
    """Parse a user-supplied amount in yuan (string or number) into fen-exact ``Decimal``.

    Floats are accepted only through their shortest text form, so ``0.1`` is ``0.10``.

    >>> parse_amount("1,200.5")
    Decimal('1200.50')
    >>> parse_amount("-1")
    Traceback (most recent call last):
    ...
    minzheng.core.money.MoneyError: 金额不能为负数
    """
    if isinstance(raw, bool) or raw is None:
        raise MoneyError("amount.invalid", "金额必须是数字")
    text = str(raw).strip().replace(",", "").replace("，", "")
    if text in {"", "-"}:
        raise MoneyError("amount.invalid", "金额必须是数字")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise MoneyError("amount.invalid", "金额必须是数字") from None
    if not value.is_finite():
        raise MoneyError("amount.invalid", "金额必须是数字")
    if value < 0 and not allow_negative:
        raise MoneyError("amount.negative", "金额不能为负数")
    if value.as_tuple().exponent < -2 and value != quantize(value):  # type: ignore[operator]
        raise MoneyError("amount.precision", "金额最多保留两位小数（精确到分）")
    if abs(value) > MAX_AMOUNT:
        raise MoneyError("amount.too_large", "金额超出允许范围")
    return quantize(value)


def format_amount(value: Decimal) -> str:
    """Two-decimal string, as the API carries money: ``"1450.00"``."""
    return f"{quantize(value):.2f}"
