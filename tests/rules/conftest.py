"""Fixtures shared by the rules-engine tests: one evaluator per session."""

from __future__ import annotations

import pytest

from minzheng.rules.evaluate import Evaluator


@pytest.fixture(scope="session")
def evaluator() -> Evaluator:
    return Evaluator()
