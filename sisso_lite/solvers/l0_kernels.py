"""Numba kernels of the exact L0 search (:func:`sisso_lite.solvers.l0.l0_search`).

Lexicographic enumeration of the ``dim``-subsets of the candidate columns (binomial table,
unranking, contiguous blocks of equal size run with ``numba.prange``), the Cholesky factor
updated along the enumeration (only the rows whose column changed), the MaxAE residuals and
the per-block max-heaps of the best models.  Inputs (centred Gram matrix, cross products)
are prepared, and the kept models refit, by :mod:`sisso_lite.solvers.l0`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _binom_table(m: int, k: int) -> np.ndarray:
    """Binomial coefficients ``C(a, j)`` for ``0 <= a <= m``, ``0 <= j <= k`` (int64)."""
    table = np.zeros((m + 1, k + 1), dtype=np.int64)
    for a in range(m + 1):
        table[a, 0] = 1
        for j in range(1, min(a, k) + 1):
            table[a, j] = table[a - 1, j - 1] + (table[a - 1, j] if j <= a - 1 else 0)
    return table


@njit(cache=True)
def _unrank(rank: int, m: int, k: int, binom: np.ndarray, out: np.ndarray) -> None:
    """Write the ``rank``-th ``k``-subset of ``range(m)`` in lexicographic order into ``out``."""
    c = 0
    for p in range(k):
        while True:
            cnt = binom[m - c - 1, k - p - 1]
            if rank < cnt:
                break
            rank -= cnt
            c += 1
        out[p] = c
        c += 1


@njit(cache=True)
def _heap_push(err_h, idx_h, n, n_max, err, s):
    """Max-heap of the best ``n_max`` models (root = worst kept); returns the new size."""
    k = s.shape[0]
    if n < n_max:
        i = n
        n += 1
    elif err < err_h[0]:
        # replace the root and sift down
        i = 0
        while True:
            left = 2 * i + 1
            if left >= n:
                break
            child = left
            if left + 1 < n and err_h[left + 1] > err_h[left]:
                child = left + 1
            if err_h[child] <= err:
                break
            err_h[i] = err_h[child]
            for q in range(k):
                idx_h[i, q] = idx_h[child, q]
            i = child
        err_h[i] = err
        for q in range(k):
            idx_h[i, q] = s[q]
        return n
    else:
        return n
    # sift up for a push
    while i > 0:
        parent = (i - 1) // 2
        if err_h[parent] >= err:
            break
        err_h[i] = err_h[parent]
        for q in range(k):
            idx_h[i, q] = idx_h[parent, q]
        i = parent
    err_h[i] = err
    for q in range(k):
        idx_h[i, q] = s[q]
    return n


@njit(cache=True)
def _max_abs_residual(Ft, yc, offsets, L, z, s, beta, k, T):
    """MaxAE of the least-squares fit given the Cholesky factor ``L`` and ``z = L^-1 b``."""
    worst = 0.0
    for t in range(T):
        # back substitution L^T beta = z
        for q in range(k - 1, -1, -1):
            acc = z[t, q]
            for c in range(q + 1, k):
                acc -= L[t, c, q] * beta[c]
            beta[q] = acc / L[t, q, q]
        for i in range(offsets[t], offsets[t + 1]):
            r = yc[i]
            for q in range(k):
                r -= Ft[s[q], i] * beta[q]
            r = abs(r)
            if r > worst:
                worst = r
    return worst


@njit(cache=True)
def _update_prefix(G, b, L, invd, z, zsum, ok, s, p, n_rows, tol):
    """Cholesky rows ``p .. n_rows-1`` of the columns ``s`` (rows before ``p`` are current)."""
    T = b.shape[0]
    for q in range(p, n_rows):
        if not ok[q]:
            ok[q + 1] = False
            continue
        good = True
        sq = s[q]
        for t in range(T):
            gss = G[t, sq, sq]
            d = gss
            acc = b[t, sq]
            for a in range(q):
                v = G[t, s[a], sq]
                for c in range(a):
                    v -= L[t, a, c] * L[t, q, c]
                v *= invd[t, a]
                L[t, q, a] = v
                d -= v * v
                acc -= v * z[t, a]
            if not (d > tol * gss) or gss <= 0.0:
                good = False
                break
            lqq = math.sqrt(d)
            L[t, q, q] = lqq
            invd[t, q] = 1.0 / lqq
            z[t, q] = acc / lqq
            zsum[t, q + 1] = zsum[t, q] + z[t, q] * z[t, q]
        ok[q + 1] = good


@njit(cache=True)
def _search_block(G, b, yy, weights, k, start, stop, use_maxae, Ft, yc, offsets, tol,
                  binom, err_h, idx_h):
    """Models of lexicographic rank ``start .. stop-1`` into the heap ``err_h/idx_h``.

    The range is walked as runs of a fixed prefix ``s[:k-1]`` (Cholesky rows updated only
    where the prefix changed) and a contiguous last column. Returns the heap size.
    With ``use_maxae`` the residuals are evaluated for every model except those whose RMSE
    already exceeds the worst kept MaxAE (exact: MaxAE >= RMSE for every model).
    """
    T = b.shape[0]
    m = b.shape[1]
    kp = k - 1
    n_models = err_h.shape[0]
    s = np.empty(k, dtype=np.int64)
    _unrank(start, m, k, binom, s)
    L = np.zeros((T, k, k))
    invd = np.zeros((T, k))
    z = np.zeros((T, k))
    zsum = np.zeros((T, k + 1))
    ok = np.ones(k + 1, dtype=np.bool_)
    beta = np.empty(k)
    slack = 0.0  # cancellation error of SSE = yy - |z|^2 (absolute, per unit weight)
    for t in range(T):
        slack += 1e-12 * weights[t] * yy[t]
    nh = 0
    left = stop - start
    p = 0
    while left > 0:
        _update_prefix(G, b, L, invd, z, zsum, ok, s, p, kp, tol)
        first = s[kp]
        run = min(m - first, left)
        if ok[kp]:
            for j in range(first, first + run):
                mse = 0.0
                good = True
                for t in range(T):
                    gjj = G[t, j, j]
                    d = gjj
                    acc = b[t, j]
                    for a in range(kp):
                        v = G[t, s[a], j]
                        for c in range(a):
                            v -= L[t, a, c] * L[t, kp, c]
                        v *= invd[t, a]
                        L[t, kp, a] = v
                        d -= v * v
                        acc -= v * z[t, a]
                    if not (d > tol * gjj) or gjj <= 0.0:
                        good = False
                        break
                    sse = yy[t] - zsum[t, kp] - acc * acc / d
                    if sse > 0.0:
                        mse += weights[t] * sse
                    if use_maxae:
                        lqq = math.sqrt(d)
                        L[t, kp, kp] = lqq
                        z[t, kp] = acc / lqq
                if not good:
                    continue
                s[kp] = j
                if use_maxae:
                    # skip only when the RMSE bound holds beyond any rounding of the SSE
                    if nh == n_models and mse > err_h[0] * err_h[0] * (1.0 + 1e-9) + slack:
                        continue
                    err = _max_abs_residual(Ft, yc, offsets, L, z, s, beta, k, T)
                else:
                    err = mse
                if nh < n_models or err < err_h[0]:
                    nh = _heap_push(err_h, idx_h, nh, n_models, err, s)
        left -= run
        # next combination after the end of the run
        s[kp] = first + run - 1
        p = kp
        while p >= 0 and s[p] == m - k + p:
            p -= 1
        if p < 0:
            break
        s[p] += 1
        for q in range(p + 1, k):
            s[q] = s[q - 1] + 1
    return nh


@njit(cache=True, nogil=True)
def _l0_block(G, b, yy, weights, k, use_maxae, Ft, yc, offsets, tol, binom, per, blk,
              heap_err, heap_idx, heap_n):  # fmt: skip
    """Search block ``blk`` (combinations ``blk * per ..``) into its heap."""
    total = binom[b.shape[1], k]
    start = min(total, blk * per)
    stop = min(total, start + per)
    if stop > start:
        heap_n[blk] = _search_block(G, b, yy, weights, k, start, stop, use_maxae, Ft, yc,
                                    offsets, tol, binom, heap_err[blk], heap_idx[blk])


@njit(cache=True, nogil=True)
def _l0_heaps(m, k, n_models, n_blocks):
    binom = _binom_table(m, k)
    heap_err = np.full((n_blocks, n_models), np.inf)
    heap_idx = np.full((n_blocks, n_models, k), -1, dtype=np.int64)
    heap_n = np.zeros(n_blocks, dtype=np.int64)
    per = (binom[m, k] + n_blocks - 1) // n_blocks
    return binom, heap_err, heap_idx, heap_n, per


@njit(parallel=True, cache=True)
def _l0_kernel(G, b, yy, weights, k, n_models, n_blocks, use_maxae, Ft, yc, offsets, tol):
    """Exhaustive L0 search over blocks of equal size in parallel (``numba.prange``).

    Returns the per-block heaps ``(errors, indices, sizes)``; ``errors`` are weighted MSEs
    (RMSE metric) or MaxAE values.
    """
    binom, heap_err, heap_idx, heap_n, per = _l0_heaps(b.shape[1], k, n_models, n_blocks)
    for blk in prange(n_blocks):
        _l0_block(G, b, yy, weights, k, use_maxae, Ft, yc, offsets, tol, binom, per, blk,
                  heap_err, heap_idx, heap_n)
    return heap_err, heap_idx, heap_n


@njit(cache=True, nogil=True)
def _l0_kernel_serial(G, b, yy, weights, k, n_models, n_blocks, use_maxae, Ft, yc, offsets,
                      tol):  # fmt: skip
    """:func:`_l0_kernel` in the calling thread, without the GIL (same blocks, same heaps):
    for many small searches run from several threads."""
    binom, heap_err, heap_idx, heap_n, per = _l0_heaps(b.shape[1], k, n_models, n_blocks)
    for blk in range(n_blocks):
        _l0_block(G, b, yy, weights, k, use_maxae, Ft, yc, offsets, tol, binom, per, blk,
                  heap_err, heap_idx, heap_n)
    return heap_err, heap_idx, heap_n
