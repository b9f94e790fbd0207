"""Stable error codes of reports (English for machines and logs)."""

from enum import StrEnum


class ReportErrorCode(StrEnum):
    PERIOD_INVALID = "report.period_invalid"
    PERIOD_FUTURE = "report.period_future"
    DIVISION_LEVEL = "report.division_level"
    ROLE_FORBIDDEN = "report.role_forbidden"
    FORMAT_INVALID = "report.format_invalid"
    KIND_INVALID = "report.kind_invalid"
