"""/api/v1/evaluations (household documents → results) and /api/v1/programmes."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from minzheng.core.errors import ApplicationError
from minzheng.core.schemas import ErrorOut
from minzheng.programmes import schemas, services
from minzheng.rules.evaluate import default_evaluator

router = Router(tags=["救助项目 programmes"])


class ProgrammeOut(Schema):
    id: str
    label: str
    label_en: str
    entity: str
    unit: str
    reference: str


@router.get("/programmes", response=list[ProgrammeOut], summary="救助项目目录")
def programmes_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"id": p.id, "label": p.label, "label_en": p.label_en, "entity": p.entity,
         "unit": p.unit, "reference": p.reference}
        for p in default_evaluator().catalogue
    ]  # fmt: skip


def _flag(raw: Any, name: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw is None:
        return False
    if isinstance(raw, str) and raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(raw, str) and raw.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ApplicationError("field.bool_parsing", f"{name} 应为 true 或 false", status=422)


def _as_of(raw: Any) -> date | None:
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise ApplicationError(
            "field.date_parsing", f"as_of 日期格式应为 YYYY-MM-DD：{raw!r}", status=422
        ) from None


@router.post(
    "/evaluations",
    response={200: Any, 400: ErrorOut, 422: ErrorOut},
    summary="评估家庭可享受的救助项目",
    description=(
        '请求体为一个家庭文档、家庭文档列表，或 `{"households": [...], "as_of", '
        '"programmes", "explain", "skip_invalid"}`。一个文档返回一个结果，列表返回列表，'
        '包装形式返回 `{"results", "skipped"}`。查询参数 `as_of`、`programme`（可重复）、'
        "`explain` 与包装字段等效。任何一户校验未通过即整批不评估（422，逐户逐字段列出），"
        "除非 `skip_invalid`。"
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schemas.REQUEST_SCHEMA_REF}},
        },
        "responses": {
            "200": {
                "description": "评估结果",
                "content": {"application/json": {"schema": schemas.RESPONSE_SCHEMA_REF}},
            }
        },
    },
)
def evaluations_create(request: HttpRequest) -> Any:
    try:
        body = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApplicationError("json_invalid", "请求体不是有效的 JSON", status=400) from None
    query = request.GET
    envelope = isinstance(body, dict) and "households" in body
    if envelope:
        unknown = set(body) - {"households", "as_of", "programmes", "explain", "skip_invalid"}
        if unknown:
            raise ApplicationError(
                "field.extra_forbidden", f"不认识的字段：{', '.join(sorted(unknown))}",
                {"fields": sorted(unknown)}, status=422,
            )  # fmt: skip
        documents = body.get("households")
        if not isinstance(documents, list):
            raise ApplicationError(
                "field.list_type", "households 应为家庭文档列表", {"field": "households"},
                status=422,
            )  # fmt: skip
    elif isinstance(body, list):
        documents = body
    elif isinstance(body, dict):
        documents = [body]
    else:
        raise ApplicationError(
            "evaluation.body", "请求体应为家庭文档、文档列表或 {households: [...]}", status=422
        )
    options = body if envelope else {}
    programmes = options.get("programmes") or query.getlist("programme") or None
    if programmes is not None and (
        not isinstance(programmes, list) or not all(isinstance(x, str) for x in programmes)
    ):
        raise ApplicationError("field.list_type", "programmes 应为项目编号列表", status=422)
    outcome = services.evaluate_documents(
        documents,
        as_of=_as_of(options.get("as_of", query.get("as_of"))),
        programmes=programmes,
        explain=_flag(options.get("explain", query.get("explain")), "explain"),
        skip_invalid=_flag(options.get("skip_invalid", query.get("skip_invalid")), "skip_invalid"),
    )
    if envelope:
        return {"results": outcome.results, "skipped": outcome.skipped}
    if isinstance(body, list):
        return outcome.results
    return outcome.results[0]
