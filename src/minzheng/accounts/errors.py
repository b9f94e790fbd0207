from enum import StrEnum


class AccessErrorCode(StrEnum):
    HOUSEHOLD_NOT_FOUND = "household.not_found"
    PERSON_NOT_FOUND = "person.not_found"
    DIVISION_NOT_FOUND = "division.not_found"
    READ_ONLY = "permission.read_only"
    AUDIT_ONLY = "permission.audit_only"
    REVEAL_FORBIDDEN = "permission.reveal"
    REVEAL_REASON = "reveal.reason_required"
    AUTH_REQUIRED = "auth.unauthenticated"
    USER_EXISTS = "user.exists"
    USER_NOT_FOUND = "user.not_found"
    ROLE_UNKNOWN = "user.role"
    DEPARTMENT_REQUIRED = "user.department_required"
