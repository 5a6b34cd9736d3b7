"""Exact L0 (best-subset) regression over a small candidate matrix.

The search visits every ``dim``-subset of the ``m`` candidate columns. The centred (per task)
Gram matrix ``G = Xc^T Xc``, the cross products ``b = Xc^T yc`` and ``yc . yc`` are computed once;
every model is then solved from them by a Cholesky factorisation that is updated incrementally
along the lexicographic enumeration (only the rows of the factor whose column changed are
recomputed), so the cost per model does not depend on the number of samples (RMSE metric).
With ``L z = b_S`` the residual sum of squares is ``SSE = yc . yc - |z|^2``.

The combinations are split into contiguous blocks of equal size that run in parallel with
``numba.prange``; each block keeps its best ``n_models`` in its own max-heap and the heaps are
merged at the end. The kept models are refit with ``numpy.linalg.lstsq`` (QR/SVD) so that the
reported coefficients, RMSE and MaxAE are exact.

Multi-task (Ouyang et al., J. Phys. Mater. 2, 024002 (2019)): one descriptor shared by all tasks
with separate coefficients and intercept per task; the error is the quadratic mean of the per-task
RMSEs (``task_weighting=1``, as SISSO) or the sample-weighted RMSE (``task_weighting=2``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import njit, prange

__all__ = ["L0Model", "l0_search", "refit_model"]

#: a model is skipped when the new column is (numerically) in the span of the previous ones:
#: ``d / G_ss = sin^2(angle to the span) <= _SINGULAR_TOL``
_SINGULAR_TOL = 1e-10


@dataclass(frozen=True)
class L0Model:
    """One linear model found by the L0 search.

    Attributes
    ----------
    indices : tuple of int
        Columns of the candidate matrix, increasing.
    coefficients : ndarray, shape (n_tasks, dim)
        Coefficients per task (one row for single-task problems).
    intercept : ndarray, shape (n_tasks,)
        Intercept per task (zeros when ``fit_intercept=False``).
    rmse : float
        Population RMSE; for several tasks the quadratic mean of the per-task RMSEs
        (``task_weighting=1``) or the sample-weighted RMSE (``task_weighting=2``).
    maxae : float
        Maximum absolute error over all samples.
    task_rmse, task_maxae : ndarray, shape (n_tasks,)
        Per-task errors.
    """

    indices: tuple[int, ...]
    coefficients: np.ndarray
    intercept: np.ndarray
    rmse: float
    maxae: float
    task_rmse: np.ndarray = field(repr=False)
    task_maxae: np.ndarray = field(repr=False)


# --------------------------------------------------------------------------------------------
# numba kernels
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# preprocessing and refit
# --------------------------------------------------------------------------------------------


def _task_index(tasks, n: int) -> np.ndarray:
    if tasks is None:
        return np.zeros(n, dtype=np.int64)
    tasks = np.asarray(tasks)
    if tasks.shape != (n,):
        raise ValueError(f"tasks must have shape ({n},), got {tasks.shape}")
    _, inverse = np.unique(tasks, return_inverse=True)
    return inverse.astype(np.int64).ravel()


def _check_inputs(features, y, dim, n_models, metric, task_weighting):
    X = np.asarray(features, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.ndim != 2:
        raise ValueError("features must be a 2-d array (n_samples, n_candidates)")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"features has {X.shape[0]} rows but y has {y.shape[0]} values")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("features and y must be finite")
    if not 1 <= int(dim) <= X.shape[1]:
        raise ValueError(f"dim must be in [1, {X.shape[1]}], got {dim}")
    if int(n_models) < 1:
        raise ValueError("n_models must be >= 1")
    metric = str(metric).lower()
    if metric not in ("rmse", "maxae"):
        raise ValueError(f"metric must be 'rmse' or 'maxae', got {metric!r}")
    if task_weighting not in (1, 2):
        raise ValueError("task_weighting must be 1 (tasks equal) or 2 (by sample count)")
    return X, y, metric


def _task_weights(counts: np.ndarray, task_weighting: int) -> np.ndarray:
    """Weights turning per-task SSEs into the squared error metric."""
    if task_weighting == 1:
        return 1.0 / (len(counts) * counts.astype(np.float64))
    return np.full(len(counts), 1.0 / counts.sum())


def _gram(Xs: np.ndarray, yc: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-task ``G[t] = Xs_t^T Xs_t``, ``b[t] = Xs_t^T yc_t``, ``yy[t]``; ``G`` (the largest
    array of the search) is written by the BLAS product itself, never copied."""
    T, m = len(offsets) - 1, Xs.shape[1]
    G = (Xs.T @ Xs)[None] if T == 1 else np.empty((T, m, m))
    b, yy = np.empty((T, m)), np.empty(T)
    for t in range(T):
        sl = slice(offsets[t], offsets[t + 1])
        if T > 1:
            np.matmul(Xs[sl].T, Xs[sl], out=G[t])
        b[t], yy[t] = Xs[sl].T @ yc[sl], yc[sl] @ yc[sl]
    return G, b, yy


def refit_model(
    features: np.ndarray,
    y: np.ndarray,
    indices,
    *,
    fit_intercept: bool = True,
    tasks=None,
    task_weighting: int = 1,
) -> L0Model:
    """Least-squares fit (``numpy.linalg.lstsq``) of ``y`` on the columns ``indices``."""
    X = np.asarray(features, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    tidx = _task_index(tasks, len(y))
    T = int(tidx.max()) + 1
    idx = tuple(int(i) for i in indices)
    k = len(idx)
    coef = np.zeros((T, k))
    icpt = np.zeros(T)
    task_rmse = np.zeros(T)
    task_maxae = np.zeros(T)
    counts = np.bincount(tidx, minlength=T)
    sse = np.zeros(T)
    for t in range(T):
        rows = tidx == t
        A = X[np.ix_(rows, idx)]
        if fit_intercept:
            A = np.column_stack([A, np.ones(A.shape[0])])
        sol, *_ = np.linalg.lstsq(A, y[rows], rcond=None)
        res = y[rows] - A @ sol
        coef[t] = sol[:k]
        icpt[t] = sol[k] if fit_intercept else 0.0
        sse[t] = float(res @ res)
        task_rmse[t] = math.sqrt(sse[t] / rows.sum())
        task_maxae[t] = float(np.max(np.abs(res))) if res.size else 0.0
    rmse = math.sqrt(float(np.sum(_task_weights(counts, task_weighting) * sse)))
    return L0Model(idx, coef, icpt, rmse, float(task_maxae.max()), task_rmse, task_maxae)


def _sort_key(model: L0Model, metric: str):
    return (model.maxae if metric == "maxae" else model.rmse, model.indices)


def l0_search(
    features: np.ndarray,
    y: np.ndarray,
    dim: int,
    n_models: int = 10,
    fit_intercept: bool = True,
    metric: str = "rmse",
    *,
    tasks=None,
    task_weighting: int = 1,
    n_blocks: int | None = None,
    serial: bool = False,
) -> list[L0Model]:
    """Exhaustive search of the best ``dim``-column linear models (numba, parallel).

    Parameters
    ----------
    features : ndarray, shape (n_samples, m)
        Candidate columns (e.g. the union of the SIS-selected features).
    y : ndarray, shape (n_samples,)
        Target.
    dim : int
        Number of columns per model.
    n_models : int
        Number of best models to keep.
    fit_intercept : bool
        Fit an intercept (per task).
    metric : {"rmse", "maxae"}
        Ranking metric. ``"maxae"`` evaluates the residuals of every model (slower).
    tasks : array-like of shape (n_samples,), optional
        Task label per sample (multi-task SISSO); tasks are ordered by ``numpy.unique``.
    task_weighting : {1, 2}
        1: quadratic mean of per-task RMSEs; 2: RMSE over all samples.
    n_blocks : int, optional
        Number of work blocks (default 8 per numba thread).
    serial : bool
        Search in the calling thread without the GIL (for small searches run from several
        threads); the same blocks and result.

    Returns
    -------
    list of L0Model
        Best models first, refit by least squares (coefficients and errors exact).
    """
    X, y, metric = _check_inputs(features, y, dim, n_models, metric, task_weighting)
    k = int(dim)
    if math.comb(X.shape[1], k) >= 2**62:
        raise ValueError(f"C({X.shape[1]}, {k}) combinations are too many for an exact search")
    if tasks is None:  # one task: rows stay in order (same arithmetic, fewer copies)
        tidx = None
        T, counts = 1, np.array([len(y)])
        offsets = np.array([0, len(y)], np.int64)
        Xo = np.ascontiguousarray(X)  # the layout the reordering copy below would give
        Xc = Xo - Xo.mean(axis=0) if fit_intercept else Xo.copy()
        yc = y - y.mean() if fit_intercept else y.copy()
    else:
        tidx = _task_index(tasks, len(y))
        order = np.argsort(tidx, kind="stable")
        Xo, yo, to = X[order], y[order], tidx[order]
        T = int(to.max()) + 1
        counts = np.bincount(to, minlength=T)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        Xc = Xo.copy()
        yc = yo.copy()
        if fit_intercept:
            for t in range(T):
                sl = slice(offsets[t], offsets[t + 1])
                Xc[sl] -= Xc[sl].mean(axis=0)
                yc[sl] -= yc[sl].mean()
    scale = np.sqrt(np.einsum("ij,ij->j", Xc, Xc))
    scale[scale == 0.0] = 1.0
    Xs = Xc / scale
    G, b, yy = _gram(Xs, yc, offsets)
    weights = _task_weights(counts, task_weighting)
    if n_blocks is None:
        n_blocks = 8 * numba.get_num_threads()
    n_keep = int(n_models)
    err, idx, nh = (_l0_kernel_serial if serial else _l0_kernel)(
        G, b, yy, weights, k, n_keep, int(n_blocks), metric == "maxae",
        np.ascontiguousarray(Xs.T), yc, offsets, _SINGULAR_TOL,
    )
    cand_err = np.concatenate([err[i, : nh[i]] for i in range(len(nh))])
    cand_idx = np.concatenate([idx[i, : nh[i]] for i in range(len(nh))]).reshape(-1, k)
    if cand_err.size == 0:
        return []
    keys = [cand_idx[:, q] for q in range(k - 1, -1, -1)] + [cand_err]
    best = np.lexsort(keys)[:n_keep]
    models = [
        refit_model(X, y, cand_idx[i], fit_intercept=fit_intercept, tasks=tidx,
                    task_weighting=task_weighting)
        for i in best
    ]
    models.sort(key=lambda mod: _sort_key(mod, metric))
    return models
