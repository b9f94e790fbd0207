"""Pages of elderly care (filled in by the eldercare work)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
