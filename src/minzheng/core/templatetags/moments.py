"""Template filter: a moment as people read it, ``2026-11-23 10:00`` in Beijing time."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def moment(value: datetime | str | None) -> str:
    """``{{ alert.raised_at|moment }}``: a datetime, or the ISO text the API shapes carry
    (``2026-11-23T10:00:00+08:00``), shown to the minute in local time; empty → "—"."""
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        at = value
    if timezone.is_aware(at):
        at = timezone.localtime(at)
    return at.strftime("%Y-%m-%d %H:%M")
