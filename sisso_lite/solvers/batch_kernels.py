"""Numba kernels of the batched ensemble screen (:mod:`sisso_lite.solvers.batch`).

Rows are ensemble members, columns candidates. Every kernel has a NumPy reference
(``*_numpy``) that the tests compare against.

* :func:`inverse_sd` -- ``1 / sqrt(S_xx - S_x^2 / n_k)`` from float32 weighted sums.
* :func:`upper_bounds` -- rigorous upper bound of a member's exact |Pearson r|.
* :func:`excluded_block` -- candidates a member cannot see (dropped primary features).
* :func:`first_dimension_block` / :func:`next_dimension_block` -- the same two formulas
  fused, streaming every member's bounds into a *pool* that ends holding exactly the
  candidates whose bound reaches the member's ``k``-th largest bound (:func:`pool_numpy`),
  so the ``members x candidates`` bound matrix is never stored.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from sisso_lite.features.kernels import apply_op_rows, feature_status_nb, pearson_score_one
from sisso_lite.features.row_classes import uses_bits

__all__ = [
    "exact_scores", "excluded_block", "first_dimension_block", "inverse_sd",
    "inverse_sd_numpy", "merge_pools", "new_pools", "next_dimension_block", "pool_candidates",
    "pool_numpy", "upper_bounds", "upper_bounds_numpy", "uses_bits",
]  # fmt: skip


@njit(cache=True, inline="always")
def _bound(sxr, inv, wmax, sqrt_wmax, gamma):
    """Upper bound of the exact score from ``|S_xr| inv`` (see :func:`upper_bounds`);
    ``sqrt(c) = sqrt(wmax) inv`` needs no square root per candidate."""
    s = abs(sxr) * inv
    cond = wmax * inv * inv
    return s * (1.0 + 1e-6) + 2.0 * gamma * (sqrt_wmax * inv + 1.5 * s * cond) + 1e-12


@njit(cache=True)
def upper_bounds(sxr, inv_sd, wmax, gamma, out):
    """Upper bound of the exact |Pearson r| from float32 sums (rows: members).

    ``score = |sxr| inv_sd``; its error is at most ``gamma (sqrt(c) + 1.5 score c)`` with
    ``c = wmax inv_sd^2`` bounding the conditioning ``S_xx / var`` (unit-norm rows). The
    bound doubles that and adds relative/absolute slack for float32 storage. NaN stays NaN.
    """
    m, c = sxr.shape
    for k in range(m):
        sw = np.sqrt(wmax[k])
        for i in range(c):
            out[k, i] = _bound(np.float64(sxr[k, i]), np.float64(inv_sd[k, i]), wmax[k], sw,
                               gamma)


def upper_bounds_numpy(sxr: np.ndarray, inv_sd: np.ndarray, wmax: np.ndarray,
                       gamma: float) -> np.ndarray:
    """NumPy reference of :func:`upper_bounds` (float64 result)."""
    inv = inv_sd.astype(np.float64)
    s = np.abs(sxr.astype(np.float64)) * inv
    cond = wmax[:, None] * inv * inv
    return (s * (1.0 + 1e-6) + 2.0 * gamma * (np.sqrt(wmax)[:, None] * inv + 1.5 * s * cond)
            + 1e-12)


@njit(cache=True, inline="always")
def _inverse_sd_one(sx, sxx, wsum, gamma):
    """``(1 / sqrt(var), ill)``; NaN and ill when rounding could dominate the variance.

    ``var`` in float64 (it cancels), ``1 / sqrt`` in float32: the value is stored in float32
    anyway, and its error (<= 1.5 float32 ulp) is covered by the bound's 1e-6 slack.
    """
    var = sxx - sx * sx / wsum
    if var > 12.0 * gamma * sxx:
        return np.float32(1.0) / np.sqrt(np.float32(var)), False
    return np.float32(np.nan), True


@njit(cache=True)
def inverse_sd(sx, sxx, wsum, gamma, excluded, out_inv, out_ill):
    """``1 / sqrt(S_xx - S_x^2 / n_k)`` per member (rows) and candidate (columns).

    NaN where ``excluded`` or where float32 rounding could dominate the variance
    (``var <= 12 gamma S_xx``: ill-conditioned, flagged in ``out_ill`` and scored exactly).
    """
    m, c = sx.shape
    for k in range(m):
        for i in range(c):
            if excluded[k, i]:
                out_inv[k, i] = np.nan
                out_ill[k, i] = False
                continue
            inv, ill = _inverse_sd_one(np.float64(sx[k, i]), np.float64(sxx[k, i]), wsum[k],
                                       gamma)
            out_inv[k, i] = inv
            out_ill[k, i] = ill


def inverse_sd_numpy(sx: np.ndarray, sxx: np.ndarray, wsum: np.ndarray, gamma: float,
                     excluded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NumPy reference of :func:`inverse_sd`."""
    a, q = sx.astype(np.float64), sxx.astype(np.float64)
    var = q - a * a / wsum[:, None]
    good = var > 12.0 * gamma * q
    with np.errstate(divide="ignore", invalid="ignore"):
        inv32 = np.float32(1.0) / np.sqrt(var.astype(np.float32))
        inv = np.where(good & ~excluded, inv32.astype(np.float64), np.nan)
    return inv, ~good & ~excluded


@njit(cache=True, inline="always")
def _visible_row(bits, drop, usable, k, seen):
    """``seen[i]``: candidate ``i`` is usable and uses no primary feature member ``k`` drops."""
    for i in range(seen.shape[0]):
        seen[i] = usable[i]
    for w in range(bits.shape[0]):
        d = drop[w, k]
        for i in range(seen.shape[0]):
            seen[i] &= (bits[w, i] & d) == 0


@njit(cache=True, parallel=True)
def excluded_block(bits, drop, usable, out):
    """``out[k, i]``: candidate ``i`` uses a primary feature member ``k`` drops, or is unusable
    (``bits``: :func:`uses_bits` of the candidates, ``drop``: of the members' dropped sets)."""
    m, c = out.shape
    for k in prange(m):
        seen = np.empty(c, np.bool_)
        _visible_row(bits, drop, usable, k, seen)
        for i in range(c):
            out[k, i] = not seen[i]


# ------------------------------------------------------------------ streamed top bounds
@njit(cache=True)
def _compact(pool_val, pool_idx, pool_n, cut, k, k_keep):
    """Raise member ``k``'s cut to its ``k_keep``-th largest pooled bound; drop the rest.

    Returns False when ties leave less than ``k_keep`` free slots (the caller marks an
    overflow and the member falls back to its full bound vector), so compactions stay rare.
    """
    size = pool_n[k]
    new_cut = np.partition(pool_val[k, :size], size - k_keep)[size - k_keep]
    kept = 0
    for j in range(size):
        if pool_val[k, j] >= new_cut:
            pool_val[k, kept] = pool_val[k, j]
            pool_idx[k, kept] = pool_idx[k, j]
            kept += 1
    pool_n[k] = kept
    cut[k] = new_cut
    return kept + k_keep <= pool_val.shape[1]


@njit(cache=True)
def _push_row(bound, offset, k, pool_val, pool_idx, pool_n, cut, k_keep, overflow):
    """Add the candidates ``offset + i`` whose ``bound[i]`` reaches member ``k``'s cut to its
    pool (NaN never enters), compacting the pool when it is full."""
    if overflow[k]:
        return
    capacity = pool_val.shape[1]
    n, ck = pool_n[k], cut[k]
    above = np.empty(bound.shape[0], np.int64)
    n_above = 0
    for i in range(bound.shape[0]):  # branch-free pre-filter on the cut at entry
        above[n_above] = i
        n_above += bound[i] >= ck
    for j in range(n_above):
        i = above[j]
        value = bound[i]
        if value >= ck:
            if n == capacity:
                pool_n[k] = n
                if not _compact(pool_val, pool_idx, pool_n, cut, k, k_keep):
                    overflow[k] = True
                    return
                n, ck = pool_n[k], cut[k]
                if not value >= ck:
                    continue
            pool_val[k, n] = value
            pool_idx[k, n] = offset + i
            n += 1
    pool_n[k] = n


@njit(cache=True, nogil=True, error_model="numpy")
def first_dimension_block(sx, sxx, sxr, wsum, wmax, gamma, bits, drop, usable, hidden_pos,
                          hidden_col, hidden, offset, inv_out, ill_out, pool_val, pool_idx,
                          pool_n, cut, k_keep, overflow):  # fmt: skip
    """Candidates ``offset ..`` of the first dimension, for every member (no GIL: the caller
    runs chunks in threads, each with its own pools).

    Member ``k`` cannot see candidate ``i`` when it is excluded (:func:`excluded_block` on
    ``bits``, ``drop``, ``usable`` of the chunk) or hidden (``hidden[k, hidden_col[j]]``
    for the chunk positions ``hidden_pos[j]``). Writes ``inv_out[k, offset + i]`` (float32
    :func:`inverse_sd`; NaN when excluded, hidden or ill-conditioned) and ``ill_out[k, i]``,
    and pushes the :func:`upper_bounds` value of the other candidates into member ``k``'s
    pool.
    """
    m, c = sx.shape
    for k in range(m):
        bound = np.empty(c, np.float32)
        seen = np.empty(c, np.bool_)
        _visible_row(bits, drop, usable, k, seen)
        w, wm = wsum[k], wmax[k]
        sw = np.sqrt(wm)
        # row views: the loop below vectorises (2-D indexing inside it does not)
        ax, aq, ar = sx[k], sxx[k], sxr[k]
        inv_row, ill_row = inv_out[k, offset : offset + c], ill_out[k]
        for i in range(c):  # branch-free body
            a = np.float64(ax[i])
            q = np.float64(aq[i])
            var = q - a * a / w
            good = var > 12.0 * gamma * q
            inv32 = np.float32(1.0) / np.sqrt(np.float32(var))  # as _inverse_sd_one
            inv32 = inv32 if good and seen[i] else np.float32(np.nan)
            inv_row[i] = inv32
            ill_row[i] = seen[i] and not good
            bound[i] = _bound(np.float64(ar[i]), np.float64(inv32), wm, sw, gamma)
        for j in range(hidden_pos.shape[0]):
            if hidden[k, hidden_col[j]]:
                i = hidden_pos[j]
                inv_out[k, offset + i] = np.nan
                ill_out[k, i] = False
                bound[i] = np.nan
        _push_row(bound, offset, k, pool_val, pool_idx, pool_n, cut, k_keep, overflow)


@njit(cache=True, nogil=True, error_model="numpy")
def next_dimension_block(sxr, inv_sd, wmax, gamma, active, offset, pool_val, pool_idx,
                         pool_n, cut, k_keep, overflow):  # fmt: skip
    """Bounds of candidates ``offset ..`` for a later dimension (``inv_sd``: all candidates)."""
    m, c = sxr.shape
    for k in range(m):
        if not active[k]:
            continue
        bound = np.empty(c, np.float32)
        wm = wmax[k]
        sw = np.sqrt(wm)
        ar, inv_row = sxr[k], inv_sd[k, offset : offset + c]  # row views: vectorised loop
        for i in range(c):
            bound[i] = _bound(np.float64(ar[i]), np.float64(inv_row[i]), wm, sw, gamma)
        _push_row(bound, offset, k, pool_val, pool_idx, pool_n, cut, k_keep, overflow)


def new_pools(n_members: int, k_keep: int) -> tuple[np.ndarray, ...]:
    """Empty pools (values, indices, sizes, cuts, overflow flags) holding up to 3 k_keep."""
    size = 3 * k_keep
    return (np.empty((n_members, size), np.float32), np.empty((n_members, size), np.int64),
            np.zeros(n_members, np.int64), np.full(n_members, -np.inf, np.float32),
            np.zeros(n_members, np.bool_))


def merge_pools(pools: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """One pool per member from pools filled over disjoint candidate ranges:
    ``(values, indices, valid, cut, overflow)`` with ``valid`` marking the filled slots and
    ``cut`` the largest of the cuts (every candidate whose bound reaches it is pooled)."""
    val = np.concatenate([p[0] for p in pools], axis=1)
    idx = np.concatenate([p[1] for p in pools], axis=1)
    valid = np.concatenate([np.arange(p[0].shape[1])[None, :] < p[2][:, None] for p in pools],
                           axis=1)
    cut = np.max(np.stack([p[3] for p in pools]), axis=0)
    overflow = np.any(np.stack([p[4] for p in pools]), axis=0)
    return val, idx, valid, cut, overflow


def pool_numpy(bounds: np.ndarray, k_keep: int) -> np.ndarray:
    """Reference of a final pool: indices whose bound reaches the ``k_keep``-th largest
    (all non-NaN indices when there are fewer)."""
    finite = np.flatnonzero(~np.isnan(bounds))
    if len(finite) <= k_keep:
        return finite
    thr = np.partition(bounds[finite], len(finite) - k_keep)[len(finite) - k_keep]
    return np.flatnonzero(bounds >= thr)


# ------------------------------------------------------------------ one member, exactly
@njit(cache=True, nogil=True)
def exact_scores(code, a, b, values, fortran, lower, upper, y_unit, out_vals, out_status,
                 out_score):  # fmt: skip
    """Values (``materialize._values_of``), status (``generate.status_of_rows``) and Pearson
    score (``kernels.pearson_scores_nb``, one task) of candidates ``(code, a, b)`` on the
    rows of ``values``, in one pass without the GIL (the same arithmetic as those three)."""
    real_cbrt = not fortran
    task = np.zeros(values.shape[1], np.int64)
    ones = np.ones(1)
    for k in range(code.shape[0]):
        if code[k] < 0:
            out_vals[k] = values[a[k]]
        else:
            apply_op_rows(code[k], values, a[k], b[k] if b[k] >= 0 else a[k], out_vals[k],
                          real_cbrt)
        out_status[k] = feature_status_nb(out_vals[k], fortran, lower, upper)
        out_score[k] = pearson_score_one(out_vals[k], y_unit, task, 1, ones)


@njit(cache=True, nogil=True)
def pool_candidates(val, idx, valid, k_approx, cut, row_start, row_members, fixed):
    """``(thr, candidates)`` of one member's pool (rows of the materialised space with their
    bounds ``val`` where ``valid``): ``thr`` is the ``k_approx``-th largest bound (``cut`` when
    the pool holds fewer); the candidates of the rows whose bound reaches ``thr``, with the
    candidates ``fixed``, sorted and unique."""
    vals = val[valid]
    rows = idx[valid]
    if vals.shape[0] <= k_approx:
        thr = np.float64(cut)
    else:
        thr = np.float64(np.partition(vals, vals.shape[0] - k_approx)[vals.shape[0] - k_approx])
    n = fixed.shape[0]
    for j in range(rows.shape[0]):
        if vals[j] >= thr:
            n += row_start[rows[j] + 1] - row_start[rows[j]]
    out = np.empty(n, np.int64)
    out[: fixed.shape[0]] = fixed
    n = fixed.shape[0]
    for j in range(rows.shape[0]):
        if vals[j] >= thr:
            for p in range(row_start[rows[j]], row_start[rows[j] + 1]):
                out[n] = row_members[p]
                n += 1
    return thr, np.unique(out)
