from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tests.fixtures import Cast


@pytest.fixture
def api(cast: Cast) -> Callable[[str], Client]:
    clients: dict[str, Client] = {}

    def get(role: str) -> Client:
        if role not in clients:
            clients[role] = cast.api(role)
        return clients[role]

    return get
