"""SissoEnsemble: planted laws, determinism, OOB calibration, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sisso_lite.estimators import SissoEnsemble, SissoRegressor
from sisso_lite.uncertainty import picp

OPS = ("+", "-", "*", "/", "^2")


def _template(n_dim: int = 1, max_complexity: int = 1, n_sis: int = 5) -> SissoRegressor:
    return SissoRegressor(n_dim=n_dim, max_complexity=max_complexity, operators=OPS,
                          n_sis=n_sis, n_models=1)


def _planted(n: int = 40, noise: float = 0.0, seed: int = 0, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(1.0, 2.0, size=(n, 5)) * scale,
                     columns=["a", "b", "c", "d", "e"])
    y = 3.0 * X.a * X.b - 1.0 + noise * rng.standard_normal(n)
    return X, y.to_numpy()


@pytest.fixture(scope="module")
def noiseless_fit():
    X, y = _planted()
    ens = SissoEnsemble(_template(), n_estimators=6, feature_dropout=0.0, random_state=0)
    return ens.fit(X, y), X, y


def test_noiseless_planted_law_members_agree(noiseless_fit):
    ens, X, y = noiseless_fit
    assert all(m.descriptors == ["(a*b)"] for m in ens.members_)
    assert ens.descriptor_frequency_.loc["(a*b)"] == 1.0
    mu, sigma = ens.predict(X, return_std=True)
    np.testing.assert_allclose(mu, y, atol=1e-8)
    assert np.all(sigma < 1e-6)
    for m in ens.members_:
        np.testing.assert_allclose(m.coefficients, [3.0], rtol=1e-8)
        assert m.intercept == pytest.approx(-1.0)
        assert m.rows.shape == (40,) and m.dropped_features == ()


def test_members_attributes_and_shapes(noiseless_fit):
    ens, X, _ = noiseless_fit
    preds = ens.predict_members(X)
    assert preds.shape == (6, len(X))
    lo, hi = ens.predict_interval(X, coverage=0.9)
    mu, sigma = ens.predict(X, return_std=True)
    np.testing.assert_allclose((lo + hi) / 2, mu, rtol=1e-12, atol=1e-12)  # central
    np.testing.assert_allclose(hi - lo, 2 * 1.6448536269514722 * sigma, rtol=1e-6)
    assert ens.oob_prediction_.shape == (len(X),)
    assert list(ens.feature_names_in_) == ["a", "b", "c", "d", "e"]
    # at least one member has some row repeated (bootstrap)
    assert any(np.unique(m.rows).size < m.rows.size for m in ens.members_)


def test_feature_dropout_diversifies_and_spread_grows_off_data():
    X, y = _planted(n=40, noise=0.05, seed=1)
    ens = SissoEnsemble(_template(), n_estimators=10, feature_dropout=0.2,
                        predictive_std="spread", random_state=3)
    ens.fit(X, y)
    assert all(len(m.dropped_features) == 1 for m in ens.members_)
    for m in ens.members_:
        used = {name for d in m.descriptors for name in "abcde" if name in d}
        assert not used & set(m.dropped_features)
    assert ens.descriptor_frequency_.size > 1  # members dropping a or b find other laws
    X_far, _ = _planted(n=40, seed=2, scale=3.0)
    _, s_in = ens.predict(X, return_std=True)
    _, s_far = ens.predict(X_far, return_std=True)
    assert np.median(s_far) > 3 * np.median(s_in)


def test_mixture_std_adds_member_error():
    X, y = _planted(n=40, noise=0.2, seed=8)
    kw = dict(n_estimators=8, feature_dropout=0.2, random_state=2)
    mix = SissoEnsemble(_template(), predictive_std="mixture", **kw).fit(X, y)
    spread = SissoEnsemble(_template(), predictive_std="spread", **kw).fit(X, y)
    preds = mix.predict_members(X)
    err2 = np.mean([m.error**2 for m in mix.members_])
    _, s_mix = mix.predict(X, return_std=True)
    _, s_spread = spread.predict(X, return_std=True)
    np.testing.assert_allclose(s_mix, np.sqrt(preds.var(axis=0) + err2))
    assert np.all(s_mix > s_spread)
    # member errors are out-of-bag RMSEs
    m = mix.members_[0]
    oob = np.setdiff1d(np.arange(len(y)), m.rows)
    assert m.error == pytest.approx(np.sqrt(np.mean((preds[0, oob] - y[oob]) ** 2)))
    assert np.all(mix.oob_std_[mix.oob_count_ >= 2] > 0)


def test_deterministic_regardless_of_n_jobs():
    X, y = _planted(n=30, noise=0.1, seed=4)
    kw = dict(n_estimators=4, feature_dropout=0.2, random_state=7)
    a = SissoEnsemble(_template(), n_jobs=1, **kw).fit(X, y)
    b = SissoEnsemble(_template(), n_jobs=2, **kw).fit(X, y)
    for ma, mb in zip(a.members_, b.members_, strict=True):
        np.testing.assert_array_equal(ma.rows, mb.rows)
        assert ma.dropped_features == mb.dropped_features
        assert ma.descriptors == mb.descriptors
    np.testing.assert_allclose(a.predict_members(X), b.predict_members(X))
    c = SissoEnsemble(_template(), n_jobs=1, **{**kw, "random_state": 8}).fit(X, y)
    assert any(not np.array_equal(ma.rows, mc.rows)
               for ma, mc in zip(a.members_, c.members_, strict=True))


def test_dask_backend_matches_sequential():
    distributed = pytest.importorskip("dask.distributed")
    from joblib import parallel_config

    X, y = _planted(n=30, noise=0.1, seed=5)
    kw = dict(n_estimators=3, feature_dropout=0.2, random_state=1)
    ref = SissoEnsemble(_template(), **kw).fit(X, y)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None), parallel_config(backend="dask"):
        ens = SissoEnsemble(_template(), **kw).fit(X, y)
    np.testing.assert_allclose(ens.predict_members(X), ref.predict_members(X))


@pytest.mark.parametrize("kind", ["sigma", "isotonic"])
@pytest.mark.parametrize("mode", ["spread", "mixture"])
def test_oob_calibration(kind, mode):
    X, y = _planted(n=60, noise=0.3, seed=6)
    kw = dict(n_estimators=12, feature_dropout=0.2, predictive_std=mode, random_state=0)
    ens = SissoEnsemble(_template(), calibrate=kind, **kw).fit(X, y)
    ok = ens.oob_count_ >= 2
    assert ok.mean() > 0.8
    assert np.isfinite(ens.oob_prediction_[ok]).all()
    assert ens.recalibrator_.scale_ > 0
    raw = SissoEnsemble(_template(), **kw).fit(X, y)
    assert raw.recalibrator_ is None
    X_test, y_test = _planted(n=300, noise=0.3, seed=7)
    cov = picp(y_test, *ens.predict_interval(X_test, coverage=0.9))
    cov_raw = picp(y_test, *raw.predict_interval(X_test, coverage=0.9))
    assert 0.8 <= cov <= 1.0
    if mode == "mixture":  # recalibration moves held-out coverage towards the nominal 90 %
        assert abs(cov - 0.9) <= abs(cov_raw - 0.9)
    mu, s = ens.predict(X_test, return_std=True)
    mu_u, s_u = ens.predict_uncalibrated(X_test)
    np.testing.assert_allclose(mu, mu_u)
    np.testing.assert_allclose(s, ens.recalibrator_.transform(s_u))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(n_estimators=1), "n_estimators"),
        (dict(n_estimators=2.5), "n_estimators"),
        (dict(feature_dropout=1.0), "feature_dropout"),
        (dict(feature_dropout=-0.1), "feature_dropout"),
        (dict(feature_dropout=0.95), "leaves none"),
        (dict(max_samples=2), "too small"),
        (dict(max_samples=1.5), "max_samples"),
        (dict(calibrate="platt"), "calibrate"),
        (dict(predictive_std="var"), "predictive_std"),
        (dict(calibrate="sigma", bootstrap=False), "bootstrap"),
        (dict(bootstrap=False, feature_dropout=0.0), "identical"),
    ],
)
def test_bad_parameters(kwargs, match):
    X, y = _planted(n=20)
    params = {"estimator": _template(n_dim=2), "n_estimators": 3, "random_state": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        SissoEnsemble(**params).fit(X, y)


def test_predict_bad_input_and_classification(noiseless_fit):
    ens, X, _ = noiseless_fit
    with pytest.raises(ValueError, match="lacks"):
        ens.predict(X.drop(columns="a"))
    with pytest.raises(ValueError, match="level"):
        ens.predict_interval(X, coverage=1.5)
    with pytest.raises(AttributeError, match="predict_proba"):
        ens.predict_proba(X)
    assert not hasattr(ens, "predict_proba")


def _votes_data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(1, 2, size=(40, 4)), columns=list("abcd"))
    y = np.where(X.a * X.b > 2.2, "high", "low")
    return X, y


def _votes_template():
    from sisso_lite.estimators import SissoClassifier

    return SissoClassifier(n_dim=1, max_complexity=1, n_sis=5, operators=("+", "-", "*", "/"))


def test_classification_votes():
    from sisso_lite.estimators import SissoEnsembleClassifier

    X, y = _votes_data()
    tpl = _votes_template()
    ens = SissoEnsembleClassifier(tpl, n_estimators=4, random_state=0).fit(X, y)
    proba = ens.predict_proba(X)
    assert proba.shape == (40, 2) and list(ens.classes_) == ["high", "low"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    votes = ens.predict_members(X)
    np.testing.assert_allclose(proba[:, 0], (votes == "high").mean(axis=0))
    accuracy = (ens.predict(X) == y).mean()
    assert accuracy > 0.7
    assert ens.score(X, y) == pytest.approx(accuracy)  # ClassifierMixin: accuracy, not R^2
    for m in ens.members_:  # class-stratified bootstrap, one of four features dropped
        assert sorted(np.unique(y[m.rows])) == ["high", "low"]
        assert len(m.dropped_features) == 1
    ok = ens.oob_count_ >= 1
    np.testing.assert_allclose(ens.oob_proba_[ok].sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="classifier template"):
        SissoEnsembleClassifier(SissoRegressor(), n_estimators=2).fit(X, y)


def test_classifier_template_in_sisso_ensemble_is_deprecated_but_identical():
    from sklearn.base import is_classifier

    from sisso_lite.estimators import SissoEnsembleClassifier

    X, y = _votes_data()
    tpl = _votes_template()
    new = SissoEnsembleClassifier(tpl, n_estimators=4, random_state=0).fit(X, y)
    with pytest.warns(FutureWarning, match="SissoEnsembleClassifier"):
        old = SissoEnsemble(tpl, n_estimators=4, random_state=0).fit(X, y)
    np.testing.assert_array_equal(old.predict_proba(X), new.predict_proba(X))
    np.testing.assert_array_equal(old.predict(X), new.predict(X))
    assert old.score(X, y) == new.score(X, y) == (new.predict(X) == y).mean()
    assert is_classifier(new) and not is_classifier(old)
    with pytest.raises(ValueError, match="return_std"):
        old.predict(X, return_std=True)
    with pytest.raises(ValueError, match="regression"), pytest.warns(FutureWarning):
        SissoEnsemble(tpl, n_estimators=2, calibrate="sigma").fit(X, y)


def test_predict_interval_coverage_and_deprecated_alpha():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.uniform(1, 2, size=(40, 3)), columns=list("abc"))
    y = X.a * X.b + 0.05 * rng.normal(size=40)
    ens = SissoEnsemble(SissoRegressor(n_dim=1, max_complexity=1, n_sis=5, n_models=1),
                        n_estimators=8, random_state=0).fit(X, y)
    mu, sigma = ens.predict(X, return_std=True)
    lo, hi = ens.predict_interval(X, coverage=0.8)
    np.testing.assert_allclose(hi - mu, 1.2815515655446004 * sigma, rtol=1e-12)
    np.testing.assert_allclose(mu - lo, hi - mu, rtol=1e-12)
    with pytest.warns(FutureWarning, match="coverage"):
        lo_a, hi_a = ens.predict_interval(X, alpha=0.8)
    np.testing.assert_array_equal(lo_a, lo)
    np.testing.assert_array_equal(hi_a, hi)
    np.testing.assert_array_equal(ens.predict_interval(X, 0.8)[1], hi)


def test_emery_loader():
    from sisso_lite.datasets.emery import EMERY_UNITS, load_emery_perovskites

    X, y, materials, units = load_emery_perovskites()
    assert X.shape == (5276, 6) and len(y) == len(materials) == 5276
    assert list(X.columns) == ["r_A", "r_B", "X_A", "X_B", "IE_A", "IE_B"]
    assert units == {c: EMERY_UNITS[c] for c in X.columns}
    assert y.name == "Formation energy [eV/atom]" and np.isfinite(X.to_numpy()).all()
    assert X.loc["SrTiO3", "r_A"] == pytest.approx(1.44)
    data = load_emery_perovskites("stability", with_extra=True)
    assert data.X.shape[1] == 10 and data.y.name == "Stability [eV/atom]"
    with pytest.raises(ValueError, match="unknown target"):
        load_emery_perovskites("A")


@parametrize_with_checks([SissoEnsemble(
    SissoRegressor(n_dim=1, max_complexity=1, n_sis=3, n_models=1, operators=("+", "*")),
    n_estimators=3, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _classifier_ensemble_for_checks():
    from sisso_lite.estimators import SissoClassifier, SissoEnsembleClassifier

    return SissoEnsembleClassifier(
        SissoClassifier(n_dim=2, max_complexity=1, n_sis=4, n_models=2, scoring="accuracy",
                        operators=("+", "-", "*", "/")), n_estimators=3, random_state=0)


@parametrize_with_checks([_classifier_ensemble_for_checks()])
def test_sklearn_compatible_classifier_ensemble(estimator, check):
    check(estimator)


def test_verbose_progress_bar_over_members(capsys):
    X, y = _planted(n=30, noise=0.1, seed=5)
    kw = dict(n_estimators=4, feature_dropout=0.2, random_state=1, batch=False)
    quiet = SissoEnsemble(_template(), **kw).fit(X, y)
    assert "ensemble members" not in capsys.readouterr().err
    loud = SissoEnsemble(_template(), verbose=1, **kw).fit(X, y)
    err = capsys.readouterr().err
    assert "ensemble members" in err and "4/4" in err
    np.testing.assert_array_equal(loud.predict_members(X), quiet.predict_members(X))
