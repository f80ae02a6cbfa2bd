"""The wall on a 1920x1080 and on a 3840x2160 screen, in headless Chromium: one screen with no scrollbar, type
sized for the room, the map framed to the city, no sign-out or language links; a clock that ticks in the browser;
a footer that tells when the figures were last refreshed."""

from __future__ import annotations

import math
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By

from bench.browser import set_viewport, sign_in, wait_for
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow

GEOMETRY = """const box = s => document.querySelector(s).getBoundingClientRect().toJSON();
    const px = s => parseFloat(getComputedStyle(document.querySelector(s)).fontSize);
    const de = document.documentElement, head = document.querySelector('.wall-head');
    return {width: innerWidth, height: innerHeight, scroll_width: de.scrollWidth, scroll_height: de.scrollHeight,
            map: box('#wall-map'), footer: box('#wall-updated'), alerts: box('#wall-alerts'),
            clock_box: box('#wall-clock'), head_clipped: head.scrollWidth > head.clientWidth,
            title: px('.wall-head h1'), clock: px('#wall-clock'), kpi: px('.kpi-value'), side: px('#wall-league td'),
            legend: px('#wall-legend')}"""
VIEW = """const l = window.dash_component_api.getLayout('wall-map');
    return l && l.props.zoom !== undefined ? l.props.bounds : null"""  # the map reports zoom with its bounds


def merc(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


@pytest.mark.parametrize(("width", "height", "lang"), [(1920, 1080, "zh"), (3840, 2160, "zh"), (1920, 1080, "en")])
def test_the_wall_fills_one_screen_and_frames_the_city(chrome, base_url, city, width, height, lang):
    set_viewport(chrome, width, height)
    chrome.get(f"{base_url}/auth/lang/{lang}?next=/login")
    sign_in(chrome, base_url, "wall", DEMO_PASSWORD, "/wall")
    wait_for(chrome, lambda d: d.find_element(By.ID, "wall-kpi-reported").text, 40)
    wait_for(chrome, lambda d: d.find_element(By.ID, "wall-updated").text, 30)
    wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#wall-feed li"), 30)
    g = chrome.execute_script(GEOMETRY)
    assert (g["width"], g["height"]) == (width, height)
    # no scrollbar: the document is no larger than the screen
    assert g["scroll_width"] <= width and g["scroll_height"] <= height, g
    # the map's bottom and the footer are on screen, and so is the slot for campaigns and alerts
    assert 0 < g["map"]["top"] < g["map"]["bottom"] <= height
    assert 0 <= g["footer"]["top"] < g["footer"]["bottom"] <= height
    assert chrome.find_element(By.ID, "wall-updated").is_displayed()
    assert chrome.find_element(By.ID, "wall-alerts").is_displayed() and g["alerts"]["bottom"] <= height
    # the title bar fits: the clock whole on screen, nothing cut off but the title's own ellipsis
    assert g["clock_box"]["right"] <= width and not g["head_clipped"], g
    # type scales with the screen: shares of its height, not fixed pixels
    assert g["title"] >= 0.035 * height and g["clock"] >= 0.04 * height and g["kpi"] >= 0.045 * height
    assert g["side"] >= 0.015 * height and g["legend"] >= 0.013 * height
    # a kiosk: nothing to sign out or switch language with
    assert not [e for e in chrome.find_elements(By.CSS_SELECTOR, "#nav-logout, #nav-lang") if e.is_displayed()]
    # the map is framed to the city: all of it in view, filling the map in its longer direction
    (s, w), (n, e) = wait_for(chrome, lambda d: d.execute_script(VIEW), 30)
    x0, y0, x1, y1 = city.layers["districts"].total_bounds
    tol = 1e-4
    assert w - tol <= x0 and x1 <= e + tol and s - tol <= y0 and y1 <= n + tol
    fill = max((x1 - x0) / (e - w), (merc(y1) - merc(y0)) / (merc(n) - merc(s)))
    assert fill >= 0.75, fill


def _seconds(text: str) -> int:
    h, m, s = (int(v) for v in re.search(r"(\d\d):(\d\d):(\d\d)", text).groups())
    return h * 3600 + m * 60 + s


def test_the_clock_ticks_and_the_footer_tells_the_last_refresh(chrome, base_url):
    sign_in(chrome, base_url, "wall", DEMO_PASSWORD, "/wall")
    clock = wait_for(chrome, lambda d: d.find_elements(By.ID, "wall-clock"), 40)[0]
    first = wait_for(chrome, lambda d: re.fullmatch(r"\d\d:\d\d:\d\d", clock.text) and clock.text, 10)
    # it shows the city's time (the browser's clock; no server round trip) and moves on by itself
    zone = ZoneInfo(clock.get_attribute("data-tz"))
    day = 86_400
    assert abs((_seconds(first) - _seconds(f"{datetime.now(zone):%H:%M:%S}") + day / 2) % day - day / 2) <= 5
    wait_for(chrome, lambda d: clock.text != first, 5)
    assert str(datetime.now(zone).year) in chrome.find_element(By.ID, "wall-date").text
    # the footer's time is that of each refresh (every 10 s), not of the figures' status snapshot
    footer = chrome.find_element(By.ID, "wall-updated")
    seen = [wait_for(chrome, lambda d: re.search(r"\d\d:\d\d:\d\d", footer.text) and footer.text, 30)]
    for _ in range(2):
        seen.append(wait_for(chrome, lambda d, last=seen[-1]: footer.text != last and footer.text, 30))
    gap = (_seconds(seen[2]) - _seconds(seen[1])) % day
    assert 3 <= gap <= 25, seen  # 10 s apart, give or take a loaded machine's delays (a status time: 60 s)
    now = _seconds(f"{datetime.now(zone):%H:%M:%S}")
    assert (now - _seconds(seen[2])) % day <= 20, seen
