"""Exact SIS selection step: duplicate removal and tie-aware ordering (Numba + reference).

Input: candidates sorted by score (best first, exclusions already removed), their values
centred and scaled to unit norm, and the integer rank of their "simplicity" key
``(complexity, len(name), name)`` (equal keys share a rank). Rules (Fortran SISSO v3.5
``update_select`` / ``dup_scheck('selected')``):

* duplicates: a candidate whose score is within ``tol`` of a kept one and whose values
  correlate with it with ``|r| >= corr_threshold`` is merged into the *last* such kept
  candidate; the simpler of the two (lower rank) stays in that slot;
* ordering: repeatedly take, among the remaining candidates whose score is within ``tol``
  of the best remaining one, the simplest (first one on equal ranks).

:func:`select_indices` is the Numba kernel used by ``screening._select``;
:func:`select_indices_reference` is the original Python/NumPy loop it must agree with.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit

__all__ = [
    "key_ranks", "select_indices", "select_indices_reference", "tie_ranks", "unit_rows",
    "unit_rows_nb",
]  # fmt: skip


@njit(cache=True)
def select_indices(score, unit, rank, corr_threshold, tol, n_sis):
    """Positions (into ``score``) of the selected candidates, in selection order.

    Parameters
    ----------
    score : float64 (m,), sorted descending
    unit : float64 (m, n), centred unit-norm values (zero rows allowed)
    rank : int64 (m,), rank of the simplicity key (lower = simpler)
    corr_threshold, tol : float
    n_sis : int

    Returns
    -------
    int64 (<= n_sis,)
    """
    m, n = unit.shape
    kept = np.empty(m, np.int64)
    n_kept = 0
    low = 0
    for k in range(m):
        s = score[k]
        while low < n_kept and score[kept[low]] - s > tol:
            low += 1
        hit = -1
        for p in range(n_kept - 1, low - 1, -1):  # the last kept candidate that correlates
            j = kept[p]
            acc = 0.0
            for t in range(n):
                acc += unit[j, t] * unit[k, t]
            if abs(acc) >= corr_threshold:
                hit = p
                break
        if hit >= 0:
            if rank[k] < rank[kept[hit]]:
                kept[hit] = k
            continue
        kept[n_kept] = k
        n_kept += 1
    alive = kept[:n_kept].copy()
    start = 0
    chosen = np.empty(min(n_sis, n_kept), np.int64)
    n_chosen = 0
    while start < n_kept and n_chosen < n_sis:
        top = score[alive[start]]
        end = start + 1
        while end < n_kept and top - score[alive[end]] <= tol:
            end += 1
        pick = start
        for p in range(start + 1, end):
            if rank[alive[p]] < rank[alive[pick]]:
                pick = p
        chosen[n_chosen] = alive[pick]
        n_chosen += 1
        for p in range(pick, start, -1):  # pop: shift the prefix right by one
            alive[p] = alive[p - 1]
        start += 1
    return chosen[:n_chosen]


def select_indices_reference(
    score: np.ndarray, unit: np.ndarray, rank: np.ndarray, corr_threshold: float, tol: float,
    n_sis: int,
) -> np.ndarray:  # fmt: skip
    """Python/NumPy reference of :func:`select_indices` (the original selection loop)."""
    kept: list[int] = []
    low = 0
    for k in range(len(score)):
        while low < len(kept) and score[kept[low]] - score[k] > tol:
            low += 1
        if low < len(kept):
            window = np.array(kept[low:])
            corr = np.abs(unit[window] @ unit[k])
            hits = np.flatnonzero(corr >= corr_threshold)
            if hits.size:
                other = low + int(hits[-1])
                if rank[k] < rank[kept[other]]:
                    kept[other] = k
                continue
        kept.append(k)
    remaining = kept
    chosen: list[int] = []
    while remaining and len(chosen) < n_sis:
        top = score[remaining[0]]
        end = 1
        while end < len(remaining) and top - score[remaining[end]] <= tol:
            end += 1
        pick = min(range(end), key=lambda p: rank[remaining[p]])
        chosen.append(remaining.pop(pick))
    return np.array(chosen, dtype=np.int64)


def key_ranks(keys: list[tuple]) -> np.ndarray:
    """Dense ranks of sortable keys (equal keys share a rank)."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    rank = np.empty(len(keys), np.int64)
    r = -1
    prev = None
    for pos, k in enumerate(order):
        if pos == 0 or keys[k] != prev:
            r += 1
            prev = keys[k]
        rank[k] = r
    return rank


def tie_ranks(score: np.ndarray, tol: float, key_of: Callable[[int], tuple]) -> np.ndarray:
    """Ranks for :func:`select_indices` with keys computed only where scores tie.

    :func:`select_indices` compares the ranks of two candidates only when their scores
    differ by at most ``tol`` (duplicate merge and tie ordering), i.e. inside a run of the
    descending ``score`` whose consecutive gaps are all ``<= tol``. Each run gets the dense
    :func:`key_ranks` of its keys ``key_of(i)``; a candidate in no run gets 0 (never
    compared). Same selection as ranks of all keys, without building every key.
    """
    rank = np.zeros(len(score), np.int64)
    if len(score) < 2:
        return rank
    linked = (score[:-1] - score[1:]) <= tol
    if not linked.any():
        return rank
    tied = np.flatnonzero(np.r_[linked, False] | np.r_[False, linked])
    run = np.cumsum(np.r_[True, ~linked])[tied]  # run id of every tied position
    keys = [(r, key_of(i)) for r, i in zip(run.tolist(), tied.tolist(), strict=True)]
    order = sorted(range(len(keys)), key=keys.__getitem__)  # one sort for all runs
    r, prev = -1, None
    for pos in order:
        if keys[pos][0] != (prev[0] if prev else None):
            r = -1  # dense ranks restart in every run
        if keys[pos] != prev:
            r += 1
            prev = keys[pos]
        rank[tied[pos]] = r
    return rank


def unit_rows(vals: np.ndarray, chunk: int = 4096, out: np.ndarray | None = None
              ) -> np.ndarray:  # fmt: skip
    """Rows of ``vals`` centred and scaled to unit norm (0 where the norm is 0 or NaN).

    Same arithmetic as ``c = v - v.mean(1); c / np.linalg.norm(c, axis=1)`` with one
    output array (the norm's temporary is limited to ``chunk`` rows); ``out=vals``
    normalises in place.
    """
    out = np.subtract(vals, vals.mean(axis=1, keepdims=True), out=out)
    for lo in range(0, out.shape[0], chunk):
        block = out[lo : lo + chunk]
        norms = np.linalg.norm(block, axis=1)
        good = norms > 0
        np.divide(block, norms[:, None], out=block, where=good[:, None])
        block[~good] = 0.0
    return out


@njit(cache=True)
def unit_rows_nb(vals, out):
    """Numba kernel of :func:`unit_rows` (its reference) into ``out`` (may be ``vals``):
    sequential sums, 0 where the norm is 0 or NaN. Used by every selection, so the
    per-member and the batched ensemble paths normalise with the same arithmetic."""
    m, n = vals.shape
    for k in range(m):
        total = 0.0
        for t in range(n):
            total += vals[k, t]
        mean = total / n
        ss = 0.0
        for t in range(n):
            c = vals[k, t] - mean
            out[k, t] = c
            ss += c * c
        norm = np.sqrt(ss)
        if norm > 0:
            for t in range(n):
                out[k, t] /= norm
        else:
            out[k, :] = 0.0
    return out
