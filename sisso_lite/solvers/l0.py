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

The Numba kernels (enumeration, Cholesky updates, heaps) are in
:mod:`sisso_lite.solvers.l0_kernels`; this module prepares their inputs and refits.
On a process / cluster joblib backend (e.g. Dask) a large search runs its blocks as
contiguous ranges on the workers, with the same result (:mod:`sisso_lite.solvers.distributed_l0`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np

from sisso_lite.solvers import distributed_l0
from sisso_lite.solvers.l0_kernels import _binom_table as _binom_table
from sisso_lite.solvers.l0_kernels import _heap_push as _heap_push
from sisso_lite.solvers.l0_kernels import _l0_kernel, _l0_kernel_serial
from sisso_lite.solvers.l0_kernels import _unrank as _unrank

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
    progress: bool = False,
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
        threads); the same blocks and result. Never split into ranges on joblib workers.
    progress : bool
        A tqdm bar over the blocks (combinations searched), each block run by the same
        kernel in a thread pool; the same blocks, heaps and result (:func:`_search_with_bar`).

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
    args = (G, b, yy, weights, k, n_keep, int(n_blocks), metric == "maxae",
            np.ascontiguousarray(Xs.T), yc, offsets, _SINGULAR_TOL)
    # on a process / cluster joblib backend: the same blocks as ranges on the workers
    heaps = None if serial else distributed_l0.search_ranges_if_worth(*args)
    if heaps is None and progress and not serial:
        heaps = _search_with_bar(*args)
    err, idx, nh = heaps if heaps is not None else (
        _l0_kernel_serial if serial else _l0_kernel)(*args)
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


def _search_with_bar(G, b, yy, weights, k, n_keep, n_blocks, use_maxae, Ft, yc, offsets,
                     tol):  # fmt: skip
    """:func:`.l0_kernels._l0_kernel` with a tqdm bar: the same blocks, each searched by the
    same serial kernel (GIL released) on ``numba.get_num_threads()`` threads and written to
    its own heap row, so the returned heaps are those of the parallel kernel."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from tqdm.auto import tqdm

    from sisso_lite.solvers.l0_kernels import _l0_block, _l0_heaps

    m = b.shape[1]
    binom, heap_err, heap_idx, heap_n, per = _l0_heaps(m, int(k), int(n_keep), int(n_blocks))
    total = math.comb(m, int(k))
    sizes = [max(0, min(total, (j + 1) * per) - min(total, j * per)) for j in range(n_blocks)]

    def run(blk: int) -> int:
        _l0_block(G, b, yy, weights, k, use_maxae, Ft, yc, offsets, tol, binom, per, blk,
                  heap_err, heap_idx, heap_n)  # fmt: skip
        return blk

    blocks = [j for j in range(int(n_blocks)) if sizes[j]]
    with (tqdm(total=total, desc=f"L0 d={k}", unit="model", unit_scale=True,
               leave=False) as bar,
          ThreadPoolExecutor(max(1, min(numba.get_num_threads(), len(blocks)))) as pool):
        for done in as_completed([pool.submit(run, j) for j in blocks]):
            bar.update(sizes[done.result()])
    return heap_err, heap_idx, heap_n
