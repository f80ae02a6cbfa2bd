"""Import and export of cases: CSV (lon/lat or WKT), GeoJSON, GeoPackage, Shapefile, FlatGeobuf; any CRS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dispatch.areas import LOCATED_BY_AREA, area_index
from dispatch.limits import bad_text
from dispatch.sheet import write_table
from dispatch.table import Labels, cases_frame
from dispatch.workflow import NO_CASE_FLAGS, SOURCES, URGENCIES, Workflow
from geo.errors import InvalidInput
from geo.points import read_points, refuse_swapped, rows
from store.models import Case, Event, NewCase, arrival, new_case

SHP_NAMES = {
    "description": "descr", "reported_at": "reported", "subdistrict": "subdist", "lead_department": "lead_dept",
    "deadline_at": "deadline", "work_seconds": "work_sec", "dispatched_at": "dispatchd", "closed_on_time": "on_time",
    "updated_at": "updated", "updated_by": "updated_by", "closed_at": "closed", "filed_at": "filed",
    "paused_at": "paused", "state_name": "state_nm", "matter_name": "matter_nm", "source_name": "source_nm",
    "urgency_name": "urgency_nm", "district_name": "dist_nm", "subdistrict_name": "subdist_nm",
    "community_name": "comm_nm", "squad_name": "squad_nm", "lead_department_name": "lead_nm",
    "assignee_name": "assign_nm", "supporting_departments": "support", "supporting_departments_name": "support_nm",
    "rule_reason": "reason", "vendor_zone": "vendor_z", "vendor_zone_open": "vendor_op",
    "storefront_zone": "store_z", "storefront_zone_open": "store_op", "model_street": "model_st",
    "signboard_segment": "signboard", "boundary_distance_m": "boundary_m", "layer_version": "layer_ver",
}  # fmt: skip
FORMATS = {
    "csv": None,
    "xlsx": None,
    "geojson": "GeoJSON",
    "gpkg": "GPKG",
    "shp": "ESRI Shapefile",
    "fgb": "FlatGeobuf",
}


CHUNK = 10_000  # rows resolved, built and stored at a time: memory stays bounded however long the file is
# the channel a file comes from, and the source its cases get unless a 'source' column says otherwise
CHANNELS = {"hotline": "hotline", "app": "citizen", "partner": "superior"}
AREA_COL = "area"  # for channels: where a row has no position, the sub-district or community (name or code)


@dataclass(frozen=True)
class _Rows:
    """The checked columns of a case file, one entry per data row."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    matter: NDArray[Any]
    source: NDArray[Any]
    urgency: NDArray[Any]
    description: NDArray[Any]
    reported_at: pd.Series  # UTC
    by_area: NDArray[np.bool_]  # placed at the area its row names, not at a position it gave


def import_cases(
    wf: Workflow,
    path: Path,
    crs_text: str | None,
    actor: str,
    lon_col: str = "lon",
    lat_col: str = "lat",
    wkt_col: str = "wkt",
    channel: str | None = None,
) -> int:
    """Create a reported case per row (matter; optional source, time, urgency, description), all or none: every
    row is checked before anything is stored, then the cases are built and stored CHUNK rows at a time, in one
    transaction. A file from a channel (CHANNELS) may give, instead of a position, the sub-district or
    community in an 'area' column: the case is placed there and flagged located_by_area."""
    if channel is not None and channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}; channels: {', '.join(CHANNELS)}")
    now = wf.clock()
    checked = _checked_rows(wf, path, now, crs_text, lon_col, lat_col, wkt_col, channel)
    return wf.store.insert_history_batches(_batches(wf, checked, path, actor, now))


def _place_by_area(wf: Workflow, path: Path, df: pd.DataFrame, lon: NDArray[np.float64], lat: NDArray[np.float64]
                   ) -> NDArray[np.bool_]:  # fmt: skip
    """Fill in the rows without a position from their 'area' cell; refuse (listing rows) unknown, ambiguous
    and missing areas. Which rows were placed so."""
    missing = ~(np.isfinite(lon) & np.isfinite(lat))
    if not missing.any():
        return missing
    if AREA_COL not in df.columns:
        raise InvalidInput(
            f"{path}: rows {rows(np.flatnonzero(missing))} have no position; give lon/lat or an '{AREA_COL}' "
            "column with the sub-district or community"
        )
    index = area_index(wf.engine.city)
    problems: dict[str, list[int]] = {}
    for k in np.flatnonzero(missing):
        text = str(df[AREA_COL].iloc[k]).strip()
        found = index.find(text) if text else []
        if len(found) == 1:
            lon[k], lat[k] = found[0].lon, found[0].lat
            continue
        if not text:
            key = "no position and no area"
        elif not found:
            key = f"unknown area {text[:40]!r}"
        else:
            options = "; ".join(f"{p.code} {p.name}" for p in found[:4])
            key = f"ambiguous area {text[:40]!r} (it may be {options}: give the code or '街道 社区')"
        problems.setdefault(key, []).append(int(k))
    if problems:
        lines = [f"rows {rows(np.asarray(ks))}: {what}" for what, ks in problems.items()]
        raise InvalidInput(f"{path}: nothing imported; " + "; ".join(lines[:10]))
    return missing


def _checked_rows(
    wf: Workflow,
    path: Path,
    now: datetime,
    crs_text: str | None,
    lon_col: str,
    lat_col: str,
    wkt_col: str,
    channel: str | None = None,
) -> _Rows:
    df, lon, lat = read_points(path, crs_text, lon_col, lat_col, wkt_col, missing_ok=channel is not None)
    by_area = _place_by_area(wf, path, df, lon, lat) if channel is not None else np.zeros(len(df), dtype=bool)
    if "matter" not in df.columns:
        raise InvalidInput(f"{path}: needs a 'matter' column with matter codes")
    n = len(df)
    matter = df["matter"].str.strip().str.zfill(5).to_numpy()
    bad = np.flatnonzero(~np.isin(matter, [str(m) for m in wf.allowance]))
    if len(bad):
        raise InvalidInput(f"{path}: unknown matter codes at rows {rows(bad)}")
    default_source = CHANNELS[channel] if channel is not None else "superior"
    source = df["source"].str.strip().to_numpy() if "source" in df.columns else np.full(n, default_source)
    bad = np.flatnonzero(~np.isin(source, SOURCES))
    if len(bad):
        raise InvalidInput(f"{path}: unknown sources at rows {rows(bad)}; sources: {', '.join(SOURCES)}")
    urgency = df["urgency"].str.strip().to_numpy() if "urgency" in df.columns else np.full(n, "normal")
    bad = np.flatnonzero(~np.isin(urgency, URGENCIES))
    if len(bad):
        raise InvalidInput(f"{path}: urgency must be normal or urgent (rows {rows(bad)})")
    if "time" in df.columns:
        local = pd.to_datetime(df["time"].str.strip(), errors="coerce")
        bad = np.flatnonzero(local.isna().to_numpy())
        if len(bad):
            raise InvalidInput(f"{path}: unparsable time at rows {rows(bad)}")
        if local.dt.tz is None:
            local = local.dt.tz_localize(wf.calendar.tz)
        reported_at = local.dt.tz_convert(UTC)
    else:
        reported_at = pd.Series(pd.Timestamp(now), index=range(n)).dt.tz_convert(UTC)
    description = df["description"].to_numpy() if "description" in df.columns else np.full(n, "", dtype=object)
    for k, text in enumerate(description):
        problem = bad_text("description", str(text))
        if problem:
            raise InvalidInput(f"{path}: row {k + 2}: {problem}")
    minx, miny, maxx, maxy = (float(v) for v in wf.engine.city.layers["districts"].total_bounds)
    refuse_swapped(path, lon, lat, (minx, miny, maxx, maxy))
    outside, lawful = _refused(wf, lon, lat, matter, reported_at)
    if outside.any():
        raise InvalidInput(
            f"{path}: rows {rows(np.flatnonzero(outside))} lie outside the city (check --crs and the columns)"
        )
    # lawful where and when reported (trading in its zone, in its hours): no case, as Workflow.check_report says
    if lawful.any():
        raise InvalidInput(
            f"{path}: rows {rows(np.flatnonzero(lawful))} are lawful where and when they were reported: no case"
        )
    return _Rows(lon, lat, matter, source, urgency, description, reported_at, by_area)


def _refused(
    wf: Workflow, lon: NDArray[np.float64], lat: NDArray[np.float64], matter: NDArray[Any], at: pd.Series
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which points no district owns, and which are lawful where and when reported, by the engine's own answer
    (without boundary distances: cheaper)."""
    outside, lawful = [], []
    for sl in _slices(len(lon)):
        found = wf.engine.resolve_many(lon[sl], lat[sl], matter[sl], at.iloc[sl], with_distance=False)
        outside.append(found["district"].isna().to_numpy())
        lawful.append(found["flag"].isin(NO_CASE_FLAGS).to_numpy())
    if not outside:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    return np.concatenate(outside), np.concatenate(lawful)


def _slices(n: int) -> list[slice]:
    return [slice(start, min(n, start + CHUNK)) for start in range(0, n, CHUNK)]


def _batches(wf: Workflow, r: _Rows, path: Path, actor: str, now: datetime) -> Iterator[list[tuple[Case, list[Event]]]]:
    """The cases and their import events, CHUNK rows at a time (each made only when the store asks for it)."""
    for sl in _slices(len(r.lon)):
        answers = wf.engine.resolve_many(r.lon[sl], r.lat[sl], r.matter[sl], r.reported_at.iloc[sl])
        history = []
        for k, record in enumerate(answers.to_dict("records"), sl.start):
            owners = wf.owners(wf.engine.row_to_ownership(record))
            at = r.reported_at.iloc[k].to_pydatetime().astimezone(UTC)
            new = NewCase(
                str(r.matter[k]),
                float(r.lon[k]),
                float(r.lat[k]),
                str(r.source[k]),
                at,
                str(r.description[k]),
                str(r.urgency[k]),
            )
            new = wf.routed(new, owners)
            flags = (LOCATED_BY_AREA,) if r.by_area[k] else ()
            case = new_case(new, owners, "reported", actor, now, extra_flags=flags)  # the store numbers it
            history.append((case, [arrival(case, actor, now, "import", f"imported from {path.name}", row=k + 2)]))
        yield history


def export_cases(cases: list[Case], path: Path, fmt: str, labels: Labels) -> int:
    """Write cases in one of FORMATS as a table for people (dispatch/table.py: names in the reader's language,
    local times, ownership as plain columns). GeoJSON, GeoPackage and FlatGeobuf also keep the whole ownership
    answer (with the rules' trace) as JSON text in `ownership`; CSV, XLSX and Shapefile do not."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    df = cases_frame(cases, labels)
    if fmt in ("csv", "xlsx"):
        df["wkt"] = [f"POINT ({c.lon} {c.lat})" for c in cases]
        write_table(df, path, fmt, sheet="cases")
        return len(df)
    if fmt == "shp":  # dBASE field names are at most 10 characters
        df = df.rename(columns=lambda c: SHP_NAMES.get(c, c[:10]))
    else:
        df["ownership"] = [json.dumps(c.ownership, ensure_ascii=False) for c in cases]
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    gdf.to_file(path, driver=FORMATS[fmt])
    return len(gdf)
