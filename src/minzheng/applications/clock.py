"""Today's date for the workflow, in one place.

Tests move it to let a notice run out; the demo uses ``as_of`` to replay applications
filed over the past weeks, so that ``make run`` shows cases at every step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from django.utils import timezone

_as_of: ContextVar[date | None] = ContextVar("workflow_as_of", default=None)


def today() -> date:
    return _as_of.get() or timezone.localdate()


@contextmanager
def as_of(day: date) -> Iterator[None]:
    token = _as_of.set(day)
    try:
        yield
    finally:
        _as_of.reset(token)
