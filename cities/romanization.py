"""English names of a city's units, made at build time: the proper part of a Chinese name in pinyin (pypinyin,
with the city's own readings of place-name characters), the kind of unit in English.

鼓浪屿街道 -> "Gulangyu Subdistrict", 曾厝垵社区居委会 -> "Zengcuo'an Community", 后井村委会 -> "Houjing Village".
The proper part is one word, with an apostrophe before a syllable that starts with a, o or e (GB/T 16159, as the
city's district names have it: Tong'an, Xiang'an); a leading place name (the city's, a district's) is a word of
its own, so 厦门海沧保税港区 -> "Xiamen Haicang Bonded Port Area".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pypinyin import Style, lazy_pinyin

# the generic part that ends a unit's name, and its English; the longest that fits is taken
UNIT_KINDS = {
    "社区居民委员会": "Community",
    "社区居委会": "Community",
    "居民委员会": "Community",
    "居委会": "Community",
    "虚拟社区": "Virtual Community",
    "社区": "Community",
    "村民委员会": "Village",
    "村委会": "Village",  # 顶村村委会 -> Dingcun Village: the 村 before it belongs to the name
    "村": "Village",
    "虚拟生活区": "Virtual Living Area",
    "生活区": "Living Area",
    "街道办事处": "Subdistrict",
    "街道": "Subdistrict",
    "镇": "Town",
    "乡": "Township",
}
# a one-syllable proper name keeps its generic word in the name (GB/T 17693.1: 东乡 -> Dongxiang Township); for a
# committee that word is the unit's, not the committee's (东村村委会 -> Dongcun Village)
UNIT_WORD = {"社区居民委员会": "社区", "社区居委会": "社区", "村民委员会": "村", "村委会": "村", "街道办事处": "街道"}
# the kinds of special areas (farms, bonded zones ...): they end a sub-district's name, or come before a unit kind
AREA_KINDS = {
    "保税港区": "Bonded Port Area",
    "保税区": "Bonded Zone",
    "保税园": "Bonded Park",
    "高技术开发区": "High-tech Development Zone",
    "高技术开发园": "High-tech Park",
    "开发区": "Development Zone",
    "华侨农场": "Overseas Chinese Farm",
    "种猪场": "Breeding Pig Farm",
    "防护林场": "Shelter Forest Farm",
    "林场": "Forest Farm",
    "农场": "Farm",
}
PREFIXES = {"省": "Provincial"}  # a leading word that is translated, not spelt
WORDS = {"畲族": "She Ethnic"}  # words translated wherever they stand (钟宅畲族社区)
CN_DIGITS = "一二三四五六七八九十"
# an ordinal (第二 -> No. 2) or a translated word splits the proper part into words
SPLIT = re.compile(f"(第[{CN_DIGITS}](?![{CN_DIGITS}])|{'|'.join(WORDS)})")
HAN = re.compile(r"[\u3400-\u9fff]+")
VOWEL_START = ("a", "o", "e")


class Romanizer:
    """English names for the units of one city. `readings`: characters the city reads otherwise than pypinyin's
    most common reading (厦 is xia in 厦门, 曾 is zeng in 曾厝垵); `places`: the proper names (the city's, its
    districts') that may begin a longer name."""

    def __init__(self, readings: Mapping[str, str], places: Iterable[str]) -> None:
        self.readings = dict(readings)
        # longest first, so 厦门 is not taken for a shorter place that starts the same
        self.places = sorted({p for p in places if p}, key=len, reverse=True)

    def syllables(self, text: str) -> list[str]:
        """The pinyin of Chinese text, one syllable per character (other text kept as it is)."""
        out: list[str] = []
        pos = 0
        for run in HAN.finditer(text):
            if run.start() > pos:
                out.append(text[pos : run.start()])
            # the whole run at once, so pypinyin's phrase dictionary picks readings in context
            read = lazy_pinyin(run.group(), style=Style.NORMAL, v_to_u=False)
            if len(read) != len(run.group()):  # pypinyin keeps one syllable per character; guard anyway
                read = [lazy_pinyin(ch, style=Style.NORMAL, v_to_u=False)[0] for ch in run.group()]
            # ü is spelt v by pypinyin; names in ASCII spell it yu (as passports do: 吕 -> Lyu)
            out.extend(self.readings.get(ch, syl).replace("v", "yu") for ch, syl in zip(run.group(), read, strict=True))
            pos = run.end()
        if pos < len(text):
            out.append(text[pos:])
        return out

    def word(self, text: str) -> str:
        """The proper name `text` as one capitalised pinyin word: 鼓浪屿 -> Gulangyu, 同安 -> Tong'an."""
        joined = ""
        for k, syl in enumerate(self.syllables(text)):
            joined += ("'" if k and syl.startswith(VOWEL_START) else "") + syl
        return joined[:1].upper() + joined[1:]

    def proper(self, text: str) -> list[str]:
        """The words of a proper part: leading prefixes and place names apart, ordinals and translated words
        apart, the rest spelt as words."""
        words: list[str] = []
        while True:
            lead = next((p for p in (*PREFIXES, *self.places) if text.startswith(p) and len(text) > len(p)), None)
            if lead is None:
                break
            words.append(PREFIXES.get(lead) or self.word(lead))
            text = text[len(lead) :]
        for part in SPLIT.split(text):
            if part.startswith("第") and SPLIT.fullmatch(part):
                words.append(f"No. {CN_DIGITS.index(part[1]) + 1}")
            elif part in WORDS:
                words.append(WORDS[part])
            elif part:
                words.append(self.word(part))
        return words

    def name(self, chinese: str) -> str:
        """The English name of a unit from its Chinese name."""
        text = chinese.strip()
        kinds: list[str] = []
        unit = _suffix(text, UNIT_KINDS)
        if unit:
            text = text[: -len(unit)]
            kinds.append(UNIT_KINDS[unit])
            if len(text) == 1 and HAN.fullmatch(text):
                text += UNIT_WORD.get(unit, unit)
        area = _suffix(text, AREA_KINDS)
        if area:
            text = text[: -len(area)]
            kinds.insert(0, AREA_KINDS[area])
        return " ".join([*self.proper(text), *kinds])


def _suffix(text: str, kinds: Mapping[str, str]) -> str | None:
    """The longest kind that ends `text` and leaves something before it."""
    fits = [k for k in kinds if text.endswith(k) and len(text) > len(k)]
    return max(fits, key=len, default=None)
