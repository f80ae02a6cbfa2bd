"""Screenshots of each page for the README (`make screenshots`): serves the demo store in headless chromium."""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selenium.webdriver.common.by import By  # noqa: E402

from bench.browser import chrome, missing, served, sign_in, wait_for  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "xiuhua-demo"


def main() -> None:
    reason = missing()
    if reason:
        sys.exit(f"cannot take screenshots: {reason}")
    OUT.mkdir(parents=True, exist_ok=True)
    with served({}) as base, chrome(1920, 1080) as d:
        shots = [
            ("wall", "wall", "/wall", "#wall-kpi-reported", None),
            ("dispatcher", "dispatch", "/dispatch", "#dispatch-queue td", "#dispatch-queue td[data-dash-column='no']"),
            ("head.350203", "district", "/district/350203", "#district-kpi-reported", None),
        ]
        for user, name, path, ready, click in shots:
            d.delete_all_cookies()
            sign_in(d, base, user, PASSWORD, path)
            wait_for(d, lambda drv, sel=ready: drv.find_elements(By.CSS_SELECTOR, sel), 60)
            if click:
                d.find_elements(By.CSS_SELECTOR, click)[0].click()
                wait_for(d, lambda drv: drv.find_elements(By.ID, "dispatch-case-no"), 30)
            time.sleep(4)  # let tiles of data and fonts settle
            d.save_screenshot(str(OUT / f"{name}.png"))
            print(f"wrote {OUT / f'{name}.png'}")
        d.get(base + "/auth/lang/en?next=/wall")
        sign_in(d, base, "wall", PASSWORD, "/wall")
        wait_for(d, lambda drv: drv.find_elements(By.CSS_SELECTOR, "#wall-kpi-reported"), 60)
        time.sleep(4)
        d.save_screenshot(str(OUT / "wall-en.png"))
        print(f"wrote {OUT / 'wall-en.png'}")


if __name__ == "__main__":
    main()
