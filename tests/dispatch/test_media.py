"""The media directory: saving is idempotent and atomic, and a decompression bomb is refused before decoding."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from dispatch import media
from dispatch.media import PhotoStore
from store.errors import Invalid


def jpeg(colour: str = "teal") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(buf, "JPEG")
    return buf.getvalue()


def files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_saving_the_same_bytes_twice_keeps_one_set_of_files(tmp_path):
    store = PhotoStore(tmp_path)
    first = store.save(jpeg(), "a.jpg")
    kept = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    second = store.save(jpeg(), "b.jpg")  # another name, the same bytes
    assert first == second and len(kept) == 3  # orig, view, thumb
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == kept
    assert store.path("orig", first.sha256).read_bytes() == jpeg()
    with Image.open(store.path("thumb", first.sha256)) as thumb:
        assert max(thumb.size) == 320


def test_a_failed_write_leaves_no_file_and_no_temporary(tmp_path, monkeypatch):
    store = PhotoStore(tmp_path)
    real = os.fdopen
    calls = {"n": 0}

    def failing(fd, mode="r", *a, **kw):
        calls["n"] += 1
        if calls["n"] == 2:  # the second file of the three: the disk fills up mid-write
            f = real(fd, mode, *a, **kw)
            f.close()
            raise OSError("no space left on device")
        return real(fd, mode, *a, **kw)

    monkeypatch.setattr(media.os, "fdopen", failing)
    with pytest.raises(OSError, match="no space"):
        store.save(jpeg("olive"), "x.jpg")
    left = files(tmp_path)
    assert not [f for f in left if ".tmp-" in f]  # no half-written temporary
    assert len(left) == 1  # only the file written whole before the failure
    monkeypatch.setattr(media.os, "fdopen", real)
    photo = store.save(jpeg("olive"), "x.jpg")  # tried again: every file, whole
    assert len(files(tmp_path)) == 3 and store.path("view", photo.sha256).is_file()


def test_a_decompression_bomb_is_refused_before_it_is_decoded(tmp_path):
    buf = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(buf, "PNG")  # 60 million pixels in a few KB
    assert len(buf.getvalue()) < 200_000
    with pytest.raises(Invalid) as caught:
        PhotoStore(tmp_path).save(buf.getvalue(), "bomb.png")
    assert caught.value.code == "photo.type" and files(tmp_path) == []


def test_a_photo_over_the_limit_is_refused(tmp_path):
    with pytest.raises(Invalid) as caught:
        PhotoStore(tmp_path, max_bytes=1000).save(jpeg(), "big.jpg")
    assert caught.value.code == "photo.too_large" and files(tmp_path) == []
