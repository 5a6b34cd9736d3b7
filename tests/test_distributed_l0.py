"""The L0 search split into ranges of combinations on a Dask LocalCluster (issue #14).

Every distributed search is compared with the serial one: same models in the same order,
bit-identical coefficients, intercepts and errors. One cluster (2 worker processes, 1 thread
each, loopback) is shared by the module.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config

from sisso_lite.estimators import SissoRegressor
from sisso_lite.solvers import distributed_l0
from sisso_lite.solvers.distributed_l0 import (
    MIN_COMBINATIONS,
    combination_ranges,
    min_combinations,
    requested_ranges,
)
from sisso_lite.solvers.l0 import l0_search
from sisso_lite.solvers.l0_reference import l0_search_numpy

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture
def split_always(monkeypatch):
    """Every search is large enough, in 5 ranges."""
    monkeypatch.setenv("SISSO_LITE_L0_MIN_COMBINATIONS", "0")
    monkeypatch.setenv("SISSO_LITE_L0_RANGES", "5")


def _data(n: int = 40, m: int = 24, seed: int = 0, duplicate: bool = False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, m))
    if duplicate:  # every column twice: many models with bit-equal errors
        X[:, m // 2:] = X[:, : m // 2]
    y = X[:, 0] - 2.0 * X[:, 3] + 0.5 * X[:, 5] * X[:, 1] + 0.1 * rng.standard_normal(n)
    return X, y


def _same(serial, dist):
    assert len(dist) == len(serial)
    for rank, (a, b) in enumerate(zip(serial, dist, strict=True)):
        if hasattr(a, "indices"):  # L0Model
            assert a.indices == b.indices, rank
        else:  # SissoModel
            assert [str(e) for e in a.expressions] == [str(e) for e in b.expressions], rank
        assert np.array_equal(a.coefficients, b.coefficients), rank
        assert np.array_equal(a.intercept, b.intercept), rank
        assert a.rmse == b.rmse and a.maxae == b.maxae, rank
        assert np.array_equal(a.task_rmse, b.task_rmse), rank
        assert np.array_equal(a.task_maxae, b.task_maxae), rank


def _on_cluster(client, fn):
    """``fn()`` under the Dask backend; also returns the number of ranges run on the workers
    (submitted as tasks of their own, keys ``_search_range-<hash>``; a task rerun after a
    lost worker would count twice)."""
    with parallel_config(backend="dask"), distributed.get_task_stream(client) as ts:
        out = fn()
    keys = [str(t["key"]) for t in ts.data]
    return out, sum(1 for key in keys if re.search(r"_search_range-", key))


# ---------------------------------------------------------------------------------------------
# the range splitter (no cluster)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("m", "k", "n_blocks", "n_ranges"), [
    (24, 2, 16, 5), (24, 3, 16, 16), (24, 3, 16, 40), (30, 2, 7, 3), (5, 3, 64, 4),
    (3, 3, 16, 4), (300, 3, 16, 8), (10, 1, 3, 1)])  # fmt: skip
def test_ranges_cover_the_combinations_exactly(m, k, n_blocks, n_ranges):
    total = math.comb(m, k)
    per = -(-total // n_blocks)
    ranges = combination_ranges(m, k, n_blocks, n_ranges)
    blk_lo, blk_hi, lo, hi = ranges.T
    assert lo[0] == 0 and hi[-1] == total
    assert np.array_equal(lo[1:], hi[:-1]) and np.array_equal(blk_lo[1:], blk_hi[:-1])
    assert np.all(hi > lo) and blk_lo[0] == 0 and blk_hi[-1] <= n_blocks
    assert np.array_equal(lo, blk_lo * per)  # whole serial blocks
    assert np.array_equal(hi, np.minimum(blk_hi * per, total))
    assert len(ranges) == min(n_ranges, -(-total // per))
    sizes = np.diff(np.append(blk_lo, blk_hi[-1]))
    assert sizes.max() - sizes.min() <= 1  # about equal


def test_threshold_and_env(monkeypatch):
    monkeypatch.delenv("SISSO_LITE_L0_MIN_COMBINATIONS", raising=False)
    monkeypatch.delenv("SISSO_LITE_L0_RANGES", raising=False)
    assert min_combinations() == MIN_COMBINATIONS and requested_ranges(3) == 12
    monkeypatch.setenv("SISSO_LITE_L0_MIN_COMBINATIONS", "100")
    monkeypatch.setenv("SISSO_LITE_L0_RANGES", "2")
    assert min_combinations() == 100 and requested_ranges(3) == 2
    monkeypatch.setenv("SISSO_LITE_L0_RANGES", "0")
    with pytest.raises(ValueError, match="SISSO_LITE_L0_RANGES"):
        requested_ranges(2)
    monkeypatch.setenv("SISSO_LITE_L0_MIN_COMBINATIONS", "many")
    with pytest.raises(ValueError, match="SISSO_LITE_L0_MIN_COMBINATIONS"):
        min_combinations()
    with pytest.raises(ValueError):
        combination_ranges(10, 2, 0, 1)


def test_small_or_serial_searches_stay_in_process(monkeypatch):
    """Below the threshold, without a process backend, or with ``serial=True``: no ranges."""
    calls = []
    monkeypatch.setattr(distributed_l0, "search_in_ranges",
                        lambda *a, **kw: calls.append(1))  # fmt: skip
    X, y = _data()
    monkeypatch.setenv("SISSO_LITE_L0_MIN_COMBINATIONS", str(math.comb(24, 2) + 1))
    with parallel_config(backend="loky", n_jobs=2):
        l0_search(X, y, 2)
    monkeypatch.setenv("SISSO_LITE_L0_MIN_COMBINATIONS", "0")
    l0_search(X, y, 2)  # no parallel_config
    with parallel_config(backend="threading", n_jobs=2):
        l0_search(X, y, 2)
    with parallel_config(backend="loky", n_jobs=2):
        l0_search(X, y, 2, serial=True)
    assert calls == []


def test_ranges_in_process_equal_serial_and_reference(monkeypatch):
    """The range tasks themselves (no cluster): same models as the serial kernel and NumPy."""
    X, y = _data(m=14)
    for k in (2, 3):
        serial = l0_search(X, y, k, n_models=6)
        _same(l0_search_numpy(X, y, k, n_models=6), serial)
        with monkeypatch.context() as mp, parallel_config(backend="sequential"):
            mp.setattr(distributed_l0, "search_ranges_if_worth",
                       lambda *a: distributed_l0.search_in_ranges(*a, n_ranges=3))
            ranged = l0_search(X, y, k, n_models=6)
        _same(serial, ranged)


# ---------------------------------------------------------------------------------------------
# on the cluster
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [2, 3])
def test_l0_ranges_on_cluster_equal_serial(client, split_always, dim):
    X, y = _data()
    serial = l0_search(X, y, dim, n_models=10)
    dist, n_tasks = _on_cluster(client, lambda: l0_search(X, y, dim, n_models=10))
    assert n_tasks == 5
    _same(serial, dist)


def test_l0_ranges_with_ties_equal_serial(client, split_always):
    """Duplicated columns: bit-equal errors inside blocks and across the cut of ``n_models``."""
    X, y = _data(m=30, duplicate=True)
    for dim, n_models in ((2, 3), (3, 6)):
        wider = l0_search(X, y, dim, n_models=n_models + 4, n_blocks=40)
        rmse = [mod.rmse for mod in wider]
        assert rmse[n_models - 1] == rmse[n_models]  # a tie straddles the cut
        serial = l0_search(X, y, dim, n_models=n_models, n_blocks=40)
        dist, n_tasks = _on_cluster(
            client, lambda d=dim, n=n_models: l0_search(X, y, d, n_models=n, n_blocks=40))
        assert n_tasks == 5
        _same(serial, dist)


def test_l0_ranges_maxae_and_tasks(client, split_always):
    X, y = _data()
    tasks = np.repeat([0, 1, 2, 3], 10)
    for kw in (dict(metric="maxae"), dict(tasks=tasks), dict(tasks=tasks, task_weighting=2),
               dict(fit_intercept=False)):
        serial = l0_search(X, y, 2, n_models=5, **kw)
        dist, n_tasks = _on_cluster(client, lambda kw=kw: l0_search(X, y, 2, n_models=5, **kw))
        assert n_tasks == 5
        _same(serial, dist)


def test_regressor_n_dim3_on_cluster_equals_serial(client, split_always):
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.uniform(0.5, 2.0, (40, 5)), columns=[f"x{k}" for k in range(5)])
    y = (X.x0 * X.x1 - 2.0 / X.x2 + np.sqrt(X.x3) + 0.01 * rng.standard_normal(40)).to_numpy()
    kw = dict(n_dim=3, max_complexity=3, n_sis=12, n_models=4,
              operators=("+", "-", "*", "/", "sqrt"))
    ref = SissoRegressor(**kw).fit(X, y)
    est, n_tasks = _on_cluster(client, lambda: SissoRegressor(**kw).fit(X, y))
    assert n_tasks == 3 * 5  # every dimension's L0 in 5 ranges
    assert est.result_.models.keys() == ref.result_.models.keys() == {1, 2, 3}
    for d, models in ref.result_.models.items():
        _same(models, est.result_.models[d])
    assert np.array_equal(est.coef_, ref.coef_) and est.intercept_ == ref.intercept_
