from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minzheng.core.ids import IdNumberError, check_char, mask_id_number, parse_id_number


def test_the_policy_files_example_is_valid_and_female() -> None:
    parsed = parse_id_number("11010519491231002X")
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "F"
    assert parsed.masked == "110105********002X"


def test_lower_case_x_and_spaces_are_accepted_and_stored_upper_case() -> None:
    assert parse_id_number("  11010519491231002x ").number == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "id_number.required"),
        ("11010519491231002", "id_number.format"),
        ("1101051949123100XX", "id_number.format"),
        ("110105194912310021", "id_number.checksum"),
        ("110105194902300027", "id_number.birth_date"),  # 30 February
        ("990105194912310020", "id_number.region"),
    ],
)
def test_malformed_numbers_name_the_reason(raw: str, code: str) -> None:
    with pytest.raises(IdNumberError) as exc:
        parse_id_number(raw)
    assert exc.value.code == code
    assert exc.value.message  # Chinese text for the user


def test_a_birth_date_in_the_future_is_rejected() -> None:
    stem = "11010520990101001"
    with pytest.raises(IdNumberError) as exc:
        parse_id_number(stem + check_char(stem), today=date(2026, 1, 1))
    assert exc.value.code == "id_number.birth_date"


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
    seq=st.integers(min_value=0, max_value=999),
)
def test_any_well_formed_number_round_trips(born: date, seq: int) -> None:
    stem = f"110102{born:%Y%m%d}{seq:03d}"
    parsed = parse_id_number(stem + check_char(stem))
    assert parsed.birth_date == born
    assert parsed.sex == ("M" if seq % 2 else "F")
    # changing the check character always breaks it
    wrong = next(c for c in "0123456789X" if c != check_char(stem))
    with pytest.raises(IdNumberError):
        parse_id_number(stem + wrong)


def test_masking_keeps_region_and_last_four() -> None:
    assert mask_id_number("110102194903027610") == "110102********7610"
