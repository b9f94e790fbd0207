"""/api/v1/applications: intake, the case, transitions, documents, objections; and the
public notice of a community. A thin skin over ``applications.services`` and
``applications.selectors``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import File, Form, Router
from ninja.files import UploadedFile
from pydantic import Field

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.applications import files, selectors, services, workflow
from minzheng.applications.models import Channel
from minzheng.core.errors import NotFound
from minzheng.core.pagination import paginate
from minzheng.core.schemas import Strict, error_responses

router = Router(tags=["一口式申请 applications"])


ERRORS = error_responses(401, 403, 404, 409, 413, 415, 422)


class ApplicationIn(Strict):
    household: int | None = Field(None, description="家庭 id（本辖区受理）")
    household_id: int | None = Field(None, description="同 household（别名）")
    applicant_id_number: str | None = Field(
        None,
        description="申请人身份证号码（跨区通办：不知道家庭 id 时按此找到户籍家庭并转其所属社区）",
    )
    applicant: int | None = Field(None, description="申请人（本户成员 id），缺省为户主")
    programmes: list[str] = Field(default_factory=list, description="申请的救助项目 id")
    include_suggested: bool = Field(True, description="同时申请系统推荐（可能符合）的项目")
    note: str = Field("", max_length=500)


class VisitIn(Strict):
    visited_on: date | None = None
    visitors: str = ""
    findings: str = ""
    living_conditions: str = ""


class TransitionIn(Strict):
    action: str = Field(
        description="操作：" + "、".join(f"{k}（{v}）" for k, v in workflow.ACTIONS.items())
    )
    reason: str = Field(description="理由（必填）")
    programmes: list[str] | None = Field(
        None, description="只办理这些项目；缺省为本人当前可办理的全部项目"
    )
    amount: str | None = Field(None, description="approve：批准金额，缺省为核对时测算金额")
    start_month: str | None = Field(None, description="approve：起始月份 YYYY-MM，缺省为本月")
    visit: VisitIn | None = Field(None, description="record_visit：入户调查记录")
    version: int | None = Field(None, description="乐观锁：页面上看到的版本号；不一致返回 409")


class ObjectionIn(Strict):
    programme: str
    content: str
    contact: str = ""


class ResolutionIn(Strict):
    upheld: bool
    resolution: str


@router.get("/applications", response={200: dict[str, Any], **ERRORS}, summary="申请列表（本辖区）")
def applications_list(
    request: HttpRequest,
    page: int = 1,
    page_size: int = 50,
    state: str | None = None,
    programme: str | None = None,
    household: int | None = None,
    overdue: bool = False,
    waiting: bool = False,
) -> dict[str, Any]:
    """`waiting=true`：待本人处理的事项（收件箱，超期在前），按项目逐条列出。"""
    actor = actor_of(request)
    if waiting:
        today = services.clock.today()
        return paginate(selectors.inbox(actor), page, page_size,
                        lambda ln: {"application": ln.application_id,
                                    "number": ln.application.number,
                                    "applicant": ln.application.applicant.name,
                                    "division": ln.application.division.name,
                                    **selectors.line_out(ln, actor, today)})  # fmt: skip
    qs = selectors.applications_list(actor, state=state, programme=programme,
                                     household=household, overdue=overdue)  # fmt: skip
    return paginate(qs, page, page_size, lambda a: {
        "id": a.pk, "number": a.number, "channel": a.channel, "created_at": a.created_at,
        "household": {"id": a.household_id, "number": a.household.number},
        "applicant": {"name": a.applicant.name, "id_number": a.applicant.id_number_masked},
        "division": {"code": a.division.code, "name": a.division.name},
        "lines": [{"programme": ln.programme, "state": ln.state, "step_due": ln.step_due}
                  for ln in a.lines.all()],
    })  # fmt: skip


@router.post("/applications", response={201: dict[str, Any], **ERRORS}, summary="提交申请")
def applications_create(request: HttpRequest, payload: ApplicationIn) -> tuple[int, dict[str, Any]]:
    actor = actor_of(request)
    application = services.application_create(
        actor=actor, programmes=payload.programmes,
        household_id=payload.household if payload.household is not None else payload.household_id,
        applicant_id_number=payload.applicant_id_number, applicant_person_id=payload.applicant,
        include_suggested=payload.include_suggested, note=payload.note,
    )  # fmt: skip
    if application.channel == Channel.CROSS_REGION:
        # received here, handled where the household lives: the receiver learns only that
        return 201, {
            "id": application.pk, "number": application.number, "channel": application.channel,
            "status": "open",
            "routed_to": {"code": application.division.code, "name": application.division.name},
            "lines": [{"programme": ln.programme, "state": ln.state} for ln in application.lines.all()],
        }  # fmt: skip
    return 201, selectors.application_out(application, actor)


@router.get("/applications/{application_id}", response={200: dict[str, Any], **ERRORS},
            summary="申请详情（含各项目状态、流转记录、材料）")  # fmt: skip
def applications_get(request: HttpRequest, application_id: int) -> dict[str, Any]:
    actor = actor_of(request)
    application = selectors.application_get(actor, application_id, channel="api")
    return selectors.application_out(application, actor)


@router.post("/applications/{application_id}/transitions", response={200: dict[str, Any], **ERRORS},
             summary="办理（流转）：受理、调查、核对、公示、审核、审批、退回、撤回")  # fmt: skip
def applications_transition(
    request: HttpRequest, application_id: int, payload: TransitionIn
) -> dict[str, Any]:
    actor = actor_of(request)
    moved = services.application_transition(
        actor=actor, application_id=application_id, action=payload.action, reason=payload.reason,
        programmes=payload.programmes, amount=payload.amount, start_month=payload.start_month,
        visit=payload.visit.model_dump() if payload.visit else None, version=payload.version,
    )  # fmt: skip
    application = access.access_application_by_id(actor, application_id)
    out = selectors.application_out(application, actor)
    out["moved"] = [{"programme": t.line.programme, "from_state": t.from_state,
                     "to_state": t.to_state} for t in moved]  # fmt: skip
    return out


@router.post("/applications/{application_id}/documents", response={201: dict[str, Any], **ERRORS},
             summary="上传申请材料（PDF、JPG、PNG，单个不超过 10 MB）")  # fmt: skip
def documents_upload(
    request: HttpRequest, application_id: int, kind: Form[str], file: File[UploadedFile]
) -> tuple[int, dict[str, Any]]:
    content = file.read(files.MAX_DOCUMENT_BYTES + 1)
    doc = services.document_attach(actor=actor_of(request), application_id=application_id,
                                   kind=kind, name=file.name or "", content=content)  # fmt: skip
    return 201, {"id": doc.pk, "kind": doc.kind, "name": doc.name, "content_type": doc.content_type,
                 "size": doc.size, "sha256": doc.sha256}  # fmt: skip


@router.get("/applications/{application_id}/documents/{document_id}", response={200: None, **ERRORS},
            summary="下载申请材料")  # fmt: skip
def documents_download(request: HttpRequest, application_id: int, document_id: int) -> FileResponse:
    doc = selectors.document_get(actor_of(request), application_id, document_id, channel="api")
    return selectors.document_response(doc, inline=False)


@router.post("/applications/{application_id}/objections", response={201: dict[str, Any], **ERRORS},
             summary="登记公示异议")  # fmt: skip
def objections_create(
    request: HttpRequest, application_id: int, payload: ObjectionIn
) -> tuple[int, dict[str, Any]]:
    actor = actor_of(request)
    application = access.access_application_by_id(actor, application_id)
    line = application.lines.filter(programme=payload.programme).order_by("-pk").first()
    if line is None:
        raise NotFound("application.not_found", "本申请不含该项目")
    objection = services.objection_lodge(actor=actor, line_id=line.pk, content=payload.content,
                                         contact=payload.contact)  # fmt: skip
    return 201, {"id": objection.pk, "programme": payload.programme, "resolved": False}


@router.post("/applications/objections/{objection_id}/resolution",
             response={200: dict[str, Any], **ERRORS}, summary="处理公示异议")  # fmt: skip
def objections_resolve(
    request: HttpRequest, objection_id: int, payload: ResolutionIn
) -> dict[str, Any]:
    objection = services.objection_resolve(actor=actor_of(request), objection_id=objection_id,
                                           upheld=payload.upheld, resolution=payload.resolution)  # fmt: skip
    return {"id": objection.pk, "resolved": True, "upheld": objection.upheld,
            "resolution": objection.resolution}  # fmt: skip


@router.get("/notices/{community_code}", auth=None, response={200: dict[str, Any], **ERRORS},
            summary="社区公示名单（公开，姓名与身份证号码脱敏）")  # fmt: skip
def notices_get(request: HttpRequest, community_code: str) -> dict[str, Any]:
    community = selectors.community_for_notice(community_code)
    notice = selectors.public_notice(community)
    return {"community": {"code": community.code, "name": community.name},
            "today": notice["today"], "rows": notice["rows"]}  # fmt: skip
