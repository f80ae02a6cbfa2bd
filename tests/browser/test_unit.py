"""The unit page in headless Chromium: a squad's account signs in and lands on /unit, sees its urged case on top with
the urge's reason, picks it, feeds back with a photo through the file input, and the case leaves its open list."""

from __future__ import annotations

import pytest
from PIL import Image
from selenium.webdriver.common.by import By

from bench.browser import sign_in, wait_for
from tests.conftest import DEMO_PASSWORD
from tests.pages.test_unit import dispatched, svc

pytestmark = pytest.mark.slow
REASON = "市民多次投诉，今日必须处置 (browser test)"


def css(driver, selector):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def pick_option(driver, dropdown_id: str, label: str) -> None:
    """Open a dcc.Dropdown and click the option with this label."""
    css(driver, f"#{dropdown_id}")[0].click()

    def option(d):
        found = [e for e in d.find_elements(By.XPATH, f"//*[normalize-space(text())='{label}']") if e.is_displayed()]
        return found[-1] if found else None

    wait_for(driver, option, 10).click()


def test_a_unit_feeds_back_an_urged_case_with_a_photo(app, base_url, chrome, tmp_path):
    case, account = dispatched(app)
    s = svc(app)
    s.workflow.act(s.store.get_user("dispatcher"), case.id, "urge", case.version, reason=REASON)
    photo = tmp_path / "after.jpg"
    Image.new("RGB", (320, 240), (30, 140, 60)).save(photo, "JPEG")

    sign_in(chrome, base_url, account, DEMO_PASSWORD)
    wait_for(chrome, lambda d: d.current_url.endswith("/unit"), 20)
    banner = wait_for(chrome, lambda d: (t := css(d, "#unit-urges")) and case.case_no in t[0].text and t[0], 30)
    assert REASON in banner.text
    # urged cases come first: ours is among the urged cards above every other
    cards = wait_for(chrome, lambda d: css(d, "#unit-open .unit-case"), 20)
    urged = [c.get_attribute("id") for c in cards if "督办" in c.text]
    assert f"unit-case-{case.id}" in urged and [c.get_attribute("id") for c in cards[: len(urged)]] == urged
    assert css(chrome, "#nav-badge-urged") and "督办" in css(chrome, "#nav-badge-urged")[0].text  # the top bar's badge

    chrome.find_element(By.CSS_SELECTOR, f"#unit-case-{case.id} .pick").click()
    wait_for(chrome, lambda d: case.case_no in d.find_element(By.ID, "unit-case-no").text, 20)
    pick_option(chrome, "unit-action", "处置反馈")
    wait_for(chrome, lambda d: d.find_element(By.ID, "unit-upload-box").is_displayed(), 10)
    chrome.find_element(By.ID, "unit-text").send_keys("已清理完毕")
    chrome.find_element(By.CSS_SELECTOR, "#unit-upload input[type=file]").send_keys(str(photo))
    wait_for(chrome, lambda d: "after.jpg" in d.find_element(By.ID, "unit-upload-list").text, 10)
    chrome.find_element(By.ID, "unit-submit").click()
    wait_for(chrome, lambda d: "处置反馈完成" in d.find_element(By.ID, "unit-message").text, 30)
    # the case has left the open list for the handled one, and nothing is chosen for a second click
    wait_for(chrome, lambda d: not css(d, f"#unit-open #unit-case-{case.id}"), 20)
    assert css(chrome, f"#unit-done #unit-case-{case.id}")
    after = s.store.get_case(case.id)
    assert after.state == "handled"
    assert [m.stage for m in s.store.media_of([case.id])] == ["feedback"]
    chrome.save_screenshot(str(tmp_path / "unit.png"))
