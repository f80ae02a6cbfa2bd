"""Synthetic photos for the demo history: a few distinct, plainly fake pictures per step (a flat scene of shapes with
"演示照片 SYNTHETIC" and the step's name written large), kept once by content hash and shared by every demo case
that needs one. Their rows are marked synthetic, and the pages label them as such.

The pictures are drawn from fixed seeds, so the same machine (the same fonts and Pillow) draws the same bytes.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from dispatch.media import Photo, PhotoStore
from dispatch.workflow import PHOTO_STAGE
from store.models import STAGES, Case, Event, Media

PER_STAGE = 12
SIZE = (640, 480)
STAGE_NAMES = {"report": "上报 report", "verify": "核实 verify", "feedback": "处置 feedback", "check": "核查 check"}
# where Debian, Ubuntu, Fedora and macOS keep a font with Chinese glyphs; Pillow's own font otherwise (Latin only)
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)
PALETTES = (
    ("#a5d8ff", "#868e96", "#fab005", "#e03131"),
    ("#d0ebff", "#495057", "#40c057", "#1971c2"),
    ("#fff3bf", "#adb5bd", "#f76707", "#5f3dc4"),
    ("#e3fafc", "#5c940d", "#c2255c", "#343a40"),
)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in CJK_FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def picture(stage: str, k: int) -> bytes:
    """Picture `k` of a step: a JPEG of sky, ground, a few blocks and discs, and the label."""
    rng = random.Random(f"{stage}-{k}")
    sky, ground, a, b = PALETTES[(STAGES.index(stage) + k) % len(PALETTES)]
    img = Image.new("RGB", SIZE, sky)
    draw = ImageDraw.Draw(img)
    w, h = SIZE
    horizon = rng.randint(h // 2, h * 2 // 3)
    draw.rectangle((0, horizon, w, h), fill=ground)
    for _ in range(rng.randint(3, 6)):  # buildings, stalls, bins: blocks standing on the ground
        x, bw, bh = rng.randint(0, w - 60), rng.randint(40, 160), rng.randint(40, 200)
        draw.rectangle((x, horizon - bh, x + bw, horizon), fill=rng.choice((a, b)), outline="#212529", width=2)
    for _ in range(rng.randint(1, 3)):
        x, y, r = rng.randint(40, w - 40), rng.randint(horizon, h - 30), rng.randint(12, 40)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.choice((a, b)), outline="#212529", width=2)
    for text, size, ty in (("演示照片 SYNTHETIC", 46, 24), (f"{STAGE_NAMES[stage]} #{k + 1}", 34, 84)):
        font = _font(size)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tx = (w - (right - left)) / 2
        draw.rectangle((tx - 12, ty - 6, tx + right - left + 12, ty + bottom - top + 14), fill="#ffffff")
        draw.text((tx - left, ty - top), text, font=font, fill="#c92a2a")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def pictures(store: PhotoStore, per_stage: int = PER_STAGE) -> dict[str, list[Photo]]:
    """The demo's pictures of each step, kept in `store` (idempotent: the same bytes are kept once)."""
    return {
        stage: [store.save(picture(stage, k), f"synthetic-{stage}-{k + 1}.jpg") for k in range(per_stage)]
        for stage in STAGES
    }


def photos_of(history: Sequence[tuple[Case, Sequence[Event]]], pics: dict[str, list[Photo]]) -> list[list[Media]]:
    """For each case of a demo history, the photos its steps would have carried: an inspector's report, a
    verification, the unit's feedback and each check get one picture, in turn from that step's set."""
    turn = dict.fromkeys(STAGES, 0)
    out = []
    for case, events in history:
        rows = []
        for e in events:
            stage = PHOTO_STAGE.get(e.action)
            if stage is None or (e.action == "report" and case.source != "supervisor"):
                continue
            options = pics[stage]
            photo = options[turn[stage] % len(options)]
            turn[stage] += 1
            rows.append(photo.row(0, stage, e.actor, e.at, synthetic=True))
        out.append(rows)
    return out
