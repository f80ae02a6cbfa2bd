"""Where am I and what am I looking at, in headless Chromium (issue 9): the district review's figures say which
period they count and the legend which metric the map shows; a district head's map shows the neighbouring
districts as grey land, not as sea; the map names sub-districts, communities and cells as one zooms in."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By

from bench.browser import sign_in, wait_for
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow

# pixels of the land pane's canvas in the neighbours' grey (assets/xiuhua.js landStyle), and in all
GREY_LAND = """const c = document.querySelector('.leaflet-land-pane canvas');
    if (!c || !c.width) { return null; }
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let grey = 0;
    for (let i = 0; i < px.length; i += 4) {
        if (Math.abs(px[i] - 0xe4) < 3 && Math.abs(px[i + 1] - 0xe2) < 3 && Math.abs(px[i + 2] - 0xde) < 3) grey++;
    }
    return [grey, px.length / 4];"""


def css(driver, selector):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def texts(driver, selector) -> list[str]:
    return [e.text for e in css(driver, selector)]


def test_the_district_review_says_which_period_and_metric_it_shows(chrome, base_url):
    sign_in(chrome, base_url, "head.350203", DEMO_PASSWORD, "/district/350203")
    wait_for(chrome, lambda d: "近 30 天上报" in texts(d, ".kpi-label"), 40)
    assert "今日上报" not in chrome.find_element(By.CSS_SELECTOR, ".page.district").text
    chrome.find_element(By.CSS_SELECTOR, "#district-period input[value='7d']").click()
    wait_for(chrome, lambda d: "近 7 天上报" in texts(d, ".kpi-label"), 20)
    wait_for(chrome, lambda d: all("近 7 天上报" in t for t in texts(d, ".review-side table.league thead")), 20)
    assert len(css(chrome, ".review-side table.league")) == 2
    # the legend follows the metric the map shows
    assert chrome.find_element(By.ID, "district-legend-metric").text == "在办案件数"
    for metric, name in (("overdue", "超期案件数"), ("repeat", "重复发生")):
        chrome.find_element(By.CSS_SELECTOR, f"#district-metric input[value='{metric}']").click()
        wait_for(chrome, lambda d, n=name: d.find_element(By.ID, "district-legend-metric").text == n, 20)
    # the neighbouring districts are land (grey), not sea, around the head's own district
    land = wait_for(chrome, lambda d: (g := d.execute_script(GREY_LAND)) and g[0] and g, 30)
    assert land[0] > 0.05 * land[1], land


@pytest.mark.parametrize(
    ("zoom", "kind", "pattern"),
    [(11, None, None), (12.5, "subdistricts", r"\w+"), (15, "communities", r"\w+"), (18, "grid_cells", r"\d{15}")],
)
def test_the_map_names_places_as_one_zooms_in(chrome, base_url, zoom, kind, pattern):
    sign_in(chrome, base_url, "dispatcher", DEMO_PASSWORD, f"/dispatch?at=118.09,24.46,{zoom}")
    if kind is None:  # over the whole city no names are written (the map's data arrived with its hotspots)
        wait_for(chrome, lambda d: css(d, ".leaflet-overlay-pane path.hotspot"), 40)
        assert not css(chrome, ".map-label")
        return
    labels = wait_for(chrome, lambda d: [t for t in texts(d, f".map-label.label-{kind} span") if t], 30)
    assert all(re.fullmatch(pattern, t) for t in labels), labels
    # the labels let clicks through to the map below them
    assert chrome.execute_script(
        "return getComputedStyle(document.querySelector('.map-label')).pointerEvents"
    ) == "none"  # fmt: skip
