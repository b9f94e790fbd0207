"""Fixtures of the application tests, reused by the eldercare tests (the movable clock)."""

from tests.applications.conftest import today

__all__ = ["today"]
