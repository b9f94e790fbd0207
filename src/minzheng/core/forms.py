"""Field errors collected across a whole request, so that one answer names every bad field
(``needs.0.domain``, ``due_on``) and nothing is written.

Each app subclasses ``FieldErrors`` with its own stable codes (and adds the parsers only it
needs); the common parsers — text, a choice among ``TextChoices``, a day — live here once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from django.utils import timezone

from minzheng.core.errors import ValidationFailed


class FieldErrors:
    INVALID: ClassVar[str] = "field.invalid"  # a malformed or out-of-range value
    SHORT: ClassVar[str] = "field.invalid"  # a required text missing or under two characters
    PAST: ClassVar[str] = "date.in_past"
    FUTURE: ClassVar[str] = "date.in_future"
    LIMIT: ClassVar[int] = 500

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, code: str, message: str) -> None:
        self.items.append({"field": field, "code": code, "message": message})

    def raise_any(self) -> None:
        if self.items:
            raise ValidationFailed(self.items)

    def text(self, raw: Any, field: str, label: str, *, required: bool = True,
             limit: int | None = None, code: str | None = None) -> str:  # fmt: skip
        """Text with runs of white space folded; required text has two characters or more."""
        most = self.LIMIT if limit is None else limit
        value = " ".join(str(raw).split()) if raw is not None else ""
        if required and len(value) < 2:
            self.add(field, code or self.SHORT, f"请填写{label}（至少两个字）")
        elif len(value) > most:
            self.add(field, self.INVALID, f"{label}不超过 {most} 字")
        return value

    def choice(self, raw: Any, field: str, label: str, choices: Any) -> str:
        if raw in choices.values:
            return str(raw)
        allowed = "、".join(f"{v}（{lab}）" for v, lab in choices.choices)
        self.add(field, self.INVALID, f"{label}取值无效：{raw!r}，应为 {allowed}")
        return ""

    def day(self, raw: Any, field: str, label: str, *, not_before: date | None = None,
            not_after: date | None = None, required: bool = True) -> date | None:  # fmt: skip
        """A day (``YYYY-MM-DD``, a date, or a date-time read in Beijing time), optionally
        not before or not after a given day (today, as a rule)."""
        if raw in (None, ""):
            if required:
                self.add(field, self.INVALID, f"请填写{label}")
            return None
        if isinstance(raw, datetime):
            value = timezone.localtime(raw).date() if timezone.is_aware(raw) else raw.date()
        elif isinstance(raw, date):
            value = raw
        else:
            try:
                value = date.fromisoformat(str(raw).strip())
            except ValueError:
                self.add(field, self.INVALID, f"{label}格式应为 YYYY-MM-DD：{raw!r}")
                return None
        if not_before is not None and value < not_before:
            self.add(field, self.PAST,
                     f"{label}不能早于今天（{not_before.isoformat()}）：{value.isoformat()}")  # fmt: skip
            return None
        if not_after is not None and value > not_after:
            self.add(field, self.FUTURE,
                     f"{label}不能晚于今天（{not_after.isoformat()}）：{value.isoformat()}")  # fmt: skip
            return None
        return value
