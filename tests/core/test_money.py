from __future__ import annotations

from decimal import Decimal

import pytest

from minzheng.core.money import MoneyError, format_amount, parse_amount, quantize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1200", "1200.00"),
        ("1,450.5", "1450.50"),
        (0.1, "0.10"),
        ("0", "0.00"),
        (" 812.50 ", "812.50"),
    ],
)
def test_amounts_parse_to_the_fen(raw: object, expected: str) -> None:
    assert format_amount(parse_amount(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("abc", "amount.invalid"),
        ("-1", "amount.negative"),
        ("1.234", "amount.precision"),
        ("", "amount.invalid"),
        (None, "amount.invalid"),
        (True, "amount.invalid"),
        ("NaN", "amount.invalid"),
    ],
)
def test_bad_amounts_are_rejected(raw: object, code: str) -> None:
    with pytest.raises(MoneyError) as exc:
        parse_amount(raw)
    assert exc.value.code == code


def test_rounding_is_half_up_once() -> None:
    assert quantize(Decimal("362.505")) == Decimal("362.51")
    assert quantize(Decimal("362.504")) == Decimal("362.50")
