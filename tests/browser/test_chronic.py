"""/chronic in headless Chromium: a place's reports are drawn on its map above the land, with a clean console."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from selenium.webdriver.common.by import By

from bench.browser import sign_in, wait_for
from store.models import ChronicPlace
from store.registry import open_store
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow


def test_a_place_shows_its_reports_on_the_map(chrome, base_url, demo_env):
    store, now = open_store(demo_env["XIUHUA_DATABASE_URL"]), datetime.now(UTC)
    try:
        repeats = [c for c in store.cases(districts=["350203"], limit=20) if c.cell][:3]
        first = repeats[0]
        place = store.add_chronic_place(
            ChronicPlace(0, first.matter, first.cell, "350203", first.lon, first.lat, None,
                         tuple(c.id for c in repeats), now, now, "open", 14, 50.0, now, now)
        )  # fmt: skip
    finally:
        store.close()
    sign_in(chrome, base_url, "shiftlead", DEMO_PASSWORD, f"/chronic?place={place.id}")
    wait_for(chrome, lambda d: d.find_elements(By.ID, f"chronic-row-{place.id}"), 40)
    # the radius ring and one dot per report, in the overlay pane (the land has a pane of its own below)
    marks = "#chronic-map .leaflet-overlay-pane path.leaflet-interactive"
    wait_for(chrome, lambda d: len(d.find_elements(By.CSS_SELECTOR, marks)) >= 1 + len(repeats), 30)
    assert len(chrome.find_elements(By.CSS_SELECTOR, "#chronic-repeats li")) == len(repeats)
