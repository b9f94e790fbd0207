"""The star-rating criteria of ``policy/eldercare/ratings.yaml``: the parts scored, their
maximum points, and the total and per-part share each star needs.

Pure: reads the YAML once, imports no Django.

>>> rules = rules_as_of(date(2026, 12, 1))
>>> [(c.code, c.max) for c in rules.criteria][:2], rules.max_total
([('environment', Decimal('120')), ('facilities', Decimal('130'))], Decimal('1000'))
>>> scores = {"environment": Decimal(110), "facilities": Decimal(120),
...           "management": Decimal(140), "service": Decimal(560)}
>>> rules.total(scores), rules.stars_for(scores)
(Decimal('930'), 5)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class Criterion:
    code: str
    label: str
    max: Decimal


@dataclass(frozen=True)
class Level:
    stars: int
    min_total: Decimal
    min_part_share: Decimal


@dataclass(frozen=True)
class RatingRules:
    """The criteria in force from ``effective``."""

    effective: date
    criteria: tuple[Criterion, ...]
    levels: tuple[Level, ...]  # highest first
    rated_kinds: frozenset[str]
    source: str
    confidence: str

    @property
    def max_total(self) -> Decimal:
        return sum((c.max for c in self.criteria), Decimal(0))

    def criterion(self, code: str) -> Criterion | None:
        return next((c for c in self.criteria if c.code == code), None)

    def total(self, scores: Mapping[str, Decimal]) -> Decimal:
        return sum((scores[c.code] for c in self.criteria), Decimal(0))

    def meets(self, level: Level, scores: Mapping[str, Decimal]) -> bool:
        """The total reaches the level's, and every part its share of that part's maximum."""
        return self.total(scores) >= level.min_total and all(
            scores[c.code] >= c.max * level.min_part_share for c in self.criteria
        )

    def stars_for(self, scores: Mapping[str, Decimal]) -> int:
        """The highest level met, or 0 (no star)."""
        return next((lv.stars for lv in self.levels if self.meets(lv, scores)), 0)


@cache
def _document() -> dict[str, Any]:
    text = resources.files("minzheng.policy").joinpath("eldercare", "ratings.yaml")
    data = yaml.safe_load(text.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _parse(effective: date, entry: dict[str, Any], doc: dict[str, Any]) -> RatingRules:
    value = entry["value"]
    criteria = tuple(
        Criterion(code=str(c["code"]), label=str(c["label"]), max=Decimal(str(c["max"])))
        for c in value["criteria"]
    )
    levels = tuple(
        sorted(
            (
                Level(
                    stars=int(lv["stars"]),
                    min_total=Decimal(str(lv["min_total"])),
                    min_part_share=Decimal(str(lv["min_part_share"])),
                )
                for lv in value["stars"]
            ),
            key=lambda lv: -lv.stars,
        )
    )
    return RatingRules(
        effective=effective,
        criteria=criteria,
        levels=levels,
        rated_kinds=frozenset(doc.get("rated_kinds", [])),
        source=str(entry.get("source") or doc.get("source", "")),
        confidence=str(entry.get("confidence") or doc.get("status", "")),
    )


@cache
def all_rules() -> tuple[RatingRules, ...]:
    """Every dated version, oldest first."""
    doc = _document()
    versions = [(date.fromisoformat(str(k)), v) for k, v in doc["values"].items()]
    return tuple(_parse(day, entry, doc) for day, entry in sorted(versions, key=lambda x: x[0]))


def rules_as_of(day: date) -> RatingRules:
    """The criteria in force on ``day``; ``LookupError`` before the first version."""
    found = [r for r in all_rules() if r.effective <= day]
    if not found:
        raise LookupError(f"no rating criteria in force on {day.isoformat()}")
    return found[-1]


def rated_kinds() -> frozenset[str]:
    """The facility kinds that are rated (the same for every version)."""
    return frozenset(_document().get("rated_kinds", []))
