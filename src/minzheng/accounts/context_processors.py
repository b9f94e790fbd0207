"""What the signed-in user may do, for the page header's navigation."""

from __future__ import annotations

from django.http import HttpRequest

from minzheng.accounts import access
from minzheng.accounts.models import User


def permissions(request: HttpRequest) -> dict[str, bool]:
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}
    return {
        "can_import": access.can_write(user),
        "can_read_access_log": access.can_read_access_log(user),
    }
