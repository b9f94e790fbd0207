"""Property: the vectorised batch (Polars) equals the plain-Python reading of the README.

For random valid households (1–6 members, birth dates 1920–2024, incomes of every type
including 0 and the amounts where the rules turn, disabilities, statuses, assets, medical
bills, expenses, hukou) every programme's eligibility and amount must agree to the fen,
matched by household id.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from minzheng.rules.evaluate import Evaluator
from minzheng.rules.frames import frames_from_documents
from tests.rules import reference
from tests.rules.households import AS_OF_DAYS, household_lists, random_households
from tests.rules.test_policy_cases import batch_money


def mismatches(evaluator: Evaluator, docs: list[dict[str, Any]], as_of: date) -> list[str]:
    h, p = frames_from_documents(docs, as_of)
    frame = evaluator.batch(h, p, as_of).collect(backend="polars").to_native()
    assert isinstance(frame, pl.DataFrame)
    rows = {r["household"]: r for r in frame.to_dicts()}
    expected = reference.evaluate_all(docs, as_of)
    assert rows.keys() == expected.keys()
    found = []
    by_key = {d["id"]: d for d in docs}
    for key, outcomes in expected.items():
        for pid, want in outcomes.items():
            eligible, amount = (
                rows[key][f"{pid}__eligible"],
                batch_money(rows[key][f"{pid}__amount"]),
            )
            if eligible != want.eligible or amount != want.amount:
                found.append(
                    f"{key} {pid} as of {as_of}: engine ({eligible}, {amount}), "
                    f"reference ({want.eligible}, {want.amount})\n"
                    f"  {json.dumps(by_key[key], ensure_ascii=False)}"
                )
    return found


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), as_of=st.sampled_from(AS_OF_DAYS))
def test_batch_equals_reference_for_a_random_district(
    seed: int, as_of: date, evaluator: Evaluator
) -> None:
    docs = random_households(seed, 200, as_of)
    found = mismatches(evaluator, docs, as_of)
    assert not found, "\n".join(found[:5])


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_batch_equals_reference_for_a_few_households(
    data: st.DataObject, evaluator: Evaluator
) -> None:
    as_of = data.draw(st.sampled_from(AS_OF_DAYS), label="as_of")
    docs = data.draw(household_lists(as_of, max_size=6), label="households")
    found = mismatches(evaluator, docs, as_of)
    assert not found, "\n".join(found[:5])


def test_the_reference_reads_the_worked_examples_like_the_engine() -> None:
    """The reference itself, held to the hand-worked README examples."""
    from tests.rules.policy_cases import load_cases, money

    for case in load_cases():
        if case.file != "worked_cases.yaml":
            continue
        got = reference.evaluate(case.household, case.as_of)
        for pid, want in case.expected.items():
            assert got[pid].eligible == want["eligible"], (case.id, pid)
            if "amount" in want:
                assert got[pid].amount == money(want["amount"]), (case.id, pid)
