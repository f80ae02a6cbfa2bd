"""Synthetic management zones: vendor points, storefront-extension strips, model streets, signboard roads.

All shapes are drawn in the metric CRS from a seeded generator and tagged synthetic; each zone lies inside
the land of one district, and zones of one layer never overlap.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cities.admin import Hierarchy
from cities.config import CityConfig
from geo.crs import STORAGE_CRS, project_geometries
from geo.registry import SIGNBOARD_GRADES

VENDOR_KINDS = [  # (label, opening hours) — demo defaults
    ("早市", "06:00-09:00"),
    ("夜市", "17:30-23:30"),
    ("夜市", "18:00-01:00"),
    ("便民摊点", "07:00-20:00"),
]
MEAL_WINDOWS = "07:00-09:00;11:00-13:30;17:00-21:30"
CN_ORDINAL = "一二三四五六七八九十"
GRADE_NAMES = {"premium": "精品路段", "standard": "一般路段", "controlled": "控制路段"}  # 广告招牌…路段
assert set(GRADE_NAMES) == set(SIGNBOARD_GRADES)


def _rect(cx: float, cy: float, length: float, width: float, angle: float) -> shapely.Polygon:
    dx, dy = np.cos(angle), np.sin(angle)
    hx, hy = dx * length / 2, dy * length / 2
    wx, wy = -dy * width / 2, dx * width / 2
    return shapely.Polygon(
        [
            (cx - hx - wx, cy - hy - wy),
            (cx + hx - wx, cy + hy - wy),
            (cx + hx + wx, cy + hy + wy),
            (cx - hx + wx, cy - hy + wy),
        ]
    )


def _to_lonlat(cfg: CityConfig, geom: shapely.Geometry) -> shapely.Geometry:
    return project_geometries(np.array([geom], dtype=object), cfg.metric_crs, STORAGE_CRS)[0]


def _zones_in_cells(
    cfg: CityConfig,
    h: Hierarchy,
    rng: np.random.Generator,
    count: int,
    size: tuple[float, float, float, float],
    exclude: set[int],
) -> list[tuple[int, shapely.Geometry]]:
    """`count` rotated rectangles, each inside one distinct full-size urban cell."""
    cells = h.cells
    urban = np.flatnonzero(
        (cells["cell_size_m"].to_numpy() == cfg.cell_m["urban"])
        & (cells["area_m2"].to_numpy() > 0.95 * cfg.cell_m["urban"] ** 2)
    )
    candidates = [int(c) for c in rng.permutation(urban) if int(c) not in exclude]
    cm = project_geometries(np.asarray(cells.geometry.values[candidates[: count * 3]]), STORAGE_CRS, cfg.metric_crs)
    out: list[tuple[int, shapely.Geometry]] = []
    for cell, geom_m in zip(candidates, cm, strict=False):
        c = shapely.centroid(geom_m)
        length = rng.uniform(size[0], size[1])
        width = rng.uniform(size[2], size[3])
        rect = _rect(c.x + rng.uniform(-15, 15), c.y + rng.uniform(-15, 15), length, width, rng.uniform(0, np.pi))
        zone = _to_lonlat(cfg, rect)
        if shapely.contains(cells.geometry.values[cell], zone):
            out.append((cell, zone))
            exclude.add(cell)
        if len(out) == count:
            break
    return out


def _stalls(rng: np.random.Generator, n: int, total: int) -> list[int]:
    share = rng.gamma(2.0, 1.0, n)
    stalls = np.maximum(4, np.floor(share / share.sum() * total)).astype(int)
    stalls[np.argmax(stalls)] += total - stalls.sum()
    return [int(v) for v in stalls]


def build_zones(cfg: CityConfig, h: Hierarchy) -> dict[str, gpd.GeoDataFrame]:
    rng = np.random.default_rng(cfg.seed + 1)
    z = cfg.zones
    cells = h.cells
    comm_name = h.communities.set_index("code")["name"]
    used: set[int] = set()

    vendor = _zones_in_cells(cfg, h, rng, int(z["vendor_zones"]), (20, 55, 12, 28), used)
    stalls = _stalls(rng, len(vendor), int(z["vendor_stalls"]))
    rows = []
    for n, ((cell, geom), cap) in enumerate(zip(vendor, stalls, strict=True)):
        c = cells.iloc[cell]
        label, hours = VENDOR_KINDS[int(rng.integers(len(VENDOR_KINDS)))]
        name = str(comm_name[c["community_code"]]).removesuffix("居委会").removesuffix("委会") + label + "摊规点"
        rows.append(
            (
                f"VZ{c['district_code']}{n + 1:03d}",
                name,
                int(cap),
                hours,
                c["code"],
                c["subdistrict_code"],
                c["district_code"],
                geom,
            )
        )
    vendor_gdf = gpd.GeoDataFrame(
        rows,
        columns=[
            "id",
            "name",
            "stalls",
            "hours",
            "cell_code",
            "subdistrict_code",
            "district_code",
            "geometry",
        ],
        geometry="geometry",
        crs=STORAGE_CRS,
    )

    store = _zones_in_cells(cfg, h, rng, int(z["storefront_zones"]), (20, 60, 2.5, 4.0), used)
    store_gdf = gpd.GeoDataFrame(
        [
            (
                f"SF{cells.iloc[c]['district_code']}{n + 1:03d}",
                MEAL_WINDOWS,
                cells.iloc[c]["code"],
                cells.iloc[c]["subdistrict_code"],
                cells.iloc[c]["district_code"],
                g,
            )
            for n, (c, g) in enumerate(store)
        ],
        columns=["id", "hours", "cell_code", "subdistrict_code", "district_code", "geometry"],
        geometry="geometry",
        crs=STORAGE_CRS,
    )

    model_rows: list[tuple[object, ...]] = []
    sign_rows: list[tuple[object, ...]] = []
    lo, hi = (int(v) for v in z["model_streets"])
    for dn, dcode in enumerate(h.districts["code"]):
        dname = h.districts.set_index("code").loc[dcode, "name"]
        land = h.land.set_index("code").loc[dcode, "geometry"]
        shapely.prepare(land)
        urban = h.subdistricts[(h.subdistricts["district_code"] == dcode) & (h.subdistricts["zone"] == "urban")]
        for layer, count, size, rows_out, prefix in (
            ("model", int(rng.integers(lo, hi + 1)), (700, 1200, 40), model_rows, "MS"),
            ("sign", int(z["signboard_segments"]), (500, 1000, 30), sign_rows, "SB"),
        ):
            placed: list[shapely.Geometry] = []
            for _ in range(200):
                if len(placed) == count:
                    break
                sub = urban.iloc[int(rng.integers(len(urban)))]
                sub_m = project_geometries(np.array([sub.geometry], dtype=object), STORAGE_CRS, cfg.metric_crs)[0]
                p = shapely.point_on_surface(sub_m)
                rect = _rect(p.x, p.y, rng.uniform(size[0], size[1]), size[2], float(rng.integers(2)) * np.pi / 2)
                geom = shapely.intersection(land, _to_lonlat(cfg, rect))
                part = max(shapely.get_parts(geom), key=shapely.area, default=None)
                if part is None or part.geom_type != "Polygon" or any(shapely.intersects(part, q) for q in placed):
                    continue
                if not shapely.covers(land, part):
                    continue  # the cut put a vertex a hair off the coast (floating point): lay out another
                if (
                    shapely.area(project_geometries(np.array([part], dtype=object), STORAGE_CRS, cfg.metric_crs)[0])
                    < 5000
                ):
                    continue
                placed.append(part)
                k = len(placed)
                # a segment's grade goes round the three in turn across the city (no draw: the layout stays)
                grade = SIGNBOARD_GRADES[(dn * count + k - 1) % len(SIGNBOARD_GRADES)]
                kind = "样板街区" if layer == "model" else f"广告招牌{GRADE_NAMES[grade]}"
                name = f"{dname}{kind}{CN_ORDINAL[k - 1]}号"
                rows_out.append((f"{prefix}{dcode}{k:02d}", name, sub["code"], dcode, part, grade))
    model_gdf = gpd.GeoDataFrame(
        [r[:-1] for r in model_rows],
        columns=["id", "name", "subdistrict_code", "district_code", "geometry"],
        geometry="geometry",
        crs=STORAGE_CRS,
    )
    # a model street's custodian is the squad of the sub-district it was laid out in
    model_gdf["custodian_squad"] = model_gdf["subdistrict_code"].map(lambda s: f"SQ{s}")
    sign_gdf = gpd.GeoDataFrame(
        sign_rows,
        columns=["id", "name", "subdistrict_code", "district_code", "geometry", "grade"],
        geometry="geometry",
        crs=STORAGE_CRS,
    )
    out = {
        "vendor_zones": vendor_gdf,
        "storefront_zones": store_gdf,
        "model_streets": model_gdf,
        "signboard_segments": sign_gdf,
    }
    for gdf in out.values():
        gdf["synthetic"] = True
    return out


def mark_model_communities(cfg: CityConfig, h: Hierarchy) -> None:
    """Per district, `dog_model_communities` communities (default 1) marked as dog-keeping model communities
    (养犬管理示范社区): drawn with their own seed from the district's communities in code order; synthetic."""
    rng = np.random.default_rng(cfg.seed + 2)
    per = int(cfg.zones.get("dog_model_communities", 1))
    comm = h.communities
    chosen: set[str] = set()
    for dcode in sorted(comm["district_code"].astype(str).unique()):
        codes = sorted(comm.loc[comm["district_code"].astype(str) == dcode, "code"].astype(str))
        chosen.update(str(c) for c in rng.choice(codes, size=min(per, len(codes)), replace=False))
    comm["dog_model"] = comm["code"].astype(str).isin(chosen)


SQUAD_KINDS = {  # district squads: type -> (Chinese name after the district's, English after the district's)
    "lianwei": ("两违整治中队", "Illegal Construction Squad"),
    "advertising": ("市容广告中队", "City Appearance and Advertising Squad"),
}


def build_squads(h: Hierarchy, matter_config: pd.DataFrame) -> gpd.GeoDataFrame:
    """One squad per sub-district (its patrol area), and per district a 两违 and a 市容/advertising squad; each
    named in Chinese and in English (from the sub-district's or district's English name)."""
    rows = []
    for _, s in h.subdistricts.iterrows():
        rows.append(
            (
                f"SQ{s['code']}",
                f"{s['name']}执法中队",
                f"{s['name_en']} Enforcement Squad",
                "subdistrict",
                s["district_code"],
                s["code"],
                "",
                s.geometry,
            )
        )
    for _, d in h.districts.iterrows():
        land = h.land.set_index("code").loc[d["code"], "geometry"]
        for kind, (label, label_en) in SQUAD_KINDS.items():
            matters = ";".join(matter_config.loc[matter_config["squad_type"] == kind, "code"])
            rows.append(
                (
                    f"SQ{d['code']}{kind.upper()[:2]}",
                    f"{d['name']}{label}",
                    f"{d['name_en']} {label_en}",
                    kind,
                    d["code"],
                    "",
                    matters,
                    land,
                )
            )
    gdf = gpd.GeoDataFrame(
        rows,
        columns=["id", "name", "name_en", "type", "district_code", "subdistrict_code", "matters", "geometry"],
        geometry="geometry",
        crs=STORAGE_CRS,
    )
    gdf["synthetic"] = True
    return gdf
