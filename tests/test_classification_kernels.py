"""Numba kernels of SISSO classification agree with their NumPy/SciPy references."""

from __future__ import annotations

import numpy as np
import pytest

from sisso_lite.solvers import classification as cl
from sisso_lite.solvers import overlap as ov


def _data(seed: int, n: int = 70, k: int = 3, m: int = 5):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, k, n)
    shift = rng.normal(size=m)
    X = rng.normal(size=(n, m)) + codes[:, None] * shift[None, :]
    X[:, 0] = np.round(X[:, 0], 1)  # ties in the values
    return X, codes, k


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("standardize", [False, True])
def test_overlap_1d_numba_matches_numpy(seed: int, standardize: bool) -> None:
    X, codes, k = _data(seed)
    active = np.random.default_rng(seed + 10).random(len(codes)) < 0.6
    for act in (np.ones(len(codes), bool), active):
        c1, s1 = ov.overlap_1d_block(np.ascontiguousarray(X.T), codes, k, act, 0.05, standardize)
        c2, s2 = ov.overlap_1d_reference(X.T, codes, k, act, 0.05, standardize)
        np.testing.assert_array_equal(c1, c2)
        np.testing.assert_allclose(s1, s2, rtol=1e-12, atol=1e-12)


def test_overlap_1d_separated_and_single_point_domains() -> None:
    x = np.array([[0.0, 0.1, 0.2, 1.0, 1.5, 1.0]])
    codes = np.array([0, 0, 0, 1, 1, 1])
    c, s = ov.overlap_1d_block(x, codes, 2, np.ones(6, bool), 0.0, False)
    assert c[0] == 0 and s[0] == pytest.approx(-0.8)  # separated by 0.8
    act = np.array([False, False, True, True, False, False])  # two single points
    c, s = ov.overlap_1d_block(x, codes, 2, act, 0.0, False)
    assert c[0] == 0 and s[0] == pytest.approx(-0.8)
    c, s = ov.overlap_1d_block(x, codes, 2, act, 0.81, False)  # within tolerance
    assert c[0] == 2 and s[0] == pytest.approx(-0.8)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("width", [0.0, 0.05])
def test_overlap_2d_numba_matches_scipy(seed: int, width: float) -> None:
    X, codes, k = _data(seed, k=2 + seed % 2)
    pairs = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [0, 4]])
    counts, sizes, degen = ov.overlap_2d_pairs(X, pairs, codes, k, width, False)
    assert not degen.any()
    for r, p in enumerate(pairs):
        c, s, flags = ov.overlap_nd(X[:, p], codes, k, width)
        assert counts[r] == c
        assert sizes[r] == pytest.approx(s, rel=1e-6, abs=1e-6)


def test_overlap_2d_separated_distance() -> None:
    rng = np.random.default_rng(5)
    A = rng.random((30, 2))
    B = rng.random((30, 2)) + np.array([3.0, 0.0])
    X = np.vstack([A, B])
    codes = np.r_[np.zeros(30, int), np.ones(30, int)]
    c, s, d = ov.overlap_2d_pairs(X, np.array([[0, 1]]), codes, 2, 0.0, False)
    gap = B[:, 0].min() - A[:, 0].max()
    assert c[0] == 0 and not d[0]
    assert gap - 1e-12 <= -s[0] <= gap + 1.0  # hull distance >= the gap along x
    c2, s2, _ = ov.overlap_nd(X, codes, 2, 0.0)
    assert s[0] == pytest.approx(s2, abs=1e-6)


def test_overlap_3d_l0_matches_reference() -> None:
    X, codes, k = _data(7, n=60, k=2, m=4)
    fast = cl.l0_overlap(X, codes, k, 3, n_models=3, width=0.0)
    ref = cl.l0_overlap_reference(X, codes, k, 3, n_models=3, width=0.0)
    assert [m.columns for m in fast] == [m.columns for m in ref]
    assert [m.count for m in fast] == [m.count for m in ref]
    np.testing.assert_allclose([m.size for m in fast], [m.size for m in ref], atol=1e-6)


@pytest.mark.parametrize("dim", [1, 2])
def test_l0_overlap_matches_reference(dim: int) -> None:
    X, codes, k = _data(3, k=3, m=6)
    fast = cl.l0_overlap(X, codes, k, dim, n_models=6, width=0.02)
    ref = cl.l0_overlap_reference(X, codes, k, dim, n_models=6, width=0.02)
    assert [(m.columns, m.count) for m in fast] == [(m.columns, m.count) for m in ref]
    np.testing.assert_allclose([m.size for m in fast], [m.size for m in ref], atol=1e-6)


def test_degenerate_hull_raises_and_is_ranked_last() -> None:
    rng = np.random.default_rng(0)
    t = rng.random(20)
    X = np.c_[np.r_[t, rng.random(20) + 2], np.r_[2 * t + 1, rng.random(20)]]  # class 0 on a line
    codes = np.r_[np.zeros(20, int), np.ones(20, int)]
    with pytest.raises(ValueError, match="degenerate"):
        ov.overlap_nd(X, codes, 2)
    with pytest.raises(ValueError, match="degenerate"):
        cl.overlap_flags(X, codes, 2, 0.0)
    with pytest.raises(ValueError, match="degenerate"):
        cl.l0_overlap(X, codes, 2, 2)
    X3 = np.c_[X, rng.random(40)]  # (0, 2) and (1, 2) are fine, (0, 1) is degenerate
    best = cl.l0_overlap(X3, codes, 2, 2, n_models=3)
    assert best[-1].columns == (0, 1) and best[-1].degenerate
    assert not best[0].degenerate


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("balanced", [False, True])
def test_stump_numba_matches_bruteforce(seed: int, balanced: bool) -> None:
    X, codes, k = _data(seed, k=2 + seed)
    active = np.random.default_rng(seed).random(len(codes)) < 0.8
    w = cl.sample_weights(codes, k, active, balanced)
    acc, thr = cl.stump_accuracy_block(np.ascontiguousarray(X.T), codes, k, w)
    np.testing.assert_allclose(acc, cl.stump_accuracy_reference(X.T, codes, k, w), atol=1e-12)
    # the returned threshold realises the accuracy (binary case)
    if k == 2:
        for r, x in enumerate(X.T):
            left = x < thr[r]
            maj_l = np.argmax(np.bincount(codes[left], w[left], minlength=k))
            maj_r = np.argmax(np.bincount(codes[~left], w[~left], minlength=k))
            pred = np.where(left, maj_l, maj_r)
            assert (w * (pred == codes)).sum() / w.sum() == pytest.approx(acc[r])


def test_scorers_higher_is_better_and_nonfinite() -> None:
    X, codes, k = _data(4, k=2)
    good = codes + 0.01 * np.random.default_rng(0).random(len(codes))
    vals = np.vstack([X[:, 0], good, np.full(len(codes), np.nan)])
    s = cl.OverlapScorer(codes, k).score_block(vals)
    assert s[1] > s[0] and s[2] == -np.inf
    a = cl.StumpScorer(codes, k).score_block(vals)
    assert a[1] == pytest.approx(1.0) and a[1] > a[0] and a[2] == -np.inf


@pytest.mark.parametrize("k", [2, 3])
def test_pruned_stump_exact_and_bounds(k: int) -> None:
    rng = np.random.default_rng(k)
    n = 120
    codes = rng.integers(0, k, n)
    w = cl.sample_weights(codes, k, rng.random(n) < 0.8, k == 3)
    V = rng.normal(size=(400, n)) + 0.5 * codes[None, :] * rng.random((400, 1))
    V[:50] = np.round(V[:50], 1)
    V[50:100] = np.exp(3 * V[50:100])  # heavy tails
    ref, _ = cl.stump_accuracy_block(V, codes, k, w)
    acc, pruned = cl.stump_accuracy_pruned(V, codes, k, w, -1.0, 16)
    assert not pruned.any()
    np.testing.assert_allclose(acc, ref, atol=1e-12)
    th = np.quantile(ref, 0.9)
    acc, pruned = cl.stump_accuracy_pruned(V, codes, k, w, th, 16)
    assert pruned.any()
    np.testing.assert_allclose(acc[~pruned], ref[~pruned], atol=1e-12)
    assert np.all(acc[pruned] >= ref[pruned] - 1e-12) and np.all(acc[pruned] < th)


def test_stump_scorer_with_pruning_keeps_the_top() -> None:
    rng = np.random.default_rng(3)
    n = 150
    codes = rng.integers(0, 2, n)
    V = rng.normal(size=(3000, n)) + codes[None, :] * rng.random((3000, 1))
    exact = cl.StumpScorer(codes, 2).score_block(V)
    sc = cl.StumpScorer(codes, 2, n_keep=20, n_bins=16)
    got = np.concatenate([sc.score_block(V[i:i + 250]) for i in range(0, 3000, 250)])
    assert sc.n_pruned > 1000
    top_ref = np.argsort(-exact, kind="stable")[:20]
    top_got = np.argsort(-got, kind="stable")[:20]
    assert set(top_ref) == set(top_got)
    np.testing.assert_allclose(got[top_got], exact[top_got])


def test_stump_scorer_active_subset_matches_weighted_kernel() -> None:
    X, codes, k = _data(8, k=2)
    active = np.random.default_rng(1).random(len(codes)) < 0.4
    got = cl.StumpScorer(codes, k, active, balanced=True).score_block(X.T)
    w = cl.sample_weights(codes, k, active, True)
    ref = cl.stump_accuracy_reference(X.T, codes, k, w)
    np.testing.assert_allclose(got, ref, atol=1e-12)
