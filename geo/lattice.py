"""A regular square lattice in a metric CRS: the city's unit grid and the index behind fast ownership look-ups."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.crs import STORAGE_CRS, transformer

# Points closer than this to a lattice line are settled by an exact polygon test, never by arithmetic.
# Half of it is kept between a square and its core (see cores); the other half covers the error of the fast
# projection (at most a quarter of the band, checked when it is fitted) and the gap between an edge drawn
# straight in lon/lat and the same edge drawn straight in the metric CRS (below a micrometre over 100 m).
EDGE_BAND_M = 0.01


@dataclass(frozen=True)
class Lattice:
    """Squares of size_m x size_m whose south-west corner is (x0 + i*size_m, y0 + j*size_m) in metric_crs."""

    metric_crs: str
    x0: float
    y0: float
    size_m: float
    nx: int
    ny: int

    @classmethod
    def covering(cls, metric_crs: str, bounds_m: tuple[float, float, float, float], size_m: float) -> Lattice:
        """The smallest lattice aligned to multiples of size_m that covers the given metric bounds."""
        minx, miny, maxx, maxy = bounds_m
        x0 = math.floor(minx / size_m) * size_m
        y0 = math.floor(miny / size_m) * size_m
        nx = math.ceil((maxx - x0) / size_m) + 1
        ny = math.ceil((maxy - y0) / size_m) + 1
        return cls(metric_crs, x0, y0, size_m, nx, ny)

    @cached_property
    def projection(self) -> FastProjection:
        """A fast approximation of the metric projection over this lattice, within EDGE_BAND_M / 4."""
        lon, lat = self.node_lonlat()
        bounds = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
        return FastProjection.fit(self.metric_crs, bounds, EDGE_BAND_M / 4)

    def to_metric(self, lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        x, y = transformer(STORAGE_CRS, self.metric_crs).transform(
            np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        )
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def locate_metric(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        """Square indices (i, j) of metric points, -1 outside; and whether a point lies in a lattice line's band."""
        fx = (x - self.x0) / self.size_m
        fy = (y - self.y0) / self.size_m
        with np.errstate(invalid="ignore"):
            i = np.floor(fx)
            j = np.floor(fy)
            band = EDGE_BAND_M / self.size_m
            near = (fx - i < band) | (i + 1 - fx < band) | (fy - j < band) | (j + 1 - fy < band)
            ok = np.isfinite(fx) & np.isfinite(fy) & (i >= 0) & (i < self.nx) & (j >= 0) & (j < self.ny)
        ii = np.where(ok, i, -1).astype(np.int64)
        jj = np.where(ok, j, -1).astype(np.int64)
        return ii, jj, near & ok

    def flat_index(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Square of each metric point as j * nx + i (-1 outside), and whether it lies in a line's band."""
        i, j, near = self.locate_metric(x, y)
        return np.where(i >= 0, j * self.nx + i, -1), near

    def locate_one(self, x: float, y: float) -> tuple[int, int, bool]:
        """locate_metric for one point, in plain Python (no array overhead)."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return -1, -1, False
        fx = (x - self.x0) / self.size_m
        fy = (y - self.y0) / self.size_m
        i = math.floor(fx)
        j = math.floor(fy)
        if not (0 <= i < self.nx and 0 <= j < self.ny):
            return -1, -1, False
        band = EDGE_BAND_M / self.size_m
        near = fx - i < band or i + 1 - fx < band or fy - j < band or j + 1 - fy < band
        return i, j, near

    def node_lonlat(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Lon/lat of every lattice node, arrays of shape (ny + 1, nx + 1), each node transformed once."""
        xs = self.x0 + np.arange(self.nx + 1) * self.size_m
        ys = self.y0 + np.arange(self.ny + 1) * self.size_m
        gx, gy = np.meshgrid(xs, ys)
        lon, lat = transformer(self.metric_crs, STORAGE_CRS).transform(gx, gy)
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)

    def cores(self) -> NDArray[np.object_]:
        """Every square, row-major, shrunk by half the edge band: what a point off the band can fall in.

        A point whose metric position is at least EDGE_BAND_M inside its square lies inside this lon/lat
        polygon, since straight edges in the two CRSs part by far less than the half band kept in between.
        """
        jj, ii = np.meshgrid(np.arange(self.ny), np.arange(self.nx), indexing="ij")
        i, j = ii.ravel(), jj.ravel()
        m = EDGE_BAND_M / 2
        x0 = self.x0 + i * self.size_m + m
        x1 = self.x0 + (i + 1) * self.size_m - m
        y0 = self.y0 + j * self.size_m + m
        y1 = self.y0 + (j + 1) * self.size_m - m
        xs = np.stack([x0, x1, x1, x0, x0], axis=1)
        ys = np.stack([y0, y0, y1, y1, y0], axis=1)
        lon, lat = transformer(self.metric_crs, STORAGE_CRS).transform(xs, ys)
        return np.asarray(shapely.polygons(np.stack([lon, lat], axis=2)))

    def quads(self, i: NDArray[np.int64], j: NDArray[np.int64]) -> NDArray[np.object_]:
        """The squares (i, j) as lon/lat polygons whose corners are the shared, once-transformed nodes."""
        lon, lat = self.node_lonlat()
        corners_i = np.stack([i, i + 1, i + 1, i, i], axis=1)
        corners_j = np.stack([j, j, j + 1, j + 1, j], axis=1)
        coords = np.stack([lon[corners_j, corners_i], lat[corners_j, corners_i]], axis=2)
        return np.asarray(shapely.polygons(coords))


@dataclass(frozen=True)
class FastProjection:
    """Bilinear interpolation of a projection between exactly transformed nodes of a fine lon/lat grid.

    pyproj transforms about 4 M points/s; this does 20-30 M/s. Its largest error over the grid is measured
    when it is fitted (at every cell centre and edge midpoint, where bilinear error peaks) and kept below
    the tolerance by refining the grid, so a lattice look-up can trust it to that tolerance.
    """

    lon0: float
    lat0: float
    step_deg: float
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    max_error_m: float

    @classmethod
    def fit(cls, metric_crs: str, bounds: tuple[float, float, float, float], tolerance_m: float) -> FastProjection:
        tr = transformer(STORAGE_CRS, metric_crs)
        step = 0.004
        while True:
            lon0, lat0 = bounds[0] - step, bounds[1] - step
            nlon = math.ceil((bounds[2] - lon0) / step) + 2
            nlat = math.ceil((bounds[3] - lat0) / step) + 2
            glon, glat = np.meshgrid(lon0 + np.arange(nlon) * step, lat0 + np.arange(nlat) * step)
            gx, gy = tr.transform(glon, glat)
            fp = cls(lon0, lat0, step, np.asarray(gx), np.asarray(gy), 0.0)
            probes = []
            for du, dv in ((0.5, 0.5), (0.5, 0.0), (0.0, 0.5)):
                plon = (glon[:-1, :-1] + du * step).ravel()
                plat = (glat[:-1, :-1] + dv * step).ravel()
                ex, ey = tr.transform(plon, plat)
                ax, ay = fp(plon, plat)
                probes.append(np.nanmax(np.hypot(ax - ex, ay - ey)))
            err = float(max(probes))
            if err <= tolerance_m / 2:  # a factor of two in hand for what the probes miss
                return cls(lon0, lat0, step, fp.x, fp.y, err)
            step /= 2

    def __call__(self, lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        u = (np.asarray(lon, dtype=float) - self.lon0) / self.step_deg
        v = (np.asarray(lat, dtype=float) - self.lat0) / self.step_deg
        ny, nx = self.x.shape
        with np.errstate(invalid="ignore"):
            ok = (u >= 0) & (u < nx - 1) & (v >= 0) & (v < ny - 1)
        u = np.where(ok, u, 0.0)
        v = np.where(ok, v, 0.0)
        iu = u.astype(np.int64)
        jv = v.astype(np.int64)
        fu = u - iu
        fv = v - jv
        k = jv * nx + iu
        out = []
        for g in (self.x.ravel(), self.y.ravel()):
            a = np.take(g, k)
            b = np.take(g, k + 1)
            c = np.take(g, k + nx)
            d = np.take(g, k + nx + 1)
            val = a + (b - a) * fu + (c - a + (a - b - c + d) * fu) * fv
            val[~ok] = np.nan
            out.append(val)
        return out[0], out[1]
