"""/api/v1/dashboards: the dashboard figures per level (filled in by the dashboard work)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["统计 dashboards"])
