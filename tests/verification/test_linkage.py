"""Record linkage on small hand-made tables: no database, a few seconds in all."""

from __future__ import annotations

import doctest
import random
from datetime import date

import polars as pl
import pytest
from benchmarks.linkage_data import check_homophones, generate
from polars.testing import assert_frame_equal

from minzheng.core.ids import IdNumberError, check_char, parse_id_number
from minzheng.verification import linkage, names
from minzheng.verification.linkage import (
    clean_id_number,
    double_recipients,
    find_duplicates,
    link,
    link_exact,
    valid_id_number,
)
from minzheng.verification.names import fuzzy_pinyin_key, pinyin_key


def make_id(region: str, born: date, sequence: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def swap(number: str, i: int) -> str:
    assert number[i] != number[i + 1], "swapping equal digits changes nothing"
    return number[:i] + number[i + 1] + number[i] + number[i + 2 :]


ZHANG_WEI = make_id("110102", date(1975, 3, 14), 31)
WANG_FANG = make_id("110105", date(1982, 11, 2), 42)
LI_NA = make_id("110108", date(1990, 6, 30), 86)
LIU_JING = make_id("130102", date(1958, 1, 9), 124)
CHEN_QIANG = make_id("110101", date(1947, 8, 21), 7)

PERSONS = pl.DataFrame(
    {
        "person_id": [1, 2, 3, 4, 5, 6, 7, 8],
        "id_number": [
            ZHANG_WEI,
            WANG_FANG,
            LI_NA,
            LIU_JING,
            CHEN_QIANG,
            make_id("110102", date(1975, 3, 15), 33),
            make_id("110106", date(2001, 4, 4), 11),
            make_id("110106", date(1963, 12, 12), 25),
        ],
        "name": ["张伟", "王芳", "李娜", "刘静", "陈强", "张伟", "赵磊", "孙丽"],
        "birth_date": [
            date(1975, 3, 14),
            date(1982, 11, 2),
            date(1990, 6, 30),
            date(1958, 1, 9),
            date(1947, 8, 21),
            date(1975, 3, 15),
            date(2001, 4, 4),
            date(1963, 12, 12),
        ],
        "sex": ["M", "F", "F", "F", "M", "M", "M", "F"],
        "address": [
            "北京市西城区展览路街道北营房社区12号楼3单元201室",
            "北京市朝阳区呼家楼街道金台社区5号楼1单元602室",
            "北京市海淀区紫竹院街道花园村社区3号楼2单元101室",
            "北京市丰台区南苑街道枣营社区18号楼1单元304室",
            "北京市东城区东四街道和平里社区7号楼4单元1201室",
            "北京市通州区中仓街道新华里社区9号楼2单元502室",
            "北京市丰台区卢沟桥街道六里屯社区2号楼1单元101室",
            "北京市丰台区卢沟桥街道六里屯社区2号楼1单元102室",
        ],
    }
)


def records(*rows: dict[str, object]) -> pl.DataFrame:
    defaults: dict[str, object] = {
        "id_number": None,
        "name": None,
        "birth_date": None,
        "sex": None,
        "address": None,
    }
    return pl.DataFrame(
        [{**defaults, **row} for row in rows],
        schema={
            "record_id": pl.Int64,
            "id_number": pl.Utf8,
            "name": pl.Utf8,
            "birth_date": pl.Date,
            "sex": pl.Utf8,
            "address": pl.Utf8,
        },
    )


def only(links: pl.DataFrame, record_id: int) -> dict[str, object]:
    rows = links.filter(pl.col("record_id") == record_id).to_dicts()
    assert len(rows) == 1, links
    return rows[0]


# --- ID numbers ---------------------------------------------------------------------------


def test_the_vectorised_check_agrees_with_parse_id_number() -> None:
    rng = random.Random(7)
    numbers = []
    for _ in range(400):
        born = date(1930, 1, 1).toordinal() + rng.randrange(35_000)
        number = make_id("110102", date.fromordinal(born), rng.randrange(1000))
        fault = rng.randrange(4)
        if fault == 1:
            i = rng.randrange(17)
            number = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        elif fault == 2:
            number = number[:17] + rng.choice("0123456789X")
        elif fault == 3:
            i = rng.randrange(18)
            number = number[:i] + rng.choice("0123456789") + number[i + 1 :]
        numbers.append(number)
    numbers += ["", "123", "11010519491231002", "1101051949123100XX", "110105194902300011"]

    def parses(number: str) -> bool:
        try:
            parse_id_number(number)
        except IdNumberError:
            return False
        return True

    vectorised = pl.select(valid_id_number(pl.lit(pl.Series(numbers)))).to_series().to_list()
    assert vectorised == [parses(n) for n in numbers]


def test_id_numbers_are_cleaned_before_comparing() -> None:
    raw = pl.Series(
        [" 11010519491231002x", "110105 19491231 002X", "１１０１０５19491231002X", " "]
    )
    cleaned = pl.select(clean_id_number(pl.lit(raw))).to_series().to_list()
    assert cleaned == ["11010519491231002X"] * 3 + [None]


# --- link ---------------------------------------------------------------------------------


def test_an_exact_id_number_wins_over_a_better_looking_person() -> None:
    # The record carries 王芳's number but 张伟's name, birth date and address.
    feed = records(
        {
            "record_id": 1,
            "id_number": WANG_FANG.lower(),
            "name": "张伟",
            "birth_date": date(1975, 3, 14),
            "sex": "M",
            "address": PERSONS["address"][0],
        }
    )
    row = only(link(feed, PERSONS), 1)
    assert (row["person_id"], row["method"], row["status"]) == (2, "exact", "auto")
    assert row["match_probability"] == 1.0
    assert row["match_weight"] is None


def test_a_transposed_id_with_the_same_name_and_birth_date_links_automatically() -> None:
    feed = records(
        {
            "record_id": 1,
            "id_number": swap(LI_NA, 11),
            "name": "李娜",
            "birth_date": date(1990, 6, 30),
        },
        {
            "record_id": 2,
            "id_number": LIU_JING[:17] + ("0" if LIU_JING[17] != "0" else "1"),
            "name": "刘静",
            "birth_date": date(1958, 1, 9),
            "sex": "F",
        },
    )
    links = link(feed, PERSONS)
    for record_id, person_id in ((1, 3), (2, 4)):
        row = only(links, record_id)
        assert (row["person_id"], row["method"], row["status"]) == (
            person_id,
            "probabilistic",
            "auto",
        )
        assert row["levels"]["id_number"] == "相差一位或相邻颠倒"  # type: ignore[index]
        assert row["weights"]["id_number"] > 10  # type: ignore[index]


def test_a_homophone_name_links_with_a_correct_id_and_without_one() -> None:
    feed = records(
        {"record_id": 1, "id_number": ZHANG_WEI, "name": "章伟", "birth_date": date(1975, 3, 14)},
        {
            "record_id": 2,
            "name": "汪芳",
            "birth_date": date(1982, 11, 2),
            "sex": "F",
            "address": "朝阳区呼家楼金台社区5号楼1单元602",
        },
    )
    links = link(feed, PERSONS)
    assert (only(links, 1)["person_id"], only(links, 1)["method"]) == (1, "exact")
    row = only(links, 2)
    assert (row["person_id"], row["method"], row["status"]) == (2, "probabilistic", "auto")
    assert row["levels"]["name"] == "同音"  # type: ignore[index]
    assert row["levels"]["address"] == "一致"  # type: ignore[index]


def test_a_stranger_with_a_similar_name_and_another_birth_date_is_not_linked() -> None:
    feed = records(
        {
            "record_id": 1,
            "name": "章伟",
            "birth_date": date(1988, 7, 7),
            "sex": "M",
            "address": "北京市昌平区回龙观街道育新社区1号楼1单元101室",
        },
        # a valid number the registry does not hold, with 李娜's name and birth date
        {
            "record_id": 2,
            "id_number": make_id("110108", date(1990, 6, 30), 412),
            "name": "李娜",
            "birth_date": date(1990, 6, 30),
            "sex": "F",
            "address": "北京市顺义区空港街道樱花园社区8号楼2单元301室",
        },
    )
    links = link(feed, PERSONS)
    assert links.filter(pl.col("status") == "auto").is_empty(), links


def test_a_tie_between_two_persons_goes_to_review() -> None:
    twins = pl.concat(
        [
            PERSONS,
            PERSONS.filter(pl.col("person_id") == 7).with_columns(
                person_id=pl.lit(9, pl.Int64),
                id_number=pl.lit(make_id("110106", date(2001, 4, 4), 13)),
            ),
        ]
    )
    feed = records(
        {
            "record_id": 1,
            "name": "赵磊",
            "birth_date": date(2001, 4, 4),
            "sex": "M",
            "address": PERSONS["address"][6],
        }
    )
    row = only(link(feed, twins), 1)
    assert (row["person_id"], row["status"]) == (7, "review")


def test_results_are_the_same_on_every_run() -> None:
    data = generate(persons=2_000, records=2_000, seed=3)
    first = link(data.records, data.persons)
    second = link(data.records, data.persons)
    assert_frame_equal(first, second)
    truth = data.truth.filter(pl.col("person_id").is_not_null())
    found = truth.join(first, on=["record_id", "person_id"], how="inner")
    assert found.height / truth.height > 0.99
    assert first.height - found.height <= 2  # links to someone else, or to a stranger
    exact = link_exact(data.records, data.persons)
    assert exact.height < found.height * 0.9


def test_thresholds_are_checked() -> None:
    with pytest.raises(ValueError):
        link(records(), PERSONS, auto_threshold=0.5, review_threshold=0.9)


def test_an_empty_feed_links_nothing() -> None:
    links = link(records(), PERSONS)
    assert links.is_empty()
    assert list(links.columns) == list(linkage.LINK_SCHEMA)


# --- find_duplicates ----------------------------------------------------------------------


def test_find_duplicates_finds_a_person_entered_twice() -> None:
    # 王芳 entered again in another district: one sequence digit wrong (with the check
    # character that goes with it), a homophone, another address.
    again = make_id("110105", date(1982, 11, 2), 47)
    registry = pl.concat(
        [
            PERSONS,
            pl.DataFrame(
                {
                    "person_id": [20],
                    "id_number": [again],
                    "name": ["汪芳"],
                    "birth_date": [date(1982, 11, 2)],
                    "sex": ["F"],
                    "address": ["北京市大兴区亦庄街道樱花园社区2号楼3单元903室"],
                }
            ),
        ]
    )
    pairs = find_duplicates(registry)
    assert pairs.select("person_id_l", "person_id_r", "status").rows() == [(2, 20, "auto")]
    assert pairs["levels"][0]["id_number"] == "相差两处"


def test_twins_neighbours_and_namesakes_are_not_duplicates() -> None:
    # PERSONS holds two 张伟 a day apart and two neighbours on one floor; add 赵磊's twin
    # brother: same birth date, birth place and address, the next sequence code.
    twin = PERSONS.filter(pl.col("person_id") == 7).with_columns(
        person_id=pl.lit(30, pl.Int64),
        id_number=pl.lit(make_id("110106", date(2001, 4, 4), 13)),
        name=pl.lit("赵鑫"),
    )
    assert find_duplicates(pl.concat([PERSONS, twin])).is_empty()


# --- double_recipients --------------------------------------------------------------------


RECIPIENTS = pl.DataFrame(
    {
        "person_id": [1, 1, 6, 2, 20, 3, 3, 4],
        "household_id": [10, 11, 12, 13, 14, 15, 15, 16],
        "division_code": [
            "110102001",
            "110105002",
            "110112001",
            "110105001",
            "110115003",
            "110108001",
            "110108001",
            "110106001",
        ],
        "programme": [
            "dibao",
            "dibao",
            "dibao",
            "dibao",
            "dibao",
            "dibao",
            "age_allowance",
            "dibao",
        ],
        "line_id": [100, 101, 102, 103, 104, 105, 106, 107],
    }
)


def test_double_recipients_finds_one_person_on_two_households_lines() -> None:
    doubles = double_recipients(RECIPIENTS)
    assert doubles.select(
        "programme", "reason", "person_id_a", "line_id_a", "person_id_b", "line_id_b"
    ).rows() == [("dibao", "same_person", 1, 100, 1, 101)]
    row = doubles.row(0, named=True)
    assert row["cross_household"] and row["cross_division"]


def test_double_recipients_finds_a_duplicate_pair_both_receiving() -> None:
    duplicates = pl.DataFrame(
        {"person_id_l": [20], "person_id_r": [2], "match_probability": [0.9995]}
    )
    doubles = double_recipients(RECIPIENTS, duplicates)
    assert doubles.select(
        "reason", "person_id_a", "line_id_a", "person_id_b", "line_id_b"
    ).rows() == [
        ("same_person", 1, 100, 1, 101),
        ("duplicate_person", 2, 103, 20, 104),
    ]
    assert doubles["match_probability"].to_list() == [None, 0.9995]


# --- names and the generator's homophones -------------------------------------------------


def test_pinyin_keys_hear_homophones() -> None:
    assert pinyin_key("张伟") == pinyin_key("章伟") == "zhang wei"
    assert pinyin_key("刘静") == pinyin_key("柳靖")
    assert pinyin_key("曾伟") == pinyin_key("增伟") == "zeng wei"
    assert pinyin_key("阿不都·热合曼") == pinyin_key("阿不都热合曼")
    assert pinyin_key("张伟") != pinyin_key("张卫东")
    assert fuzzy_pinyin_key("张林") == fuzzy_pinyin_key("臧凌")


def test_the_generators_homophones_sound_alike() -> None:
    assert check_homophones() == []


@pytest.mark.parametrize("module", [linkage, names], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0
