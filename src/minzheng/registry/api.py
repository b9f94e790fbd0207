"""/api/v1/divisions, /households, /persons: a thin skin over services and selectors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from minzheng.accounts.auth import actor_of
from minzheng.core.errors import ValidationFailed
from minzheng.core.pagination import Page, paginate
from minzheng.core.schemas import error_responses
from minzheng.registry import selectors, services
from minzheng.registry.documents import HouseholdDoc, HouseholdPatch

router = Router(tags=["登记 registry"])


class DivisionNode(Schema):
    code: str
    name: str
    level: str
    children: list[DivisionNode]


class DivisionRef(Schema):
    code: str
    name: str


class HouseholdSummary(Schema):
    id: int
    number: str
    division: DivisionRef
    address: str
    hukou: str
    head_name: str
    head_id_number: str
    member_count: int | None


class PersonOut(Schema):
    person_id: int
    household_id: int
    household_number: str
    division: DivisionRef
    name: str
    id_number: str
    relation: str
    birth_date: str
    sex: str


ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get(
    "/divisions", response={200: list[DivisionNode], **ERRORS}, summary="区划树（本人管辖范围）"
)
def divisions(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.division_tree(actor_of(request))


@router.get("/households", response={200: Page[HouseholdSummary], **ERRORS}, summary="查询家庭")
def household_list(
    request: HttpRequest,
    name: str | None = None,
    id_number: str | None = None,
    division: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> dict[str, Any]:
    qs = selectors.household_search(
        actor_of(request),
        name=name,
        id_number=id_number,
        division=division,
    )
    return paginate(qs, page, page_size, selectors.household_summary, selectors.with_heads)


@router.post(
    "/households", response={201: dict[str, Any], **ERRORS}, summary="登记家庭（家庭文档）"
)
def household_create(request: HttpRequest, payload: HouseholdDoc) -> tuple[int, dict[str, Any]]:
    try:
        (household,) = services.households_create(
            actor=actor_of(request),
            documents=[payload],
            reason="接口登记",
        )
    except ValidationFailed as exc:
        for err in exc.errors:
            err.pop("index", None)
        raise
    household, members = selectors.household_file(
        actor_of(request),
        household.pk,
        channel="api",
    )
    return 201, selectors.household_document(household, members, reveal=False)


@router.get(
    "/households/{household_id}", response={200: dict[str, Any], **ERRORS}, summary="家庭档案"
)
def household_detail(
    request: HttpRequest, household_id: int, reveal: bool = False, reason: str = ""
) -> dict[str, Any]:
    household, members = selectors.household_file(
        actor_of(request),
        household_id,
        reveal=reveal,
        reason=reason,
        channel="api",
    )
    return selectors.household_document(household, members, reveal=reveal)


@router.patch(
    "/households/{household_id}",
    response={200: dict[str, Any], **ERRORS},
    summary="修改家庭（须填原因）",
)
def household_update(
    request: HttpRequest, household_id: int, payload: HouseholdPatch
) -> dict[str, Any]:
    services.household_update(actor=actor_of(request), household_id=household_id, patch=payload)
    household, members = selectors.household_file(
        actor_of(request),
        household_id,
        channel="api",
    )
    return selectors.household_document(household, members, reveal=False)


@router.get(
    "/households/{household_id}/history",
    response={200: list[dict[str, Any]], **ERRORS},
    summary="变更历史",
)
def household_history(request: HttpRequest, household_id: int) -> list[dict[str, Any]]:
    return selectors.household_history(actor_of(request), household_id)


@router.get(
    "/persons", response={200: Page[PersonOut], **ERRORS}, summary="按身份证号码精确查询人员"
)
def person_lookup(request: HttpRequest, id_number: str) -> dict[str, Any]:
    persons = selectors.person_lookup(actor_of(request), id_number)
    items = [
        {
            "person_id": p.pk,
            "household_id": p.household.pk,  # type: ignore[union-attr]
            "household_number": p.household.number,  # type: ignore[union-attr]
            "division": {"code": p.household.division.code, "name": p.household.division.name},  # type: ignore[union-attr]
            "name": p.name,
            "id_number": p.id_number_masked,
            "relation": p.relation,
            "birth_date": p.birth_date.isoformat(),
            "sex": p.sex,
        }
        for p in persons
    ]
    return {"items": items, "count": len(items)}
