"""A city is data and configuration: `data/<city>/city.toml` plus the source files it names."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo.errors import InvalidInput

LonLat = tuple[float, float]


@dataclass(frozen=True)
class CityConfig:
    key: str
    root: Path
    code: str
    name: str
    name_en: str
    metric_crs: str
    timezone: str
    centre: LonLat
    seed: int
    sources: dict[str, Path]
    lattice_m: float
    block_m: float
    sliver_fraction: float
    cell_m: dict[str, float]
    weights: dict[str, float]
    rural_special: frozenset[str]
    islands: dict[str, tuple[LonLat, ...]]
    cores: dict[str, LonLat]
    zones: dict[str, Any]
    language: str = "en"  # the app's default language: "zh" or "en"
    # how the city reads characters in place names where pypinyin's common reading differs (厦 -> xia)
    readings: dict[str, str] = field(default_factory=dict)
    # when a report may repeat a case: [duplicates] radius_m, hours, per matter class (dispatch/duplicates.py)
    duplicates: dict[str, Any] = field(default_factory=dict)

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def gpkg(self) -> Path:
        return self.build_dir / "city.gpkg"


def _lonlat(value: Any, where: str) -> LonLat:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float) for v in value)):
        raise InvalidInput(f"{where}: expected [lon, lat], got {value!r}")
    return (float(value[0]), float(value[1]))


def load_config(city: str, data_dir: Path) -> CityConfig:
    """Read data_dir/<city>/city.toml (or a path to a city.toml) and check it."""
    path = Path(city)
    if path.suffix != ".toml":
        path = data_dir / city / "city.toml"
    if not path.is_file():
        known = sorted(p.parent.name for p in data_dir.glob("*/city.toml"))
        raise InvalidInput(f"no city configuration at {path}; known cities: {', '.join(known) or 'none'}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: {exc}") from None
    root = path.parent
    try:
        c, g, p, s = raw["city"], raw["grid"], raw["partition"], raw.get("subdistricts", {})
        sources = {k: (root / v).resolve() for k, v in raw["sources"].items()}
        cfg = CityConfig(
            key=root.name,
            root=root,
            code=str(c["code"]),
            name=c["name"],
            name_en=c["name_en"],
            metric_crs=c["metric_crs"],
            timezone=c["timezone"],
            centre=_lonlat(c["centre"], f"{path} [city] centre"),
            seed=int(c["seed"]),
            sources=sources,
            lattice_m=float(g["lattice_m"]),
            block_m=float(g["block_m"]),
            sliver_fraction=float(g["sliver_fraction"]),
            cell_m={k: float(v) for k, v in g["cell_m"].items()},
            weights={k: float(v) for k, v in p.items()},
            rural_special=frozenset(s.get("rural_special", [])),
            islands={
                str(k): tuple(_lonlat(pt, f"{path} [subdistricts.islands] {k}") for pt in v)
                for k, v in s.get("islands", {}).items()
            },
            cores={k: _lonlat(v, f"{path} core {k}") for k, v in raw.get("districts", {}).get("cores", {}).items()},
            zones=raw.get("zones", {}),
            language=str(c.get("language", "en")),
            readings={str(k): str(v) for k, v in raw.get("names", {}).get("readings", {}).items()},
            duplicates=dict(raw.get("duplicates", {})),
        )
    except KeyError as exc:
        raise InvalidInput(f"{path}: missing setting {exc}") from None
    for zone, size in cfg.cell_m.items():
        if size % cfg.lattice_m or cfg.block_m % size:
            raise InvalidInput(
                f"{path}: cell size {size} m ({zone}) must be a multiple of lattice_m and divide block_m"
            )
    bad = [f"{k} = {v!r}" for k, v in cfg.readings.items() if len(k) != 1 or not re.fullmatch("[a-z]+", v)]
    if bad:
        raise InvalidInput(f"{path}: [names] readings map one character to its pinyin in a-z: not {', '.join(bad)}")
    if cfg.language not in ("zh", "en"):
        raise InvalidInput(f'{path}: [city] language must be "zh" or "en", not {cfg.language!r}')
    missing = [str(v) for v in cfg.sources.values() if not v.is_file()]
    if missing:
        raise InvalidInput(f"{path}: source files not found: {', '.join(missing)}")
    return cfg
