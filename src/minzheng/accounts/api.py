from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from minzheng.accounts import selectors
from minzheng.accounts.auth import actor_of
from minzheng.core.pagination import Page, paginate

router = Router(tags=["审计 audit"])


class AccessLogFilter(Schema):
    username: str | None = None
    person_id: int | None = None
    household_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


class AccessLogOut(Schema):
    id: int
    at: datetime
    actor: str
    action: str
    reason: str
    channel: str
    person_id: int | None
    person: str
    household_id: int | None
    division: str


@router.get("/access-logs", response=Page[AccessLogOut], summary="档案查阅日志（审计）")
def access_logs(
    request: HttpRequest, filters: Query[AccessLogFilter], page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    qs = selectors.access_log_search(actor_of(request), **filters.dict())
    return paginate(qs, page, page_size, selectors.access_log_row)
