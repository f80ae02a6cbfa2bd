"""Display names of codes (matters, areas, squads, departments) in the current language."""

from __future__ import annotations

from functools import cache

from web.i18n import language
from web.services import services


@cache
def _matters(city_id: int) -> dict[str, tuple[str, str, str]]:
    m = services().workflow.engine.city.matters
    return {
        str(r.code): (str(r.name_zh), str(r.class_name_zh), str(r.class_name_en)) for r in m.itertuples(index=False)
    }


@cache
def _departments(city_id: int) -> dict[str, tuple[str, str]]:
    d = services().workflow.engine.city.departments
    return {str(r.code): (str(r.name_zh), str(r.name_en)) for r in d.itertuples(index=False)}


def matter(code: str) -> str:
    """A matter's name; in English its class, as the catalogue names matters only in Chinese."""
    name, _zh, cls_en = _matters(id(services().workflow.engine.city)).get(code, (code, "", ""))
    return f"{code} {name}" if language() == "zh" else f"{code} ({cls_en})"


def matter_classes() -> dict[str, str]:
    """Two-digit class code -> class name."""
    out: dict[str, str] = {}
    for code, (_, zh, en) in _matters(id(services().workflow.engine.city)).items():
        out.setdefault(code[:2], zh if language() == "zh" else en)
    return dict(sorted(out.items()))


def department(code: str | None) -> str:
    if not code:
        return "—"
    zh, en = _departments(id(services().workflow.engine.city)).get(code, (code, code))
    return zh if language() == "zh" else en


def area(level: str, code: str | None) -> str:
    """The name of a district, sub-district or community (Chinese; districts also in English)."""
    if not code:
        return "—"
    layers = services().layers
    if level == "districts" and language() == "en":
        return layers.district_names_en.get(code, code)
    return str(layers.names[level].get(code, code))


def squad(code: str | None) -> str:
    if not code:
        return "—"
    return str(services().layers.names["squads"].get(code, department(code)))
