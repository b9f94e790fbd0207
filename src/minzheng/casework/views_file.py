"""The household file page and its PDF (filled in by the household-file work)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def household_file(request: HttpRequest, household_id: int) -> HttpResponse:
    raise NotImplementedError


def household_file_pdf(request: HttpRequest, household_id: int) -> HttpResponse:
    raise NotImplementedError
