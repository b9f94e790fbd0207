"""Policy parameters: every figure dated and sourced, read as of a date, overridable."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from minzheng.rules.parameters import (
    ParameterError,
    ParameterNotInForce,
    UnknownParameter,
    load_parameters,
)

PARAMS = load_parameters()


def test_every_parameter_has_label_unit_and_a_source_for_every_value() -> None:
    names = [p.name for p in PARAMS]
    # 31 from shared/policy/beijing.yaml, 8 added with the rules engine, 6 for the poverty index
    assert len(names) == 45
    for parameter in PARAMS:
        assert parameter.label and parameter.unit, parameter.name
        for value in parameter.values:
            assert value.source or value.confidence.startswith("to-confirm"), (
                parameter.name,
                value,
            )


@pytest.mark.parametrize(
    ("name", "as_of", "expected"),
    [
        ("dibao.standard", date(2024, 7, 1), 1450),  # the day the 2024 standard took effect
        ("dibao.standard", date(2024, 6, 30), 1395),  # the day before
        ("dibao.standard", date(2020, 7, 1), 1170),
        ("general.minimum_wage", date(2025, 6, 30), 2420),
        ("general.minimum_wage", date(2025, 7, 1), 2540),
        ("orphan_allowance.amount", date(2025, 7, 1), 2850),
        ("orphan_allowance.amount", date(2024, 1, 1), 2450),
        ("preferential_card.min_age", date(2025, 1, 1), 65),
    ],
)
def test_the_value_in_force_on_a_date(name: str, as_of: date, expected: int) -> None:
    assert PARAMS.value(name, as_of) == expected


def test_poverty_index_weights_sum_to_one_on_every_date() -> None:
    weights = PARAMS.get("poverty_index.weights")
    for dated in weights.values:
        assert set(dated.value) == {"income", "assets", "expenses", "health", "dependants",
                                    "housing"}  # fmt: skip
        assert sum(dated.value.values()) == pytest.approx(1.0), dated.start
    for name in [p.name for p in PARAMS if p.name.startswith("poverty_index.")]:
        # project choices pending the Beijing Normal University model: marked as such
        for dated in PARAMS.get(name).values:
            assert dated.confidence == "to-confirm" and "project choice" in dated.source, name


def test_structured_values_come_back_whole() -> None:
    bands = PARAMS.value("age_allowance.bands", date(2025, 1, 1))
    assert bands[1] == {"from_age": 90, "to_age": 99, "amount": 500}
    assert (
        PARAMS.value("medical_assistance.annual_cap", date(2024, 1, 1))["extreme_poverty"] is None
    )
    assert PARAMS.value("general.income_counted", date(2024, 1, 1))["age_allowance"] is False


def test_before_any_value_is_a_clear_error() -> None:
    with pytest.raises(ParameterNotInForce) as exc:
        PARAMS.value("medical_assistance.ratio", date(2022, 12, 31))
    assert "2023-01-01" in str(exc.value) and "医疗救助比例" in str(exc.value)
    snapshot = PARAMS.as_of(date(2022, 12, 31))
    assert "medical_assistance.ratio" not in snapshot and snapshot["dibao.standard"] == 1320


def test_overrides_make_a_what_if_copy_and_leave_the_law_alone() -> None:
    what_if = PARAMS.with_overrides({"dibao.standard": 1500})
    assert what_if.value("dibao.standard", date(2025, 1, 1)) == 1500
    assert PARAMS.value("dibao.standard", date(2025, 1, 1)) == 1450
    with pytest.raises(UnknownParameter):
        PARAMS.with_overrides({"dibao.standrad": 1500})
    with pytest.raises(ParameterNotInForce):
        what_if.value("dibao.standard", date(2010, 1, 1))


def test_values_are_copies_callers_cannot_change_the_law() -> None:
    bands = PARAMS.value("age_allowance.bands", date(2025, 1, 1))
    bands[0]["amount"] = 0
    assert PARAMS.value("age_allowance.bands", date(2025, 1, 1))[0]["amount"] == 100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("label: x\nunit: y\nvalues:\n  2020-01-01: {value: 1}\n", "没有来源"),
        ("label: x\nunit: y\nvalues:\n  2020-13-01: {value: 1, source: s}\n", "无法读取"),
        ("label: x\nvalues:\n  2020-01-01: {value: 1, source: s}\n", "缺少：unit"),
        ("label: x\nunit: y\nvalues:\n  2020-01-01: 5\n", "{value: …, source: …}"),
        ("label: x\nunit: y\nextra: 1\nvalues:\n  2020-01-01: {value: 1, source: s}\n", "未知字段"),
    ],
)
def test_malformed_parameter_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "thing.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError) as exc:
        load_parameters(tmp_path)  # type: ignore[arg-type]
    assert message in str(exc.value)
