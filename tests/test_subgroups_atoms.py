"""Atom histograms of the last search level: Numba kernels vs NumPy references, the
selector bitsets built from atoms, and the search with them vs the bitset-only search."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sisso_lite.subgroups import _atoms as A
from sisso_lite.subgroups import _last_level as L
from sisso_lite.subgroups import equal_frequency_cutpoints, get_quality, make_selectors
from sisso_lite.subgroups._bitset import pack_rows, unpack_rows
from sisso_lite.subgroups.quality import (
    ErrorReduction,
    MeanShift,
    NormalizedMeanShift,
    WRAcc,
)
from sisso_lite.subgroups.search import Problem, _Evaluator, best_first_search, search_exact
from sisso_lite.subgroups.selectors import selector_masks


def _random_problem(rng, n, n_feat, qf, min_size=1, nan=True):
    """Threshold selectors on a few random (partly tied, partly missing) columns."""
    X = pd.DataFrame(rng.integers(0, rng.integers(2, 12), size=(n, n_feat)).astype(float),
                     columns=[f"f{i}" for i in range(n_feat)])
    if nan:
        X.iloc[rng.integers(n), 0] = np.nan
    X.iloc[0, :] = 0.0
    X.iloc[1, :] = 20.0  # no constant column
    sels = make_selectors(X, n_cutpoints=4, intervals=bool(rng.integers(2)))
    masks = selector_masks(sels, X)
    feat = np.array([list(X.columns).index(s.feature) for s in sels])
    y = rng.normal(size=n).round(1)
    y[0], y[1] = -1.0, 1.0
    if isinstance(qf, WRAcc):
        y = (y > 0).astype(float)
    z = qf.fit(y)
    return Problem(masks, feat, z, qf, min_size), masks


# ---------------------------------------------------------------------------- coding
@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 400), n_keys=st.integers(1, 300), seed=st.integers(0, 2**31 - 1))
def test_factorize_and_feature_keys_agree_with_numpy(n, n_keys, seed):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 2**63, size=n_keys, dtype=np.uint64)[rng.integers(0, n_keys, n)]
    out = np.empty(n, dtype=np.int64)
    got = A.factorize_keys(keys, A.MAX_ATOMS, out)
    ref, ref_n = A.factorize_keys_numpy(keys, A.MAX_ATOMS)
    assert got == ref_n
    if got >= 0:
        assert np.array_equal(out, ref)
        assert np.array_equal(np.unique(keys[np.unique(out, return_index=True)[1]]),
                              np.unique(keys))
    masks = rng.random((80, n)) < 0.5
    lo = int(rng.integers(0, 10))
    hi = lo + int(rng.integers(1, 65))  # at most 64 selectors per key
    k = np.empty(n, dtype=np.uint64)
    A.feature_keys(masks, lo, hi, k)
    assert np.array_equal(k, A.feature_keys_numpy(masks, lo, hi))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 300), n_feat=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
def test_atoms_partition_selectors_and_give_their_bitsets(n, n_feat, seed):
    rng = np.random.default_rng(seed)
    pb, masks = _random_problem(rng, n, n_feat, MeanShift(1.0))
    at = pb.atoms()
    ms = masks[:, pb.order]
    for j in range(pb.n_selectors):
        f = pb.feature_of[j]
        assert at.coded[f]
        assert np.array_equal(np.isin(at.codes[:, f], at.idx[at.ptr[j]:at.ptr[j + 1]]), ms[j])
    # selector bitsets as ORs of atom bitsets = packed masks in target order
    assert np.array_equal(pb.bits, pack_rows(ms))
    n_words = pb.bits.shape[1]
    for f in range(len(pb.first_of_feature) - 1):
        lo, hi = pb.first_of_feature[f], pb.first_of_feature[f + 1]
        ref = A.selector_bits_numpy(at.codes, f, lo, hi, at.ptr, at.idx, n_words)
        assert np.array_equal(pb.bits[lo:hi], ref)


def _categorical_problem(X, y):
    sels = make_selectors(X, n_cutpoints=5)
    masks = selector_masks(sels, X)
    feat = np.array([list(X.columns).index(s.feature) for s in sels])
    qf = get_quality("mean_shift")
    return Problem(masks, feat, qf.fit(y), qf), masks


def test_features_with_too_many_atoms_are_not_coded_but_searched():
    rng = np.random.default_rng(5)
    n = 700
    X = pd.DataFrame({"c": rng.integers(0, 300, n).astype(str), "x": rng.random(n),
                      "k": rng.integers(0, 100, n).astype(str),  # > 64 selectors, coded
                      "w": rng.integers(0, 30, n).astype(str)})
    y = (X.c.astype(int) % 7 == 0) * 2.0 + (X.w.astype(int) < 9) + rng.normal(0, 0.5, n)
    pb, masks = _categorical_problem(X, y)
    at = pb.atoms()
    assert not at.coded[0] and at.coded[1:].all() and at.n_atoms[2] == 100
    assert np.array_equal(pb.bits, pack_rows(masks[:, pb.order]))
    # without "k" the atoms are narrow enough for sibling batches (never on feature "c")
    for cols in (["c", "x", "k", "w"], ["c", "x", "w"], ["x", "c", "w"]):
        pb, _ = _categorical_problem(X[cols], y)
        for depth, k in ((2, 400), (3, 40)):  # deep top-k: small groups on "c" count
            out = _modes(pb, depth, k, False)
            assert all(v == out["bitset"] for v in out.values())


# ---------------------------------------------------------------------------- histograms
@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 300), n_feat=st.integers(2, 4), seed=st.integers(0, 2**31 - 1))
def test_histogram_kernels_agree_with_numpy_and_bitsets(n, n_feat, seed):
    rng = np.random.default_rng(seed)
    pb, _ = _random_problem(rng, n, n_feat, MeanShift(1.0))
    at, z = pb.atoms(), pb.zs
    node = pack_rows(rng.random(n) < 0.7)
    member = unpack_rows(node, n)
    feats = np.arange(len(pb.first_of_feature) - 1, dtype=np.int64)
    w = at.width
    cnt, sums = np.empty((feats.size, w), np.int64), np.empty((feats.size, w))
    A.node_histogram(node, at.codes, feats, z, cnt, sums)
    rc, rs = A.node_histogram_numpy(node, at.codes, feats, z, w)
    assert np.array_equal(cnt, rc) and np.allclose(sums, rs, rtol=1e-12, atol=1e-12)
    # refinements node AND j: sizes exact, sums to rounding
    cand = np.arange(pb.n_selectors, dtype=np.int64)
    slot = feats.copy()
    on, os_ = np.empty(cand.size, np.int64), np.empty(cand.size)
    A.child_sums(cnt, sums, slot, pb.feature_of, cand, at.ptr, at.idx, on, os_)
    rn, rsum = A.child_sums_numpy(cnt, sums, slot, pb.feature_of, cand, at.ptr, at.idx)
    assert np.array_equal(on, rn) and np.allclose(os_, rsum, rtol=1e-12, atol=1e-12)
    for j in cand:
        rows = member & unpack_rows(pb.bits[j], n)
        assert on[j] == rows.sum()
        assert os_[j] == pytest.approx(z[rows].sum(), rel=1e-12, abs=1e-12)
    # sibling batch: Q AND s AND t for s on feature 0, t on later features
    f = 0
    sibs = np.arange(pb.first_of_feature[0], pb.first_of_feature[1], dtype=np.int64)
    later = feats[1:]
    cand = np.arange(pb.first_of_feature[1], pb.n_selectors, dtype=np.int64)
    slot = np.zeros(feats.size, np.int64)
    slot[later] = np.arange(later.size)
    pc = np.empty((later.size, w, w), np.int64)
    ps = np.empty((later.size, w, w))
    A.pair_histogram(node, at.codes, f, later, z, pc, ps)
    rpc, rps = A.pair_histogram_numpy(node, at.codes, f, later, z, w)
    assert np.array_equal(pc, rpc) and np.allclose(ps, rps, rtol=1e-12, atol=1e-12)
    bn = np.empty((sibs.size, cand.size), np.int64)
    bs = np.empty((sibs.size, cand.size))
    A.sibling_child_sums(pc, ps, sibs, cand, slot, pb.feature_of, at.ptr, at.idx, bn, bs,
                         np.empty((sibs.size, w), np.int64), np.empty((sibs.size, w)))
    rbn, rbs = A.sibling_child_sums_numpy(pc, ps, sibs, cand, slot, pb.feature_of, at.ptr,
                                          at.idx)
    assert np.array_equal(bn, rbn) and np.allclose(bs, rbs, rtol=1e-12, atol=1e-12)
    for u, s in enumerate(sibs):
        for t, j in enumerate(cand):
            rows = member & unpack_rows(pb.bits[s] & pb.bits[j], n)
            assert bn[u, t] == rows.sum()
            assert bs[u, t] == pytest.approx(z[rows].sum(), rel=1e-12, abs=1e-12)


QFS = [MeanShift(1.0), MeanShift(0.5), MeanShift(1.0, "both"), MeanShift(0.5, "both"),
       MeanShift(0.0), NormalizedMeanShift(1.0), NormalizedMeanShift(0.5, "negative"),
       WRAcc(1.0), ErrorReduction(1.0)]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 300), seed=st.integers(0, 2**31 - 1), qi=st.integers(0, len(QFS) - 1),
       min_size=st.integers(1, 5))
def test_mean_from_sums_agrees_with_numpy_and_bitset_kernel(n, seed, qi, min_size):
    """Quality from size and sum = NumPy reference; its tolerance bounds the difference
    to the bitset kernel's value (which the search reports)."""
    rng = np.random.default_rng(seed)
    qf = QFS[qi]
    pb, _ = _random_problem(rng, n, 3, qf, min_size)
    at, z = pb.atoms(), pb.zs
    node = pack_rows(rng.random(n) < 0.8)
    feats = np.arange(len(pb.first_of_feature) - 1, dtype=np.int64)
    cnt, sums = np.empty((feats.size, at.width), np.int64), np.empty((feats.size, at.width))
    A.node_histogram(node, at.codes, feats, z, cnt, sums)
    cand = np.arange(pb.n_selectors, dtype=np.int64)
    on, os_ = np.empty(cand.size, np.int64), np.empty(cand.size)
    A.child_sums(cnt, sums, feats, pb.feature_of, cand, at.ptr, at.idx, on, os_)
    zabs = float(np.abs(z).sum())
    q, tol = np.empty(cand.size), np.empty(cand.size)
    A.mean_from_sums(on, os_, qf.kind, pb.params, zabs, q, tol)
    rq, rtol = A.mean_from_sums_numpy(on, os_, qf.kind, pb.params, zabs)
    assert np.allclose(q, rq, rtol=1e-12, atol=1e-15) and np.allclose(tol, rtol, rtol=1e-9)
    exact, _, en = _Evaluator(pb)(node, cand, False)
    member = unpack_rows(node, n)
    for t, j in enumerate(cand):
        vals = np.sort(z[member & unpack_rows(pb.bits[j], n)])
        if vals.size < max(1, min_size):
            assert q[t] == -np.inf and exact[t] == -np.inf
            continue
        assert abs(q[t] - exact[t]) <= tol[t]
        assert q[t] == pytest.approx(qf.evaluate(vals), rel=1e-9, abs=1e-12)
        assert tol[t] < 1e-9 * max(1.0, abs(q[t]))


# ---------------------------------------------------------------------------- search
def _planted(n=3000, n_feat=6, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.random((n, n_feat)), columns=[f"x{i}" for i in range(n_feat)])
    c = [equal_frequency_cutpoints(X[f"x{i}"].to_numpy(), 10) for i in range(3)]
    inside = ((X.x0 >= c[0][6]) & (X.x1 <= c[1][6]) & (X.x2 >= c[2][6])).to_numpy()
    return X, 0.5 * rng.normal(size=n) + 2.0 * inside


def _key(res):
    return [(r.quality, r.selectors, r.size) for r in res]


def _modes(pb, depth, top_k, dedupe):
    """Results for every last-level mode ("auto" also without its size thresholds)."""
    out = {m: _key(best_first_search(pb, depth, top_k, dedupe, last_level=m))
           for m in ("bitset", "auto", "node", "batch")}
    saved = L.MIN_WORDS, L.MIN_WORDS_DEPTH2
    L.MIN_WORDS = L.MIN_WORDS_DEPTH2 = 0
    try:
        out["auto, any size"] = _key(best_first_search(pb, depth, top_k, dedupe))
    finally:
        L.MIN_WORDS, L.MIN_WORDS_DEPTH2 = saved
    return out


@pytest.mark.parametrize("quality,a,direction", [
    ("mean_shift", 1.0, None), ("mean_shift", 0.5, None), ("mean_shift", 1.0, "both"),
    ("mean_shift", 0.5, "less"), ("normalized_mean_shift", 1.0, None),
    ("error_reduction", 1.0, None)])
def test_atom_search_identical_to_bitset_search(quality, a, direction):
    """Same subgroups, sizes and bit-identical qualities for every last-level mode."""
    X, y = _planted()
    sels = make_selectors(X, n_cutpoints=10)
    feat = np.array([list(X.columns).index(s.feature) for s in sels])
    qf = get_quality(quality, a, direction)
    z = qf.fit(y)
    masks = selector_masks(sels, X)
    for min_size in (1, 150):
        pb = Problem(masks, feat, z, qf, min_size)
        for depth in (1, 2, 3):
            for dedupe in (False, True):
                out = _modes(pb, depth, 10, dedupe)
                for mode, got in out.items():
                    assert got == out["bitset"], (mode, min_size, depth, dedupe)
    par = _key(search_exact(Problem(masks, feat, z, qf), 2, 10, False, n_jobs=2))
    assert par == _key(best_first_search(Problem(masks, feat, z, qf), 2, 10, False,
                                         last_level="bitset"))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(4, 120), n_feat=st.integers(1, 4), seed=st.integers(0, 2**31 - 1),
       qi=st.integers(0, len(QFS) - 1), depth=st.integers(1, 3), top_k=st.integers(1, 6),
       min_size=st.integers(1, 4), dedupe=st.booleans())
def test_atom_search_identical_on_small_tied_problems(n, n_feat, seed, qi, depth, top_k,
                                                      min_size, dedupe):
    """Many ties (few distinct values): still the bitset search's exact results."""
    rng = np.random.default_rng(seed)
    pb, _ = _random_problem(rng, n, n_feat, QFS[qi], min_size)
    out = _modes(pb, depth, top_k, dedupe)
    for mode, got in out.items():
        assert got == out["bitset"], mode
