"""/api/v1/feeds, /links, verification reports, discrepancies and duplicates: a thin skin
over ``verification.feeds``, ``verification.services`` and ``verification.selectors``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Router
from ninja.files import UploadedFile

from minzheng.accounts.auth import actor_of
from minzheng.core.errors import ApplicationError
from minzheng.core.pagination import paginate
from minzheng.core.schemas import Strict, error_responses
from minzheng.verification import feeds, selectors, services
from minzheng.verification.layouts import IDENTITY, LAYOUTS

router = Router(tags=["经济状况核对 verification"])


ERRORS = error_responses(401, 403, 404, 409, 413, 422)
MAX_FEED_BYTES = 200 * 1024 * 1024


class ReviewIn(Strict):
    confirm: bool
    reason: str


class ResolutionIn(Strict):
    resolution: str


@router.get(
    "/feeds/layouts", response={200: list[dict[str, Any]], **ERRORS}, summary="部门数据格式说明"
)
def feed_layouts(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"source": lay.source, "label": lay.label, "compares": lay.compares,
         "columns": [{"key": f.key, "header": f.header, "kind": f.kind, "required": f.required}
                     for f in (*IDENTITY, *lay.fields)]}
        for lay in LAYOUTS.values()
    ]  # fmt: skip


@router.get(
    "/feeds", response={200: dict[str, Any], **ERRORS}, summary="已导入的部门数据（各版本）"
)
def feeds_list(request: HttpRequest, page: int = 1, page_size: int = 50) -> dict[str, Any]:
    qs = selectors.feeds_visible(actor_of(request)).select_related("division").order_by("-pk")
    return paginate(qs, page, page_size, selectors.feed_out)


@router.post("/feeds", response={201: dict[str, Any], 200: dict[str, Any], **ERRORS},
             summary="导入部门数据（CSV/XLSX/Parquet；全部校验通过才写入，新版本不覆盖旧版本）")  # fmt: skip
def feeds_import(
    request: HttpRequest,
    source: Form[str],
    division: Form[str],
    describes_on: Form[date],
    file: File[UploadedFile],
    dry_run: Form[bool] = False,
) -> tuple[int, dict[str, Any]]:
    if (file.size or 0) > MAX_FEED_BYTES:
        raise ApplicationError("file.too_large", "文件过大（不超过 200 MB）", status=413)
    report = feeds.feed_import(actor=actor_of(request), source=source, division_code=division,
                               describes_on=describes_on, file_name=file.name or "",
                               content=file.read(), dry_run=dry_run)  # fmt: skip
    return (200 if dry_run else 201), report.as_dict()


@router.get("/feeds/{feed_id}", response={200: dict[str, Any], **ERRORS}, summary="部门数据详情")
def feeds_get(request: HttpRequest, feed_id: int) -> dict[str, Any]:
    return selectors.feed_out(selectors.feed_get(actor_of(request), feed_id))


@router.get("/links", response={200: dict[str, Any], **ERRORS}, summary="待人工确认的记录关联")
def links_list(request: HttpRequest, page: int = 1, page_size: int = 50) -> dict[str, Any]:
    return paginate(
        selectors.links_for_review(actor_of(request)), page, page_size, selectors.link_out
    )


@router.post(
    "/links/{link_id}/review", response={200: dict[str, Any], **ERRORS}, summary="确认或否定关联"
)
def links_review(request: HttpRequest, link_id: int, payload: ReviewIn) -> dict[str, Any]:
    link = services.link_review(actor=actor_of(request), link_id=link_id, confirm=payload.confirm,
                                reason=payload.reason)  # fmt: skip
    return {"id": link.pk, "status": link.status}


@router.post("/applications/{application_id}/verification", response={201: dict[str, Any], **ERRORS},
             summary="经济状况核对：申报与部门数据比对，生成核对报告")  # fmt: skip
def verification_create(request: HttpRequest, application_id: int) -> tuple[int, dict[str, Any]]:
    report = services.verification_run(actor=actor_of(request), application_id=application_id)
    return 201, selectors.report_out(report)


@router.get("/verification-reports/{report_id}", response={200: dict[str, Any], **ERRORS},
            summary="核对报告")  # fmt: skip
def verification_get(request: HttpRequest, report_id: int) -> dict[str, Any]:
    return selectors.report_out(selectors.report_get(actor_of(request), report_id, channel="api"))


@router.post("/discrepancies/{discrepancy_id}/resolution", response={200: dict[str, Any], **ERRORS},
             summary="处理核对差异（须说明）")  # fmt: skip
def discrepancy_resolve(
    request: HttpRequest, discrepancy_id: int, payload: ResolutionIn
) -> dict[str, Any]:
    d = services.discrepancy_resolve(actor=actor_of(request), discrepancy_id=discrepancy_id,
                                     resolution=payload.resolution)  # fmt: skip
    return {"id": d.pk, "resolved": True, "resolution": d.resolution}


@router.get("/duplicates", response={200: dict[str, Any], **ERRORS},
            summary="疑似重复登记人员与一人多保")  # fmt: skip
def duplicates(request: HttpRequest, division: str | None = None) -> dict[str, Any]:
    found = selectors.duplicates_and_double_recipients(actor_of(request), division)
    return {"division": found["division"].code, "pairs": found["pairs"], "doubles": found["doubles"],
            "count": {"pairs": len(found["pairs"]), "doubles": len(found["doubles"])}}  # fmt: skip
