"""Quality functions: Numba kernels vs NumPy references, estimator validity and tightness."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sisso_lite.subgroups import _kernels as K
from sisso_lite.subgroups._bitset import (
    and_count,
    and_count_numpy,
    gather,
    gather_numpy,
    pack_rows,
    popcount64,
    unpack_rows,
)
from sisso_lite.subgroups.quality import (
    CumulativeJSDivergence,
    CustomQuality,
    DispersionCorrected,
    ErrorReduction,
    MeanShift,
    MedianShift,
    NormalizedMeanShift,
    WRAcc,
    get_quality,
)


def _all_qfs():
    return [
        MeanShift(1.0), MeanShift(0.5), MeanShift(0.0), MeanShift(1.0, "less"),
        MeanShift(0.5, "both"), MedianShift(1.0), MedianShift(0.5, "both"),
        MedianShift(1.0, "less"), NormalizedMeanShift(1.0),
        NormalizedMeanShift(0.5, "negative"), DispersionCorrected(1.0),
        DispersionCorrected(0.5, "less"), DispersionCorrected(2.0, normalize=True),
        DispersionCorrected(0.0), CumulativeJSDivergence(1.0),
        CumulativeJSDivergence(0.5), ErrorReduction(1.0), ErrorReduction(0.5, "squared"),
    ]


targets = st.lists(st.integers(-5, 5), min_size=3, max_size=30).map(
    lambda v: np.array(v, dtype=float) / 2.0)


def _kernel(qf, vals, min_size=1):
    params = qf.kernel_params(min_size)
    aux = np.ascontiguousarray(qf.kernel_aux())
    work = np.empty(qf.n_ + 1)
    return K.quality_and_bound(qf.kind, vals, vals.size, params, aux, True, work)


@settings(max_examples=40, deadline=None)
@given(y=targets, seed=st.integers(0, 2**31 - 1), min_size=st.integers(1, 3))
def test_kernels_agree_with_numpy_reference(y, seed, min_size):
    if np.ptp(y) == 0:
        y = y.copy()
        y[0] += 1.0
    rng = np.random.default_rng(seed)
    for qf in _all_qfs():
        z = qf.fit(y)
        member = rng.random(y.size) < 0.6
        member[rng.integers(y.size)] = True
        vals = np.sort(z[member])
        q, b = _kernel(qf, vals, min_size)
        assert q == pytest.approx(qf.evaluate(vals), abs=1e-12, rel=1e-9), qf.to_dict()
        ref_b = qf.optimistic_estimate(vals, min_size)
        if vals.size >= min_size:
            assert b == pytest.approx(ref_b, abs=1e-12, rel=1e-9), qf.to_dict()


@settings(max_examples=30, deadline=None)
@given(y=targets, seed=st.integers(0, 2**31 - 1))
def test_estimators_bound_every_subset_and_are_tight(y, seed):
    if np.ptp(y) == 0:
        y = y.copy()
        y[-1] += 1.0
    rng = np.random.default_rng(seed)
    for qf in _all_qfs():
        z = qf.fit(y)
        idx = rng.choice(y.size, size=min(y.size, 9), replace=False)
        vals = np.sort(z[idx])
        best = -np.inf
        for r in range(1, vals.size + 1):
            for sub in itertools.combinations(range(vals.size), r):
                best = max(best, qf.evaluate(vals[list(sub)]))
        bound = qf.optimistic_estimate(vals)
        assert bound >= best - 1e-12, qf.to_dict()
        if not isinstance(qf, CumulativeJSDivergence):  # cJS estimate is valid, not tight
            assert bound == pytest.approx(best, abs=1e-12), qf.to_dict()


def test_wracc_is_standard_binary_family():
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0], dtype=float)
    qf = WRAcc(1.0)
    z = qf.fit(y)
    vals = np.sort(z[[0, 1, 2]])
    # cov * (p_S - p_P) = 3/8 * (2/3 - 3/8)
    assert qf.evaluate(vals) == pytest.approx(3 / 8 * (2 / 3 - 3 / 8))
    # positives-only estimate: (n_pos/N)^a (1 - p_P)
    assert qf.optimistic_estimate(vals) == pytest.approx(2 / 8 * (1 - 3 / 8))
    with pytest.raises(ValueError, match="binary"):
        WRAcc().fit(np.array([0.0, 0.5, 1.0]))


def test_error_reduction_and_cjs_values():
    res = np.array([0.1, -0.1, 2.0, -3.0, 0.2])
    qf = ErrorReduction()
    z = qf.fit(res)
    vals = np.sort(z[[0, 1, 4]])
    lp, ls = np.mean(np.abs(res)), np.mean(np.abs(res[[0, 1, 4]]))
    assert qf.evaluate(vals) == pytest.approx(3 / 5 * (lp - ls) / lp)
    cj = CumulativeJSDivergence()
    z = cj.fit(np.arange(10.0))
    assert cj.evaluate(np.sort(z)) == pytest.approx(0.0, abs=1e-15)  # S = P
    assert cj.evaluate(np.array([8.0, 9.0])) > 0


def test_custom_quality_and_lookup():
    qf = CustomQuality(lambda s, p: s.size / p.size * (s.mean() - p.mean()))
    assert not qf.has_estimator
    qf.fit(np.arange(4.0))
    assert qf.evaluate(np.array([2.0, 3.0])) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="estimator"):
        qf.optimistic_estimate(np.array([1.0]))
    with pytest.raises(ValueError, match="unknown quality"):
        get_quality("nope")


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 200), seed=st.integers(0, 2**31 - 1))
def test_bitset_kernels_agree_with_numpy(n, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.random(n) < 0.5, rng.random(n) < 0.7
    pa, pb = pack_rows(a), pack_rows(b)
    assert np.array_equal(unpack_rows(pa, n), a)
    out = np.empty_like(pa)
    c = and_count(pa, pb, out)
    ref_w, ref_c = and_count_numpy(pa, pb)
    assert c == ref_c == int((a & b).sum())
    assert np.array_equal(out, ref_w)
    vals = rng.random(n)
    buf = np.empty(n)
    k = gather(out, vals, buf)
    assert np.array_equal(buf[:k], gather_numpy(out, vals))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 300), seed=st.integers(0, 2**31 - 1), qi=st.integers(0, 3),
       min_size=st.integers(1, 5))
def test_fused_mean_kernel_agrees_with_generic_kernel_and_numpy(n, seed, qi, min_size):
    """The a == 1 byte-table kernel equals the gather kernel and the NumPy reference."""
    from sisso_lite.subgroups.search import Problem

    rng = np.random.default_rng(seed)
    y = rng.normal(size=n).round(1)
    y[0], y[1] = -1.0, 1.0
    qf = [MeanShift(1.0), MeanShift(1.0, "both"), NormalizedMeanShift(1.0, "negative"),
          ErrorReduction(1.0)][qi]
    z = qf.fit(y)
    masks = rng.random((6, n)) < rng.uniform(0.05, 0.95, size=(6, 1))
    pb = Problem(masks, np.arange(6), z, qf, min_size)
    assert pb.fused
    node = pack_rows(rng.random(n) < 0.8)
    cand = np.arange(6, dtype=np.int64)
    out = [np.empty(6), np.empty(6), np.empty(6, dtype=np.int64)]
    tmp, buf, work = np.empty(pb.bits.shape[1], np.uint64), np.empty(n), np.empty(n + 1)
    K.eval_children_mean1(node, pb.bits, cand, pb.zs, pb.table, pb.params, pb.p_hi, pb.p_lo,
                          True, *out, tmp, buf, work, qf.kind, -np.inf)
    ref = [np.empty(6), np.empty(6), np.empty(6, dtype=np.int64)]
    K.eval_children(node, pb.bits, cand, pb.zs, qf.kind, pb.params, pb.aux, True, *ref,
                    tmp, buf, work)
    assert np.array_equal(out[2], ref[2])
    assert np.allclose(out[0], ref[0], rtol=1e-9, atol=1e-12)
    assert np.allclose(out[1], ref[1], rtol=1e-9, atol=1e-12)
    member = unpack_rows(node, n)
    for j in range(6):
        vals = np.sort(pb.zs[member & unpack_rows(pb.bits[j], n)])
        if vals.size >= min_size:
            assert out[0][j] == pytest.approx(qf.evaluate(vals), rel=1e-9, abs=1e-12)
            assert out[1][j] == pytest.approx(qf.optimistic_estimate(vals, min_size),
                                              rel=1e-9, abs=1e-12)
    # early abandonment never drops a refinement that could beat the threshold
    finite = out[1][np.isfinite(out[1])]
    if finite.size == 0:
        return
    thr = float(np.median(finite))
    cut = [np.empty(6), np.empty(6), np.empty(6, dtype=np.int64)]
    K.eval_children_mean1(node, pb.bits, cand, pb.zs, pb.table, pb.params, pb.p_hi, pb.p_lo,
                          True, *cut, tmp, buf, work, qf.kind, thr)
    for j in range(6):
        if out[0][j] > thr:  # may enter the top-k: exact values
            assert cut[0][j] == out[0][j] and cut[1][j] == out[1][j]
        elif out[1][j] > thr:  # may have good refinements: exact estimate
            assert cut[1][j] == out[1][j] and cut[0][j] in (out[0][j], -np.inf)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 400), seed=st.integers(0, 2**31 - 1), qi=st.integers(0, 3),
       min_size=st.integers(1, 5), want_bound=st.booleans())
def test_word_major_mean_kernel_is_identical_to_fused_kernel(n, seed, qi, min_size,
                                                             want_bound):
    """eval_children_mean1_wide (loops swapped) gives bit-identical outputs (thr = -inf)."""
    from sisso_lite.subgroups._wide import eval_children_mean1_wide
    from sisso_lite.subgroups.search import Problem

    rng = np.random.default_rng(seed)
    y = rng.normal(size=n).round(1)
    y[0], y[1] = -1.0, 1.0
    qf = [MeanShift(1.0), MeanShift(1.0, "both"), NormalizedMeanShift(1.0, "negative"),
          ErrorReduction(1.0)][qi]
    z = qf.fit(y)
    m = 9
    masks = rng.random((m, n)) < rng.uniform(0.02, 0.98, size=(m, 1))
    pb = Problem(masks, np.arange(m), z, qf, min_size)
    node = pack_rows(rng.random(n) < rng.uniform(0.1, 1.0))
    cand = rng.permutation(m)[:rng.integers(1, m + 1)].astype(np.int64)
    tmp, buf, work = np.empty(pb.bits.shape[1], np.uint64), np.empty(n), np.empty(n + 1)
    ref = [np.empty(cand.size), np.empty(cand.size), np.empty(cand.size, dtype=np.int64)]
    K.eval_children_mean1(node, pb.bits, cand, pb.zs, pb.table, pb.params, pb.p_hi, pb.p_lo,
                          want_bound, *ref, tmp, buf, work, qf.kind, -np.inf)
    got = [np.empty(cand.size), np.empty(cand.size), np.empty(cand.size, dtype=np.int64)]
    eval_children_mean1_wide(node, pb.bits, cand, pb.zs, pb.table, pb.params, pb.p_hi,
                             pb.p_lo, want_bound, *got, tmp, buf, qf.kind,
                             np.empty((6, cand.size)))
    for r, g in zip(ref, got, strict=True):
        assert np.array_equal(r, g, equal_nan=True)
    member = unpack_rows(node, n)
    for t, j in enumerate(cand):  # and the NumPy reference
        vals = np.sort(pb.zs[member & unpack_rows(pb.bits[j], n)])
        assert got[2][t] == vals.size
        if vals.size >= min_size:
            assert got[0][t] == pytest.approx(qf.evaluate(vals), rel=1e-9, abs=1e-12)
            if want_bound:
                assert got[1][t] == pytest.approx(qf.optimistic_estimate(vals, min_size),
                                                  rel=1e-9, abs=1e-12)


def test_popcount_and_and_rows_agree_with_numpy():
    rng = np.random.default_rng(7)
    words = rng.integers(0, 2**63, size=20, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    for w in words:
        assert popcount64(w) == bin(int(w)).count("1")
    masks = rng.random((5, 150)) < 0.6
    bits = pack_rows(masks)
    out = np.empty(bits.shape[1], dtype=np.uint64)
    idx = np.array([0, 2, 4], dtype=np.int64)
    K.and_rows(bits, idx, out)
    assert np.array_equal(unpack_rows(out, 150), np.logical_and.reduce(masks[idx]))


# --------------------------------------------------------------- dispersion-corrected
dc_pop = st.lists(st.integers(-6, 6), min_size=4, max_size=40).map(
    lambda v: np.array(v, dtype=float) / 3.0)


@settings(max_examples=80, deadline=None)
@given(y=dc_pop, seed=st.integers(0, 2**31 - 1), n=st.integers(1, 12),
       min_size=st.integers(1, 4), a=st.sampled_from([1.0, 0.5, 2.0, 0.0]),
       normalize=st.booleans())
def test_dispersion_corrected_bound_is_max_over_all_subsets(y, seed, n, min_size, a,
                                                            normalize):
    """Validity and tightness against brute force: the O(n) estimate (and the window scan)
    equals the maximum of the objective over all subsets (of size >= min_size)."""
    from sisso_lite.subgroups._dispersion import dc_bruteforce

    if np.ptp(y) == 0:
        y = y.copy()
        y[0] += 1.0
    qf = DispersionCorrected(a, normalize=normalize)
    z = qf.fit(y)
    rng = np.random.default_rng(seed)
    v = np.sort(rng.choice(z, size=min(n, z.size), replace=False))
    if v.size < min_size:
        return
    ref = dc_bruteforce(v, qf.n_, a, qf.center_, qf.amd_, qf.scale_, min_size)
    _, b = _kernel(qf, v, min_size)
    assert b >= ref - 1e-12  # valid
    assert b == pytest.approx(ref, abs=1e-12)  # tight
    assert qf.optimistic_estimate(v, min_size) == pytest.approx(ref, abs=1e-12)
    assert qf.optimistic_estimate_windows(v, min_size) == pytest.approx(ref, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 400), seed=st.integers(0, 2**31 - 1), min_size=st.integers(1, 30),
       ties=st.booleans(), a=st.sampled_from([1.0, 0.5, 2.0]))
def test_dispersion_corrected_linear_bound_matches_window_scan(n, seed, min_size, ties, a):
    """The O(n) sweep equals the previous O(n^2) scan of all windows."""
    if n < min_size:
        return
    rng = np.random.default_rng(seed)
    y = rng.normal(size=2 * n) + rng.choice([0.0, 3.0], size=2 * n)
    if ties:
        y = y.round(0)
    y[0], y[1] = -1.0, 1.0
    qf = DispersionCorrected(a)
    z = qf.fit(y)
    v = np.sort(rng.choice(z, size=n, replace=False))
    fast = _kernel(qf, v, min_size)[1]
    assert fast == pytest.approx(qf.optimistic_estimate_windows(v, min_size), rel=1e-12,
                                 abs=1e-14)


def test_dispersion_corrected_large_subgroup_is_tight():
    """No size limit: above the former 3000-row fallback the estimate stays tight."""
    rng = np.random.default_rng(3)
    y = np.concatenate([rng.normal(size=6000), 2.0 + 0.1 * rng.normal(size=1500)])
    for a in (1.0, 0.5):
        qf = DispersionCorrected(a)
        z = qf.fit(y)
        v = np.sort(z[rng.random(z.size) < 0.7])
        assert v.size > 3000
        _, b = _kernel(qf, v, 1)
        assert b == pytest.approx(qf.optimistic_estimate_windows(v), rel=1e-12)
        # strictly below the median-shift bound used as fallback before
        assert b < K.median_bound(v, v.size, qf.kernel_params(1))


def test_dispersion_corrected_values():
    y = np.array([0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0])
    amd_p = np.mean(np.abs(y - 3.0))
    s = np.array([10.0, 11.0, 12.0])
    dcc = 3 / 7 * (1 - (2 / 3) / amd_p)
    qf = DispersionCorrected(1.0)
    qf.fit(y)
    assert qf.evaluate(s) == pytest.approx(dcc * (11.0 - 3.0))
    # the exponent acts on the dispersion-corrected coverage (realKD), not on cov alone
    q2 = DispersionCorrected(2.0, normalize=True)
    q2.fit(y)
    assert q2.evaluate(s) == pytest.approx(dcc**2 * (11.0 - 3.0) / (12.0 - 3.0))
    assert _kernel(q2, s)[0] == pytest.approx(q2.evaluate(s))
    lo = DispersionCorrected(1.0, "less")
    z = lo.fit(y)
    assert lo.evaluate(np.sort(z[:3])) == pytest.approx(
        3 / 7 * (1 - (2 / 3) / amd_p) * (3.0 - 1.0))
    const = DispersionCorrected(1.0)
    const.fit(np.ones(5))
    assert const.evaluate(np.ones(3)) == 0.0
    assert _kernel(const, np.ones(3))[1] == 0.0
