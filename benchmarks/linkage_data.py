"""Synthetic registry persons and department feed records with known truth, for record
linkage tests and ``benchmarks/bench_linkage.py``.

``generate(persons=N, records=M, seed=S)`` builds, deterministically for a seed:

persons
    N registry persons in households of 1–5 sharing a Beijing address (mostly one surname
    per household; 2 % of households of two or more have twins: same birth date,
    surname, address, consecutive ID sequence codes). Names are drawn from the common
    surnames (weighted, most frequent first) and given-name characters; birth dates
    1930–2024; 75 % born in a Beijing district, the rest elsewhere (the ID's region is
    the place of birth registration, the address the current home). ID numbers are
    unique and valid (check character by ``minzheng.verification.linkage.id_check_char``,
    the vectorised ``minzheng.core.ids.check_char``).
records
    M feed records: ``match_share`` of them copy a distinct registry person, the rest are
    strangers (people from the same process who are not in the registry). Then, at known
    rates (:data:`ERRORS`), each record's ID number is left out, has two adjacent
    differing digits swapped, or a wrong check character; its name has one character
    replaced by a homophone (张/章, 伟/炜 …); its address is abbreviated, replaced by
    another (moved) or left out; its birth date or sex is left out; and its ID number is
    written with a lower-case ``x``, spaces or full-width digits.
truth
    record_id → person_id (null for a stranger), and which errors the record carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from minzheng.verification.linkage import id_check_char
from minzheng.verification.names import fuzzy_pinyin_key, pinyin_key

# Rates of the injected errors (each drawn independently per record).
ERRORS: dict[str, float] = {
    "id_missing": 0.10,
    "id_transposed": 0.05,  # two adjacent differing digits swapped
    "id_check_digit": 0.03,  # a wrong check character
    "name_homophone": 0.08,
    "address_abbreviated": 0.30,
    "address_moved": 0.05,
    "address_missing": 0.05,
    "birth_date_missing": 0.01,
    "sex_missing": 0.01,
    "id_lowercase_x": 0.50,  # of numbers ending in X
    "id_spaces": 0.02,
    "id_full_width": 0.01,
}
TWIN_SHARE = 0.02

# Common surnames, most frequent first (weights fall off as 1/rank^0.9).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关"
    "兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻"
    "祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿"
)
GIVEN_MALE = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国东峰亮成志文海新永春"
    "晨博子轩泽睿然豪一天鸿嘉家佳德福贵生祥荣才庆安宏毅康振信兴良义礼智光荣铭"
)
GIVEN_FEMALE = (
    "芳娜敏静丽艳娟霞秀玲燕红莉婷雪琳晶颖慧倩洁梅兰琴云萍玉欣怡涵萱佳琪雨思梓诗悦淑英华凤洋"
    "月璐蕾薇妍彤婧露瑶桂珍荣爱秋丹凤菊香翠蓉娇媛雯琦佩岚琼茜"
)
# Characters that sound alike (same pinyin without tones); a record may carry any other
# member of the group. Surname groups are read with surname readings (解 xie).
HOMOPHONES = [
    "张章",
    "王汪",
    "李黎",
    "刘柳",
    "徐许",
    "杨阳",
    "吴武",
    "于余俞",
    "冯封",
    "肖萧",
    "付傅",
    "陈谌",
    "周舟",
    "林蔺",
    "何贺",
    "高郜",
    "罗骆",
    "郑正",
    "唐汤",
    "韩寒",
    "曾增",
    "袁元",
    "蒋江姜",
    "程成",
    "魏卫韦",
    "姚尧",
    "卢鲁路陆",
    "范樊",
    "金靳",
    "石时史",
    "谢解",
    "朱诸",
    "胡扈",
    "伟炜玮维薇",
    "丽莉俐力立利",
    "静靖婧",
    "娟鹃",
    "敏民",
    "芳方",
    "军君",
    "俊峻",
    "勇永",
    "杰洁婕",
    "涛韬",
    "明鸣铭",
    "超朝",
    "华桦",
    "平萍",
    "刚钢",
    "霞侠",
    "红宏鸿虹",
    "燕艳雁",
    "玲铃凌",
    "磊蕾",
    "斌彬",
    "辉晖",
    "慧惠",
    "鹏朋",
    "飞菲霏",
    "建剑健",
    "国帼",
    "文雯",
    "婷亭",
    "宇雨玉羽",
    "浩昊皓",
    "欣鑫新馨",
    "子梓紫",
    "轩萱宣",
    "涵晗",
    "琪琦淇棋",
    "怡仪",
    "佳嘉家",
    "晨辰",
    "东冬",
    "峰锋",
    "志智",
    "梅玫",
    "兰岚",
    "琴芹",
    "云芸",
    "璐露",
    "瑶遥",
    "英瑛",
    "睿瑞",
    "诚成",
    "珍真",
    "秋邱",
    "香湘",
]

# Beijing's districts (code, name) and some of their streets (街道).
DISTRICTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "110101",
        "东城",
        ("东华门", "景山", "交道口", "安定门", "北新桥", "东四", "朝阳门", "建国门"),
    ),
    (
        "110102",
        "西城",
        ("西长安街", "新街口", "月坛", "展览路", "德胜", "金融街", "什刹海", "广安门内"),
    ),
    ("110105", "朝阳", ("建外", "朝外", "呼家楼", "三里屯", "左家庄", "香河园", "和平街", "安贞")),
    (
        "110106",
        "丰台",
        ("右安门", "太平桥", "西罗园", "大红门", "南苑", "东高地", "东铁匠营", "卢沟桥"),
    ),
    ("110107", "石景山", ("八宝山", "老山", "八角", "古城", "苹果园", "金顶街", "广宁", "五里坨")),
    (
        "110108",
        "海淀",
        ("万寿路", "永定路", "羊坊店", "甘家口", "八里庄", "紫竹院", "北下关", "北太平庄"),
    ),
    ("110109", "门头沟", ("大峪", "城子", "东辛房", "大台", "王平", "永定", "龙泉", "潭柘寺")),
    ("110111", "房山", ("城关", "新镇", "向阳", "东风", "迎风", "星城", "拱辰", "西潞")),
    ("110112", "通州", ("中仓", "新华", "北苑", "玉桥", "潞源", "通运", "文景", "九棵树")),
    ("110113", "顺义", ("胜利", "光明", "石园", "空港", "双丰", "旺泉", "仁和", "后沙峪")),
    (
        "110114",
        "昌平",
        ("城北", "城南", "天通苑北", "天通苑南", "霍营", "回龙观", "龙泽园", "史各庄"),
    ),
    ("110115", "大兴", ("兴丰", "林校路", "清源", "亦庄", "黄村", "旧宫", "西红门", "高米店")),
    ("110116", "怀柔", ("泉河", "龙山", "怀柔", "雁栖", "庙城", "北房", "杨宋", "桥梓")),
    ("110117", "平谷", ("滨河", "兴谷", "渔阳", "峪口", "马坊", "金海湖", "东高村", "山东庄")),
    (
        "110118",
        "密云",
        ("鼓楼", "果园", "檀营", "溪翁庄", "西田各庄", "十里堡", "河南寨", "巨各庄"),
    ),
    ("110119", "延庆", ("百泉", "香水园", "儒林", "延庆", "康庄", "八达岭", "永宁", "旧县")),
)
COMMUNITY_WORDS = [
    "北营房",
    "百万庄",
    "三里河",
    "车公庄",
    "新华里",
    "光明里",
    "幸福里",
    "和平里",
    "团结湖",
    "红庙",
    "金台",
    "水碓子",
    "六里屯",
    "枣营",
    "麦子店",
    "芳古园",
    "樱花园",
    "惠新里",
    "育新",
    "安华里",
    "花园村",
    "东里",
    "西里",
    "南里",
    "北里",
    "中街",
    "前街",
    "后街",
]
# Birth places outside Beijing (prefecture-level codes).
OTHER_REGIONS = [
    "130102",
    "130202",
    "130602",
    "131002",
    "120101",
    "120104",
    "140105",
    "150102",
    "210102",
    "220102",
    "230102",
    "310101",
    "320102",
    "330102",
    "340102",
    "350102",
    "360102",
    "370102",
    "410102",
    "420102",
    "430102",
    "440103",
    "500101",
    "510104",
]
BORN_FROM = date(1930, 1, 1)
BORN_TO = date(2024, 12, 31)


@dataclass(frozen=True)
class LinkageData:
    persons: pl.DataFrame
    records: pl.DataFrame
    truth: pl.DataFrame


def _zipf_weights(n: int, exponent: float = 0.9) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def _choice(
    rng: np.random.Generator,
    pool: str | tuple[str, ...] | list[str],
    size: int,
    p: np.ndarray | None = None,
) -> np.ndarray:
    return np.asarray(list(pool), dtype=object)[rng.choice(len(pool), size=size, p=p)]


def _people(rng: np.random.Generator, n: int, first_id: int) -> pl.DataFrame:
    """About ``n`` people in households, with unique valid ID numbers."""
    sizes = rng.choice([1, 2, 3, 4, 5], size=n // 2 + 10, p=[0.25, 0.30, 0.25, 0.12, 0.08])
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    households = len(sizes)
    household = np.repeat(np.arange(households), sizes)[:n]
    member = np.concatenate([np.arange(s) for s in sizes])[:n]

    district = rng.integers(0, len(DISTRICTS), households)
    street = rng.integers(0, 8, households)
    community = rng.integers(0, len(COMMUNITY_WORDS), households)
    building = rng.integers(1, 41, households)
    unit = rng.integers(1, 7, households)
    room = rng.integers(1, 19, households) * 100 + rng.integers(1, 5, households)
    address = [
        f"北京市{DISTRICTS[d][1]}区{DISTRICTS[d][2][s]}街道{COMMUNITY_WORDS[c]}社区"
        f"{b}号楼{u}单元{r}室"
        for d, s, c, b, u, r in zip(district, street, community, building, unit, room, strict=True)
    ]
    family = _choice(rng, SURNAMES, households, _zipf_weights(len(SURNAMES)))

    sex_male = rng.random(n) < 0.5
    own_surname = _choice(rng, SURNAMES, n, _zipf_weights(len(SURNAMES)))
    surname = np.where(rng.random(n) < 0.8, family[household], own_surname)
    two_chars = rng.random(n) < 0.7
    male_1 = _choice(rng, GIVEN_MALE, n, _zipf_weights(len(GIVEN_MALE), 0.7))
    male_2 = _choice(rng, GIVEN_MALE, n, _zipf_weights(len(GIVEN_MALE), 0.7))
    female_1 = _choice(rng, GIVEN_FEMALE, n, _zipf_weights(len(GIVEN_FEMALE), 0.7))
    female_2 = _choice(rng, GIVEN_FEMALE, n, _zipf_weights(len(GIVEN_FEMALE), 0.7))
    given = np.where(
        sex_male,
        np.where(two_chars, male_1 + male_2, male_1),
        np.where(two_chars, female_1 + female_2, female_1),
    )
    days = (BORN_TO - BORN_FROM).days + 1
    born = rng.integers(0, days, n)
    region = np.where(
        rng.random(n) < 0.75,
        _choice(rng, [d[0] for d in DISTRICTS], n),
        _choice(rng, OTHER_REGIONS, n),
    )
    sequence = rng.integers(0, 500, n) * 2 + sex_male.astype(np.int64)

    # Twins: the second member of some households shares the first's birth date, birth
    # place and surname, with the next sequence code of the same parity as their sex.
    twin = (member == 1) & (rng.random(n) < TWIN_SHARE)
    first = np.flatnonzero(twin) - 1
    born[twin] = born[first]
    region[twin] = region[first]
    surname[twin] = surname[first]
    # Twins share a generation character and differ in the other: 伟强 and 伟刚.
    generation = np.asarray([g[0] for g in given[first]], dtype=object)
    own = np.where(sex_male[twin], male_2[twin], female_2[twin])
    twin_given = generation + own
    # ... and parents do not give twins names that sound alike.
    alike = np.asarray(
        [
            fuzzy_pinyin_key(a) == fuzzy_pinyin_key(b)
            for a, b in zip(twin_given, given[first], strict=True)
        ]
    )
    given[twin] = np.where(alike, generation + np.where(sex_male[twin], "健", "婉"), twin_given)
    sequence[twin] = (sequence[first] // 2 * 2 + 2) % 1000 + sex_male[twin].astype(np.int64)

    frame = pl.DataFrame(
        {
            "household": household.astype(np.int64),
            "name": surname + given,
            "birth_date": pl.Series(born + (BORN_FROM - date(1970, 1, 1)).days)
            .cast(pl.Int32)
            .cast(pl.Date),
            "sex": np.where(sex_male, "M", "F"),
            "region": region,
            "sequence": sequence,
            "address": np.asarray(address, dtype=object)[household],
            "twin": twin,
        }
    )
    first17 = pl.concat_str(
        pl.col("region"),
        pl.col("birth_date").dt.strftime("%Y%m%d"),
        pl.col("sequence").cast(pl.Utf8).str.zfill(3),
    )
    return (
        frame.with_columns(first17.alias("first17"))
        .with_columns((pl.col("first17") + id_check_char("first17")).alias("id_number"))
        .unique("id_number", keep="first", maintain_order=True)
        .with_row_index("person_id", offset=first_id)
        .with_columns(pl.col("person_id").cast(pl.Int64))
        .select(
            "person_id", "id_number", "name", "birth_date", "sex", "address", "household", "twin"
        )
    )


def _homophone_table() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for group in HOMOPHONES:
        for char in group:
            table[char] = [c for c in group if c != char]
    return table


def _sound_alike(name: str, rng: np.random.Generator, table: dict[str, list[str]]) -> str:
    positions = [i for i, c in enumerate(name) if c in table]
    if not positions:
        return name
    i = positions[int(rng.integers(len(positions)))]
    alternatives = table[name[i]]
    return name[:i] + alternatives[int(rng.integers(len(alternatives)))] + name[i + 1 :]


def _transpose(number: str, rng: np.random.Generator) -> str:
    start = int(rng.integers(17))
    for k in range(17):
        i = (start + k) % 17
        if number[i] != number[i + 1]:
            return number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    return number


def _wrong_check(number: str, rng: np.random.Generator) -> str:
    others = [c for c in "0123456789X" if c != number[17]]
    return number[:17] + others[int(rng.integers(len(others)))]


_STREET_WORDS = ("街道", "")


def _abbreviate(address: str, rng: np.random.Generator) -> str:
    """How clerks shorten an address: no city, short district, no 街道/社区, 12-3-201."""
    form = int(rng.integers(3))
    text = address.removeprefix("北京市")
    if form == 0:
        return text.replace("街道", "").removesuffix("室")
    if form == 1:
        text = text.replace("区", "", 1).replace("社区", "")
        return text.replace("号楼", "-").replace("单元", "-").removesuffix("室")
    # form 2: the street left out entirely
    district, _, rest = text.partition("区")
    _, _, rest = rest.partition("街道")
    return f"北京{district}区{rest}"


_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _mess(
    people: pl.DataFrame, rng: np.random.Generator, movers: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply :data:`ERRORS` to copies of ``people``: the records and their error flags."""
    n = people.height
    draw = {key: rng.random(n) < rate for key, rate in ERRORS.items()}
    # One ID fault at most per record: missing, then transposed, then check digit.
    kind = rng.random(n)
    id_missing = kind < ERRORS["id_missing"]
    id_transposed = ~id_missing & (kind < ERRORS["id_missing"] + ERRORS["id_transposed"])
    id_check = (
        ~id_missing
        & ~id_transposed
        & (kind < ERRORS["id_missing"] + ERRORS["id_transposed"] + ERRORS["id_check_digit"])
    )
    where = rng.random(n)
    moved = where < ERRORS["address_moved"]
    address_missing = ~moved & (where < ERRORS["address_moved"] + ERRORS["address_missing"])
    abbreviated = (
        ~moved
        & ~address_missing
        & (
            where
            < ERRORS["address_moved"] + ERRORS["address_missing"] + ERRORS["address_abbreviated"]
        )
    )
    homophones = _homophone_table()

    numbers: list[str | None] = people["id_number"].to_list()
    names: list[str] = people["name"].to_list()
    addresses: list[str | None] = people["address"].to_list()
    for i in np.flatnonzero(id_transposed):
        numbers[i] = _transpose(str(numbers[i]), rng)
    for i in np.flatnonzero(id_check):
        numbers[i] = _wrong_check(str(numbers[i]), rng)
    for i in np.flatnonzero(draw["id_lowercase_x"]):
        numbers[i] = str(numbers[i]).replace("X", "x")
    for i in np.flatnonzero(draw["id_spaces"]):
        number = str(numbers[i])
        numbers[i] = f"{number[:6]} {number[6:14]} {number[14:]}"
    for i in np.flatnonzero(draw["id_full_width"]):
        numbers[i] = str(numbers[i]).translate(_FULL_WIDTH)
    for i in np.flatnonzero(id_missing):
        numbers[i] = None
    for i in np.flatnonzero(draw["name_homophone"]):
        names[i] = _sound_alike(names[i], rng, homophones)
    for i in np.flatnonzero(abbreviated):
        addresses[i] = _abbreviate(str(addresses[i]), rng)
    for i in np.flatnonzero(moved):
        addresses[i] = movers[int(rng.integers(len(movers)))]
    for i in np.flatnonzero(address_missing):
        addresses[i] = None

    records = pl.DataFrame(
        {
            "id_number": pl.Series(numbers, dtype=pl.Utf8),
            "name": pl.Series(names, dtype=pl.Utf8),
            "birth_date": people["birth_date"],
            "sex": people["sex"],
            "address": pl.Series(addresses, dtype=pl.Utf8),
        }
    ).with_columns(
        pl.when(~pl.Series(draw["birth_date_missing"])).then(pl.col("birth_date")),
        pl.when(~pl.Series(draw["sex_missing"])).then(pl.col("sex")),
    )
    flags = pl.DataFrame(
        {
            "id_missing": id_missing,
            "id_transposed": id_transposed,
            "id_check_digit": id_check,
            "name_homophone": records["name"] != people["name"],
            "address_abbreviated": abbreviated,
            "address_moved": moved,
            "address_missing": address_missing,
            "birth_date_missing": draw["birth_date_missing"],
            "sex_missing": draw["sex_missing"],
        }
    )
    return records, flags


def generate(persons: int, records: int, seed: int = 0, *, match_share: float = 0.9) -> LinkageData:
    """Registry persons, feed records and the truth, the same for the same arguments."""
    rng = np.random.default_rng(seed)
    registry = _people(rng, persons, first_id=1)
    matched = min(round(records * match_share), registry.height)
    strangers_wanted = records - matched
    strangers = _people(rng, strangers_wanted + strangers_wanted // 50 + 10, first_id=10**9)
    strangers = strangers.join(registry.select("id_number"), on="id_number", how="anti").head(
        strangers_wanted
    )
    picked = registry.sample(matched, with_replacement=False, seed=int(rng.integers(2**31)))
    sources = pl.concat(
        [
            picked.with_columns(pl.col("person_id").alias("truth")),
            strangers.with_columns(pl.lit(None, pl.Int64).alias("truth")),
        ]
    )
    sources = sources.select(pl.all().gather(rng.permutation(sources.height)))
    movers = registry["address"].sample(min(10_000, registry.height), seed=seed).to_list()
    feed, flags = _mess(sources, rng, movers)
    feed = feed.with_row_index("record_id", offset=1).with_columns(
        pl.col("record_id").cast(pl.Int64)
    )
    truth = (
        feed.select("record_id")
        .hstack(sources.select(pl.col("truth").alias("person_id"), "twin"))
        .hstack(flags)
    )
    return LinkageData(
        persons=registry.select("person_id", "id_number", "name", "birth_date", "sex", "address"),
        records=feed.select("record_id", "id_number", "name", "birth_date", "sex", "address"),
        truth=truth,
    )


def check_homophones() -> list[str]:
    """Groups of :data:`HOMOPHONES` whose members do not share a pinyin (should be none)."""
    bad = []
    given = set(GIVEN_MALE + GIVEN_FEMALE)
    for group in HOMOPHONES:
        # A group is used on surnames if it holds one, on given names if it holds one of
        # those characters; in each position its members must read alike.
        as_surname = {pinyin_key(c + "一").split()[0] for c in group}
        as_given = {pinyin_key("一" + c).split()[1] for c in group}
        if (set(group) & set(SURNAMES) and len(as_surname) > 1) or (
            set(group) & given and len(as_given) > 1
        ):
            bad.append(group)
    return bad
