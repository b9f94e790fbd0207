"""Today's date for the workflow, in one place (tests move it to let a notice run out)."""

from __future__ import annotations

from datetime import date

from django.utils import timezone


def today() -> date:
    return timezone.localdate()
