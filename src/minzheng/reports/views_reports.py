"""Standard reports: list, generate, download (filled in by the report work)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
