"""Reads of the poverty index: the ranking of a division's households and one household's
explanation. Every read starts from ``accounts.access``; the index itself comes from
``programmes.targeting`` (this app may not import the rules engine).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from minzheng.accounts import access
from minzheng.accounts.services import access_log_record
from minzheng.applications.models import OPEN_STATES, ApplicationLine
from minzheng.applications.selectors import mask_name
from minzheng.core.errors import ApplicationError, PermissionDenied
from minzheng.core.pagination import check_page
from minzheng.core.text import clean_query_text
from minzheng.programmes.eligibility import programme_labels
from minzheng.programmes.targeting import (
    dimension_labels,
    poverty_index_explanation,
    registry_poverty_index,
)
from minzheng.registry.models import Division, Household, Person
from minzheng.registry.vocab import PersonState, Relation
from minzheng.targeting.errors import (
    NO_MEMBERS_MESSAGE,
    READERS_ONLY_MESSAGE,
    TargetingErrorCode,
)

if TYPE_CHECKING:
    from minzheng.accounts.models import User

STREET_DIGITS = 9
BIN_WIDTH = 10
EXPLANATION_REASON = "查看贫困指数说明"
# what one ranked household carries before a page adds names and applications
INFO_SCHEMA = {
    "household_id": pl.Int64,
    "number": pl.Utf8,
    "division_code": pl.Utf8,
    "division_name": pl.Utf8,
}


def ensure_reader(actor: User) -> None:
    """Staff who may read the registry in their division; everyone else is refused."""
    try:
        access.ensure_registry_reader(actor)
    except PermissionDenied:
        raise PermissionDenied(TargetingErrorCode.READERS_ONLY, READERS_ONLY_MESSAGE) from None


@dataclass(frozen=True)
class Ranking:
    """Households of ``division`` ranked by poverty index, highest first: ``rank`` in the
    whole division (the district, or whatever was chosen) and ``street_rank`` in the
    household's street; ties share a rank (1, 2, 2, 4)."""

    as_of: date
    division: Division
    applicants_only: bool
    rows: pl.DataFrame
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.rows.height

    def histogram(self) -> list[dict[str, Any]]:
        """How many households fall in each band of 10 index points (100 in the last)."""
        bins = self.rows.select(
            (pl.col("index") // BIN_WIDTH).clip(0, 100 // BIN_WIDTH - 1).cast(pl.Int64).alias("b")
        )
        counts = dict(bins.group_by("b").len().iter_rows())
        return [
            {"lower": b * BIN_WIDTH, "upper": (b + 1) * BIN_WIDTH, "count": int(counts.get(b, 0))}
            for b in range(100 // BIN_WIDTH)
        ]

    def streets(self) -> list[dict[str, Any]]:
        """Per street: households ranked, mean and highest index, households suggested
        temporary assistance and its total (yuan)."""
        if self.rows.is_empty():
            return []
        grouped = (
            self.rows.group_by("street_code", "street_name")
            .agg(
                pl.len().alias("households"),
                pl.col("index").mean().round(2).alias("mean_index"),
                pl.col("index").max().alias("max_index"),
                (pl.col("assistance") > 0).sum().alias("assisted"),
                pl.col("assistance").sum().round(2).alias("assistance"),
            )
            .sort("street_code", nulls_last=True)
        )
        return [
            {**r, "assistance": f"{r['assistance']:.2f}"} for r in grouped.iter_rows(named=True)
        ]


def _households(actor: User, node: Division, applicants_only: bool) -> pl.DataFrame:
    households = access.households_visible(actor).filter(division__path__startswith=node.path)
    if applicants_only:
        open_lines = ApplicationLine.objects.filter(state__in=OPEN_STATES)
        households = households.filter(pk__in=open_lines.values("household_id"))
    rows = list(households.values_list("pk", "number", "division__code", "division__name"))
    return pl.DataFrame(rows, schema=INFO_SCHEMA, orient="row")


def ranking(
    actor: User,
    *,
    as_of: date,
    division_code: str | None = None,
    applicants_only: bool = True,
) -> Ranking:
    """The households in the actor's jurisdiction under ``division_code`` (default: the
    actor's own division) with an open application line (``applicants_only``) or all of
    them, ranked by poverty index as of ``as_of``."""
    ensure_reader(actor)
    division_code = clean_query_text(division_code, "division")
    node = access.access_division_by_code(actor, division_code) if division_code else actor.division
    assert node is not None  # a registry reader has a division
    info = _households(actor, node, applicants_only)
    if applicants_only:
        ids = info.get_column("household_id").to_list()
        index = registry_poverty_index(actor, as_of, household_ids=ids)
    else:  # the division's subtree: no list of every id in the query
        index = registry_poverty_index(actor, as_of, division=node.code)
    rows = info.join(index, on="household_id", how="inner")
    code = pl.col("division_code")
    street = pl.when(code.str.len_chars() >= STREET_DIGITS).then(code.str.slice(0, STREET_DIGITS))
    rows = rows.with_columns(street.alias("street_code"))
    codes = set(rows.get_column("street_code").drop_nulls().unique().to_list())
    names = dict(Division.objects.filter(code__in=codes).values_list("code", "name"))
    rank = pl.col("index").rank("min", descending=True).cast(pl.Int64)
    rows = (
        rows.with_columns(
            pl.col("street_code")
            .replace_strict(names, default=None, return_dtype=pl.Utf8)
            .alias("street_name")
        )
        .sort(["index", "household_id"], descending=[True, False])
        .with_columns(rank.alias("rank"), rank.over("street_code").alias("street_rank"))
    )
    return Ranking(as_of, node, applicants_only, rows, dimension_labels())


def ranking_page(ranking: Ranking, page: int, page_size: int) -> list[dict[str, Any]]:
    """One page of the ranking, each household with its head's masked name and, for an
    applicant, the programmes of its open application lines."""
    check_page(page, page_size)
    part = ranking.rows.slice((page - 1) * page_size, page_size)
    ids = part.get_column("household_id").to_list()
    heads = dict(
        Person.objects.filter(household_id__in=ids, relation=Relation.HEAD,
                              state=PersonState.ACTIVE).values_list("household_id", "name")
    )  # fmt: skip
    labels = programme_labels()
    open_lines: dict[int, list[str]] = {}
    for household_id, programme in (
        ApplicationLine.objects.filter(household_id__in=ids, state__in=OPEN_STATES)
        .order_by("pk")
        .values_list("household_id", "programme")
    ):
        label = labels.get(programme, (programme,))[0]
        open_lines.setdefault(household_id, []).append(label)
    keys = list(ranking.labels)
    items = []
    for r in part.iter_rows(named=True):
        top = r["top_dimension"]
        items.append(
            {
                "rank": r["rank"],
                "street_rank": r["street_rank"],
                "household_id": r["household_id"],
                "number": r["number"],
                "head_name_masked": mask_name(heads.get(r["household_id"], "")),
                "division": {"code": r["division_code"], "name": r["division_name"]},
                "street": (
                    {"code": r["street_code"], "name": r["street_name"] or r["street_code"]}
                    if r["street_code"]
                    else None
                ),
                "index": r["index"],
                "top_dimension": {"key": top, "label": ranking.labels[top]} if top else None,
                "scores": {k: round(r[f"{k}_score"], 2) for k in keys},
                "assistance": f"{r['assistance']:.2f}",
                "assistance_multiple": r["assistance_multiple"],
                "programmes": open_lines.get(r["household_id"], []),
            }
        )
    return items


def household_poverty_index(
    actor: User, household_id: int, *, as_of: date, channel: str = "web"
) -> tuple[Household, dict[str, Any]]:
    """One household's index dimension by dimension (``programmes.targeting``); opening
    it is logged like opening the household's file."""
    ensure_reader(actor)
    household = access.access_household_by_id(actor, household_id)
    explanation = poverty_index_explanation(actor, household.pk, as_of)
    if explanation is None:
        raise ApplicationError(TargetingErrorCode.NO_MEMBERS, NO_MEMBERS_MESSAGE, status=422)
    members = list(household.members.filter(state=PersonState.ACTIVE).order_by("pk"))
    access_log_record(actor=actor, household=household, persons=members,
                      reason=EXPLANATION_REASON, channel=channel)  # fmt: skip
    labels = dimension_labels()
    top = explanation["top_dimension"]
    explanation["top_dimension"] = {"key": top, "label": labels[top]} if top else None
    explanation["number"] = household.number
    explanation["division"] = {"code": household.division.code, "name": household.division.name}
    return household, explanation
