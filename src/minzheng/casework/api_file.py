"""/api/v1/households/{id}/file: the household file as JSON (filled in by the
household-file work)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["一户一档 household file"])
