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
