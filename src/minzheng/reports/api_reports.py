"""/api/v1/reports: standard reports (月度统计, 年度汇总), a thin skin over ``reports.monthly``
(compute and snapshot) and ``reports.exports`` (xlsx, PDF).

``POST /reports`` answers 201 when it stores a new snapshot, 200 with the stored one when it
exists (a provisional one is brought up to date first), and 200 with ``id: null`` and zeros
for a period without payments (nothing is stored)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router
from pydantic import Field

from minzheng.accounts.auth import actor_of
from minzheng.core.pagination import paginate
from minzheng.core.schemas import Strict, error_responses

from . import exports, monthly
from .models import Report, ReportKind

router = Router(tags=["统计报表 reports"])
ERRORS = error_responses(401, 403, 404, 422, 503)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportIn(Strict):
    kind: str = Field(description="monthly（月度统计）或 yearly（年度汇总）")
    period: str = Field(description="统计期：月度为 YYYY-MM，年度为 YYYY（不能是未来）")
    division: str | None = Field(None, description="区划代码（区、街道或社区），缺省为本人所在区划")


def report_out(report: Report | None, data: dict[str, Any], *, detail: bool = False,
               stored: bool = True) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {
        "id": report.pk if report else None,
        "stored": report is not None and stored,
        "kind": data["kind"],
        "kind_label": ReportKind(data["kind"]).label,
        "period": data["period"],
        "division": {k: data["division"][k] for k in ("code", "name", "full_name", "level")},
        "title": exports.title_of(data),
        "as_of": data["as_of"],
        "provisional": bool(data.get("provisional")),
        "empty": bool(data.get("empty")),
        "message": (
            monthly.EMPTY_MONTH if data["kind"] == ReportKind.MONTHLY else monthly.EMPTY_YEAR
        )
        if data.get("empty")
        else "",
        "digest": report.digest if report else monthly.digest(data["figures"]),
        "generated_by": None,
        "generated_at": None,
    }
    if report is not None:
        user = report.generated_by
        out["generated_by"] = None if user is None else (user.get_full_name() or user.username)
        out["generated_at"] = timezone.localtime(report.generated_at).isoformat()
        out["downloads"] = {"xlsx": f"/api/v1/reports/{report.pk}/xlsx",
                            "pdf": f"/api/v1/reports/{report.pk}/pdf"}  # fmt: skip
    if detail:
        out |= {
            "cutoff": data["cutoff"],
            "registry_date": data.get("registry_date", ""),
            "months": data.get("months", []),
            "registered_late": data.get("registered_late", 0),
            "runs": data.get("runs", []),
            "layout": data["layout"],
            "labels": data["labels"],
            "figures": data["figures"],
        }
    return out


@router.get("/reports", response={200: dict[str, Any], **ERRORS},
            summary="统计报表列表（本人辖区内已保存的报表）")  # fmt: skip
def reports_list(request: HttpRequest, kind: str | None = None, period: str | None = None,
                 division: str | None = None, page: int = 1,
                 page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    qs = monthly.reports_list(actor_of(request), kind=kind, period=period, division=division)
    return paginate(qs, page, page_size, lambda r: report_out(r, r.data))


@router.post("/reports", response={200: dict[str, Any], 201: dict[str, Any], **ERRORS},
             summary="生成统计报表（已有快照则返回快照；无发放数据时不保存）")  # fmt: skip
def reports_create(request: HttpRequest, payload: ReportIn) -> tuple[int, dict[str, Any]]:
    done = monthly.report_generate(actor=actor_of(request), kind=payload.kind,
                                   period=payload.period, division=payload.division)  # fmt: skip
    return (201 if done.created else 200), report_out(done.report, done.data, detail=True)


@router.get("/reports/{report_id}", response={200: dict[str, Any], **ERRORS},
            summary="统计报表（全部数字与口径）")  # fmt: skip
def reports_get(request: HttpRequest, report_id: int) -> dict[str, Any]:
    report = monthly.access_report_by_id(actor_of(request), report_id)
    return report_out(report, report.data, detail=True)


@router.get("/reports/{report_id}/xlsx", response={200: None, **ERRORS},
            summary="下载统计报表（Excel）")  # fmt: skip
def reports_xlsx(request: HttpRequest, report_id: int) -> HttpResponse:
    report = monthly.access_report_by_id(actor_of(request), report_id)
    response = HttpResponse(exports.xlsx(report), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{exports.file_name(report, "xlsx")}"'
    response["Cache-Control"] = "private, no-store"
    return response


@router.get("/reports/{report_id}/pdf", response={200: None, **ERRORS},
            summary="下载统计报表（PDF）")  # fmt: skip
def reports_pdf(request: HttpRequest, report_id: int) -> HttpResponse:
    report = monthly.access_report_by_id(actor_of(request), report_id)
    response = HttpResponse(exports.pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{exports.file_name(report, "pdf")}"'
    response["Cache-Control"] = "private, no-store"
    return response
