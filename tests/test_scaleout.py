"""Scale-out on a Dask LocalCluster: distributed last-rung SIS, memory guard, pool screening.

Every distributed result is compared with the serial one (same features, same scores, same
rows); one cluster (2 worker processes, 1 thread each, loopback) is shared by the module.
"""

from __future__ import annotations

import math

import dask
import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config

from sisso_lite.estimators import SissoEnsemble, SissoRegressor
from sisso_lite.features import FeatureSpace
from sisso_lite.features.distributed import block_ranges, blocks_backend
from sisso_lite.features.memory import MemoryLimitError, memory_limit, parse_limit, total_ram
from sisso_lite.features.screening import _allowed_features, _LastRung
from sisso_lite.learning.acquisition import expected_improvement, select_top
from sisso_lite.learning.pool_screen import screen_pool
from sisso_lite.learning.prediction import Prediction
from sisso_lite.solvers.sis import PearsonScorer

distributed = pytest.importorskip("dask.distributed")

OPS = ("+", "-", "*", "/", "^-1", "^2", "sqrt")


def _data(n: int = 40, p: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(0.5, 2.0, (n, p)), columns=[f"x{k}" for k in range(p)])
    y = X.x0 * X.x1 / X.x2 - np.sqrt(X.x3) * X.x0 ** 2 + 0.01 * rng.standard_normal(n)
    return X, y.to_numpy()


def _screen(space: FeatureSpace, y: np.ndarray, n_sis: int = 30):
    return [(str(f.expression), f.score) for f in space.screen(PearsonScorer(y), n_sis)]


@pytest.mark.parametrize("complexity", [4, 5])  # 4: rung-2 tier virtual; 5: stored
def test_distributed_sis_equals_serial(client, complexity, monkeypatch):
    X, y = _data()
    serial_space = FeatureSpace(OPS, max_complexity=complexity).build(X)
    serial = _screen(serial_space, y)
    space = FeatureSpace(OPS, max_complexity=complexity).build(X)
    assert space._virtual_tier == (complexity == 4)
    monkeypatch.setenv("SISSO_LITE_SIS_BLOCKS", "7")
    with parallel_config(backend="dask"):
        assert blocks_backend() == 2
        blocked = _screen(space, y)
    assert blocked == serial  # same expressions, bit-identical scores, same order
    assert space.n_features_per_rung_ == serial_space.n_features_per_rung_
    assert space.n_features_per_rung_[-1] > 100_000  # a real rung-3 space


def test_block_ranges_cover_the_tier(monkeypatch):
    X, y = _data()
    space = FeatureSpace(OPS, max_complexity=4).build(X)
    store = space._storage
    store.block_rows = 300  # force several windows
    allowed = _allowed_features(space, None)
    last = _LastRung(space, space._rung_inputs(), allowed, 100, PearsonScorer(y).fast_path())
    monkeypatch.setenv("SISSO_LITE_SIS_BLOCKS", "3")
    bounds = block_ranges(last, store, 2)
    assert bounds[0] == last.tier_start and bounds[-1] == store.n_total
    assert np.all(np.diff(bounds) > 0) and np.all(np.diff(bounds) <= 300)
    monkeypatch.setenv("SISSO_LITE_SIS_BLOCKS", "zero")
    with pytest.raises(ValueError, match="SISSO_LITE_SIS_BLOCKS"):
        block_ranges(last, store, 2)


def test_blocks_backend_only_for_process_backends():
    assert blocks_backend() is None
    with parallel_config(backend="threading", n_jobs=2):
        assert blocks_backend() is None
    with parallel_config(backend="loky", n_jobs=2):
        assert blocks_backend() == 2


def test_regressor_fit_on_cluster_equals_serial(client):
    X, y = _data(seed=3)
    kw = dict(n_dim=2, max_complexity=4, operators=OPS, n_sis=20, n_models=3)
    ref = SissoRegressor(**kw).fit(X, y)
    with parallel_config(backend="dask"):
        est = SissoRegressor(**kw).fit(X, y)
    for d in ref.result_.selected:
        assert [str(e) for e in est.result_.selected[d]] == [str(e) for e in
                                                              ref.result_.selected[d]]
        np.testing.assert_array_equal(est.result_.selected_scores[d],
                                      ref.result_.selected_scores[d])
    assert [str(e) for e in est.expressions_] == [str(e) for e in ref.expressions_]
    np.testing.assert_array_equal(est.coef_, ref.coef_)


# ------------------------------------------------------------------------- memory guard
def test_memory_guard_refuses_a_large_rung():
    X, _ = _data(n=200, p=10)
    with pytest.raises(MemoryLimitError, match=r"storing rung 2 .*max_complexity=5.*n_sis"):
        FeatureSpace(OPS, max_complexity=5, memory_limit="20MB").build(X)
    with pytest.raises(MemoryLimitError, match=r"building rung 2 .*candidate records"):
        FeatureSpace(OPS, max_complexity=5, memory_limit="2MB").build(X)
    space = FeatureSpace(OPS, max_complexity=4, memory_limit="20MB").build(X)  # virtual tier
    assert space.n_features_per_rung_[2] > 10_000


def test_memory_guard_on_n_sis_and_env(monkeypatch):
    X, y = _data()
    space = FeatureSpace(OPS, max_complexity=3).build(X)
    monkeypatch.setenv("SISSO_LITE_MEMORY_LIMIT", "5MB")
    assert memory_limit() == 5e6
    assert len(space.screen(PearsonScorer(y), 10)) == 10
    with pytest.raises(MemoryLimitError, match=r"SIS with n_sis=100000.*lower n_sis"):
        space.screen(PearsonScorer(y), 100_000)
    monkeypatch.setenv("SISSO_LITE_MEMORY_LIMIT", "none")
    assert memory_limit() is None
    monkeypatch.setenv("SISSO_LITE_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="SISSO_LITE_MEMORY_LIMIT='lots'"):
        memory_limit()
    monkeypatch.delenv("SISSO_LITE_MEMORY_LIMIT")
    assert memory_limit() == pytest.approx(0.75 * total_ram())
    assert parse_limit("50%") == pytest.approx(0.5 * total_ram())
    assert parse_limit("2GiB") == 2 * 2**30 and parse_limit(1e9) == 1e9


# ------------------------------------------------------------------------ pool screen
@pytest.fixture(scope="module")
def ensemble():
    X, y = _data(n=40, p=4, seed=1)
    template = SissoRegressor(n_dim=1, max_complexity=2, operators=OPS, n_sis=5, n_models=1)
    return SissoEnsemble(template, n_estimators=5, random_state=0).fit(X, y)


def _pool(n: int = 3000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pool = pd.DataFrame(rng.uniform(0.5, 2.0, (n, 4)), columns=[f"x{k}" for k in range(4)])
    pool.insert(0, "id", [f"c{k}" for k in range(n)])
    pool.iloc[::500, 1:] = pool.iloc[1::500, 1:].to_numpy()  # duplicates: tied scores
    return pool


def _load(pool: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    return pool.iloc[lo:hi]  # stands for e.g. pandas.read_parquet(path) on a worker


def _in_memory(model, pool, fn, k, best, goal, params):
    mu, sigma = model.predict(pool[["x0", "x1", "x2", "x3"]], return_std=True)
    score = fn(Prediction(mu, sigma), best=best, goal=goal, **params)
    top = select_top(score, k)
    return pool.iloc[top].assign(mu=mu[top], sigma=sigma[top], acquisition=score[top])


@pytest.mark.parametrize(("acq", "best", "goal", "params"), [
    ("ei", math.nan, "maximize", {}),
    ("ucb", math.nan, "minimize", {"kappa": 2.0}),
    ("pi", 1.5, "maximize", {"xi": 0.01}),
])
def test_pool_screen_dask_equals_in_memory(client, ensemble, acq, best, goal, params):
    from sisso_lite.learning.acquisition import get_acquisition

    pool = _pool()
    features = ["x0", "x1", "x2", "x3"]
    ref = _in_memory(ensemble, pool, get_acquisition(acq), 25, best, goal, params)
    chunks = [pool.iloc[k: k + 700] for k in range(0, len(pool), 700)]
    parts = [dask.delayed(_load)(pool, k, k + 700) for k in range(0, len(pool), 700)]
    got = screen_pool(ensemble, parts, acq, k=25, best=best, goal=goal, features=features,
                      params=params)  # one task per partition on the cluster
    pd.testing.assert_frame_equal(got, ref)
    pd.testing.assert_frame_equal(screen_pool(ensemble, chunks, acq, k=25, best=best,
                                              goal=goal, features=features, params=params),
                                  ref)  # fmt: skip


def test_pool_screen_dask_dataframe(client, ensemble):
    dd = pytest.importorskip("dask.dataframe")  # needs pyarrow
    pool = _pool()
    ref = _in_memory(ensemble, pool, expected_improvement, 10, math.nan, "maximize", {})
    with dask.config.set({"dataframe.convert-string": False}):  # keep the ids as objects
        parts = dd.from_pandas(pool, npartitions=5)
    got = screen_pool(ensemble, parts, "ei", k=10, features=["x0", "x1", "x2", "x3"])
    pd.testing.assert_frame_equal(got, ref)


def test_pool_screen_refusals(ensemble):
    pool = _pool(200)
    with pytest.raises(ValueError, match="stochastic"):
        screen_pool(ensemble, pool, "thompson", k=3, features=["x0", "x1", "x2", "x3"])
    with pytest.raises(ValueError, match="two passes"):
        screen_pool(ensemble, iter([pool]), expected_improvement, k=3,
                    features=["x0", "x1", "x2", "x3"])
    with pytest.raises(KeyError, match="x9"):
        screen_pool(ensemble, pool, "ucb", k=3, features=["x0", "x9"])
    got = screen_pool(ensemble, lambda: iter([pool[:90], pool[90:]]), "ei", k=5,
                      features=["x0", "x1", "x2", "x3"])
    assert len(got) == 5 and list(got.columns[-3:]) == ["mu", "sigma", "acquisition"]
