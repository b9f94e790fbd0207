"""The declarative policy cases under ``minzheng/policy/tests/``: loading and checking.

Each YAML file is a list of cases ``{name, as_of, household, expected, explanation}``
(optionally ``xfail: "reason"``), where ``expected`` may be replaced or completed by
``variables`` (household variables that are not programmes, such as the poverty index);
see ``policy/tests/README.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import yaml

from minzheng.rules.programmes import PROGRAMME_IDS

CASE_KEYS = {"name", "as_of", "household", "expected", "variables", "explanation", "xfail"}
RESULT_KEYS = {"eligible", "amount", "members"}
CENT = Decimal("0.01")
# a number written for a variable matches the engine's float to within this
TOLERANCE = 1e-6


@dataclass(frozen=True)
class PolicyCase:
    file: str  # "dibao/income_test.yaml"
    index: int  # 1-based position in the file
    name: str
    as_of: date
    household: dict[str, Any]
    expected: dict[str, dict[str, Any]]
    explanation: str
    xfail: str | None
    variables: dict[str, Any]

    @property
    def id(self) -> str:
        stem = self.file.removesuffix(".yaml")
        return f"{stem}#{self.index} {self.name} [{self.as_of.isoformat()}]"

    @property
    def key(self) -> str:
        return str(self.household["id"])


def cases_root() -> Traversable:
    return resources.files("minzheng.policy").joinpath("tests")


def _yaml_files(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _yaml_files(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".yaml"):
            yield f"{prefix}{entry.name}", entry


def money(value: Any) -> Decimal:
    """An expected amount as written ("812.50" or 812.5) in whole fen."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if amount != amount.quantize(CENT):
        raise ValueError(f"amount {value!r} has more than two decimals")
    return amount.quantize(CENT)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _check(where: str, raw: Mapping[str, Any]) -> None:
    unknown = set(raw) - CASE_KEYS
    missing = {"name", "as_of", "household", "explanation"} - set(raw)
    if not raw.get("expected") and not raw.get("variables"):
        missing.add("expected or variables")
    if unknown or missing:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}, missing {sorted(missing)}")
    if not str(raw["explanation"]).strip():
        raise ValueError(f"{where}: the explanation is empty")
    household = raw["household"]
    if not household.get("id") or not household.get("members"):
        raise ValueError(f"{where}: the household needs an id and members")
    member_ids = [m.get("id") for m in household["members"]]
    if None in member_ids or len(set(member_ids)) != len(member_ids):
        raise ValueError(f"{where}: every member needs a distinct id")
    for name, value in (raw.get("variables") or {}).items():
        if isinstance(value, str):
            money(value)
        elif not isinstance(value, int | float):  # bool is an int
            raise ValueError(f"{where}: variable {name} needs a number, true/false or an amount")
    for pid, result in (raw.get("expected") or {}).items():
        if pid not in PROGRAMME_IDS:
            raise ValueError(f"{where}: unknown programme {pid!r}")
        if set(result) - RESULT_KEYS or not isinstance(result.get("eligible"), bool):
            raise ValueError(f"{where}: {pid} needs eligible (true/false), amount?, members?")
        if "amount" in result:
            money(result["amount"])
        for member, detail in (result.get("members") or {}).items():
            if member not in member_ids:
                raise ValueError(f"{where}: {pid} names unknown member {member!r}")
            if set(detail) != {"eligible", "amount"}:
                raise ValueError(f"{where}: {pid}.{member} needs eligible and amount")
            money(detail["amount"])


def load_cases() -> list[PolicyCase]:
    cases: list[PolicyCase] = []
    for path, entry in _yaml_files(cases_root()):
        raw_cases = yaml.safe_load(entry.read_text(encoding="utf-8"))
        if not isinstance(raw_cases, list) or not raw_cases:
            raise ValueError(f"{path}: expected a non-empty list of cases")
        for index, raw in enumerate(raw_cases, start=1):
            _check(f"{path}#{index}", raw)
            cases.append(
                PolicyCase(
                    file=path,
                    index=index,
                    name=str(raw["name"]),
                    as_of=_as_date(raw["as_of"]),
                    household=raw["household"],
                    expected=raw.get("expected") or {},
                    explanation=" ".join(str(raw["explanation"]).split()),
                    xfail=raw.get("xfail"),
                    variables=raw.get("variables") or {},
                )
            )
    return cases


def differences(case: PolicyCase, result: Mapping[str, Any]) -> list[str]:
    """Where a result document disagrees with the case's expectations, in words."""
    found = []
    for pid, want in case.expected.items():
        got = result["programmes"][pid]
        if got["eligible"] != want["eligible"]:
            found.append(f"{pid}: eligible {got['eligible']}, expected {want['eligible']}")
        if "amount" in want and money(got["amount"]) != money(want["amount"]):
            found.append(f"{pid}: amount {got['amount']}, expected {money(want['amount'])}")
        by_member = {m["member"]: m for m in got.get("members", [])}
        for member, detail in (want.get("members") or {}).items():
            m = by_member.get(member)
            if m is None:
                found.append(f"{pid}: member {member} missing from the result")
                continue
            if m["eligible"] != detail["eligible"]:
                found.append(
                    f"{pid}.{member}: eligible {m['eligible']}, expected {detail['eligible']}"
                )
            if money(m["amount"]) != money(detail["amount"]):
                found.append(
                    f"{pid}.{member}: amount {m['amount']}, expected {money(detail['amount'])}"
                )
    return found


def variable_differences(case: PolicyCase, row: Mapping[str, Any]) -> list[str]:
    """Where a household's computed variables disagree with the case's ``variables``: an
    amount written as text ("2900.00") to the fen, true/false exactly, a number to within
    :data:`TOLERANCE`."""
    found = []
    for name, want in case.variables.items():
        got = row[name]
        if isinstance(want, str):
            same = got is not None and money(round(float(got), 2)) == money(want)
        elif isinstance(want, bool):
            same = got is want or got == want
        else:
            same = got is not None and abs(float(got) - float(want)) <= TOLERANCE
        if not same:
            found.append(f"{name}: {got!r}, expected {want!r}")
    return found
