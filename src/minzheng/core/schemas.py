"""API schemas every router shares: the one error shape of CONTRACTS.md and strict input."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class ErrorOut(Schema):
    code: str
    message: str
    details: dict[str, Any]


def error_responses(*statuses: int) -> dict[int, Any]:
    """``{status: ErrorOut}`` for a route's ``response=`` mapping."""
    return dict.fromkeys(statuses, ErrorOut)


class Strict(Schema):
    """An input schema that rejects unknown fields (never silently ignored)."""

    model_config = ConfigDict(extra="forbid")
