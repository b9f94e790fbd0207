"""The declarative policy cases (``minzheng/policy/tests/**/*.yaml``) through the engine.

Every case goes through :meth:`Evaluator.results` (eligibility and amount per programme
and per member, against the hand arithmetic) and through the batch path
(:func:`frames_from_documents` + :meth:`Evaluator.batch`), whose household columns must
agree with the result documents. A case's ``variables`` (the poverty index, which is no
programme) are computed by each of the engine's paths on every backend: Polars (one
household, batch, lazy), DuckDB, the join plan and PySpark. Rows are always matched by
household id.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb
import polars as pl
import pytest

from minzheng.rules.engine import Run
from minzheng.rules.evaluate import Evaluator
from minzheng.rules.frames import frames_from_documents
from minzheng.rules.programmes import PROGRAMME_IDS
from minzheng.rules.variables import HOUSEHOLD
from tests.rules.conftest import HAS_JAVA, REQUIRE_SPARK
from tests.rules.policy_cases import (
    CENT,
    PolicyCase,
    differences,
    load_cases,
    money,
    variable_differences,
)

CASES = load_cases()
VARIABLE_CASES = [c for c in CASES if c.variables]
BACKENDS = ("polars-one", "polars-batch", "polars-lazy", "duckdb", "join-plan")


def _param(case: PolicyCase) -> Any:
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


def batch_money(value: float) -> Decimal:
    """A batch amount (float yuan, already rounded by the engine) as Decimal fen."""
    assert abs(value * 100 - round(value * 100)) < 1e-6, f"{value!r} is not whole fen"
    return Decimal(repr(float(value))).quantize(CENT, rounding=ROUND_HALF_UP)


def batch_rows(
    evaluator: Evaluator, docs: list[dict[str, Any]], as_of: date, programmes: list[str]
) -> dict[str, dict[str, Any]]:
    h, p = frames_from_documents(docs, as_of)
    frame = evaluator.batch(h, p, as_of, programmes).collect(backend="polars").to_native()
    assert isinstance(frame, pl.DataFrame)
    rows = {r["household"]: r for r in frame.to_dicts()}
    assert len(rows) == frame.height == len(docs)
    return rows


# -- the case files themselves -------------------------------------------------------------


def test_every_programme_has_cases_with_amounts_worked_by_hand() -> None:
    with_amount = Counter(
        pid
        for case in CASES
        for pid, want in case.expected.items()
        if "amount" in want and (want["eligible"] or pid in {"low_income", "preferential_card"})
    )
    for pid in PROGRAMME_IDS:
        assert with_amount[pid] >= 3, f"{pid}: only {with_amount[pid]} cases with an amount"
    assert len(CASES) >= 150


def test_household_ids_are_unique_on_each_day() -> None:
    seen = Counter((case.as_of, case.key) for case in CASES)
    assert [k for k, n in seen.items() if n > 1] == []


def test_the_worked_examples_are_all_there() -> None:
    worked = [c for c in CASES if c.file == "worked_cases.yaml"]
    assert len(worked) == 9
    assert {c.key for c in worked} == {f"EX-{i}" for i in range(1, 9)}


# -- each case ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c.expected])
def test_policy_case(case: PolicyCase, evaluator: Evaluator) -> None:
    [result] = evaluator.results([case.household], case.as_of, list(case.expected))
    assert result["household"] == case.key
    found = differences(case, result)
    assert not found, "\n".join([*found, f"hand arithmetic: {case.explanation}"])


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES if c.expected])
def test_policy_case_batch_agrees_with_results(case: PolicyCase, evaluator: Evaluator) -> None:
    programmes = list(case.expected)
    [result] = evaluator.results([case.household], case.as_of, programmes)
    row = batch_rows(evaluator, [case.household], case.as_of, programmes)[case.key]
    for pid in programmes:
        got = result["programmes"][pid]
        assert row[f"{pid}__eligible"] == got["eligible"], pid
        assert batch_money(row[f"{pid}__amount"]) == money(got["amount"]), pid


def test_all_cases_of_a_day_in_one_batch(evaluator: Evaluator) -> None:
    """Many households in one frame, fed in reverse order: each row still carries its own
    household's figures (matched by id, never by position)."""
    by_day: dict[date, list[PolicyCase]] = defaultdict(list)
    for case in CASES:
        if case.expected:
            by_day[case.as_of].append(case)
    for as_of, cases in by_day.items():
        programmes = sorted({pid for c in cases for pid in c.expected}, key=PROGRAMME_IDS.index)
        docs = [c.household for c in cases]
        results = {
            r["household"]: r for r in evaluator.results(docs, as_of, programmes)
        }  # one call for all the day's households
        rows = batch_rows(evaluator, docs[::-1], as_of, programmes)
        assert rows.keys() == results.keys()
        for key, result in results.items():
            for pid in programmes:
                got = result["programmes"][pid]
                assert rows[key][f"{pid}__eligible"] == got["eligible"], (as_of, key, pid)
                assert batch_money(rows[key][f"{pid}__amount"]) == money(got["amount"]), (
                    as_of,
                    key,
                    pid,
                )
        # and the many-household result documents agree with the one-household ones
        for case in cases:
            found = differences(case, results[case.key])
            if case.xfail is None:
                assert not found, (case.id, found)


def test_members_keep_input_order_when_several_households_share_member_ids(
    evaluator: Evaluator,
) -> None:
    def doc(key: str, births: list[str]) -> dict[str, Any]:
        members = [{"birth_date": b} for b in births]
        return {"id": key, "division": "110102", "hukou": "beijing", "members": members}

    docs = [doc("H1", ["1940-01-01", "1990-01-01", "1930-01-01"]), doc("H2", ["1940-01-01"] * 2)]
    results = evaluator.results(docs, date(2024, 10, 1), ["age_allowance"])
    members = [m["member"] for m in results[0]["programmes"]["age_allowance"]["members"]]
    assert members == ["#1", "#2", "#3"]


# -- variables that are not programmes (the poverty index), on every backend ---------------


def _variable_names(cases: list[PolicyCase], evaluator: Evaluator) -> list[str]:
    names = sorted({name for case in cases for name in case.variables})
    entities = {name: evaluator.variables[name].entity for name in names}
    assert set(entities.values()) <= {HOUSEHOLD}, f"household variables only: {entities}"
    return names


def run_variables(
    evaluator: Evaluator, docs: list[dict[str, Any]], as_of: date, names: list[str],
    backend: str, spark: Any = None,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """The household variables ``names`` for ``docs`` on one backend, keyed by household."""
    h, p = frames_from_documents(docs, as_of)
    engine = evaluator.engine
    run: Run
    if backend == "polars-one":
        run = engine.run_polars(h, p, as_of, names)
    elif backend == "polars-batch":
        run = engine.run_polars_batch(h, p, as_of, names)
    elif backend == "polars-lazy":
        run = engine.run_windowed(h.lazy(), p.lazy(), as_of, names)
    elif backend == "duckdb":
        run = engine.run_windowed(duckdb.from_arrow(h.to_arrow()), duckdb.from_arrow(p.to_arrow()),
                                  as_of, names)  # fmt: skip
    elif backend == "join-plan":
        run = engine.run(h.lazy(), p.lazy(), as_of, names)
    else:
        sh, sp = spark.createDataFrame(h.to_arrow()), spark.createDataFrame(p.to_arrow())
        run = engine.run_windowed(sh, sp, as_of, names)
        frame = pl.from_arrow(run.households.to_native().toArrow())
        assert isinstance(frame, pl.DataFrame)
        return {r["household"]: r for r in frame.to_dicts()}
    households = run.households
    native = (
        households.to_native()
        if isinstance(households.to_native(), pl.DataFrame)
        else households.collect(backend="polars").to_native()
    )
    return {r["household"]: r for r in native.to_dicts()}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", [_param(c) for c in VARIABLE_CASES])
def test_policy_case_variables(case: PolicyCase, backend: str, evaluator: Evaluator) -> None:
    names = _variable_names([case], evaluator)
    row = run_variables(evaluator, [case.household], case.as_of, names, backend)[case.key]
    found = variable_differences(case, row)
    assert not found, "\n".join([*found, f"hand arithmetic: {case.explanation}"])


def _variable_cases_by_day() -> dict[date, list[PolicyCase]]:
    by_day: dict[date, list[PolicyCase]] = defaultdict(list)
    for case in VARIABLE_CASES:
        if case.xfail is None:
            by_day[case.as_of].append(case)
    return by_day


def test_variable_cases_of_a_day_in_one_batch(evaluator: Evaluator) -> None:
    """All the day's cases in one frame, in reverse: each keeps its own figures."""
    for as_of, cases in _variable_cases_by_day().items():
        names = _variable_names(cases, evaluator)
        docs = [c.household for c in cases][::-1]
        for backend in ("polars-batch", "duckdb"):
            rows = run_variables(evaluator, docs, as_of, names, backend)
            for case in cases:
                assert not variable_differences(case, rows[case.key]), (backend, case.id)


@pytest.mark.skipif(not HAS_JAVA and not REQUIRE_SPARK, reason="PySpark needs a Java runtime")
def test_variable_cases_on_pyspark(evaluator: Evaluator, spark: Any) -> None:
    for as_of, cases in _variable_cases_by_day().items():
        names = _variable_names(cases, evaluator)
        rows = run_variables(evaluator, [c.household for c in cases], as_of, names, "pyspark",
                             spark)  # fmt: skip
        for case in cases:
            assert not variable_differences(case, rows[case.key]), case.id
