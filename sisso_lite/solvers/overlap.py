"""Domain-overlap scores for SISSO classification (1D Numba kernels, N-d SciPy reference).

The *domain* of a class is the convex hull of its samples (an interval in 1D, a polygon in
2D, a polyhedron in 3D).  A descriptor is scored by

* ``count``: the number of samples lying inside the domain of another class (boundary
  tolerance ``width``; a sample is counted once even if it lies in several foreign domains;
  ``pair_count=True`` counts it once per foreign domain, Fortran SISSO's sum over class
  pairs, which differs only with three or more classes);
* ``size``: if any pair of domains overlaps, the mean over class pairs of
  ``overlap / min(measure_i, measure_j)`` (length, area or volume; a pair whose smaller
  domain has zero measure counts 1); otherwise ``-d`` where ``d`` is the smallest distance
  between two domains.  Lower is better, as in Fortran SISSO (Ouyang et al., Phys. Rev.
  Mater. 2, 083802 (2018)).

Both are computed on the given coordinates (Fortran SISSO: raw units).  Set ``scale`` to
divide every coordinate by a per-column scale first (e.g. the standard deviation).

Degenerate domains (a class whose points are collinear in 2D / coplanar in 3D, or with
fewer than ``d + 1`` points) have no interior; the kernels flag them and the L0 search
ranks such descriptors last.  :func:`overlap_nd` raises ``ValueError`` for them.

The 2D polygon kernels (:func:`overlap_2d`, :func:`overlap_2d_pairs`) live in
:mod:`sisso_lite.solvers.polygon_overlap` and are re-exported here.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray
from scipy.optimize import LinearConstraint, linprog, minimize
from scipy.spatial import ConvexHull, HalfspaceIntersection, QhullError

from sisso_lite.solvers.polygon_overlap import _BIG
from sisso_lite.solvers.polygon_overlap import overlap_2d as overlap_2d
from sisso_lite.solvers.polygon_overlap import overlap_2d_pairs as overlap_2d_pairs


def squash(size: NDArray | float) -> NDArray | float:
    """Map the lower-is-better ``size`` monotonically into the open interval (0, 1)."""
    s = np.asarray(size, dtype=np.float64)
    return 0.5 + 0.5 * s / (1.0 + np.abs(s))


# ----------------------------------------------------------------------------- 1D


@njit(cache=True)
def _overlap_1d_row(x, codes, n_classes, active, width, scale, out_flags, pair_count):
    lo, hi = np.full(n_classes, np.inf), np.full(n_classes, -np.inf)
    cnt = np.zeros(n_classes, np.int64)
    n = x.shape[0]
    for i in range(n):
        if active[i]:
            c = codes[i]
            v = x[i] / scale
            if v < lo[c]:
                lo[c] = v
            if v > hi[c]:
                hi[c] = v
            cnt[c] += 1
    count = 0
    for i in range(n):
        out_flags[i] = False
        if not active[i]:
            continue
        v = x[i] / scale
        for c in range(n_classes):
            if c != codes[i] and cnt[c] > 0 and v >= lo[c] - width and v <= hi[c] + width:
                if pair_count or not out_flags[i]:
                    count += 1
                out_flags[i] = True
                if not pair_count:
                    break
    ol = 0.0
    mindist = -_BIG
    isoverlap = False
    npairs = n_classes * (n_classes - 1) // 2
    for a in range(n_classes - 1):
        for b in range(a + 1, n_classes):
            if cnt[a] == 0 or cnt[b] == 0:
                continue
            length = min(hi[a], hi[b]) - max(lo[a], lo[b])
            if length >= 0.0:
                isoverlap = True
                minlen = min(hi[a] - lo[a], hi[b] - lo[b])
                if minlen == 0.0:
                    ol += 1.0
                else:
                    ol += length / minlen
            elif length > mindist:
                mindist = length
    if isoverlap:
        return count, ol / npairs
    return count, mindist


@njit(cache=True)
def overlap_1d_block(values, codes, n_classes, active, width, standardize, pair_count=False):
    """Overlap ``count`` and ``size`` of every row of ``values`` (m, n) as a 1D descriptor.

    Only samples with ``active[i]`` define the domains and are counted (SISSO's
    "unclassified" samples).  With ``standardize`` each row is divided by its standard
    deviation over the active samples (width and separation then in std units).
    ``pair_count``: count a sample once per foreign domain containing it (Fortran SISSO's
    sum over class pairs) instead of once.
    """
    m, n = values.shape
    counts = np.empty(m, np.int64)
    sizes = np.empty(m, np.float64)
    flags = np.empty(n, np.bool_)
    n_act = 0
    for i in range(n):
        if active[i]:
            n_act += 1
    for r in range(m):
        x = values[r]
        scale = 1.0
        if standardize and n_act > 1:
            mu = 0.0
            for i in range(n):
                if active[i]:
                    mu += x[i]
            mu /= n_act
            var = 0.0
            for i in range(n):
                if active[i]:
                    var += (x[i] - mu) ** 2
            sd = np.sqrt(var / n_act)
            if sd > 0.0:
                scale = sd
        c, s = _overlap_1d_row(x, codes, n_classes, active, width, scale, flags, pair_count)
        counts[r] = c
        sizes[r] = s
    return counts, sizes


def overlap_1d_reference(
    values: NDArray, codes: NDArray, n_classes: int, active: NDArray, width: float,
    standardize: bool, pair_count: bool = False,
) -> tuple[NDArray, NDArray]:
    """Plain NumPy reference of :func:`overlap_1d_block`."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    counts, sizes = [], []
    act = np.asarray(active, bool)
    for x in values:
        xa = x[act]
        ca = codes[act]
        if standardize and xa.size > 1 and xa.std() > 0:
            xa = xa / xa.std()
        c, s, _ = _overlap_1d_numpy(xa, ca, n_classes, width, pair_count)
        counts.append(c)
        sizes.append(s)
    return np.array(counts, np.int64), np.array(sizes)


def _overlap_1d_numpy(x: NDArray, codes: NDArray, n_classes: int, width: float,
                      pair_count: bool = False):
    present = [c for c in range(n_classes) if np.any(codes == c)]
    lo = {c: x[codes == c].min() for c in present}
    hi = {c: x[codes == c].max() for c in present}
    flags = np.zeros(x.size, bool)
    hits = 0
    for c in present:
        inside = (x >= lo[c] - width) & (x <= hi[c] + width) & (codes != c)
        flags |= inside
        hits += int(inside.sum())
    lengths, minlens = [], []
    for ia, a in enumerate(present):
        for b in present[ia + 1 :]:
            lengths.append(min(hi[a], hi[b]) - max(lo[a], lo[b]))
            minlens.append(min(hi[a] - lo[a], hi[b] - lo[b]))
    size = _combine_pairs(lengths, minlens, n_classes)
    return (hits if pair_count else int(flags.sum())), size, flags


def _combine_pairs(overlaps: list, minmeasures: list, n_classes: int) -> float:
    """Fortran's pair aggregation: mean normalised overlap, else minus the smallest gap."""
    npairs = n_classes * (n_classes - 1) // 2
    over = [o for o in overlaps if o >= 0]
    if over:
        tot = 0.0
        for o, mm in zip(overlaps, minmeasures, strict=True):
            if o >= 0:
                tot += 1.0 if mm == 0 else o / mm
        return tot / npairs
    return max([-_BIG, *overlaps])


# ------------------------------------------------------------------ N-d (SciPy reference)


def _hull(points: NDArray) -> ConvexHull | None:
    try:
        return ConvexHull(points)
    except (QhullError, ValueError):
        return None


def _inside(points: NDArray, hull: ConvexHull, width: float) -> NDArray:
    """Points inside ``hull`` or within ``width`` of it (2D: exact distance; 3D: within
    ``width`` of every facet plane)."""
    eq = hull.equations
    off = points @ eq[:, :-1].T + eq[:, -1]
    scale = 1e-12 * (1.0 + np.abs(points).sum(axis=1))
    inside = np.all(off <= scale[:, None], axis=1)
    if width > 0:
        if points.shape[1] == 2:
            v = hull.points[hull.vertices]
            a, b = v, np.roll(v, -1, axis=0)
            ab = b - a
            t = np.einsum("pkj,kj->pk", points[:, None, :] - a[None], ab) / np.maximum(
                np.einsum("kj,kj->k", ab, ab), 1e-300)
            proj = a[None] + np.clip(t, 0, 1)[..., None] * ab[None]
            dist = np.sqrt(((points[:, None, :] - proj) ** 2).sum(-1)).min(axis=1)
            inside |= dist <= width
        else:
            inside |= np.all(off <= width, axis=1)
    return inside


def _intersection_measure(h1: ConvexHull, h2: ConvexHull) -> float:
    """Volume (area in 2D) of the intersection of two convex hulls (0 if none)."""
    hs = np.vstack([h1.equations, h2.equations])
    norm = np.linalg.norm(hs[:, :-1], axis=1)
    d = hs.shape[1] - 1
    res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[hs[:, :-1], norm], b_ub=-hs[:, -1],
                  bounds=[(None, None)] * d + [(0, None)], method="highs")
    if res.status != 0 or res.x[-1] <= 1e-12:
        return 0.0
    try:
        inter = HalfspaceIntersection(hs, res.x[:-1])
        return float(ConvexHull(inter.intersections).volume)
    except QhullError:
        return 0.0


def _hull_distance(p1: NDArray, p2: NDArray) -> float:
    """Smallest distance between the convex hulls of two point sets (small QP)."""
    n1, n2 = len(p1), len(p2)

    def fun(z):
        diff = z[:n1] @ p1 - z[n1:] @ p2
        return diff @ diff, np.r_[2 * p1 @ diff, -2 * p2 @ diff]

    d2 = ((p1[:, None] - p2[None]) ** 2).sum(-1)
    i, j = np.unravel_index(np.argmin(d2), d2.shape)
    z0 = np.zeros(n1 + n2)
    z0[[i, n1 + j]] = 1.0
    A = np.zeros((2, n1 + n2))
    A[0, :n1] = A[1, n1:] = 1.0
    res = minimize(fun, z0, jac=True, bounds=[(0, 1)] * (n1 + n2), method="SLSQP",
                   constraints=LinearConstraint(A, 1.0, 1.0),
                   options={"ftol": 1e-14, "maxiter": 500})
    return float(np.sqrt(max(min(res.fun, d2[i, j]), 0.0)))


def overlap_nd(
    X: NDArray, codes: NDArray, n_classes: int, width: float = 0.0,
    with_size: bool = True, pair_count: bool = False,
) -> tuple[int, float, NDArray]:
    """Overlap ``count``, ``size`` and per-sample flags of one descriptor (n, d), any d.

    SciPy reference (ConvexHull, HalfspaceIntersection, an SLSQP hull distance); used
    directly for 3D descriptors.  Raises ``ValueError`` if a class domain is degenerate
    (fewer than d + 1 points or all points in a lower-dimensional affine subspace).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1 or X.shape[1] == 1:
        x = X.ravel()
        c, s, flags = _overlap_1d_numpy(x, codes, n_classes, width, pair_count)
        return c, s, flags
    hulls = []
    for c in range(n_classes):
        pts = X[codes == c]
        h = _hull(pts) if len(pts) > X.shape[1] else None
        if h is None or h.volume <= 1e-12 * np.prod(np.ptp(pts, axis=0)):
            raise ValueError(
                f"degenerate domain: the {len(pts)} samples of class {c} span no "
                f"{X.shape[1]}-dimensional convex hull (collinear/coplanar or too few points)")
        hulls.append(h)
    flags = np.zeros(len(X), bool)
    hits = 0
    for c in range(n_classes):
        other = codes != c
        ins = _inside(X[other], hulls[c], width)
        flags[other] |= ins
        hits += int(ins.sum())
    count = hits if pair_count else int(flags.sum())
    if not with_size:
        return count, np.nan, flags
    overlaps, measures = [], []
    for a in range(n_classes - 1):
        for b in range(a + 1, n_classes):
            inter = _intersection_measure(hulls[a], hulls[b])
            if inter <= 0:
                pa = hulls[a].points[hulls[a].vertices]
                pb = hulls[b].points[hulls[b].vertices]
                dist = _hull_distance(pa, pb)
                inter = 0.0 if dist <= 1e-9 else -dist
            overlaps.append(inter)
            measures.append(min(hulls[a].volume, hulls[b].volume))
    return count, _combine_pairs(overlaps, measures, n_classes), flags
