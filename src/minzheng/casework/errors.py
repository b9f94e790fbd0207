"""Stable error codes of casework (English for machines and logs)."""

from enum import StrEnum


class CaseErrorCode(StrEnum):
    ROLE_FORBIDDEN = "casework.role_forbidden"
    REASON_REQUIRED = "casework.reason_required"
    FIELD_INVALID = "casework.field_invalid"
    PLAN_NOT_FOUND = "plan.not_found"
    PLAN_OPEN_EXISTS = "plan.open_exists"
    PLAN_CLOSED = "plan.closed"
    PLAN_STALE = "plan.stale"
    DATE_IN_PAST = "casework.date_in_past"
    DATE_IN_FUTURE = "casework.date_in_future"
    RESPONSIBLE_INVALID = "casework.responsible_invalid"
    MEASURE_NOT_FOUND = "measure.not_found"
    MEASURE_STATE = "measure.illegal_status_change"
    FOLLOW_UP_NOT_FOUND = "follow_up.not_found"
    FOLLOW_UP_DONE = "follow_up.already_done"
    TASK_NOT_FOUND = "task.not_found"
    TASK_DONE = "task.already_done"
    DISCOVERY_NOT_FOUND = "discovery.not_found"
    DISCOVERY_DECIDED = "discovery.already_decided"
    DISCOVERY_STALE = "discovery.stale"
    DISCOVERY_DUPLICATE = "discovery.duplicate"
    DISCOVERY_RUNNING = "discovery.run_in_progress"
    PERIOD_INVALID = "casework.period_invalid"
