"""Cut a polygon coverage by a lattice into an exactly noded set of pieces.

Every piece is either a whole lattice square (corners are the lattice's shared, once-transformed nodes) or a
face of the fully noded linework of the squares that a polygon boundary crosses. Neighbouring pieces therefore
share their edge vertices bit for bit, and any union of pieces is exact: a cell, community or district built
as the union of its pieces nests in its parent with no gap, no overlap and no tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from geo.lattice import Lattice


@dataclass(frozen=True)
class Pieces:
    """Pieces of a coverage: geometry (lon/lat), the index of the polygon owning it, its lattice square."""

    geometry: NDArray[np.object_]
    owner: NDArray[np.int64]
    i: NDArray[np.int64]
    j: NDArray[np.int64]


def cut_coverage(lattice: Lattice, polygons: NDArray[np.object_]) -> Pieces:
    """Cut non-overlapping lon/lat polygons by the lattice; pieces outside every polygon are dropped."""
    jj, ii = np.meshgrid(np.arange(lattice.ny), np.arange(lattice.nx), indexing="ij")
    all_i, all_j = ii.ravel(), jj.ravel()
    quads = lattice.quads(all_i, all_j)
    tree = shapely.STRtree(quads)

    linework = shapely.union_all(shapely.boundary(polygons))
    segments = shapely.get_parts(linework)
    crossed = np.zeros(len(quads), dtype=bool)
    crossed[np.unique(tree.query(segments, predicate="intersects")[1])] = True

    # Squares no boundary touches lie wholly inside one polygon (or outside all): classify by centre.
    whole = np.flatnonzero(~crossed)
    centre = shapely.centroid(quads[whole])
    cx, cy = shapely.get_x(centre), shapely.get_y(centre)
    whole_owner = np.full(len(whole), -1, dtype=np.int64)
    for k, poly in enumerate(polygons):
        shapely.prepare(poly)
        whole_owner[shapely.contains_xy(poly, cx, cy)] = k
    keep = whole_owner >= 0

    # Squares a boundary crosses: polygonize their edges noded together with every boundary.
    cut = np.flatnonzero(crossed)
    noded = shapely.union_all(np.concatenate([shapely.boundary(quads[cut]), [linework]]))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inside = shapely.point_on_surface(faces)
    face_idx, quad_idx = tree.query(inside, predicate="within")
    in_cut = crossed[quad_idx]
    face_idx, quad_idx = face_idx[in_cut], quad_idx[in_cut]
    face_owner = np.full(len(face_idx), -1, dtype=np.int64)
    fx, fy = shapely.get_x(inside[face_idx]), shapely.get_y(inside[face_idx])
    for k, poly in enumerate(polygons):
        face_owner[shapely.contains_xy(poly, fx, fy)] = k
    fkeep = face_owner >= 0

    return Pieces(
        geometry=np.concatenate([quads[whole[keep]], faces[face_idx[fkeep]]]),
        owner=np.concatenate([whole_owner[keep], face_owner[fkeep]]),
        i=np.concatenate([all_i[whole[keep]], all_i[quad_idx[fkeep]]]),
        j=np.concatenate([all_j[whole[keep]], all_j[quad_idx[fkeep]]]),
    )
