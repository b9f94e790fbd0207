"""/api/v1/elders: residents aged 60+ in the jurisdiction, their care assessment, devices
and age-related entitlements. A thin skin over ``eldercare.elders``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Router
from pydantic import Field

from minzheng.accounts.auth import actor_of
from minzheng.core.pagination import paginate
from minzheng.core.schemas import Strict, error_responses

from . import elders

router = Router(tags=["居家养老 eldercare"])

ERRORS = error_responses(401, 403, 404, 409, 422)


class ProfileIn(Strict):
    care_level: str = Field(description="照护需求：self_care 自理、partial 部分失能、full 完全失能")
    assessed_on: date | str = Field(description="评估日期 YYYY-MM-DD（不晚于今天）")
    assessor: str = Field(description="评估人或评估机构")
    living: str = Field(description="居住状况：alone 独居、empty_nest 空巢、with_family 与家人同住")
    risk: str | None = Field(None, description="风险等级：low、medium、high（缺省 low）")
    emergency_contact: str = ""
    emergency_phone: str = ""


def _file_out(f: elders.ElderFile) -> dict[str, Any]:
    p = f.profile
    return {
        **elders.elder_out(f.person),
        "age": f.age,
        "profile": None if p is None else {
            "care_level": p.care_level, "care_level_label": p.get_care_level_display(),
            "assessed_on": p.assessed_on.isoformat(), "assessor": p.assessor,
            "living": p.living, "living_label": p.get_living_display(), "risk": p.risk,
            "emergency_contact": p.emergency_contact, "emergency_phone": p.emergency_phone,
        },
        "devices": [
            {"id": d.pk, "kind": d.kind, "kind_label": d.get_kind_display(),
             "installed_on": d.installed_on.isoformat(), "serial": d.serial, "status": d.status,
             "supplier": d.supplier.name if d.supplier else None}
            for d in f.devices
        ],
        "entitlements": [
            {"id": e.pk, "programme": e.programme, "amount": f"{e.amount:.2f}", "status": e.status}
            for e in f.entitlements
        ],
        "engine": {k: {"eligible": v.get("eligible"), "amount": v.get("amount"), "unit": v.get("unit"),
                       "reasons": v.get("reasons", [])} for k, v in f.engine.items()},
    }  # fmt: skip


@router.get(
    "/elders", response={200: dict[str, Any], **ERRORS}, summary="老年人（60周岁以上在册居民）"
)
def elders_list(request: HttpRequest, living: str | None = None, care_level: str | None = None,
                risk: str | None = None, name: str | None = None, page: int = 1,
                page_size: int = 50) -> dict[str, Any]:  # fmt: skip
    actor = actor_of(request)
    elders.ensure_staff(actor)
    qs = elders.elders_list(actor, living=living, care_level=care_level, risk=risk, name=name)
    return paginate(qs, page, page_size, elders.elder_out)


@router.get("/elders/{person_id}", response={200: dict[str, Any], **ERRORS},
            summary="老年人档案：照护评估、设备、高龄津贴等待遇（查阅留痕）")  # fmt: skip
def elders_get(request: HttpRequest, person_id: int) -> dict[str, Any]:
    return _file_out(elders.elder_file(actor_of(request), person_id, channel="api"))


@router.put("/elders/{person_id}/profile", response={200: dict[str, Any], **ERRORS},
            summary="录入照护需求评估与居住状况")  # fmt: skip
def elders_profile(request: HttpRequest, person_id: int, body: ProfileIn) -> dict[str, Any]:
    actor = actor_of(request)
    elders.profile_set(actor, person_id, body.model_dump())
    return _file_out(elders.elder_file(actor, person_id, channel="api"))
