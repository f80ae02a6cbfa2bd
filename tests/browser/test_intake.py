"""The intake page in headless Chromium (issue 10, items 2 and 4): the acceptor lands on /intake and files a
report; a duplicate report is merged into its case, whose reports count becomes 2; a checked case goes back to
its unit for rework. The cases are made with the workflow on the served store, reported days ago so they head
the queue (oldest first)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from bench.browser import sign_in, wait_for
from store.models import NewCase, User
from tests.browser.test_console import css, text_of
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wf(demo_env):
    from cities.config import load_config
    from dispatch.context import open_workflow
    from store.registry import open_store

    store = open_store(demo_env["XIUHUA_DATABASE_URL"])
    yield open_workflow(store, load_config("xiamen", Path(demo_env["XIUHUA_DATA_DIR"])))
    store.close()


def report(wf, k: int, days_ago: float, east_deg: float = 0.0, source: str = "supervisor"):
    cells = wf.engine.city.layers["grid_cells"]
    p = shapely.point_on_surface(cells[cells["district_code"] == "350203"].iloc[4000 + 13 * k].geometry)
    at = datetime.now(UTC) - timedelta(days=days_ago)
    new = NewCase("06036", p.x + east_deg, p.y, source, at, "浏览器测试 browser test")
    return wf.report(wf.store.get_user("acceptor"), new)


def pick(driver, case_no: str) -> None:
    """Click a case's number in the queue, and wait for its panel."""

    def click(d):
        cell = next((c for c in css(d, "#intake-queue td[data-dash-column='no']") if c.text.startswith(case_no)), None)
        if cell is None:
            return False
        cell.click()
        return True

    wait_for(driver, click, 30)
    wait_for(driver, lambda d: text_of(d, "intake-case-no") == case_no, 20)


def choose(driver, label: str) -> None:
    """Choose an action in the action box by its label."""
    box = driver.find_element(By.ID, "intake-action")
    box.click()
    wait_for(driver, lambda d: d.find_elements(By.XPATH, f"//*[normalize-space(text())='{label}']"), 10)
    driver.find_element(By.XPATH, f"//*[normalize-space(text())='{label}']").click()
    wait_for(driver, lambda d: label in d.find_element(By.ID, "intake-action").text, 10)


def test_the_acceptor_lands_on_intake_and_files_a_report(chrome, base_url, wf):
    case = report(wf, 0, days_ago=9)
    sign_in(chrome, base_url, "acceptor", DEMO_PASSWORD)
    chrome.get(base_url + "/")
    wait_for(chrome, lambda d: d.current_url.endswith("/intake"), 20)
    wait_for(chrome, lambda d: d.find_elements(By.ID, "intake-tab-new"), 30)
    assert "selected" in chrome.find_element(By.ID, "intake-tab-new").get_attribute("class")
    assert all(any(ch.isdigit() for ch in text_of(chrome, f"intake-tab-{t}")) for t in ("new", "close", "void"))
    pick(chrome, case.case_no)
    # the map flies to it; the harmless next step (file) is offered, the rest are chosen deliberately
    wait_for(chrome, lambda d: css(d, f"path.case-{case.id}.selected"), 40)
    wait_for(chrome, lambda d: "立案" in d.find_element(By.ID, "intake-action").text, 10)
    assert chrome.find_element(By.ID, "intake-case-link").get_attribute("href").endswith(f"/case/{case.id}")
    chrome.find_element(By.ID, "intake-submit").click()
    wait_for(chrome, lambda d: css(d, "#intake-message .ok"), 20)
    assert wf.store.get_case(case.id).state == "filed"
    # the next item is picked, with nothing chosen in the action box
    wait_for(chrome, lambda d: text_of(d, "intake-case-no") not in ("", case.case_no), 20)
    wait_for(chrome, lambda d: d.find_element(By.ID, "intake-action").text.strip() in ("操作", ""), 10)
    assert case.case_no not in [c.text for c in css(chrome, "#intake-queue td[data-dash-column='no']")]


def test_a_duplicate_is_merged_into_its_case(chrome, base_url, wf):
    target = report(wf, 1, days_ago=8.1)
    dup = report(wf, 1, days_ago=8, east_deg=0.0001)  # about 10 m east
    sign_in(chrome, base_url, "acceptor", DEMO_PASSWORD, "/intake")
    pick(chrome, dup.case_no)
    wait_for(chrome, lambda d: target.case_no in text_of(d, "intake-dups"), 20)
    chrome.find_element(By.CSS_SELECTOR, "#intake-dups button.merge").click()
    wait_for(chrome, lambda d: css(d, "#intake-message .ok"), 20)
    merged, grown = wf.store.get_case(dup.id), wf.store.get_case(target.id)
    assert merged.state == "voided" and merged.duplicate_of == target.id and grown.reports == 2
    pick(chrome, target.case_no)
    wait_for(chrome, lambda d: text_of(d, "intake-reports") == "2", 20)


def test_a_checked_case_goes_back_to_its_unit(chrome, base_url, wf):
    store = wf.store
    case = report(wf, 2, days_ago=10)
    case = wf.act(store.get_user("shiftlead"), case.id, "file", case.version)
    case = wf.act(store.get_user("dispatcher"), case.id, "dispatch", case.version)
    case = wf.act(User(0, "u", "", "unit", (), case.assignee), case.id, "feedback", case.version)
    inspector = (wf.inspectors(case) or (f"sup.{case.district}",))[0]
    case = wf.act(store.get_user(inspector), case.id, "check_pass", case.version)
    sign_in(chrome, base_url, "acceptor", DEMO_PASSWORD, "/intake")
    wait_for(chrome, lambda d: d.find_elements(By.ID, "intake-tab-close"), 30)
    chrome.find_element(By.ID, "intake-tab-close").click()
    pick(chrome, case.case_no)
    assert chrome.find_element(By.ID, "intake-action").text.strip() in ("操作", "")  # closing is never pre-chosen
    choose(chrome, "返工")
    chrome.find_element(By.ID, "intake-reason").send_keys("现场仍有杂物 (browser test)", Keys.TAB)
    chrome.find_element(By.ID, "intake-submit").click()
    wait_for(chrome, lambda d: css(d, "#intake-message .ok"), 20)
    back = store.get_case(case.id)
    assert back.state == "dispatched" and back.assignee == case.assignee and "reworked" in back.flags
