"""One base error for every rejected request, mapped to the API's error shape.

``ApplicationError(code, message, details, status)`` becomes
``{"code": code, "message": message, "details": details}`` with that HTTP status.
``code`` is stable English for machines and logs; ``message`` is Chinese for users.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status: int = 400

    def __init__(
        self,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details or {}
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class NotFound(ApplicationError):
    """Absent, or outside the actor's jurisdiction: the two are never distinguished."""

    status = 404

    def __init__(self, code: str = "not_found", message: str = "记录不存在或无权查看") -> None:
        super().__init__(code, message)


class PermissionDenied(ApplicationError):
    status = 403

    def __init__(self, code: str = "permission.denied", message: str = "无权执行此操作") -> None:
        super().__init__(code, message)


class Conflict(ApplicationError):
    status = 409


class FieldError(ApplicationError):
    """A rejected value, naming the field (a dotted path or a column) that holds it."""

    status = 422

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(code, message, {"field": field})
        self.field = field


class ValidationFailed(ApplicationError):
    """Many field errors at once (a form, a document, a spreadsheet)."""

    status = 422

    def __init__(self, errors: list[dict[str, Any]], message: str = "数据校验未通过") -> None:
        super().__init__("validation.failed", message, {"errors": errors})
        self.errors = errors
