"""Policy parameters with effective dates: the law's figures, read "as of" a date.

A parameter is one YAML file, ``policy/parameters/<programme>/<concept>.yaml``, named
``<programme>.<concept>``, with a Chinese ``label``, a ``description``, a ``unit`` and
``values`` keyed by the date each value took effect; every value names its ``source``
or says how sure it is (``confidence: to-confirm…``). Nothing here imports Django.

>>> params = load_parameters()
>>> params.value("dibao.standard", date(2024, 10, 1))
1450
>>> params.value("dibao.standard", date(2024, 6, 30))
1395
>>> params.value("dibao.standard", date(2014, 1, 1))
Traceback (most recent call last):
...
minzheng.rules.parameters.ParameterNotInForce: 参数 dibao.standard（低保标准）在 2014-01-01 尚未生效：最早的取值自 2015-01-01 起
"""

from __future__ import annotations

import bisect
import copy
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import yaml


class ParameterError(ValueError):
    """A parameter file or a request for a parameter that cannot be honoured."""

    code = "parameter.invalid"


class ParameterNotInForce(ParameterError):
    code = "parameter.not_in_force"


class UnknownParameter(ParameterError):
    code = "parameter.unknown"


class OverrideShapeError(ParameterError):
    code = "parameter.override_shape"


@dataclass(frozen=True)
class DatedValue:
    start: date
    value: Any
    source: str = ""
    confidence: str = ""


@dataclass(frozen=True)
class Parameter:
    name: str
    label: str
    description: str
    unit: str
    values: tuple[DatedValue, ...]  # sorted by start

    def at(self, as_of: date) -> DatedValue:
        """The value in force on ``as_of`` (the latest that started on or before it)."""
        starts = [v.start for v in self.values]
        index = bisect.bisect_right(starts, as_of) - 1
        if index < 0:
            raise ParameterNotInForce(
                f"参数 {self.name}（{self.label}）在 {as_of.isoformat()} 尚未生效："
                f"最早的取值自 {self.values[0].start.isoformat()} 起"
            )
        return self.values[index]


@dataclass(frozen=True)
class ParameterSet:
    parameters: Mapping[str, Parameter]
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters.values())

    def get(self, name: str) -> Parameter:
        try:
            return self.parameters[name]
        except KeyError:
            raise UnknownParameter(f"未知参数：{name}") from None

    def value(self, name: str, as_of: date) -> Any:
        parameter = self.get(name)
        if name in self.overrides:
            parameter.at(as_of)  # an override never brings a parameter into force early
            return copy.deepcopy(self.overrides[name])
        return copy.deepcopy(parameter.at(as_of).value)

    def as_of(self, as_of: date) -> dict[str, Any]:
        """Every parameter in force on ``as_of`` as ``{name: value}`` (those not yet in force
        are left out; asking for one of them through :meth:`value` says so)."""
        out: dict[str, Any] = {}
        for name in self.parameters:
            try:
                out[name] = self.value(name, as_of)
            except ParameterNotInForce:
                continue
        return out

    def with_overrides(
        self, overrides: Mapping[str, Any], as_of: date | None = None
    ) -> ParameterSet:
        """A what-if copy: ``{"dibao.standard": 1500}`` replaces the value at every date.
        With ``as_of``, each new value must have the shape of the value in force then
        (numbers for numbers, finite and not negative; the same keys and lengths)."""
        for name, value in overrides.items():
            parameter = self.get(name)
            if as_of is not None and not same_shape(parameter.at(as_of).value, value):
                raise OverrideShapeError(
                    f"参数 {name}（{parameter.label}）的新取值 {value!r} 与现行取值"
                    f" {parameter.at(as_of).value!r} 的类型或结构不同"
                )
        return replace(self, overrides={**self.overrides, **overrides})


def same_shape(base: Any, new: Any) -> bool:
    """``new`` may replace ``base``: numbers for numbers (finite, not negative), true/false
    for true/false, text for text, lists and mappings of the same length or keys.

    >>> same_shape(1450, 1500.5), same_shape(1450, "abc"), same_shape({"a": 1}, {"b": 1})
    (True, False, False)
    """
    if isinstance(base, bool):
        return isinstance(new, bool)
    if isinstance(base, int | float) or base is None:
        number = isinstance(new, int | float) and not isinstance(new, bool)
        return (number and math.isfinite(new) and new >= 0) or (base is None and new is None)
    if isinstance(base, str):
        return isinstance(new, str)
    if isinstance(base, list):
        return (
            isinstance(new, list)
            and len(new) == len(base)
            and all(same_shape(b, n) for b, n in zip(base, new, strict=True))
        )
    if isinstance(base, dict):
        return (
            isinstance(new, dict)
            and set(new) == set(base)
            and all(same_shape(base[k], new[k]) for k in base)
        )
    return False


def _parse_value(name: str, start: Any, raw: Any) -> DatedValue:
    try:
        start_date = start if isinstance(start, date) else date.fromisoformat(str(start))
    except ValueError:
        raise ParameterError(f"参数 {name} 的生效日期 {start!r} 不是 YYYY-MM-DD") from None
    if not isinstance(raw, dict) or "value" not in raw:
        raise ParameterError(f"参数 {name} 在 {start_date} 的取值须写成 {{value: …, source: …}}")
    unknown = set(raw) - {"value", "source", "confidence"}
    if unknown:
        raise ParameterError(f"参数 {name} 在 {start_date} 有未知字段：{sorted(unknown)}")
    source, confidence = str(raw.get("source", "")), str(raw.get("confidence", ""))
    if not source and not confidence.startswith("to-confirm"):
        raise ParameterError(f"参数 {name} 在 {start_date} 的取值没有来源（source）")
    return DatedValue(start_date, raw["value"], source, confidence)


def parse_parameter(name: str, data: Any) -> Parameter:
    if not isinstance(data, dict):
        raise ParameterError(f"参数文件 {name} 不是映射")
    missing = [k for k in ("label", "unit", "values") if not data.get(k)]
    if missing:
        raise ParameterError(f"参数 {name} 缺少：{', '.join(missing)}")
    unknown = set(data) - {"label", "description", "unit", "values"}
    if unknown:
        raise ParameterError(f"参数 {name} 有未知字段：{sorted(unknown)}")
    values = sorted(
        (_parse_value(name, start, raw) for start, raw in data["values"].items()),
        key=lambda v: v.start,
    )
    return Parameter(
        name=name,
        label=str(data["label"]),
        description=str(data.get("description", "")),
        unit=str(data["unit"]),
        values=tuple(values),
    )


def _walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}.")
        elif entry.name.endswith(".yaml"):
            yield f"{prefix}{entry.name[: -len('.yaml')]}", entry


def load_parameters(folder: Traversable | None = None) -> ParameterSet:
    """Read every parameter file under ``folder`` (default: the package's policy)."""
    root = folder or resources.files("minzheng.policy").joinpath("parameters")
    parameters = {name: parse_parameter(name, _read(name, entry)) for name, entry in _walk(root)}
    return ParameterSet(parameters)


def _read(name: str, entry: Traversable) -> Any:
    try:
        return yaml.safe_load(entry.read_text(encoding="utf-8"))
    except (yaml.YAMLError, ValueError) as exc:  # PyYAML raises ValueError for 2020-13-01
        raise ParameterError(f"参数文件 {name} 无法读取：{exc}") from None
