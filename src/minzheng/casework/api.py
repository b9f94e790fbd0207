"""/api/v1/plans, /follow-ups, /discovery, /casework: a thin skin over
``casework.services``, ``casework.discovery`` and ``casework.selectors``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Router
from pydantic import Field

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.core.errors import ApplicationError
from minzheng.core.pagination import paginate
from minzheng.core.schemas import Strict, error_responses

from . import discovery, selectors, services
from .errors import CaseErrorCode as Code
from .models import ItemStatus, PlanStatus

router = Router(tags=["一户一策与主动服务 casework"])

ERRORS = error_responses(401, 403, 404, 409, 422)


class NeedIn(Strict):
    domain: str = Field(description="需求领域：income 收入、health 健康、housing 住房、education 教育、"
                        "employment 就业、care 照护、psychological 心理")  # fmt: skip
    severity: str = Field("medium", description="程度：low 一般、medium 较重、high 严重")
    description: str = Field(description="需求描述")
    person: int | None = Field(None, description="涉及的本户成员 id（可选）")


class MeasureIn(Strict):
    kind: str = Field(
        description="措施类别：cash 物质救助（现金项目）、service 服务、referral 转介"
    )
    programme: str = Field("", description="cash：救助项目 id")
    target: str = Field("", description="referral：承接的部门或社会组织")
    description: str = Field(description="措施内容")
    responsible: int | None = Field(None, description="责任人（工作人员 id，缺省为本人）")
    due_on: date | str | None = Field(None, description="完成时限 YYYY-MM-DD（不早于今天）")


class FollowUpIn(Strict):
    due_on: date | str = Field(description="回访日期 YYYY-MM-DD（不早于今天）")
    purpose: str = Field(description="回访事项")
    assigned_to: int | None = Field(None, description="负责人（工作人员 id，缺省为本人）")
    measure: int | None = Field(None, description="关联的措施 id（可选）")


class PlanIn(Strict):
    household: int = Field(description="家庭 id")
    summary: str = Field(description="帮扶目标")
    review_on: date | str = Field(description="计划复查日期 YYYY-MM-DD（不早于今天）")
    responsible: int | None = Field(None, description="责任人（工作人员 id，缺省为本人）")
    needs: list[NeedIn] = Field(description="需求评估（至少一个领域）")
    measures: list[MeasureIn] = Field(default_factory=list)
    follow_ups: list[FollowUpIn] = Field(default_factory=list)


class NeedsIn(Strict):
    needs: list[NeedIn]


class StatusIn(Strict):
    status: str = Field(description="措施状态：in_progress、done、cancelled")


class ContactIn(Strict):
    contacted_on: date | str = Field(description="联系日期 YYYY-MM-DD（不晚于今天）")
    mode: str = Field(description="方式：home_visit 入户走访、phone 电话、office 来访、online 网络")
    content: str = Field(description="帮扶内容")
    follow_up: int | None = Field(None, description="完成的回访事项 id（可选）")


class ReviewIn(Strict):
    review_on: date | str = Field(description="下次复查日期")
    note: str = Field(description="复查意见")


class CloseIn(Strict):
    outcome: str = Field(
        description="结案结果：improved、self_reliant、stable、moved、deceased、declined、other"
    )
    note: str = Field(description="结案说明")


class ResultIn(Strict):
    result: str = Field(description="结果（必填）")


class ReasonIn(Strict):
    reason: str = Field(description="理由（必填）")


class ConvertIn(Strict):
    note: str = Field("", description="备注（可选）")


class RunIn(Strict):
    as_of: date | None = Field(None, description="发现日期（缺省今天）")
    division: str | None = Field(None, description="区划代码（缺省本人辖区）")


class NoteIn(Strict):
    text: str = Field(description="工作记录内容")


def _plan(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    actor = actor_of(request)
    return selectors.plan_out(access.access_plan_by_id(actor, plan_id))


def _day(raw: str | None, field: str) -> date | None:
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise ApplicationError(Code.PERIOD_INVALID, f"日期格式应为 YYYY-MM-DD：{raw!r}",
                               {"field": field}, status=422) from None  # fmt: skip


# -- plans ------------------------------------------------------------------------------------------


@router.get("/plans", response={200: dict[str, Any], **ERRORS}, summary="帮扶计划列表（本辖区）")
def plans_list(request: HttpRequest, household: int | None = None, status: str | None = None,
               page: int = 1, page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    actor = actor_of(request)
    qs = access.plans_visible(actor).select_related("household", "responsible")
    if household is not None:
        qs = qs.filter(household_id=household)
    if status is not None:
        if status not in PlanStatus.values:
            raise ApplicationError(
                Code.FIELD_INVALID, f"状态取值无效：{status}", {"field": "status"}, status=422
            )
        qs = qs.filter(status=status)
    return paginate(qs.order_by("-pk"), page, page_size, selectors.plan_out)


@router.post("/plans", response={201: dict[str, Any], **ERRORS}, summary="建立帮扶计划（一户一策）")
def plans_create(request: HttpRequest, body: PlanIn) -> tuple[int, dict[str, Any]]:
    actor = actor_of(request)
    data = body.model_dump()
    plan = services.plan_open(
        actor=actor, household_id=body.household, summary=body.summary, review_on=data["review_on"],
        responsible=body.responsible, needs=data["needs"], measures=data["measures"],
        follow_ups=data["follow_ups"],
    )  # fmt: skip
    return 201, _plan(request, plan.pk)


@router.get("/plans/{plan_id}", response={200: dict[str, Any], **ERRORS}, summary="帮扶计划详情")
def plans_get(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    return _plan(request, plan_id)


@router.post(
    "/plans/{plan_id}/needs", response={200: dict[str, Any], **ERRORS}, summary="重新评估需求"
)
def plans_assess(request: HttpRequest, plan_id: int, body: NeedsIn) -> dict[str, Any]:
    services.plan_assess(actor=actor_of(request), plan_id=plan_id, needs=body.model_dump()["needs"])
    return _plan(request, plan_id)


@router.post(
    "/plans/{plan_id}/measures", response={201: dict[str, Any], **ERRORS}, summary="增加帮扶措施"
)
def plans_measure(
    request: HttpRequest, plan_id: int, body: MeasureIn
) -> tuple[int, dict[str, Any]]:
    services.measure_add(actor=actor_of(request), plan_id=plan_id, measure=body.model_dump())
    return 201, _plan(request, plan_id)


@router.post(
    "/measures/{measure_id}/status",
    response={200: dict[str, Any], **ERRORS},
    summary="更新措施进度",
)
def measures_status(request: HttpRequest, measure_id: int, body: StatusIn) -> dict[str, Any]:
    measure = services.measure_status_set(
        actor=actor_of(request), measure_id=measure_id, status=body.status
    )
    return _plan(request, measure.plan_id)


@router.post(
    "/plans/{plan_id}/follow-ups", response={201: dict[str, Any], **ERRORS}, summary="安排回访"
)
def plans_follow_up(
    request: HttpRequest, plan_id: int, body: FollowUpIn
) -> tuple[int, dict[str, Any]]:
    fu = services.follow_up_add(actor=actor_of(request), plan_id=plan_id, due_on=body.due_on,
                                purpose=body.purpose, assigned_to=body.assigned_to,
                                measure_id=body.measure)  # fmt: skip
    return 201, selectors.follow_up_out(fu)


@router.post(
    "/plans/{plan_id}/contacts", response={201: dict[str, Any], **ERRORS}, summary="记录个案帮扶"
)
def plans_contact(
    request: HttpRequest, plan_id: int, body: ContactIn
) -> tuple[int, dict[str, Any]]:
    services.contact_record(actor=actor_of(request), plan_id=plan_id, contacted_on=body.contacted_on,
                            mode=body.mode, content=body.content, follow_up_id=body.follow_up)  # fmt: skip
    return 201, _plan(request, plan_id)


@router.post(
    "/plans/{plan_id}/review", response={200: dict[str, Any], **ERRORS}, summary="复查帮扶计划"
)
def plans_review(request: HttpRequest, plan_id: int, body: ReviewIn) -> dict[str, Any]:
    services.plan_review(
        actor=actor_of(request), plan_id=plan_id, review_on=body.review_on, note=body.note
    )
    return _plan(request, plan_id)


@router.post(
    "/plans/{plan_id}/closure", response={200: dict[str, Any], **ERRORS}, summary="帮扶计划结案"
)
def plans_close(request: HttpRequest, plan_id: int, body: CloseIn) -> dict[str, Any]:
    services.plan_close(
        actor=actor_of(request), plan_id=plan_id, outcome=body.outcome, note=body.note
    )
    return _plan(request, plan_id)


@router.post("/households/{household_id}/notes", response={201: dict[str, Any], **ERRORS},
             summary="在一户一档中记录工作日志")  # fmt: skip
def notes_create(
    request: HttpRequest, household_id: int, body: NoteIn
) -> tuple[int, dict[str, Any]]:
    note = services.note_add(actor=actor_of(request), household_id=household_id, text=body.text)
    return 201, {"id": note.pk, "household": household_id, "text": note.text,
                 "created_at": note.created_at.isoformat()}  # fmt: skip


# -- the inbox: follow-ups and life-event tasks --------------------------------------------------------


@router.get("/casework/inbox", response={200: dict[str, Any], **ERRORS}, summary="帮扶待办：数量")
def inbox(request: HttpRequest) -> dict[str, Any]:
    return selectors.inbox_counts(actor_of(request))


@router.get("/follow-ups", response={200: dict[str, Any], **ERRORS},
            summary="我的回访：7天内到期及已逾期（due=true），或本辖区全部")  # fmt: skip
def follow_ups_list(
    request: HttpRequest, due: bool = True, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    actor = actor_of(request)
    if due:
        qs = selectors.follow_ups_due(actor)
    else:
        qs = (
            access.follow_ups_visible(actor)
            .select_related("plan__household", "assigned_to")
            .order_by("-due_on")
        )
    return paginate(qs, page, page_size, selectors.follow_up_out)


@router.post("/follow-ups/{follow_up_id}/completion", response={200: dict[str, Any], **ERRORS},
             summary="完成回访（同时记录一次个案帮扶）")  # fmt: skip
def follow_ups_complete(request: HttpRequest, follow_up_id: int, body: ResultIn) -> dict[str, Any]:
    fu = services.follow_up_complete(
        actor=actor_of(request), follow_up_id=follow_up_id, result=body.result
    )
    return selectors.follow_up_out(fu)


@router.get("/casework/tasks", response={200: dict[str, Any], **ERRORS},
            summary="生活事件待办（死亡、迁出、年满年龄段、新增残疾、新增收入）")  # fmt: skip
def tasks_list(
    request: HttpRequest, open: bool = True, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    actor = actor_of(request)
    qs = selectors.tasks_open(actor) if open else access.tasks_visible(actor).select_related(
        "household", "person", "assigned_to").order_by("-event_on")  # fmt: skip
    return paginate(qs, page, page_size, selectors.task_out)


@router.post("/casework/tasks/{task_id}/completion", response={200: dict[str, Any], **ERRORS},
             summary="处理生活事件")  # fmt: skip
def tasks_complete(request: HttpRequest, task_id: int, body: ResultIn) -> dict[str, Any]:
    task = services.task_complete(actor=actor_of(request), task_id=task_id, result=body.result)
    return selectors.task_out(task)


# -- proactive discovery ----------------------------------------------------------------------------------


@router.get("/discovery/items", response={200: dict[str, Any], **ERRORS}, summary="主动发现线索")
def items_list(request: HttpRequest, status: str = "open", programme: str | None = None,
               household: int | None = None, page: int = 1, page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    actor = actor_of(request)
    if status not in ItemStatus.values:
        raise ApplicationError(
            Code.FIELD_INVALID, f"状态取值无效：{status}", {"field": "status"}, status=422
        )
    qs = access.discovery_items_visible(actor).filter(status=status).select_related("household")
    if programme:
        qs = qs.filter(programme=programme)
    if household is not None:
        qs = qs.filter(household_id=household)
    return paginate(
        qs.order_by("division_path", "household_id", "programme"),
        page,
        page_size,
        selectors.item_out,
    )


@router.post("/discovery/items/{item_id}/conversion", response={201: dict[str, Any], **ERRORS},
             summary="转为申请（先按当前登记信息重新核对）")  # fmt: skip
def items_convert(
    request: HttpRequest, item_id: int, body: ConvertIn
) -> tuple[int, dict[str, Any]]:
    item = discovery.discovery_convert(actor=actor_of(request), item_id=item_id, note=body.note)
    return 201, selectors.item_out(item)


@router.post("/discovery/items/{item_id}/dismissal", response={200: dict[str, Any], **ERRORS},
             summary="排除线索（情况未变化时不再出现）")  # fmt: skip
def items_dismiss(request: HttpRequest, item_id: int, body: ReasonIn) -> dict[str, Any]:
    item = discovery.discovery_dismiss(actor=actor_of(request), item_id=item_id, reason=body.reason)
    return selectors.item_out(item)


@router.get("/discovery/runs", response={200: dict[str, Any], **ERRORS}, summary="主动发现运行记录")
def runs_list(request: HttpRequest) -> dict[str, Any]:
    runs = selectors.latest_runs(actor_of(request), 20)
    return {"items": [selectors.run_out(r) for r in runs], "count": len(runs)}


@router.post("/discovery/runs", response={201: dict[str, Any], **ERRORS},
             summary="立即运行主动发现（本辖区；定时任务运行全库）")  # fmt: skip
def runs_create(request: HttpRequest, body: RunIn) -> tuple[int, dict[str, Any]]:
    run = discovery.discovery_run(actor_of(request), as_of=body.as_of, division=body.division)
    return 201, selectors.run_out(run)


@router.get("/discovery/report", response={200: dict[str, Any], **ERRORS},
            summary="主动发现统计：按街道的发现、转化、排除数")  # fmt: skip
def report(
    request: HttpRequest, start: str | None = None, end: str | None = None
) -> dict[str, Any]:
    a, b = _day(start, "start"), _day(end, "end")
    if a and b and a > b:
        raise ApplicationError(
            Code.PERIOD_INVALID, "开始日期不能晚于结束日期", {"field": "start"}, status=422
        )
    rows = discovery.report_by_street(actor_of(request), a, b)
    return {"items": rows, "count": len(rows)}
