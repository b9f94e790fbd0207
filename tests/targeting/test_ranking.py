"""The ranking: order, ranks per street and for the district, scope, applicants only."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from minzheng.accounts.roles import Role
from minzheng.applications import services as applications
from minzheng.applications.models import Application
from minzheng.core.errors import NotFound, PermissionDenied
from minzheng.registry.models import Household
from minzheng.targeting import selectors
from minzheng.targeting.errors import READERS_ONLY_MESSAGE, TargetingErrorCode
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, STREET_A
from tests.targeting.conftest import AS_OF, STREET_B, Town


def _ranked(town: Town, role: str, **kwargs: object) -> selectors.Ranking:
    actor = town.cast.users[role]
    return selectors.ranking(actor, as_of=AS_OF, **kwargs)  # type: ignore[arg-type]


def test_district_ranking_is_by_index_with_ranks_per_street(town: Town) -> None:
    result = _ranked(town, Role.DISTRICT_APPROVER, applicants_only=False)
    c = town.cast
    rows = result.rows.select("household_id", "index", "rank", "street_code", "street_rank")
    got = [tuple(r) for r in rows.iter_rows()]
    first, second = sorted([c.own.pk, c.other_street.pk])  # a tie is ordered by id
    low_a, low_b = town.comfortable.pk, town.comfortable_b.pk
    assert got == [
        (town.poorest.pk, 75.0, 1, STREET_A, 1),
        (first, 60.0, 2, STREET_A if first == c.own.pk else STREET_B, 2 if first == c.own.pk else 1),
        (second, 60.0, 2, STREET_A if second == c.own.pk else STREET_B,
         2 if second == c.own.pk else 1),
        (town.old.pk, 35.86, 4, STREET_A, 3),
        (min(low_a, low_b), 25.0, 5, STREET_A if low_a < low_b else STREET_B,
         4 if low_a < low_b else 2),
        (max(low_a, low_b), 25.0, 5, STREET_B if low_a < low_b else STREET_A,
         2 if low_a < low_b else 4),
    ]  # fmt: skip
    assert result.division.code == "110102" and result.count == 6
    # the other district's household (index 60) is never ranked here
    assert c.other_district.pk not in result.rows.get_column("household_id").to_list()


@pytest.mark.parametrize(
    ("role", "division", "expected"),
    [
        (Role.COMMUNITY_WORKER, None, {"poorest", "own", "old", "comfortable"}),
        (Role.STREET_REVIEWER, None, {"poorest", "own", "old", "comfortable"}),
        (Role.DISTRICT_APPROVER, COMMUNITY_B, {"other_street", "comfortable_b"}),
        (Role.AUDITOR, STREET_B, {"other_street", "comfortable_b"}),
        (Role.ADMIN, None, {"poorest", "own", "old", "comfortable", "other_street",
                            "comfortable_b"}),
    ],
)  # fmt: skip
def test_each_reader_ranks_only_their_jurisdiction(
    town: Town, role: str, division: str | None, expected: set[str]
) -> None:
    named = {
        "poorest": town.poorest, "old": town.old, "comfortable": town.comfortable,
        "comfortable_b": town.comfortable_b, "own": town.cast.own,
        "other_street": town.cast.other_street, "other_district": town.cast.other_district,
    }  # fmt: skip
    result = _ranked(town, role, division_code=division, applicants_only=False)
    ids = set(result.rows.get_column("household_id").to_list())
    assert ids == {named[n].pk for n in expected}
    assert result.rows.get_column("rank").to_list()[0] == 1


@pytest.mark.parametrize("role", [Role.COMMUNITY_WORKER, Role.STREET_REVIEWER])
def test_a_division_outside_the_jurisdiction_is_not_found(town: Town, role: str) -> None:
    with pytest.raises(NotFound):
        _ranked(town, role, division_code=COMMUNITY_B)
    with pytest.raises(NotFound):
        _ranked(town, role, division_code="110101")


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.SERVICE_PROVIDER])
def test_residents_and_providers_are_refused(town: Town, role: str) -> None:
    with pytest.raises(PermissionDenied) as exc:
        _ranked(town, role)
    assert exc.value.code == TargetingErrorCode.READERS_ONLY
    assert exc.value.message == READERS_ONLY_MESSAGE
    with pytest.raises(PermissionDenied):
        selectors.household_poverty_index(town.cast.users[role], town.cast.own.pk, as_of=AS_OF)


def test_applicants_are_households_with_an_open_line(
    town: Town, apply_for: Callable[[Household], Application]
) -> None:
    assert _ranked(town, Role.DISTRICT_APPROVER).count == 0
    apply_for(town.old)
    withdrawn = apply_for(town.poorest)
    apply_for(town.cast.other_street)
    applications.application_transition(
        actor=town.cast.users[Role.COMMUNITY_WORKER], application_id=withdrawn.pk,
        action="withdraw", reason="申请人主动撤回",
    )  # fmt: skip
    result = _ranked(town, Role.DISTRICT_APPROVER)
    assert result.applicants_only
    assert result.rows.get_column("household_id").to_list() == [
        town.cast.other_street.pk, town.old.pk,
    ]  # fmt: skip
    assert result.rows.get_column("rank").to_list() == [1, 2]
    page = selectors.ranking_page(result, 1, 10)
    assert [item["programmes"] for item in page] == [["最低生活保障"], ["最低生活保障"]]
    # the street reviewer of street A sees only the applicant in street A
    street = _ranked(town, Role.STREET_REVIEWER)
    assert street.rows.get_column("household_id").to_list() == [town.old.pk]


def test_a_page_masks_the_head_and_carries_money_as_text(town: Town) -> None:
    result = _ranked(town, Role.DISTRICT_APPROVER, applicants_only=False)
    first, *_ = selectors.ranking_page(result, 1, 2)
    assert first["household_id"] == town.poorest.pk
    assert first["head_name_masked"] == "钱*"
    assert first["index"] == 75.0 and first["top_dimension"] == {"key": "income",
                                                                 "label": "收入缺口"}  # fmt: skip
    # 60 ≤ 75 < 80: four times the standard
    assert first["assistance"] == "5800.00" and first["assistance_multiple"] == 4.0
    assert first["street"] == {"code": STREET_A, "name": "展览路街道"}
    assert first["division"]["code"] == COMMUNITY_A
    assert first["scores"] == {"income": 100.0, "assets": 100.0, "expenses": 100.0,
                               "health": 0.0, "dependants": 0.0, "housing": 100.0}  # fmt: skip
    assert [r["household_id"] for r in selectors.ranking_page(result, 3, 2)] == [
        *result.rows.get_column("household_id").to_list()[4:6]
    ]
    assert selectors.ranking_page(result, 4, 2) == []


def test_histogram_and_streets(town: Town) -> None:
    result = _ranked(town, Role.DISTRICT_APPROVER, applicants_only=False)
    counts = {b["lower"]: b["count"] for b in result.histogram()}
    assert counts == {0: 0, 10: 0, 20: 2, 30: 1, 40: 0, 50: 0, 60: 2, 70: 1, 80: 0, 90: 0}
    streets = {s["street_code"]: s for s in result.streets()}
    assert streets[STREET_A]["households"] == 4 and streets[STREET_B]["households"] == 2
    # suggested: 75 → 5,800; 60 → 5,800 each; below 40 nothing
    assert streets[STREET_A]["assistance"] == "11600.00" and streets[STREET_A]["assisted"] == 2
    assert streets[STREET_B]["assistance"] == "5800.00"


def test_an_empty_ranking(town: Town) -> None:
    result = _ranked(town, Role.COMMUNITY_WORKER)  # nobody has applied
    assert result.count == 0
    assert selectors.ranking_page(result, 1, 50) == []
    assert sum(b["count"] for b in result.histogram()) == 0 and result.streets() == []
