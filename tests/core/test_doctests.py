"""The examples in the pure modules' docstrings run, so they stay true (STYLE §16)."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from minzheng.core import ids, money
from minzheng.rules import engine, expressions, frames, parameters, programmes, variables


@pytest.mark.parametrize(
    "module",
    [ids, money, parameters, engine, expressions, frames, programmes, variables],
    ids=lambda m: m.__name__,
)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
