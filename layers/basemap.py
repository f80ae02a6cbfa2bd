"""Basemaps. Offline by default: land, sea and boundaries drawn from the city's own data, because a command
centre's intranet has no internet. Online tiles only when configured; a GCJ-02 basemap (Amap) makes every
layer display shifted to GCJ-02, and clicks are shifted back, so nothing sits hundreds of metres off."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Basemap:
    kind: str  # "offline", "tiles" or "mbtiles"
    url: str | None = None  # an XYZ template for "tiles"
    attribution: str = ""
    subdomains: str = "abc"
    gcj02: bool = False  # the tiles are drawn in GCJ-02: shift our WGS84 layers to match
    max_zoom: int = 19
    path: Path | None = None  # the MBTiles file


TIANDITU = (
    "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default"
    "&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk="
)


def parse_basemap(value: str, tianditu_key: str | None = None) -> Basemap:
    """A basemap from its setting (XIUHUA_BASEMAP); ValueError names what is wrong."""
    kind, _, arg = value.partition(":")
    if value == "offline":
        return Basemap("offline")
    if value == "osm":
        return Basemap("tiles", "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors", "abc")
    if value == "tianditu":
        if not tianditu_key:
            raise ValueError("XIUHUA_BASEMAP=tianditu needs a key in XIUHUA_TIANDITU_KEY")
        return Basemap("tiles", TIANDITU + tianditu_key, "© 天地图 Tianditu", "01234567", max_zoom=18)
    if value == "amap":
        url = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
        return Basemap("tiles", url, "© 高德地图 Amap", "1234", gcj02=True, max_zoom=18)
    if kind in ("xyz", "xyz-gcj02") and arg:
        if not all(p in arg for p in ("{z}", "{x}", "{y}")):
            raise ValueError(f"XIUHUA_BASEMAP={value}: the URL template needs {{z}}, {{x}} and {{y}}")
        return Basemap("tiles", arg, "", gcj02=kind == "xyz-gcj02")
    if kind == "mbtiles" and arg:
        path = Path(arg)
        if not path.is_file():
            raise ValueError(f"XIUHUA_BASEMAP={value}: no MBTiles file at {path}")
        return Basemap("mbtiles", "/tiles/{z}/{x}/{y}", "", path=path)
    raise ValueError(
        f"XIUHUA_BASEMAP={value!r} is not a basemap; use offline, osm, tianditu, amap, xyz:<url>, "
        "xyz-gcj02:<url> or mbtiles:<path>"
    )
