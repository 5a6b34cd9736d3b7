"""Decision-stump kernels for the accuracy criterion of SISSO classification.

The (weighted, optionally balanced) training accuracy of the best decision stump on each
row of a block of feature values: an exact sort-and-sweep kernel, a histogram-bounded kernel
that prunes rows which cannot reach the current top scores, and a brute-force NumPy
reference.  :mod:`sisso_lite.solvers.classification` builds its SIS scorer and 1D L0 on
them (and re-exports them).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True)
def _stump_row(x, codes, n_classes, w, order, L):
    tot = np.zeros(n_classes)
    for i in range(x.shape[0]):
        tot[codes[i]] += w[i]
    wsum = tot.sum()
    best = tot.max()
    thr = -np.inf
    L[:] = 0.0
    n = order.shape[0]
    for t in range(n - 1):
        i = order[t]
        L[codes[i]] += w[i]
        a = x[i]
        b = x[order[t + 1]]
        if b > a:
            ml = 0.0
            mr = 0.0
            for c in range(n_classes):
                ml = max(ml, L[c])
                mr = max(mr, tot[c] - L[c])
            if ml + mr > best + 1e-12 * wsum:
                best = ml + mr
                thr = 0.5 * (a + b)
    return best / wsum, thr


@njit(cache=True)
def stump_accuracy_block(values, codes, n_classes, weights):
    """Best weighted accuracy and threshold of a decision stump on each row of ``values``.

    Each side of the threshold predicts its (weighted) majority class; samples with zero
    weight are ignored.  Exact: one sort per row, one sweep over the split points.
    """
    m, n = values.shape
    acc = np.empty(m)
    thr = np.empty(m)
    L = np.zeros(n_classes)
    for r in range(m):
        x = values[r]
        ok = True
        for i in range(n):
            if not np.isfinite(x[i]):
                ok = False
                break
        if not ok:
            acc[r] = -np.inf
            thr[r] = np.nan
            continue
        order = np.argsort(x)
        acc[r], thr[r] = _stump_row(x, codes, n_classes, weights, order, L)
    return acc, thr


@njit(cache=True)
def _stump_fast_row(x, codes, n_classes, w, tot, threshold, n_bins, H, bin_of, start, fill,
                    buf, L, bmin, bmax):
    n = x.shape[0]
    wsum = tot.sum()
    lo = np.inf
    hi = -np.inf
    c = 0.0
    sq = 0.0
    na = 0.0
    for i in range(n):
        v = x[i]
        if not np.isfinite(v):
            return -np.inf, False
        if w[i] > 0.0:
            lo = min(lo, v)
            hi = max(hi, v)
            c += v
            sq += v * v
            na += 1.0
    best = tot.max()
    if not hi > lo:
        return best / wsum, False
    # bins of equal width in u = d / (|d| + s), d = x - mean, s = std / 2: a monotone map that
    # compresses heavy tails (stump accuracy only depends on the order of the values)
    c /= na
    s = 0.5 * np.sqrt(max(sq / na - c * c, 0.0))
    if not s > 0.0:
        s = hi - lo
    ulo = (lo - c) / (abs(lo - c) + s)
    uhi = (hi - c) / (abs(hi - c) + s)
    H[:, :] = 0.0
    start[:] = 0
    bmin[:] = np.inf
    bmax[:] = -np.inf
    inv = n_bins / (uhi - ulo)
    for i in range(n):
        if w[i] > 0.0:
            d = x[i] - c
            b = min(max(int((d / (abs(d) + s) - ulo) * inv), 0), n_bins - 1)
            bin_of[i] = b
            H[b, codes[i]] += w[i]
            start[b + 1] += 1
            bmin[b] = min(bmin[b], x[i])
            bmax[b] = max(bmax[b], x[i])
        else:
            bin_of[i] = -1
    prev = -np.inf  # guard: bins must be ordered intervals of x (rounding could break it)
    for b in range(n_bins):
        if start[b + 1] > 0:
            if bmin[b] <= prev:
                return _stump_row(x, codes, n_classes, w, np.argsort(x), L)[0], False
            prev = bmax[b]
    # boundaries between bins are achievable thresholds; UB_b bounds thresholds inside bin b
    L[:] = 0.0
    ub_max = best
    for b in range(n_bins):
        mr_before = 0.0
        for c in range(n_classes):
            mr_before = max(mr_before, tot[c] - L[c])
        for c in range(n_classes):
            L[c] += H[b, c]
        ml = 0.0
        mr = 0.0
        for c in range(n_classes):
            ml = max(ml, L[c])
            mr = max(mr, tot[c] - L[c])
        best = max(best, ml + mr)
        ub = ml + mr_before
        ub_max = max(ub_max, ub)
    if ub_max < threshold * wsum:
        return ub_max / wsum, True
    # exact: sweep inside the impure bins whose bound can beat the best boundary
    for b in range(n_bins):
        start[b + 1] += start[b]
    fill[:] = start[:n_bins]
    for i in range(n):
        b = bin_of[i]
        if b >= 0:
            buf[fill[b]] = i
            fill[b] += 1
    L[:] = 0.0
    for b in range(n_bins):
        s0 = start[b]
        s1 = start[b + 1]
        npure = 0
        for c in range(n_classes):
            if H[b, c] > 0.0:
                npure += 1
        if npure > 1:
            mr_before = 0.0
            ml_after = 0.0
            for c in range(n_classes):
                mr_before = max(mr_before, tot[c] - L[c])
                ml_after = max(ml_after, L[c] + H[b, c])
            if ml_after + mr_before > best + 1e-12 * wsum:
                idx = buf[s0:s1]
                vals = np.empty(s1 - s0)
                for t in range(s1 - s0):
                    vals[t] = x[idx[t]]
                order = np.argsort(vals)
                Lb = L.copy()
                for t in range(s1 - s0 - 1):
                    i = idx[order[t]]
                    Lb[codes[i]] += w[i]
                    if vals[order[t + 1]] > vals[order[t]]:
                        ml = 0.0
                        mr = 0.0
                        for c in range(n_classes):
                            ml = max(ml, Lb[c])
                            mr = max(mr, tot[c] - Lb[c])
                        best = max(best, ml + mr)
        for c in range(n_classes):
            L[c] += H[b, c]
    return best / wsum, False


@njit(cache=True)
def stump_accuracy_pruned(values, codes, n_classes, weights, threshold, n_bins):
    """Best stump accuracy per row with histogram bounds (exact unless pruned).

    Values are bucketed into ``n_bins`` bins (O(n); equal width after the monotone map
    ``u = d / (|d| + s)``, ``d = x - mean``, ``s = std / 2``, which tames heavy tails).
    Thresholds at bin boundaries give a lower bound; a threshold inside bin ``b`` changes
    only the classification of bin ``b``'s samples, which gives an upper bound.  Rows whose
    upper bound is below ``threshold`` return that bound and ``pruned=True``; otherwise only the
    impure bins that can still beat the best boundary are sorted, and the result is exact.
    """
    m, n = values.shape
    acc = np.empty(m)
    pruned = np.zeros(m, np.bool_)
    tot = np.zeros(n_classes)
    for i in range(n):
        tot[codes[i]] += weights[i]
    H = np.zeros((n_bins, n_classes))
    bin_of = np.empty(n, np.int64)
    start = np.zeros(n_bins + 1, np.int64)
    fill = np.zeros(n_bins, np.int64)
    buf = np.empty(n, np.int64)
    L = np.zeros(n_classes)
    bmin = np.empty(n_bins)
    bmax = np.empty(n_bins)
    for r in range(m):
        acc[r], pruned[r] = _stump_fast_row(values[r], codes, n_classes, weights, tot,
                                            threshold, n_bins, H, bin_of, start, fill, buf, L,
                                            bmin, bmax)
    return acc, pruned


def stump_accuracy_reference(values: NDArray, codes: NDArray, n_classes: int,
                             weights: NDArray) -> NDArray:
    """Brute-force NumPy reference of :func:`stump_accuracy_block` (accuracy only)."""
    values = np.atleast_2d(values)
    onehot = np.zeros((len(codes), n_classes))
    onehot[np.arange(len(codes)), codes] = weights
    out = []
    for x in values:
        u = np.unique(x)
        thrs = np.r_[-np.inf, 0.5 * (u[1:] + u[:-1])]
        left = (x[None, :] < thrs[:, None]).astype(float) @ onehot
        right = onehot.sum(0)[None] - left
        out.append((left.max(1) + right.max(1)).max() / weights.sum())
    return np.array(out)


def sample_weights(codes: NDArray, n_classes: int, active: NDArray, balanced: bool) -> NDArray:
    """Per-sample weights: 0 for inactive samples, 1 or 1/(n_classes * class count)."""
    w = np.asarray(active, float).copy()
    if balanced:
        for c in range(n_classes):
            m = (codes == c) & active
            if m.any():
                w[m] = 1.0 / m.sum()
    return w
