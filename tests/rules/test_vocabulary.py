"""The engine cannot import the registry (it knows no Django), so it names income types,
statuses and disability kinds again; these tests keep the two lists in step."""

from __future__ import annotations

from minzheng.policy.variables.general import inputs
from minzheng.registry.vocab import DisabilityKind, IncomeType, Status
from minzheng.rules.frames import DISABILITY_KINDS, INCOME_TYPES, STATUSES
from minzheng.rules.programmes import PROGRAMME_IDS, load_programmes


def test_engine_codes_are_the_registry_codes() -> None:
    assert set(INCOME_TYPES) == {c.value for c in IncomeType}
    assert set(STATUSES) == {c.value for c in Status}
    assert set(DISABILITY_KINDS) == {c.value for c in DisabilityKind}


def test_engine_labels_are_the_registry_labels() -> None:
    assert {c.value: c.label for c in IncomeType} == inputs.INCOME_LABELS
    assert {c.value: c.label for c in Status} == inputs.STATUS_LABELS


def test_catalogue_holds_exactly_the_contract_programmes() -> None:
    assert tuple(p.id for p in load_programmes()) == PROGRAMME_IDS
