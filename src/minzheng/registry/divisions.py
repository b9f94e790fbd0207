"""Beijing's divisions (GB/T 2260) from ``policy/divisions.yaml``; loading is idempotent."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

import yaml

CITY_CODE = "110000"
CITY_NAME = "北京市"


def beijing_divisions() -> list[tuple[str, str, str, str | None]]:
    """(code, name, level, parent code) for the city, its 16 districts and Xicheng's streets."""
    text = resources.files("minzheng.policy").joinpath("divisions.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    rows: list[tuple[str, str, str, str | None]] = [(CITY_CODE, CITY_NAME, "city", None)]
    rows += [(str(code), name, "district", CITY_CODE) for code, name in data["districts"].items()]
    rows += [
        (str(code), name, "street", str(code)[:6]) for code, name in data["xicheng_streets"].items()
    ]
    return rows


def load_divisions(division_model: Any, rows: Sequence[tuple[str, str, str, str | None]]) -> int:
    """Insert the rows that are missing (parents first); returns how many were added.

    Takes the model class so that data migrations can pass their historical model.
    """
    existing = {d.code: d for d in division_model.objects.all()}
    added = 0
    for code, name, level, parent_code in rows:
        if code in existing:
            continue
        parent = existing.get(parent_code) if parent_code else None
        path = f"{parent.path if parent else ''}{code}/"
        node = division_model.objects.create(
            code=code, name=name, level=level, parent=parent, path=path
        )
        existing[code] = node
        added += 1
    return added
