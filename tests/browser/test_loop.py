"""The whole loop through the UI only, on both stores (issue 10): an inspector on a phone reports with a photo →
the acceptor files → the dispatcher dispatches → the unit feeds back with a photo → the inspector checks with a
photo → the acceptor closes; the case page then shows every step with its photos, and the wall's counts follow.

Each store gets its own server on a fresh, small demo history; the steps are clicks and typing in Chromium."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely
from PIL import Image
from selenium.webdriver.common.by import By

from bench import browser
from bench.browser import set_viewport, sign_in, wait_for
from tests.browser.test_console import css, open_tab, text_of
from tests.browser.test_field import _choose_matter, _tap
from tests.browser.test_intake import choose, pick
from tests.browser.test_unit import pick_option
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture(params=["embedded", "postgis"])
def served(request, demo_env, tmp_path):
    """A server on a fresh store of this kind with a small demo history; (base URL, store)."""
    from cities.config import load_config
    from dispatch.context import open_workflow
    from dispatch.demo import seed_demo
    from dispatch.media import PhotoStore
    from tests.conftest import _fresh

    reason = browser.missing()
    if reason:
        pytest.skip(reason)  # a failure under CI=true (tests/conftest.py)
    store = _fresh(request.param, request, tmp_path)
    wf = open_workflow(store, load_config("xiamen", Path(demo_env["XIUHUA_DATA_DIR"])))
    seed_demo(
        wf, 200, 2, datetime.now(UTC) - timedelta(minutes=5), 3, DEMO_PASSWORD, media=PhotoStore(tmp_path / "media")
    )
    env = {**demo_env, "XIUHUA_DATABASE_URL": store.url, "XIUHUA_VAR_DIR": str(tmp_path)}
    with browser.served(env) as url:
        yield url, wf
    store.close()


def _as(driver, base, username, then="", width=1600, height=1000):
    driver.get(base + "/login")  # a plain page: nothing of the last account's page still polls
    driver.delete_all_cookies()
    set_viewport(driver, width, height)
    sign_in(driver, base, username, DEMO_PASSWORD, then)


def _kpis(driver, base) -> dict[str, int]:
    _as(driver, base, "wall", "/wall")
    wait_for(driver, lambda d: d.find_elements(By.ID, "wall-kpi-closed"), 30)
    return {k: int(text_of(driver, f"wall-kpi-{k}")) for k in ("reported", "closed")}


def _pick_dispatch(driver, case_no: str) -> None:
    """The case's row in the console's queue (on whichever page of it), and wait for its panel."""

    def click(d):
        cell = next(
            (c for c in css(d, "#dispatch-queue td[data-dash-column='no']") if c.text.startswith(case_no)), None
        )
        if cell is not None:
            cell.click()
            return True
        nxt = css(d, "#dispatch-queue button.next-page")
        if nxt and nxt[0].is_enabled():
            nxt[0].click()
        return False

    wait_for(driver, click, 40)
    wait_for(driver, lambda d: text_of(d, "dispatch-case-no") == case_no, 20)


def test_the_whole_loop_through_the_ui(chrome, served, tmp_path):
    base, wf = served
    store = wf.store
    photo = tmp_path / "scene.jpg"
    Image.new("RGB", (320, 240), (160, 80, 40)).save(photo, "JPEG")
    before = _kpis(chrome, base)

    # 1. the inspector reports from a phone, at a point of a cell they patrol
    _as(chrome, base, "sup.350203", "/field", 360, 800)
    wait_for(chrome, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", 30)
    cell = store.patrol_cells("sup.350203")[0]
    grid = wf.engine.city.layers["grid_cells"]
    p = shapely.point_on_surface(grid[grid["code"] == cell].geometry.iloc[0])
    _choose_matter(chrome, "06036", "06036")
    _tap(chrome, p.x, p.y)
    wait_for(chrome, lambda d: cell in d.find_element(By.ID, "field-owner").text, 20)
    chrome.find_element(By.ID, "field-description").send_keys("人行道堆放杂物 (loop test)")
    chrome.find_element(By.ID, "field-photos").send_keys(str(photo))
    wait_for(chrome, lambda d: len(css(d, "#field-previews img")) == 1)
    chrome.find_element(By.ID, "field-send").click()
    case_no = wait_for(chrome, lambda d: d.find_elements(By.ID, "field-case-no"), 30)[0].text.split()[-1]
    case = next(c for c in store.cases(states=["reported"]) if c.case_no == case_no)

    # 2. the acceptor files it (an inspector's report needs no verification)
    _as(chrome, base, "acceptor", "/intake")
    pick(chrome, case_no)
    wait_for(chrome, lambda d: "立案" in d.find_element(By.ID, "intake-action").text, 10)
    chrome.find_element(By.ID, "intake-submit").click()
    wait_for(chrome, lambda d: css(d, "#intake-message .ok"), 20)
    assert store.get_case(case.id).state == "filed"

    # 3. the dispatcher dispatches it to the suggested squad
    _as(chrome, base, "dispatcher", "/dispatch")
    wait_for(chrome, lambda d: d.find_elements(By.ID, "dispatch-tab-dispatch"), 30)
    open_tab(chrome, "dispatch")
    _pick_dispatch(chrome, case_no)
    wait_for(chrome, lambda d: "派遣" in css(d, "#dispatch-action")[0].text, 10)
    chrome.find_element(By.ID, "dispatch-submit").click()
    wait_for(chrome, lambda d: css(d, "#dispatch-message .ok"), 20)
    case = store.get_case(case.id)
    assert case.state == "dispatched" and case.assignee

    # 4. the unit feeds back with an after-photo
    _as(chrome, base, f"unit.{case.assignee}", "/unit")
    wait_for(chrome, lambda d: css(d, f"#unit-case-{case.id} .pick"), 30)[0].click()
    wait_for(chrome, lambda d: case_no in d.find_element(By.ID, "unit-case-no").text, 20)
    pick_option(chrome, "unit-action", "处置反馈")
    wait_for(chrome, lambda d: d.find_element(By.ID, "unit-upload-box").is_displayed(), 10)
    chrome.find_element(By.ID, "unit-text").send_keys("已清理 (loop test)")
    chrome.find_element(By.CSS_SELECTOR, "#unit-upload input[type=file]").send_keys(str(photo))
    wait_for(chrome, lambda d: "scene.jpg" in d.find_element(By.ID, "unit-upload-list").text, 10)
    chrome.find_element(By.ID, "unit-submit").click()
    wait_for(chrome, lambda d: "处置反馈完成" in d.find_element(By.ID, "unit-message").text, 30)
    assert store.get_case(case.id).state == "handled"

    # 5. the inspector checks it on site with a photo
    _as(chrome, base, "sup.350203", "/field", 360, 800)
    wait_for(chrome, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", 30)
    chrome.find_element(By.ID, "field-tab-tasks").click()  # the list was loaded as the page opened

    def card():
        return chrome.find_element(By.ID, f"field-task-{case.id}")

    wait_for(chrome, lambda d: d.find_elements(By.ID, f"field-task-{case.id}"), 30)
    chrome.execute_script("arguments[0].scrollIntoView()", card())
    card().find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(photo))
    wait_for(chrome, lambda d: card().find_elements(By.CSS_SELECTOR, ".field-previews img"))
    card().find_element(By.CSS_SELECTOR, "[data-action='check_pass']").click()
    wait_for(chrome, lambda d: not d.find_elements(By.ID, f"field-task-{case.id}"), 30)
    assert store.get_case(case.id).state == "checked"

    # 6. the acceptor closes it (closing is chosen deliberately, never pre-selected)
    _as(chrome, base, "acceptor", "/intake")
    wait_for(chrome, lambda d: d.find_elements(By.ID, "intake-tab-close"), 30)
    chrome.find_element(By.ID, "intake-tab-close").click()
    pick(chrome, case_no)
    choose(chrome, "结案")
    chrome.find_element(By.ID, "intake-submit").click()
    wait_for(chrome, lambda d: css(d, "#intake-message .ok"), 20)
    assert store.get_case(case.id).state == "closed"

    # 7. the case page shows every step, with its photos by step
    chrome.get(f"{base}/case/{case.id}")
    wait_for(chrome, lambda d: d.find_elements(By.ID, "case-timeline"), 30)
    timeline = text_of(chrome, "case-timeline")
    for step in ("上报", "立案", "派遣", "处置反馈", "核查通过", "结案"):
        assert step in timeline, step
    for stage in ("report", "feedback", "check"):  # one photo under each step's heading
        assert len(css(chrome, f"#case-photos-{stage} img")) == 1, stage
    shown = css(chrome, "#case-photos img")
    assert len(shown) == 3
    wait_for(chrome, lambda d: all(d.execute_script("return arguments[0].naturalWidth", i) > 0 for i in shown), 20)
    assert [m.stage for m in store.media_of([case.id])] == ["report", "feedback", "check"]

    # 8. the wall's counts follow: one more reported today, one more closed
    after = _kpis(chrome, base)
    assert after["reported"] == before["reported"] + 1 and after["closed"] == before["closed"] + 1
