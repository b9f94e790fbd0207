"""One household's index, dimension by dimension: the contributions add up to the index."""

from __future__ import annotations

from decimal import Decimal

import pytest

from minzheng.accounts.models import AccessLog
from minzheng.accounts.roles import Role
from minzheng.core.errors import ApplicationError, NotFound
from minzheng.registry.models import Household
from minzheng.registry.vocab import PersonState
from minzheng.targeting import selectors
from minzheng.targeting.errors import TargetingErrorCode
from tests.targeting.conftest import AS_OF, Town

KEYS = ["income", "assets", "expenses", "health", "dependants", "housing"]


def _explain(town: Town, household: Household, role: str = Role.DISTRICT_APPROVER) -> dict:  # type: ignore[type-arg]
    _, result = selectors.household_poverty_index(town.cast.users[role], household.pk, as_of=AS_OF)
    return result


@pytest.mark.parametrize("name", ["poorest", "old", "comfortable", "comfortable_b"])
def test_the_contributions_add_up_to_the_index(town: Town, name: str) -> None:
    result = _explain(town, getattr(town, name))
    assert [d["key"] for d in result["dimensions"]] == KEYS
    total = sum(Decimal(str(d["contribution"])) for d in result["dimensions"])
    assert total == Decimal(str(result["index"]))
    assert sum(d["weight"] for d in result["dimensions"]) == pytest.approx(1.0)
    for d in result["dimensions"]:
        assert 0 <= d["score"] <= 100
        assert d["contribution"] == pytest.approx(d["weight"] * d["score"], abs=0.005)


def test_an_old_pensioner_read_out(town: Town) -> None:
    """Pension 1,000 at 95, no savings, a house: income (1,450 − 1,000) / 1,450 = 31.03 →
    10.86; assets 100 → 15.00; a dependant alone → 100 → 10.00; index 35.86."""
    result = _explain(town, town.old)
    dims = {d["key"]: d for d in result["dimensions"]}
    assert dims["income"]["value"] == "1000.00" and dims["income"]["value_unit"] == "yuan/month"
    assert dims["income"]["score"] == 31.03 and dims["income"]["contribution"] == 10.86
    assert dims["assets"]["contribution"] == 15.0 and dims["dependants"]["contribution"] == 10.0
    assert dims["housing"]["value"] == 1 and dims["housing"]["score"] == 0.0
    assert result["index"] == 35.86
    assert result["top_dimension"] == {"key": "assets", "label": "货币财产"}
    assert result["assistance"]["amount"] == "0.00"  # below 40
    assert [b["reached"] for b in result["assistance"]["table"]] == [False, False, False]
    facts = {f["name"]: f["value"] for f in result["facts"]}
    assert facts["dibao_standard"] == "1450.00" and facts["members"] == 1
    assert result["number"] == town.old.number


def test_the_parameters_are_listed_with_their_dates_and_sources(town: Town) -> None:
    result = _explain(town, town.poorest)
    params = {p["name"]: p for p in result["parameters"]}
    assert {
        "poverty_index.weights", "poverty_index.expenses_full_share",
        "poverty_index.health_burden", "poverty_index.dependant_ages",
        "poverty_index.housing_scores", "poverty_index.assistance_table", "dibao.standard",
        "dibao.monetary_assets_limit_months", "general.income_counted",
    } <= set(params)  # fmt: skip
    weights = params["poverty_index.weights"]
    assert weights["since"] == "2020-07-27" and weights["confidence"] == "to-confirm"
    assert "project choice" in weights["source"]
    assert params["dibao.standard"]["value"] == 1450
    assert params["dibao.standard"]["since"] == "2024-07-01"
    # 75.00 reaches the 60–80 bracket
    reached = [b for b in result["assistance"]["table"] if b["reached"]]
    assert reached == [{"from_index": 60.0, "to_index": 80.0, "multiple": 4.0,
                        "amount": "5800.00", "reached": True}]  # fmt: skip


def test_opening_an_explanation_is_logged(town: Town) -> None:
    approver = town.cast.users[Role.DISTRICT_APPROVER]
    before = AccessLog.objects.filter(actor=approver, household=town.old).count()
    _explain(town, town.old)
    logs = AccessLog.objects.filter(actor=approver, household=town.old)
    assert logs.count() == before + 1
    assert logs.latest("pk").reason == selectors.EXPLANATION_REASON


def test_out_of_scope_is_not_found_and_an_empty_household_is_refused(town: Town) -> None:
    with pytest.raises(NotFound):
        _explain(town, town.comfortable_b, Role.STREET_REVIEWER)
    with pytest.raises(NotFound):
        _explain(town, town.cast.other_district)
    town.old.members.update(state=PersonState.DECEASED)
    with pytest.raises(ApplicationError) as exc:
        _explain(town, town.old)
    assert exc.value.code == TargetingErrorCode.NO_MEMBERS and exc.value.status == 422
