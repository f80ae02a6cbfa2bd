"""Names of codes in both languages: Chinese by default; in English no label shows Chinese where an English name
exists (matters, districts, sub-districts, communities, squads, departments)."""

from __future__ import annotations

import pytest

from web import names
from web.services import KEY

pytestmark = pytest.mark.slow


@pytest.fixture
def city(app):
    return app.server.config[KEY].workflow.engine.city


def _every_name(city) -> list[str]:
    layers = city.layers
    return [
        *(names.matter(c) for c in city.matters["code"]),
        *names.matter_classes().values(),
        *(names.area(lv, c) for lv in ("districts", "subdistricts", "communities") for c in layers[lv]["code"]),
        *(names.squad(s) for s in layers["squads"]["id"]),
        *(names.department(d) for d in city.departments["code"]),
    ]


def test_in_english_every_matter_area_squad_and_department_is_named_in_ascii(app, city):
    with app.server.test_request_context(headers={"Cookie": "xiuhua_lang=en"}):
        shown = _every_name(city)
        assert len(shown) > 99 + 54 + 500
        assert [s for s in shown if not s.strip() or not s.isascii()] == []
        assert names.matter("06010") == "06010 Exposed garbage"
        # the wall's top matters: five matters of one class used to read alike, "(City appearance and environment)"
        assert len({names.matter(c) for c in ("06010", "06011", "06012", "06036", "06041")}) == 5
        assert names.area("subdistricts", "350203012") == "Gulangyu Subdistrict"
        assert names.area("communities", "350203005007") == "Zengcuo'an Community"
        assert names.squad("SQ350203001") == "Xiagang Subdistrict Enforcement Squad"
        assert names.squad("CGJ") == "City Management and Law Enforcement Bureau"  # a case dispatched to a department


def test_chinese_stays_the_default(app, city):
    with app.server.test_request_context():  # no language chosen: the city's (city.toml: zh)
        assert names.matter("06010") == "06010 暴露垃圾"
        assert names.area("subdistricts", "350203012") == "鼓浪屿街道"
        assert names.squad("SQ350203001") == "厦港街道执法中队"
        assert names.area("communities", None) == "—"
