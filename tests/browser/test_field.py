"""The inspector's phone page in headless Chromium at 360×800: search a matter, tap the map, see the owner answer,
attach a photo, send, see the case number; a failed send keeps everything (and a reload restores it); then a
check task done with a photo. The `chrome` fixture checks the console and the network after each test."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from bench.browser import set_viewport, sign_in, wait_for
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow


def _db(demo_env):
    return sqlite3.connect(demo_env["XIUHUA_DATABASE_URL"].removeprefix("sqlite:///"))


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "kerb.jpg"
    Image.new("RGB", (320, 240), (180, 90, 30)).save(path, "JPEG")
    return path


@pytest.fixture
def phone(chrome, base_url):
    set_viewport(chrome, 360, 800)
    sign_in(chrome, base_url, "sup.350203", DEMO_PASSWORD, "/field")
    wait_for(chrome, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", 30)
    return chrome


def _patrol_point(demo_env, city):
    with _db(demo_env) as db:
        cell = db.execute("SELECT cell FROM patrol_cells WHERE username = 'sup.350203' ORDER BY cell").fetchone()[0]
    grid = city.layers["grid_cells"]
    p = shapely.point_on_surface(grid[grid["code"] == cell].geometry.iloc[0])
    return cell, p.x, p.y


def _tap(driver, lon, lat):
    """Tap the map where (lon, lat) is shown, after bringing it into view."""
    driver.execute_script(
        "var m = document.getElementById('field-map'); m.scrollIntoView();"
        "var map = window.xiuhuaField.map; map.setView([arguments[1], arguments[0]], 17, {animate: false});",
        lon,
        lat,
    )
    box = driver.find_element(By.ID, "field-map")
    ActionChains(driver).move_to_element(box).click().perform()  # the centre of the map: the point


def _choose_matter(driver, query, code):
    search = driver.find_element(By.ID, "field-matter-search")
    search.send_keys(query)
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, f"#field-matter-list [data-code='{code}']"))
    driver.find_element(By.CSS_SELECTOR, f"#field-matter-list [data-code='{code}']").click()
    assert code in driver.find_element(By.ID, "field-matter-name").text


def test_report_a_case_from_the_phone(phone, demo_env, city, photo):
    driver = phone
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 360  # one column, no sideways
    _choose_matter(driver, "06036", "06036")
    cell, x, y = _patrol_point(demo_env, city)
    _tap(driver, x, y)
    wait_for(driver, lambda d: cell in d.find_element(By.ID, "field-owner").text)
    owner = driver.find_element(By.ID, "field-owner")
    assert "网格" in owner.text and "处置单位" in owner.text
    driver.find_element(By.ID, "field-description").send_keys("井盖缺失 (browser test)")
    driver.find_element(By.ID, "field-photos").send_keys(str(photo))
    wait_for(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#field-previews img")) == 1)
    driver.save_screenshot(str(photo.parent / "field-report.png"))
    driver.find_element(By.ID, "field-send").click()
    done = wait_for(driver, lambda d: d.find_elements(By.ID, "field-case-no"), 30)[0]
    case_no = done.text.split()[-1]
    with _db(demo_env) as db:
        row = db.execute("SELECT cell, source, reporter FROM cases WHERE case_no = ?", (case_no,)).fetchone()
    assert row == (cell, "supervisor", "sup.350203")
    driver.refresh()  # sent: nothing left to restore
    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", 30)
    assert driver.find_element(By.ID, "field-description").get_attribute("value") == ""


def test_a_failed_send_keeps_the_report(phone, demo_env, city, photo):
    driver = phone
    _choose_matter(driver, "乱堆", "06036")  # by name this time
    _, x, y = _patrol_point(demo_env, city)
    _tap(driver, x, y)
    wait_for(driver, lambda d: d.find_element(By.ID, "field-owner").is_displayed())
    driver.find_element(By.ID, "field-description").send_keys("网络中断 (browser test)")
    driver.find_element(By.ID, "field-photos").send_keys(str(photo))
    wait_for(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#field-previews img")) == 1)
    offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    try:
        driver.find_element(By.ID, "field-send").click()
        err = wait_for(driver, lambda d: d.find_elements(By.ID, "field-error"), 20)[0]
        assert "网络不通" in err.text and driver.find_element(By.ID, "field-retry").is_displayed()
        assert driver.find_element(By.ID, "field-description").get_attribute("value") == "网络中断 (browser test)"
    finally:
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
    driver.get_log("browser")  # the failed fetch's console line is the point of this test
    driver.refresh()  # the draft (and its photo, from IndexedDB) comes back
    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", 30)
    assert driver.find_element(By.ID, "field-description").get_attribute("value") == "网络中断 (browser test)"
    assert "06036" in driver.find_element(By.ID, "field-matter-name").text
    wait_for(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#field-previews img")) == 1)
    driver.find_element(By.ID, "field-send").click()
    assert wait_for(driver, lambda d: d.find_elements(By.ID, "field-case-no"), 30)


def test_a_check_task_done_with_a_photo(phone, demo_env, city, photo):
    from cities.config import load_config
    from dispatch.context import open_workflow
    from store.models import NewCase, User
    from store.registry import open_store

    _, x, y = _patrol_point(demo_env, city)
    store = open_store(demo_env["XIUHUA_DATABASE_URL"])
    try:
        wf = open_workflow(store, load_config("xiamen", Path(demo_env["XIUHUA_DATA_DIR"])))
        at = datetime.now(UTC)
        case = wf.report(store.get_user("sup.350203"), NewCase("06036", x, y, "supervisor", at, "check me (browser)"))
        case = wf.act(store.get_user("acceptor"), case.id, "accept", case.version)
        case = wf.act(store.get_user("shiftlead"), case.id, "file", case.version)
        case = wf.act(store.get_user("dispatcher"), case.id, "dispatch", case.version)
        unit = User(0, f"unit.{case.assignee}", "", "unit", (), case.assignee)
        case = wf.act(unit, case.id, "feedback", case.version)
    finally:
        store.close()
    driver = phone
    driver.find_element(By.ID, "field-tab-tasks").click()
    driver.find_element(By.ID, "field-tasks-reload").click()  # the list was loaded when the page opened
    card = wait_for(driver, lambda d: d.find_elements(By.ID, f"field-task-{case.id}"), 30)[0]
    driver.execute_script("arguments[0].scrollIntoView()", card)
    card.find_element(By.CSS_SELECTOR, "[data-action='check_pass']").click()  # no photo yet: refused in the page
    wait_for(driver, lambda d: "请至少附一张照片" in card.text)
    card.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(photo))
    wait_for(driver, lambda d: card.find_elements(By.CSS_SELECTOR, ".field-previews img"))
    driver.save_screenshot(str(photo.parent / "field-task.png"))
    card.find_element(By.CSS_SELECTOR, "[data-action='check_pass']").click()
    wait_for(driver, lambda d: not d.find_elements(By.ID, f"field-task-{case.id}"), 30)
    assert case.case_no in driver.find_element(By.ID, "field-tasks-status").text
    with _db(demo_env) as db:
        assert db.execute("SELECT state FROM cases WHERE id = ?", (case.id,)).fetchone() == ("checked",)
        assert db.execute("SELECT stage FROM media WHERE case_id = ?", (case.id,)).fetchall() == [("check",)]
