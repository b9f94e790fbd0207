"""Evaluate programmes: a batch table for many households, or results with reasons.

:class:`Evaluator` is what the rest of the system calls. ``batch`` returns one row per
household with ``<programme>__eligible`` and ``<programme>__amount`` (yuan, two decimals)
on the caller's backend; ``results`` returns the result documents of CONTRACTS.md
(``{"household", "as_of", "programmes": {...}}``) with a Chinese reason per condition and,
with ``explain=True``, the variables and parameters that decided each programme.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import narwhals.stable.v2 as nw
import polars as pl

from minzheng.core.money import quantize
from minzheng.rules.engine import KEY, MEMBER, Engine, Run
from minzheng.rules.frames import complete, frames_from_documents
from minzheng.rules.parameters import ParameterSet, load_parameters
from minzheng.rules.programmes import (
    Catalogue,
    Programme,
    household_columns,
    load_programmes,
    with_programmes,
)
from minzheng.rules.variables import NEGATION, SHOWN, Variable, VariableSet, load_variables

MONEY_UNITS = {"yuan", "yuan/month", "yuan/year"}
UNIT_TEXT = {
    "yuan": "元",
    "yuan/month": "元",
    "yuan/year": "元",
    "years": "岁",
    "persons": "人",
    "count": "",
    "months": "个月",
}


def to_decimal(value: Any) -> Decimal:
    """A yuan float from the engine as the API's Decimal (the engine already rounded; this
    only removes float noise such as 1462.4999999998)."""
    return quantize(Decimal(repr(float(value or 0.0))))


def money_text(value: Any) -> str:
    return f"{to_decimal(value):,.2f}"


class Evaluator:
    """Programmes, variables and parameters loaded once; evaluate as of any date."""

    def __init__(
        self,
        parameters: ParameterSet | None = None,
        variables: VariableSet | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.catalogue = catalogue or load_programmes()
        self.variables = with_programmes(variables or load_variables(), self.catalogue)
        self.parameters = parameters or load_parameters()
        self.engine = Engine(self.variables, self.parameters)
        self._explained: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = {}

    # -- many households -----------------------------------------------------------------

    def batch_outputs(self, programmes: Sequence[Programme]) -> list[str]:
        return [name for p in programmes for name in household_columns(p)]

    def batch(
        self,
        households: Any,
        persons: Any,
        as_of: date,
        programme_ids: Sequence[str] | None = None,
        parameters: ParameterSet | None = None,
    ) -> nw.LazyFrame[Any]:
        """One row per household: ``household``, then ``<id>__eligible`` and
        ``<id>__amount`` per programme, lazily on the inputs' backend."""
        programmes = self.catalogue.select(programme_ids)
        outputs = self.batch_outputs(programmes)
        if isinstance(households, pl.DataFrame) and isinstance(persons, pl.DataFrame):
            run = self.engine.run_polars_batch(households, persons, as_of, outputs, parameters)
        else:
            run = self.engine.run_windowed(households, persons, as_of, outputs, parameters)
        columns = []
        for p in programmes:
            eligible, amount = household_columns(p)
            columns += [
                nw.col(eligible).alias(f"{p.id}__eligible"),
                nw.col(amount).round(2).alias(f"{p.id}__amount"),
            ]
        frame = run.households
        lazy = frame.lazy() if isinstance(frame, nw.DataFrame) else frame
        return lazy.select(KEY, *columns)

    # -- results with reasons ------------------------------------------------------------

    def outputs_for(self, programmes: Sequence[Programme], explain: bool) -> list[str]:
        names: list[str] = []
        for p in programmes:
            names += [p.eligible, p.amount, *household_columns(p)]
            for c in p.conditions:
                names.append(c)
                v = self.variables[c]
                if v.kind == "compare":
                    names += [str(v.left), str(v.right)]
            if explain:
                names += list(p.explain)
        return list(dict.fromkeys(names))

    def results(
        self,
        documents: Iterable[Mapping[str, Any]],
        as_of: date,
        programme_ids: Sequence[str] | None = None,
        explain: bool = False,
        parameters: ParameterSet | None = None,
    ) -> list[dict[str, Any]]:
        """Result documents for validated household documents, in input order."""
        h, p = frames_from_documents(documents, as_of)
        return self.results_for_frames(h, p, as_of, programme_ids, explain, parameters)

    def results_for_frames(
        self,
        households: pl.DataFrame,
        persons: pl.DataFrame,
        as_of: date,
        programme_ids: Sequence[str] | None = None,
        explain: bool = False,
        parameters: ParameterSet | None = None,
    ) -> list[dict[str, Any]]:
        programmes = self.catalogue.select(programme_ids)
        households, persons = complete(households, persons)
        # carry the broadcast household facts a person programme's explanation shows
        outputs = self.outputs_for(programmes, explain)
        source = parameters or self.parameters
        run = self.engine.run_polars(households, persons, as_of, outputs, source)
        h_rows = {r[KEY]: r for r in _eager(run.households).to_dicts()}
        p_rows: dict[str, list[dict[str, Any]]] = {}
        for r in _eager(run.persons).to_dicts():
            p_rows.setdefault(r[KEY], []).append(r)
        order = {
            pair: i
            for i, pair in enumerate(
                zip(persons.get_column(KEY).to_list(), persons.get_column(MEMBER).to_list(),
                    strict=True)
            )
        }  # fmt: skip
        out = []
        for key in households.get_column(KEY).to_list():
            members = sorted(p_rows.get(key, []), key=lambda r: order.get((key, r[MEMBER]), 0))
            out.append(
                {
                    "household": key,
                    "as_of": as_of.isoformat(),
                    "programmes": {
                        prog.id: self._programme_result(
                            prog, h_rows[key], members, run, explain, source
                        )
                        for prog in programmes
                    },
                }
            )
        return out

    def _programme_result(
        self,
        prog: Programme,
        household: Mapping[str, Any],
        members: list[dict[str, Any]],
        run: Run,
        explain: bool,
        source: ParameterSet,
    ) -> dict[str, Any]:
        eligible_col, amount_col = household_columns(prog)
        result: dict[str, Any] = {
            "label": prog.label,
            "eligible": bool(household[eligible_col]),
            "amount": f"{to_decimal(household[amount_col]):.2f}",
            "unit": prog.unit,
        }
        if prog.entity == "household":
            result["reasons"] = [self.reason(c, household) for c in prog.conditions]
            if result["eligible"] and prog.unit not in {"eligibility"}:
                result["reasons"].append(
                    f"{self.variables[prog.amount].label} {money_text(household[prog.amount])} 元"
                )
        else:
            details, reasons = [], []
            for m in members:
                row = {**household, **m}
                m_reasons = [self.reason(c, row) for c in prog.conditions]
                ok = bool(m[prog.eligible])
                detail: dict[str, Any] = {
                    "member": m[MEMBER],
                    "eligible": ok,
                    "amount": f"{to_decimal(m[prog.amount]):.2f}",
                    "reasons": m_reasons,
                }
                if explain:
                    detail["variables"] = self._variables(prog, row, entity="person")
                details.append(detail)
                if ok:
                    tail = (
                        f"，{money_text(m[prog.amount])} 元"
                        if prog.unit not in {"eligibility"}
                        else ""
                    )
                    reasons.append(f"成员 {m[MEMBER]} 符合{tail}")
            if not reasons:
                reasons = [f"成员 {d['member']}：" + "；".join(d["reasons"]) for d in details[:10]]
            result["reasons"] = reasons
            result["members"] = details
        if explain:
            result["variables"] = self._variables(prog, household, entity="household")
            result["parameters"] = self._parameters(prog, run, source)
        return result

    def reason(self, name: str, row: Mapping[str, Any]) -> str:
        """One condition read out in Chinese, as it came out for this row."""
        v = self.variables[name]
        value = bool(row[name])
        if v.kind == "compare":
            left, right = self.variables[str(v.left)], self.variables[str(v.right)]
            op = SHOWN[str(v.op)] if value else NEGATION[str(v.op)]
            return (
                f"{left.label} {self.shown(left, row[left.name])} {op} "
                f"{right.label} {self.shown(right, row[right.name])}"
            )
        if v.true_text or v.false_text:
            return v.true_text if value else v.false_text
        return f"{v.label}：{'是' if value else '否'}"

    def shown(self, v: Variable, value: Any) -> str:
        if v.unit in MONEY_UNITS:
            return f"{money_text(value)} 元"
        suffix = UNIT_TEXT.get(v.unit, "")
        return f"{value}{' ' + suffix if suffix else ''}"

    def _variables(
        self, prog: Programme, row: Mapping[str, Any], entity: str
    ) -> dict[str, dict[str, Any]]:
        names = dict.fromkeys((*prog.explain, *prog.conditions, prog.amount, prog.eligible))
        out = {}
        for name in names:
            v = self.variables[name]
            if v.entity != entity or name not in row:
                continue
            out[name] = {"label": v.label, "value": json_value(v, row[name]), "unit": v.unit}
        return out

    def _parameters(
        self, prog: Programme, run: Run, source: ParameterSet
    ) -> dict[str, dict[str, Any]]:
        """The parameters behind a programme's result, as in force on the as-of date (with
        any what-if override); the same for every household of a day, so kept."""
        key = (prog.id, run.as_of, id(source.parameters), repr(sorted(source.overrides.items())),
               id(run.parameters_used))  # fmt: skip
        found = self._explained.get(key)
        if found is None:
            names = (prog.eligible, prog.amount, *prog.conditions, *prog.explain)
            found = {}
            for name in self.engine.parameters_behind(names, run.parameters_used):
                parameter = source.get(name)
                dated = parameter.at(run.as_of)
                found[name] = {
                    "label": parameter.label,
                    "value": source.value(name, run.as_of),
                    "unit": parameter.unit,
                    "since": dated.start.isoformat(),
                    "source": dated.source or dated.confidence,
                }
                if name in source.overrides:
                    found[name]["source"] = "政策模拟取值（what-if），非现行标准"
            if len(self._explained) > 512:
                self._explained.clear()
            self._explained[key] = found
        return {name: dict(entry) for name, entry in found.items()}


def _eager(frame: Any) -> pl.DataFrame:
    if isinstance(frame, nw.DataFrame):
        return frame.to_native()
    return frame.collect().to_native()


def json_value(v: Variable, value: Any) -> Any:
    if value is None:
        return None
    if v.unit in MONEY_UNITS:
        return f"{to_decimal(value):.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def batch_to_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """Amount columns as the API's money strings ("1450.00"), vectorised."""
    amounts = [c for c in frame.columns if c.endswith("__amount")]
    fen = [(pl.col(c) * 100).round(0).cast(pl.Int64).alias(c) for c in amounts]
    return frame.with_columns(fen).with_columns(
        pl.concat_str(
            [
                (pl.col(c) // 100).cast(pl.Utf8),
                pl.lit("."),
                (pl.col(c) % 100).cast(pl.Utf8).str.zfill(2),
            ]
        ).alias(c)
        for c in amounts
    )


_default: Evaluator | None = None


def default_evaluator() -> Evaluator:
    """One evaluator per process (loading the policy takes ~0.1 s)."""
    global _default
    if _default is None:
        _default = Evaluator()
    return _default
