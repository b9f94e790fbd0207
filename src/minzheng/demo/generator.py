"""A synthetic Xicheng-like district, vectorised with NumPy and Polars.

The same generator feeds ``minzheng demo`` (through the household documents and the
registry's services), the tests, and the benchmarks at 1 M and 10 M households, where
it writes household documents straight to ``.jsonl`` or ``.parquet`` without a database.
Deterministic for a seed; ages are taken at :data:`REFERENCE_DATE` so that a seed gives
the same people whatever day it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

REFERENCE_DATE = date(2025, 7, 1)
DISTRICT = "110102"
STREETS = [
    "110102001",
    "110102003",
    "110102007",
    "110102009",
    "110102010",
    "110102011",
    "110102012",
    "110102013",
    "110102014",
    "110102015",
    "110102016",
    "110102017",
    "110102018",
    "110102019",
    "110102020",
]
_STEMS = [
    "百万庄",
    "车公庄",
    "三里河",
    "南礼士路",
    "北营房",
    "新华里",
    "阜外",
    "展览路",
    "德胜里",
    "六铺炕",
    "黄寺",
    "西便门",
    "真武庙",
    "复兴门",
    "二七剧场",
    "木樨地",
    "白云观",
    "新街口",
    "赵登禹",
    "西四北",
    "福绥境",
    "大栅栏",
    "前门",
    "椿树",
    "琉璃厂",
    "虎坊路",
    "陶然亭",
    "太平街",
    "白纸坊",
    "右安门",
    "南线阁",
    "牛街",
    "广内",
    "长椿街",
    "报国寺",
    "西单",
    "二龙路",
    "丰盛",
    "砖塔",
    "新文化街",
    "天桥",
    "永安路",
    "福长街",
    "鸭子桥",
    "菜园街",
    "红莲",
    "马连道",
    "湾子",
    "三义里",
]
_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红玉梅春海波宁鑫淑珍凤")
_REGIONS_BEIJING = ["110102", "110104", "110101", "110105", "110106", "110108"]
_REGIONS_OTHER = ["130102", "370202", "410105", "340104", "210102", "510104", "420106"]
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = np.array(list("10X98765432"))
INCOME_TYPES = ("wage", "pension", "business", "support_received", "unemployment_benefit")
STATUS_NAMES = (
    "serious_illness",
    "student",
    "lives_alone",
    "empty_nest",
    "orphan",
    "no_work_capacity",
)
DISABILITY_KINDS = ("visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple")


@dataclass(frozen=True)
class Community:
    code: str
    name: str
    street: str


def communities(seed: int = 0) -> list[Community]:
    """3–8 synthetic communities per Xicheng street, codes street + 3 digits."""
    rng = np.random.default_rng(10_000 + seed)
    out: list[Community] = []
    stems = list(_STEMS)
    rng.shuffle(stems)
    k = 0
    for street in STREETS:
        for j in range(int(rng.integers(3, 9))):
            stem = stems[k % len(stems)]
            suffix = "" if k < len(stems) else ("东" if k // len(stems) == 1 else "西")
            out.append(Community(f"{street}{j + 1:03d}", f"{stem}{suffix}社区", street))
            k += 1
    return out


def _id_numbers(
    rng: np.random.Generator, region: np.ndarray, born: np.ndarray, male: np.ndarray
) -> np.ndarray:
    """Valid GB 11643 numbers, unique within the batch, by integer arithmetic."""
    year = born.astype("datetime64[Y]").astype(np.int64) + 1970
    month_start = born.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    day = (born - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    stem = region.astype(np.int64) * 10**11 + year * 10**7 + month * 10**5 + day * 10**3
    sex_bit = np.where(male, 1, 0)
    seq = rng.integers(0, 500, len(stem)) * 2 + sex_bit
    for _ in range(50):
        key = stem + seq
        _, first = np.unique(key, return_index=True)
        redo = np.ones(len(key), dtype=bool)
        redo[first] = False
        if not redo.any():
            break
        seq[redo] = rng.integers(0, 500, int(redo.sum())) * 2 + sex_bit[redo]
    else:
        raise RuntimeError("could not draw unique ID numbers")
    key = stem + seq
    total = np.zeros(len(key), dtype=np.int64)
    for i, weight in enumerate(_WEIGHTS):
        total += (key // 10 ** (16 - i)) % 10 * weight
    check = pl.Series(_CHECK[total % 11])
    return (pl.Series(key).cast(pl.Utf8).str.zfill(17) + check).to_numpy()


def generate(
    households: int = 20_000, seed: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(households, persons, incomes) frames; amounts in fen (Int64)."""
    rng = np.random.default_rng(seed)
    comms = communities(seed)
    n = households
    comm_idx = rng.integers(0, len(comms), n)
    size = rng.choice([1, 2, 3, 4, 5, 6], n, p=[0.22, 0.33, 0.25, 0.12, 0.06, 0.02])
    beijing = rng.random(n) < 0.86
    poor = rng.random(n) < 0.07  # the tail of poor households
    hh = np.repeat(np.arange(n), size)
    pos = np.arange(len(hh)) - np.repeat(np.cumsum(size) - size, size)
    p = len(hh)

    head_age = np.where(poor, rng.integers(35, 96, n), rng.integers(24, 92, n))
    h_age = head_age[hh]
    rel = np.full(p, "head", dtype=object)
    age = h_age.astype(np.int64).copy()
    is_spouse = (pos == 1) & (size[hh] >= 2) & (rng.random(p) < 0.85)
    rel[is_spouse] = "spouse"
    age[is_spouse] = np.clip(h_age[is_spouse] + rng.integers(-5, 6, int(is_spouse.sum())), 20, 100)
    others = (pos >= 1) & ~is_spouse
    child = others & (h_age >= 40) & (rng.random(p) < 0.8)
    rel[child] = "child"
    age[child] = np.clip(h_age[child] - rng.integers(22, 36, int(child.sum())), 0, 70)
    parent = others & ~child & (h_age < 60) & (rng.random(p) < 0.6)
    rel[parent] = "parent"
    age[parent] = np.clip(h_age[parent] + rng.integers(24, 34, int(parent.sum())), 0, 104)
    rest = others & ~child & ~parent
    rel[rest] = np.where(rng.random(int(rest.sum())) < 0.6, "grandchild", "other")
    age[rest & (rel == "grandchild")] = rng.integers(
        0, 18, int((rest & (rel == "grandchild")).sum())
    )
    age[rest & (rel == "other")] = rng.integers(18, 80, int((rest & (rel == "other")).sum()))

    ref = np.datetime64(REFERENCE_DATE.isoformat())
    born = (
        ref
        - (age * 365.25).astype("timedelta64[D]")
        - rng.integers(0, 365, p).astype("timedelta64[D]")
    )
    male = rng.random(p) < 0.5
    region = np.where(
        beijing[hh],
        np.array(_REGIONS_BEIJING)[
            rng.choice(len(_REGIONS_BEIJING), p, p=[0.6, 0.15, 0.08, 0.07, 0.05, 0.05])
        ],
        np.array(_REGIONS_OTHER)[rng.integers(0, len(_REGIONS_OTHER), p)],
    )
    ids = _id_numbers(rng, region.astype(np.int64), born, male)
    surname = np.array(_SURNAMES)[rng.integers(0, len(_SURNAMES), n)][hh]
    given = np.char.add(
        np.array(_GIVEN)[rng.integers(0, len(_GIVEN), p)],
        np.where(rng.random(p) < 0.6, np.array(_GIVEN)[rng.integers(0, len(_GIVEN), p)], ""),
    )
    own_surname = np.where(
        rel == "spouse", np.array(_SURNAMES)[rng.integers(0, len(_SURNAMES), p)], surname
    )
    name = np.char.add(own_surname.astype("U1"), given)

    disabled = rng.random(p) < np.where(poor[hh], 0.18, 0.045)
    dis_kind = np.where(disabled, np.array(DISABILITY_KINDS)[rng.integers(0, 7, p)], "")
    dis_grade = np.where(disabled, rng.choice([1, 2, 3, 4], p, p=[0.15, 0.25, 0.3, 0.3]), 0)
    serious = rng.random(p) < np.where(poor[hh], 0.10, 0.015)
    student = (age >= 16) & (age <= 22) & (rng.random(p) < 0.7)
    lives_alone = (size[hh] == 1) & (age >= 60)
    empty_nest = (size[hh] == 2) & (age >= 60) & (h_age >= 60)
    orphan = (age < 18) & (rel == "grandchild") & (rng.random(p) < 0.02)
    no_work = (disabled & (dis_grade <= 2)) | (serious & (age >= 16))

    working = (age >= 18) & (age < 60) & ~student & ~no_work
    employed = working & (rng.random(p) < np.where(poor[hh], 0.35, 0.88))
    self_emp = employed & (rng.random(p) < 0.12)
    retired = age >= 60
    wage = np.where(
        employed & ~self_emp, rng.lognormal(np.log(np.where(poor[hh], 2600, 7500)), 0.35, p), 0
    )
    business = np.where(self_emp, rng.lognormal(np.log(np.where(poor[hh], 2000, 6500)), 0.5, p), 0)
    pension = np.where(retired, rng.lognormal(np.log(np.where(poor[hh], 1100, 4300)), 0.3, p), 0)
    pension = np.where(retired & poor[hh] & (rng.random(p) < 0.3), 0, pension)
    unemployed = working & ~employed
    unemp = np.where(unemployed & (rng.random(p) < 0.3), rng.integers(1800, 2200, p), 0)
    support = np.where(retired & poor[hh] & (rng.random(p) < 0.3), rng.integers(200, 800, p), 0)

    employment = np.select(
        [self_emp, employed, unemployed, retired],
        ["self_employed", "employed", "unemployed", "retired"],
        "not_in_labour_force",
    )
    schooling = np.select(
        [age < 6, age < 12, age < 15, age < 18, student, age >= 18],
        [
            "preschool",
            "primary",
            "junior",
            "senior",
            "college",
            np.where(rng.random(p) < 0.4, "college", "senior"),
        ],
        "none",
    )
    health = np.select(
        [serious, rng.random(p) < np.clip((age - 40) / 80, 0, 0.6)],
        ["serious", "chronic"],
        "healthy",
    )
    phone = np.char.add("13", np.char.zfill(rng.integers(0, 10**9, p).astype("U9"), 9))

    persons = pl.DataFrame(
        {
            "household": hh,
            "position": pos,
            "person_key": np.char.add("P", np.char.zfill(np.arange(p).astype("U9"), 9)),
            "id_number": ids.astype(str),
            "name": name,
            "relation": rel.astype(str),
            "birth_date": born.astype("datetime64[D]"),
            "sex": np.where(male, "M", "F"),
            "phone": np.where(pos == 0, phone, ""),
            "disability_kind": dis_kind.astype(str),
            "disability_grade": dis_grade.astype(np.int64),
            "health": health.astype(str),
            "employment": employment.astype(str),
            "schooling": schooling.astype(str),
            "serious_illness": serious,
            "student": student,
            "lives_alone": lives_alone,
            "empty_nest": empty_nest,
            "orphan": orphan,
            "no_work_capacity": no_work,
        }
    )
    income_cols = {
        "wage": wage,
        "pension": pension,
        "business": business,
        "support_received": support,
        "unemployment_benefit": unemp,
    }
    incomes = pl.concat(
        [
            pl.DataFrame(
                {"person": np.arange(p), "type": t, "fen": np.round(v * 100).astype(np.int64)}
            ).filter(pl.col("fen") > 0)
            for t, v in income_cols.items()
        ]
    ).with_columns(pl.col("fen") // 100 * 100)  # whole yuan, as people declare them

    deposits = np.where(
        poor, rng.integers(0, 20_000, n), rng.lognormal(np.log(120_000), 1.0, n)
    ).astype(np.int64)
    households_df = pl.DataFrame(
        {
            "household": np.arange(n),
            "id": np.char.add(f"XC{seed}-", np.char.zfill(np.arange(n).astype("U8"), 8)),
            "division": np.array([c.code for c in comms])[comm_idx],
            "hukou": np.where(beijing, "beijing", "other"),
            "address": np.char.add(
                np.char.add(
                    np.array([c.name for c in comms])[comm_idx], rng.integers(1, 40, n).astype("U2")
                ),
                np.char.add("号楼", np.char.add(rng.integers(1, 30, n).astype("U2"), "号")),
            ),
            "deposits_fen": deposits * 100,
            "securities_fen": np.where(rng.random(n) < 0.15, rng.integers(1, 300_000, n), 0).astype(
                np.int64
            )
            * 100,
            "houses": np.where(
                poor,
                rng.choice([0, 1], n, p=[0.45, 0.55]),
                rng.choice([0, 1, 2], n, p=[0.2, 0.65, 0.15]),
            ),
            "vehicles": np.where(poor, 0, rng.choice([0, 1, 2], n, p=[0.55, 0.4, 0.05])),
            "business": ~poor & (rng.random(n) < 0.03),
            "medical_fen": np.where(rng.random(n) < 0.2, rng.integers(100, 3000, n), 0).astype(
                np.int64
            )
            * 100,
            "education_fen": np.where(rng.random(n) < 0.15, rng.integers(100, 2000, n), 0).astype(
                np.int64
            )
            * 100,
        }
    )
    return households_df, persons, incomes


def _yuan(col: str) -> pl.Expr:
    """Fen integers as the API's money strings: 123456 → "1234.56"."""
    c = pl.col(col)
    return pl.concat_str(
        [(c // 100).cast(pl.Utf8), pl.lit("."), (c % 100).cast(pl.Utf8).str.zfill(2)]
    )


def documents_frame(households: int = 20_000, seed: int = 0) -> pl.DataFrame:
    """Household documents (CONTRACTS.md) as one nested frame, built without row loops."""
    hh, persons, incomes = generate(households, seed)
    inc = (
        incomes.with_columns(monthly=_yuan("fen"))
        .group_by("person")
        .agg(incomes=pl.struct("type", "monthly"))
    )
    members = (
        persons.with_row_index("person")
        .with_columns(pl.col("person").cast(pl.Int64))
        .join(inc, on="person", how="left", maintain_order="left")
        .with_columns(
            statuses=pl.concat_list(
                [
                    pl.when(pl.col(s))
                    .then(pl.lit([s]))
                    .otherwise(pl.lit([], dtype=pl.List(pl.Utf8)))
                    for s in STATUS_NAMES
                ]
            ),
            disability=pl.when(pl.col("disability_grade") > 0)
            .then(pl.struct(kind=pl.col("disability_kind"), grade=pl.col("disability_grade")))
            .otherwise(None),
            incomes=pl.col("incomes").fill_null(
                pl.lit([], dtype=pl.List(pl.Struct({"type": pl.Utf8, "monthly": pl.Utf8})))
            ),
            birth_date=pl.col("birth_date").dt.strftime("%Y-%m-%d"),
        )
        .group_by("household", maintain_order=True)
        .agg(
            members=pl.struct(
                pl.col("person_key").alias("id"),
                "id_number",
                "name",
                "relation",
                "birth_date",
                "sex",
                "incomes",
                "disability",
                "statuses",
                "health",
                "employment",
                "schooling",
            )
        )
    )
    # persons are generated in household order and every household has a member
    return hh.with_columns(members=members["members"]).select(
        "id",
        "division",
        "hukou",
        "address",
        "members",
        assets=pl.struct(
            deposits=_yuan("deposits_fen"),
            securities=_yuan("securities_fen"),
            vehicles=pl.col("vehicles"),
            houses=pl.col("houses"),
            business=pl.col("business"),
        ),
        expenses=pl.struct(
            medical_monthly=_yuan("medical_fen"), education_monthly=_yuan("education_fen")
        ),
    )


def write_documents(path: Path, households: int, seed: int = 0, chunk: int = 500_000) -> int:
    """Write household documents to ``.jsonl`` or ``.parquet``, one chunk at a time, so
    memory stays bounded (10 M households on a 24 GB machine); returns how many."""
    suffix = path.suffix.lower()
    if suffix not in {".jsonl", ".parquet"}:
        raise ValueError("output must end in .jsonl or .parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    writer: pq.ParquetWriter | None = None
    with path.open("wb") as fh:
        for k, start in enumerate(range(0, households, chunk)):
            frame = documents_frame(min(chunk, households - start), seed * 1_000 + k)
            if suffix == ".jsonl":
                frame.write_ndjson(fh)
            else:
                table = frame.to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(fh, table.schema, compression="zstd")
                writer.write_table(table.cast(writer.schema))
            written += frame.height
        if writer is not None:
            writer.close()
    return written
