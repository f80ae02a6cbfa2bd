"""English names of units: pinyin of the proper part (with the city's readings), the kind of unit in English."""

import dataclasses

import pytest

from cities.config import load_config
from cities.romanization import Romanizer
from geo.errors import InvalidInput
from tests.conftest import DATA

XIAMEN = Romanizer({"厦": "xia", "曾": "zeng", "圩": "xu", "珩": "heng"}, ["厦门", "海沧", "同安"])


@pytest.mark.parametrize(
    ("chinese", "english"),
    [
        ("鼓浪屿街道", "Gulangyu Subdistrict"),
        ("厦港街道", "Xiagang Subdistrict"),  # 厦 is xia here, not pypinyin's sha
        ("曾厝垵社区居委会", "Zengcuo'an Community"),  # an apostrophe before a syllable starting with a, o, e
        ("大帽山社区居民委员会", "Damaoshan Community"),
        ("后井村委会", "Houjing Village"),
        ("顶村村委会", "Dingcun Village"),  # the 村 of the village's own name stays in it
        ("新圩镇", "Xinxu Town"),
        ("后埔村", "Houpu Village"),
        ("东乡", "Dongxiang Township"),  # a one-syllable proper name keeps its generic word (GB/T 17693.1)
        ("湖村村委会", "Hucun Village"),
        ("灌口第二社区居委会", "Guankou No. 2 Community"),
        ("钟宅畲族社区居委会", "Zhongzhai She Ethnic Community"),
        ("吕厝社区居委会", "Lyucuo Community"),  # ü in ASCII, as passports spell it
        ("厦门海沧保税港区", "Xiamen Haicang Bonded Port Area"),  # leading place names are words of their own
        ("天竺山林场虚拟生活区", "Tianzhushan Forest Farm Virtual Living Area"),
        ("省天马种猪场", "Provincial Tianma Breeding Pig Farm"),
        ("同安", "Tong'an"),  # a place name alone is not split off from nothing
    ],
)
def test_english_names(chinese, english):
    assert XIAMEN.name(chinese) == english
    assert english.isascii()


def test_the_citys_readings_are_what_fix_heteronyms():
    plain = Romanizer({}, [])
    assert plain.name("曾厝垵社区居委会") == "Cengcuo'an Community"  # pypinyin's common reading, wrong here
    assert plain.name("厦港街道") == "Shagang Subdistrict"


def test_readings_come_from_city_toml_and_are_checked(tmp_path):
    cfg = load_config("xiamen", DATA)
    assert cfg.readings["厦"] == "xia"
    text = (DATA / "xiamen" / "city.toml").read_text(encoding="utf-8")
    bad = tmp_path / "city.toml"
    for src in cfg.sources.values():  # the sources, where the copied city.toml looks for them
        (tmp_path / src.name).symlink_to(src)
    bad.write_text(
        text.replace("../catalog/matters.csv", "matters.csv").replace('"厦" = "xia"', '"厦" = "Xià"'),
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match="readings"):
        load_config(str(bad), DATA)
    assert dataclasses.replace(cfg, readings={}).readings == {}
