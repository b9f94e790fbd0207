"""What every variable file shares: float64 money, the enums, rounding half up.

OpenFisca stores ``value_type = float`` variables as **float32** by default
(``openfisca_core.variables.config.VALUE_TYPES[float]["dtype"]``): 7 significant digits,
so a household total of a few thousand yuan is off by up to a fen or so, and per-capita
assets in the hundreds of thousands lose whole yuan. Minzheng computes in float64;
:class:`Float64Variable` makes the peer do the same so that results can be compared to
the fen.
"""

from __future__ import annotations

from typing import Any

import numpy
from openfisca_core.indexed_enums import Enum
from openfisca_core.variables import Variable

# Minzheng's round_yuan adds this before flooring: a true half-fen computed in float64
# can come out a hair under .5 (src/minzheng/rules/expressions.py).
HALF_UP_SLACK = 1e-6


class Float64Variable(Variable):
    """A variable whose ``float`` values are float64 (not OpenFisca's default float32).

    OpenFisca reads a variable's attributes from its own class body only, so subclasses
    still declare ``value_type = float`` themselves.
    """

    def __init__(self, baseline_variable: Any = None) -> None:
        super().__init__(baseline_variable)
        if self.value_type is float:
            self.dtype = numpy.float64


def round_half_up(amount: Any) -> Any:
    """Round half up to the fen (0.01 yuan), as the policy prescribes, once."""
    return numpy.floor(amount * 100 + 0.5 + HALF_UP_SLACK) / 100


class Hukou(Enum):
    beijing = "本市户籍"
    other = "非本市户籍"


class DisabilityKind(Enum):
    none = "无"
    visual = "视力"
    hearing = "听力"
    speech = "言语"
    physical = "肢体"
    intellectual = "智力"
    mental = "精神"
    multiple = "多重"
