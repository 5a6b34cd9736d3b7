"""2D domain-overlap Numba kernels for SISSO classification: convex polygons.

Class domains are convex hulls (monotone chain); :func:`overlap_2d` scores one 2D
descriptor (overlap ``count``, ``size`` and a degenerate flag) from polygon clipping,
point-in-polygon tests and polygon distances, and :func:`overlap_2d_pairs` scores many
column pairs.  The definitions of ``count`` and ``size`` are in
:mod:`sisso_lite.solvers.overlap`, which re-exports these kernels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_BIG = 1e10  # Fortran SISSO initial "worst separation" (mindist = -1d10)


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
