"""Run variables over household and person tables, on any narwhals backend.

The engine turns the variables asked for (and everything they depend on) into a short
plan of vectorised steps, each one ``with_columns`` on persons or households, one
``group_by`` + join for person → household aggregates, or one join that brings
household columns to persons. Steps are built lazily on the caller's backend (Polars,
DuckDB or PySpark) and nothing is computed row by row in Python.

>>> import polars as pl
>>> from minzheng.rules.variables import HOUSEHOLD, PERSON, VariableSet, aggregate, formula
>>> import narwhals.stable.v2 as nw
>>> @formula("double_income", PERSON, "两倍收入", "yuan", uses=["income"])
... def double_income(p):
...     return nw.col("income") * 2
>>> total = aggregate("total", "合计", "yuan", "double_income", "sum")
>>> vs = VariableSet({"income": Variable("income", PERSON, "收入", "yuan", "input"),
...                   "double_income": double_income, "total": total})
>>> h = pl.DataFrame({"household": ["a", "b"]})
>>> p = pl.DataFrame({"household": ["a", "a", "b"], "member": ["1", "2", "3"],
...                   "income": [1.0, 2.0, 5.0]})
>>> run = Engine(vs).run(h, p, date(2025, 1, 1), ["total"])
>>> sorted(run.households.collect().to_native().rows())
[('a', 6.0), ('b', 10.0)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import narwhals.stable.v2 as nw

from minzheng.rules.parameters import ParameterSet, load_parameters
from minzheng.rules.variables import (
    HOUSEHOLD,
    PERSON,
    Params,
    Variable,
    VariableError,
    VariableSet,
    load_variables,
)

StepKind = Literal["person", "household", "aggregate", "broadcast"]
KEY = "household"
MEMBER = "member"


@dataclass(frozen=True)
class Step:
    kind: StepKind
    names: tuple[str, ...]


@dataclass
class Run:
    """A lazy result: ``households`` and ``persons`` narwhals LazyFrames with the key
    columns and the variables asked for; ``parameters_used`` per variable."""

    households: nw.LazyFrame[Any] | nw.DataFrame[Any]
    persons: nw.LazyFrame[Any] | nw.DataFrame[Any]
    household_outputs: tuple[str, ...]
    person_outputs: tuple[str, ...]
    parameters_used: dict[str, set[str]]
    as_of: date


def _aggregation(v: Variable) -> nw.Expr:
    source = nw.col(str(v.source))
    if v.how == "sum":
        return source.sum().alias(v.name)
    if v.how == "count":
        return source.cast(nw.Int64).sum().alias(v.name)
    if v.how == "any":
        return source.any().alias(v.name)
    if v.how == "all":
        return source.all().alias(v.name)
    return source.max().alias(v.name)


def _materialise(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Compute ``frame`` now and continue from the result.

    Each join round of the plan reads the frames of the rounds before it; left lazy, a
    backend would evaluate those shared sub-plans again for every later reference (100 k
    households on DuckDB: 8 s lazy). Polars and DuckDB collect to Arrow and go on from
    there; Spark keeps the rows on the executors (``localCheckpoint``).
    """
    impl = frame.implementation
    if impl.is_pyspark() or impl.is_pyspark_connect():
        return nw.from_native(frame.to_native().localCheckpoint())
    if impl.is_duckdb():
        return frame.collect(backend="pyarrow").lazy(backend="duckdb")
    if impl.is_polars():
        return frame.collect().lazy()
    return frame


def _segment_starts(numbers: Any) -> Any:
    """Where each household's run of persons begins (persons sorted by household number)."""
    import numpy as np

    values = numbers.to_numpy()
    return np.flatnonzero(np.r_[True, values[1:] != values[:-1]])


def _segment_reduce(persons: Any, v: Variable, starts: Any) -> Any:
    """An aggregate over each household's contiguous run of persons, as a Polars Series in
    household order: NumPy's ``reduceat`` adds each run in order (exactly as a group-by
    would), five times faster than hashing 2.5 M keys."""
    import numpy as np
    import polars as pl

    values = persons.get_column(str(v.source)).to_numpy()
    if v.how == "any":
        out = np.logical_or.reduceat(values.astype(bool), starts)
    elif v.how == "all":
        out = np.logical_and.reduceat(values.astype(bool), starts)
    elif v.how == "count":
        out = np.add.reduceat(values.astype(np.int64), starts)
    elif v.how == "max":
        out = np.maximum.reduceat(values, starts)
    else:
        out = np.add.reduceat(values, starts)
    return pl.Series(v.name, out)


def _lazy(native: Any) -> nw.LazyFrame[Any]:
    frame = nw.from_native(native)
    return frame.lazy() if isinstance(frame, nw.DataFrame) else frame


def _fill(v: Variable) -> Any:
    return {"any": False, "all": True, "count": 0}.get(str(v.how), 0)


def _polars_native(expr: nw.Expr) -> Any:
    """The Polars expression narwhals would run for ``expr``.

    narwhals translates an expression tree on every call (tens of ms for this policy);
    one household at the window cannot afford that, so the Polars fast path translates
    once per set of parameter values and keeps the result. This reaches into narwhals'
    compliant layer (pinned to narwhals 2.x in pyproject.toml; ADR 0010).
    """
    from narwhals._polars.namespace import PolarsNamespace
    from narwhals._utils import Version

    return expr._to_compliant_expr(PolarsNamespace(version=Version.V2)).native  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Compiled:
    steps: tuple[tuple[Step, tuple[Any, ...]], ...]
    parameters_used: dict[str, set[str]]


class Engine:
    """The variables of a policy and its dated parameters, ready to run."""

    def __init__(
        self, variables: VariableSet | None = None, parameters: ParameterSet | None = None
    ) -> None:
        self.variables = variables if variables is not None else load_variables()
        self.parameters = parameters if parameters is not None else load_parameters()
        self._plans: dict[tuple[str, ...], list[Step]] = {}
        self._compiled: dict[tuple[Any, ...], Compiled] = {}
        self._behind: dict[tuple[Any, ...], tuple[dict[str, set[str]], list[str]]] = {}

    def plan(self, outputs: Iterable[str]) -> list[Step]:
        """The steps that compute ``outputs`` from the input columns.

        Each round computes, together, every variable whose inputs are ready; a person
        variable that reads a household one waits until that column has been joined on.
        """
        needed = self.variables.closure(outputs)
        pending = [n for n in needed if self.variables[n].kind != "input"]
        ready_p = {n for n in needed if self.variables[n].kind == "input"}
        ready_h = {n for n in ready_p if self.variables[n].entity == HOUSEHOLD}
        ready_p -= ready_h
        steps: list[Step] = []
        while pending:
            progressed = False
            for kind, entity, ready in (
                ("person", PERSON, ready_p),
                ("household", HOUSEHOLD, ready_h),
            ):
                batch = [
                    n
                    for n in pending
                    if self.variables[n].entity == entity
                    and self.variables[n].kind != "aggregate"
                    and all(d in ready for d in self.variables[n].dependencies)
                ]
                if batch:
                    steps.append(Step(kind, tuple(batch)))  # type: ignore[arg-type]
                    ready.update(batch)
                    pending = [n for n in pending if n not in batch]
                    progressed = True
            batch = [
                n
                for n in pending
                if self.variables[n].kind == "aggregate" and self.variables[n].source in ready_p
            ]
            if batch:
                steps.append(Step("aggregate", tuple(batch)))
                ready_h.update(batch)
                pending = [n for n in pending if n not in batch]
                progressed = True
            wanted = sorted(
                {
                    d
                    for n in pending
                    if self.variables[n].entity == PERSON
                    for d in self.variables[n].dependencies
                    if d in ready_h and d not in ready_p
                }
            )
            if wanted:
                steps.append(Step("broadcast", tuple(wanted)))
                ready_p.update(wanted)
                progressed = True
            if not progressed:
                raise VariableError("无法计算的变量：" + ", ".join(pending))
        return steps

    def by_entity(self, outputs: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """``outputs`` split into (household variables, person variables)."""
        return (
            tuple(o for o in outputs if self.variables[o].entity == HOUSEHOLD),
            tuple(o for o in outputs if self.variables[o].entity == PERSON),
        )

    def cached_plan(self, outputs: Sequence[str]) -> list[Step]:
        key = tuple(outputs)
        if key not in self._plans:
            self._plans[key] = self.plan(outputs)
        return self._plans[key]

    def levels(self, outputs: Sequence[str]) -> list[tuple[str, ...]]:
        """The variables of ``outputs``' closure grouped by depth (inputs excluded): every
        variable's dependencies sit in earlier levels."""
        depth: dict[str, int] = {}
        for name in self.variables.closure(outputs):
            v = self.variables[name]
            depth[name] = (
                0 if v.kind == "input" else 1 + max((depth[d] for d in v.dependencies), default=0)
            )
        top = max(depth.values(), default=0)
        return [tuple(n for n, d in depth.items() if d == k) for k in range(1, top + 1)]

    def _compiled_for(
        self,
        kind: tuple[Any, ...],
        outputs: Sequence[str],
        as_of: date,
        parameters: ParameterSet | None,
        build: Callable[[Params], tuple[tuple[Step, tuple[Any, ...]], ...]],
    ) -> Compiled:
        """Compiled steps, kept per plan kind, outputs, as-of date and parameter set (a
        window evaluates many households on the same day); at most 64 are kept."""
        source = parameters or self.parameters
        key = (*kind, tuple(outputs), as_of, id(source.parameters),
               repr(sorted(source.overrides.items())))  # fmt: skip
        found = self._compiled.get(key)
        if found is None:
            params = Params(source, as_of)
            found = Compiled(build(params), params.used)
            if len(self._compiled) >= 64:
                self._compiled.clear()
            self._compiled[key] = found
        return found

    def compile_polars(
        self,
        outputs: Sequence[str],
        as_of: date,
        parameters: ParameterSet | None = None,
        one_household: bool = False,
    ) -> Compiled:
        """Every variable of the closure as a Polars expression on one person-level frame,
        by depth: household variables are computed on each member's row and aggregates
        become window sums over the household (plain sums, broadcast, when the frame holds
        ``one_household``)."""

        def build(params: Params) -> tuple[tuple[Step, tuple[Any, ...]], ...]:
            levels = []
            for names in self.levels(outputs):
                exprs = []
                for name in names:
                    v = self.variables[name]
                    if v.kind == "aggregate":
                        agg = _polars_native(_aggregation(v))
                        exprs.append(agg if one_household else agg.over(KEY).alias(v.name))
                    else:
                        exprs.append(_polars_native(v.expression(params)))
                levels.append((Step("person", names), tuple(exprs)))
            return tuple(levels)

        return self._compiled_for(("window", one_household), outputs, as_of, parameters, build)

    def run_polars(
        self,
        households: Any,
        persons: Any,
        as_of: date,
        outputs: Sequence[str],
        parameters: ParameterSet | None = None,
    ) -> Run:
        """:meth:`run` for Polars DataFrames with expressions compiled once and no joins
        but the first: the path for one household or a few hundred (a window, an API
        call). A household without members gets no row; the batch path keeps it."""
        import polars as pl

        one = households.height == 1
        compiled = self.compile_polars(outputs, as_of, parameters, one_household=one)
        frame = persons.lazy().join(households.lazy(), on=KEY, how="inner")
        for _, exprs in compiled.steps:
            frame = frame.with_columns(*exprs)
        h_out, p_out = self.by_entity(outputs)
        # a plan this small costs more to optimise than to run
        done = frame.collect(optimizations=pl.QueryOptFlags.none())
        h = (
            done.head(1) if one else done.unique(subset=KEY, keep="first", maintain_order=True)
        ).select(pl.col(KEY, *h_out))  # one expression: parsing 130 names costs ~0.5 ms
        p = done.select(pl.col(KEY, MEMBER, *p_out))
        return Run(
            households=nw.from_native(h),
            persons=nw.from_native(p),
            household_outputs=h_out,
            person_outputs=p_out,
            parameters_used=compiled.parameters_used,
            as_of=as_of,
        )

    def compile_polars_steps(
        self, outputs: Sequence[str], as_of: date, parameters: ParameterSet | None = None
    ) -> Compiled:
        """The join plan of :meth:`plan` with each step's expressions in Polars."""

        def build(params: Params) -> tuple[tuple[Step, tuple[Any, ...]], ...]:
            steps = []
            for step in self.cached_plan(outputs):
                vs = [self.variables[n] for n in step.names]
                if step.kind in ("person", "household"):
                    exprs: tuple[Any, ...] = tuple(_polars_native(v.expression(params)) for v in vs)
                elif step.kind == "aggregate":
                    exprs = tuple(_polars_native(_aggregation(v)) for v in vs)
                else:
                    exprs = ()
                steps.append((step, exprs))
            return tuple(steps)

        return self._compiled_for(("steps",), outputs, as_of, parameters, build)

    def run_polars_batch(
        self,
        households: Any,
        persons: Any,
        as_of: date,
        outputs: Sequence[str],
        parameters: ParameterSet | None = None,
    ) -> Run:
        """:meth:`run` for large Polars DataFrames: the join plan step by step, eagerly,
        on an integer household number.

        When persons come grouped by household in the households' order (a registry
        snapshot, the generator) the number is the run of equal keys and no join is
        needed; otherwise persons are numbered by a join and sorted. With every household
        having members, aggregates line up with households by position (a sorted
        group-by) and household values reach persons by ``gather``: no hash joins.
        """
        import polars as pl

        compiled = self.compile_polars_steps(outputs, as_of, parameters)
        n = "__household_number"
        h = households.with_row_index(n).with_columns(pl.col(n).cast(pl.Int64))
        keys = persons.get_column(KEY)
        firsts = keys.filter(keys.ne_missing(keys.shift(1)))
        if firsts.len() == h.height and firsts.equals(households.get_column(KEY)):
            p = persons.with_columns(keys.rle_id().cast(pl.Int64).alias(n).set_sorted())
        else:
            numbers = h.select(KEY, n)
            p = persons.join(numbers, on=KEY, how="inner").sort(n)
            p = p.with_columns(pl.col(n).set_sorted())
        positional = p.height > 0 and p.get_column(n).n_unique() == h.height
        starts = _segment_starts(p.get_column(n)) if positional else None
        for step, exprs in compiled.steps:
            if step.kind == "person":
                p = p.with_columns(*exprs)
            elif step.kind == "household":
                h = h.with_columns(*exprs)
            elif step.kind == "aggregate":
                fills = [self.variables[v] for v in step.names]
                if positional:
                    h = h.with_columns(_segment_reduce(p, v, starts) for v in fills)
                else:
                    sums = p.group_by(n).agg(*exprs)
                    h = h.join(sums, on=n, how="left", maintain_order="left").with_columns(
                        pl.col(v.name).fill_null(_fill(v)) for v in fills
                    )
            elif positional:
                at = p.get_column(n)
                p = p.with_columns(h.get_column(c).gather(at) for c in step.names)
            else:
                p = p.join(
                    h.select(n, *step.names), on=n, how="left", maintain_order="left"
                ).with_columns(pl.col(n).set_sorted())
        h_out, p_out = self.by_entity(outputs)
        return Run(
            households=nw.from_native(h.select(KEY, *h_out)),
            persons=nw.from_native(p.select(KEY, MEMBER, *p_out)),
            household_outputs=h_out,
            person_outputs=p_out,
            parameters_used=compiled.parameters_used,
            as_of=as_of,
        )

    def run_windowed(
        self,
        households: Any,
        persons: Any,
        as_of: date,
        outputs: Sequence[str],
        parameters: ParameterSet | None = None,
    ) -> Run:
        """:meth:`run` as one person-level frame, lazily on any backend: household
        variables are computed on each member's row and aggregates are window functions
        over the household, so the plan is a single chain (no joins to re-evaluate, no
        checkpoints). The path for Spark and DuckDB; households without members get
        their aggregates' neutral values through one final join."""
        params = Params(parameters or self.parameters, as_of)
        h_lazy, p_lazy = _lazy(households), _lazy(persons)
        frame = p_lazy.join(h_lazy, on=KEY, how="inner")
        for names in self.levels(outputs):
            exprs = []
            for name in names:
                v = self.variables[name]
                if v.kind == "aggregate":
                    exprs.append(_aggregation(v).over(KEY))
                else:
                    exprs.append(v.expression(params))
            frame = frame.with_columns(*exprs)
        h_out, p_out = self.by_entity(outputs)
        # every household column holds the same value on each member's row
        firsts = frame.group_by(KEY).agg(*(nw.col(c).max() for c in h_out))
        return Run(
            households=h_lazy.select(KEY).join(firsts, on=KEY, how="left"),
            persons=frame.select(KEY, MEMBER, *p_out),
            household_outputs=h_out,
            person_outputs=p_out,
            parameters_used=params.used,
            as_of=as_of,
        )

    def run(
        self,
        households: Any,
        persons: Any,
        as_of: date,
        outputs: Sequence[str],
        parameters: ParameterSet | None = None,
    ) -> Run:
        """Compute ``outputs`` for every household and person, as of ``as_of``.

        ``households`` and ``persons`` are native frames of one backend (Polars
        DataFrame/LazyFrame, DuckDB relation, PySpark DataFrame) with the columns of
        :mod:`minzheng.rules.frames`. Rows are matched by the ``household`` key, never
        by position.
        """
        params = Params(parameters or self.parameters, as_of)
        h_lazy, p_lazy = _lazy(households), _lazy(persons)
        # one place for both tables (DuckDB joins only relations of one connection)
        h_lazy, p_lazy = _materialise(h_lazy), _materialise(p_lazy)
        for step in self.cached_plan(outputs):
            vs = [self.variables[n] for n in step.names]
            if step.kind == "person":
                p_lazy = p_lazy.with_columns(*(v.expression(params) for v in vs))
            elif step.kind == "household":
                h_lazy = h_lazy.with_columns(*(v.expression(params) for v in vs))
            elif step.kind == "aggregate":
                sums = p_lazy.group_by(KEY).agg(*(_aggregation(v) for v in vs))
                h_lazy = _materialise(
                    h_lazy.join(sums, on=KEY, how="left").with_columns(
                        *(nw.col(v.name).fill_null(_fill(v)) for v in vs)
                    )
                )
            else:
                p_lazy = _materialise(
                    p_lazy.join(h_lazy.select(KEY, *step.names), on=KEY, how="left")
                )
        h_out, p_out = self.by_entity(outputs)
        return Run(
            households=h_lazy.select(KEY, *h_out),
            persons=p_lazy.select(KEY, MEMBER, *p_out),
            household_outputs=h_out,
            person_outputs=p_out,
            parameters_used=params.used,
            as_of=as_of,
        )

    def parameters_behind(self, names: Iterable[str], used: dict[str, set[str]]) -> list[str]:
        """Every parameter read by ``names`` or anything they depend on, sorted."""
        key = (tuple(names), id(used))
        found = self._behind.get(key)
        if found is None or found[0] is not used:
            params: set[str] = set()
            for name in self.variables.closure(key[0]):
                params |= used.get(name, set())
            found = (used, sorted(params))
            self._behind[key] = found
        return found[1]
