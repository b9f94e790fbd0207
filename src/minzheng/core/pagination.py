"""Lists are ``{"items": [...], "count": N}`` with ``?page=N&page_size=M`` (max 200)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from pydantic import BaseModel

from minzheng.core.errors import ApplicationError

T = TypeVar("T")
MAX_PAGE_SIZE = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    count: int


def check_page(page: int, page_size: int) -> None:
    """Refuse a page number below 1 or a page size outside 1..MAX_PAGE_SIZE."""
    if page < 1:
        raise ApplicationError(
            "pagination.page", "页码必须从 1 开始", {"field": "page"}, status=422
        )
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ApplicationError(
            "pagination.page_size",
            f"每页条数必须在 1 到 {MAX_PAGE_SIZE} 之间",
            {"field": "page_size"},
            status=422,
        )


def paginate(
    qs: QuerySet[Any],
    page: int,
    page_size: int,
    shape: Callable[[Any], Any],
    enrich: Callable[[list[Any]], list[Any]] | None = None,
) -> dict[str, Any]:
    """One page of ``qs``; ``enrich`` may add to the page's rows before ``shape``."""
    check_page(page, page_size)
    count = qs.count()
    start = (page - 1) * page_size
    rows = list(qs[start : start + page_size])
    if enrich is not None:
        rows = enrich(rows)
    return {"items": [shape(x) for x in rows], "count": count}
