"""/case/<id> in headless Chromium: opened from the dispatch console's panel, its timeline and a photo show, and
printed it has no navigation. The `chrome` fixture checks the console and the network after each test."""

from __future__ import annotations

import base64

import pytest
from selenium.webdriver.common.by import By

from bench.browser import sign_in, wait_for
from tests.browser.test_console import click_first_row, css, open_tab, rows
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow

PHOTO_LOADED = "return [...document.querySelectorAll('#case-photos img')].some(i => i.complete && i.naturalWidth > 0)"


def test_the_case_page_opens_from_the_console_and_prints_without_the_navigation(chrome, base_url):
    sign_in(chrome, base_url, "dispatcher", DEMO_PASSWORD, "/dispatch")
    wait_for(chrome, lambda d: rows(d), 40)
    open_tab(chrome, "dispatch")
    wait_for(chrome, lambda d: rows(d) and all(r.text == "已立案" for r in css(d, "td[data-dash-column='state']")), 20)
    case_no = click_first_row(chrome)
    link = wait_for(chrome, lambda d: css(d, "#dispatch-case-link")[0] if css(d, "#dispatch-case-link") else None, 20)
    wait_for(chrome, lambda d: d.find_element(By.ID, "dispatch-case-no").text == case_no, 20)
    before = set(chrome.window_handles)
    link.click()
    new = wait_for(chrome, lambda d: (set(d.window_handles) - before or {None}).pop(), 20)
    chrome.switch_to.window(new)
    wait_for(chrome, lambda d: css(d, "#case-no") and d.find_element(By.ID, "case-no").text == case_no, 30)
    # the timeline from the event log: the report first, each step by its name (a filed case: report, file, …)
    steps = css(chrome, "#case-timeline .timeline-row")
    assert len(steps) >= 2 and "上报" in steps[0].text and "立案" in chrome.find_element(By.ID, "case-timeline").text
    # a filed case from the queue; the demo's inspector reports carry a (synthetic) photo: it loads
    if css(chrome, "#case-photos img"):
        wait_for(chrome, lambda d: d.execute_script(PHOTO_LOADED), 20)
        assert "合成演示照片" in chrome.find_element(By.ID, "case-photos").text
    assert chrome.find_element(By.CSS_SELECTOR, ".top-nav").is_displayed()
    chrome.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not chrome.find_element(By.CSS_SELECTOR, ".top-nav").is_displayed()
    assert not chrome.find_element(By.ID, "case-print").is_displayed()
    assert chrome.find_element(By.ID, "case-timeline").is_displayed()
    assert not [c for c in css(chrome, "#case-map .leaflet-control-zoom") if c.is_displayed()]
    pdf = base64.b64decode(chrome.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})["data"])
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    chrome.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_a_case_with_photos_shows_them(chrome, base_url, demo_env):
    import sqlite3

    path = demo_env["XIUHUA_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        (case_id,) = db.execute(
            "SELECT case_id FROM media WHERE synthetic AND stage = 'check' ORDER BY case_id LIMIT 1"
        ).fetchone()
    sign_in(chrome, base_url, "dispatcher", DEMO_PASSWORD, f"/case/{case_id}")
    wait_for(chrome, lambda d: css(d, "#case-photos-check img"), 30)
    wait_for(chrome, lambda d: d.execute_script(PHOTO_LOADED), 20)
    chrome.save_screenshot("/tmp/case-browser.png")
