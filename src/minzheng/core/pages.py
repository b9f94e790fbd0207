"""A page acting through a service: run it, say on the page what happened, keep the
refusal's field errors for the form. One way for every app's pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest

from minzheng.core.errors import ApplicationError, NotFound, ValidationFailed


@dataclass(frozen=True)
class Attempt:
    """What the action returned, or the refusal's errors (each ``field``, ``code``,
    ``message``); true when it was done."""

    result: Any = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return not self.errors


def refusal_shown(request: HttpRequest, exc: ApplicationError) -> list[dict[str, Any]]:
    """Put each reason of the refusal on the page; return them as field errors."""
    errors = list(exc.errors) if isinstance(exc, ValidationFailed) else []
    if not errors:
        where = exc.details.get("field") if isinstance(exc.details, dict) else None
        errors = [{"field": where or "", "code": exc.code, "message": exc.message}]
    for e in errors:
        messages.error(request, e["message"])
    return errors


def attempt(request: HttpRequest, action: Callable[[], Any], done: str) -> Attempt:
    """Run ``action``: done, say ``done``; refused, show why. A record out of the
    actor's reach is the page's 404, as on reading it."""
    try:
        result = action()
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        return Attempt(errors=refusal_shown(request, exc))
    messages.success(request, done)
    return Attempt(result=result)
