"""Photos of cases, content-addressed on disk.

A photo is checked by its content (Pillow decodes it: JPEG, PNG, WebP, and HEIC/HEIF through pillow-heif), never
by its name; it must be at most `max_bytes`. Three files are kept under the media directory, by the sha256 of the
bytes as uploaded:
- `orig/ab/<sha256>` the upload itself, unchanged (evidence; never served);
- `view/ab/<sha256>.jpg|png|webp` what is served: the pixels turned upright, without EXIF, GPS or other metadata
  (HEIC is served as JPEG, which every browser shows);
- `thumb/ab/<sha256>.jpg` a 320-pixel thumbnail.
Writing is idempotent (the same bytes give the same files) and atomic (a temporary file, then a rename), so a
failed request leaves no half-written photo; the rows in the store say which case, step and person a photo
belongs to.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from store.errors import Invalid
from store.models import STAGES, Media

try:  # HEIC from iPhones; optional at run time, declared in pyproject
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF = True
except ImportError:  # pragma: no cover - the dependency is declared
    HEIF = False

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}
SERVED = {"JPEG": ("JPEG", "jpg"), "PNG": ("PNG", "png"), "WEBP": ("WEBP", "webp"), "HEIF": ("JPEG", "jpg")}
MAX_PIXELS = 50_000_000  # a decompression bomb is refused before it is decoded
THUMB_PX = 320
MAX_PER_STEP = 6


@dataclass(frozen=True)
class Photo:
    """A checked, stored photo (not yet tied to a case)."""

    sha256: str
    content_type: str
    bytes: int
    width: int
    height: int

    def row(
        self, case_id: int, stage: str, who: str, at: datetime, synthetic: bool = False, public: bool = False
    ) -> Media:
        return Media(0, case_id, stage, self.sha256, self.content_type, self.bytes, self.width, self.height, who, at,
                     synthetic, public)  # fmt: skip


def _atomic_write(path: Path, data: bytes) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class PhotoStore:
    """The media directory: checks and keeps photos, finds their files."""

    def __init__(self, root: Path, max_bytes: int = 10 * 1024 * 1024) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def check(self, data: bytes, name: str = "photo") -> tuple[Image.Image, str]:
        """The decoded image and its format; Invalid (code photo.*) if it is too large or not a photo we take."""
        if len(data) > self.max_bytes:
            raise Invalid(
                f"{name}: {len(data) / 1e6:.1f} MB is more than the {self.max_bytes / 1e6:.0f} MB a photo may have",
                code="photo.too_large",
                name=name[:80],
                mb=round(len(data) / 1e6, 1),
                limit=round(self.max_bytes / 1e6),
            )
        if not data:
            raise Invalid(f"{name}: the file is empty", code="photo.empty", name=name[:80])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(io.BytesIO(data))
                fmt = img.format or ""
                if fmt not in FORMATS:
                    raise UnidentifiedImageError(fmt)
                if img.width * img.height > MAX_PIXELS:
                    raise Image.DecompressionBombError("too many pixels")
                img.load()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
                Image.DecompressionBombWarning):  # fmt: skip
            raise Invalid(f"{name}: not a JPEG, PNG, WebP or HEIC photo", code="photo.type", name=name[:80]) from None
        return img, fmt

    def save(self, data: bytes, name: str = "photo") -> Photo:
        """Check a photo and keep its three files (idempotent); what the store's row needs."""
        img, fmt = self.check(data, name)
        sha = hashlib.sha256(data).hexdigest()
        upright = ImageOps.exif_transpose(img)
        out_fmt, ext = SERVED[fmt]
        view = self._encode(upright, out_fmt)
        thumb = upright.copy()
        thumb.thumbnail((THUMB_PX, THUMB_PX))
        _atomic_write(self.path("thumb", sha), self._encode(thumb, "JPEG"))
        _atomic_write(self.root / "view" / sha[:2] / f"{sha}.{ext}", view)
        _atomic_write(self.path("orig", sha), data)
        return Photo(sha, FORMATS[fmt], len(data), upright.width, upright.height)

    @staticmethod
    def _encode(img: Image.Image, fmt: str) -> bytes:
        """Pixels only: a new image of the same pixels is saved, so no EXIF, GPS, XMP or ICC text goes along."""
        if img.mode not in ("RGB", "RGBA", "L", "LA"):  # palettes and 16-bit modes: plain pixels first
            img = img.convert("RGBA" if "A" in img.mode or "transparency" in img.info else "RGB")
        if fmt == "JPEG" and img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        clean = Image.new(img.mode, img.size)
        clean.paste(img)
        buf = io.BytesIO()
        clean.save(buf, fmt, **({"quality": 85} if fmt in ("JPEG", "WEBP") else {}))
        return buf.getvalue()

    def path(self, kind: str, sha256: str) -> Path:
        """The file of a photo: kind "orig" (never served), "view" or "thumb"."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise Invalid("not a photo id", code="photo.id")
        if kind == "orig":
            return self.root / "orig" / sha256[:2] / sha256
        if kind == "thumb":
            return self.root / "thumb" / sha256[:2] / f"{sha256}.jpg"
        if kind == "view":
            for ext in ("jpg", "png", "webp"):
                p = self.root / "view" / sha256[:2] / f"{sha256}.{ext}"
                if p.exists():
                    return p
            return self.root / "view" / sha256[:2] / f"{sha256}.jpg"
        raise Invalid(f"unknown photo kind {kind!r}", code="photo.kind")


def check_count(photos: Sequence[object], stage: str) -> None:
    """A step carries at most MAX_PER_STEP photos, at a known stage."""
    if stage not in STAGES:
        raise Invalid(f"unknown photo stage {stage!r}", code="photo.stage")
    if len(photos) > MAX_PER_STEP:
        raise Invalid(
            f"at most {MAX_PER_STEP} photos per step ({len(photos)} given)", code="photo.count", limit=MAX_PER_STEP
        )
