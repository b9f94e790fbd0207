"""/api/v1/reports: standard reports (filled in by the report work)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["统计报表 reports"])
