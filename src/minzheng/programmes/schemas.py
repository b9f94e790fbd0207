"""JSON Schemas of the evaluation interface, published in OpenAPI and in ``schemas/``.

The household document's schema comes from the registry's pydantic model (the one that
validates it); the result's from the models below. ``python -m minzheng.programmes.schemas``
rewrites ``schemas/*.schema.json``; a test fails when they are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from minzheng.registry.documents import HouseholdDoc
from minzheng.rules.programmes import PROGRAMME_IDS

Money = Field(pattern=r"^\d+\.\d{2}$", examples=["1450.00"])


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Explained(_Out):
    label: str
    value: Any
    unit: str


class ParameterUsed(_Out):
    label: str
    value: Any
    unit: str
    since: str = Field(description="该取值的生效日期")
    source: str = Field(description="出处（文件名称、年份）或待核实说明")


class MemberResult(_Out):
    member: str
    eligible: bool
    amount: str = Money
    reasons: list[str]
    variables: dict[str, Explained] | None = None


class ProgrammeResult(_Out):
    label: str
    eligible: bool
    amount: str = Field(pattern=r"^\d+\.\d{2}$", description="元，两位小数；按 unit 计")
    unit: Literal["yuan/month", "yuan/year", "yuan", "eligibility"]
    reasons: list[str] = Field(description="每项条件的中文说明，可向申请人宣读")
    members: list[MemberResult] | None = Field(default=None, description="按人发放的项目")
    variables: dict[str, Explained] | None = Field(default=None, description="explain 时")
    parameters: dict[str, ParameterUsed] | None = Field(default=None, description="explain 时")


class EvaluationResult(_Out):
    household: str
    as_of: str = Field(description="YYYY-MM-DD")
    programmes: dict[str, ProgrammeResult] = Field(
        description="项目编号：" + ", ".join(PROGRAMME_IDS)
    )


class EvaluationRequest(_Out):
    households: list[HouseholdDoc]
    as_of: str | None = Field(default=None, description="评估日期 YYYY-MM-DD，缺省为今天")
    programmes: list[str] | None = Field(default=None, description="项目编号；缺省为全部")
    explain: bool = False
    skip_invalid: bool = False


class EvaluationBatch(_Out):
    results: list[EvaluationResult]
    skipped: list[dict[str, Any]]


def inline(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every ``#/$defs/…`` reference replaced by its definition, so that it
    can sit inside an OpenAPI operation."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.split("/")[-1]])
            return {k: walk(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


def household_schema() -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Minzheng household document", **HouseholdDoc.model_json_schema(
                mode="validation")}  # fmt: skip


def result_schema() -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Minzheng evaluation result", **EvaluationResult.model_json_schema()}  # fmt: skip


REQUEST_SCHEMA_REF: dict[str, Any] = {
    "oneOf": [
        inline(HouseholdDoc.model_json_schema()),
        {"type": "array", "items": inline(HouseholdDoc.model_json_schema())},
        inline(EvaluationRequest.model_json_schema()),
    ]
}
RESPONSE_SCHEMA_REF: dict[str, Any] = {
    "oneOf": [
        inline(EvaluationResult.model_json_schema()),
        {"type": "array", "items": inline(EvaluationResult.model_json_schema())},
        inline(EvaluationBatch.model_json_schema()),
    ]
}

FILES = {
    "household-document.schema.json": household_schema,
    "evaluation-result.schema.json": result_schema,
}


def render(name: str) -> str:
    return json.dumps(FILES[name](), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (folder / name).write_text(render(name), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas"))
