"""Progress bars on long steps (issue #16): shown with ``verbose >= 1``, silent otherwise, and
never a change of result.

Covered here: the last-rung screen (all rows stored: groups of kernel chunks; virtual
rows: windows; generic scorers: blocks of candidates), the L0 search of ``d >= 3``, and
the subgroup search (exact branch-and-bound, threaded, beam). Ensembles and ``SissoCV``
have their own tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import sisso_lite.features.space as space_module
import sisso_lite.features.storage as storage_module
from sisso_lite import SissoClassifier, SissoRegressor
from sisso_lite._numba_setup import QUIET_ENV
from sisso_lite.features import FeatureSpace
from sisso_lite.features.screening import PROGRESS_MIN_STEPS, screen_progress, screen_space
from sisso_lite.solvers.l0 import l0_search
from sisso_lite.solvers.sis import PearsonScorer
from sisso_lite.subgroups import SubgroupDiscovery
from sisso_lite.subgroups.search import Problem, beam_search, search_exact
from sisso_lite.subgroups.selectors import as_frame, make_selectors, selector_masks

OPS = ("+", "-", "*", "/", "^-1", "^2", "sqrt", "exp", "log", "|-|")


@pytest.fixture(autouse=True)
def _no_compile_notice(monkeypatch):
    """The one-line compile notice (first use of a kernel) is not a progress bar."""
    monkeypatch.setenv(QUIET_ENV, "1")


def _wide(n_primary: int = 20, n: int = 60, seed: int = 0):
    """Enough primary features for > 1000 tier features at max_complexity=3."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(1.0, 2.0, size=(n, n_primary))
    y = X[:, 0] * X[:, 1] + X[:, 2] / X[:, 3] + 0.1 * X[:, 4] + 0.01 * rng.normal(size=n)
    return X, y


def _screened(features) -> list[tuple[str, float, bytes]]:
    return [(str(f.expression), f.score, np.asarray(f.values).tobytes()) for f in features]


def _model_table(est) -> pd.DataFrame:
    return est.models_.drop(columns=[c for c in est.models_.columns if "time" in c])


# ------------------------------------------------------------------ last-rung screen


def test_screen_bar_stored_rows_same_features(capfd):
    X, y = _wide()
    space = FeatureSpace(("+", "-", "*", "/", "cos", "|-|"), max_complexity=3)
    space.build(X, [f"x{i}" for i in range(X.shape[1])])
    assert space._storage.n_virtual == 0  # one window: the bar is over groups of chunks
    assert space.n_stored_ - space._rung_inputs(None, None)["tier_start"] > 1000
    scorer = PearsonScorer(y - y.mean())
    capfd.readouterr()
    quiet = space.screen(scorer, n_sis=15)
    assert capfd.readouterr().err == ""
    with screen_progress():
        shown = space.screen(scorer, n_sis=15, exclude={quiet[0].expression.key})
        again = space.screen(scorer, n_sis=15)
    err = capfd.readouterr().err
    assert "SIS last rung" in err and "candidates=" in err
    assert _screened(again) == _screened(quiet)
    assert _screened(shown) == _screened(space.screen(scorer, n_sis=15,
                                                      exclude={quiet[0].expression.key}))
    # explicit argument, on bootstrap rows
    rows = np.random.default_rng(1).integers(0, len(y), len(y))
    sub = PearsonScorer(y[rows] - y[rows].mean())
    on = screen_space(space, sub, 10, None, rows, None, progress=True)
    off = screen_space(space, sub, 10, None, rows, None, progress=False)
    assert _screened(on) == _screened(off)


def test_screen_bar_virtual_windows_same_features(capfd, monkeypatch):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({k: rng.uniform(0.5, 3.0, 30) for k in ("a", "b", "c", "d", "e")})
    y = (1.3 * X["a"] ** 2 / X["c"] - 0.4 * np.sqrt(X["b"] * X["d"])).to_numpy()
    with monkeypatch.context() as m:
        m.setattr(space_module, "VIRTUAL_TIER", True)
        m.setattr(storage_module, "BLOCK_BYTES", 8 * 30 * 64)  # 64 virtual rows a window
        m.setattr(storage_module, "MIN_BLOCK_ROWS", 1)
        space = FeatureSpace(OPS, max_complexity=4)
        space.build(X, list(X.columns))
    store = space._storage
    assert store.n_virtual and -(-store.n_virtual // store.block_rows) >= PROGRESS_MIN_STEPS
    scorer = PearsonScorer(y - y.mean())
    capfd.readouterr()
    quiet = space.screen(scorer, n_sis=10)
    assert capfd.readouterr().err == ""
    with screen_progress():
        shown = space.screen(scorer, n_sis=10)
    assert "SIS last rung" in capfd.readouterr().err
    assert _screened(shown) == _screened(quiet)


class _GenericScorer:
    """A scorer without ``fast_path``: the last rung goes through ``score_block``."""

    def __init__(self, residual):
        self._inner = PearsonScorer(residual)
        self.n_samples = self._inner.n_samples

    def score_block(self, values):
        return self._inner.score_block(values)


def test_screen_bar_generic_scorer_same_features(capfd):
    X, y = _wide()
    space = FeatureSpace(("+", "-", "*", "/", "cos", "|-|"), max_complexity=3)
    space.build(X, [f"x{i}" for i in range(X.shape[1])])
    scorer = _GenericScorer(y - y.mean())
    capfd.readouterr()
    quiet = space.screen(scorer, n_sis=8)
    assert capfd.readouterr().err == ""
    with screen_progress():
        shown = space.screen(scorer, n_sis=8)
    assert "SIS last rung" in capfd.readouterr().err
    assert _screened(shown) == _screened(quiet)


def test_screen_small_space_no_bar(capfd):
    X, y = _wide(n_primary=5)
    space = FeatureSpace(("+", "-", "*", "/"), max_complexity=2)
    space.build(X, [f"x{i}" for i in range(5)])
    capfd.readouterr()
    with screen_progress():
        space.screen(PearsonScorer(y - y.mean()), n_sis=5)
    assert capfd.readouterr().err == ""


def test_screen_progress_is_scoped():
    from sisso_lite.features import screening

    assert screening._PROGRESS.get() is False
    with screen_progress():
        assert screening._PROGRESS.get() is True
        with screen_progress(False):
            assert screening._PROGRESS.get() is False
    assert screening._PROGRESS.get() is False


# ------------------------------------------------------------------ L0 search


@pytest.mark.parametrize("metric", ["rmse", "maxae"])
def test_l0_bar_same_models(capfd, metric):
    rng = np.random.default_rng(3)
    F = rng.normal(size=(40, 18))
    F[:, 5] = 2.0 * F[:, 4]  # exactly tied models
    F[:, 9] = F[:, 2]
    y = F[:, 0] - 0.5 * F[:, 4] + 0.3 * F[:, 7] + 0.01 * rng.normal(size=40)
    tasks = np.repeat([0, 1], 20)
    for kw in ({}, {"tasks": tasks}, {"fit_intercept": False, "n_blocks": 7}):
        capfd.readouterr()
        off = l0_search(F, y, 3, n_models=25, metric=metric, **kw)
        assert capfd.readouterr().err == ""
        on = l0_search(F, y, 3, n_models=25, metric=metric, progress=True, **kw)
        assert "L0 d=3" in capfd.readouterr().err
        assert [m.indices for m in on] == [m.indices for m in off]
        for a, b in zip(on, off, strict=True):
            assert a.rmse == b.rmse and a.maxae == b.maxae
            np.testing.assert_array_equal(a.coefficients, b.coefficients)
            np.testing.assert_array_equal(a.intercept, b.intercept)


# ------------------------------------------------------------------ estimators


def test_regressor_verbose_bars_same_fit(capfd):
    X, y = _wide()
    kw = dict(n_dim=3, max_complexity=3, n_sis=10, operators=["+", "-", "*", "/", "cos", "|-|"])
    capfd.readouterr()
    quiet = SissoRegressor(**kw, verbose=0).fit(X, y)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    loud = SissoRegressor(**kw, verbose=1).fit(X, y)
    out, err = capfd.readouterr()
    assert out == ""
    assert "SISSO" in err and "SIS last rung" in err and "L0 d=3" in err
    assert loud.descriptors_ == quiet.descriptors_
    np.testing.assert_array_equal(loud.coef_, quiet.coef_)
    assert loud.intercept_ == quiet.intercept_
    pd.testing.assert_frame_equal(_model_table(loud), _model_table(quiet))
    assert loud.feature_space_size_ == quiet.feature_space_size_


def test_regressor_l0_bar_only_from_dimension_3(capfd):
    X, y = _wide(n_primary=6)
    kw = dict(n_dim=2, max_complexity=1, n_sis=10)
    capfd.readouterr()
    SissoRegressor(**kw, verbose=True).fit(X, y)
    err = capfd.readouterr().err
    assert "SISSO" in err and "L0 d=" not in err and "SIS last rung" not in err


def test_classifier_verbose_same_fit(capfd):
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 2.0, size=(60, 6))
    y = (X[:, 0] * X[:, 1] > X[:, 2] + 0.8).astype(int)
    kw = dict(n_dim=3, max_complexity=2, n_sis=8)
    capfd.readouterr()
    quiet = SissoClassifier(**kw, verbose=0).fit(X, y)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    loud = SissoClassifier(**kw, verbose=1).fit(X, y)
    err = capfd.readouterr().err
    assert "SissoClassifier" in err
    assert loud.descriptors_ == quiet.descriptors_
    pd.testing.assert_frame_equal(_model_table(loud), _model_table(quiet))


# ------------------------------------------------------------------ subgroups


def _subgroup_data(n: int = 1500, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 10)), columns=[f"f{i}" for i in range(10)])
    y = X["f0"] + 2.0 * (X["f1"] > 0.5) - 1.5 * (X["f3"] < -1) + rng.normal(size=n)
    return X, y.to_numpy()


@pytest.mark.parametrize("params", [
    {"search": "exact"},
    {"search": "exact", "n_jobs": 2},
    {"search": "exact", "max_overlap": 0.5},
    {"search": "beam", "beam_width": 10},
])
def test_subgroups_verbose_bar_same_rules(capfd, params):
    X, y = _subgroup_data()
    capfd.readouterr()
    quiet = SubgroupDiscovery(depth=3, top_k=8, **params).fit(X, y)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    loud = SubgroupDiscovery(depth=3, top_k=8, verbose=1, **params).fit(X, y)
    out, err = capfd.readouterr()
    assert out == ""
    assert f"subgroups ({params['search']})" in err and "100%" in err
    assert [str(r) for r in loud.rules_] == [str(r) for r in quiet.rules_]
    pd.testing.assert_frame_equal(loud.subgroups_, quiet.subgroups_)


def test_subgroups_verbose_parameter():
    assert SubgroupDiscovery().get_params()["verbose"] == 0
    X, y = _subgroup_data(n=200)
    with pytest.raises(InvalidParameterError, match="verbose"):
        SubgroupDiscovery(verbose=-1).fit(X, y)
    with pytest.raises(InvalidParameterError, match="verbose"):
        SubgroupDiscovery(verbose="loud").fit(X, y)
    SubgroupDiscovery(verbose=True, depth=1).fit(X, y)


def _problem(depth_data_n: int = 800):
    from sisso_lite.subgroups.quality import get_quality

    X, y = _subgroup_data(n=depth_data_n, seed=2)
    df = as_frame(X, None)
    sels = make_selectors(df, n_cutpoints=8)
    names = list(df.columns)
    feat = np.array([names.index(s.feature) for s in sels])
    qf = get_quality("mean_shift", 1.0, None)
    return Problem(selector_masks(sels, df), feat, qf.fit(y), qf, 5)


@pytest.mark.parametrize("n_jobs", [None, 3])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_exact_search_progress_counts_all_branches(depth, n_jobs):
    pb = _problem()
    counts: list[int] = []
    got = search_exact(pb, depth, 6, n_jobs=n_jobs, progress=counts.append)
    assert sum(counts) == pb.n_selectors and min(counts) >= 0
    assert got == search_exact(pb, depth, 6, n_jobs=n_jobs)


def test_beam_search_progress_counts_levels():
    pb = _problem()
    counts: list[int] = []
    got = beam_search(pb, 3, 6, beam_width=5, progress=counts.append)
    assert sum(counts) == 3
    assert got == beam_search(pb, 3, 6, beam_width=5)
