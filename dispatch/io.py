"""Import and export of cases: CSV (lon/lat or WKT), GeoJSON, GeoPackage, Shapefile, FlatGeobuf; any CRS."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from dispatch.workflow import NO_CASE_FLAGS, SOURCES, URGENCIES, Workflow, owners_of, reported_case
from geo.errors import InvalidInput
from geo.points import read_points, refuse_swapped, rows
from store.models import Case, Event, NewCase

SHP_NAMES = {
    "description": "descr", "reported_at": "reported", "subdistrict": "subdist", "lead_department": "lead_dept",
    "deadline_at": "deadline", "work_seconds": "work_sec", "dispatched_at": "dispatchd", "closed_on_time": "on_time",
    "updated_at": "updated", "updated_by": "updated_by", "closed_at": "closed", "filed_at": "filed",
    "paused_at": "paused",
}  # fmt: skip
FORMATS = {
    "csv": None,
    "xlsx": None,
    "geojson": "GeoJSON",
    "gpkg": "GPKG",
    "shp": "ESRI Shapefile",
    "fgb": "FlatGeobuf",
}


def import_cases(
    wf: Workflow,
    path: Path,
    crs_text: str | None,
    actor: str,
    lon_col: str = "lon",
    lat_col: str = "lat",
    wkt_col: str = "wkt",
) -> int:
    """Create a reported case per row (matter; optional source, time, urgency, description), all or none."""
    df, lon, lat = read_points(path, crs_text, lon_col, lat_col, wkt_col)
    if "matter" not in df.columns:
        raise InvalidInput(f"{path}: needs a 'matter' column with matter codes")
    n = len(df)
    matter = df["matter"].str.strip().str.zfill(5).to_numpy()
    bad = np.flatnonzero(~np.isin(matter, [str(m) for m in wf.allowance]))
    if len(bad):
        raise InvalidInput(f"{path}: unknown matter codes at rows {rows(bad)}")
    source = df["source"].str.strip().to_numpy() if "source" in df.columns else np.full(n, "superior")
    bad = np.flatnonzero(~np.isin(source, SOURCES))
    if len(bad):
        raise InvalidInput(f"{path}: unknown sources at rows {rows(bad)}; sources: {', '.join(SOURCES)}")
    urgency = df["urgency"].str.strip().to_numpy() if "urgency" in df.columns else np.full(n, "normal")
    bad = np.flatnonzero(~np.isin(urgency, URGENCIES))
    if len(bad):
        raise InvalidInput(f"{path}: urgency must be normal or urgent (rows {rows(bad)})")
    now = wf.clock()
    if "time" in df.columns:
        local = pd.to_datetime(df["time"].str.strip(), errors="coerce")
        bad = np.flatnonzero(local.isna().to_numpy())
        if len(bad):
            raise InvalidInput(f"{path}: unparsable time at rows {rows(bad)}")
        if local.dt.tz is None:
            local = local.dt.tz_localize(wf.calendar.tz)
        times = [t.to_pydatetime().astimezone(UTC) for t in local]
    else:
        times = [now] * n
    answers = wf.engine.resolve_many(lon, lat, matter, pd.Series(times))
    minx, miny, maxx, maxy = (float(v) for v in wf.engine.city.layers["districts"].total_bounds)
    refuse_swapped(path, lon, lat, (minx, miny, maxx, maxy))
    outside = np.flatnonzero(answers["district"].isna().to_numpy())
    if len(outside):
        raise InvalidInput(f"{path}: rows {rows(outside)} lie outside the city (check --crs and the columns)")
    # lawful where and when reported (trading in its zone, in its hours): no case, as Workflow.check_report says
    lawful = np.flatnonzero(answers["flag"].isin(NO_CASE_FLAGS).to_numpy())
    if len(lawful):
        raise InvalidInput(f"{path}: rows {rows(lawful)} are lawful where and when they were reported: no case")
    description = df["description"].to_numpy() if "description" in df.columns else np.full(n, "")
    records = answers.to_dict("records")
    history = []
    for k in range(n):
        owners = owners_of(wf.engine.row_to_ownership(records[k]))
        new = NewCase(
            str(matter[k]), float(lon[k]), float(lat[k]), str(source[k]), times[k], str(description[k]), str(urgency[k])
        )
        case = reported_case(new, owners, "", actor, now)  # case_no "": the store numbers it
        event = Event(
            0,
            0,
            now,
            actor,
            "import",
            None,
            "reported",
            f"imported from {path.name}",
            {},
            {"state": "reported", "row": k + 2},
        )
        history.append((case, [event]))
    return wf.store.insert_history(history)


def cases_frame(cases: list[Case]) -> pd.DataFrame:
    """Cases as a table: one row each, times as ISO 8601 text, the ownership answer as JSON text."""
    rows = []
    for c in cases:
        d = asdict(c)
        d["ownership"] = json.dumps(c.ownership, ensure_ascii=False)
        d["flags"] = ",".join(c.flags)
        for k, v in d.items():
            if isinstance(v, datetime):
                d[k] = v.isoformat()
        rows.append(d)
    return pd.DataFrame(rows, columns=list(Case.__dataclass_fields__))


def export_cases(cases: list[Case], path: Path, fmt: str) -> int:
    """Write cases (with their ownership answer as JSON text) in one of FORMATS."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    df = cases_frame(cases)
    if fmt in ("csv", "xlsx"):
        df["wkt"] = [f"POINT ({c.lon} {c.lat})" for c in cases]
        if fmt == "csv":
            df.to_csv(path, index=False)
        else:
            df.to_excel(path, index=False, sheet_name="cases", engine="openpyxl")
        return len(df)
    if fmt == "shp":  # dBASE field names are at most 10 characters; JSON does not fit its 254
        df = df.drop(columns="ownership").rename(columns=SHP_NAMES)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    gdf.to_file(path, driver=FORMATS[fmt])
    return len(gdf)
