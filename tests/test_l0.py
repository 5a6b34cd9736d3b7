"""Exact L0 search: numba kernel vs the itertools/lstsq reference."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sisso_lite.solvers.l0 import (
    _binom_table,
    _heap_push,
    _unrank,
    l0_search,
    refit_model,
)
from sisso_lite.solvers.l0_reference import l0_search_numpy


def _problem(seed, n=25, m=10, n_tasks=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m)) * rng.uniform(0.01, 100.0, size=m) + rng.normal(size=m)
    y = 1.5 * X[:, 2] / X[:, 2].std() - X[:, 7] / X[:, 7].std() + 0.3 * rng.normal(size=n)
    tasks = None if n_tasks == 1 else rng.integers(0, n_tasks, size=n)
    return X, y, tasks


def _same(a, b, metric):
    assert [mod.indices for mod in a] == [mod.indices for mod in b]
    for ma, mb in zip(a, b, strict=True):
        np.testing.assert_allclose(ma.rmse, mb.rmse, rtol=1e-10)
        np.testing.assert_allclose(ma.maxae, mb.maxae, rtol=1e-10)
        np.testing.assert_allclose(ma.coefficients, mb.coefficients, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(ma.intercept, mb.intercept, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("metric", ["rmse", "maxae"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_tasks", [1, 3])
def test_numba_matches_numpy(seed, metric, fit_intercept, n_tasks):
    X, y, tasks = _problem(seed, n_tasks=n_tasks)
    for dim in (1, 2, 3):
        fast = l0_search(X, y, dim, 7, fit_intercept, metric, tasks=tasks)
        ref = l0_search_numpy(X, y, dim, 7, fit_intercept, metric, tasks=tasks)
        _same(fast, ref, metric)


@pytest.mark.parametrize("task_weighting", [1, 2])
def test_task_weighting(task_weighting):
    X, y, tasks = _problem(11, n=40, n_tasks=2)
    fast = l0_search(X, y, 2, 5, tasks=tasks, task_weighting=task_weighting)
    ref = l0_search_numpy(X, y, 2, 5, tasks=tasks, task_weighting=task_weighting)
    _same(fast, ref, "rmse")
    best = fast[0]
    counts = np.bincount(np.unique(tasks, return_inverse=True)[1])
    if task_weighting == 1:
        expected = np.sqrt(np.mean(best.task_rmse**2))
    else:
        expected = np.sqrt(np.sum(counts * best.task_rmse**2) / counts.sum())
    assert best.rmse == pytest.approx(expected, rel=1e-12)


def test_block_split_does_not_change_result():
    X, y, _ = _problem(3, n=30, m=14)
    ref = l0_search(X, y, 3, 20, n_blocks=1)
    for n_blocks in (2, 7, 64, 1000):
        _same(l0_search(X, y, 3, 20, n_blocks=n_blocks), ref, "rmse")


def test_exact_model_found_with_collinear_and_constant_columns():
    rng = np.random.default_rng(5)
    X = rng.uniform(1, 2, size=(30, 8))
    X[:, 3] = 2.0 * X[:, 1]  # collinear pair
    X[:, 5] = 4.0  # constant column
    y = 3.0 * X[:, 0] - 2.0 * X[:, 6] + 0.5
    best = l0_search(X, y, 2, 3)[0]
    assert best.indices == (0, 6)
    np.testing.assert_allclose(best.coefficients[0], [3.0, -2.0], rtol=1e-10)
    assert best.intercept[0] == pytest.approx(0.5, rel=1e-10)
    assert best.rmse < 1e-12
    for mod in l0_search(X, y, 2, 50):
        assert mod.indices != (1, 3)
        assert 5 not in mod.indices


def test_unrank_enumerates_lexicographically():
    m, k = 9, 3
    binom = _binom_table(m, k)
    combos = list(itertools.combinations(range(m), k))
    assert binom[m, k] == len(combos)
    out = np.empty(k, dtype=np.int64)
    for rank, combo in enumerate(combos):
        _unrank(rank, m, k, binom, out)
        assert tuple(out) == combo


def test_heap_keeps_smallest():
    rng = np.random.default_rng(0)
    values = rng.normal(size=200)
    err_h = np.full(10, np.inf)
    idx_h = np.zeros((10, 1), dtype=np.int64)
    n = 0
    for i, v in enumerate(values):
        n = _heap_push(err_h, idx_h, n, 10, v, np.array([i], dtype=np.int64))
    np.testing.assert_allclose(np.sort(err_h), np.sort(values)[:10])
    np.testing.assert_allclose(values[idx_h[:, 0]], err_h)


def test_refit_matches_lstsq():
    X, y, _ = _problem(2)
    mod = refit_model(X, y, (1, 4), fit_intercept=True)
    A = np.column_stack([X[:, [1, 4]], np.ones(len(y))])
    sol = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(mod.coefficients[0], sol[:2])
    assert mod.rmse == pytest.approx(np.sqrt(np.mean((y - A @ sol) ** 2)))


def test_input_errors():
    X, y, _ = _problem(0)
    with pytest.raises(ValueError, match="dim"):
        l0_search(X, y, 0)
    with pytest.raises(ValueError, match="metric"):
        l0_search(X, y, 1, metric="mae")
    with pytest.raises(ValueError, match="rows"):
        l0_search(X, y[:-1], 1)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        l0_search(X, y, 1)


def test_maxae_bound_exact_on_near_perfect_fits():
    rng = np.random.default_rng(8)
    X = rng.uniform(1, 3, size=(40, 9))
    X[:, 4] = X[:, 0] + 1e-7 * rng.normal(size=40)  # near-duplicate of the true column
    y = 2.0 * X[:, 0] - X[:, 3] + 1e-9 * rng.normal(size=40)
    fast = l0_search(X, y, 2, 6, metric="maxae")
    ref = l0_search_numpy(X, y, 2, 6, metric="maxae")
    assert fast[0].indices == (0, 3)
    assert [m.indices for m in fast] == [m.indices for m in ref]


@pytest.mark.parametrize("metric", ["rmse", "maxae"])
def test_serial_kernel_matches_parallel(metric):
    """``serial=True`` (the nogil kernel the ensemble members run in threads) gives the
    parallel kernel's models, for one task and several."""
    for n_tasks in (1, 3):
        X, y, tasks = _problem(11, n=40, m=16, n_tasks=n_tasks)
        for dim in (1, 2, 3):
            kw = dict(metric=metric, tasks=tasks)
            _same(l0_search(X, y, dim, 7, serial=True, **kw), l0_search(X, y, dim, 7, **kw),
                  metric)
