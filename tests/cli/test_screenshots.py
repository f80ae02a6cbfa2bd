"""`make screenshots` refuses to run where Chinese text cannot render, and says which package to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_screenshots_refuse_to_run_without_a_cjk_font(tmp_path):
    empty = tmp_path / "fonts.conf"  # a fontconfig that knows no fonts at all
    empty.write_text('<?xml version="1.0"?>\n<fontconfig></fontconfig>\n')
    env = {**os.environ, "FONTCONFIG_FILE": str(empty)}
    run = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "screenshots.py")], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1
    assert "cannot take screenshots" in run.stderr
    if "chromium" not in run.stderr:  # where a browser is installed, the font is what is missing
        assert "fonts-noto-cjk" in run.stderr and "fc-list" in run.stderr
