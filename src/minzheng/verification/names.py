"""Pinyin keys of Chinese personal names, for record linkage. Pure: no Django, no I/O.

Department clerks type names by sound, so the same person reaches us as 张伟 and 章伟,
or 刘静 and 柳靖. Two keys catch that:

``pinyin_key``
    the name's syllables without tones, space-separated: 张伟 and 章伟 are both
    ``"zhang wei"``. Each character is read on its own (a name is not a phrase), with the
    surname reading for the first character where it differs from the common one
    (曾 zeng, not ceng; 单 shan, not dan).
``fuzzy_pinyin_key``
    the pinyin key with the confusions of regional Mandarin merged — retroflex and flat
    initials (zh/z, ch/c, sh/s), n/l, and front and back nasals (an/ang, en/eng, in/ing) —
    so 张 (zhang) and 臧 (zang), 林 (lin) and 凌 (ling) agree.

>>> pinyin_key("张伟"), pinyin_key("章伟")
('zhang wei', 'zhang wei')
>>> pinyin_key("曾国藩"), pinyin_key("单田芳")
('zeng guo fan', 'shan tian fang')
>>> fuzzy_pinyin_key("林静"), fuzzy_pinyin_key("凌靖")
('lin jin', 'lin jin')
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import polars as pl
from pypinyin import Style, lazy_pinyin

# Surnames whose reading differs from the character's most common one.
SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "区": "ou",
    "仇": "qiu",
    "朴": "piao",
    "查": "zha",
    "缪": "miao",
    "覃": "qin",
    "乐": "yue",
    "盖": "ge",
    "召": "shao",
    "种": "chong",
    "秘": "bi",
    "尉": "yu",
    "繁": "po",
    "翟": "zhai",
    "句": "gou",
    "员": "yun",
    "隗": "wei",
}

# (from, to) on the start of a syllable, then on its end; applied in this order.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FUZZY_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))
# Characters that are not part of a name's sound: separators in minority names
# (阿不都·热合曼), spaces, dots.
_SEPARATORS = frozenset(" \t·•.．-—_")


@lru_cache(maxsize=65_536)
def _reading(char: str) -> str:
    syllables = lazy_pinyin(char, style=Style.NORMAL, v_to_u=False, errors="default")
    return (syllables[0] if syllables else char).lower()


def _syllables(name: str) -> list[str]:
    text = unicodedata.normalize("NFKC", name).strip()
    chars = [c for c in text if c not in _SEPARATORS]
    out: list[str] = []
    for position, char in enumerate(chars):
        if position == 0 and char in SURNAME_READINGS:
            out.append(SURNAME_READINGS[char])
        else:
            out.append(_reading(char))
    return out


@lru_cache(maxsize=32_768)
def _fuzzy_syllable(syllable: str) -> str:
    for source, target in _FUZZY_INITIALS:
        if syllable.startswith(source):
            syllable = target + syllable[len(source) :]
            break
    for source, target in _FUZZY_FINALS:
        if syllable.endswith(source):
            syllable = syllable[: -len(source)] + target
            break
    return syllable


def pinyin_key(name: str) -> str:
    """The name's toneless pinyin, one syllable per character, space-separated."""
    return " ".join(_syllables(name))


def fuzzy_pinyin_key(name: str) -> str:
    """:func:`pinyin_key` with zh/z, ch/c, sh/s, n/l, an/ang, en/eng, in/ing merged."""
    return " ".join(_fuzzy_syllable(s) for s in _syllables(name))


def pinyin_keys(names: pl.Series) -> pl.DataFrame:
    """``name_pinyin`` and ``name_fuzzy`` for every name, computed once per distinct name.

    >>> pinyin_keys(pl.Series(["张伟", "章伟", None])).rows()
    [('zhang wei', 'zan wei'), ('zhang wei', 'zan wei'), (None, None)]
    """
    distinct = names.drop_nulls().unique().to_list()
    exact = [pinyin_key(n) for n in distinct]
    fuzzy = [" ".join(_fuzzy_syllable(s) for s in key.split(" ")) for key in exact]
    table = pl.DataFrame(
        {"name": distinct, "name_pinyin": exact, "name_fuzzy": fuzzy},
        schema={"name": pl.Utf8, "name_pinyin": pl.Utf8, "name_fuzzy": pl.Utf8},
    )
    return (
        names.rename("name")
        .cast(pl.Utf8)
        .to_frame()
        .join(table, on="name", how="left", maintain_order="left")
        .select("name_pinyin", "name_fuzzy")
    )
