"""/api/v1/dashboards: the dashboard figures of a division (cached, with their "as of"
time) and the lists behind them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from minzheng.accounts.auth import actor_of
from minzheng.core.pagination import paginate
from minzheng.core.schemas import error_responses

from . import selectors

router = Router(tags=["统计 dashboards"])

ERRORS = error_responses(401, 403, 404, 422)


@router.get("/dashboards", response={200: dict[str, Any], **ERRORS},
            summary="统计看板：本级及下级区划的各项统计（缓存，注明数据时间）")  # fmt: skip
def dashboards(request: HttpRequest, division: str | None = None) -> dict[str, Any]:
    """`division` 缺省为本人所在区划；数据由后台任务定时刷新，`computed_at` 为数据时间，
    `stale=true` 表示正在后台刷新。"""
    board = selectors.dashboard(actor_of(request), division)
    return {**board.data, "computed_at": board.computed_at.isoformat(), "stale": board.stale,
            "children": [{"code": c.code, "name": c.name} for c in board.children]}  # fmt: skip


@router.get("/dashboards/list", response={200: dict[str, Any], **ERRORS},
            summary="统计下钻：某项统计背后的名单（本辖区）")  # fmt: skip
def dashboards_list(request: HttpRequest, figure: str, division: str | None = None,
                    programme: str | None = None, month: str | None = None, state: str | None = None,
                    page: int = 1, page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    """`figure`：recipients（某月救助对象，按项目）、applications（在办申请，按环节）、
    overdue（超期申请）、discovery（主动发现线索，按状态）。"""
    qs = selectors.figure_list(actor_of(request), figure=figure, code=division, programme=programme,
                               month=month, state=state)  # fmt: skip
    return paginate(qs, page, page_size, selectors.row_out)
