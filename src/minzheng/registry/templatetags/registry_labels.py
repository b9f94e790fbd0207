"""Template filters: Chinese labels for the registry's codes."""

from __future__ import annotations

from django import template
from django.db.models import TextChoices

from minzheng.registry import vocab

register = template.Library()

_VOCABS: dict[str, type[TextChoices]] = {
    "income": vocab.IncomeType,
    "disability": vocab.DisabilityKind,
    "status": vocab.Status,
    "relation": vocab.Relation,
    "sex": vocab.Sex,
    "health": vocab.Health,
    "employment": vocab.Employment,
    "schooling": vocab.Schooling,
    "hukou": vocab.Hukou,
}


@register.filter
def label(code: str | None, kind: str) -> str:
    """``{{ "wage"|label:"income" }}`` → 工资性收入; unknown codes are shown as they are."""
    if not code:
        return "—"
    choices = _VOCABS[kind]
    try:
        return str(choices(code).label)
    except ValueError:
        return str(code)
