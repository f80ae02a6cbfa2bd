"""/campaigns in headless Chromium: a campaign's two maps (before | during) draw its area and its cases, with a
clean console (the chrome fixture checks it); a screenshot for the README."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from bench.browser import sign_in, wait_for
from dispatch.campaigns import area_from_codes, draft
from store.registry import open_store
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow


def test_a_campaign_draws_its_area_and_cases_before_and_during(chrome, base_url, demo_env, city):
    store = open_store(demo_env["XIUHUA_DATABASE_URL"])
    try:
        coms = [c.community for c in store.cases(districts=["350203"], limit=400) if c.community]
        busiest = min(set(coms), key=lambda c: (-coms.count(c), c))
        area, source = area_from_codes(city.layers, "communities", [busiest])
        today = datetime.now(UTC).date()
        starts, ends = today - timedelta(days=2), today + timedelta(days=12)
        new = draft("治难点 · 浏览器测试", "difficult", area, source, starts, ends, [], set(city.matters["code"]),
                    city.layers["districts"], city.metric_crs)  # fmt: skip
        c = store.add_campaign(new, "shiftlead", datetime.now(UTC))
    finally:
        store.close()
    sign_in(chrome, base_url, "shiftlead", DEMO_PASSWORD, f"/campaigns?campaign={c.id}")
    wait_for(chrome, lambda d: d.find_elements(By.ID, f"campaigns-row-{c.id}"), 40)
    for which in ("before", "during"):
        marks = f"#campaigns-map-{which} .leaflet-overlay-pane path"
        wait_for(chrome, lambda d, m=marks: len(d.find_elements(By.CSS_SELECTOR, m)) >= 2, 30)  # outline + cases
    shot = os.environ.get("XIUHUA_SCREENSHOT_DIR")
    if shot:
        chrome.save_screenshot(str(Path(shot) / "campaigns.png"))
    # the form a shift lead creates campaigns with: folded until asked for
    assert not chrome.find_element(By.ID, "campaigns-new-create").is_displayed()
    chrome.find_element(By.CSS_SELECTOR, "#campaigns-new summary").click()
    wait_for(chrome, lambda d: d.find_element(By.ID, "campaigns-new-create").is_displayed(), 10)
    if shot:
        chrome.save_screenshot(str(Path(shot) / "campaigns-form.png"))
    # create one by drawing a rectangle in the middle of the form's map
    chrome.find_element(By.ID, "campaigns-new-name").send_keys("扫盲点 · 画的")
    for field, day in (("campaigns-new-from", "11012026"), ("campaigns-new-to", "11302026")):
        chrome.find_element(By.ID, field).send_keys(day)  # the date box in headless Chromium's en-US order
    chrome.find_element(By.CSS_SELECTOR, "#campaigns-new-by input[value='draw']").click()
    chrome.find_element(By.CSS_SELECTOR, "#campaigns-new-map .leaflet-draw-draw-rectangle").click()
    the_map = chrome.find_element(By.ID, "campaigns-new-map")
    ActionChains(chrome).move_to_element_with_offset(the_map, -20, -20).click_and_hold().move_by_offset(
        40, 40
    ).release().perform()
    chrome.find_element(By.ID, "campaigns-new-create").click()
    wait_for(chrome, lambda d: d.find_elements(By.ID, "campaigns-new-link") or d.find_elements(By.ID,
             "campaigns-new-error"), 20)  # fmt: skip
    made = chrome.find_elements(By.ID, "campaigns-new-link")
    if shot:
        chrome.save_screenshot(str(Path(shot) / "campaigns-drawn.png"))
    assert made, chrome.find_element(By.ID, "campaigns-new-error").text
    assert "扫盲点 · 画的" in made[0].text
