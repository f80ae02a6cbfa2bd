"""Headless Debian Chromium (never a downloaded browser) and a served app, for the browser tests, the
screenshots and the page benchmarks. Records every request and console message, so callers can check that
nothing leaves 127.0.0.1 and that the console stays clean."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# REFERENCE.md §7: without the background-networking flags Chromium tries to reach Google at every start
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--log-level=3", "--disable-quic",
    "--disable-default-apps", "--disable-extensions", "--metrics-recording-only", "--mute-audio",
)  # fmt: skip


def missing() -> str | None:
    """Why a browser cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(env: dict[str, str], port: int | None = None, timeout_s: float = 120) -> Iterator[str]:
    """`xiuhua serve` in a subprocess with `env`; yields its base URL once it answers."""
    port = port or free_port()
    cmd = [sys.executable, "-c", "import cli; cli.run()", "serve", "--port", str(port)]
    log_dir = Path(tempfile.mkdtemp(prefix="xiuhua-serve-"))
    log = (log_dir / "serve.log").open("w+")
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"xiuhua serve exited: {(log_dir / 'serve.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(base + "/login", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"xiuhua serve did not answer in {timeout_s} s") from None
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(log_dir, ignore_errors=True)


@contextmanager
def chrome(width: int = 1600, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium driven by chromedriver, with performance and console logs on."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="xiuhua-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.execute_cdp_cmd("Network.enable", {})
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def set_viewport(driver: Any, width: int, height: int) -> None:
    """Make the page's viewport exactly width x height CSS pixels (a window's size includes the browser's frame)."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def sign_in(driver: Any, base: str, username: str, password: str, then: str = "") -> None:
    """Sign in through the real form, then open `then` (a path)."""
    from selenium.webdriver.common.by import By

    driver.get(base + "/login")
    wait_for(driver, lambda d: d.find_elements(By.ID, "login-username"), 30)
    driver.find_element(By.ID, "login-username").send_keys(username)
    driver.find_element(By.ID, "login-password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    wait_for(driver, lambda d: "/login" not in d.current_url, 20)
    if then:
        driver.get(base + then)


def wait_for(driver: Any, condition: Any, timeout_s: float = 20) -> Any:
    """Poll `condition` until it is true; an element that React replaced while it was read counts as not yet."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, timeout_s, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(condition)


def network(driver: Any) -> list[dict[str, Any]]:
    """Requests since the last call: url, and bytes received (encoded, as on the wire) where finished."""
    sent: dict[str, dict[str, Any]] = {}
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        p = msg.get("params", {})
        if msg["method"] == "Network.requestWillBeSent":
            sent[p["requestId"]] = {"url": p["request"]["url"], "bytes": 0, "t": p.get("timestamp", 0.0)}
        elif msg["method"] == "Network.loadingFinished" and p["requestId"] in sent:
            sent[p["requestId"]]["bytes"] = int(p.get("encodedDataLength", 0))
            sent[p["requestId"]]["end"] = p.get("timestamp", 0.0)
    return list(sent.values())


def foreign(requests: list[dict[str, Any]]) -> list[str]:
    """Requests that left 127.0.0.1 (data:, blob: and the browser's own chrome: pages stay in the machine)."""
    local = ("http://127.0.0.1:", "data:", "blob:", "chrome:", "about:")
    return [r["url"] for r in requests if not r["url"].startswith(local)]


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
