"""Lock-step SISSO of many ensemble members on one materialised feature space.

Every member ``k`` (bootstrap rows with repeats = integer weights ``w_k``, allowed primary
features) gets *exactly* the result of ``run_sisso(space, y, rows=rows_k,
allowed_primary=mask_k, ...)``; only the work is shared:

1. :func:`~sisso_lite.features.materialize.materialize` stores every candidate once as a
   centred unit-norm float32 row ``z``.
2. Weighted sums ``S_x = z W``, ``S_xx = z^2 W`` (once) and ``S_xr = z R`` (per
   dimension; ``R[s, k]`` = sum of member ``k``'s unit residual over its copies of row
   ``s``) are matrix products over a group of ``GROUP`` members (one pass over ``z``
   computes the first three; the group buffers are reused because fresh large arrays are
   slow to touch). ``|S_xr| / sqrt(S_xx - S_x^2 / n_k)`` is member ``k``'s |Pearson r| up
   to float32 rounding, and :func:`upper_bounds` turns it into a rigorous upper bound of
   the exact score.
3. Per member, the candidates whose bound reaches the ``K``-th largest bound (ties
   included) and the ill-conditioned ones are scored exactly (same kernels, same member
   values as ``screen``) and passed to the same selection/duplicate code
   (``features.screening._select``), on the ``L`` best exact scores. The answer is
   accepted when the lowest selected score minus ``GUARD`` (100 score tolerances) is at
   least both cuts, so no left-out candidate can take part in a tie or duplicate
   decision; otherwise ``L`` or ``K`` grows (up to all candidates). Members whose relevant
   candidates would exceed the buffer ``screen`` keeps are refitted with ``run_sisso``
   (never observed).
4. L0 per member exactly as ``run_sisso``.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numba
import numpy as np
from numba import njit
from threadpoolctl import threadpool_limits

from sisso_lite.features.generate import domain_flags, status_of_rows
from sisso_lite.features.kernels import SELECTABLE, pearson_scores_nb
from sisso_lite.features.materialize import MaterializedSpace, _values_of, materialize
from sisso_lite.features.screening import _keep_size, _select
from sisso_lite.models import SissoModel, SissoResult
from sisso_lite.solvers.l0 import l0_search

__all__ = ["fit_members_batched", "inverse_sd", "inverse_sd_numpy", "upper_bounds",
           "upper_bounds_numpy"]

GUARD = 1e-6
GROUP = 32  # members scored together (buffers of GROUP x n_candidates float32)
_U32 = float(np.finfo(np.float32).eps)
_CHUNK = 16384


@njit(cache=True)
def upper_bounds(sxr, inv_sd, wmax, gamma, out):
    """Upper bound of the exact |Pearson r| from float32 sums (rows: members).

    ``score = |sxr| inv_sd``; its error is at most ``gamma (sqrt(c) + 1.5 score c)`` with
    ``c = wmax inv_sd^2`` bounding the conditioning ``S_xx / var`` (unit-norm rows). The
    bound doubles that and adds relative/absolute slack for float32 storage. NaN stays NaN.
    """
    m, c = sxr.shape
    for k in range(m):
        w = wmax[k]
        for i in range(c):
            inv = np.float64(inv_sd[k, i])
            s = abs(np.float64(sxr[k, i])) * inv
            cond = w * inv * inv
            out[k, i] = s * (1.0 + 1e-6) + 2.0 * gamma * (np.sqrt(cond) + 1.5 * s * cond) + 1e-12


def upper_bounds_numpy(sxr: np.ndarray, inv_sd: np.ndarray, wmax: np.ndarray,
                       gamma: float) -> np.ndarray:
    """NumPy reference of :func:`upper_bounds` (float64 result)."""
    inv = inv_sd.astype(np.float64)
    s = np.abs(sxr.astype(np.float64)) * inv
    cond = wmax[:, None] * inv * inv
    return s * (1.0 + 1e-6) + 2.0 * gamma * (np.sqrt(cond) + 1.5 * s * cond) + 1e-12


@njit(cache=True)
def inverse_sd(sx, sxx, wsum, gamma, excluded, out_inv, out_ill):
    """``1 / sqrt(S_xx - S_x^2 / n_k)`` per member (rows) and candidate (columns).

    NaN where ``excluded`` or where float32 rounding could dominate the variance
    (``var <= 12 gamma S_xx``: ill-conditioned, flagged in ``out_ill`` and scored exactly).
    """
    m, c = sx.shape
    for k in range(m):
        for i in range(c):
            out_ill[k, i] = False
            if excluded[k, i]:
                out_inv[k, i] = np.nan
                continue
            a = np.float64(sx[k, i])
            q = np.float64(sxx[k, i])
            var = q - a * a / wsum[k]
            if var > 12.0 * gamma * q:
                out_inv[k, i] = 1.0 / np.sqrt(var)
            else:
                out_inv[k, i] = np.nan
                out_ill[k, i] = True


def inverse_sd_numpy(sx: np.ndarray, sxx: np.ndarray, wsum: np.ndarray, gamma: float,
                     excluded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NumPy reference of :func:`inverse_sd`."""
    a, q = sx.astype(np.float64), sxx.astype(np.float64)
    var = q - a * a / wsum[:, None]
    good = var > 12.0 * gamma * q
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(good & ~excluded, 1.0 / np.sqrt(var), np.nan)
    return inv, ~good & ~excluded


def _uses_bits(uses: np.ndarray) -> np.ndarray:
    """Rows of a boolean matrix (at most 62 columns) packed into int64 bit masks."""
    bits = np.zeros(uses.shape[0], np.int64)
    for p in range(uses.shape[1]):
        bits |= uses[:, p].astype(np.int64) << p
    return bits


@njit(cache=True)
def excluded_block(bits, drop, usable, out):
    """``out[k, i]``: candidate ``i`` uses a primary feature member ``k`` drops, or is unusable."""
    m, c = out.shape
    for k in range(m):
        d = drop[k]
        for i in range(c):
            out[k, i] = (bits[i] & d) != 0 or not usable[i]


@contextmanager
def _one_numba_thread():
    """Member-sized kernels (exact scoring, L0) run faster without numba's thread pool."""
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(old)


class _Member:
    """State of one member during the lock-step fit."""

    def __init__(self, space, rows: np.ndarray, allowed: np.ndarray | None, y_all: np.ndarray):
        self.rows = rows
        self.values = np.ascontiguousarray(space._values[:, rows])
        self.y = y_all[rows]
        self.dropped = np.zeros(len(space.primary_names_), bool) if allowed is None else ~allowed
        self.nonzero, self.positive = domain_flags(self.values, space._fortran)
        self.union_expr: list = []
        self.union_vals: list[np.ndarray] = []
        self.exclude: set[str] = set()
        self.models: dict[int, list[SissoModel]] = {}
        self.selected: dict[int, list] = {}
        self.scores: dict[int, np.ndarray] = {}
        self.best = None
        self.best_vals = None
        self.forced_all = np.empty(0, np.int64)  # ill-conditioned: always scored exactly
        self.done = False
        self.fallback = False


def _weights_setup(ms: MaterializedSpace, members: list[_Member], n: int, R: np.ndarray,
                   inv_sd: np.ndarray, u: np.ndarray):
    """``inv_sd`` (members x candidates, float32; NaN = not approximable), forced lists and
    the bounds ``u`` of the first dimension (residual matrix ``R``), in one pass over ``z``.
    ``inv_sd`` and ``u`` are preallocated ``(len(members), n_candidates)`` buffers.

    NaN also marks candidates a member cannot see: dropped primary features, special
    candidates whose non-finite rows carry weight or whose domain flags fail.
    """
    n_m, n_c = len(members), len(ms.code)
    W = np.zeros((n, n_m), np.float32)
    for k, mem in enumerate(members):
        W[:, k] = np.bincount(mem.rows, minlength=n)
    wsum = W.sum(axis=0).astype(np.float64)
    gamma = 2.0 * (n + 2) * _U32
    D = np.array([mem.dropped for mem in members], dtype=np.float32).T  # (P, M)
    usable = np.zeros(n_c, bool)
    usable[ms.regular] = True
    # special candidates: (M, n_special) True where the member cannot see them
    sp = ms.special
    hidden = (ms.bad_rows.astype(np.float32) @ W).T > 0
    nonzero = np.array([mem.nonzero for mem in members])
    positive = np.array([mem.positive for mem in members])
    nz, pos = ms.need_nonzero[sp], ms.need_positive[sp]
    hidden |= (nz >= 0)[None, :] & ~nonzero[:, np.maximum(nz, 0)]
    hidden |= (pos >= 0)[None, :] & ~positive[:, np.maximum(pos, 0)]
    wmax = W.max(axis=0).astype(np.float64)
    forced: list[list[np.ndarray]] = [[] for _ in members]
    ill = np.empty((n_m, _CHUNK), bool)
    WR = np.ascontiguousarray(np.concatenate([W, R], axis=1).T)  # (2M, n): one pass for both
    bits = None
    if ms.uses.shape[1] <= 62:
        bits = ms.__dict__.get("_uses_bits")
        if bits is None:
            bits = ms.__dict__["_uses_bits"] = _uses_bits(ms.uses)
    drop = None if bits is None else _uses_bits(D.T > 0)
    excluded = np.empty((n_m, _CHUNK), bool)
    inv_buf, out_buf = np.empty((n_m, _CHUNK), np.float32), np.empty((n_m, _CHUNK), np.float32)
    for lo in range(0, n_c, _CHUNK):
        hi = min(lo + _CHUNK, n_c)
        zc = ms.z[lo:hi]
        both = WR @ zc.T  # rows :n_m = S_x, rows n_m: = S_xr
        sxx = W.T @ (zc * zc).T
        exc = excluded[:, : hi - lo]
        if bits is None:
            exc[:] = ((ms.uses[lo:hi].astype(np.float32) @ D).T > 0) | ~usable[None, lo:hi]
        else:
            excluded_block(bits[lo:hi], drop, usable[lo:hi], exc)
        s_lo, s_hi = np.searchsorted(sp, [lo, hi])
        exc[:, sp[s_lo:s_hi] - lo] |= hidden[:, s_lo:s_hi]
        inv = inv_buf if hi - lo == _CHUNK else np.empty((n_m, hi - lo), np.float32)
        inverse_sd(both[:n_m], sxx, wsum, gamma, exc, inv, ill[:, : hi - lo])
        inv_sd[:, lo:hi] = inv
        out = out_buf if hi - lo == _CHUNK else np.empty((n_m, hi - lo), np.float32)
        upper_bounds(both[n_m:], inv, wmax, gamma, out)  # contiguous: vectorised loops
        u[:, lo:hi] = out
        for k in np.flatnonzero(ill[:, : hi - lo].any(axis=1)):
            forced[k].append(lo + np.flatnonzero(ill[k, : hi - lo]))
    return inv_sd, wmax, gamma, [np.concatenate(f) if f else np.empty(0, np.int64)
                                 for f in forced], u


def _threshold(u: np.ndarray, k: int) -> float:
    """The ``k``-th largest non-NaN entry of ``u`` (-inf when there are fewer)."""
    step = max(1, u.size // (64 * k))
    sample = u[::step]
    sample = sample[~np.isnan(sample)]
    if sample.size > 4 * k // step + 1:
        guess = np.partition(sample, sample.size - (4 * k // step + 1))[
            sample.size - (4 * k // step + 1)]
        sub = u[u >= guess]
        if sub.size >= k:
            return float(np.partition(sub, sub.size - k)[sub.size - k])
    finite = u[~np.isnan(u)]
    if finite.size <= k:
        return -np.inf
    return float(np.partition(finite, finite.size - k)[finite.size - k])


def _screen_member(space, ms: MaterializedSpace, mem: _Member, u: np.ndarray,
                   y_unit: np.ndarray, n_sis: int) -> list | None:
    """Exact SIS of one member; None when the member must be refitted by ``run_sisso``.

    Candidates whose bound ``u`` reaches the cut ``thr`` (plus the ill-conditioned ones) are
    scored exactly; ``_select`` then runs on the exact-score prefix ``score >= s_L`` of the
    ``L`` best. The result is final when its lowest selected score minus ``GUARD`` is at
    least ``max(s_L, thr)``: every candidate left out scores below that.
    """
    n_rows = mem.values.shape[1]
    task, ones = np.zeros(n_rows, np.int64), np.ones(1)
    fixed = mem.forced_all
    keep = _keep_size(n_sis, len(mem.exclude))
    k_approx = 3 * n_sis + 2 * len(mem.exclude) + 64
    length = 2 * n_sis + len(mem.exclude) + 32
    while True:
        thr = _threshold(u, k_approx)
        idx = np.union1d(np.flatnonzero(u >= thr), fixed)
        code, a, b = ms.code[idx], ms.a[idx], ms.b[idx]
        vals = _values_of(code, a, b, mem.values, space._fortran)
        status = status_of_rows(vals, space._fortran, space._lower, space._upper)
        score = pearson_scores_nb(vals, y_unit, task, 1, ones)
        ok = np.flatnonzero((status == SELECTABLE) & ~np.isnan(score))
        ranked = np.sort(score[ok])[::-1]
        while True:
            whole = length >= len(ok)
            s_l = -np.inf if whole else float(ranked[length - 1])
            part = ok[score[ok] >= s_l]
            cands = list(zip(score[part].tolist(), code[part].tolist(), a[part].tolist(),
                             b[part].tolist(), strict=True))
            chosen = _select(space, cands, mem.values, n_sis, mem.exclude)
            filled = len(chosen) == n_sis
            low = min(c[0] for c in chosen) - GUARD if filled else -np.inf
            if filled and low >= max(s_l, thr):
                break
            if thr == -np.inf and (whole or (filled and low >= s_l)):
                break
            if whole or (filled and low >= s_l):
                k_approx *= 4  # the prefix is fine, the approximate cut is too high
                break
            length *= 2
        if (filled and low >= max(s_l, thr)) or thr == -np.inf:
            break
    relevant = ok[score[ok] >= low]
    n_stored = int(np.sum(code[relevant] < 0))
    if n_stored >= keep or len(relevant) - n_stored >= keep:
        return None
    return chosen


def _expression(space, ms: MaterializedSpace, c: int, a: int, b: int):
    """Expression of candidate ``(c, a, b)``, cached on ``ms`` (members share many)."""
    cache = ms.__dict__.setdefault("_expressions", {})
    expr = cache.get((c, a, b))
    if expr is None:
        expr = space.expression_of(a) if c < 0 else space.candidate_expression(c, a, b)
        cache[(c, a, b)] = expr
    return expr


def _fit_dimension(space, ms, mem: _Member, d: int, chosen: list, n_models: int,
                   metric: str, fit_intercept: bool, keep_selected: bool) -> None:
    """Union update and L0 of one member, as ``run_sisso`` (expressions built lazily)."""
    for _, c, a, b, vals in chosen:
        mem.exclude.add(space._names[a] if c < 0 else space.candidate_name(c, a, b))
        mem.union_expr.append((c, a, b))
        mem.union_vals.append(np.asarray(vals, dtype=np.float64))
    if keep_selected:
        mem.selected[d] = [_expression(space, ms, c, a, b) for _, c, a, b, _ in chosen]
    mem.scores[d] = np.array([c[0] for c in chosen], dtype=np.float64)
    if len(mem.union_expr) < d:
        mem.done = True
        return
    F = np.column_stack(mem.union_vals)
    found = l0_search(F, mem.y, d, n_models=int(n_models), fit_intercept=fit_intercept,
                      metric=metric, tasks=None, task_weighting=1)
    if not found:
        mem.done = True
        return
    mem.models[d] = [
        SissoModel(expressions=tuple(_expression(space, ms, *mem.union_expr[i])
                                     for i in mod.indices),
                   coefficients=mod.coefficients, intercept=mod.intercept, rmse=mod.rmse,
                   maxae=mod.maxae, task_rmse=mod.task_rmse, task_maxae=mod.task_maxae)
        for mod in found
    ]
    mem.best = mem.models[d][0]
    mem.best_vals = F[:, list(found[0].indices)]


def _residual_matrix(state: list[_Member], active, n: int, fit_intercept: bool):
    """``R[s, k]``: member ``k``'s unit residual summed over its copies of row ``s``."""
    from sisso_lite.solvers.driver import _residual
    from sisso_lite.solvers.sis import PearsonScorer

    R = np.zeros((n, len(state)), np.float32)
    units = {}
    for k in active:
        mem = state[k]
        res = _residual(mem.y, mem.best, mem.best_vals, None, fit_intercept)
        units[k] = PearsonScorer(res).fast_path()[0]
        R[:, k] = np.bincount(mem.rows, weights=units[k], minlength=n)
    return R, units


def _fit_group(space, ms: MaterializedSpace, state: list[_Member], n: int, buffers: list,
               clock: dict, *, n_dim: int, n_sis: int, n_models: int, metric: str,
               fit_intercept: bool, keep_selected: bool) -> None:
    """Lock-step SISSO of one group of members (results stay in the member states)."""
    inv_sd, u = buffers
    t0 = time.perf_counter()
    R, units = _residual_matrix(state, range(len(state)), n, fit_intercept)
    with threadpool_limits(1):  # small products: BLAS threads cost more than they save
        inv_sd, wmax, gamma, forced, u = _weights_setup(ms, state, n, R, inv_sd, u)
    clock["setup"] += time.perf_counter() - t0
    for mem, f in zip(state, forced, strict=True):
        mem.forced_all = f
    for d in range(1, n_dim + 1):
        active = [k for k, mem in enumerate(state) if not mem.done and not mem.fallback]
        if not active:
            break
        t0 = time.perf_counter()
        if d > 1:
            R, units = _residual_matrix(state, active, n, fit_intercept)
            with threadpool_limits(1):
                for lo in range(0, len(ms.code), _CHUNK):
                    hi = min(lo + _CHUNK, len(ms.code))
                    out = np.empty((len(state), hi - lo), np.float32)
                    upper_bounds(R.T @ ms.z[lo:hi].T, np.ascontiguousarray(inv_sd[:, lo:hi]),
                                 wmax, gamma, out)
                    u[:, lo:hi] = out
        clock["bounds"] += time.perf_counter() - t0
        with _one_numba_thread():
            for k in active:
                mem = state[k]
                t0 = time.perf_counter()
                chosen = _screen_member(space, ms, mem, u[k], units[k], n_sis)
                t1 = time.perf_counter()
                clock["screen"] += t1 - t0
                if chosen is None:
                    mem.fallback = True
                    continue
                _fit_dimension(space, ms, mem, d, chosen, n_models, metric, fit_intercept,
                               keep_selected)
                clock["l0"] += time.perf_counter() - t1


def fit_members_batched(
    space, y, members: list[tuple[np.ndarray, np.ndarray | None]], *, n_dim: int, n_sis: int,
    n_models: int = 1, metric: str = "rmse", fit_intercept: bool = True,
    max_bytes: float = 1e9, keep_selected: bool = True, timings: dict | None = None,
) -> list[SissoResult] | None:
    """``run_sisso`` for every ``(rows, allowed_primary_mask)`` member, in lock-step.

    Parameters
    ----------
    space : FeatureSpace
        Built space (single task, Pearson screening).
    y : array-like (n_samples,)
        Target on all build samples.
    members : list of (rows, allowed)
        Rows (int, repeats allowed) and boolean mask over the primary features (or None).
    n_dim, n_sis, n_models, metric, fit_intercept
        As :func:`~sisso_lite.solvers.driver.run_sisso`.
    max_bytes : float
        Memory budget of the materialised space and the member score matrices; returns
        None (caller falls back to per-member ``run_sisso``) when it is exceeded.
    keep_selected : bool
        Fill ``SissoResult.selected`` with the SIS-selected expressions (False saves
        building them; ``selected_scores`` and the models are always complete).
    timings : dict, optional
        Filled with wall seconds per phase: ``materialize``, ``setup`` (weighted sums),
        ``bounds`` (per-dimension products), ``screen`` (exact per-member SIS), ``l0``.

    Returns
    -------
    list of SissoResult or None
        Identical to the per-member ``run_sisso`` results.
    """
    from sisso_lite.features.materialize import materialized_bytes
    from sisso_lite.solvers.driver import run_sisso

    if materialized_bytes(space, min(len(members), GROUP)) > max_bytes:
        return None
    clock = {"materialize": 0.0, "setup": 0.0, "bounds": 0.0, "screen": 0.0, "l0": 0.0}
    t0 = time.perf_counter()
    y_all = np.asarray(y, dtype=np.float64).ravel()
    metric = str(metric).lower()
    ms = materialize(space)
    clock["materialize"] = time.perf_counter() - t0
    n = space.n_samples_
    state = [_Member(space, np.asarray(r, np.int64).ravel(),
                     None if m is None else np.asarray(m, bool), y_all) for r, m in members]
    # members in groups: the (group x candidates) buffers are allocated once and reused
    # (first-touch page faults of large fresh arrays are expensive)
    size = min(len(state), GROUP)
    buffers = (np.empty((size, len(ms.code)), np.float32),
               np.empty((size, len(ms.code)), np.float32))
    for lo in range(0, len(state), GROUP):
        group = state[lo : lo + GROUP]
        _fit_group(space, ms, group, n, [b[: len(group)] for b in buffers], clock,
                   n_dim=int(n_dim), n_sis=int(n_sis), n_models=n_models, metric=metric,
                   fit_intercept=fit_intercept, keep_selected=keep_selected)
    results = []
    for mem, (rows, mask) in zip(state, members, strict=True):
        if mem.fallback or not mem.models:
            with _one_numba_thread():  # as the per-member ensemble path
                results.append(run_sisso(space, y_all, n_dim=n_dim, n_sis=n_sis,
                                         n_models=n_models, metric=metric,
                                         fit_intercept=fit_intercept, rows=rows,
                                         allowed_primary=mask))
            continue
        result = SissoResult(
            models=mem.models, feature_names=list(space.primary_names_),
            fit_intercept=fit_intercept, task_labels=None,
            n_features_per_rung=list(getattr(space, "n_features_per_rung_", [])),
            selected=mem.selected, selected_scores=mem.scores, metric=metric)
        result.timings = {}
        results.append(result)
    if timings is not None:
        timings.update(clock)
    return results
