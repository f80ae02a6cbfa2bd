"""Campaigns (周期集群仗 — 治难点, 通堵点, 扫盲点): a named push on an area, for a period, against some matters, and
its figures: the cases of those matters in the area, week by week during the campaign against the same length of
time just before it, with closure and on-time rates for both windows and the cells with most cases. Pure: layers,
files and case facts in; a draft to store, and figures, out. Areas are measured in the city's metric CRS.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import shapely
import shapely.errors
import shapely.geometry
from numpy.typing import NDArray

from geo.crs import project_geometries
from geo.errors import InvalidInput
from geo.layers import read_polygon_file
from store.base import Store
from store.errors import Invalid
from store.models import CAMPAIGN_KINDS, CAMPAIGN_NAME_MAX, Campaign, CaseFacts, NewCampaign

KINDS = CAMPAIGN_KINDS
KIND_ZH = {"difficult": "治难点", "congestion": "通堵点", "blind_spot": "扫盲点", "other": "其他"}
# how an area may be given: by the codes of one layer of the built city (layer, id field)
AREA_LAYERS = {"cells": ("grid_cells", "code"), "communities": ("communities", "code"),
               "model_streets": ("model_streets", "id")}  # fmt: skip
MAX_AREA_KM2 = 50.0
MAX_DAYS = 366
MAX_CODES = 500  # codes in one area
MAX_FILE_BYTES = 5 * 1024 * 1024
WORST = 10  # cells listed as the worst


def _invalid(message: str, code: str, **params: str | int | float) -> Invalid:
    return Invalid(message, code=f"campaign.{code}", **params)


def area_from_codes(
    layers: Mapping[str, gpd.GeoDataFrame], by: str, codes: Sequence[str]
) -> tuple[shapely.Geometry, str]:
    """The union of the features of one city layer (cells, communities or model streets) with these codes, and the
    source to store ("cells:A,B"); Invalid naming unknown codes."""
    if by not in AREA_LAYERS:
        raise _invalid(f"an area is given by {', '.join(AREA_LAYERS)}, not {by!r}", "area_by", by=by)
    wanted = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not wanted:
        raise _invalid(f"no {by} given for the area", "area_empty", by=by)
    if len(wanted) > MAX_CODES:
        raise _invalid(f"at most {MAX_CODES} {by} in one area, not {len(wanted)}", "area_codes", by=by, max=MAX_CODES)
    layer, field = AREA_LAYERS[by]
    gdf = layers[layer]
    ids = gdf[field].astype(str)
    unknown = sorted(set(wanted) - set(ids))
    if unknown:
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise _invalid(f"unknown {by}: {shown}", "area_unknown", by=by, codes=shown)
    geoms = np.asarray(gdf.geometry.values)[ids.isin(wanted).to_numpy()]
    area = shapely.union_all(geoms)
    return area, f"{by}:{','.join(wanted)}"


def area_from_file(path: Path) -> tuple[shapely.Geometry, str]:
    """The union of the polygons of a vector file (GeoJSON, GeoPackage, Shapefile …, any CRS it declares)."""
    if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
        raise _invalid(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB", "area_file_size", file=path.name)
    try:
        gdf = read_polygon_file(path, "area", repair=False)
    except InvalidInput as exc:
        raise _invalid(str(exc), "area_file", file=path.name, why=str(exc)) from None
    return shapely.union_all(np.asarray(gdf.geometry.values)), f"file:{path.name}"


MAX_DRAWN_VERTICES = 20_000


def area_from_geojson(data: Any, source: str = "drawn") -> tuple[shapely.Geometry, str]:
    """The union of the polygons of a GeoJSON FeatureCollection in lon/lat (what a drawing control gives); Invalid
    when it holds no polygon, something else, or more than MAX_DRAWN_VERTICES vertices."""
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or not features:
        raise _invalid("no area drawn", "area_empty", by="draw")
    try:
        geoms = [shapely.geometry.shape(f["geometry"]) for f in features]
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException):
        raise _invalid("the drawn area is not GeoJSON", "area_shape") from None
    if any(g.geom_type not in ("Polygon", "MultiPolygon") for g in geoms):
        raise _invalid("the area must be drawn as polygons or rectangles", "area_shape")
    if sum(shapely.get_num_coordinates(g) for g in geoms) > MAX_DRAWN_VERTICES:
        raise _invalid("the drawn area has too many vertices", "too_long", field="area")
    return shapely.union_all(geoms), source


def check_area(
    area: shapely.Geometry, districts: gpd.GeoDataFrame, metric_crs: str
) -> tuple[shapely.Geometry, tuple[str, ...], float]:
    """The area as stored (its polygons only, cut to nothing else), the codes of the districts it touches, and its
    size in km²; Invalid if it touches no district or is larger than MAX_AREA_KM2."""
    parts = [p for p in shapely.get_parts(area) if p.geom_type == "Polygon" and not p.is_empty]
    if not parts:
        raise _invalid("the area has no polygon", "area_shape")
    area = shapely.union_all(parts)
    if not area.is_valid:
        raise _invalid(f"the area is not a valid polygon: {shapely.is_valid_reason(area)}", "area_invalid")
    geoms = np.asarray(districts.geometry.values)
    touched = tuple(sorted(str(c) for c in districts["code"].to_numpy()[shapely.intersects(geoms, area)]))
    if not touched:
        raise _invalid("the area lies outside every district of the city", "area_outside")
    km2 = float(project_geometries(np.array([area], dtype=object), "EPSG:4326", metric_crs)[0].area) / 1e6
    if km2 > MAX_AREA_KM2:
        raise _invalid(f"the area is {km2:.1f} km², more than {MAX_AREA_KM2:g} km²", "area_size",
                       km2=round(km2, 1), max=MAX_AREA_KM2)  # fmt: skip
    if area.geom_type == "Polygon":
        area = shapely.MultiPolygon([area])
    return area, touched, km2


def draft(
    name: str,
    kind: str,
    area: shapely.Geometry,
    area_source: str,
    starts_on: date,
    ends_on: date,
    matters: Sequence[str],
    catalogue: Collection[str],
    districts: gpd.GeoDataFrame,
    metric_crs: str,
) -> NewCampaign:
    """A campaign checked field by field (Invalid naming the first problem): name 1–80 characters, a known kind,
    an area on the city of at most MAX_AREA_KM2, an inclusive period of 2 to MAX_DAYS days, known matters."""
    name = name.strip()
    if not name or len(name) > CAMPAIGN_NAME_MAX:
        raise _invalid(f"a campaign's name must be 1 to {CAMPAIGN_NAME_MAX} characters", "name", max=CAMPAIGN_NAME_MAX)
    if kind not in KINDS:
        raise _invalid(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}", "kind", kind=kind)
    if ends_on <= starts_on:
        raise _invalid(f"the campaign must end after it starts ({starts_on} → {ends_on})", "period")
    if (ends_on - starts_on).days + 1 > MAX_DAYS:
        raise _invalid(f"a campaign lasts at most {MAX_DAYS} days", "period_long", max=MAX_DAYS)
    codes = tuple(dict.fromkeys(m.strip() for m in matters if m.strip()))
    unknown = sorted(set(codes) - set(catalogue))
    if unknown:
        raise _invalid(f"unknown matters: {', '.join(unknown[:5])}", "matters", codes=", ".join(unknown[:5]))
    shape, touched, _ = check_area(area, districts, metric_crs)
    return NewCampaign(name, kind, shape, area_source, touched, starts_on, ends_on, codes)


# -- figures ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """One window's counts: cases reported (voided ones left out); of those, closed by the window's end; and the
    honest on-time rate of stats.Figures over the window — closed in it on time / (closed in it on time + late +
    open past their deadline at its end)."""

    start: datetime
    end: datetime
    reported: int
    closed: int
    closed_on_time: int
    closed_late: int
    overdue_open: int

    @property
    def closure_rate(self) -> float | None:
        return self.closed / self.reported if self.reported else None

    @property
    def on_time_rate(self) -> float | None:
        total = self.closed_on_time + self.closed_late + self.overdue_open
        return self.closed_on_time / total if total else None


@dataclass(frozen=True)
class Week:
    index: int  # 0 = the campaign's first week
    before_start: datetime
    during_start: datetime
    before: int
    during: int


@dataclass(frozen=True)
class CampaignFigures:
    before: Window
    during: Window
    weeks: tuple[Week, ...]
    worst_cells: tuple[tuple[str, int, int], ...]  # (cell, cases during, cases before), most during first
    cell_communities: Mapping[str, str]  # a worst cell's community (the one most of its cases give)
    before_points: NDArray[np.float64]  # (n, 2) lon, lat of the cases before
    during_points: NDArray[np.float64]
    state: str  # upcoming | running | ended


def period(campaign: NewCampaign, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The campaign's period as instants: from its first day's midnight to the midnight after its last day."""
    start = datetime.combine(campaign.starts_on, time(), tz)
    return start, datetime.combine(campaign.ends_on + timedelta(days=1), time(), tz)


def state_of(campaign: NewCampaign, now: datetime, tz: ZoneInfo) -> str:
    """upcoming, running or ended at `now`."""
    start, end = period(campaign, tz)
    return "upcoming" if now < start else "running" if now < end else "ended"


def in_area(facts: Sequence[CaseFacts], campaign: NewCampaign) -> NDArray[np.bool_]:
    """Which cases lie in the campaign's area (vectorised point-in-polygon, shapely.contains_xy on the prepared
    area) and are of its matters (all when it names none)."""
    if not facts:
        return np.zeros(0, dtype=bool)
    lon = np.fromiter((f.lon for f in facts), float, len(facts))
    lat = np.fromiter((f.lat for f in facts), float, len(facts))
    area = campaign.area
    shapely.prepare(area)
    inside = shapely.contains_xy(area, lon, lat)
    if campaign.matters:
        inside &= np.isin(np.array([f.matter for f in facts], dtype=object), list(campaign.matters))
    return np.asarray(inside, dtype=bool)


def _window(
    rep: NDArray[np.float64],
    closed: NDArray[np.float64],
    deadline: NDArray[np.float64],
    on_time: NDArray[np.int8],
    start: datetime,
    end: datetime,
) -> Window:
    lo, hi = start.timestamp(), end.timestamp()
    with np.errstate(invalid="ignore"):
        reported = (rep >= lo) & (rep < hi)
        closed_by_end = closed < hi  # NaN (open) compares False
        closed_in = (closed >= lo) & closed_by_end
        overdue = (rep < hi) & (deadline < hi) & ~closed_by_end
    return Window(
        start=start,
        end=end,
        reported=int(reported.sum()),
        closed=int((reported & closed_by_end).sum()),
        closed_on_time=int((closed_in & (on_time == 1)).sum()),
        closed_late=int((closed_in & (on_time == 0)).sum()),
        overdue_open=int(overdue.sum()),
    )


def figures(facts: Sequence[CaseFacts], campaign: NewCampaign, now: datetime, tz: ZoneInfo) -> CampaignFigures:
    """The campaign's figures at `now`. "During" runs from its start to its end or `now`, whichever is first (the
    whole period when it has not started); "before" is the same length of time just before its start, so the two
    compare like with like. Weeks are 7-day steps from the start (the last one may be shorter), each paired with
    the step the same distance before. Voided cases (refused, merged duplicates) are left out. Of a case, the
    deadline known now is the one counted: a deadline extended later counts as extended."""
    start, end = period(campaign, tz)
    stop = min(max(now, start), end)
    length = (stop - start) if stop > start else (end - start)
    during_end = start + length
    kept = [f for f in facts if f.state != "voided"]
    chosen = [f for f, ok in zip(kept, in_area(kept, campaign).tolist(), strict=True) if ok]

    def seconds(values: Sequence[datetime | None]) -> NDArray[np.float64]:
        return np.array([np.nan if v is None else v.timestamp() for v in values], dtype=float)

    rep = seconds([f.reported_at for f in chosen])
    closed = seconds([f.closed_at for f in chosen])
    deadline = seconds([f.deadline_at for f in chosen])
    on_time = np.array([-1 if f.closed_on_time is None else int(f.closed_on_time) for f in chosen], dtype=np.int8)
    before = _window(rep, closed, deadline, on_time, start - length, start)
    during = _window(rep, closed, deadline, on_time, start, during_end)
    n_weeks = max(1, math.ceil(length / timedelta(days=7)))
    weeks = []
    for k in range(n_weeks):
        d0 = start + timedelta(days=7 * k)
        d1 = min(d0 + timedelta(days=7), during_end)
        b0, b1 = d0 - length, d1 - length
        weeks.append(Week(k, b0, d0, int(((rep >= b0.timestamp()) & (rep < b1.timestamp())).sum()),
                          int(((rep >= d0.timestamp()) & (rep < d1.timestamp())).sum())))  # fmt: skip
    in_before = (rep >= before.start.timestamp()) & (rep < before.end.timestamp())
    in_during = (rep >= start.timestamp()) & (rep < during_end.timestamp())
    cells = np.array([f.cell or "" for f in chosen], dtype=object)
    count_during = Counter(c for c in cells[in_during].tolist() if c)
    count_before = Counter(c for c in cells[in_before].tolist() if c)
    worst = sorted(count_during.items(), key=lambda kv: (-kv[1], kv[0]))[:WORST]
    homes: dict[str, Counter[str]] = {}
    for f in chosen:
        if f.cell and f.cell in count_during and f.community:
            homes.setdefault(f.cell, Counter())[f.community] += 1
    communities = {cell: min(h, key=lambda k: (-h[k], k)) for cell, h in homes.items()}
    points = np.column_stack([[f.lon for f in chosen], [f.lat for f in chosen]]) if chosen else np.zeros((0, 2))
    return CampaignFigures(
        before=before,
        during=during,
        weeks=tuple(weeks),
        worst_cells=tuple((c, n, count_before.get(c, 0)) for c, n in worst),
        cell_communities={c: communities[c] for c, _ in worst if c in communities},
        before_points=points[in_before] if chosen else points,
        during_points=points[in_during] if chosen else points,
        state=state_of(campaign, now, tz),
    )


def find(campaigns: Sequence[Campaign], name_or_id: str) -> Campaign | None:
    """The campaign with this id or name."""
    for c in campaigns:
        if str(c.id) == name_or_id.strip() or c.name == name_or_id.strip():
            return c
    return None


def running_first(campaigns: Sequence[Campaign], now: datetime, tz: ZoneInfo) -> list[Campaign]:
    """Running campaigns first, then upcoming, then ended; latest start first within each."""
    order = {"running": 0, "upcoming": 1, "ended": 2}
    return sorted(campaigns, key=lambda c: (order[state_of(c, now, tz)], -c.starts_on.toordinal(), c.id))


def facts_since(campaign: NewCampaign, tz: ZoneInfo) -> datetime:
    """From when case facts are needed for `figures` (the earliest the "before" window can start)."""
    start, end = period(campaign, tz)
    return start - (end - start)


def figures_of(
    store: Store, campaign: NewCampaign, now: datetime, tz: ZoneInfo, districts: Sequence[str] = ()
) -> CampaignFigures:
    """`figures` over the store's cases of the districts the area touches (of those, only `districts` when given:
    a district head's scope), active since `facts_since`."""
    scope = [d for d in campaign.districts if not districts or d in districts]
    return figures(store.case_facts(active_since=facts_since(campaign, tz), districts=scope), campaign, now, tz)
