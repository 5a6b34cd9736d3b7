"""Exact search vs brute force; beam search; options; bad input."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sisso_lite.subgroups import (
    CustomQuality,
    SubgroupDiscovery,
    equal_frequency_cutpoints,
    get_quality,
    make_selectors,
)
from sisso_lite.subgroups.search import (
    Problem,
    beam_search,
    best_first_search,
    jaccard,
    search_exact,
)

QUALITIES = [("mean_shift", 1.0, None), ("mean_shift", 0.5, "both"), ("wracc", 1.0, None),
             ("median_shift", 0.5, None), ("normalized_mean_shift", 1.0, "negative"),
             ("dispersion_corrected", 1.0, None), ("dispersion_corrected", 0.5, "less"),
             ("dispersion_corrected", 1.0, "less"), ("cjs", 1.0, None),
             ("error_reduction", 1.0, None)]


def _problem(X: pd.DataFrame, y: np.ndarray, quality, a, direction, min_size=1, n_cut=3):
    sels = make_selectors(X, n_cutpoints=n_cut, allow_constant=True)
    names = list(X.columns)
    feat = np.array([names.index(s.feature) for s in sels])
    masks = np.array([s.covers(X) for s in sels]).reshape(len(sels), len(X))
    qf = get_quality(quality, a, direction)
    z = qf.fit(y)
    return Problem(masks, feat, z, qf, min_size), masks, feat, qf, z


def _brute_force(masks, feat, qf, z, depth, top_k, min_size, dedupe=True):
    best: dict = {}
    m = masks.shape[0]
    out = []
    for d in range(1, depth + 1):
        for combo in itertools.combinations(range(m), d):
            if len({feat[j] for j in combo}) < d:
                continue
            mem = np.logical_and.reduce(masks[list(combo)], axis=0)
            if mem.sum() < max(1, min_size):
                continue
            q = qf.evaluate(np.sort(z[mem]))
            if dedupe:
                best[mem.tobytes()] = q
            else:
                out.append(q)
    vals = list(best.values()) if dedupe else out
    return sorted(vals, reverse=True)[:top_k]


@st.composite
def small_problems(draw):
    n = draw(st.integers(4, 30))
    n_feat = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.integers(0, draw(st.integers(2, 6)), size=(n, n_feat)).astype(float),
                     columns=[f"f{i}" for i in range(n_feat)])
    if draw(st.booleans()):
        X.iloc[rng.integers(n), 0] = np.nan
    y = rng.integers(0, 2, n).astype(float) if draw(st.booleans()) else 3 * rng.normal(size=n)
    y[0], y[1] = 0.0, 1.0  # never constant
    return X, y


@settings(max_examples=60, deadline=None)
@given(prob=small_problems(), qi=st.integers(0, len(QUALITIES) - 1), depth=st.integers(1, 3),
       top_k=st.integers(1, 6), min_size=st.integers(1, 4), dedupe=st.booleans())
def test_exact_search_matches_brute_force(prob, qi, depth, top_k, min_size, dedupe):
    X, y = prob
    quality, a, direction = QUALITIES[qi]
    if quality == "wracc":
        y = (y > 0.5).astype(float)
    pb, masks, feat, qf, z = _problem(X, y, quality, a, direction, min_size)
    if pb.n_selectors == 0:
        return
    got = [r.quality for r in best_first_search(pb, depth, top_k, dedupe)]
    ref = _brute_force(masks, feat, qf, z, depth, top_k, min_size, dedupe)
    assert np.allclose(got, ref, rtol=1e-9, atol=1e-12), (got, ref)


def _planted(n=3000, n_feat=6, seed=0, n_cut=9):
    """Planted 3-condition subgroup (~8% of rows) on exact cut points."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.random((n, n_feat)), columns=[f"x{i}" for i in range(n_feat)])
    c = [equal_frequency_cutpoints(X[f"x{i}"].to_numpy(), n_cut) for i in range(3)]
    k = len(c[0])
    inside = (X.x0 >= c[0][k * 6 // 10]) & (X.x1 <= c[1][k * 5 // 10]) & (
        X.x2 >= c[2][k * 6 // 10])
    y = rng.normal(size=n) + 3.0 * inside
    return X, y.to_numpy(), inside.to_numpy()


def test_parallel_and_beam_search():
    X, y, _ = _planted(1500, 5)
    pb, *_ = _problem(X, y, "mean_shift", 1.0, None, n_cut=6)
    serial = [r.quality for r in search_exact(pb, 3, 8)]
    par = [r.quality for r in search_exact(pb, 3, 8, n_jobs=2)]
    assert np.allclose(serial, par)
    beam = beam_search(pb, 3, 8, beam_width=30)
    assert beam[0].quality <= serial[0] + 1e-12
    assert beam[0].quality == pytest.approx(serial[0])  # easy planted problem


def test_estimator_outputs_json_and_overlap():
    X, y, inside = _planted()
    m = SubgroupDiscovery(depth=3, n_cutpoints=9, top_k=5).fit(X, y)
    sg = m.subgroups_
    assert list(sg.columns[:3]) == ["rule", "query", "n_selectors"]
    assert sg.quality.is_monotonic_decreasing
    best = m.predict(X)
    assert np.array_equal(best, inside)  # planted rule recovered exactly
    assert np.array_equal(X.query(sg["query"][0]).index.to_numpy(), np.flatnonzero(best))
    T = m.transform(X)
    assert T.shape == (len(X), 5) and T.dtype == bool
    back = SubgroupDiscovery.from_json(m.to_json_string())
    assert np.array_equal(back.transform(X), T)
    assert json.loads(m.to_json_string())["rules"][0]["selectors"][0]["feature"] in X.columns
    div = SubgroupDiscovery(depth=3, n_cutpoints=9, top_k=5, max_overlap=0.5).fit(X, y)
    bits = div.transform(X)
    for i, j in itertools.combinations(range(bits.shape[1]), 2):
        inter = (bits[:, i] & bits[:, j]).sum()
        assert inter / (bits[:, i] | bits[:, j]).sum() <= 0.5
    assert div.subgroups_.quality[0] == pytest.approx(sg.quality[0])


def test_min_coverage_fraction_and_jaccard():
    X, y, _ = _planted(800, 4)
    m = SubgroupDiscovery(depth=2, min_coverage=0.2, top_k=3).fit(X, y)
    assert (m.subgroups_["size"] >= 160).all()
    a = np.array([0b1011], dtype=np.uint64)
    b = np.array([0b0011], dtype=np.uint64)
    assert jaccard(a, b) == pytest.approx(2 / 3)


def test_categorical_boolean_and_missing_features():
    rng = np.random.default_rng(3)
    n = 200
    X = pd.DataFrame({"cat": rng.choice(["a", "b", "c"], n), "flag": rng.random(n) < 0.5,
                      "x": rng.random(n)})
    X.loc[:9, "x"] = np.nan
    y = (X.cat == "b") * 2.0 + X.flag * 1.0 + rng.normal(0, 0.1, n)
    m = SubgroupDiscovery(depth=2, top_k=3, a=0.0, min_coverage=20).fit(X, y)
    assert m.subgroups_.rule[0] == "cat == 'b' AND flag == True"
    # missing x never satisfies a selector on x
    for s in m.selectors_:
        if s.feature == "x":
            assert not s.covers(X)[:10].any()


# ---------------------------------------------------------------------- bad input
def _xy():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.random(20), "b": rng.random(20)}), rng.random(20)


def test_constant_column_raises():
    X, y = _xy()
    X["c"] = 1.0
    with pytest.raises(ValueError, match="'c' is constant"):
        SubgroupDiscovery().fit(X, y)
    SubgroupDiscovery(allow_constant=True, depth=1).fit(X, y)  # opt-in skip


def test_all_missing_column_raises():
    X, y = _xy()
    X["m"] = np.nan
    with pytest.raises(ValueError, match="'m' is all-missing"):
        SubgroupDiscovery().fit(X, y)


def test_empty_data_raises():
    with pytest.raises(ValueError, match="empty data"):
        SubgroupDiscovery().fit(pd.DataFrame({"a": []}), [])


def test_target_with_nan_raises():
    X, y = _xy()
    y[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SubgroupDiscovery().fit(X, y)


@pytest.mark.parametrize("depth", [0, -1])
def test_depth_below_one_raises(depth):
    X, y = _xy()
    with pytest.raises(ValueError, match="depth"):
        SubgroupDiscovery(depth=depth).fit(X, y)


def test_quality_without_estimator_in_exact_search_raises():
    X, y = _xy()
    qf = CustomQuality(lambda s, p: s.size / p.size * (s.mean() - p.mean()))
    with pytest.raises(ValueError, match="optimistic estimator"):
        SubgroupDiscovery(quality=qf, search="exact").fit(X, y)
    m = SubgroupDiscovery(quality=qf, search="beam", depth=2, top_k=2).fit(X, y)
    ref = SubgroupDiscovery(quality="mean_shift", search="beam", depth=2, top_k=2).fit(X, y)
    assert np.allclose(m.subgroups_.quality, ref.subgroups_.quality)


def test_custom_quality_with_estimator_exact():
    X, y = _xy()

    def est(s, p):
        k = np.arange(1, s.size + 1)
        return float(np.max(k / p.size * (np.cumsum(s[::-1]) / k - p.mean())))

    qf = CustomQuality(lambda s, p: s.size / p.size * (s.mean() - p.mean()), est)
    m = SubgroupDiscovery(quality=qf, depth=2, top_k=4).fit(X, y)
    ref = SubgroupDiscovery(quality="mean_shift", depth=2, top_k=4).fit(X, y)
    assert np.allclose(m.subgroups_.quality, ref.subgroups_.quality)


def test_length_mismatch_and_unfitted():
    X, y = _xy()
    with pytest.raises(ValueError, match="rows"):
        SubgroupDiscovery().fit(X, y[:5])
    with pytest.raises(ValueError, match="not fitted"):
        SubgroupDiscovery().transform(X)


def test_transformer_contract_and_json_file(tmp_path):
    """A scikit-learn transformer: rule names out, pandas output, fit_transform; to_json
    writes a file as the SISSO estimators do (the path-less form warns)."""
    X, y, inside = _planted()
    m = SubgroupDiscovery(depth=3, n_cutpoints=9, top_k=3)
    T = m.fit_transform(X, y)
    names = m.get_feature_names_out()
    assert list(names) == list(m.subgroups_["rule"])
    frame = m.set_output(transform="pandas").transform(X)
    assert list(frame.columns) == list(names) and frame.index.equals(X.index)
    np.testing.assert_array_equal(frame.to_numpy(), T)
    np.testing.assert_array_equal(T[:, 0], inside)
    path = m.to_json(tmp_path / "rules.json")
    assert path == tmp_path / "rules.json"
    back = SubgroupDiscovery.from_json(path)
    np.testing.assert_array_equal(back.set_output(transform="default").transform(X), T)
    with pytest.warns(FutureWarning, match="path"):
        text = m.to_json()
    assert json.loads(text)["rules"] == json.loads(path.read_text())["rules"]
    with pytest.raises(ValueError, match="cannot read"):
        SubgroupDiscovery.from_json(tmp_path / "missing.json")
