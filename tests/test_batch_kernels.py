"""Streamed bound kernels of the batched ensemble screen against their NumPy references."""

from __future__ import annotations

import numpy as np
import pytest

from sisso_lite.solvers.batch_kernels import (
    first_dimension_block,
    inverse_sd_numpy,
    merge_pools,
    new_pools,
    next_dimension_block,
    pool_numpy,
    upper_bounds_numpy,
    uses_bits,
)

GAMMA = 1e-5


def _sums(rng, m, c):
    sx = rng.normal(size=(m, c)).astype(np.float32)
    sxx = (sx**2 + rng.uniform(0.2, 2.0, size=(m, c))).astype(np.float32)
    sxx[:, :7] = sx[:, :7] ** 2  # ill-conditioned
    sxr = rng.normal(size=(m, c)).astype(np.float32)
    return sx, sxx, sxr


def _pooled(pools, k, k_approx):
    """The candidate set a member's screen takes from merged pools (as batch.py does)."""
    val, idx, valid, cut, overflow = pools
    assert not overflow[k]
    v, i = val[k, valid[k]], idx[k, valid[k]]
    if len(v) <= k_approx:
        return np.sort(i[v >= cut[k]])
    thr = np.partition(v, len(v) - k_approx)[len(v) - k_approx]
    return np.sort(i[v >= thr])


@pytest.mark.parametrize("n_chunks", [1, 3])
@pytest.mark.parametrize("k_keep", [5, 40, 5000])
def test_first_dimension_block_matches_numpy(n_chunks, k_keep):
    rng = np.random.default_rng(k_keep + n_chunks)
    m, c, n_primary = 4, 900, 9
    sx, sxx, sxr = _sums(rng, m, c)
    wsum, wmax = rng.uniform(20, 40, m), rng.uniform(1, 4, m)
    uses = rng.random((c, n_primary)) < 0.15
    dropped = rng.random((m, n_primary)) < 0.2
    usable = rng.random(c) < 0.9
    special = np.sort(rng.choice(c, 30, replace=False))
    hidden = rng.random((m, 30)) < 0.5
    excluded = ((uses.astype(float) @ dropped.T.astype(float)).T > 0) | ~usable[None, :]
    excluded[:, special] |= hidden
    inv_ref, ill_ref = inverse_sd_numpy(sx, sxx, wsum, GAMMA, excluded)
    bound_ref = upper_bounds_numpy(sxr, inv_ref.astype(np.float32), wmax, GAMMA)
    bound_ref = bound_ref.astype(np.float32)

    inv = np.empty((m, c), np.float32)
    bits, drop = uses_bits(uses), uses_bits(dropped)
    edges = np.linspace(0, c, n_chunks + 1).astype(int)
    pools, ill = [], np.empty((m, c), bool)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        p = new_pools(m, k_keep)
        s_lo, s_hi = np.searchsorted(special, [lo, hi])
        block_ill = np.empty((m, hi - lo), bool)
        first_dimension_block(sx[:, lo:hi], sxx[:, lo:hi], sxr[:, lo:hi], wsum, wmax, GAMMA,
                              bits[:, lo:hi], drop, usable[lo:hi], special[s_lo:s_hi] - lo,
                              np.arange(s_lo, s_hi), hidden, lo, inv, block_ill, *p[:4],
                              k_keep, p[4])
        ill[:, lo:hi] = block_ill
        pools.append(p)
    np.testing.assert_allclose(inv, inv_ref, rtol=1e-6)
    np.testing.assert_array_equal(ill, ill_ref)
    merged = merge_pools(pools)
    for k in range(m):
        for k_approx in {min(k_keep, 5), k_keep}:
            np.testing.assert_array_equal(_pooled(merged, k, k_approx),
                                          pool_numpy(bound_ref[k], k_approx))


def test_next_dimension_block_and_overflow_on_ties():
    rng = np.random.default_rng(1)
    m, c, k_keep = 3, 2000, 20
    inv = rng.uniform(0.5, 2.0, size=(m, c)).astype(np.float32)
    inv[:, ::10] = np.nan  # not approximable
    sxr = rng.normal(size=(m, c)).astype(np.float32)
    sxr[2] = 0.5  # member 2: every bound tied with many others
    inv[2] = 1.0
    wmax = np.full(m, 2.0)
    active = np.array([True, True, True])
    p = new_pools(m, k_keep)
    next_dimension_block(sxr, inv, wmax, GAMMA, active, 0, *p[:4], k_keep, p[4])
    merged = merge_pools([p])
    ref = upper_bounds_numpy(sxr, inv, wmax, GAMMA).astype(np.float32)
    for k in range(2):
        np.testing.assert_array_equal(_pooled(merged, k, k_keep), pool_numpy(ref[k], k_keep))
    assert merged[4].tolist() == [False, False, True]  # ties: the caller uses full bounds
    inactive = new_pools(m, k_keep)
    next_dimension_block(sxr, inv, wmax, GAMMA, np.zeros(m, bool), 0, *inactive[:4], k_keep,
                         inactive[4])
    assert inactive[2].sum() == 0


def test_pool_candidates_matches_numpy():
    """Rows above the k-th largest pooled bound, expanded to their candidates, with the
    fixed ones; the pool's cut when it holds fewer than k."""
    from sisso_lite.solvers.batch_kernels import pool_candidates

    rng = np.random.default_rng(3)
    n_rows = 500
    counts = rng.integers(1, 4, n_rows)
    row_start = np.r_[0, np.cumsum(counts)].astype(np.int64)
    row_members = rng.permutation(row_start[-1]).astype(np.int64)
    for k_approx in (1, 10, 200, 10_000):
        val = rng.normal(size=300).astype(np.float32)
        val[:20] = val[20]  # ties at the cut
        idx = rng.choice(n_rows, 300, replace=False).astype(np.int64)
        valid = rng.random(300) < 0.8
        cut = np.float32(-0.5)
        fixed = np.sort(rng.choice(row_start[-1], 5, replace=False)).astype(np.int64)
        thr, cand = pool_candidates(val, idx, valid, k_approx, cut, row_start, row_members,
                                    fixed)
        v, r = val[valid], idx[valid]
        want_thr = cut if len(v) <= k_approx else np.sort(v)[::-1][k_approx - 1]
        assert thr == want_thr
        rows = r[v >= want_thr]
        want = np.concatenate([row_members[row_start[j]:row_start[j + 1]] for j in rows])
        np.testing.assert_array_equal(cand, np.unique(np.r_[want, fixed]))


def test_exact_scores_match_the_three_kernels():
    """Fused values/status/score of candidates equal materialize._values_of,
    generate.status_of_rows and the NumPy Pearson reference."""
    from sisso_lite.features import FeatureSpace
    from sisso_lite.features.generate import status_of_rows
    from sisso_lite.features.kernels import pearson_scores_numpy
    from sisso_lite.features.materialize import _values_of, materialize
    from sisso_lite.solvers.batch_kernels import exact_scores

    rng = np.random.default_rng(0)
    X = rng.uniform(-2.0, 3.0, size=(30, 4))
    for fortran in (False, True):
        space = FeatureSpace(operators=("+", "-", "*", "/", "^2", "sqrt", "log", "cbrt", "exp"),
                             max_complexity=3, fortran_compatible=fortran).build(X)
        ms = materialize(space)
        idx = np.sort(rng.choice(len(ms.code), 3000, replace=False))
        rows = np.sort(rng.integers(0, 30, 30))
        values = np.ascontiguousarray(space.tables.values[:, rows])
        y = rng.normal(size=30)
        y_unit = (y - y.mean()) / np.linalg.norm(y - y.mean())
        code, a, b = ms.code[idx], ms.a[idx], ms.b[idx]
        vals, status, score = np.empty((len(idx), 30)), np.empty(len(idx), np.int8), \
            np.empty(len(idx))
        exact_scores(code, a, b, values, fortran, space.tables.lower, space.tables.upper,
                     y_unit, vals, status, score)
        with np.errstate(all="ignore"):
            ref = _values_of(code, a, b, values, fortran)
            ref_score = pearson_scores_numpy(ref, y_unit, np.zeros(30, np.int64), 1, np.ones(1))
        np.testing.assert_array_equal(vals, ref)
        np.testing.assert_array_equal(status, status_of_rows(ref, fortran, space.tables.lower,
                                                             space.tables.upper))
        ok = status > 0
        assert ok.sum() > 500
        np.testing.assert_allclose(score[ok], ref_score[ok], rtol=1e-10, atol=1e-13)
