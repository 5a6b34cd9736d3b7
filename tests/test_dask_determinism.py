"""Dask determinism and worker loss (issue #14).

Same seed, same result on a Dask cluster of worker *processes* as in one process: ensemble
members (the member path; ``tests/test_ensemble.py`` checks a threaded in-process client),
retrospective campaigns, a regressor whose last-rung SIS is screened in blocks.

Worker loss: a task of a distributed SIS / ensemble SIGKILLs its worker on the first attempt
(a marker file makes only the first attempt die); Dask reruns it on the other worker and the
result equals the serial one. With ``distributed.scheduler.allowed-failures`` = 0 and every
attempt killed, the run stops with :class:`WorkerDiedError` saying what happened.
"""

from __future__ import annotations

import os
import signal

import dask
import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config

import sisso_lite.estimators.ensemble as ensemble_module
import sisso_lite.features.distributed as distributed_module
from sisso_lite.datasets import load_oer_plate
from sisso_lite.estimators import SissoEnsemble, SissoRegressor
from sisso_lite.features import FeatureSpace
from sisso_lite.features.distributed import WorkerDiedError
from sisso_lite.learning.retrospective import run_retrospective
from sisso_lite.solvers.sis import PearsonScorer

distributed = pytest.importorskip("dask.distributed")

OPS = ("+", "-", "*", "/", "^-1", "^2", "sqrt")
CLUSTER = dict(threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1")


def _data(n: int = 40, p: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(0.5, 2.0, (n, p)), columns=[f"x{k}" for k in range(p)])
    y = X.x0 * X.x1 / X.x2 - np.sqrt(X.x3) * X.x0 ** 2 + 0.1 * rng.standard_normal(n)
    return X, y.to_numpy()


def _screen(X, y) -> list:
    space = FeatureSpace(OPS, max_complexity=4).build(X)
    return [(str(f.expression), f.score) for f in space.screen(PearsonScorer(y), 30)]


def _ensemble(**kw) -> SissoEnsemble:
    template = SissoRegressor(n_dim=2, max_complexity=2, operators=OPS[:5], n_sis=8,
                              n_models=1)  # fmt: skip
    return SissoEnsemble(template, n_estimators=6, feature_dropout=0.2, random_state=11,
                         predictive_std="mixture", calibrate="sigma", **kw)  # fmt: skip


def _assert_same_ensemble(a: SissoEnsemble, b: SissoEnsemble, X) -> None:
    for ma, mb in zip(a.members_, b.members_, strict=True):
        np.testing.assert_array_equal(ma.rows, mb.rows)
        assert ma.dropped_features == mb.dropped_features
        assert ma.descriptors == mb.descriptors
        np.testing.assert_array_equal(ma.coefficients, mb.coefficients)
        assert ma.intercept == mb.intercept and ma.error == mb.error
    np.testing.assert_array_equal(a.predict_members(X), b.predict_members(X))
    mu_a, s_a = a.predict(X, return_std=True)
    mu_b, s_b = b.predict(X, return_std=True)
    np.testing.assert_array_equal(mu_a, mu_b)
    np.testing.assert_array_equal(s_a, s_b)
    np.testing.assert_array_equal(a.oob_prediction_, b.oob_prediction_)


def _kill_in_worker(monkeypatch, module, name: str, marker: str | None) -> None:
    """Replace ``module.name``: its first call on a Dask worker (every one if ``marker`` is
    None) kills that worker's process; elsewhere it runs the real function.

    The replacement is what the caller ships to the workers (by value); it holds only names,
    so it does not drag the real function and its numba kernels along by value (those would
    be recompiled on the worker): it looks the real one up on arrival, where the module is
    not patched, or under ``_unpatched_<name>`` in this process.
    """
    modname = module.__name__

    def hook(*args, **kwargs):
        import importlib

        mod = importlib.import_module(modname)
        real = getattr(mod, "_unpatched_" + name, None) or getattr(mod, name)
        try:
            distributed.get_worker()
        except ValueError:  # not on a worker (the SIS pilot block)
            return real(*args, **kwargs)
        if marker is not None:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError:  # a later attempt: run normally
                return real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
        return None  # pragma: no cover - not reached

    monkeypatch.setattr(module, "_unpatched_" + name, getattr(module, name), raising=False)
    monkeypatch.setattr(module, name, hook)


# ------------------------------------------------------------------------ determinism
def test_ensemble_on_process_cluster_equals_serial(client):
    X, y = _data(n=60, seed=2)
    serial = _ensemble(n_jobs=1, batch=False).fit(X, y)  # the member path, in process
    batched = _ensemble(n_jobs=1).fit(X, y)  # n_jobs=1 default: all members in one batch
    with parallel_config(backend="dask"):
        on_dask = _ensemble().fit(X, y)
    _assert_same_ensemble(on_dask, serial, X)
    for ma, mb in zip(batched.members_, on_dask.members_, strict=True):
        assert ma.descriptors == mb.descriptors
    np.testing.assert_allclose(batched.predict_members(X), on_dask.predict_members(X),
                               rtol=1e-10, atol=1e-12)  # fmt: skip


def _drop_timing(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=[c for c in df.columns if "seconds" in c])


def test_retrospective_on_process_cluster_equals_serial(client):
    X, y = load_oer_plate("A")
    plate = X.assign(overpotential_V=y).iloc[::20].copy()
    template = SissoRegressor(n_dim=1, max_complexity=1, operators=OPS[:5], n_sis=5,
                              n_models=1)  # fmt: skip
    strategies = {"rf-ei": {"surrogate": "rf", "acquisition": "ei"},
                  "sisso-ucb": {"surrogate": SissoEnsemble(template, n_estimators=4,
                                                           batch=False),  # see below
                                "acquisition": "ucb"},
                  "random": {"acquisition": "random"}}  # fmt: skip
    kw = dict(seeds=[0, 1], goal="minimize", budget=12, n_initial=6, batch_size=3)
    t1, r1 = run_retrospective(plate, "overpotential_V", strategies, n_jobs=1, **kw)
    with parallel_config(backend="dask"):
        t2, r2 = run_retrospective(plate, "overpotential_V", strategies, **kw)
    pd.testing.assert_frame_equal(t1, t2)
    pd.testing.assert_frame_equal(_drop_timing(r1), _drop_timing(r2))
    assert (r1["final_formula"][r1["strategy"] == "sisso-ucb"] != "").all()


def test_batched_serial_ensemble_equals_dask_with_zero_loads(client):
    """(la_load/ni_load) divides by zero on rows outside member 0's sample: both paths see it."""
    X, y = load_oer_plate("A")
    rows = [60, 300, 960, 1040, 1560, 1980]  # the 6-point initial design of a campaign
    X, y = X.iloc[rows], y.iloc[rows]
    template = SissoRegressor(n_dim=1, max_complexity=1, operators=OPS[:5], n_sis=5,
                              n_models=1)  # fmt: skip
    serial = SissoEnsemble(template, n_estimators=4, random_state=0, n_jobs=1).fit(X, y)
    with parallel_config(backend="dask"):
        on_dask = SissoEnsemble(template, n_estimators=4, random_state=0).fit(X, y)
    assert [m.descriptors for m in serial.members_] == [m.descriptors for m in on_dask.members_]


def test_blocked_regressor_on_process_cluster_equals_serial(client, monkeypatch):
    X, y = _data(seed=3)
    kw = dict(n_dim=2, max_complexity=4, operators=OPS, n_sis=20, n_models=3)
    ref = SissoRegressor(**kw).fit(X, y)
    calls = []
    real = distributed_module.screen_blocks

    def counting(last, store, n_workers):
        calls.append(n_workers)
        real(last, store, n_workers)

    monkeypatch.setattr("sisso_lite.features.screening.screen_blocks", counting)
    monkeypatch.setenv("SISSO_LITE_SIS_BLOCKS", "6")
    with parallel_config(backend="dask"):
        est = SissoRegressor(**kw).fit(X, y)
    assert calls == [2, 2]  # the SIS of both dimensions went out in blocks to 2 workers
    assert est.descriptors_ == ref.descriptors_
    for d in ref.result_.selected:
        assert [str(e) for e in est.result_.selected[d]] == \
            [str(e) for e in ref.result_.selected[d]]  # fmt: skip
        np.testing.assert_array_equal(est.result_.selected_scores[d],
                                      ref.result_.selected_scores[d])  # fmt: skip
    pd.testing.assert_frame_equal(est.models_, ref.models_)
    np.testing.assert_array_equal(est.coef_, ref.coef_)
    np.testing.assert_array_equal(est.predict(X), ref.predict(X))


# ------------------------------------------------------------------------ worker loss
def test_worker_killed_during_sis_is_rerun(client, monkeypatch, tmp_path):
    X, y = _data()
    serial = _screen(X, y)
    marker = tmp_path / "killed"
    _kill_in_worker(monkeypatch, distributed_module, "_screen_block", str(marker))
    monkeypatch.setenv("SISSO_LITE_SIS_BLOCKS", "7")
    with parallel_config(backend="dask"):
        got = _screen(X, y)
    assert marker.exists()  # a worker did die
    assert got == serial
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it


def test_worker_killed_during_ensemble_is_rerun(client, monkeypatch, tmp_path):
    X, y = _data(n=200, seed=4)  # rows and y above 1 kB (joblib would scatter them)
    serial = _ensemble(n_jobs=1, batch=False).fit(X, y)
    marker = tmp_path / "killed"
    _kill_in_worker(monkeypatch, ensemble_module, "_fit_member", str(marker))
    with parallel_config(backend="dask"):
        got = _ensemble(verbose=1).fit(X, y)
    assert marker.exists()
    _assert_same_ensemble(got, serial, X)
    client.wait_for_workers(2, timeout=60)


@pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning")
def test_retries_exhausted_stop_with_a_clear_message(monkeypatch):
    X, y = _data()
    _kill_in_worker(monkeypatch, distributed_module, "_screen_block", None)
    _kill_in_worker(monkeypatch, ensemble_module, "_fit_member", None)
    monkeypatch.setenv("SISSO_LITE_SIS_BLOCKS", "3")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=1, **CLUSTER) as cluster, \
            distributed.Client(cluster) as c, parallel_config(backend="dask"):  # fmt: skip
        with pytest.raises(WorkerDiedError, match=(
                r"a Dask worker died while screening the last rung of SIS in 2 blocks "
                r"\(KilledWorker: .*\); the result is incomplete .* rerun; .*"
                r"distributed.scheduler.allowed-failures times \(here 0\)")) as info:
            _screen(X, y)
        assert type(info.value.__cause__).__name__ == "KilledWorker"
        c.wait_for_workers(1, timeout=60)
        with pytest.raises(WorkerDiedError, match=r"while fitting 6 ensemble members"):
            _ensemble(batch=False).fit(X, y)
