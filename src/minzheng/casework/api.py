"""/api/v1/plans, /follow-ups, /discovery, /casework/tasks: a thin skin over
``casework.services``, ``casework.discovery``, ``casework.events`` and selectors."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["一户一策与主动服务 casework"])
