"""/api/v1/rankings and /api/v1/households/{id}/poverty-index: a thin skin over selectors."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema

from minzheng.accounts.auth import actor_of
from minzheng.core.schemas import error_responses
from minzheng.targeting import selectors

router = Router(tags=["贫困指数 targeting"])


ERRORS = error_responses(401, 403, 404, 422)


class DivisionRef(Schema):
    code: str
    name: str


class DimensionRef(Schema):
    key: str
    label: str


class RankedHousehold(Schema):
    rank: int
    street_rank: int
    household_id: int
    number: str
    head_name_masked: str
    division: DivisionRef
    street: DivisionRef | None
    index: float
    top_dimension: DimensionRef | None
    scores: dict[str, float]
    assistance: str
    assistance_multiple: float
    programmes: list[str]


class HistogramBin(Schema):
    lower: int  # index from (inclusive)
    upper: int  # to (exclusive; the last band includes 100)
    count: int


class RankingPage(Schema):
    items: list[RankedHousehold]
    count: int
    as_of: date
    division: DivisionRef
    applicants_only: bool
    histogram: list[HistogramBin]


class DimensionOut(Schema):
    key: str
    label: str
    rule: str
    value: Any
    value_label: str
    value_unit: str
    score: float
    weight: float
    contribution: float


class FactOut(Schema):
    name: str
    label: str
    unit: str
    value: Any


class BracketOut(Schema):
    from_index: float
    to_index: float | None
    multiple: float
    amount: str
    reached: bool


class AssistanceOut(Schema):
    multiple: float
    amount: str
    hukou_beijing: bool
    table: list[BracketOut]


class ParameterOut(Schema):
    name: str
    label: str
    value: Any
    unit: str
    since: date
    source: str
    confidence: str


class ExplanationOut(Schema):
    household_id: int
    number: str
    division: DivisionRef
    as_of: date
    index: float
    top_dimension: DimensionRef | None
    dimensions: list[DimensionOut]
    facts: list[FactOut]
    assistance: AssistanceOut
    parameters: list[ParameterOut]


@router.get(
    "/rankings",
    response={200: RankingPage, **ERRORS},
    summary="贫困指数排序",
    description=(
        "管辖范围内（`division`，默认本人所在区划）的家庭按城市家庭贫困指数从高到低排序：`rank` 为在所选"
        "区划内的名次，`street_rank` 为在所属街道内的名次（同分同名次）。默认只含有在办申请的家庭，"
        "`all=true` 为全部家庭。`assistance` 为按标准表建议的临时救助金额（元，两位小数的字符串）。"
    ),
)
def rankings(
    request: HttpRequest,
    division: str | None = None,
    as_of: date | None = None,
    all_households: bool = Query(False, alias="all"),
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    result = selectors.ranking(
        actor_of(request),
        as_of=as_of or timezone.localdate(),
        division_code=division or None,
        applicants_only=not all_households,
    )
    items = selectors.ranking_page(result, page, page_size)
    return {
        "items": items,
        "count": result.count,
        "as_of": result.as_of,
        "division": {"code": result.division.code, "name": result.division.name},
        "applicants_only": result.applicants_only,
        "histogram": result.histogram(),
    }


@router.get(
    "/households/{household_id}/poverty-index",
    response={200: ExplanationOut, **ERRORS},
    summary="家庭贫困指数说明（逐维度）",
    description=(
        "每个维度的原始数值、得分（0–100，越高越困难）、权重与贡献（各维度贡献之和即指数），"
        "按标准表建议的临时救助，以及所用参数的生效日期与来源。查看记入查阅日志。"
    ),
)
def household_poverty_index(
    request: HttpRequest, household_id: int, as_of: date | None = None
) -> dict[str, Any]:
    _, explanation = selectors.household_poverty_index(
        actor_of(request), household_id, as_of=as_of or timezone.localdate(), channel="api"
    )
    return explanation
