"""Basemap settings, and a local MBTiles file served tile by tile (rows counted from the south)."""

from __future__ import annotations

import sqlite3

import pytest

from layers.basemap import parse_basemap
from layers.mbtiles import MBTiles

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def make_mbtiles(path, fmt="png"):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name text, value text)")
        db.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob)")
        db.executemany("INSERT INTO metadata VALUES (?, ?)", [("format", fmt), ("attribution", "test tiles")])
        db.execute("INSERT INTO tiles VALUES (1, 1, 0, ?)", (PNG,))  # TMS row 0 at z1 is XYZ y 1
    return path


def test_settings():
    assert parse_basemap("offline").kind == "offline"
    assert parse_basemap("amap").gcj02 and not parse_basemap("osm").gcj02
    assert parse_basemap("tianditu", "KEY").url.endswith("tk=KEY")
    assert parse_basemap("xyz-gcj02:https://t/{z}/{x}/{y}.png").gcj02
    with pytest.raises(ValueError, match="XIUHUA_TIANDITU_KEY"):
        parse_basemap("tianditu")
    with pytest.raises(ValueError, match=r"needs \{z\}"):
        parse_basemap("xyz:https://t/tile.png")
    with pytest.raises(ValueError, match="no MBTiles file"):
        parse_basemap("mbtiles:/nowhere.mbtiles")
    with pytest.raises(ValueError, match="not a basemap"):
        parse_basemap("google")


def test_mbtiles_rows_flip(tmp_path):
    tiles = MBTiles(make_mbtiles(tmp_path / "t.mbtiles"))
    assert tiles.tile(1, 1, 1) == PNG and tiles.tile(1, 1, 0) is None
    assert tiles.mimetype == "image/png" and tiles.attribution == "test tiles"
    with pytest.raises(ValueError, match="not a raster format"):
        MBTiles(make_mbtiles(tmp_path / "v.mbtiles", "pbf"))
