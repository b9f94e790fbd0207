from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from minzheng.accounts.models import User
from minzheng.accounts.services import token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is None:
            return None
        request.user = user
        return user


def actor_of(request: HttpRequest) -> User:
    """The signed-in user of a request that passed authentication."""
    user = request.user
    if not isinstance(user, User):
        raise AuthenticationError
    return user
