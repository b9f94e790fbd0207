"""Record linkage: department feed records to registry persons, duplicate persons in the
registry, and people receiving one programme twice (一人多保). Pure: tables in, tables out,
no Django; the verification app reads the tables from the database and stores the links.

How a record finds its person (:func:`link`):

1. **Exact.** A record whose ID number, cleaned (full-width digits, spaces, a lower-case
   ``x``), is well formed with a correct check character (GB 11643, vectorised here; see
   :func:`valid_id_number`) and equal to a registry person's is linked to that person:
   ``method = "exact"``, probability 1. Nothing else is consulted: a valid number is the
   person's identity.
2. **Probabilistic.** Every other record — ID number missing, mistyped (a wrong check
   character, two digits swapped) or valid but unknown to the registry — is compared with
   registry persons by Splink (Fellegi–Sunter, DuckDB backend) on ID number, name,
   birth date, sex and address. Each comparison lands on a level (``同音``: same pinyin,
   ``相差一位``: one digit off …) with a partial match weight, log2(m/u); the weights add
   up, with the prior, to the pair's ``match_weight`` and ``match_probability``.
   Only candidate pairs sharing a blocking key are compared: birth date with the fuzzy
   pinyin of the name; the fuzzy pinyin with the address (for records without a birth
   date); the ID's first 14 characters (region and birth date: intact under a wrong check
   character or a swap among the last four); and the sorted digits of the ID's first 17
   characters with its last three (intact under any swap among the first 15). Every
   single adjacent transposition and every wrong check character keeps one ID key.
3. **Best candidate.** Each record keeps its best person (highest weight); a tie for the
   best weight is flagged for review. At or above ``auto_threshold`` the link is
   ``auto``; from ``review_threshold`` up it goes to the review queue (``review``); below,
   the record is left out.

The m and u probabilities are set here, not trained (see ``docs/adr/0014-…``): u from the
population (how often two different people share a birth date, a name, an address), m
from the error model of department feeds. The same weights therefore hold for a feed of
ten records and of ten million, for every run (deterministic), and a worker can be shown
why a link was made: ``weights`` and ``levels`` give each comparison's partial weight and
its level in words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import polars as pl
import splink.comparison_level_library as cll
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.comparison_library import CustomComparison

from minzheng.core.ids import CHECK_CHARS, WEIGHTS
from minzheng.verification.names import pinyin_keys

if TYPE_CHECKING:
    from splink.internals.comparison_creator import ComparisonCreator
    from splink.internals.comparison_level_creator import ComparisonLevelCreator

AUTO_THRESHOLD = 0.99
REVIEW_THRESHOLD = 0.80
# Two candidates whose weights differ by less than this are a tie.
TIE_TOLERANCE = 1e-9
# Prior of the link model: the share of feed records (among those that reach Splink) that
# refer to some registry person; a record-person pair then matches with probability
# LINK_MATCH_RATE / max(len(persons), MIN_POPULATION).
LINK_MATCH_RATE = 0.5
# Prior of the dedupe model: the share of registry persons entered twice; a pair of
# persons is then a duplicate with probability DUPLICATE_RATE / max(len(persons),
# MIN_POPULATION).
DUPLICATE_RATE = 0.01
# A feed describes a city's people, not only the registry's: however small the registry
# (a street's, a test's), a record is not taken to be one of its few persons more readily
# than one of a district's 100,000.
MIN_POPULATION = 100_000

RECORD_SCHEMA: dict[str, type[pl.DataType]] = {
    "record_id": pl.Int64,
    "id_number": pl.Utf8,
    "name": pl.Utf8,
    "birth_date": pl.Date,
    "sex": pl.Utf8,
    "address": pl.Utf8,
}
PERSON_SCHEMA: dict[str, type[pl.DataType]] = {
    "person_id": pl.Int64,
    "id_number": pl.Utf8,
    "name": pl.Utf8,
    "birth_date": pl.Date,
    "sex": pl.Utf8,
    "address": pl.Utf8,
}
RECIPIENT_SCHEMA: dict[str, type[pl.DataType]] = {
    "person_id": pl.Int64,
    "household_id": pl.Int64,
    "division_code": pl.Utf8,
    "programme": pl.Utf8,
    "line_id": pl.Int64,
}
COMPARISONS = ("id_number", "name", "birth_date", "sex", "address")
_WEIGHTS_DTYPE = pl.Struct({c: pl.Float64 for c in COMPARISONS})
_LEVELS_DTYPE = pl.Struct({c: pl.Utf8 for c in COMPARISONS})
LINK_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "record_id": pl.Int64,
    "person_id": pl.Int64,
    "method": pl.Utf8,
    "match_weight": pl.Float64,
    "match_probability": pl.Float64,
    "status": pl.Utf8,
    "weights": _WEIGHTS_DTYPE,
    "levels": _LEVELS_DTYPE,
}
DUPLICATE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "person_id_l": pl.Int64,
    "person_id_r": pl.Int64,
    "match_weight": pl.Float64,
    "match_probability": pl.Float64,
    "status": pl.Utf8,
    "weights": _WEIGHTS_DTYPE,
    "levels": _LEVELS_DTYPE,
}
DOUBLE_SCHEMA: dict[str, type[pl.DataType]] = {
    "programme": pl.Utf8,
    "reason": pl.Utf8,
    "person_id_a": pl.Int64,
    "household_id_a": pl.Int64,
    "division_code_a": pl.Utf8,
    "line_id_a": pl.Int64,
    "person_id_b": pl.Int64,
    "household_id_b": pl.Int64,
    "division_code_b": pl.Utf8,
    "line_id_b": pl.Int64,
    "cross_household": pl.Boolean,
    "cross_division": pl.Boolean,
    "match_probability": pl.Float64,
}

_ID_SHAPE = r"^\d{17}[\dX]$"
_SPLINK_COLUMNS = (
    "unique_id",
    "id_number",
    "id_valid",
    "id_first14",
    "id_anagram",
    "name",
    "name_pinyin",
    "name_fuzzy",
    "birth_date",
    "sex",
    "address",
)


# --- ID numbers -------------------------------------------------------------------------


def clean_id_number(column: str | pl.Expr) -> pl.Expr:
    """An ID number as a department may have typed it, cleaned: NFKC (full-width digits),
    no spaces, upper-case ``X``; empty becomes null.

    >>> pl.select(clean_id_number(pl.lit(" １１０１０５19491231002x "))).item()
    '11010519491231002X'
    """
    expr = pl.col(column) if isinstance(column, str) else column
    cleaned = expr.str.normalize("NFKC").str.replace_all(r"\s+", "").str.to_uppercase()
    return pl.when(cleaned.str.len_chars() > 0).then(cleaned)


def id_check_char(first17: str | pl.Expr) -> pl.Expr:
    """The GB 11643 check character of 17 digits, as :func:`minzheng.core.ids.check_char`
    computes it one number at a time; null where the input is not 17 digits.

    >>> pl.select(id_check_char(pl.lit("11010519491231002"))).item()
    'X'
    """
    expr = pl.col(first17) if isinstance(first17, str) else first17
    digits = [
        expr.str.slice(i, 1).cast(pl.Int32, strict=False) * weight
        for i, weight in enumerate(WEIGHTS)
    ]
    remainder = pl.sum_horizontal(digits) % 11
    check = remainder.replace_strict(
        list(range(11)), list(CHECK_CHARS), return_dtype=pl.Utf8, default=None
    )
    return pl.when(expr.str.contains(r"^\d{17}$")).then(check)


def valid_id_number(column: str | pl.Expr) -> pl.Expr:
    """True where a cleaned ID number has GB 11643's shape, a real birth date and the
    right check character (what :func:`minzheng.core.ids.parse_id_number` checks, less
    the region prefix and the plausible-age bounds: an exact link needs equality with a
    registry number, which passed ``parse_id_number`` when it was entered).

    >>> pl.select(valid_id_number(pl.lit("11010519491231002X"))).item()
    True
    >>> pl.select(valid_id_number(pl.lit("11010519491231020X"))).item()
    False
    """
    expr = pl.col(column) if isinstance(column, str) else column
    born = expr.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
    return (
        expr.str.contains(_ID_SHAPE)
        & born.is_not_null()
        & (expr.str.slice(17, 1) == id_check_char(expr.str.slice(0, 17)))
    ).fill_null(False)


def clean_address(column: str | pl.Expr) -> pl.Expr:
    """An address reduced to what distinguishes it: no city prefix, no 区/街道/社区/室
    words, building, unit and gate numbers joined by ``-``.

    >>> pl.select(clean_address(pl.lit("北京市西城区展览路街道北营房社区12号楼3单元201室"))).item()
    '西城展览路北营房12-3-201'
    >>> pl.select(clean_address(pl.lit("西城区展览路北营房社区 12-3-201"))).item()
    '西城展览路北营房12-3-201'
    """
    expr = pl.col(column) if isinstance(column, str) else column
    cleaned = (
        expr.str.normalize("NFKC")
        .str.replace_all(r"[\s,，、。.·()（）\[\]#]+", "")
        .str.replace(r"^北京市?", "")
        .str.replace(r"^市辖区", "")
        .str.replace(r"^(\p{Han}{2,3}?)[区县]", "${1}")
        .str.replace_all(r"街道办事处|街道|社区居委会|居委会|社区|村委会", "")
        .str.replace_all(r"号楼|号院|单元|栋|幢|号|[—–－]", "-")
        .str.replace_all(r"室$|层", "")
        .str.replace_all(r"-+", "-")
        .str.strip_chars("-")
    )
    return pl.when(cleaned.str.len_chars() > 0).then(cleaned)


# --- the model --------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """One level of a comparison: its Splink condition, its label, and m and u."""

    label: str
    creator: ComparisonLevelCreator
    m: float | None = None  # None for the null level: it carries no weight
    u: float | None = None

    @property
    def weight(self) -> float:
        """The partial match weight log2(m/u); 0 for the null level."""
        if self.m is None or self.u is None:
            return 0.0
        return math.log2(self.m / self.u)


@dataclass(frozen=True)
class Model:
    """Comparisons (in :data:`COMPARISONS` order) and the prior match rate of a task."""

    comparisons: dict[str, tuple[Level, ...]]
    match_rate: float


def _null(column: str) -> Level:
    return Level("缺失", cll.NullLevel(column))


def _levels_id(
    exact: tuple[float, float],
    one: tuple[float, float],
    two: tuple[float, float],
    *,
    two_needs_a_typo: bool,
) -> tuple[Level, ...]:
    """ID number levels. With ``two_needs_a_typo`` two edits count only when one of the
    numbers fails its check character: two valid numbers two edits apart (a sequence
    digit and the check character) are neighbours born the same day in the same place,
    not one person typed twice."""
    two_edits: ComparisonLevelCreator = cll.DamerauLevenshteinLevel("id_number", 2)
    if two_needs_a_typo:
        two_edits = cll.And(two_edits, cll.CustomLevel("NOT (id_valid_l AND id_valid_r)"))
    other_m = 1.0 - exact[0] - one[0] - two[0]
    other_u = 1.0 - exact[1] - one[1] - two[1]
    return (
        _null("id_number"),
        Level("一致", cll.ExactMatchLevel("id_number"), *exact),
        Level("相差一位或相邻颠倒", cll.DamerauLevenshteinLevel("id_number", 1), *one),
        Level("相差两处", two_edits, *two),
        Level("不同", cll.ElseLevel(), other_m, other_u),
    )


def _levels_name(exact_m: float, same_sound_m: float, near_sound_m: float) -> tuple[Level, ...]:
    # u: how often two different people share a name, a pinyin, a fuzzy pinyin. Sampling
    # the synthetic registry gives 6e-5, 2e-5, 2e-5; real names crowd more (张伟 alone is
    # ~2e-4 of the population), so 1e-4, 1e-4, 2e-4.
    exact_u, same_sound_u, near_sound_u = 1e-4, 1e-4, 2e-4
    return (
        _null("name"),
        Level("一致", cll.ExactMatchLevel("name"), exact_m, exact_u),
        Level("同音", cll.ExactMatchLevel("name_pinyin"), same_sound_m, same_sound_u),
        Level("近音", cll.ExactMatchLevel("name_fuzzy"), near_sound_m, near_sound_u),
        Level(
            "不同",
            cll.ElseLevel(),
            1.0 - exact_m - same_sound_m - near_sound_m,
            1.0 - exact_u - same_sound_u - near_sound_u,
        ),
    )


def _levels_birth_date() -> tuple[Level, ...]:
    # u: birth dates spread over ~90 years (1 in 33,000 share one); one typed digit off
    # or two digits swapped reaches ~30 other dates (sampled: 3.0e-5 and 9.0e-4).
    return (
        _null("birth_date"),
        Level("一致", cll.ExactMatchLevel("birth_date"), 0.97, 3.0e-5),
        Level("相差一位", cll.DamerauLevenshteinLevel("birth_date", 1), 0.02, 9.0e-4),
        Level("不同", cll.ElseLevel(), 0.01, 1.0 - 3.0e-5 - 9.0e-4),
    )


def _levels_sex() -> tuple[Level, ...]:
    return (
        _null("sex"),
        Level("一致", cll.ExactMatchLevel("sex"), 0.98, 0.5),
        Level("不同", cll.ElseLevel(), 0.02, 0.5),
    )


def _levels_address(exact_m: float, close_m: float, near_m: float) -> tuple[Level, ...]:
    # u: one household's address is shared by ~2.5 of a million people; a very similar
    # one (same building, same community) by ~4 in 10,000; a similar one (same street) by
    # ~1.5 in 100 (sampled: 2.5e-6, 4.1e-4, 1.5e-2).
    exact_u, close_u, near_u = 3e-6, 4e-4, 1.5e-2
    return (
        _null("address"),
        Level("一致", cll.ExactMatchLevel("address"), exact_m, exact_u),
        Level("高度相似", cll.JaroWinklerLevel("address", 0.92), close_m, close_u),
        Level("相似", cll.JaroWinklerLevel("address", 0.80), near_m, near_u),
        Level(
            "不同",
            cll.ElseLevel(),
            1.0 - exact_m - close_m - near_m,
            1.0 - exact_u - close_u - near_u,
        ),
    )


# Feed records that reach Splink: their ID number, if present, did not equal a registry
# number, so it is a typed one (one digit wrong or two swapped: Damerau–Levenshtein 1,
# which two valid numbers never are, since the check character catches every single
# substitution and adjacent transposition), rarely two edits, or someone else's. Names
# are typed by sound; addresses are abbreviated or have changed.
#
# The u of the near ID levels is taken among people born the same day, not among all
# pairs: an ID number holds its birth date, so a number one edit from a person's almost
# always comes with the same birth date, and the birth-date comparison has already
# counted that (~15 bits). Among same-day births a typed number lands one edit from a
# stranger's ~1 time in 10,000 (same region, a sequence one edit off), two edits ~1 in
# 1,000. With the unconditional u (~1e-7) a stranger's typed number one edit from a
# same-day neighbour's linked automatically despite a different name.
LINK_MODEL = Model(
    comparisons={
        "id_number": _levels_id(
            exact=(0.01, 1e-9), one=(0.93, 1e-4), two=(0.04, 1e-3), two_needs_a_typo=True
        ),
        "name": _levels_name(exact_m=0.88, same_sound_m=0.09, near_sound_m=0.02),
        "birth_date": _levels_birth_date(),
        "sex": _levels_sex(),
        "address": _levels_address(exact_m=0.50, close_m=0.25, near_m=0.15),
    },
    match_rate=LINK_MATCH_RATE,
)
# Registry persons entered twice: both numbers passed the check character, so they differ
# in two places or more (a sequence digit and its check character, a birth-date digit
# re-checked) or are two different numbers. u of two edits is again taken among same-day
# births (~7 in 10,000: same region, a sequence digit off), which also covers twins and
# siblings with consecutive sequence codes. The same person entered twice carries the
# same name or one that sounds alike (a different name: m 1e-4). The address weighs
# nothing here: the entries sought sit in different households (一人多保 across
# households), while one address is what twins and other family members share — among
# people born the same day with near numbers, a shared address marks twins, not one
# person twice.
DEDUPE_MODEL = Model(
    comparisons={
        "id_number": _levels_id(
            exact=(0.001, 1e-9), one=(0.001, 1e-9), two=(0.45, 7e-4), two_needs_a_typo=False
        ),
        "name": _levels_name(exact_m=0.90, same_sound_m=0.085, near_sound_m=0.0149),
        "birth_date": _levels_birth_date(),
        "sex": _levels_sex(),
        # m = u: shown to the worker, weighing nothing (see above)
        "address": _levels_address(exact_m=3e-6, close_m=4e-4, near_m=1.5e-2),
    },
    match_rate=DUPLICATE_RATE,
)


def _settings(
    model: Model, link_type: Literal["link_only", "dedupe_only"], n_persons: int
) -> SettingsCreator:
    comparisons: list[ComparisonCreator | dict[str, Any]] = []
    for name in COMPARISONS:
        levels: list[ComparisonLevelCreator | dict[str, Any]] = []
        for level in model.comparisons[name]:
            creator = level.creator
            if level.m is None:
                creator = creator.configure(is_null_level=True, label_for_charts=level.label)
            else:
                creator = creator.configure(
                    m_probability=level.m, u_probability=level.u, label_for_charts=level.label
                )
            levels.append(creator)
        comparisons.append(CustomComparison(levels, output_column_name=name))
    return SettingsCreator(
        link_type=link_type,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            block_on("birth_date", "name_fuzzy"),
            block_on("id_anagram"),
            block_on("id_first14"),
            block_on("name_fuzzy", "address"),
        ],
        probability_two_random_records_match=model.match_rate / max(n_persons, MIN_POPULATION),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )


# --- preparing the tables ---------------------------------------------------------------


def _check_columns(frame: pl.DataFrame, schema: dict[str, Any], what: str) -> None:
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks columns {', '.join(missing)}")


def _prepare(frame: pl.DataFrame, id_column: str) -> pl.DataFrame:
    """The columns Splink compares, with the blocking keys, one row per input row."""
    prepared = frame.select(
        pl.col(id_column).cast(pl.Int64).alias("unique_id"),
        clean_id_number("id_number").alias("id_number"),
        pl.col("name").str.normalize("NFKC").str.replace_all(r"\s+", "").alias("name"),
        pl.col("birth_date").cast(pl.Date).dt.to_string("%Y-%m-%d").alias("birth_date"),
        pl.col("sex").str.strip_chars().str.to_uppercase().alias("sex"),
        pl.col("address").cast(pl.Utf8),
    )
    # Households share addresses: clean each distinct one once.
    addresses = prepared.select(pl.col("address").unique()).with_columns(
        clean_address("address").alias("_clean")
    )
    prepared = (
        prepared.join(addresses, on="address", how="left", maintain_order="left", nulls_equal=True)
        .with_columns(pl.col("_clean").alias("address"))
        .drop("_clean")
        .hstack(pinyin_keys(prepared["name"]))
    )
    first17 = pl.col("id_number").str.slice(0, 17)
    return prepared.with_columns(
        valid_id_number("id_number").alias("id_valid"),
        pl.when(pl.col("id_number").str.len_chars() >= 14)
        .then(pl.col("id_number").str.slice(0, 14))
        .alias("id_first14"),
        pl.when(pl.col("id_number").str.len_chars() == 18)
        .then(
            # how many of each digit (the sorted digits, counted), then the last three
            pl.concat_str(
                [first17.str.count_matches(str(d)).cast(pl.Utf8) for d in range(10)]
                + [pl.col("id_number").str.slice(15, 3)],
                separator=".",
            )
        )
        .alias("id_anagram"),
        pl.when(pl.col("name_pinyin").str.len_chars() > 0).then(pl.col("name_pinyin")),
        pl.when(pl.col("name_fuzzy").str.len_chars() > 0).then(pl.col("name_fuzzy")),
    ).select(_SPLINK_COLUMNS)


def _splink_pairs(
    model: Model,
    tables: Sequence[pl.DataFrame],
    n_persons: int,
    threshold: float,
) -> pl.DataFrame:
    """Scored candidate pairs above ``threshold``: unique_id_l (the first table's side
    when linking two), unique_id_r, match_weight, match_probability, weights, levels."""
    link_type: Literal["link_only", "dedupe_only"] = (
        "link_only" if len(tables) == 2 else "dedupe_only"
    )
    connection = duckdb.connect(":memory:")
    try:
        db_api = DuckDBAPI(connection)
        names = ("records", "persons") if link_type == "link_only" else ("persons",)
        inputs = [
            db_api.register(table.to_arrow(), dataset_display_name=name)
            for table, name in zip(tables, names, strict=True)
        ]
        linker = Linker(
            inputs if len(inputs) > 1 else inputs[0],
            _settings(model, link_type, n_persons),
            log_level=None,
        )
        predictions = linker.inference.predict(
            threshold_match_probability=threshold, warning_mode="never"
        )
        scored = predictions.as_duckdbpyrelation().pl()
    finally:
        connection.close()
    if link_type == "link_only":
        # Splink orders the two sides by dataset name: put the records on the left.
        swap = pl.col("source_dataset_l") != "records"
        scored = scored.with_columns(
            pl.when(swap).then(pl.col("unique_id_r")).otherwise(pl.col("unique_id_l")).alias("l"),
            pl.when(swap).then(pl.col("unique_id_l")).otherwise(pl.col("unique_id_r")).alias("r"),
        ).with_columns(unique_id_l="l", unique_id_r="r")
    else:
        scored = scored.with_columns(
            pl.min_horizontal("unique_id_l", "unique_id_r").alias("unique_id_l"),
            pl.max_horizontal("unique_id_l", "unique_id_r").alias("unique_id_r"),
        )
    return scored.select(
        pl.col("unique_id_l").cast(pl.Int64),
        pl.col("unique_id_r").cast(pl.Int64),
        pl.col("match_weight").cast(pl.Float64),
        pl.col("match_probability").cast(pl.Float64),
        pl.struct([pl.col(f"mw_{c}").cast(pl.Float64).alias(c) for c in COMPARISONS]).alias(
            "weights"
        ),
        pl.struct([_level_label(model, c) for c in COMPARISONS]).alias("levels"),
    )


def _level_label(model: Model, comparison: str) -> pl.Expr:
    """The label of the level a pair fell on, from Splink's gamma (-1 for the null
    level, then 0 for the last level up to n - 1 for the first non-null one)."""
    levels = model.comparisons[comparison]
    graded = levels[1:]
    return (
        pl.col(f"gamma_{comparison}")
        .replace_strict(
            [-1, *range(len(graded))],
            [levels[0].label, *(level.label for level in reversed(graded))],
            default=None,
            return_dtype=pl.Utf8,
        )
        .alias(comparison)
    )


def _status(auto_threshold: float, tied: pl.Expr) -> pl.Expr:
    return (
        pl.when((pl.col("match_probability") >= auto_threshold) & ~tied)
        .then(pl.lit("auto"))
        .otherwise(pl.lit("review"))
        .alias("status")
    )


# --- the three tasks --------------------------------------------------------------------


def link(
    records: pl.DataFrame,
    persons: pl.DataFrame,
    *,
    auto_threshold: float = AUTO_THRESHOLD,
    review_threshold: float = REVIEW_THRESHOLD,
) -> pl.DataFrame:
    """Link each feed record to the registry person it most probably describes.

    ``records``: record_id, id_number (as typed, may be invalid or null), name,
    birth_date, sex ('M'/'F'), address. ``persons``: person_id, id_number (valid),
    name, birth_date, sex, address. Returns one row per record that found a person at
    ``review_threshold`` or above, sorted by record_id: record_id, person_id, method
    ('exact' | 'probabilistic'), match_weight (null for exact), match_probability (1.0
    for exact), status ('auto' | 'review'), and for probabilistic links each
    comparison's partial weight (``weights``) and level (``levels``).

    >>> from datetime import date
    >>> persons = pl.DataFrame({"person_id": [1, 2], "id_number": ["11010519491231002X",
    ...     "110102198001010012"], "name": ["张伟", "王芳"], "birth_date": [date(1949, 12, 31),
    ...     date(1980, 1, 1)], "sex": ["F", "M"], "address": ["西城区展览路1号", "东城区东四2号"]})
    >>> records = pl.DataFrame({"record_id": [10, 11, 12], "id_number": ["11010519491231002x",
    ...     "110102198001100012", None], "name": ["张伟", "汪芳", "李强"], "birth_date": [
    ...     date(1949, 12, 31), date(1980, 1, 1), date(1990, 5, 5)], "sex": ["F", "M", "M"],
    ...     "address": [None, "东城区东四2号", None]})
    >>> link(records, persons).select("record_id", "person_id", "method", "status").rows()
    [(10, 1, 'exact', 'auto'), (11, 2, 'probabilistic', 'auto')]
    """
    if not 0.0 < review_threshold <= auto_threshold <= 1.0:
        raise ValueError("need 0 < review_threshold <= auto_threshold <= 1")
    exact = link_exact(records, persons)
    rest = records.join(exact.select("record_id"), on="record_id", how="anti")
    frames = [exact]
    if rest.height and persons.height:
        pairs = _splink_pairs(
            LINK_MODEL,
            [_prepare(rest, "record_id"), _prepare(persons, "person_id")],
            persons.height,
            review_threshold,
        ).rename({"unique_id_l": "record_id", "unique_id_r": "person_id"})
        frames.append(_best_candidates(pairs, auto_threshold))
    return pl.concat(frames, how="vertical").sort("record_id").select(list(LINK_SCHEMA))


def link_exact(records: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """The exact step of :func:`link` alone: records whose cleaned ID number is valid and
    equal to a person's, in :func:`link`'s output layout (``method = "exact"``).

    Also what a linkage on ID numbers alone finds, for comparison.
    """
    _check_columns(records, RECORD_SCHEMA, "records")
    _check_columns(persons, PERSON_SCHEMA, "persons")
    record_ids = records.select(
        pl.col("record_id").cast(pl.Int64), clean_id_number("id_number").alias("_id")
    )
    person_ids = persons.select(
        pl.col("person_id").cast(pl.Int64), clean_id_number("id_number").alias("_id")
    ).filter(pl.col("_id").is_not_null())
    return (
        record_ids.filter(valid_id_number("_id"))
        .join(person_ids, on="_id", how="inner")
        .group_by("record_id")
        .agg(pl.col("person_id").min())
        .sort("record_id")
        .select(
            "record_id",
            "person_id",
            pl.lit("exact").alias("method"),
            pl.lit(None, pl.Float64).alias("match_weight"),
            pl.lit(1.0).alias("match_probability"),
            pl.lit("auto").alias("status"),
            pl.lit(None, _WEIGHTS_DTYPE).alias("weights"),
            pl.lit(None, _LEVELS_DTYPE).alias("levels"),
        )
    )


def _best_candidates(pairs: pl.DataFrame, auto_threshold: float) -> pl.DataFrame:
    ranked = pairs.sort(["record_id", "match_weight", "person_id"], descending=[False, True, False])
    best = ranked.group_by("record_id", maintain_order=True).agg(
        pl.all().first(),
        pl.col("match_weight").get(1, null_on_oob=True).alias("_second"),
    )
    tied = (pl.col("match_weight") - pl.col("_second") < TIE_TOLERANCE).fill_null(False)
    return best.select(
        "record_id",
        "person_id",
        pl.lit("probabilistic").alias("method"),
        "match_weight",
        "match_probability",
        _status(auto_threshold, tied),
        "weights",
        "levels",
    )


def find_duplicates(
    persons: pl.DataFrame,
    *,
    auto_threshold: float = AUTO_THRESHOLD,
    review_threshold: float = REVIEW_THRESHOLD,
) -> pl.DataFrame:
    """Pairs of registry persons that are probably the same human (Splink ``dedupe_only``).

    The registry's unique index rules out two persons with one ID number, so these are
    people entered twice under a mistyped or a second number. Returns person_id_l <
    person_id_r, match_weight, match_probability, status ('auto' at ``auto_threshold``
    or above, 'review' from ``review_threshold``), ``weights`` and ``levels``, sorted.
    """
    if not 0.0 < review_threshold <= auto_threshold <= 1.0:
        raise ValueError("need 0 < review_threshold <= auto_threshold <= 1")
    _check_columns(persons, PERSON_SCHEMA, "persons")
    if persons.height < 2:
        return pl.DataFrame(schema=DUPLICATE_SCHEMA)
    pairs = _splink_pairs(
        DEDUPE_MODEL, [_prepare(persons, "person_id")], persons.height, review_threshold
    )
    return (
        pairs.rename({"unique_id_l": "person_id_l", "unique_id_r": "person_id_r"})
        .with_columns(_status(auto_threshold, pl.lit(False)))
        .sort("person_id_l", "person_id_r")
        .select(list(DUPLICATE_SCHEMA))
    )


def double_recipients(
    recipients: pl.DataFrame, duplicates: pl.DataFrame | None = None
) -> pl.DataFrame:
    """People receiving one programme twice (一人多保), both sides shown.

    ``recipients``: one row per person on a programme line that is paying or approved —
    person_id, household_id, division_code, programme, line_id. ``duplicates``: pairs from
    :func:`find_duplicates` (person_id_l, person_id_r, match_probability). Returns one row
    per pair of lines of the same programme that reach one human: ``same_person`` (one
    person_id on two lines) or ``duplicate_person`` (two persons of a duplicate pair, each
    on a line), with ``cross_household`` / ``cross_division`` and, for duplicate pairs,
    the pair's match probability.

    >>> recipients = pl.DataFrame({"person_id": [1, 1, 2, 3], "household_id": [10, 20, 30, 40],
    ...     "division_code": ["110102", "110105", "110102", "110108"],
    ...     "programme": ["dibao"] * 4, "line_id": [100, 200, 300, 400]})
    >>> duplicates = pl.DataFrame({"person_id_l": [2], "person_id_r": [3],
    ...     "match_probability": [0.999]})
    >>> double_recipients(recipients, duplicates).select(
    ...     "reason", "person_id_a", "line_id_a", "person_id_b", "line_id_b").rows()
    [('same_person', 1, 100, 1, 200), ('duplicate_person', 2, 300, 3, 400)]
    """
    _check_columns(recipients, RECIPIENT_SCHEMA, "recipients")
    lines = recipients.select([pl.col(c).cast(t) for c, t in RECIPIENT_SCHEMA.items()]).unique()
    side_a = lines.rename({c: f"{c}_a" for c in RECIPIENT_SCHEMA if c != "programme"})
    side_b = lines.rename({c: f"{c}_b" for c in RECIPIENT_SCHEMA if c != "programme"})

    same = (
        side_a.join(
            side_b, left_on=["programme", "person_id_a"], right_on=["programme", "person_id_b"]
        )
        .filter(pl.col("line_id_a") < pl.col("line_id_b"))
        .with_columns(
            pl.col("person_id_a").alias("person_id_b"),
            pl.lit("same_person").alias("reason"),
            pl.lit(None, pl.Float64).alias("match_probability"),
        )
    )
    frames = [same]
    if duplicates is not None and duplicates.height:
        pairs = duplicates.select(
            pl.min_horizontal("person_id_l", "person_id_r").cast(pl.Int64).alias("person_id_a"),
            pl.max_horizontal("person_id_l", "person_id_r").cast(pl.Int64).alias("person_id_b"),
            pl.col("match_probability").cast(pl.Float64),
        ).filter(pl.col("person_id_a") != pl.col("person_id_b"))
        linked = (
            pairs.join(side_a, on="person_id_a")
            .join(side_b, on=["person_id_b", "programme"])
            .with_columns(pl.lit("duplicate_person").alias("reason"))
        )
        frames.append(linked)
    columns = [c for c in DOUBLE_SCHEMA if c not in ("cross_household", "cross_division")]
    return (
        pl.concat([f.select(columns) for f in frames], how="vertical")
        .with_columns(
            (pl.col("household_id_a") != pl.col("household_id_b")).alias("cross_household"),
            (pl.col("division_code_a") != pl.col("division_code_b")).alias("cross_division"),
        )
        .unique()
        .sort("programme", "person_id_a", "line_id_a", "person_id_b", "line_id_b")
        .select(list(DOUBLE_SCHEMA))
    )
