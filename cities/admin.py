"""The administrative hierarchy of a city: districts (real) -> sub-districts -> communities -> unit grid cells.

Cells are made first, from lattice pieces of each district's land; sub-districts and communities are groups
of cells, and every polygon is the exact union of its pieces, so the levels nest by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from cities.config import CityConfig
from geo.crs import STORAGE_CRS, project_geometries, transformer
from geo.errors import BuildError
from geo.grid import cut_coverage
from geo.gridcode import cell_codes
from geo.lattice import Lattice
from geo.partition import balanced_assign, initial_centres, make_contiguous

Progress = Callable[[str], None]


@dataclass
class Hierarchy:
    lattice: Lattice
    districts: gpd.GeoDataFrame
    land: gpd.GeoDataFrame
    subdistricts: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame


def _metric_xy(cfg: CityConfig, lonlat: tuple[float, float]) -> NDArray[np.float64]:
    x, y = transformer(STORAGE_CRS, cfg.metric_crs).transform(*lonlat)
    return np.array([x, y])


def _zone(cfg: CityConfig, row: pd.Series) -> str:
    if row["kind"] == "special":
        return "rural" if row["code"] in cfg.rural_special else "urban"
    return "rural" if row["kind"] == "town" else "urban"


def _weight(cfg: CityConfig, row: pd.Series) -> float:
    w = cfg.weights
    per = {
        "street": w["urban_weight"],
        "town": w["town_weight"],
        "special": w["rural_special_weight"] if row["zone"] == "rural" else w["urban_special_weight"],
    }[row["kind"]]
    return float(per * row["n_communities"])


def _grid_edges(key: pd.DataFrame, step: int = 1) -> NDArray[np.int64]:
    """Pairs of items whose lattice squares are 4-neighbours (same district). key: item, d, i, j."""
    out = []
    for di, dj in ((step, 0), (0, step)):
        shifted = key.assign(i=key["i"] - di, j=key["j"] - dj)
        m = key.merge(shifted, on=["d", "i", "j"], suffixes=("_a", "_b"))
        out.append(m[["item_a", "item_b"]].to_numpy())
    e = np.concatenate(out)
    e = e[e[:, 0] != e[:, 1]]
    return np.unique(np.sort(e, axis=1), axis=0) if len(e) else np.zeros((0, 2), dtype=np.int64)


def _order_by_reading(xy: NDArray[np.float64], band_m: float) -> NDArray[np.int64]:
    """Indices in reading order: north to south in bands, west to east within a band."""
    return np.lexsort((xy[:, 0], -np.floor(xy[:, 1] / band_m)))


def _partition(
    xy: NDArray[np.float64],
    weight: NDArray[np.float64],
    targets: NDArray[np.float64],
    anchors: dict[int, NDArray[np.float64]],
    rng: np.random.Generator,
    core: NDArray[np.float64] | None = None,
) -> NDArray[np.int64]:
    """Labels 0..k-1. Anchored regions keep their anchor; the others take seeds nearest the core first.

    When every region is anchored (every sub-district's seat is known), each item goes to its nearest anchor:
    real sub-districts' areas do not follow their number of communities, and balancing them to targets moved
    boundaries away from the seats they are drawn around.
    """
    k = len(targets)
    if k == 1:
        return np.zeros(len(xy), dtype=np.int64)
    if len(anchors) == k:
        points = np.array([anchors[r] for r in range(k)])
        closest: NDArray[np.int64] = np.argmin(((xy[:, None, :] - points[None, :, :]) ** 2).sum(axis=2), axis=1)
        return closest
    centres = initial_centres(xy, weight, k, rng)
    fixed = np.zeros(k, dtype=bool)
    free = list(range(k))
    assigned = np.zeros_like(centres)
    for region, point in anchors.items():
        nearest = min(free, key=lambda c: float(((centres[c] - point) ** 2).sum()))
        free.remove(nearest)
        assigned[region] = point
        fixed[region] = True
    if core is not None:
        free.sort(key=lambda c: float(((centres[c] - core) ** 2).sum()))
    rest = [r for r in range(k) if r not in anchors]
    for region, c in zip(rest, free, strict=True):
        assigned[region] = centres[c]
    return balanced_assign(xy, weight, assigned, targets, fixed)


def _land_parts(land: NDArray[np.object_], pieces: NDArray[np.object_]) -> NDArray[np.int64]:
    """For each land piece, the index of the land polygon part (island, mainland) it lies on."""
    parts = shapely.get_parts(land)
    tree = shapely.STRtree(parts)
    out = np.full(len(pieces), -1, dtype=np.int64)
    at, part = tree.query(shapely.point_on_surface(pieces), predicate="intersects")
    out[at] = part  # parts do not overlap: a point on two is on their shared boundary, either will do
    lost = np.flatnonzero(out < 0)
    if len(lost):
        out[lost] = tree.query_nearest(shapely.point_on_surface(pieces[lost]), all_matches=False)[1]
    return out


def _split_district(
    xy: NDArray[np.float64],
    weight: NDArray[np.float64],
    part: NDArray[np.int64],
    targets: NDArray[np.float64],
    pins: list[tuple[int, int, NDArray[np.float64]]],
    rng: np.random.Generator,
    core: NDArray[np.float64],
) -> NDArray[np.int64]:
    """Labels 0..k-1 of a district's blocks, given (region, block, point) pins: seats and island points.

    A land part (an island, the mainland) pinned by one region is wholly that region's; one pinned by several
    is split among them with their pins as fixed centres. Regions with no pin share the largest part with free
    centres; a part nobody pins joins the region of the nearest block that has one.
    """
    k = len(targets)
    labels = np.full(len(xy), -1, dtype=np.int64)
    pinned_regions = {r for r, _, _ in pins}
    free = [r for r in range(k) if r not in pinned_regions]
    main = int(np.argmax(np.bincount(part - part.min(), weights=weight))) + int(part.min())
    for p in np.unique(part):
        firsts: dict[int, NDArray[np.float64]] = {}
        for r, i, pt in pins:
            if part[i] == p:
                firsts.setdefault(r, pt)
        regions = sorted(firsts) + (free if p == main else [])
        if not regions:
            continue
        m = part == p
        if len(regions) == 1:
            labels[m] = regions[0]
            continue
        anchors = {n: firsts[r] for n, r in enumerate(regions) if r in firsts}
        lab = _partition(xy[m], weight[m], targets[regions], anchors, rng, core)
        labels[m] = np.asarray(regions)[lab]
    for r, i, _ in pins:
        labels[i] = r  # a pinned block is its region's whatever the balancing made of its neighbours
    todo = np.flatnonzero(labels < 0)
    if len(todo):
        done = np.flatnonzero(labels >= 0)
        _, nearest = cKDTree(xy[done]).query(xy[todo])
        labels[todo] = labels[done[nearest]]
    return labels


def build_hierarchy(
    cfg: CityConfig,
    districts: gpd.GeoDataFrame,
    land: gpd.GeoDataFrame,
    subdistricts: pd.DataFrame,
    communities: pd.DataFrame,
    progress: Progress,
    seats: dict[str, tuple[float, float]] | None = None,
) -> Hierarchy:
    """Cells, communities and sub-districts of a city; `seats` places sub-districts (code -> lon/lat)."""
    seats = seats or {}
    rng = np.random.default_rng(cfg.seed)
    n_d = len(districts)
    dgeom = np.asarray(districts.geometry.values)
    lgeom = np.asarray(land.set_index("code").loc[districts["code"]].geometry.values)
    sea = shapely.difference(dgeom, lgeom)
    dm = project_geometries(dgeom, STORAGE_CRS, cfg.metric_crs)
    lattice = Lattice.covering(cfg.metric_crs, tuple(shapely.total_bounds(dm)), cfg.lattice_m)

    progress("cutting districts and land by the lattice")
    pieces = cut_coverage(lattice, np.concatenate([lgeom, sea]))
    p_geom = pieces.geometry
    p_d = pieces.owner % n_d
    p_land = pieces.owner < n_d
    p_m = project_geometries(p_geom, STORAGE_CRS, cfg.metric_crs)
    p_area = shapely.area(p_m)
    p_c = shapely.centroid(p_m)
    p_xy = np.column_stack([shapely.get_x(p_c), shapely.get_y(p_c)])

    subs = subdistricts.copy()
    subs["n_communities"] = subs["code"].map(communities.groupby("parent_code").size()).fillna(0).astype(int)
    if (subs["n_communities"] == 0).any():
        bad = ", ".join(subs.loc[subs["n_communities"] == 0, "code"])
        raise BuildError(f"sub-districts with no community in the list: {bad}")
    subs["zone"] = [_zone(cfg, r) for _, r in subs.iterrows()]
    subs["weight"] = [_weight(cfg, r) for _, r in subs.iterrows()]

    progress("drawing sub-districts")
    land_idx = np.flatnonzero(p_land)
    f_block = int(cfg.block_m // cfg.lattice_m)
    blocks = pd.DataFrame(
        {
            "d": p_d[land_idx],
            "i": pieces.i[land_idx] // f_block,
            "j": pieces.j[land_idx] // f_block,
            "part": _land_parts(lgeom, p_geom[land_idx]),
            "area": p_area[land_idx],
            "wx": p_xy[land_idx, 0] * p_area[land_idx],
            "wy": p_xy[land_idx, 1] * p_area[land_idx],
        }
    )
    items = blocks.groupby(["d", "i", "j"], as_index=False)[["area", "wx", "wy"]].sum()
    items["x"], items["y"] = items["wx"] / items["area"], items["wy"] / items["area"]
    # a block on two land parts (islets a few metres apart) counts as on the one holding most of its land
    part_of = blocks.sort_values("area", ascending=False, kind="stable").drop_duplicates(["d", "i", "j"])
    items = items.merge(part_of[["d", "i", "j", "part"]], on=["d", "i", "j"], how="left")
    items["item"] = np.arange(len(items))
    items["sub"] = ""
    item_pinned = np.zeros(len(items), dtype=bool)
    block_item = items.set_index(["d", "i", "j"])["item"]
    for d, dcode in enumerate(districts["code"]):
        mine = np.flatnonzero(items["d"].to_numpy() == d)
        dsubs = subs[subs["parent_code"] == dcode].sort_values("code").reset_index(drop=True)
        if dsubs.empty:
            raise BuildError(f"district {dcode} has no sub-district in the list")
        xy = items.loc[mine, ["x", "y"]].to_numpy()
        pins: list[tuple[int, int, NDArray[np.float64]]] = []
        for r, code in enumerate(dsubs["code"]):
            for lonlat in ([seats[code]] if code in seats else []) + list(cfg.islands.get(code, ())):
                pt = _metric_xy(cfg, lonlat)
                bi, bj, _ = lattice.locate_one(float(pt[0]), float(pt[1]))
                hit = block_item.get((d, bi // f_block, bj // f_block))
                # a point off the district's land (sea, or reclaimed land the coastline predates) takes the
                # nearest block of the district
                local = int(np.argmin(((xy - pt) ** 2).sum(axis=1))) if hit is None else int(np.searchsorted(mine, hit))
                pins.append((r, local, pt))
        labels = _split_district(
            xy,
            items.loc[mine, "area"].to_numpy(),
            items.loc[mine, "part"].to_numpy(),
            dsubs["weight"].to_numpy(),
            pins,
            rng,
            _metric_xy(cfg, cfg.cores.get(dcode, cfg.centre)),
        )
        items.loc[mine, "sub"] = dsubs["code"].to_numpy()[labels]
        item_pinned[mine[[local for _, local, _ in pins]]] = True
    sub_codes = np.array(sorted(subs["code"]))
    sub_lab = np.searchsorted(sub_codes, items["sub"].to_numpy().astype(str))
    edges = _grid_edges(items[["item", "d", "i", "j"]])
    sub_lab = make_contiguous(sub_lab, edges, items["area"].to_numpy(), pinned=item_pinned)
    items["sub"] = sub_codes[sub_lab]
    block_sub = items.set_index(["d", "i", "j"])["sub"]
    piece_sub = block_sub.reindex(pd.MultiIndex.from_frame(blocks[["d", "i", "j"]])).to_numpy()

    progress("making unit grid cells")
    sub_zone = subs.set_index("code")["zone"]
    cell_factor = {z: int(cfg.cell_m[z] // cfg.lattice_m) for z in cfg.cell_m}
    pf = pd.DataFrame(
        {
            "piece": land_idx,
            "sub": piece_sub,
            "d": p_d[land_idx],
            "i": pieces.i[land_idx],
            "j": pieces.j[land_idx],
        }
    )
    pf["f"] = pf["sub"].map(sub_zone).map(cell_factor)
    pf["ci"], pf["cj"] = pf["i"] // pf["f"], pf["j"] // pf["f"]
    cell_geom: list[object] = []
    cell_sub: list[str] = []
    piece_cell = np.full(len(p_geom), -1, dtype=np.int64)
    pf["group"] = pf.groupby(["sub", "ci", "cj"], sort=True).ngroup()
    size = pf.groupby("group")["piece"].transform("size").to_numpy()
    # most cells are one whole piece: take those as they are, and unite only the rest
    single = pf[size == 1].sort_values("group")
    piece_cell[single["piece"].to_numpy()] = np.arange(len(single))
    cell_geom.extend(p_geom[single["piece"].to_numpy()])
    cell_sub.extend(single["sub"].astype(str))
    for sub, idx in (
        pf[size > 1].groupby("group")[["sub", "piece"]].agg({"sub": "first", "piece": list}).itertuples(index=False)
    ):
        idx = np.asarray(idx)
        geoms = p_geom[idx]
        parts = shapely.get_parts(shapely.coverage_union_all(geoms))
        for part in parts:  # a square split by water: each land part is a cell of its own
            if len(parts) > 1:
                shapely.prepare(part)
                hit = shapely.contains(part, shapely.point_on_surface(geoms))
            else:
                hit = np.ones(len(idx), dtype=bool)
            piece_cell[idx[hit]] = len(cell_geom)
            cell_geom.append(part)
            cell_sub.append(str(sub))
    cgeom = np.asarray(cell_geom, dtype=object)
    csub = np.asarray(cell_sub)
    carea = shapely.area(project_geometries(cgeom, STORAGE_CRS, cfg.metric_crs))
    full = np.array([cfg.cell_m[sub_zone[s]] ** 2 for s in csub])
    host = _sliver_hosts(cgeom, csub, carea < cfg.sliver_fraction * full)
    for h, group in pd.Series(np.arange(len(cgeom))[host >= 0]).groupby(host[host >= 0]):
        merged_ids = [int(str(h)), *group.to_list()]
        cgeom[merged_ids[0]] = shapely.coverage_union_all(cgeom[merged_ids])
    alive: NDArray[np.bool_] = host < 0
    remap = np.where(alive, np.cumsum(alive) - 1, -1)
    piece_cell[land_idx] = remap[
        np.where(host[piece_cell[land_idx]] >= 0, host[piece_cell[land_idx]], piece_cell[land_idx])
    ]
    cgeom, csub = cgeom[alive], csub[alive]
    cm = project_geometries(cgeom, STORAGE_CRS, cfg.metric_crs)
    carea = shapely.area(cm)
    cc = shapely.centroid(cm)
    cxy = np.column_stack([shapely.get_x(cc), shapely.get_y(cc)])

    progress("drawing communities")
    cell_key = pd.DataFrame(
        {"item": piece_cell[land_idx], "d": p_d[land_idx], "i": pieces.i[land_idx], "j": pieces.j[land_idx]}
    )
    cedges = _grid_edges(cell_key)
    ccomm = np.empty(len(cgeom), dtype=object)
    for sub in sub_codes:
        members = np.flatnonzero(csub == sub)
        comms = communities[communities["parent_code"] == sub].sort_values("code")
        if len(comms) > len(members):
            raise BuildError(f"sub-district {sub} has {len(members)} cells for {len(comms)} communities")
        xy = cxy[members]
        clabel: NDArray[np.int64] | None = None
        if len(comms) > 1:
            lab = _partition(xy, carea[members], np.ones(len(comms)), {}, rng)
            # communities take codes in reading order of their centres
            centres = np.array([xy[lab == r].mean(axis=0) for r in range(len(comms))])
            order = _order_by_reading(centres, 1000.0)
            relabel = np.empty(len(comms), dtype=np.int64)
            relabel[order] = np.arange(len(comms))
            clabel = relabel[lab]
        ccomm[members] = comms["code"].to_numpy()[clabel] if clabel is not None else comms["code"].iloc[0]
    comm_codes = np.array(sorted(communities["code"]))
    clab = np.searchsorted(comm_codes, ccomm.astype(str))
    clab = make_contiguous(clab, cedges, carea)
    # contiguity may move a detached part across a sub-district line only if it stays in its sub-district
    moved = comm_codes[clab]
    same_sub = np.array([m[:9] == s for m, s in zip(moved, csub, strict=True)])
    ccomm = np.where(same_sub, moved, ccomm).astype(str)

    progress("numbering cells")
    cell_size = np.array([cfg.cell_m[sub_zone[s]] for s in csub])
    codes = cell_codes(ccomm.astype(str), cxy[:, 0], cxy[:, 1], cell_size.astype(float))
    if len(set(codes)) != len(codes):
        raise BuildError("duplicate grid cell codes")

    progress("uniting cells into communities, sub-districts and districts")
    names = communities.set_index("code")["name"]
    sub_names = subs.set_index("code")["name"]
    d_names = districts.set_index("code")["name"]
    d_of = np.array([c[:6] for c in ccomm])
    cells = gpd.GeoDataFrame(
        {
            "code": codes,
            "community_code": ccomm,
            "subdistrict_code": csub,
            "district_code": d_of,
            "cell_size_m": cell_size.astype(int),
            "area_m2": np.round(carea, 1),
            "serial": np.array([int(c[12:]) for c in codes]),
            "synthetic": True,
        },
        geometry=cgeom,
        crs=STORAGE_CRS,
    ).sort_values("code", ignore_index=True)
    comm_rows = []
    for code, grp in cells.groupby("community_code", sort=True):
        geom = shapely.coverage_union_all(grp.geometry.values)
        comm_rows.append((code, names[code], code[:9], code[:6], len(grp), float(grp["area_m2"].sum()), geom))
    comm_gdf = gpd.GeoDataFrame(
        comm_rows,
        columns=["code", "name", "subdistrict_code", "district_code", "n_cells", "area_m2", "geometry"],
        geometry="geometry",
        crs=STORAGE_CRS,
    )
    comm_gdf["synthetic"] = True
    sub_rows = []
    for code, grp in comm_gdf.groupby("subdistrict_code", sort=True):
        geom = shapely.coverage_union_all(grp.geometry.values)
        srow = subs.set_index("code").loc[code]
        sub_rows.append(
            (
                code,
                sub_names[code],
                srow["kind"],
                srow["zone"],
                code[:6],
                len(grp),
                int(grp["n_cells"].sum()),
                float(grp["area_m2"].sum()),
                geom,
            )
        )
    sub_gdf = gpd.GeoDataFrame(
        sub_rows,
        columns=[
            "code",
            "name",
            "kind",
            "zone",
            "district_code",
            "n_communities",
            "n_cells",
            "area_m2",
            "geometry",
        ],
        geometry="geometry",
        crs=STORAGE_CRS,
    )
    sub_gdf["cell_size_m"] = sub_gdf["zone"].map(cfg.cell_m).astype(int)
    sub_gdf["synthetic"] = True
    # a district is the union of its land cells and its sea pieces: the real outline, noded like its cells
    sea_idx = np.flatnonzero(~p_land)
    d_rows, l_rows = [], []
    for d, dcode in enumerate(districts["code"]):
        land_geom = shapely.coverage_union_all(cells.geometry.values[cells["district_code"].to_numpy() == dcode])
        full_geom = shapely.coverage_union_all(
            np.concatenate(
                [
                    cells.geometry.values[cells["district_code"].to_numpy() == dcode],
                    p_geom[sea_idx[p_d[sea_idx] == d]],
                ]
            )
        )
        src = districts.iloc[d]
        d_rows.append((dcode, d_names[dcode], src["name_en"], full_geom))
        l_rows.append((dcode, d_names[dcode], land_geom))
    dist_gdf = gpd.GeoDataFrame(
        d_rows, columns=["code", "name", "name_en", "geometry"], geometry="geometry", crs=STORAGE_CRS
    )
    dist_gdf["synthetic"] = False
    land_gdf = gpd.GeoDataFrame(l_rows, columns=["code", "name", "geometry"], geometry="geometry", crs=STORAGE_CRS)
    land_gdf["synthetic"] = False
    for gdf in (dist_gdf, land_gdf):
        gdf["area_m2"] = np.round(
            shapely.area(project_geometries(np.asarray(gdf.geometry.values), STORAGE_CRS, cfg.metric_crs)), 1
        )
    return Hierarchy(lattice, dist_gdf, land_gdf, sub_gdf, comm_gdf, cells)


def _sliver_hosts(geoms: NDArray[np.object_], sub: NDArray[np.str_], sliver: NDArray[np.bool_]) -> NDArray[np.int64]:
    """For each sliver, the non-sliver cell of the same sub-district it shares the longest edge with (-1: none)."""
    host = np.full(len(geoms), -1, dtype=np.int64)
    idx = np.flatnonzero(sliver)
    if not len(idx):
        return host
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms[idx], predicate="intersects")
    a = idx[a]
    ok = (a != b) & ~sliver[b] & (sub[a] == sub[b])
    a, b = a[ok], b[ok]
    shared = shapely.length(shapely.intersection(shapely.boundary(geoms[a]), shapely.boundary(geoms[b])))
    keep = shared > 0
    best = pd.DataFrame({"a": a[keep], "b": b[keep], "len": shared[keep]}).sort_values(
        ["a", "len", "b"], ascending=[True, False, True]
    )
    first = best.drop_duplicates("a")
    host[first["a"].to_numpy()] = first["b"].to_numpy()
    return host
