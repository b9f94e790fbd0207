"""HTTP API of elderly care (filled in by the eldercare work)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["居家养老 eldercare"])
