"""Full-page tests in headless Chromium: each page renders with the demo city, clicking an incident opens its
panel, dispatching updates the queue, the wall refreshes by itself, and a district head cannot open another
district. The `chrome` fixture checks after each test that the console stayed clean and that no request left
127.0.0.1."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from bench.browser import console_errors, sign_in, wait_for
from cities.config import load_config
from dispatch.context import open_workflow
from store.models import NewCase
from store.registry import open_store
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow


def css(driver, selector):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def text_of(driver, element_id: str) -> str:
    found = driver.find_elements(By.ID, element_id)
    return found[0].text if found else ""


@pytest.mark.parametrize(
    ("user", "path", "ready"),
    [
        ("wall", "/wall", "#wall-kpi-reported"),
        ("dispatcher", "/dispatch", "#dispatch-queue td"),
        ("head.350203", "/district/350203", "#district-kpi-reported"),
    ],
)
def test_each_page_renders_with_the_demo_city(chrome, base_url, user, path, ready):
    sign_in(chrome, base_url, user, DEMO_PASSWORD, path)
    wait_for(chrome, lambda d: css(d, ready), 40)
    # the map drew the city: land or areas as canvas paths, and the legend and the scale bar are there
    wait_for(chrome, lambda d: css(d, ".leaflet-overlay-pane canvas, .leaflet-overlay-pane svg path"), 30)
    assert css(chrome, ".leaflet-control-scale") and css(chrome, ".map-legend")
    assert css(chrome, "#synthetic-badge")


def _queue_case(base_url, demo_env):
    """A filed case of the queue, read straight from the embedded store file."""
    path = demo_env["XIUHUA_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT id, case_no, lon, lat FROM cases WHERE state = 'filed' ORDER BY id DESC LIMIT 1"
        ).fetchone()


def test_clicking_an_incident_opens_its_panel(chrome, base_url, demo_env):
    case_id, case_no, lon, lat = _queue_case(base_url, demo_env)
    sign_in(chrome, base_url, "dispatcher", DEMO_PASSWORD, f"/dispatch?at={lon},{lat},18")
    marker = wait_for(chrome, lambda d: css(d, f"path.case-{case_id}"), 40)[0]
    marker.click()
    wait_for(chrome, lambda d: text_of(d, "dispatch-case-no") == case_no, 20)
    # the owners with the rule that decided, named in the page's language
    assert css(chrome, "#dispatch-panel #dispatch-rule.applies")
    assert "SQ3502" not in text_of(chrome, "dispatch-panel")  # squads by name, not code


def test_dispatching_updates_the_queue(chrome, base_url):
    sign_in(chrome, base_url, "dispatcher", DEMO_PASSWORD, "/dispatch")
    wait_for(chrome, lambda d: css(d, "#dispatch-queue td[data-dash-column='no']"), 40)
    # the first filed case, on the tab of cases to dispatch (the others wait for an approval or are parked)
    chrome.find_element(By.ID, "dispatch-tab-dispatch").click()
    state = "#dispatch-queue td[data-dash-column='state']"
    wait_for(chrome, lambda d: {c.text for c in css(d, state)} == {"已立案"}, 20)
    rows = css(chrome, "#dispatch-queue tbody tr")
    row = next(r for r in rows if r.find_elements(By.CSS_SELECTOR, "td[data-dash-column='state']")
               and r.find_element(By.CSS_SELECTOR, "td[data-dash-column='state']").text == "已立案")  # fmt: skip
    cell = row.find_element(By.CSS_SELECTOR, "td[data-dash-column='no']")
    case_no = cell.text.split()[0]
    cell.click()
    wait_for(chrome, lambda d: text_of(d, "dispatch-case-no") == case_no, 20)
    wait_for(chrome, lambda d: "派遣" in css(d, "#dispatch-action")[0].text, 10)
    chrome.find_element(By.ID, "dispatch-submit").click()
    wait_for(chrome, lambda d: css(d, "#dispatch-message p"), 20)
    assert css(chrome, "#dispatch-message .ok"), text_of(chrome, "dispatch-message")
    # the queue no longer lists it, without a reload
    wait_for(
        chrome,
        lambda d: case_no not in [c.text.split()[0] for c in css(d, "#dispatch-queue td[data-dash-column='no']")],
        20,
    )


def test_the_wall_refreshes_by_itself(chrome, base_url, demo_env):
    sign_in(chrome, base_url, "wall", DEMO_PASSWORD, "/wall")
    wait_for(chrome, lambda d: text_of(d, "wall-kpi-reported"), 40)
    before = int(text_of(chrome, "wall-kpi-reported"))
    stamp = text_of(chrome, "wall-updated")
    # a new report arrives through the real workflow, written by another process than the server
    store = open_store(demo_env["XIUHUA_DATABASE_URL"])
    wf = open_workflow(store, load_config("xiamen", Path(demo_env["XIUHUA_DATA_DIR"])))
    wf.report(store.get_user("acceptor"), NewCase("06036", 118.0894, 24.4798, "hotline", datetime.now(UTC)))
    store.close()
    zoom_before = chrome.execute_script("return document.querySelector('.leaflet-map-pane').style.transform")
    wait_for(chrome, lambda d: int(text_of(d, "wall-kpi-reported") or 0) > before, 30)
    assert text_of(chrome, "wall-updated") != stamp
    # the refresh did not move the map
    assert chrome.execute_script("return document.querySelector('.leaflet-map-pane').style.transform") == zoom_before


def test_a_district_head_cannot_open_another_district(chrome, base_url):
    sign_in(chrome, base_url, "head.350203", DEMO_PASSWORD, "/district/350206")
    wait_for(chrome, lambda d: css(d, "#forbidden"), 30)
    assert not css(chrome, "#district-map")
    chrome.get(base_url + "/export/district/350206/cases.csv")
    assert "无权查看或处理 350206 区的数据" in chrome.find_element(By.TAG_NAME, "body").text
    # that refusal is the one console error expected here (the fixture checks the rest)
    assert [e for e in console_errors(chrome) if "403" not in e] == []
    chrome.get(base_url + "/dispatch")
    wait_for(chrome, lambda d: css(d, "#forbidden"), 30)
    time.sleep(0.5)


def test_the_browser_shifts_to_gcj02_as_geo_does(chrome, base_url):
    # with a GCJ-02 basemap the browser shifts every layer for display; it must agree with geo/ (which the
    # server uses to shift back) to well under a metre, or incidents would sit off their streets
    from geo.chinacoords import wgs84_to_gcj02

    sign_in(chrome, base_url, "wall", DEMO_PASSWORD, "/wall")
    wait_for(chrome, lambda d: d.execute_script("return !!(window.xiuhua && window.xiuhua.gcj)"), 30)
    points = [(118.0894, 24.4798), (117.9, 24.7), (118.3, 24.55), (2.35, 48.85)]
    got = chrome.execute_script("return arguments[0].map(p => window.xiuhua.gcj(p[0], p[1]))", points)
    for (lon, lat), (glon, glat) in zip(points, got, strict=True):
        elon, elat = wgs84_to_gcj02([lon], [lat])
        assert abs(glon - float(elon[0])) < 1e-8 and abs(glat - float(elat[0])) < 1e-8
