"""Unified social credit codes (统一社会信用代码, GB 32100-2015): the check character, worked
by hand, and the errors that name what is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minzheng.core.ids import (
    CREDIT_CHARS,
    CREDIT_WEIGHTS,
    CreditCodeError,
    credit_check_char,
    parse_credit_code,
)

# value of each character: digits 0–9, then A=10 … Y=30 without I, O, Z, S, V
BODY = st.text(alphabet=CREDIT_CHARS, min_size=17, max_size=17)


def test_the_table_and_the_weights_are_the_standards() -> None:
    assert len(CREDIT_CHARS) == 31
    assert dict(zip("ABCDEFGHJKLMNPQRTUWXY", range(10, 31), strict=True)) == {
        c: CREDIT_CHARS.index(c) for c in "ABCDEFGHJKLMNPQRTUWXY"
    }
    assert not set("IOZSV") & set(CREDIT_CHARS)
    assert CREDIT_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize(
    ("code", "worked"),
    [
        # the example commonly cited for GB 32100:
        # 9·1 + 1·3 + 3·9 + 5·27 + 0·19 + 1·26 + 0·16 + 0·17 + M(21)·20 + 0·29 + 0·25 + 0·13
        # + 1·8 + 0·24 + 0·10 + Y(30)·30 + 4·28 = 1640; 1640 mod 31 = 28; 31 − 28 = 3
        ("91350100M000100Y43", 1640),
        # a private non-enterprise unit (5 民政, 1 社会团体):
        # 5·1 + 1·3 + 1·9 + 1·27 + 5·20 + 2·8 + 1·24 + 6·10 + 7·30 + 6·28 = 622;
        # 622 mod 31 = 2; 31 − 2 = 29 = X
        ("51110000500021676X", 622),
        # every digit zero: the sum is 0, 31 − 0 = 31, written 0
        ("000000000000000000", 0),
        # a company registered in Haidian (check character Q = 24)
        ("91110108551385082Q", None),
    ],
)
def test_valid_codes_pass_and_the_check_character_is_worked_by_hand(
    code: str, worked: int | None
) -> None:
    assert parse_credit_code(code) == code
    if worked is not None:
        total = sum(
            CREDIT_CHARS.index(c) * w for c, w in zip(code[:17], CREDIT_WEIGHTS, strict=True)
        )
        assert total == worked
        assert CREDIT_CHARS[(31 - worked % 31) % 31] == code[17]


def test_spaces_and_lower_case_are_accepted_and_stored_upper_case() -> None:
    assert parse_credit_code("  91350100m000100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("raw", "code", "says"),
    [
        ("", "credit_code.length", "请填写"),
        ("   ", "credit_code.length", "请填写"),
        ("91350100M000100Y4", "credit_code.length", "现为17位"),
        ("91350100M000100Y433", "credit_code.length", "现为19位"),
        ("91350100I000100Y43", "credit_code.charset", "第9位「I」"),
        ("91350100M000100O43", "credit_code.charset", "第16位「O」"),
        ("9135010０M000100Y43", "credit_code.charset", "第8位"),  # a full-width zero
        ("91350100M000100Y4-", "credit_code.charset", "第18位「-」"),
        ("91350100M000100Y44", "credit_code.check_char", "校验码"),
        ("91350100M000100Y34", "credit_code.check_char", "校验码"),  # two swapped
    ],
)
def test_malformed_codes_name_the_reason(raw: str, code: str, says: str) -> None:
    with pytest.raises(CreditCodeError) as exc:
        parse_credit_code(raw)
    assert isinstance(exc.value, ValueError)
    assert exc.value.code == code
    assert says in exc.value.message


def test_not_text_is_refused() -> None:
    with pytest.raises(CreditCodeError) as exc:
        parse_credit_code(91350100)  # type: ignore[arg-type]
    assert exc.value.code == "credit_code.charset"


@given(body=BODY)
def test_any_body_with_its_computed_check_character_passes(body: str) -> None:
    code = body + credit_check_char(body)
    assert parse_credit_code(code) == code
    assert parse_credit_code(code.lower()) == code


@given(body=BODY, position=st.integers(min_value=0, max_value=17), data=st.data())
def test_any_single_character_change_fails(body: str, position: int, data: st.DataObject) -> None:
    code = body + credit_check_char(body)
    replacement = data.draw(st.sampled_from([c for c in CREDIT_CHARS if c != code[position]]))
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(CreditCodeError) as exc:
        parse_credit_code(changed)
    assert exc.value.code == "credit_code.check_char"


@given(body=BODY, position=st.integers(min_value=0, max_value=17), bad=st.sampled_from("IOZSV*"))
def test_a_character_outside_the_set_is_a_charset_error(body: str, position: int, bad: str) -> None:
    code = body + credit_check_char(body)
    changed = code[:position] + bad + code[position + 1 :]
    with pytest.raises(CreditCodeError) as exc:
        parse_credit_code(changed)
    assert exc.value.code == "credit_code.charset"
    assert f"第{position + 1}位" in exc.value.message
