"""Versions of the city's layers: read a replacement from a file, preview whose cases would change owner,
apply it (new version + re-resolve of every open case, in one transaction)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from dispatch.workflow import OPEN, owners_of
from geo.crs import STORAGE_CRS
from geo.errors import InvalidInput
from geo.layers import read_polygon_file
from geo.ownership import City, OwnershipEngine
from geo.registry import EDITABLE
from store.base import Store
from store.models import OWNER_COLUMNS, Case, Feature, LayerVersion, Owners


@dataclass(frozen=True)
class OwnerChange:
    case: Case
    before: dict[str, str | None]  # the owner columns as stored
    after: Owners  # the new answer


def read_layer_file(
    path: Path, layer: str, crs_text: str | None = None, repair: bool = False, *, city: City
) -> gpd.GeoDataFrame:
    """A replacement for `layer`, checked, in EPSG:4326; bad input (also features that do not lie on the
    city's districts' extent) raises InvalidInput naming the feature."""
    if layer not in EDITABLE:
        raise InvalidInput(f"layer {layer!r} cannot be replaced; layers: {', '.join(EDITABLE)}")
    id_field, needed = EDITABLE[layer].id_field, EDITABLE[layer].editable or ()
    minx, miny, maxx, maxy = (float(v) for v in city.layers["districts"].total_bounds)
    gdf = read_polygon_file(path, layer, id_field, crs_text, repair, (minx, miny, maxx, maxy))
    missing = [c for c in needed if c not in gdf.columns]
    if missing:
        raise InvalidInput(f"{path}: layer {layer} needs the field(s) {', '.join(missing)}")
    dup = gdf["owner_id"][gdf["owner_id"].duplicated()]
    if len(dup):
        raise InvalidInput(f"{path}: {id_field} {dup.iloc[0]!r} appears more than once")
    gdf[id_field] = gdf.pop("owner_id")
    return gdf


def _with_layer(city: City, layer: str, gdf: gpd.GeoDataFrame) -> City:
    return replace(city, layers={**city.layers, layer: gdf})


def _in_effect(store: Store, now: datetime) -> dict[str, LayerVersion]:
    latest: dict[str, LayerVersion] = {}
    for v in store.layer_versions():
        if v.effective_from <= now:
            latest[v.layer] = v
    return latest


def version_label(store: Store, city: City, now: datetime) -> str:
    """Which layers an ownership answer used: the built city's sources, then each stored version in effect."""
    built = hashlib.sha256(city.meta.get("sources_sha256", "").encode()).hexdigest()[:12]
    stored = [f"{layer}:v{v.version}" for layer, v in sorted(_in_effect(store, now).items())]
    return ";".join([f"city:{built}", *stored])


def current_city(store: Store, city: City, now: datetime) -> City:
    """The built city with each layer replaced by its latest version in effect at `now`."""
    for layer, version in _in_effect(store, now).items():
        feats = store.layer_features(version.id)
        id_field = EDITABLE[layer].id_field
        gdf = gpd.GeoDataFrame(
            [{id_field: f.feature_id, **{k: v for k, v in f.properties.items() if k != id_field}} for f in feats],
            geometry=[f.geometry for f in feats],
            crs=STORAGE_CRS,
        )
        city = _with_layer(city, layer, gdf)
    return city


def preview(store: Store, city: City, layer: str, gdf: gpd.GeoDataFrame, now: datetime) -> list[OwnerChange]:
    """The open cases whose owners would change if `gdf` replaced `layer` (nothing is written)."""
    engine = OwnershipEngine(_with_layer(current_city(store, city, now), layer, gdf))
    return _changes(engine, store.cases(states=OPEN), now)


def _changes(engine: OwnershipEngine, open_cases: list[Case], now: datetime) -> list[OwnerChange]:
    if not open_cases:
        return []
    df = engine.resolve_many(
        np.array([c.lon for c in open_cases]),
        np.array([c.lat for c in open_cases]),
        np.array([c.matter for c in open_cases]),
        pd.Series([c.reported_at for c in open_cases]),
    )
    out = []
    cols = list(OWNER_COLUMNS)
    fresh = df[cols].astype(object).where(df[cols].notna(), None).to_dict("records")
    for k, (case, new) in enumerate(zip(open_cases, fresh, strict=True)):
        old = {key: getattr(case, key) for key in OWNER_COLUMNS}
        if new != old:
            out.append(OwnerChange(case, old, owners_of(engine.row_to_ownership(df.iloc[k]), "")))
    return out


def apply(
    store: Store, city: City, layer: str, gdf: gpd.GeoDataFrame, source: Path, actor: str, now: datetime
) -> tuple[LayerVersion, list[OwnerChange]]:
    """Store `gdf` as the next version of `layer` and re-own every open case, in one transaction."""
    changes = preview(store, city, layer, gdf, now)
    id_field = EDITABLE[layer].id_field
    records = gdf.drop(columns="geometry").to_dict("records")
    features = [
        Feature(str(r[id_field]), {str(k): _plain(v) for k, v in r.items()}, g)
        for r, g in zip(records, gdf.geometry.values, strict=True)
    ]
    last = max((v.version for v in store.layer_versions(layer)), default=0)
    label = f"{version_label(store, city, now)};{layer}:v{last + 1}"
    reassign = {}
    for ch in changes:
        owners = replace(ch.after, layer_version=label)
        reassign[ch.case.id] = {**owners.columns(), "ownership": owners.to_json()}
    digest = hashlib.sha256(source.read_bytes()).hexdigest() if source.is_file() else ""
    version = store.add_layer_version(layer, features, source.name, digest, now, actor, reassign, now)
    return version, changes


def _plain(value: Any) -> Any:
    """A property value as JSON can hold it."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return None if isinstance(value, float) and np.isnan(value) else value
