"""Fused last-rung kernel: generate, validate and Pearson-score without storing anything.

Same candidates, same rules and the same validity count as
:func:`.generate.generate_rung` (and thus Fortran SISSO); the loops run over precomputed
partner lists (older features grouped by the complexity budget they fit), and a cheap
one-pass bound rejects most candidates before the exact two-pass score is computed.
Only a bounded buffer of the best candidates is kept.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .generate import (
    MAX_PER_PAIR,
    binary_candidates,
    fast_status,
    feature_sums,
    operator_bits,
    partner_range,
    unary_candidates,
)
from .kernels import INVALID, SELECTABLE, apply_op_rows, pearson_score_one

BOUND_MARGIN = 1e-9  # the one-pass bound is accurate to ~1e-13 when it is used


def partner_lists(
    complexity: np.ndarray, allowed: np.ndarray, lo: int, hi: int, max_budget: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices in ``[lo, hi)`` that are allowed, grouped by complexity budget.

    Returns ``(flat, offsets)``: list ``b`` = ``flat[offsets[b]:offsets[b + 1]]`` holds the
    indices with ``complexity <= b`` in increasing order.
    """
    idx = np.arange(lo, hi)
    idx = idx[allowed[lo:hi]]
    lists = [idx[complexity[idx] <= b] for b in range(max_budget + 1)]
    offsets = np.zeros(max_budget + 2, dtype=np.int64)
    offsets[1:] = np.cumsum([len(x) for x in lists])
    flat = np.concatenate(lists).astype(np.int64) if lists else np.empty(0, np.int64)
    return flat, offsets


@njit(cache=True)
def _compact(top_score, top_code, top_a, top_b, keep):
    order = np.argsort(-top_score)[:keep]
    top_score[:keep] = top_score[order].copy()
    top_code[:keep] = top_code[order].copy()
    top_a[:keep] = top_a[order].copy()
    top_b[:keep] = top_b[order].copy()
    return top_score[keep - 1]


@njit(cache=True, inline="always")
def _row(x, start, shift):
    """Row of feature ``x`` in a values window (see ``storage.StoredValues``)."""
    return x if x < start else x - shift


@njit(cache=True)
def screen_last_rung_pearson(
    tier_start, tier_stop, opmask, op, arg_a, arg_b, complexity, max_complexity, right_first,
    unit_id, nonzero, positive, dimensionless, allowed, values, start, shift, fortran, lower,
    upper, older_flat, older_off, tier_flat, tier_off, y_unit, task_index, n_tasks, weights,
    keep, threshold,
):  # fmt: skip
    """Score the last-rung candidates of tier features ``[tier_start, tier_stop)``.

    Feature ``x`` is row ``x`` of ``values`` below ``start`` and row ``x - shift`` above
    (a window of virtual rows, ``storage.StoredValues``; ``shift = 0``: all rows stored).
    Candidates scoring below ``threshold`` (e.g. the ``keep``-th best score of earlier
    blocks; ``-inf``: none) are not kept.
    Returns ``(n_valid, n_top, score, code, a, b)``: ``n_valid`` counts the valid candidates
    (Fortran's feature count); the top arrays hold the ``n_top`` best selectable candidates
    (unsorted, at least the best ``keep``). Partner lists are those of the whole tier.
    """
    n_samples = values.shape[1]
    capacity = 2 * keep
    top_score = np.full(capacity, -np.inf)
    top_code = np.empty(capacity, np.int64)
    top_a = np.empty(capacity, np.int64)
    top_b = np.empty(capacity, np.int64)
    n_top = 0
    buf = np.empty(n_samples)
    cand_code = np.empty(MAX_PER_PAIR, np.int64)
    cand_x = np.empty(MAX_PER_PAIR, np.int64)
    cand_y = np.empty(MAX_PER_PAIR, np.int64)
    real_cbrt = not fortran
    single = n_tasks == 1
    bits = operator_bits(opmask)
    n_valid = 0
    for i in range(tier_start, tier_stop):
        if not allowed[i]:
            continue
        budget = max_complexity - 1 - complexity[i]
        if budget < 0:
            continue
        # unary operators of i, then partners: older features, then newer ones of the tier
        nc = unary_candidates(
            bits, fortran, i, op, nonzero, positive, dimensionless, cand_code, cand_x, cand_y
        )  # fmt: skip
        o_lo, n_older, t_lo, n_tier = partner_range(older_off, tier_flat, tier_off, budget, i)
        for p in range(-1, n_older + n_tier):
            if p >= 0:
                j = older_flat[o_lo + p] if p < n_older else tier_flat[t_lo + p - n_older]
                nc = binary_candidates(
                    bits, True, i, j, op, arg_a, arg_b, right_first, unit_id, nonzero,
                    cand_code, cand_x, cand_y,
                )  # fmt: skip
            for k in range(nc):
                code = cand_code[k]
                x = cand_x[k]
                y = cand_y[k]
                rx = _row(x, start, shift)
                apply_op_rows(code, values, rx, _row(y, start, shift) if y >= 0 else rx, buf,
                              real_cbrt)  # fmt: skip
                s1, s2, sy = feature_sums(buf, y_unit)
                status = fast_status(buf, s1, s2, fortran, lower, upper)
                if status == INVALID:
                    continue
                n_valid += 1
                if status != SELECTABLE:
                    continue
                if single and threshold > -np.inf:
                    ss = s2 - s1 * s1 / n_samples
                    if ss > 1e-6 * s2 and abs(sy) / math.sqrt(ss) < threshold - BOUND_MARGIN:
                        continue
                score = pearson_score_one(buf, y_unit, task_index, n_tasks, weights)
                if not score >= threshold:  # also rejects NaN
                    continue
                top_score[n_top] = score
                top_code[n_top] = code
                top_a[n_top] = x
                top_b[n_top] = y
                n_top += 1
                if n_top == capacity:
                    threshold = _compact(top_score, top_code, top_a, top_b, keep)
                    n_top = keep
    return n_valid, n_top, top_score, top_code, top_a, top_b


@njit(cache=True, parallel=True)
def screen_last_rung_chunks(
    bounds, opmask, op, arg_a, arg_b, complexity, max_complexity, right_first, unit_id,
    nonzero, positive, dimensionless, allowed, values, start, shift, fortran, lower, upper,
    older_flat, older_off, tier_flat, tier_off, y_unit, task_index, n_tasks, weights, keep,
    threshold,
):  # fmt: skip
    """:func:`screen_last_rung_pearson` over chunks ``bounds[c]:bounds[c+1]`` in parallel.

    Returns per-chunk ``n_valid``, ``n_top`` and ``(n_chunks, keep)`` top arrays: a chunk
    that found more than ``keep`` candidates keeps its ``keep`` best (by score, stable
    on ties, see :func:`truncate_top`), which is all the global top ``keep`` can use.
    """
    n_chunks = bounds.shape[0] - 1
    n_valid = np.zeros(n_chunks, np.int64)
    n_top = np.zeros(n_chunks, np.int64)
    score = np.full((n_chunks, keep), -np.inf)
    code = np.zeros((n_chunks, keep), np.int64)
    arg_x = np.zeros((n_chunks, keep), np.int64)
    arg_y = np.zeros((n_chunks, keep), np.int64)
    for c in prange(n_chunks):
        nv, nt, sc, co, xa, yb = screen_last_rung_pearson(
            bounds[c], bounds[c + 1], opmask, op, arg_a, arg_b, complexity, max_complexity,
            right_first, unit_id, nonzero, positive, dimensionless, allowed, values, start,
            shift, fortran, lower, upper, older_flat, older_off, tier_flat, tier_off, y_unit,
            task_index, n_tasks, weights, keep, threshold,
        )  # fmt: skip
        nt = truncate_top(sc, co, xa, yb, nt, keep)
        n_valid[c] = nv
        n_top[c] = nt
        score[c, :nt] = sc[:nt]
        code[c, :nt] = co[:nt]
        arg_x[c, :nt] = xa[:nt]
        arg_y[c, :nt] = yb[:nt]
    return n_valid, n_top, score, code, arg_x, arg_y


@njit(cache=True)
def truncate_top(score, code, arg_a, arg_b, n, keep):
    """Keep the ``keep`` best of the first ``n`` entries in place; returns the new count.

    When ``n > keep`` the entries are reordered by decreasing score, ties in their current
    order (stable), and cut at ``keep``. A global stable sort of chunk-major concatenations
    then picks the same top ``keep`` (same order) as without the cut: every entry cut
    ranks after ``keep`` entries of its own chunk. ``n <= keep`` leaves everything as is.
    """
    if n <= keep:
        return n
    order = np.argsort(-score[:n], kind="mergesort")[:keep]
    score[:keep] = score[order].copy()
    code[:keep] = code[order].copy()
    arg_a[:keep] = arg_a[order].copy()
    arg_b[:keep] = arg_b[order].copy()
    return keep


def truncate_top_numpy(
    score: np.ndarray, code: np.ndarray, arg_a: np.ndarray, arg_b: np.ndarray, n: int,
    keep: int,
) -> int:  # fmt: skip
    """NumPy reference of :func:`truncate_top`."""
    if n <= keep:
        return n
    order = np.argsort(-score[:n], kind="stable")[:keep]
    for arr in (score, code, arg_a, arg_b):
        arr[:keep] = arr[order]
    return keep


def chunk_bounds(
    complexity: np.ndarray, max_complexity: int, older_off: np.ndarray, lo: int, hi: int,
    n_chunks: int,
) -> np.ndarray:  # fmt: skip
    """Split ``[lo, hi)`` into chunks of about equal work (partners per tier feature)."""
    budget = np.clip(max_complexity - 1 - complexity[lo:hi], -1, len(older_off) - 2)
    partners = np.diff(older_off)
    work = np.where(budget >= 0, partners[np.maximum(budget, 0)] + (hi - lo) // 4 + 12, 1)
    cumulative = np.cumsum(work, dtype=np.float64)
    targets = cumulative[-1] * np.arange(1, n_chunks) / n_chunks if len(work) else []
    cuts = lo + np.searchsorted(cumulative, targets)
    return np.unique(np.r_[lo, cuts, hi]).astype(np.int64)
