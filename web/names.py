"""Display names of codes (matters, areas, squads, departments, states) in the current language. Chinese names are
the city's own; English ones come with the built city (`name_en`: the catalogue's translations, pinyin for
sub-districts, communities and squads)."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import tzinfo

import pandas as pd

from dispatch.table import Labels
from dispatch.workflow import CLOSED, OPEN, SOURCES, URGENCIES
from geo.ownership import City
from geo.registry import LAYERS
from web.i18n import LANGUAGES, language, t
from web.services import services

AREAS = {"districts": "district", "subdistricts": "subdistrict", "communities": "community"}


@dataclass(frozen=True)
class CityNames:
    """code -> name for each (kind, language): kinds matter, class, department, district, subdistrict, community,
    squad and unit (squads and departments together)."""

    tables: dict[tuple[str, str], dict[str, str]]

    def name(self, kind: str, code: str, lang: str) -> str:
        return self.tables.get((kind, lang), {}).get(code, code)


def _column(df: pd.DataFrame, name: str, fallback: str) -> pd.Series:
    # a layer version may lack name_en (a redrawn district): its Chinese name stands in
    return df[name].fillna(df[fallback]) if name in df.columns else df[fallback]


def _pairs(codes: pd.Series, names: pd.Series) -> dict[str, str]:
    return dict(zip(codes.astype(str), names.astype(str), strict=True))


def _build(city: City) -> CityNames:
    m, d = city.matters, city.departments
    # a city built before the catalogue had English names: the matter's class stands in, as it used to
    matter_en = m["name_en"] if "name_en" in m.columns else "(" + m["class_name_en"].astype(str) + ")"
    tables = {
        ("matter", "zh"): _pairs(m["code"], m["name_zh"]),
        ("matter", "en"): _pairs(m["code"], matter_en),
        ("class", "zh"): _pairs(m["code"].str[:2], m["class_name_zh"]),
        ("class", "en"): _pairs(m["code"].str[:2], m["class_name_en"]),
        ("department", "zh"): _pairs(d["code"], d["name_zh"]),
        ("department", "en"): _pairs(d["code"], d["name_en"]),
    }
    for layer, kind in (*AREAS.items(), ("squads", "squad")):
        gdf = city.layers[layer]
        ids = gdf[LAYERS[layer].id_field]
        tables[(kind, "zh")] = _pairs(ids, gdf["name"])
        tables[(kind, "en")] = _pairs(ids, _column(gdf, "name_en", "name"))
    for lang in LANGUAGES:
        tables[("unit", lang)] = {**tables[("department", lang)], **tables[("squad", lang)]}
    return CityNames(tables)


# per city object (a layer version makes a new one); an entry goes when its city does, so no old city is kept
_CACHE: dict[int, tuple[weakref.ref[City], CityNames]] = {}


def city_names(city: City) -> CityNames:
    """The names of a city's codes (cached per city)."""
    hit = _CACHE.get(id(city))
    if hit is not None and hit[0]() is city:
        return hit[1]
    names = _build(city)
    key = id(city)
    _CACHE[key] = (weakref.ref(city, lambda _ref: _CACHE.pop(key, None)), names)
    return names


def _here() -> CityNames:
    return city_names(services().workflow.engine.city)


def matter(code: str) -> str:
    """A matter's code and name."""
    return f"{code} {_here().name('matter', code, language())}"


def matter_classes() -> dict[str, str]:
    """Two-digit class code -> class name."""
    return dict(sorted(_here().tables[("class", language())].items()))


def department(code: str | None) -> str:
    return _here().name("department", code, language()) if code else "—"


def area(level: str, code: str | None) -> str:
    """The name of a district, sub-district or community."""
    return _here().name(AREAS[level], code, language()) if code else "—"


def squad(code: str | None) -> str:
    """A squad's name (or a department's: a case may be dispatched to either)."""
    return _here().name("unit", code, language()) if code else "—"


def case_labels(city: City, lang: str, tz: tzinfo, base_url: str = "") -> Labels:
    """Everything a case export needs to name codes in `lang`, write times in the city's zone `tz` and link each
    case to its page under `base_url`."""
    names = city_names(city)
    messages = {
        kind: {code: t(f"{kind}.{code}", lang) for code in codes}
        for kind, codes in (("state", (*OPEN, *CLOSED)), ("source", SOURCES), ("urgency", URGENCIES))
    }
    kinds = ("matter", "district", "subdistrict", "community", "unit")
    return Labels(lang, tz, {**messages, **{kind: names.tables[(kind, lang)] for kind in kinds}}, base_url)
