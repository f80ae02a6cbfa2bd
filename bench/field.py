"""The inspector's phone page (/field) in headless Debian chromium at 360×800, against `xiuhua serve` on 127.0.0.1.

1. First load under Chromium DevTools' "Fast 3G" profile (562.5 ms latency, 1.44 Mb/s down, 675 kb/s up): the bytes
   of every request the page makes (as on the wire: gzipped, with headers) and the time until it is usable (the
   page's own "field-usable" mark: map drawn, matters listed, draft restored), against the targets 300 KB and 3 s.
   Then a second visit with the browser's cache.
2. A report with one 5 MB JPEG: the server's time (the app's Server-Timing header), against a report with no photo
   in the same process.
"""

from __future__ import annotations

import http.client
import io
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from PIL import Image

from bench import browser
from bench.pages import PASSWORD, _session, _store
from dispatch.demo import seed_demo

FAST_3G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1.6 * 1024 * 1024 / 8 * 0.9,
    "uploadThroughput": 750 * 1024 / 8 * 0.9,
}
TARGET_BYTES, TARGET_S = 300_000, 3.0
USER = "sup.350203"


def _load(driver: Any, base: str, cold: bool) -> dict[str, float]:
    """One visit of /field under Fast 3G: bytes on the wire, requests, seconds until usable."""
    from selenium.webdriver.common.by import By

    if cold:
        driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.get(base + "/login")  # an empty page to leave from; its requests are dropped below
    browser.network(driver)
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", FAST_3G)
    try:
        driver.get(base + "/field")
        browser.wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", 120)
        usable_ms = driver.execute_script("return performance.getEntriesByName('field-usable')[0].startTime")
        time.sleep(1.0)  # anything the page still asks for once usable counts too
        reqs = browser.network(driver)
    finally:
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
    return {"usable_s": usable_ms / 1000, "bytes": sum(r["bytes"] for r in reqs), "requests": len(reqs)}


def jpeg_of(megabytes: float, seed: int) -> bytes:
    """A camera-sized JPEG of about `megabytes` (noise does not compress: its size follows its pixels)."""
    rng = np.random.default_rng(seed)
    side = int(1000 * (megabytes / 0.88) ** 0.5)
    pixels = rng.integers(0, 256, (side * 3 // 4, side * 4 // 3, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def _multipart(fields: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for name, data in files:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="{name}"\r\n'
        parts.append(head.encode() + b"Content-Type: image/jpeg\r\n\r\n" + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def report_times(port: int, point: tuple[float, float], photos: list[bytes]) -> list[float]:
    """Server time (ms) of one report per entry of `photos` (b"": a report without a photo)."""
    cookie, csrf = _session(port, USER)
    out = []
    for k, data in enumerate(photos):
        fields = {"matter": "06036", "lon": str(point[0]), "lat": str(point[1]), "description": "bench"}
        body, ctype = _multipart(fields, [(f"bench{k}.jpg", data)] if data else [])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("POST", "/field/api/report", body, {"Content-Type": ctype, "Cookie": cookie, "X-CSRFToken": csrf})
        r = conn.getresponse()
        r.read()
        if r.status != 201:
            raise RuntimeError(f"report refused: {r.status}")
        out.append(float(r.getheader("Server-Timing", "app;dur=0").split("dur=")[1]))
        conn.close()
    return out


def run() -> None:
    reason = browser.missing()
    if reason:
        print(f"field: skipped ({reason})")
        return
    root = Path(tempfile.mkdtemp(prefix="xiuhua-bench-field-"))
    try:
        print("\n== The inspector's phone page (/field), headless chromium at 360x800 ==")
        env, wf = _store(root, "field")
        env["XIUHUA_MEDIA_DIR"] = str(root / "media")
        seed_demo(wf, 2000, 7, datetime.now(UTC) - timedelta(minutes=1), 7, PASSWORD)
        cell = wf.store.patrol_cells(USER)[0]
        grid = wf.engine.city.layers["grid_cells"]
        p = shapely.point_on_surface(grid[grid["code"] == cell].geometry.iloc[0])
        with browser.served(env, timeout_s=300) as base, browser.chrome(360, 800) as driver:
            browser.set_viewport(driver, 360, 800)
            browser.sign_in(driver, base, USER, PASSWORD)
            cold = _load(driver, base, cold=True)
            warm = _load(driver, base, cold=False)
            print(f"{'Fast 3G':<14}{'usable':>9}{'bytes':>10}{'requests':>10}")
            for label, r in (("first visit", cold), ("again", warm)):
                print(f"{label:<14}{r['usable_s']:>7.2f} s{r['bytes'] / 1e3:>7.0f} KB{r['requests']:>10}")
            print(
                f"first visit: {cold['bytes'] / 1e3:.0f} KB of {TARGET_BYTES / 1e3:.0f} KB "
                f"({cold['bytes'] / TARGET_BYTES:.2f} of the target), usable in {cold['usable_s']:.2f} s of "
                f"{TARGET_S:.0f} s ({cold['usable_s'] / TARGET_S:.2f} of the target)"
            )
            port = int(base.rsplit(":", 1)[1])
            photos = [jpeg_of(5.0, seed) for seed in range(5)]
            plain = report_times(port, (p.x, p.y), [b""] * 5)
            with_photo = report_times(port, (p.x, p.y), photos)
        mb = statistics.mean(len(x) for x in photos) / 1e6
        slowed = statistics.median(with_photo) / statistics.median(plain)
        print(
            f"report, server time: no photo median {statistics.median(plain):.0f} ms; one {mb:.1f} MB JPEG median "
            f"{statistics.median(with_photo):.0f} ms, max {max(with_photo):.0f} ms ({slowed:.1f}x the plain report)"
        )
        wf.store.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
