"""/model in headless Chromium: a model street's outline and its cases are drawn on its map, with a clean console."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.common.by import By

from bench.browser import sign_in, wait_for
from store.registry import open_store
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow


def test_a_street_shows_its_outline_and_cases(chrome, base_url, demo_env):
    store = open_store(demo_env["XIUHUA_DATABASE_URL"])
    try:
        since = datetime.now(UTC) - timedelta(days=30)
        on: dict[str, list[int]] = {}
        for c in store.cases(active_since=since):
            street = c.ownership["zones"].get("model_street")
            if street:
                on.setdefault(street, []).append(c.id)
    finally:
        store.close()
    street, ids = max(on.items(), key=lambda kv: len(kv[1]))
    sign_in(chrome, base_url, "shiftlead", DEMO_PASSWORD, f"/model?street={street}")
    wait_for(chrome, lambda d: d.find_elements(By.ID, "model-figures"), 40)
    # the outline and one dot per case, in the overlay pane (the land has a pane of its own below)
    marks = "#model-map .leaflet-overlay-pane path.leaflet-interactive"
    wait_for(chrome, lambda d: len(d.find_elements(By.CSS_SELECTOR, marks)) >= 1 + len(ids), 30)
    assert len(chrome.find_elements(By.CSS_SELECTOR, "#model-cases li")) == len(ids)
    # the offline basemap's land under them (a map of sea otherwise)
    wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#model-map .leaflet-land-pane path"), 30)
    # the city map's legend keys the signboard segments by grade
    chrome.get(f"{base_url}/dispatch")
    for grade in ("premium", "standard", "controlled"):
        wait_for(chrome, lambda d, g=grade: d.find_elements(By.ID, f"dispatch-legend-grade-{g}"), 40)
