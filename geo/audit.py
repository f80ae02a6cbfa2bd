"""Audit a layer of responsibility polygons: gaps (nobody owns), overlaps (two or more claim, and who), slivers.

This is the bureau's "厘清职能交叉、主体不明的责任边界" as a computation. All areas are in m², measured in the
given metric CRS; each finding carries a location (a point inside it, lon/lat) to send someone to.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.crs import STORAGE_CRS, project_geometries, require_same_crs

MIN_AREA_M2 = 0.01  # smaller pieces are floating-point dust, not findings
SLIVER_WIDTH_M = 2.0  # a piece whose mean width (2 * area / perimeter) is below this is a sliver


def _findings(kind: str, geoms_m: NDArray[np.object_], claimants: list[str], metric_crs: str) -> pd.DataFrame:
    parts, idx = shapely.get_parts(geoms_m, return_index=True)
    keep = shapely.get_type_id(parts) == 3  # polygons only: overlaps along a shared edge are lines
    parts, idx = parts[keep], idx[keep]
    area = shapely.area(parts)
    big = area >= MIN_AREA_M2
    parts, idx, area = parts[big], idx[big], area[big]
    width = 2 * area / np.maximum(shapely.length(parts), 1e-9)
    inside = project_geometries(shapely.point_on_surface(parts), metric_crs, STORAGE_CRS)
    return pd.DataFrame(
        {
            "kind": kind,
            "sliver": width < SLIVER_WIDTH_M,
            "area_m2": np.round(area, 2),
            "mean_width_m": np.round(width, 2),
            "claimants": [claimants[i] for i in idx],
            "lon": shapely.get_x(inside),
            "lat": shapely.get_y(inside),
            "geometry": project_geometries(parts, metric_crs, STORAGE_CRS),
        }
    )


def audit_layer(
    layer: gpd.GeoDataFrame, id_field: str, metric_crs: str, area: shapely.Geometry | None = None
) -> gpd.GeoDataFrame:
    """Gaps inside `area` (lon/lat; default: the holes of the layer's union), overlaps with their claimants."""
    require_same_crs(layer.crs, STORAGE_CRS, "the audited layer")
    ids = layer[id_field].astype(str).to_numpy()
    geoms = project_geometries(np.asarray(layer.geometry.values), STORAGE_CRS, metric_crs)
    geoms = shapely.make_valid(geoms)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    pair = a < b
    a, b = a[pair], b[pair]
    inter = shapely.intersection(geoms[a], geoms[b])
    overlaps = _findings("overlap", inter, [f"{ids[x]};{ids[y]}" for x, y in zip(a, b, strict=True)], metric_crs)
    union = shapely.union_all(geoms)
    if area is None:
        holes = [shapely.Polygon(r) for p in shapely.get_parts(union) for r in p.interiors]
        gap_geoms = np.array(holes, dtype=object)
    else:
        area_m = project_geometries(np.array([area], dtype=object), STORAGE_CRS, metric_crs)[0]
        gap_geoms = np.array([shapely.difference(area_m, union)], dtype=object)
    gaps = _findings("gap", gap_geoms, [""] * len(gap_geoms), metric_crs)
    # features that are themselves slivers (a department's stray thin polygon)
    parts_area = shapely.area(geoms)
    width = 2 * parts_area / np.maximum(shapely.length(geoms), 1e-9)
    thin = np.flatnonzero(width < SLIVER_WIDTH_M)
    feats = _findings("thin_feature", geoms[thin], [ids[i] for i in thin], metric_crs)
    out = pd.concat([gaps, overlaps, feats], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=STORAGE_CRS)


def summarise(findings: gpd.GeoDataFrame) -> pd.DataFrame:
    """Counts and areas by kind (and whether sliver) for a one-screen summary."""
    if findings.empty:
        return pd.DataFrame(columns=["kind", "sliver", "count", "area_m2"])
    return (
        findings.groupby(["kind", "sliver"], as_index=False)
        .agg(count=("area_m2", "size"), area_m2=("area_m2", "sum"))
        .sort_values(["kind", "sliver"], ignore_index=True)
    )
