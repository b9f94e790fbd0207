"""/api/v1/households/{id}/file: the household file (一户一档) as JSON, a thin skin over
``casework.file``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema

from minzheng.accounts.auth import actor_of
from minzheng.casework import file
from minzheng.core.pagination import check_page
from minzheng.core.schemas import error_responses

router = Router(tags=["一户一档 household file"])


class FileDivision(Schema):
    code: str
    name: str


class FileHousehold(Schema):
    id: int
    number: str
    division: FileDivision
    address: str
    hukou: str


class FileMemberOut(Schema):
    person_id: int
    name: str
    relation: str
    id_number: str  # masked, always
    sex: str
    birth_date: str


class FileItem(Schema):
    at: str
    all_day: bool
    kind: str
    kind_label: str
    title: str
    detail: str
    link: str | None


class FileOut(Schema):
    household: FileHousehold
    members: list[FileMemberOut]
    items: list[FileItem]
    count: int
    counts: dict[str, int]
    capped: list[str]


# Repeatable (?kind=payment&kind=note); a list in the query string needs an explicit Query.
_KIND = Query(None, description="记录类别，可重复；不填为全部")


def _item(e: file.FileEntry) -> dict[str, Any]:
    local = timezone.localtime(e.at)
    return {
        "at": local.date().isoformat() if e.all_day else local.isoformat(),
        "all_day": e.all_day,
        "kind": e.kind,
        "kind_label": e.kind_label,
        "title": e.title,
        "detail": e.detail,
        "link": e.link,
    }


@router.get(
    "/households/{household_id}/file",
    response={200: FileOut, **error_responses(401, 404, 422)},
    summary="一户一档：家庭的全部记录（按时间倒序）",
    description=(
        "登记变更、申请与审批、入户调查、核对报告、资金发放与待遇变更、帮扶记录、工作记录。"
        f"可按类别 `kind`（可多选：{'、'.join(file.KINDS)}）和日期 `start`、`end`"
        f"（YYYY-MM-DD，含当日）筛选；每类最多收录最近 {file.SOURCE_CAP} 条。"
        "仅救助业务经办、审计和管理人员可查阅，每次查阅记入查阅日志。"
    ),
)
def household_file(
    request: HttpRequest,
    household_id: int,
    kind: list[str] | None = _KIND,
    start: str | None = None,
    end: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    check_page(page, page_size)
    data = file.household_file(
        actor_of(request),
        household_id,
        kinds=file.parse_kinds(kind),
        start=file.parse_day(start, "start", "起始日期"),
        end=file.parse_day(end, "end", "截止日期"),
        channel="api",
    )
    h = data.household
    first = (page - 1) * page_size
    return {
        "household": {
            "id": h.pk,
            "number": h.number,
            "division": {"code": h.division.code, "name": h.division.name},
            "address": h.address,
            "hukou": h.hukou,
        },
        "members": [
            {
                "person_id": m.person_id,
                "name": m.name,
                "relation": m.relation,
                "id_number": m.id_number_masked,
                "sex": m.sex,
                "birth_date": m.birth_date.isoformat(),
            }
            for m in data.members
        ],
        "items": [_item(e) for e in data.entries[first : first + page_size]],
        "count": len(data.entries),
        "counts": data.counts,
        "capped": data.capped,
    }
