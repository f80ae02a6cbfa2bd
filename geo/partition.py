"""Split weighted items (grid pieces with centroids) into k compact, contiguous regions of given sizes.

A capacity-constrained power diagram: each region has a centre and an additive weight; an item goes to the
region minimising squared distance minus weight; weights move until region sizes meet their targets and
centres follow their members (a balanced k-means). Regions are then made contiguous over an adjacency graph.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.errors import BuildError

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def initial_centres(xy: FloatArray, weight: FloatArray, k: int, rng: np.random.Generator) -> FloatArray:
    """k-means++ seeding weighted by item size, then a few Lloyd steps; deterministic for a seeded rng."""
    n = len(xy)
    if k > n:
        raise BuildError(f"cannot split {n} grid pieces into {k} regions")
    p = weight / weight.sum()
    centres = [xy[rng.choice(n, p=p)]]
    for _ in range(1, k):
        d2 = np.min(((xy[:, None, :] - np.asarray(centres)[None, :, :]) ** 2).sum(axis=2), axis=1)
        score = d2 * weight
        centres.append(xy[rng.choice(n, p=score / score.sum())] if score.sum() > 0 else xy[rng.choice(n)])
    c = np.asarray(centres, dtype=float)
    for _ in range(10):
        lab = np.argmin(((xy[:, None, :] - c[None, :, :]) ** 2).sum(axis=2), axis=1)
        for r in range(k):
            m = lab == r
            if m.any():
                c[r] = np.average(xy[m], axis=0, weights=weight[m])
    return c


def balanced_assign(
    xy: FloatArray,
    weight: FloatArray,
    centres: FloatArray,
    targets: FloatArray,
    fixed: NDArray[np.bool_] | None = None,
    iterations: int = 250,
) -> IntArray:
    """Assign items to regions so that each region's total weight approaches its target share.

    A fixed centre stays a point of its own region whatever the balancing does (its weight is kept high enough).
    """
    k = len(centres)
    c = centres.astype(float).copy()
    fixed_mask = np.zeros(k, dtype=bool) if fixed is None else fixed
    total = weight.sum()
    want = targets / targets.sum() * total
    w = np.zeros(k)
    # weights are squared distances: step them by a small share of a region's squared extent per unit of
    # size error (measured against an average region); larger steps oscillate
    span = float(np.ptp(xy[:, 0]) ** 2 + np.ptp(xy[:, 1]) ** 2) or 1.0
    step_size = 0.05 * span / k
    labels = np.zeros(len(xy), dtype=np.int64)
    for _ in range(iterations):
        d = ((xy[:, None, :] - c[None, :, :]) ** 2).sum(axis=2) - w[None, :]
        labels = np.argmin(d, axis=1)
        have = np.bincount(labels, weights=weight, minlength=k)
        if np.all(np.abs(want - have) <= 0.01 * want):
            break  # every region within 1% of its target
        w += step_size * (want - have) / total * k
        _keep_sites(w, c, fixed_mask)
        mass = np.bincount(labels, weights=weight, minlength=k)
        moving = (mass > 0) & ~fixed_mask
        for axis in (0, 1):
            mean = np.bincount(labels, weights=weight * xy[:, axis], minlength=k)[moving] / mass[moving]
            c[moving, axis] = 0.9 * c[moving, axis] + 0.1 * mean
    # a region left empty takes the item nearest its centre, from a region that can spare one
    for r in np.flatnonzero(np.bincount(labels, minlength=k) == 0).tolist():
        counts = np.bincount(labels, minlength=k)
        spare = counts[labels] > 1
        d = ((xy - c[r]) ** 2).sum(axis=1)
        d[~spare] = np.inf
        labels[int(np.argmin(d))] = r
    return labels


def _keep_sites(w: FloatArray, c: FloatArray, fixed: NDArray[np.bool_]) -> None:
    """Raise the weights of fixed centres until each is nearer (in power distance) to itself than to any other.

    A centre s lies in its own power cell iff w[t] - w[s] <= |c[s] - c[t]|^2 for every t; raising w[s] to the
    least value that meets this is a longest-path problem with no positive cycle, so k passes settle it.
    """
    idx = np.flatnonzero(fixed)
    if not len(idx):
        return
    d2 = ((c[idx][:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
    for _ in range(len(w)):
        need = np.max(w[None, :] - d2, axis=1)
        if np.all(w[idx] >= need):
            break
        w[idx] = np.maximum(w[idx], need)


def make_contiguous(
    labels: IntArray,
    edges: IntArray,
    weight: FloatArray,
    rounds: int = 8,
    pinned: NDArray[np.bool_] | None = None,
) -> IntArray:
    """Give every detached part of a region (not its main part) to the neighbouring region it borders most.

    edges: (m, 2) item pairs that touch. Parts that touch no other region (islands) stay where they are. A part
    holding a pinned item never moves, and the largest such part of a region is its main part.
    """
    lab = labels.copy()
    n = len(lab)
    pin = np.zeros(n, dtype=bool) if pinned is None else pinned
    if len(edges) == 0:
        return lab
    a, b = edges[:, 0], edges[:, 1]
    for _ in range(rounds):
        same = lab[a] == lab[b]
        graph = coo_matrix((np.ones(int(same.sum())), (a[same], b[same])), shape=(n, n))
        _, comp = connected_components(graph, directed=False)
        comp_weight = np.bincount(comp, weights=weight)
        comp_pinned = np.bincount(comp, weights=pin.astype(float)) > 0
        # the largest component of each label (the largest pinned one, if any) is its main part
        order = np.lexsort((-comp_weight[comp], ~comp_pinned[comp], lab))
        main = np.full(lab.max() + 1, -1)
        for idx in order:
            if main[lab[idx]] == -1:
                main[lab[idx]] = comp[idx]
        detached = comp != main[lab]
        if not detached.any():
            break
        changed = False
        cross = ~same
        for c in np.unique(comp[detached & ~comp_pinned[comp]]):
            members = comp == c
            touching = cross & (members[a] ^ members[b])
            if not touching.any():
                continue  # an island: nothing to join
            other = np.where(members[a[touching]], lab[b[touching]], lab[a[touching]])
            lab[members] = np.bincount(other).argmax()
            changed = True
        if not changed:
            break
    return lab
