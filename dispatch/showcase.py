"""Model streets (样板街区) and dog-keeping model communities (养犬管理示范社区): what each is and its figures for a
period (cases, repeats, the honest on-time rate) beside its district's.

A case is on a model street when its ownership answer says so (zones.model_street: the engine decided it once,
at report); a case is in a community when its grid cell's community is that one. The district's average is
taken per km² for cases (the item's area against the district's land) and per case for repeats (the same
matter again in the same grid cell in the period, dispatch/stats.repeats); the on-time rate is a rate already.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import shapely

from dispatch.stats import Figures, figures, repeats
from dispatch.workflow import Workflow
from geo.crs import STORAGE_CRS, project_geometries
from store.models import CaseFacts

KINDS = ("street", "community")
PERIOD_DAYS = 30


@dataclass(frozen=True)
class ModelPlace:
    kind: str  # "street" or "community"
    id: str  # a model street's id, a community's code
    name: str
    district: str
    geometry: shapely.Geometry  # EPSG:4326
    area_km2: float


@dataclass(frozen=True)
class Side:
    """One side of the comparison: the item's or its district's."""

    cases: int  # reported in the period
    repeats: int  # of them, repeats of a matter already reported in the same grid cell in the period
    figures: Figures
    area_km2: float

    @property
    def per_km2(self) -> float | None:
        return self.cases / self.area_km2 if self.area_km2 > 0 else None

    @property
    def repeat_share(self) -> float | None:
        return self.repeats / self.cases if self.cases else None


@dataclass(frozen=True)
class Comparison:
    place: ModelPlace
    since: datetime
    now: datetime
    item: Side
    district: Side
    facts: tuple[CaseFacts, ...]  # the item's cases (open, or reported or closed in the period)


def _area_km2(wf: Workflow, geom: shapely.Geometry) -> float:
    metric = project_geometries(np.array([geom], dtype=object), STORAGE_CRS, wf.engine.city.metric_crs)[0]
    return float(shapely.area(metric)) / 1e6


def places(wf: Workflow, kind: str, districts: tuple[str, ...] = ()) -> list[ModelPlace]:
    """The model streets or the dog-keeping model communities (of `districts`, if given), by district then id."""
    layers = wf.engine.city.layers
    if kind == "street":
        gdf = layers["model_streets"]
        rows = [(str(r.id), str(r.name), str(r.district_code), r.geometry) for r in gdf.itertuples()]
    elif kind == "community":
        gdf = layers["communities"]
        if "dog_model" not in gdf.columns:  # a city built before the column existed has none
            return []
        mine = gdf[gdf["dog_model"].fillna(False).astype(bool)]
        rows = [(str(r.code), str(r.name), str(r.district_code), r.geometry) for r in mine.itertuples()]
    else:
        raise ValueError(f"unknown kind {kind!r}: street or community")
    out = [ModelPlace(kind, i, n, d, g, _area_km2(wf, g)) for i, n, d, g in rows if not districts or d in districts]
    return sorted(out, key=lambda p: (p.district, p.id))


def _side(wf: Workflow, facts: list[CaseFacts], since: datetime, now: datetime, area_km2: float) -> Side:
    fig = figures(wf, facts, since, now)
    # a repeat: the same matter again in the same grid cell in the period (dispatch/stats.repeats), on both sides
    rep = sum(n for n, _ in repeats(facts, since, level="cell").values())
    return Side(fig.reported, rep, fig, area_km2)


def compare(wf: Workflow, place: ModelPlace, now: datetime, days: int = PERIOD_DAYS) -> Comparison:
    """The place's figures for the `days` before `now` and its district's."""
    since = now - timedelta(days=days)
    store = wf.store
    district_facts = store.case_facts(active_since=since, districts=[place.district])
    if place.kind == "street":
        ids = {
            c.id
            for c in store.cases(districts=[place.district], active_since=since)
            if c.owners.zones.get("model_street") == place.id
        }
        mine = [f for f in district_facts if f.id in ids]
    else:
        mine = [f for f in district_facts if f.community == place.id]
    land = wf.engine.city.layers["land"]
    land_geom = land.loc[land["code"].astype(str) == place.district, "geometry"]
    district_km2 = sum(_area_km2(wf, g) for g in land_geom)
    return Comparison(
        place,
        since,
        now,
        _side(wf, mine, since, now, place.area_km2),
        _side(wf, district_facts, since, now, district_km2),
        tuple(mine),
    )
