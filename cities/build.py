"""`xiuhua build-city <city>`: sources + configuration -> one GeoPackage, deterministically."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from cities.admin import Hierarchy, Progress, build_hierarchy
from cities.catalog import load_catalog
from cities.config import CityConfig
from cities.romanization import Romanizer
from cities.zones import build_squads, build_zones, mark_model_communities
from geo.errors import BuildError, InvalidInput
from geo.registry import LAYERS

# GDAL stamps GeoPackages with the current time unless told otherwise; a fixed stamp makes builds identical.
FIXED_TIMESTAMP = "2000-01-01T00:00:00Z"


def _read_layer(path: Path) -> gpd.GeoDataFrame:
    try:
        return gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InvalidInput(f"cannot read {path}: {exc}") from None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_city(cfg: CityConfig, progress: Progress, out: Path | None = None) -> Path:
    """Build cfg.gpkg (or `out`) from the city's sources; the file is replaced only once the build succeeded."""
    target = out or cfg.gpkg
    districts = _read_layer(cfg.sources["districts"]).sort_values("code", ignore_index=True)
    land = _read_layer(cfg.sources["land"])
    subdistricts = pd.read_csv(cfg.sources["subdistricts"], dtype=str)
    communities = pd.read_csv(cfg.sources["communities"], dtype=str)
    seats = _read_seats(cfg, subdistricts)
    catalog = load_catalog(cfg)
    h = build_hierarchy(cfg, districts, land, subdistricts, communities, progress, seats)
    _name_in_english(cfg, h)
    progress("laying out vendor points, storefront zones, model streets and signboard roads")
    zones = build_zones(cfg, h)
    mark_model_communities(cfg, h)
    squads = build_squads(h, catalog.matters)
    lat = h.lattice
    meta = {
        "city_code": cfg.code,
        "city_name": cfg.name,
        "city_name_en": cfg.name_en,
        "metric_crs": cfg.metric_crs,
        "timezone": cfg.timezone,
        "lattice": json.dumps({"x0": lat.x0, "y0": lat.y0, "size_m": lat.size_m, "nx": lat.nx, "ny": lat.ny}),
        "cell_m": json.dumps(cfg.cell_m),
        "seed": str(cfg.seed),
        "synthetic_note": "Sub-district, community and grid shapes, squads and all zones are synthetic; "
        "district outlines and the coastline are real. See data/<city>/README.md.",
        "sources_sha256": json.dumps({k: _sha256(v) for k, v in sorted(cfg.sources.items())}),
    }
    layers: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {
        "districts": h.districts,
        "land": h.land,
        "subdistricts": h.subdistricts,
        "communities": h.communities,
        "grid_cells": h.cells,
        "squads": squads,
        **zones,
        "departments": catalog.departments,
        "matters": catalog.matters,
        "routing_rules": catalog.routing,
        "city_meta": pd.DataFrame(sorted(meta.items()), columns=["key", "value"]),
    }
    _check_registry(layers)
    progress("writing the GeoPackage")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(suffix=".gpkg", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        with pyogrio_fixed_date():
            for name, frame in layers.items():
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _read_seats(cfg: CityConfig, subdistricts: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Where each sub-district is (its seat of government, say): code -> WGS84 lon/lat, from an optional source."""
    path = cfg.sources.get("subdistrict_seats")
    if path is None:
        return {}
    seats = pd.read_csv(path, dtype={"code": str})
    missing = {"code", "lon", "lat"} - set(seats.columns)
    if missing:
        raise InvalidInput(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    unknown = sorted(set(seats["code"]) - set(subdistricts["code"]))
    if unknown:
        raise InvalidInput(f"{path}: codes not in the sub-district list: {', '.join(unknown)}")
    twice = seats.loc[seats["code"].duplicated(), "code"]
    if len(twice):
        raise InvalidInput(f"{path}: codes listed twice: {', '.join(twice)}")
    lon = pd.to_numeric(seats["lon"], errors="coerce")
    lat = pd.to_numeric(seats["lat"], errors="coerce")
    bad = seats.loc[lon.isna() | lat.isna() | ~lon.between(-180, 180) | ~lat.between(-90, 90), "code"]
    if len(bad):
        raise InvalidInput(f"{path}: no valid lon/lat for {', '.join(bad)}")
    return {c: (float(x), float(y)) for c, x, y in zip(seats["code"], lon, lat, strict=True)}


def _name_in_english(cfg: CityConfig, h: Hierarchy) -> None:
    """Give sub-districts and communities a `name_en` beside their Chinese name (squads take theirs from these)."""
    # a longer name may start with the city's or a district's proper name (厦门海沧保税港区): spelt apart
    places = [cfg.name, *h.districts["name"]]
    rom = Romanizer(cfg.readings, [p[:-1] if p[-1:] in ("市", "区", "县") else p for p in places])
    for gdf in (h.subdistricts, h.communities):
        gdf.insert(int(gdf.columns.get_loc("name")) + 1, "name_en", [rom.name(str(n)) for n in gdf["name"]])


def _check_registry(layers: dict[str, gpd.GeoDataFrame | pd.DataFrame]) -> None:
    """The built layers are the ones geo/registry declares, with the fields it names."""
    for name, spec in LAYERS.items():
        if name not in layers:
            raise BuildError(f"the build made no layer {name!r}")
        fields = {spec.id_field, spec.district_field, *([spec.name_field] if spec.name_field else [])}
        missing = fields - set(layers[name].columns)
        if missing:
            raise BuildError(f"layer {name} lacks the field(s) {', '.join(sorted(missing))}")


class pyogrio_fixed_date:
    """Context manager that sets GDAL's OGR_CURRENT_DATE for reproducible GeoPackage timestamps."""

    def __enter__(self) -> None:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_TIMESTAMP})

    def __exit__(self, *exc: object) -> None:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
