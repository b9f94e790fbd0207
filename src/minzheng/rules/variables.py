"""Variables: named concepts of the policy, each a column computed from other columns.

A variable belongs to an entity (``person`` or ``household``), has a Chinese label, a
unit and one of four kinds:

``input``
    a column the caller supplies (``deposits``, ``birth_date``), declared so that an
    explanation can name it;
``formula``
    a narwhals expression over columns of its own entity and parameters in force on
    the as-of date (a person formula may also read household variables: the engine
    joins them on);
``aggregate``
    a household column that sums, counts or tests a person variable over members;
``compare``
    a condition ``left <op> right`` whose result, kept with both sides, is read out as
    "家庭月人均收入 1,620.00 元 ≥ 低保标准 1,450.00 元".

Rule files (``policy/variables/<programme>/<name>.py``) build variables with these
classes; nothing here runs a formula (that is :mod:`minzheng.rules.engine`).

>>> from minzheng.rules.variables import Variable, HOUSEHOLD
>>> v = Variable("members", HOUSEHOLD, "家庭人口", "persons", kind="aggregate",
...              source="person_exists", how="count")
>>> v.dependencies
('person_exists',)
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal

import narwhals.stable.v2 as nw

from minzheng.rules.parameters import ParameterSet

PERSON: Final = "person"
HOUSEHOLD: Final = "household"
Entity = Literal["person", "household"]
Kind = Literal["input", "formula", "aggregate", "compare"]
Aggregation = Literal["sum", "count", "any", "all", "max"]
Operator = Literal["<", "<=", ">", ">=", "==", "!="]

# The opposite of each operator, used to read out a condition that failed.
NEGATION: dict[str, str] = {"<": "≥", "<=": ">", ">": "≤", ">=": "<", "==": "≠", "!=": "="}
SHOWN: dict[str, str] = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}


class VariableError(ValueError):
    """A variable definition that cannot be used (unknown dependency, cycle, …)."""

    code = "variable.invalid"


class Params:
    """What a formula reads parameters through: ``p("dibao.standard")`` gives the value in
    force on the as-of date, and the engine records which parameters each variable used
    so that an explanation can list them."""

    def __init__(self, parameters: ParameterSet, as_of: date) -> None:
        self.parameters = parameters
        self.as_of = as_of
        self.used: dict[str, set[str]] = {}
        self._current: str | None = None

    def __call__(self, name: str) -> Any:
        value = self.parameters.value(name, self.as_of)
        if self._current is not None:
            self.used.setdefault(self._current, set()).add(name)
        return value

    def reading_for(self, variable: str) -> Params:
        self._current = variable
        return self


Formula = Callable[[Params], nw.Expr]


@dataclass(frozen=True)
class Variable:
    name: str
    entity: Entity
    label: str
    unit: str
    kind: Kind = "formula"
    formula: Formula | None = None
    uses: tuple[str, ...] = ()
    reference: str = ""
    # aggregate
    source: str | None = None
    how: Aggregation | None = None
    # compare
    left: str | None = None
    op: Operator | None = None
    right: str | None = None
    # read-out for a boolean formula: what to say when it is true / false
    true_text: str = ""
    false_text: str = ""
    module: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.entity not in (PERSON, HOUSEHOLD):
            raise VariableError(f"{self.name}: entity must be person or household")
        if self.kind == "formula" and self.formula is None:
            raise VariableError(f"{self.name}: a formula variable needs a formula")
        if self.kind == "aggregate" and (
            self.entity != HOUSEHOLD or self.source is None or self.how is None
        ):
            raise VariableError(f"{self.name}: an aggregate is a household sum over a source")
        if self.kind == "compare" and (self.left is None or self.op is None or self.right is None):
            raise VariableError(f"{self.name}: a comparison needs left, op and right")

    @property
    def dependencies(self) -> tuple[str, ...]:
        if self.kind == "aggregate":
            return (str(self.source),)
        if self.kind == "compare":
            return (str(self.left), str(self.right))
        return self.uses

    def expression(self, params: Params) -> nw.Expr:
        """The column this variable computes, for one as-of date."""
        if self.kind == "compare":
            left, right = nw.col(str(self.left)), nw.col(str(self.right))
            ops: dict[str, Callable[[nw.Expr, nw.Expr], nw.Expr]] = {
                "<": lambda a, b: a < b,
                "<=": lambda a, b: a <= b,
                ">": lambda a, b: a > b,
                ">=": lambda a, b: a >= b,
                "==": lambda a, b: a == b,
                "!=": lambda a, b: a != b,
            }
            return ops[str(self.op)](left, right).alias(self.name)
        if self.kind == "formula" and self.formula is not None:
            return self.formula(params.reading_for(self.name)).alias(self.name)
        raise VariableError(f"{self.name}: {self.kind} variables have no row expression")


def formula(
    name: str,
    entity: Entity,
    label: str,
    unit: str,
    *,
    uses: Iterable[str] = (),
    reference: str = "",
    true_text: str = "",
    false_text: str = "",
) -> Callable[[Formula], Variable]:
    """Decorator: ``@formula("age", PERSON, "年龄", "years", uses=["birth_date"])``."""

    def wrap(fn: Formula) -> Variable:
        return Variable(
            name,
            entity,
            label,
            unit,
            formula=fn,
            uses=tuple(uses),
            reference=reference,
            true_text=true_text,
            false_text=false_text,
            module=fn.__module__,
        )

    return wrap


def aggregate(
    name: str, label: str, unit: str, source: str, how: Aggregation, reference: str = ""
) -> Variable:
    return Variable(name, HOUSEHOLD, label, unit, "aggregate", source=source, how=how,
                    reference=reference)  # fmt: skip


def compare(
    name: str,
    entity: Entity,
    label: str,
    left: str,
    op: Operator,
    right: str,
    reference: str = "",
) -> Variable:
    return Variable(name, entity, label, "boolean", "compare", left=left, op=op, right=right,
                    reference=reference)  # fmt: skip


def input_variable(name: str, entity: Entity, label: str, unit: str) -> Variable:
    return Variable(name, entity, label, unit, "input")


@dataclass(frozen=True)
class VariableSet:
    variables: Mapping[str, Variable]
    _closures: dict[tuple[str, ...], list[str]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __iter__(self) -> Iterator[Variable]:
        return iter(self.variables.values())

    def __contains__(self, name: object) -> bool:
        return name in self.variables

    def __getitem__(self, name: str) -> Variable:
        try:
            return self.variables[name]
        except KeyError:
            raise VariableError(f"未知变量：{name}") from None

    def closure(self, names: Iterable[str]) -> list[str]:
        """``names`` and everything they depend on, dependencies first."""
        key = tuple(names)
        cached = self._closures.get(key)
        if cached is None:
            cached = self._closure(key)
            self._closures[key] = cached
        return list(cached)

    def _closure(self, names: Iterable[str]) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, path: tuple[str, ...]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise VariableError("变量循环依赖：" + " → ".join((*path, name)))
            state[name] = 1
            for dep in self[name].dependencies:
                visit(dep, (*path, name))
            state[name] = 2
            order.append(name)

        for name in names:
            visit(name, ())
        return order

    def check(self) -> None:
        """Every dependency exists, entities fit, and there is no cycle."""
        for v in self:
            for dep in v.dependencies:
                if dep not in self.variables:
                    raise VariableError(f"{v.name}（{v.module}）用到了未定义的变量 {dep}")
                d = self.variables[dep]
                if v.kind == "aggregate" and d.entity != PERSON:
                    raise VariableError(f"{v.name}: aggregates sum person variables, {dep} is not")
                if v.kind != "aggregate" and v.entity == HOUSEHOLD and d.entity == PERSON:
                    raise VariableError(
                        f"{v.name}: a household variable reads person variable {dep}; "
                        "aggregate it first"
                    )
        self.closure(self.variables)


def collect(modules: Iterable[Any]) -> VariableSet:
    found: dict[str, Variable] = {}
    for module in modules:
        for value in vars(module).values():
            listed = value if isinstance(value, list | tuple) else [value]
            for item in listed:
                if not isinstance(item, Variable):
                    continue
                if item.name in found and found[item.name] is not item:
                    raise VariableError(f"变量 {item.name} 重复定义（{module.__name__}）")
                found[item.name] = item
    variables = VariableSet(found)
    variables.check()
    return variables


def policy_modules(package: str = "minzheng.policy.variables") -> list[Any]:
    """Import every rule file under ``package`` (``<programme>/<variable>.py``)."""
    root = importlib.import_module(package)
    return [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}.")
        if not info.ispkg
    ]


def load_variables(package: str = "minzheng.policy.variables") -> VariableSet:
    return collect(policy_modules(package))
