"""Selectors: cut points (pysubgroup rule, k-means), semantics, missing values, text forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sisso_lite.subgroups import (
    Rule,
    Selector,
    equal_frequency_cutpoints,
    kmeans_cutpoints,
    make_selectors,
)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(-20, 20), min_size=1, max_size=80),
       n_cut=st.integers(1, 12), n_nan=st.integers(0, 3))
def test_cutpoints_identical_to_pysubgroup(values, n_cut, n_nan):
    ps = pytest.importorskip("pysubgroup")
    v = np.array(values + [np.nan] * n_nan, dtype=float) / 4.0
    ref = ps.equal_frequency_discretization(pd.DataFrame({"x": v}), "x", nbins=n_cut + 1)
    assert equal_frequency_cutpoints(v, n_cut) == [float(c) for c in ref]


def test_kmeans_cutpoints_separate_clusters():
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.normal(0, 0.1, 50), rng.normal(5, 0.1, 50), rng.normal(10, 0.1, 50)])
    cuts = kmeans_cutpoints(v, 2)
    assert len(cuts) == 2
    assert 0.5 < cuts[0] < 4.5 and 5.5 < cuts[1] < 9.5
    sels = make_selectors(pd.DataFrame({"v": v}), n_cutpoints=2, method="kmeans")
    assert {s.op for s in sels} == {"<=", ">="}


def test_threshold_selectors_and_missing_values():
    X = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0, 8.0]})
    sels = make_selectors(X, n_cutpoints=3)
    assert all(s.op in ("<=", ">=") for s in sels)
    for s in sels:
        cov = s.covers(X)
        assert not cov[2]  # NaN never satisfies
        assert 0 < cov.sum() < 7  # trivial selectors are dropped
    le = Selector("x", "<=", 4.0)
    assert le.covers(X).tolist() == [True, True, False, True, False, False, False, False]
    ge = Selector("x", ">=", 4.0)
    assert ge.covers(X).tolist() == [False, False, False, True, True, True, True, True]


def test_intervals_and_text_forms():
    X = pd.DataFrame({"x": np.arange(20.0)})
    sels = make_selectors(X, n_cutpoints=3, intervals=True)
    iv = [s for s in sels if s.op == "interval"]
    assert iv and all(np.isfinite(s.value).all() for s in iv)
    s = iv[0]
    lo, hi = s.value
    assert s.covers(X).tolist() == [lo <= x < hi for x in X.x]
    assert str(Selector("r_s_A", "<=", 1.1)) == "r_s_A <= 1.1"
    r = Rule((Selector("r_s_A", "<=", 1.1), Selector("EA_B", ">=", -3.4)))
    assert str(r) == "r_s_A <= 1.1 AND EA_B >= -3.4"
    df = pd.DataFrame({"r_s_A": [1.0, 1.2, 1.1], "EA_B": [-3.0, -3.0, -3.5]})
    assert df.query(r.query()).index.tolist() == [0]
    assert Rule.from_dict(r.to_dict()) == r
    assert Selector.from_dict(iv[0].to_dict()) == iv[0]


def test_categorical_and_boolean_selectors():
    X = pd.DataFrame({"c": ["a", "b", None, "a"], "f": [True, False, True, True]})
    sels = make_selectors(X)
    assert {(s.feature, s.op, s.value) for s in sels} == {
        ("c", "==", "a"), ("c", "==", "b"), ("f", "==", True), ("f", "==", False)}
    ca = Selector("c", "==", "a")
    assert ca.covers(X).tolist() == [True, False, False, True]
    assert X.query(ca.query()).index.tolist() == [0, 3]


def test_array_input_with_names_and_bad_columns():
    arr = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 0.0]])
    sels = make_selectors(arr, feature_names=["a", "b"], n_cutpoints=2)
    assert {s.feature for s in sels} == {"a", "b"}
    with pytest.raises(ValueError, match="'k' is constant"):
        make_selectors(pd.DataFrame({"k": [1.0, 1.0, 1.0]}))
    with pytest.raises(ValueError, match="all-missing"):
        make_selectors(pd.DataFrame({"m": [np.nan, np.nan]}))
    with pytest.raises(ValueError, match="empty data"):
        make_selectors(pd.DataFrame({"m": []}))
    with pytest.raises(ValueError, match="missing from the data"):
        Selector("zz", "<=", 1.0).covers(pd.DataFrame({"a": [1.0]}))
