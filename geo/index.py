"""Point-in-polygon look-ups on a lattice, with one written boundary rule.

BOUNDARY RULE. A point belongs to a polygon that contains it, its boundary included; where several do (a point
on a shared edge or vertex, or inside an overlap) it belongs to the one whose id sorts first. Nothing else
decides, so every answer is deterministic and one point never has two owners in a layer.

Speed. Each lattice square is classified once per layer: inside exactly one polygon (answer by arithmetic),
outside all (no answer), or mixed. Only points in mixed squares, or within EDGE_BAND_M of a square's edge,
are tested exactly against the polygons (shapely STRtree), so the rule above is what decides there.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

from geo.lattice import Lattice

EMPTY = -1
MIXED = -2


class LayerIndex:
    """Polygons of one layer, ranked by id, with a lattice classification for fast look-ups."""

    def __init__(
        self, ids: NDArray[np.str_], geoms: NDArray[np.object_], lattice: Lattice, cores: NDArray[np.object_]
    ) -> None:
        order = np.argsort(ids, kind="stable")
        self.ids = np.asarray(ids)[order]
        self.geoms = np.asarray(geoms)[order]
        shapely.prepare(self.geoms)
        self.lattice = lattice
        self.tree = shapely.STRtree(self.geoms)
        self.squares = self._classify(cores)
        # flat copy with one EMPTY appended, so that the flat index -1 (outside the lattice) reads EMPTY
        self._flat = np.append(self.squares.ravel(), np.int32(EMPTY))

    def _classify(self, cores: NDArray[np.object_]) -> NDArray[np.int32]:
        """EMPTY, MIXED or the one owner of each square's core (see Lattice.cores)."""
        q, p = self.tree.query(cores)
        hit = shapely.intersects(self.geoms[p], cores[q])
        q, p = q[hit], p[hit]
        n = len(cores)
        count = np.bincount(q, minlength=n)
        cls = np.full(n, EMPTY, dtype=np.int32)
        cls[count > 0] = MIXED
        sole = count[q] == 1
        q, p = q[sole], p[sole]
        covered = shapely.covers(self.geoms[p], cores[q])
        cls[q[covered]] = p[covered]
        return cls.reshape(self.lattice.ny, self.lattice.nx)

    def exact(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.int64]:
        """The boundary rule, applied by exact predicates: smallest-ranked polygon covering each point."""
        out = np.full(len(lon), np.iinfo(np.int64).max, dtype=np.int64)
        if len(lon):
            points = shapely.points(lon, lat)
            pt, poly = self.tree.query(points)  # bounding boxes, then the prepared polygons decide
            hit = shapely.intersects(self.geoms[poly], points[pt])
            np.minimum.at(out, pt[hit], poly[hit])
        out[out == np.iinfo(np.int64).max] = -1
        return out

    def locate(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], flat: NDArray[np.int64], near: NDArray[np.bool_]
    ) -> NDArray[np.int64]:
        """Index into self.ids for every point, -1 where no polygon contains it.

        flat: the point's square as j * nx + i (-1 outside the lattice); near: within the edge band.
        """
        cls = np.take(self._flat, flat)
        check = (cls == MIXED) | near
        out = np.where(cls >= 0, cls, -1).astype(np.int64)
        idx = np.flatnonzero(check)
        out[idx] = self.exact(lon[idx], lat[idx])
        return out

    def locate_one(self, lon: float, lat: float, i: int, j: int, near: bool) -> int:
        """locate() for one point, without array overhead."""
        if i < 0:
            return -1
        c = int(self.squares[j, i])
        if c >= 0 and not near:
            return c
        if c == EMPTY and not near:
            return -1
        p = shapely.Point(lon, lat)
        hits = [int(k) for k in self.tree.query(p) if shapely.intersects(self.geoms[k], p)]
        return min(hits) if hits else -1
