"""The virtual newest tier (``features.storage.StoredValues``) changes no result.

A space whose last rung cannot pair two features of the newest stored tier keeps that
tier as a program and computes its rows block by block. Everything read from it (rows,
blocks, candidate values, status and domain flags, screens on all rows, on bootstrap rows
and with dropped primaries, whole fits) must equal the plain stored array.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import sisso_lite.features.space as space_module
import sisso_lite.features.storage as storage_module
from sisso_lite import SissoRegressor
from sisso_lite.features import FeatureSpace
from sisso_lite.features.generate import compute_nodes, domain_flags, status_of_rows
from sisso_lite.features.operators import CODE
from sisso_lite.features.storage import StoredValues
from sisso_lite.solvers.sis import PearsonScorer

OPS = ("+", "-", "*", "/", "^-1", "^2", "sqrt", "exp", "log", "|-|")


def _data(seed: int = 0, n: int = 30) -> tuple[pd.DataFrame, np.ndarray, dict]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({k: rng.uniform(0.5, 3.0, n) for k in ("a", "b", "c", "d", "e")})
    y = 1.3 * X["a"] ** 2 / X["c"] - 0.4 * np.sqrt(X["b"] * X["d"]) + rng.normal(0, 0.01, n)
    units = {"a": "eV", "b": "eV", "c": "Angstrom", "d": "Angstrom", "e": None}
    return X, y.to_numpy(), units


def _space(virtual: bool, monkeypatch, complexity: int = 4, fortran: bool = False,
           block_bytes: int | None = None) -> FeatureSpace:  # fmt: skip
    X, _, units = _data()
    with monkeypatch.context() as m:
        m.setattr(space_module, "VIRTUAL_TIER", virtual)
        if block_bytes is not None:
            m.setattr(storage_module, "BLOCK_BYTES", block_bytes)
            m.setattr(storage_module, "MIN_BLOCK_ROWS", 1)
        space = FeatureSpace(OPS, max_complexity=complexity, fortran_compatible=fortran)
        space.build(X, list(X.columns), units)
    assert space.tables.virtual_tier == virtual
    return space


def _program(rng, n_operands: int, n_virtual: int) -> tuple[np.ndarray, ...]:
    codes = [CODE[o] for o in ("+", "-", "*", "/", "^2", "sqrt", "exp", "|-|")]
    op = np.r_[np.zeros(n_operands, np.int64), rng.choice(codes, n_virtual)]
    a = np.r_[np.arange(n_operands), rng.integers(0, n_operands, n_virtual)]
    b = np.r_[np.full(n_operands, -1), rng.integers(0, n_operands, n_virtual)]
    unary = np.isin(op, [CODE["^2"], CODE["sqrt"], CODE["exp"]])
    b[unary] = -1
    return op.astype(np.int64), a.astype(np.int64), b.astype(np.int64)


def _stored(seed: int = 1, block_rows: int = 7) -> tuple[StoredValues, np.ndarray]:
    rng = np.random.default_rng(seed)
    operands = rng.uniform(0.2, 2.0, (12, 9))
    op, a, b = _program(rng, 12, 40)
    full = np.vstack([operands, compute_nodes(op[12:], a[12:], b[12:], operands, False)])
    return StoredValues(operands.copy(), op, a, b, False, block_rows=block_rows), full


def test_stored_values_rows_blocks_and_flags():
    store, full = _stored()
    assert store.n_virtual == 40 and store.start == 12
    np.testing.assert_array_equal(store.rows_of(np.array([3, 20, 0, 51, 12])),
                                  full[[3, 20, 0, 51, 12]])  # fmt: skip
    seen = []
    for lo, hi, window in store.blocks():
        assert hi - lo <= 7
        np.testing.assert_array_equal(window[: store.start], full[:12])
        np.testing.assert_array_equal(window[store.start :], full[lo:hi])
        seen.extend(range(lo, hi))
    assert seen == list(range(12, 52))
    status, nonzero, positive = store.status_and_flags(1e-3, 1e5)
    np.testing.assert_array_equal(status, status_of_rows(full, False, 1e-3, 1e5))
    ref_nz, ref_pos = domain_flags(full, False)
    np.testing.assert_array_equal(nonzero, ref_nz)
    np.testing.assert_array_equal(positive, ref_pos)
    np.testing.assert_array_equal(store.full(cache=False), full)
    rows = np.array([0, 0, 3, 8, 5, 5])
    np.testing.assert_array_equal(store.subset(rows).full(cache=False), full[:, rows])


def test_stored_values_pickle():
    store, full = _stored()
    copy = pickle.loads(pickle.dumps(store))
    np.testing.assert_array_equal(copy.full(cache=False), full)
    assert list(copy.blocks())  # the copy has a working lock


def test_candidate_rows_with_virtual_operands():
    store, full = _stored(block_rows=4)  # chunks of 2 candidates: many refills
    rng = np.random.default_rng(5)
    m = 25
    code = rng.choice([-1, CODE["*"], CODE["/"], CODE["^2"], CODE["+"]], m)
    a = rng.integers(0, 52, m)
    b = np.where(np.isin(code, [CODE["^2"], -1]), -1, rng.integers(0, 52, m))
    got = store.candidate_rows(code, a, b)
    new = code >= 0
    expect = np.empty_like(got)
    expect[~new] = full[a[~new]]
    expect[new] = compute_nodes(code[new], a[new], b[new], full, False)
    np.testing.assert_array_equal(got, expect)


def test_virtual_tier_is_used_only_where_allowed(monkeypatch):
    assert _space(True, monkeypatch, complexity=4)._virtual_tier  # rung 3, no tier pairs
    space = FeatureSpace(OPS, max_complexity=5)  # rung 3: rung-2 pairs (2 + 2 + 1 <= 5)
    X, _, units = _data()
    assert not space.build(X, list(X.columns), units)._virtual_tier
    space = FeatureSpace(OPS, max_complexity=3)  # rung 2: tier 1 pairs itself
    assert not space.build(X, list(X.columns), units)._virtual_tier


def _same_screen(first, second):
    assert [f.expression.key for f in first] == [f.expression.key for f in second]
    np.testing.assert_array_equal([f.score for f in first], [f.score for f in second])
    for f, g in zip(first, second, strict=True):
        np.testing.assert_array_equal(f.values, g.values)


@pytest.mark.parametrize("fortran", [False, True])
@pytest.mark.parametrize("block_bytes", [None, 4000])
def test_screens_equal_the_stored_tier(monkeypatch, fortran, block_bytes):
    stored = _space(False, monkeypatch, fortran=fortran)
    virtual = _space(True, monkeypatch, fortran=fortran, block_bytes=block_bytes)
    if block_bytes is not None:
        assert virtual._storage.block_rows < virtual._storage.n_virtual // 10  # many blocks
    np.testing.assert_array_equal(virtual._values, stored._values)
    np.testing.assert_array_equal(virtual._status, stored._status)
    _, y, _ = _data()
    exclude = {stored.screen(PearsonScorer(y), n_sis=3)[0].expression.key}
    for kw in ({}, {"exclude": exclude}):
        _same_screen(virtual.screen(PearsonScorer(y), n_sis=15, **kw),
                     stored.screen(PearsonScorer(y), n_sis=15, **kw))  # fmt: skip
    assert virtual.n_features_per_rung_ == stored.n_features_per_rung_
    rows = np.random.default_rng(3).integers(0, len(y), len(y))
    allowed = np.array([True, False, True, True, True])
    for kw in ({"rows": rows}, {"allowed_primary": allowed},
               {"rows": rows, "allowed_primary": allowed}):  # fmt: skip
        scorer = PearsonScorer(y[kw["rows"]] if "rows" in kw else y)
        _same_screen(virtual.screen(scorer, n_sis=10, **kw), stored.screen(scorer, n_sis=10, **kw))


def test_fits_equal_the_stored_tier(monkeypatch):
    X, y, units = _data(seed=4)
    models = []
    for virtual in (False, True):
        monkeypatch.setattr(space_module, "VIRTUAL_TIER", virtual)
        model = SissoRegressor(n_dim=2, max_complexity=4, operators=OPS, n_sis=20,
                               units=[units[c] for c in X.columns]).fit(X, y)  # fmt: skip
        models.append(model)
    assert models[0].descriptors_ == models[1].descriptors_
    np.testing.assert_array_equal(models[0].coef_, models[1].coef_)
    assert models[0].feature_space_size_ == models[1].feature_space_size_
