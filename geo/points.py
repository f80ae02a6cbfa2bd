"""Read points from a file: CSV with lon/lat columns or a WKT column, or any point layer geopandas reads."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.crs import check_points, parse_crs, to_wgs84
from geo.errors import InvalidInput

Floats = NDArray[np.float64]
# UTF-8 (a BOM is dropped), else GB18030: a superset of GBK, which Chinese hotline systems export
ENCODINGS = ("utf-8-sig", "gb18030")
# control characters other than tab, line feed and carriage return (dispatch/limits refuses the same set in
# stored text): a NUL breaks PostgreSQL text and spreadsheet exports
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def read_text_table(path: Path) -> pd.DataFrame:
    """A CSV file as text cells, refused (naming the file, row and column) if it is empty, has no rows, repeats
    a column name, holds a control character, or is neither UTF-8 nor GB18030."""
    encoding = _encoding(path)
    try:
        # header=None: pandas would rename a repeated column ('lon' -> 'lon.1') before we could see it
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, header=None)
    except pd.errors.EmptyDataError:
        raise InvalidInput(f"{path}: the file is empty; expected a header line and rows") from None
    except pd.errors.ParserError as exc:
        raise InvalidInput(f"{path}: {str(exc).strip()}") from None
    header = [str(c) for c in df.iloc[0]]
    repeated = next((c for k, c in enumerate(header) if c in header[:k]), None)
    if repeated is not None:
        raise InvalidInput(f"{path}: column {repeated!r} appears more than once in the header")
    df = df.iloc[1:].reset_index(drop=True)
    df.columns = pd.Index(header)
    if df.empty:
        raise InvalidInput(f"{path}: no rows, only a header")
    refuse_control(path, df, "row")
    return df


def _encoding(path: Path) -> str:
    """The first of ENCODINGS that decodes the whole file (read in blocks, so memory stays small)."""
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as f:
                while block := f.read(1 << 20):
                    decoder.decode(block)
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise InvalidInput(f"{path}: the text is neither UTF-8 nor GB18030/GBK; save the file as UTF-8")


def refuse_control(path: Path, df: pd.DataFrame, unit: str) -> None:
    """Raise InvalidInput naming the first cell (and header) with a control character; `unit` is "row" for a
    spreadsheet (the header is row 1) or "feature" (counted from 0)."""
    for name in df.columns:
        found = re.search(CONTROL, str(name))
        if found:
            raise InvalidInput(f"{path}: the column name {name!r} contains a control character")
    first: tuple[int, str] | None = None
    for name in df.columns:
        col = df[name]
        hits = np.flatnonzero(col.astype(str).str.contains(CONTROL, regex=True).to_numpy())
        if len(hits) and (first is None or hits[0] < first[0]):
            first = (int(hits[0]), str(name))
    if first is not None:
        k, name = first
        found = re.search(CONTROL, str(df[name].iloc[k]))
        assert found is not None
        where = f"row {k + 2}" if unit == "row" else f"feature {k}"
        raise InvalidInput(
            f"{path}: {where}, column {name!r} contains a control character (U+{ord(found.group()):04X})"
        )


def read_points(
    path: Path,
    crs_text: str | None = None,
    lon_col: str = "lon",
    lat_col: str = "lat",
    wkt_col: str = "wkt",
    missing_ok: bool = False,
) -> tuple[pd.DataFrame, Floats, Floats]:
    """The rows (as text) and their WGS84 lon/lat. A CSV is WGS84 unless crs_text says otherwise; another
    format is in the CRS it declares (crs_text overrides it). Problems name the file and the rows. With
    `missing_ok`, a CSV row whose position cells are all empty (or a file without position columns) gives NaN
    for the caller to place otherwise; a cell that holds something unparsable is still refused."""
    if not path.is_file():
        raise InvalidInput(f"points file not found: {path}")
    declared = None
    if path.suffix.lower() in (".csv", ".txt"):
        df = read_text_table(path)
        if lon_col in df.columns and lat_col in df.columns:
            raw = df[lon_col] + ", " + df[lat_col]
            x = pd.to_numeric(df[lon_col].str.strip(), errors="coerce").to_numpy(dtype=float)
            y = pd.to_numeric(df[lat_col].str.strip(), errors="coerce").to_numpy(dtype=float)
        elif wkt_col in df.columns:
            raw = df[wkt_col]
            geoms = shapely.from_wkt(df[wkt_col].to_numpy(), on_invalid="ignore")
            ok = np.array([g is not None and g.geom_type == "Point" and not g.is_empty for g in geoms])
            pts = np.where(ok, geoms, shapely.Point(np.nan, np.nan))
            x, y = shapely.get_x(pts), shapely.get_y(pts)
        elif missing_ok:
            raw = pd.Series([""] * len(df))
            x = y = np.full(len(df), np.nan)
        else:
            missing = next(c for c in (lon_col, lat_col) if c not in df.columns)
            raise InvalidInput(
                f"{path}: no column {missing!r} (nor a {wkt_col!r} column); columns are: {', '.join(df.columns)}"
            )
    else:
        try:
            gdf = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises several types
            raise InvalidInput(f"cannot read {path}: {exc}") from None
        if gdf.empty:
            raise InvalidInput(f"{path}: no features")
        not_points = np.flatnonzero((gdf.geom_type != "Point").to_numpy())
        if len(not_points):
            raise InvalidInput(f"{path}: features {', '.join(map(str, not_points[:5]))} are not points")
        x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
        declared = gdf.crs
        df = pd.DataFrame(gdf.drop(columns="geometry")).astype(str)
        refuse_control(path, df, "feature")
        raw = pd.Series([f"{a}, {b}" for a, b in zip(x, y, strict=True)])
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if missing_ok:
        bad &= raw.str.strip().str.strip(",").str.strip().to_numpy() != ""  # empty is missing, not bad
    bad = np.flatnonzero(bad)
    if len(bad):
        rows = ", ".join(f"row {r + 2} ({raw.iloc[r]!r})" for r in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise InvalidInput(f"{path}: unparsable or missing coordinates at {rows}{more}")
    if crs_text is None:
        crs_text = "wgs84" if declared is None else declared.to_string()
    have = np.isfinite(x) & np.isfinite(y)
    lon, lat = np.full(len(x), np.nan), np.full(len(x), np.nan)
    if have.any():
        lon[have], lat[have] = to_wgs84(x[have], y[have], parse_crs(crs_text))
    return df, lon, lat


def rows(indices: NDArray[np.int64], limit: int = 5) -> str:
    """0-based data rows as a spreadsheet numbers them (the header is row 1), at most `limit` of them."""
    shown = ", ".join(str(int(r) + 2) for r in indices[:limit])
    return shown + (f" and {len(indices) - limit} more" if len(indices) > limit else "")


def refuse_swapped(
    path: Path | str,
    lon: Floats,
    lat: Floats,
    city_bounds: tuple[float, float, float, float],
    name: Callable[[NDArray[np.int64]], str] | None = None,
    hint: str = "check the coordinate columns",
) -> NDArray[np.bool_]:
    """Raise InvalidInput for points that look like swapped lat/lon or are not lon/lat at all; returns which
    of the rest lie outside the city's bounding box. `name` says which points (default: spreadsheet rows)."""
    named = name or (lambda idx: f"rows {rows(idx)}")
    chk = check_points(lon, lat, city_bounds)
    if chk.swapped.any():
        raise InvalidInput(
            f"{path}: {named(np.flatnonzero(chk.swapped))} look like lat/lon swapped (they fall in the city "
            f"when exchanged); {hint}"
        )
    if chk.invalid.any():
        raise InvalidInput(f"{path}: {named(np.flatnonzero(chk.invalid))} are not longitude/latitude; {hint}")
    return chk.outside
