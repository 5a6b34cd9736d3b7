"""Domain-overlap geometry for SISSO classification (Numba kernels + NumPy/SciPy references).

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
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray
from scipy.optimize import LinearConstraint, linprog, minimize
from scipy.spatial import ConvexHull, HalfspaceIntersection, QhullError

_BIG = 1e10  # Fortran SISSO initial "worst separation" (mindist = -1d10)


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


# ----------------------------------------------------------------------------- 2D


@njit(cache=True)
def _cross(ox, oy, ax, ay, bx, by):
    return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox)


@njit(cache=True)
def _hull2d(px, py):
    """Counter-clockwise convex hull (monotone chain, collinear points dropped)."""
    n = px.shape[0]
    o1 = np.argsort(py, kind="mergesort")
    o2 = np.argsort(px[o1], kind="mergesort")
    order = o1[o2]
    hx, hy = np.empty(2 * n + 1), np.empty(2 * n + 1)
    k = 0
    for t in range(n):
        i = order[t]
        while k >= 2 and _cross(hx[k - 2], hy[k - 2], hx[k - 1], hy[k - 1], px[i], py[i]) <= 0:
            k -= 1
        hx[k] = px[i]
        hy[k] = py[i]
        k += 1
    lower = k + 1
    for t in range(n - 2, -1, -1):
        i = order[t]
        while k >= lower and _cross(hx[k - 2], hy[k - 2], hx[k - 1], hy[k - 1], px[i],
                                    py[i]) <= 0:
            k -= 1
        hx[k] = px[i]
        hy[k] = py[i]
        k += 1
    h = k - 1 if n > 1 else n
    return hx[:h].copy(), hy[:h].copy()


@njit(cache=True)
def _poly_area(hx, hy):
    h = hx.shape[0]
    a = 0.0
    for i in range(h):
        j = (i + 1) % h
        a += hx[i] * hy[j] - hx[j] * hy[i]
    return 0.5 * abs(a)


@njit(cache=True)
def _seg_dist(px, py, ax, ay, bx, by):
    vx, vy = bx - ax, by - ay
    l2 = vx * vx + vy * vy
    t = 0.0
    if l2 > 0.0:
        t = ((px - ax) * vx + (py - ay) * vy) / l2
        t = min(1.0, max(0.0, t))
    return np.hypot(px - (ax + t * vx), py - (ay + t * vy))


@njit(cache=True)
def _poly_dist(px, py, hx, hy):
    h = hx.shape[0]
    d = np.inf
    for i in range(h):
        j = (i + 1) % h
        d = min(d, _seg_dist(px, py, hx[i], hy[i], hx[j], hy[j]))
    return d


@njit(cache=True)
def _in_poly(px, py, hx, hy, width):
    h = hx.shape[0]
    for i in range(h):
        j = (i + 1) % h
        ex, ey = hx[j] - hx[i], hy[j] - hy[i]
        norm = np.hypot(ex, ey)
        if norm == 0.0:
            continue
        if (ex * (py - hy[i]) - ey * (px - hx[i])) / norm < -1e-12 * (1.0 + abs(px) + abs(py)):
            return width > 0.0 and _poly_dist(px, py, hx, hy) <= width
    return True


@njit(cache=True)
def _clip_area(ax, ay, bx, by):
    """Area of the intersection of two ccw convex polygons (Sutherland-Hodgman)."""
    cap = 2 * (ax.shape[0] + bx.shape[0]) + 4
    cx, cy, tx, ty = np.empty(cap), np.empty(cap), np.empty(cap), np.empty(cap)
    nc = ax.shape[0]
    cx[:nc] = ax
    cy[:nc] = ay
    hb = bx.shape[0]
    for e in range(hb):
        if nc == 0:
            break
        x1, y1 = bx[e], by[e]
        x2, y2 = bx[(e + 1) % hb], by[(e + 1) % hb]
        nt = 0
        for i in range(nc):
            sx, sy = cx[i - 1 if i > 0 else nc - 1], cy[i - 1 if i > 0 else nc - 1]
            qx, qy = cx[i], cy[i]
            ds = _cross(x1, y1, x2, y2, sx, sy)
            dq = _cross(x1, y1, x2, y2, qx, qy)
            if dq >= 0.0:
                if ds < 0.0:
                    f = ds / (ds - dq)
                    tx[nt] = sx + f * (qx - sx)
                    ty[nt] = sy + f * (qy - sy)
                    nt += 1
                tx[nt] = qx
                ty[nt] = qy
                nt += 1
            elif ds >= 0.0:
                f = ds / (ds - dq)
                tx[nt] = sx + f * (qx - sx)
                ty[nt] = sy + f * (qy - sy)
                nt += 1
        nc = nt
        cx[:nc] = tx[:nc]
        cy[:nc] = ty[:nc]
    if nc < 3:
        return 0.0
    return _poly_area(cx[:nc], cy[:nc])


@njit(cache=True)
def _n_proper_crossings(ax, ay, bx, by):
    """Number of proper edge crossings (Fortran's "more than 2 intersections" quirk)."""
    na = ax.shape[0]
    nb = bx.shape[0]
    k = 0
    for i in range(na):
        xa, ya, xb, yb = ax[i], ay[i], ax[(i + 1) % na], ay[(i + 1) % na]
        for j in range(nb):
            xc, yc, xd, yd = bx[j], by[j], bx[(j + 1) % nb], by[(j + 1) % nb]
            delta = -(xb - xa) * (yd - yc) + (yb - ya) * (xd - xc)
            if delta != 0.0:
                lam = (-(xc - xa) * (yd - yc) + (yc - ya) * (xd - xc)) / delta
                mu = ((xb - xa) * (yc - ya) - (yb - ya) * (xc - xa)) / delta
                if 0.0 < lam < 1.0 and 0.0 < mu < 1.0:
                    k += 1
    return k


@njit(cache=True)
def overlap_2d(px, py, codes, n_classes, width, fortran, flags, pair_count=False):
    """Overlap (count, size, degenerate) of one 2D descriptor; ``flags`` receives per-sample
    "inside a foreign domain" booleans.  ``pair_count``: count (sample, foreign domain)
    incidences (Fortran's sum over class pairs) instead of samples."""
    n = px.shape[0]
    starts = np.zeros(n_classes + 1, np.int64)
    for i in range(n):
        starts[codes[i] + 1] += 1
    for c in range(n_classes):
        starts[c + 1] += starts[c]
    order = np.argsort(codes, kind="mergesort")
    hulls_x, hulls_y = [], []
    areas = np.zeros(n_classes)
    degenerate = False
    for c in range(n_classes):
        idx = order[starts[c]:starts[c + 1]]
        hx, hy = _hull2d(px[idx], py[idx])
        hulls_x.append(hx)
        hulls_y.append(hy)
        if hx.shape[0] >= 3:
            areas[c] = _poly_area(hx, hy)
        span = (np.max(px[idx]) - np.min(px[idx])) * (np.max(py[idx]) - np.min(py[idx]))
        if hx.shape[0] < 3 or areas[c] <= 1e-12 * span:
            degenerate = True
    flags[:] = degenerate
    if degenerate:
        return n, 0.0, True
    inside = np.zeros((n, n_classes), np.bool_)
    for i in range(n):
        for c in range(n_classes):
            if c != codes[i] and _in_poly(px[i], py[i], hulls_x[c], hulls_y[c], width):
                inside[i, c] = True
                if not pair_count:
                    break
    npairs = n_classes * (n_classes - 1) // 2
    isoverlap = False
    ol = 0.0
    mindist = -_BIG
    for a in range(n_classes - 1):
        for b in range(a + 1, n_classes):
            ax, ay, bx, by = hulls_x[a], hulls_y[a], hulls_x[b], hulls_y[b]
            if fortran and _n_proper_crossings(ax, ay, bx, by) > 2:
                for i in range(n):
                    if codes[i] == a:
                        inside[i, b] = True
                    elif codes[i] == b:
                        inside[i, a] = True
            inter = _clip_area(ax, ay, bx, by)
            if inter > 0.0:
                isoverlap = True
                ol += inter / min(areas[a], areas[b])
                continue
            d = np.inf
            for i in range(ax.shape[0]):
                d = min(d, _poly_dist(ax[i], ay[i], bx, by))
            for i in range(bx.shape[0]):
                d = min(d, _poly_dist(bx[i], by[i], ax, ay))
            if d <= 0.0:
                isoverlap = True
            elif -d > mindist:
                mindist = -d
    count = 0
    for i in range(n):
        for c in range(n_classes):
            if inside[i, c]:
                flags[i] = True
                count += 1
                if not pair_count:
                    break
    if isoverlap:
        return count, ol / npairs, False
    return count, mindist, False


@njit(cache=True)
def overlap_2d_pairs(features, pairs, codes, n_classes, width, fortran, pair_count=False):
    """:func:`overlap_2d` for every column pair ``pairs`` (p, 2) of ``features`` (n, m)."""
    p = pairs.shape[0]
    counts = np.empty(p, np.int64)
    sizes = np.empty(p)
    degen = np.empty(p, np.bool_)
    flags = np.empty(features.shape[0], np.bool_)
    for r in range(p):
        counts[r], sizes[r], degen[r] = overlap_2d(
            features[:, pairs[r, 0]], features[:, pairs[r, 1]], codes, n_classes, width,
            fortran, flags, pair_count)
    return counts, sizes, degen


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
