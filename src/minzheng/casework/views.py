"""Pages of casework: the worker's casework inbox, plans, discovery."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
