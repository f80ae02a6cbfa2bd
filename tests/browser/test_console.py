"""The dispatch console in headless Chromium (issue 9): the queue's tabs, a case picked in the queue brought into
sight on the map, the panel's deadline and rule trace, the action box after an action, and the English queue
without sideways overflow. The `chrome` fixture checks the console and the network after each test."""

from __future__ import annotations

import sqlite3

import pytest
from selenium.webdriver.common.by import By

from bench.browser import sign_in, wait_for
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow

OVERFLOW = """const q = document.querySelector('.queue'), box = q.getBoundingClientRect();
    const cells = [...q.querySelectorAll('td, th')].map(c => c.getBoundingClientRect().right);
    return {queue: [q.scrollWidth, q.clientWidth], page: [document.documentElement.scrollWidth, window.innerWidth],
            right: box.right, cells: cells,
            due: [...q.querySelectorAll("th[data-dash-column='due'], td[data-dash-column='due']")].map(
                c => [c.getBoundingClientRect().right, c.innerText])};"""


def css(driver, selector):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def text_of(driver, element_id: str) -> str:
    found = driver.find_elements(By.ID, element_id)
    return found[0].text if found else ""


def case_of(demo_env, case_no: str) -> tuple[int, str]:
    path = demo_env["XIUHUA_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute("SELECT id, state FROM cases WHERE case_no = ?", (case_no,)).fetchone()


def rows(driver) -> list[tuple[str, object]]:
    """The queue's rows on screen: (case number, the case number's cell)."""
    cells = css(driver, "#dispatch-queue td[data-dash-column='no']")
    return [(c.text.split()[0], c) for c in cells if c.text.strip()]


def click_first_row(driver) -> str:
    """Click the first row's case number (again, if the table was redrawn under the click); its case number."""

    def click(d):
        no, cell = rows(d)[0]
        cell.click()
        return no

    return wait_for(driver, click, 20)


def open_tab(driver, tab: str) -> None:
    driver.find_element(By.ID, f"dispatch-tab-{tab}").click()
    wait_for(driver, lambda d: "selected" in d.find_element(By.ID, f"dispatch-tab-{tab}").get_attribute("class"), 20)


def test_a_case_picked_in_the_queue_is_brought_into_sight_and_the_action_box_resets(chrome, base_url, demo_env):
    sign_in(chrome, base_url, "dispatcher", DEMO_PASSWORD, "/dispatch")
    wait_for(chrome, lambda d: rows(d), 40)
    # the queue opens on the requests waiting for approval, with counts on each tab
    assert "selected" in chrome.find_element(By.ID, "dispatch-tab-approve").get_attribute("class")
    assert all(any(ch.isdigit() for ch in text_of(chrome, f"dispatch-tab-{t}")) for t in ("approve", "dispatch"))
    open_tab(chrome, "dispatch")
    wait_for(chrome, lambda d: rows(d) and all(r.text == "已立案" for r in css(d, "td[data-dash-column='state']")), 20)
    # the map opens on the whole city, where the cases sit inside hotspots
    assert not css(chrome, "path.case-marker")
    case_no = click_first_row(chrome)
    case_id, _ = case_of(demo_env, case_no)
    # the map flies to it: single incidents at street zoom, the picked one with the black ring
    wait_for(chrome, lambda d: css(d, f"path.case-{case_id}.selected"), 40)
    wait_for(chrome, lambda d: text_of(d, "dispatch-case-no") == case_no, 20)
    # the panel names the deadline that runs (the dispatch deadline of a filed case), and the deciding rule first
    facts = {
        r.find_element(By.TAG_NAME, "th").text: r.find_element(By.TAG_NAME, "td").text
        for r in css(chrome, "#dispatch-panel table.facts tr")
    }
    assert facts.get("派遣时限", "—")[:1].isdigit(), facts
    assert text_of(chrome, "dispatch-rule") and "不适用" not in text_of(chrome, "dispatch-rule")
    folded = chrome.find_element(By.ID, "dispatch-skipped")
    assert folded.get_attribute("open") is None and "不适用" not in folded.text  # folded: only its summary shows
    # dispatch it with the suggested unit
    wait_for(chrome, lambda d: "派遣" in css(d, "#dispatch-action")[0].text, 10)
    chrome.find_element(By.ID, "dispatch-submit").click()
    wait_for(chrome, lambda d: css(d, "#dispatch-message .ok"), 20)
    # the panel reloads the dispatched case with no action chosen (its first action would be "ask to void")
    wait_for(chrome, lambda d: "已派遣" in text_of(d, "dispatch-panel"), 20)
    wait_for(chrome, lambda d: css(d, "#dispatch-action")[0].text.strip() == "操作", 10)
    assert css(chrome, "#dispatch-message .ok")  # the dispatch's message stays
    # a habitual second click on Submit does nothing to the case, and says why
    chrome.find_element(By.ID, "dispatch-submit").click()
    wait_for(chrome, lambda d: "请先选择案件和操作" in text_of(d, "dispatch-message"), 20)
    assert case_of(demo_env, case_no)[1] == "dispatched"
    # picking another case clears that message
    wait_for(chrome, lambda d: [n for n, _ in rows(d)] and case_no not in [n for n, _ in rows(d)], 20)
    next_no = click_first_row(chrome)
    wait_for(chrome, lambda d: text_of(d, "dispatch-case-no") == next_no, 20)
    wait_for(chrome, lambda d: text_of(d, "dispatch-message") == "", 10)


def test_the_english_queue_fits_its_column(chrome, base_url):
    chrome.get(base_url + "/auth/lang/en")
    sign_in(chrome, base_url, "dispatcher", DEMO_PASSWORD, "/dispatch")
    wait_for(chrome, lambda d: rows(d), 40)
    tabs = css(chrome, "#dispatch-tabs [id^='dispatch-tab-']")
    for tab in [None, *(t.get_attribute("id").removeprefix("dispatch-tab-") for t in tabs)]:
        if tab:
            open_tab(chrome, tab)
            if int(text_of(chrome, f"dispatch-tab-{tab}").split()[-1]):
                wait_for(chrome, lambda d: rows(d), 20)
        got = chrome.execute_script(OVERFLOW)
        # nothing scrolls sideways, and every cell, the deadlines included, ends inside the queue
        assert got["queue"][0] <= got["queue"][1] and got["page"][0] <= got["page"][1], (tab, got)
        assert max(got["cells"]) <= got["right"] + 0.5, (tab, got)
        assert got["due"] and got["due"][0][1] == "Deadline" and all(r <= got["right"] + 0.5 for r, _ in got["due"])
