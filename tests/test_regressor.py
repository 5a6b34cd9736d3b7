"""SissoRegressor: scikit-learn compatibility, input validation, model table, export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from sisso_lite.estimators import SissoRegressor

FAST = dict(n_dim=2, max_complexity=1, n_sis=5, n_models=3,
            operators=("+", "-", "*", "/", "^2"))


@parametrize_with_checks([SissoRegressor(**FAST)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "a": rng.uniform(1, 3, n),
        "b": rng.uniform(1, 3, n),
        "c": rng.uniform(0.5, 2, n),
    })
    y = 2.0 * X.a * X.b - 1.5 * X.c**2 + 0.3
    return X, y


def test_fit_attributes_and_export():
    X, y = _data()
    est = SissoRegressor(**FAST, units={"a": "eV", "b": "eV", "c": "Angstrom"}).fit(X, y)
    assert est.n_features_in_ == 3
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    assert len(est.descriptors_) == 2 and est.coef_.shape == (2,)
    assert isinstance(est.intercept_, float)
    assert est.models_.columns.tolist() == [
        "dimension", "rank", "descriptors", "coefficients", "intercept", "rmse", "maxae"]
    assert set(est.models_.dimension) == {1, 2}
    assert est.feature_space_size_[0] == 3
    assert est.score(X, y) > 1 - 1e-10
    np.testing.assert_allclose(est.predict(X), y, atol=1e-9)
    expr = est.sympy()
    point = {s: {"a": 1.3, "b": 2.1, "c": 0.7}[s.name] for s in expr.free_symbols}
    assert {s.name for s in expr.free_symbols} == {"a", "b", "c"}
    np.testing.assert_allclose(float(expr.subs(point)), 2 * 1.3 * 2.1 - 1.5 * 0.49 + 0.3,
                               rtol=1e-9)
    assert est.latex().startswith("y = ")
    assert est.predict(X, dim=1).shape == (len(X),)
    # predict with columns given as array in fit order
    with pytest.warns(UserWarning, match="valid feature names"):
        np.testing.assert_allclose(est.predict(X.to_numpy()), est.predict(X))
    # the result is usable on its own
    np.testing.assert_allclose(est.result_.predict(X[["c", "a", "b"]]), est.predict(X))


def test_pipeline_cross_val_gridsearch():
    X, y = _data(60)
    pipe = make_pipeline(FunctionTransformer(), SissoRegressor(**FAST))
    scores = cross_val_score(pipe, X.to_numpy(), y.to_numpy(), cv=KFold(3))
    assert np.all(scores > 0.99)
    grid = GridSearchCV(SissoRegressor(**FAST), {"n_dim": [1, 2]}, cv=3).fit(X, y)
    assert grid.best_params_ == {"n_dim": 2}


def test_array_input_names():
    X, y = _data()
    est = SissoRegressor(**FAST).fit(X.to_numpy(), y.to_numpy())
    assert not hasattr(est, "feature_names_in_")
    assert all(set(d) & set("x") for d in est.descriptors_)
    assert est.result_.feature_names == ["x0", "x1", "x2"]


# ---------------------------------------------------------------- bad input (one test each)


def test_nan_in_X_names_column():
    X, y = _data()
    X.loc[3, "b"] = np.nan
    with pytest.raises(ValueError, match="NaN.*'b'"):
        SissoRegressor(**FAST).fit(X, y)


def test_inf_in_X_names_column():
    X, y = _data()
    X.loc[3, "c"] = np.inf
    with pytest.raises(ValueError, match="inf.*'c'"):
        SissoRegressor(**FAST).fit(X, y)


def test_nan_in_y():
    X, y = _data()
    y[2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SissoRegressor(**FAST).fit(X, y)


def test_non_numeric_column():
    X, y = _data()
    X["label"] = "foo"
    with pytest.raises(ValueError, match="non-numeric.*label"):
        SissoRegressor(**FAST).fit(X, y)


def test_mismatched_lengths():
    X, y = _data()
    with pytest.raises(ValueError, match="inconsistent numbers of samples|samples"):
        SissoRegressor(**FAST).fit(X, y[:-3])


def test_too_few_samples():
    X, y = _data()
    with pytest.raises(ValueError, match="n_samples = 3 is too small"):
        SissoRegressor(**{**FAST, "n_dim": 3}).fit(X.iloc[:3], y.iloc[:3])


def test_constant_target():
    X, _ = _data()
    with pytest.raises(ValueError, match="constant"):
        SissoRegressor(**FAST).fit(X, np.full(len(X), 1.5))


def test_unknown_operator():
    X, y = _data()
    with pytest.raises(ValueError, match="tanh"):
        SissoRegressor(**{**FAST, "operators": ("+", "tanh")}).fit(X, y)


def test_unparsable_unit():
    X, y = _data()
    with pytest.raises(ValueError, match="'c'"):
        SissoRegressor(**FAST, units={"a": "eV", "b": "eV", "c": "Ang$$"}).fit(X, y)


def test_duplicate_column_names():
    X, y = _data()
    X.columns = ["a", "b", "a"]
    with pytest.raises(ValueError, match="duplicate feature name 'a'"):
        SissoRegressor(**FAST).fit(X, y)


def test_operator_character_in_name():
    X, y = _data()
    X = X.rename(columns={"b": "r(A)+1"})
    with pytest.raises(ValueError, match=r"'r\(A\)\+1'"):
        SissoRegressor(**FAST).fit(X, y)


def test_predict_missing_primary_feature():
    X, y = _data()
    est = SissoRegressor(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="lacks the primary feature.*'c'"):
        est.predict(X.drop(columns="c"))
    with pytest.raises(ValueError, match="lacks the primary feature.*'c'"):
        est.result_.predict(X.drop(columns="c"))


def test_maxae_verbose_n_jobs(capsys):
    X, y = _data()
    est = SissoRegressor(**{**FAST, "metric": "maxae"}, verbose=True, n_jobs=1).fit(X, y)
    for _, group in est.models_.groupby("dimension"):
        assert np.all(np.diff(group.maxae.to_numpy()) >= 0)
    assert "SISSO" in capsys.readouterr().err


def test_bad_parameters():
    X, y = _data()
    with pytest.raises(ValueError, match="n_dim"):
        SissoRegressor(n_dim=0).fit(X, y)
    with pytest.raises(ValueError, match="metric"):
        SissoRegressor(**{**FAST, "metric": "mae"}).fit(X, y)


def test_task_with_too_few_samples():
    X, y = _data()
    tasks = np.array(["a"] * (len(X) - 2) + ["b"] * 2)
    with pytest.raises(ValueError, match=r"task\(s\) \['b'\]"):
        SissoRegressor(**FAST).fit(X, y, tasks=tasks)
    with pytest.raises(ValueError, match="tasks must have shape"):
        SissoRegressor(**FAST).fit(X, y, tasks=tasks[:-1])


def test_task_weighting_by_sample_count_changes_the_l0_error():
    """task_weighting=2 weights tasks by their sample counts (SISSO's task_weighting=2)."""
    rng = np.random.default_rng(3)
    n = 60
    X = pd.DataFrame({"a": rng.uniform(1, 2, n), "b": rng.uniform(1, 2, n)})
    tasks = np.array([0] * 45 + [1] * 15)
    y = np.where(tasks == 0, 2.0, -1.0) * X["a"] * X["b"] + rng.normal(0, 0.05, n)
    fits = {w: SissoRegressor(n_dim=1, max_complexity=1, n_sis=5, n_models=1,
                              operators=("*", "/"), task_weighting=w).fit(X, y, tasks=tasks)
            for w in (1, 2)}
    assert fits[1].descriptors_ == fits[2].descriptors_ == ["(a*b)"]
    resid = y - fits[2].predict(X, tasks=tasks)
    per_task = [np.sqrt(np.mean(resid[tasks == t] ** 2)) for t in (0, 1)]
    assert fits[1].models_["rmse"].iloc[0] == pytest.approx(np.sqrt(np.mean(np.square(per_task))))
    assert fits[2].models_["rmse"].iloc[0] == pytest.approx(np.sqrt(np.mean(resid**2)))
    with pytest.raises(ValueError, match="task_weighting"):
        SissoRegressor(task_weighting=3).fit(X, y)
