"""Dashboards per level (filled in by the dashboard work)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
