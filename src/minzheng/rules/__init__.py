"""The rules engine: variables over household and person tables, parameters as of a date.

What rule files import: entities, the variable builders and expression helpers.
Nothing in this package imports Django or does I/O.
"""

from minzheng.rules.expressions import (
    age_on,
    all_of,
    amount_if,
    any_of,
    positive,
    round_half_up,
    round_yuan,
)
from minzheng.rules.variables import (
    HOUSEHOLD,
    PERSON,
    Params,
    Variable,
    aggregate,
    compare,
    formula,
    input_variable,
)

__all__ = [
    "HOUSEHOLD",
    "PERSON",
    "Params",
    "Variable",
    "age_on",
    "aggregate",
    "all_of",
    "amount_if",
    "any_of",
    "compare",
    "formula",
    "input_variable",
    "positive",
    "round_half_up",
    "round_yuan",
]
