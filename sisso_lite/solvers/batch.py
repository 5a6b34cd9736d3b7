"""Lock-step SISSO of many ensemble members on one materialised feature space.

Every member ``k`` (bootstrap rows with repeats = integer weights ``w_k``, allowed primary
features) gets *exactly* the result of ``run_sisso(space, y, rows=rows_k,
allowed_primary=mask_k, ...)``; only the work is shared:

1. :func:`~sisso_lite.features.materialize.materialize` stores every candidate as a
   centred unit-norm float32 row ``z``, once per class of candidates with the same row up
   to sign and the same primary features (:mod:`~sisso_lite.features.row_classes`; about
   half of a rung-2 space are such repeats). Steps 2-3 work on the rows; the exact
   scoring expands a row to its candidates.
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
   (``features.screening.select_candidates``), on the ``L`` best exact scores. The answer is
   accepted when the lowest selected score minus ``GUARD`` (100 score tolerances) is at
   least both cuts, so no left-out candidate can take part in a tie or duplicate
   decision; otherwise ``L`` or ``K`` grows (up to all candidates). Members whose relevant
   candidates would exceed the buffer ``screen`` keeps are refitted with ``run_sisso``
   (never observed).
4. L0 per member exactly as ``run_sisso``.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from sisso_lite._threads import numba_threads
from sisso_lite.features.generate import domain_flags
from sisso_lite.features.materialize import MaterializedSpace, materialize
from sisso_lite.features.screening import SCORE_TOL, _keep_size
from sisso_lite.models import SissoModel, SissoResult
from sisso_lite.solvers.batch_kernels import (
    first_dimension_block,
    inverse_sd,
    inverse_sd_numpy,
    merge_pools,
    new_pools,
    next_dimension_block,
    upper_bounds,
    upper_bounds_numpy,
    uses_bits,
)
from sisso_lite.solvers.l0 import l0_search
from sisso_lite.solvers.member_select import (
    NEED_ALL_BOUNDS,
    REFIT,
    name_tables,
    screen_member,
)

__all__ = ["fit_members_batched", "inverse_sd", "inverse_sd_numpy", "upper_bounds",
           "upper_bounds_numpy"]

GUARD = 1e-6
GROUP = 128  # members screened together (inv_sd buffer of GROUP x n_candidates float32)
_U32 = float(np.finfo(np.float32).eps)
_CHUNK = 16384
GROWTH = 2  # the cut of _screen_member moves to GROWTH x more rows when it was too high
POOL_FACTOR = 2  # pools keep POOL_FACTOR x the initial cut of _screen_member (one growth)


def _one_numba_thread():
    """Member-sized kernels (exact scoring, L0) run faster without numba's thread pool
    (per calling thread; BLAS, whose limit is global, is limited by the caller)."""
    return numba_threads(1)


class _Member:
    """State of one member during the lock-step fit."""

    def __init__(self, space, rows: np.ndarray, allowed: np.ndarray | None, y_all: np.ndarray):
        self.rows = rows
        self.values = space.tables.storage.subset(rows).full(cache=False)
        self.y = y_all[rows]
        self.dropped = np.zeros(len(space.primary_names_), bool) if allowed is None else ~allowed
        self.nonzero, self.positive = domain_flags(self.values, space.tables.fortran)
        self.union_expr: list = []
        self.union_vals = np.empty((len(rows), 0))  # columns of the union, grown per dimension
        self.excluded: list[tuple[int, int, int, int]] = []  # (code, a, b, row) selected
        self.models: dict[int, list[SissoModel]] = {}
        self.selected: dict[int, list] = {}
        self.scores: dict[int, np.ndarray] = {}
        self.best = None
        self.best_vals = None
        self.forced_all = np.empty(0, np.int64)  # ill-conditioned: always scored exactly
        self.done = False
        self.fallback = False


class _Bounds:
    """Per-group state shared by the dimensions: float32 ``1/sd`` of every member and
    candidate (NaN = not approximable), the weights' sums and the pools of top bounds."""

    def __init__(self, ms: MaterializedSpace, members: list[_Member], n: int,
                 inv_sd: np.ndarray):
        n_m = len(members)
        self.W = np.zeros((n, n_m), np.float32)
        for k, mem in enumerate(members):
            self.W[:, k] = np.bincount(mem.rows, minlength=n)
        self.wsum = self.W.sum(axis=0).astype(np.float64)
        self.wmax = self.W.max(axis=0).astype(np.float64)
        self.gamma = 2.0 * (n + 2) * _U32
        self.inv_sd = inv_sd
        self.ms = ms
        self.pools: tuple = ()
        self.k_keep = 0
        self.R = None  # unit residual matrix of the current dimension

    def scan(self, work, n_members: int, k_keep: int) -> None:
        """Run ``work(lo, hi, pools, scratch)`` over every chunk of candidates and keep the merged
        pools. The chunks are split into one contiguous span per thread (numba's thread
        count), each span filling its own pools; BLAS is single-threaded meanwhile (its
        idle threads would spin against the other span)."""
        self.k_keep = k_keep
        n_chunks = -(-len(self.ms.z) // _CHUNK)
        spans = np.array_split(np.arange(n_chunks), max(1, min(numba.get_num_threads(),
                                                                 n_chunks)))
        pools = [new_pools(n_members, k_keep) for _ in spans]

        def run(j: int) -> None:
            scratch: dict = {}  # per-thread buffers, reused over the chunks of the span
            for c in spans[j]:
                work(c * _CHUNK, min((c + 1) * _CHUNK, len(self.ms.z)), pools[j], scratch)

        with threadpool_limits(1):
            _in_threads(run, list(range(len(spans))))
        self.pools = merge_pools(pools)

    def full_bounds(self, k: int) -> np.ndarray:
        """Bound of every candidate for member ``k`` (when its pool is not enough)."""
        z = self.ms.z
        u = np.empty(len(z), np.float32)
        r = np.ascontiguousarray(self.R[:, k : k + 1].T)
        for lo in range(0, len(z), _CHUNK):
            hi = min(lo + _CHUNK, len(z))
            upper_bounds(r @ z[lo:hi].T, self.inv_sd[k : k + 1, lo:hi], self.wmax[k : k + 1],
                         self.gamma, u[None, lo:hi])
        return u


def _first_dimension(ms: MaterializedSpace, members: list[_Member], bounds: _Bounds,
                     k_keep: int) -> list[np.ndarray]:
    """One pass over ``z``: ``inv_sd``, the ill-conditioned candidates of each member
    (returned; always scored exactly) and the pools of the first dimension (``bounds.R``).

    NaN in ``inv_sd`` also marks candidates a member cannot see: dropped primary features,
    special candidates whose non-finite rows carry weight or whose domain flags fail.
    """
    n_m, n_c = len(members), len(ms.z)
    W, R = bounds.W, bounds.R
    D = np.array([mem.dropped for mem in members], dtype=np.float32).T  # (P, M)
    usable = np.ones(n_c, bool)  # rows are classes of regular candidates
    # special candidates (alone in their class, rows sp): (M, n_special) True where the
    # member cannot see them
    sp = ms.row_of[ms.special]
    hidden = (ms.bad_rows.astype(np.float32) @ W).T > 0
    nonzero = np.array([mem.nonzero for mem in members])
    positive = np.array([mem.positive for mem in members])
    nz, pos = ms.need_nonzero[ms.special], ms.need_positive[ms.special]  # by candidate
    hidden |= (nz >= 0)[None, :] & ~nonzero[:, np.maximum(nz, 0)]
    hidden |= (pos >= 0)[None, :] & ~positive[:, np.maximum(pos, 0)]
    forced: dict[int, list[np.ndarray]] = {}  # chunk start -> ill-conditioned per member
    WR = np.ascontiguousarray(np.concatenate([W, R], axis=1).T)  # (2M, n): one pass for both
    Wt = np.ascontiguousarray(W.T)
    bits = ms.__dict__.get("_row_bits")
    if bits is None:  # the candidates of a class use the same primary features
        bits = ms.__dict__["_row_bits"] = np.ascontiguousarray(
            ms.bits[:, ms.row_members[ms.row_start[:-1]]])
    drop = uses_bits(D.T > 0)

    def work(lo: int, hi: int, pools: tuple, scratch: dict) -> None:
        if not scratch:  # fresh large arrays per chunk would cost page faults
            scratch.update(both=np.empty((2 * n_m, _CHUNK), np.float32),
                           sxx=np.empty((n_m, _CHUNK), np.float32),
                           sq=np.empty((_CHUNK, ms.z.shape[1]), np.float32),
                           ill=np.empty((n_m, _CHUNK), bool))
        c = hi - lo
        zc = ms.z[lo:hi]
        both, sxx, ill = scratch["both"][:, :c], scratch["sxx"][:, :c], scratch["ill"][:, :c]
        np.matmul(WR, zc.T, out=both)  # rows :n_m = S_x, rows n_m: = S_xr
        np.matmul(Wt, np.square(zc, out=scratch["sq"][:c]).T, out=sxx)
        s_lo, s_hi = np.searchsorted(sp, [lo, hi])
        first_dimension_block(both[:n_m], sxx, both[n_m:], bounds.wsum, bounds.wmax,
                              bounds.gamma, bits[:, lo:hi], drop, usable[lo:hi],
                              sp[s_lo:s_hi] - lo, np.arange(s_lo, s_hi), hidden, lo,
                              bounds.inv_sd, ill, *pools[:4], bounds.k_keep, pools[4])
        if ill.any():
            forced[lo] = [lo + np.flatnonzero(row) for row in ill]

    bounds.scan(work, n_m, k_keep)
    chunks = [forced[lo] for lo in sorted(forced)]
    return [ms.candidates_of(np.concatenate([c[k] for c in chunks])) if chunks
            else np.empty(0, np.int64) for k in range(n_m)]


def _next_dimension(ms: MaterializedSpace, bounds: _Bounds, active: np.ndarray,
                    k_keep: int) -> None:
    """Pools of a later dimension (residual matrix ``bounds.R``), one pass over ``z``."""
    Rt = np.ascontiguousarray(bounds.R.T)

    def work(lo: int, hi: int, pools: tuple, scratch: dict) -> None:
        if not scratch:
            scratch["sxr"] = np.empty((len(Rt), _CHUNK), np.float32)
        sxr = scratch["sxr"][:, : hi - lo]
        np.matmul(Rt, ms.z[lo:hi].T, out=sxr)
        next_dimension_block(sxr, bounds.inv_sd, bounds.wmax, bounds.gamma, active, lo,
                             *pools[:4], bounds.k_keep, pools[4])

    bounds.scan(work, len(active), k_keep)


def _screen_member(space, ms: MaterializedSpace, mem: _Member, bounds: _Bounds, k: int,
                   y_unit: np.ndarray, n_sis: int) -> list | None:
    """Exact SIS of member ``k``; None when the member must be refitted by ``run_sisso``.

    :func:`~sisso_lite.solvers.member_select.screen_member` on the member's pool (the rows
    with the largest bounds), or on the bounds of all rows when the pool is not enough.
    """
    excluded = np.array(mem.excluded, np.int64).reshape(-1, 4)
    k_approx = 3 * n_sis + len(excluded) + 64
    length = 2 * n_sis + len(excluded) + 32
    val, idx, valid, cut, overflow = bounds.pools
    source = (val[k], idx[k], valid[k], cut[k], bounds.k_keep)
    tables = space.tables
    common = (ms.row_start, ms.row_members, ms.code, ms.a, ms.b, ms.row_of, mem.values,
              tables.fortran, tables.lower, tables.upper, y_unit, tables.complexity, excluded,
              ms.__dict__["_name_tables"], 1.0 - 1e-8 if tables.fortran else 0.99, SCORE_TOL,
              n_sis, GUARD, _keep_size(n_sis, len(excluded)))
    while True:
        if overflow[k] or k_approx > bounds.k_keep:  # the pool is not enough: all rows
            u = bounds.full_bounds(k)
            source = (u, np.arange(len(u)), ~np.isnan(u), np.float32(-np.inf), len(u))
        state, k_approx, length, cand, picked, score, vals = screen_member(
            *source[:4], k_approx, source[4], GROWTH, length, mem.forced_all, *common)
        if state != NEED_ALL_BOUNDS:
            break
    if state == REFIT:
        return None
    mem.excluded.extend(zip(ms.code[cand[picked]].tolist(), ms.a[cand[picked]].tolist(),
                            ms.b[cand[picked]].tolist(), ms.row_of[cand[picked]].tolist(),
                            strict=True))
    return list(zip(score[picked].tolist(), ms.code[cand[picked]].tolist(),
                    ms.a[cand[picked]].tolist(), ms.b[cand[picked]].tolist(), vals[picked],
                    strict=True))


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
    for _, c, a, b, _ in chosen:
        mem.union_expr.append((c, a, b))
    if chosen:
        mem.union_vals = np.concatenate([mem.union_vals, np.array([c[4] for c in chosen]).T],
                                        axis=1)
    if keep_selected:
        mem.selected[d] = [_expression(space, ms, c, a, b) for _, c, a, b, _ in chosen]
    mem.scores[d] = np.array([c[0] for c in chosen], dtype=np.float64)
    if len(mem.union_expr) < d:
        mem.done = True
        return
    F = mem.union_vals
    found = l0_search(F, mem.y, d, n_models=int(n_models), fit_intercept=fit_intercept,
                      metric=metric, tasks=None, task_weighting=1, serial=True)
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


def _fit_members(space, ms: MaterializedSpace, state: list[_Member], bounds: _Bounds,
                 units: dict, d: int, n_sis: int, params: tuple, clock: dict,
                 lock: threading.Lock, ks: list[int]) -> None:
    """Screen and fit dimension ``d`` of the members ``ks`` (one thread's share)."""
    spent = {"screen": 0.0, "l0": 0.0}
    with _one_numba_thread():
        for k in ks:
            mem = state[k]
            t0 = time.perf_counter()
            chosen = _screen_member(space, ms, mem, bounds, k, units[k], n_sis)
            t1 = time.perf_counter()
            spent["screen"] += t1 - t0
            if chosen is None:
                mem.fallback = True
                continue
            _fit_dimension(space, ms, mem, d, chosen, *params)
            spent["l0"] += time.perf_counter() - t1
    with lock:
        for key, value in spent.items():
            clock[key] += value


def _in_threads(work, parts: list) -> None:
    """``work(part)`` for every part, each in its own Python thread (inline for one part):
    the kernels they call run without the GIL."""
    if len(parts) == 1:
        work(parts[0])
        return
    with ThreadPoolExecutor(len(parts)) as pool:
        list(pool.map(work, parts))


def _fit_group(space, ms: MaterializedSpace, state: list[_Member], n: int,
               inv_sd: np.ndarray, clock: dict, *, n_dim: int, n_sis: int, n_models: int,
               metric: str, fit_intercept: bool, keep_selected: bool) -> None:
    """Lock-step SISSO of one group of members (results stay in the member states)."""
    t0 = time.perf_counter()
    bounds = _Bounds(ms, state, n, inv_sd)
    bounds.R, units = _residual_matrix(state, range(len(state)), n, fit_intercept)
    forced = _first_dimension(ms, state, bounds, int(POOL_FACTOR * (3 * n_sis + 64)))
    clock["setup"] += time.perf_counter() - t0
    for mem, f in zip(state, forced, strict=True):
        mem.forced_all = f
    if "_name_tables" not in ms.__dict__:
        ms.__dict__["_name_tables"] = name_tables(space)
    lock = threading.Lock()
    for d in range(1, n_dim + 1):
        active = [k for k, mem in enumerate(state) if not mem.done and not mem.fallback]
        if not active:
            break
        t0 = time.perf_counter()
        if d > 1:
            bounds.R, units = _residual_matrix(state, active, n, fit_intercept)
            is_active = np.zeros(len(state), np.bool_)
            is_active[active] = True
            k_keep = int(POOL_FACTOR * (3 * n_sis + (d - 1) * n_sis + 64))
            _next_dimension(ms, bounds, is_active, k_keep)
        clock["bounds"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        with threadpool_limits(1):  # member-sized products (the L0 Gram matrix)
            n_threads = max(1, min(numba.get_num_threads(), len(active)))
            _in_threads(partial(_fit_members, space, ms, state, bounds, units, d, n_sis,
                                (n_models, metric, fit_intercept, keep_selected), clock,
                                lock), [active[t::n_threads] for t in range(n_threads)])
        clock["members"] += time.perf_counter() - t0


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
        ``bounds`` (per-dimension products), ``members`` (the per-member steps, one Python
        thread per numba thread) and, summed over those threads, ``screen`` (exact SIS)
        and ``l0``.

    Returns
    -------
    list of SissoResult or None
        Identical to the per-member ``run_sisso`` results.
    """
    from sisso_lite.features.materialize import last_rung, materialized_bytes
    from sisso_lite.solvers.driver import run_sisso

    t0 = time.perf_counter()
    enumeration = last_rung(space)
    if materialized_bytes(space, min(len(members), GROUP), enumeration) > max_bytes:
        return None
    clock = {"materialize": 0.0, "setup": 0.0, "bounds": 0.0, "members": 0.0, "screen": 0.0,
             "l0": 0.0}
    y_all = np.asarray(y, dtype=np.float64).ravel()
    metric = str(metric).lower()
    ms = materialize(space, enumeration)
    clock["materialize"] = time.perf_counter() - t0
    n = space.n_samples_
    state = [_Member(space, np.asarray(r, np.int64).ravel(),
                     None if m is None else np.asarray(m, bool), y_all) for r, m in members]
    # members in groups: the (group x candidates) buffers are allocated once and reused
    # (first-touch page faults of large fresh arrays are expensive)
    inv_sd = np.empty((min(len(state), GROUP), len(ms.z)), np.float32)
    for lo in range(0, len(state), GROUP):
        group = state[lo : lo + GROUP]
        _fit_group(space, ms, group, n, inv_sd[: len(group)], clock,
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
