"""Screenshots of each page for the README (`make screenshots`): serves the demo store in headless chromium, at
1920x1080 and the wall also at 3840x2160. Refuses to run without a CJK font (the labels would be boxes)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selenium.webdriver.common.by import By  # noqa: E402

from bench.browser import chrome, missing, served, set_viewport, sign_in, wait_for  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "xiuhua-demo"
CJK_PACKAGE = "fonts-noto-cjk"  # Debian's; any font that fontconfig lists for Chinese will do
# what each shot waits for: its figures, and the map's marks (hotspots or incidents) drawn
MAP_DRAWN = ".leaflet-overlay-pane svg path, .case-cluster"


def cjk_font_missing() -> str | None:
    """Why Chinese text would not render here, or None (fontconfig lists a font for :lang=zh)."""
    if shutil.which("fc-list") is None:
        return f"fc-list (fontconfig) is not installed, so no CJK font can be found: apt-get install {CJK_PACKAGE}"
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    return None if found.strip() else f"no CJK font (fc-list :lang=zh lists none): apt-get install {CJK_PACKAGE}"


def shoot(d, name: str, ready: str) -> None:
    wait_for(d, lambda drv: drv.find_elements(By.CSS_SELECTOR, ready), 60)
    wait_for(d, lambda drv: drv.find_elements(By.CSS_SELECTOR, MAP_DRAWN), 60)
    wait_for(d, lambda drv: drv.execute_script("return document.fonts.status === 'loaded'"), 30)
    time.sleep(2)  # Leaflet fades layers in
    d.save_screenshot(str(OUT / f"{name}.png"))
    print(f"wrote {OUT / f'{name}.png'}")


def main() -> None:
    reason = missing() or cjk_font_missing()
    if reason:
        sys.exit(f"cannot take screenshots: {reason}")
    OUT.mkdir(parents=True, exist_ok=True)
    with served({}) as base, chrome(1920, 1080) as d:
        set_viewport(d, 1920, 1080)
        shots = [
            ("wall", "wall", "/wall", "#wall-kpi-reported", None),
            ("dispatcher", "dispatch", "/dispatch", "#dispatch-queue td", "#dispatch-queue td[data-dash-column='no']"),
            ("head.350203", "district", "/district/350203", "#district-kpi-reported", None),
        ]
        for user, name, path, ready, click in shots:
            d.delete_all_cookies()
            sign_in(d, base, user, PASSWORD, path)
            if click:
                wait_for(d, lambda drv, sel=click: drv.find_elements(By.CSS_SELECTOR, sel), 60)[0].click()
                wait_for(d, lambda drv: drv.find_elements(By.ID, "dispatch-case-no"), 30)
                # the map flies to the picked case: shoot once it is drawn there, ringed
                wait_for(d, lambda drv: drv.find_elements(By.CSS_SELECTOR, "path.case-marker.selected"), 60)
            shoot(d, name, ready)
        d.delete_all_cookies()
        set_viewport(d, 3840, 2160)
        sign_in(d, base, "wall", PASSWORD, "/wall")
        shoot(d, "wall-4k", "#wall-kpi-reported")
        set_viewport(d, 1920, 1080)
        d.get(base + "/auth/lang/en?next=/wall")
        sign_in(d, base, "wall", PASSWORD, "/wall")
        shoot(d, "wall-en", "#wall-kpi-reported")


if __name__ == "__main__":
    main()
