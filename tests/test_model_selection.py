"""SissoCV (cross-validated n_dim / rung) and the leave-cluster-out splitters."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from sklearn.model_selection import GroupKFold, KFold, RepeatedKFold, cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from sisso_lite.datasets import load_octet_binaries
from sisso_lite.estimators import SissoClassifier, SissoRegressor
from sisso_lite.estimators.model_selection import SissoCV
from sisso_lite.estimators.splits import (
    CompositionClusterSplit,
    LeaveElementOut,
    composition_matrix,
    parse_formula,
)

FAST = dict(n_dim=3, max_complexity=1, n_sis=5, n_models=1,
            operators=("+", "-", "*", "/", "^2"))


def _planted(n=60, noise=0.01, seed=0):
    """y = 2 a b - 1.5 c^2 + 0.3 + noise: a 2D law of rung-1 features."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.uniform(1, 3, n), "b": rng.uniform(1, 3, n),
                      "c": rng.uniform(0.5, 2, n), "d": rng.uniform(1, 2, n)})
    y = 2.0 * X.a * X.b - 1.5 * X.c ** 2 + 0.3 + noise * rng.standard_normal(n)
    return X, y


@parametrize_with_checks([SissoCV(SissoRegressor(n_dim=2, max_complexity=1, n_sis=5,
                                                 n_models=3, operators=("+", "-", "*", "/")),
                                  cv=3, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_cv_recovers_the_planted_dimension():
    X, y = _planted()
    cv = SissoCV(SissoRegressor(**FAST), cv=5, random_state=0).fit(X, y)
    assert cv.best_params_ == {"n_dim": 2, "max_complexity": 1}
    res = cv.cv_results_.set_index("n_dim")
    # every fold finds the planted pair of descriptors; 2D error ~ the noise (0.01)
    assert res.loc[2, "modal_descriptor"] == "(a*b) ; (c)^2"
    assert res.loc[2, "modal_frequency"] == 1.0
    assert res.loc[2, "mean_test_rmse"] < 0.015
    assert res.loc[1, "mean_test_rmse"] > 10 * res.loc[2, "mean_test_rmse"]
    assert len(res.loc[2, "descriptors"]) == cv.n_splits_ == 5
    assert [c for c in cv.cv_results_.columns if c.startswith("split")] == [
        f"split{k}_test_rmse" for k in range(5)]
    assert res.loc[2, "rank_test_rmse"] <= 2
    # refit on all data: the planted law and its coefficients
    best = cv.best_estimator_
    assert sorted(best.descriptors_) == ["(a*b)", "(c)^2"]
    coef = dict(zip(best.descriptors_, best.coef_, strict=True))
    assert coef["(a*b)"] == pytest.approx(2.0, abs=0.01)
    assert coef["(c)^2"] == pytest.approx(-1.5, abs=0.01)
    assert cv.score(X, y) > 0.9999
    np.testing.assert_allclose(cv.predict(X), best.predict(X))
    # rule="best" may take a larger model, never a worse mean
    best_rule = SissoCV(SissoRegressor(**FAST), cv=5, random_state=0, rule="best").fit(X, y)
    assert best_rule.best_score_ <= cv.best_score_ + 1e-12


def test_shared_space_equals_refit_per_fold():
    """Building the space once (rows = fold) selects what a from-scratch fold fit selects."""
    X, y = _planted(noise=0.2, seed=1)
    kw = dict(max_complexities=(0, 1), cv=KFold(4, shuffle=True, random_state=2))
    shared = SissoCV(SissoRegressor(**FAST), reuse_space=True, **kw).fit(X, y).cv_results_
    refit = SissoCV(SissoRegressor(**FAST), reuse_space=False, **kw).fit(X, y).cv_results_
    np.testing.assert_allclose(shared["mean_test_rmse"], refit["mean_test_rmse"], rtol=1e-9)
    assert shared["descriptors"].tolist() == refit["descriptors"].tolist()
    assert shared["max_complexity"].tolist() == [0, 0, 0, 1, 1, 1]


def test_octet_cv_picks_two_dimensions():
    """Repeated 5-fold CV with the 1-SE rule picks a 2D descriptor (Ghiringhelli et al.,
    PRL 114, 105503 (2015); Ouyang et al. 2018) over rungs 1-3 of the 82 octet binaries."""
    X, y, materials, units = load_octet_binaries()
    base = SissoRegressor(n_dim=3, max_complexity=3, n_sis=20, n_models=1, units=units,
                          operators=("+", "-", "*", "/", "^2", "exp", "sqrt", "|-|"))
    cv = SissoCV(base, max_complexities=(1, 2, 3),
                 cv=RepeatedKFold(n_splits=5, n_repeats=2, random_state=0)).fit(X, y)
    assert cv.n_splits_ == 10
    assert cv.best_params_["n_dim"] == 2
    res = cv.cv_results_.set_index(["max_complexity", "n_dim"])
    # training error falls with the dimension, the CV error does not follow beyond 2D
    for c in (1, 2, 3):
        assert res.loc[(c, 1), "mean_train_rmse"] > res.loc[(c, 2), "mean_train_rmse"] \
            > res.loc[(c, 3), "mean_train_rmse"]
    assert res["mean_test_rmse"].min() > 0.12  # eV; the training RMSE of 3D rung 3 is 0.073
    assert cv.best_estimator_.n_dim_ == 2
    ax = cv.plot()
    assert ax.get_xlabel() == "descriptor dimension"


def test_classifier_cv_accuracy():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.uniform(1, 3, 60), "b": rng.uniform(1, 3, 60),
                      "c": rng.uniform(1, 3, 60)})
    y = np.where(X.a * X.b > 4.0, "RS", "ZB")
    clf = SissoClassifier(n_dim=2, max_complexity=1, n_sis=5, scoring="accuracy",
                          operators=("+", "-", "*", "/"))
    cv = SissoCV(clf, cv=4, random_state=0).fit(X, y)
    assert cv.scoring_ == "accuracy"
    assert "mean_test_accuracy" in cv.cv_results_.columns
    res = cv.cv_results_.set_index("n_dim")
    assert res.loc[1, "modal_descriptor"] == "(a*b)"
    assert res.loc[1, "mean_test_accuracy"] >= 0.95
    assert cv.best_params_["n_dim"] == 1
    assert set(cv.predict(X)) <= {"RS", "ZB"}
    assert cv.predict_proba(X).shape == (60, 2)
    assert list(cv.classes_) == ["RS", "ZB"]


def test_bad_input_names_the_parameter():
    X, y = _planted(n=12)
    with pytest.raises(ValueError, match=r"cv=20 folds .* 12 samples"):
        SissoCV(SissoRegressor(**FAST), cv=20).fit(X, y)
    with pytest.raises(ValueError, match="groups has a single group"):
        SissoCV(SissoRegressor(**FAST), cv=GroupKFold(2)).fit(X, y, groups=["g"] * 12)
    with pytest.raises(ValueError, match=r"n_dims=\[1, 4\] goes beyond the estimator's n_dim=3"):
        SissoCV(SissoRegressor(**FAST), n_dims=[1, 4]).fit(X, y)
    with pytest.raises(ValueError, match="max_complexities must be"):
        SissoCV(SissoRegressor(**FAST), max_complexities=[-1]).fit(X, y)
    with pytest.raises(ValueError, match="rule must be"):
        SissoCV(SissoRegressor(**FAST), rule="min").fit(X, y)
    with pytest.raises(ValueError, match="groups has 3 entries"):
        SissoCV(SissoRegressor(**FAST), cv=GroupKFold(2)).fit(X, y, groups=[1, 2, 3])
    with pytest.raises(ValueError, match="estimator must be"):
        SissoCV(KFold()).fit(X, y)


def test_progress_bar_quiet_by_default(capsys):
    X, y = _planted(n=30)
    SissoCV(SissoRegressor(**FAST), cv=3, random_state=0).fit(X, y)
    assert "SissoCV" not in capsys.readouterr().err
    SissoCV(SissoRegressor(**FAST), cv=3, random_state=0, verbose=1).fit(X, y)
    assert "SissoCV" in capsys.readouterr().err


def test_parallel_folds_match_serial():
    X, y = _planted(n=40, noise=0.1)
    a = SissoCV(SissoRegressor(**FAST), cv=4, random_state=0).fit(X, y).cv_results_
    with parallel_config(backend="threading"):  # the n_jobs path without process start-up
        b = SissoCV(SissoRegressor(**FAST), cv=4, random_state=0, n_jobs=2).fit(X, y)
    b = b.cv_results_
    np.testing.assert_allclose(a["mean_test_rmse"], b["mean_test_rmse"], rtol=1e-12)


# ---------------------------------------------------------------------- splitters
def test_parse_formula():
    assert parse_formula("AgBr") == {"Ag": 1.0, "Br": 1.0}
    assert parse_formula("SrTiO3") == {"Sr": 1.0, "Ti": 1.0, "O": 3.0}
    assert parse_formula("Ca(OH)2") == {"Ca": 1.0, "O": 2.0, "H": 2.0}
    assert parse_formula("Mg3(PO4)2") == {"Mg": 3.0, "P": 2.0, "O": 8.0}
    assert parse_formula("Li0.5CoO2") == {"Li": 0.5, "Co": 1.0, "O": 2.0}
    for bad in ("Ca(OH2", "agbr", "2H", "Fe-O"):
        with pytest.raises(ValueError, match="cannot parse the formula"):
            parse_formula(bad)
    M, elements = composition_matrix(["NaCl", "SrTiO3"])
    assert elements == ["Cl", "Na", "O", "Sr", "Ti"]
    np.testing.assert_allclose(M[1], [0, 0, 0.6, 0.2, 0.2])


def test_leave_element_out():
    formulas = ["NaCl", "KCl", "NaBr", "KBr", "LiF", "CsF"]
    X = np.zeros((6, 1))
    split = LeaveElementOut()
    assert split.split_elements(X, groups=formulas) == ["Br", "Cl", "Cs", "F", "K", "Li",
                                                        "Na"]
    folds = {el: te.tolist() for el, (_, te) in
             zip(split.split_elements(X, groups=formulas), split.split(X, groups=formulas),
                 strict=True)}
    assert folds["Na"] == [0, 2] and folds["F"] == [4, 5] and folds["Cs"] == [5]
    for tr, te in split.split(X, groups=formulas):
        assert set(tr).isdisjoint(te) and len(tr) + len(te) == 6
    assert split.get_n_splits(X, groups=formulas) == 7
    # oxygen is in every oxide: skipped, as it leaves no training compound
    oxides = ["MgO", "CaO", "SrTiO3"]
    assert "O" not in LeaveElementOut().split_elements(groups=oxides)
    with pytest.raises(ValueError, match="groups is required"):
        list(split.split(X))
    with pytest.raises(ValueError, match=r"elements \['U'\] occur in no composition"):
        LeaveElementOut(elements=["U"]).get_n_splits(groups=formulas)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        list(split.split(X, groups=formulas[:5]))


def test_composition_clusters_hold_out_chemistries():
    halides = ["NaCl", "KCl", "NaBr", "KBr", "NaI", "KI"]
    oxides = ["MgO", "CaO", "SrO", "BaO"]
    nitrides = ["GaN", "AlN", "InN"]
    groups = halides + oxides + nitrides
    split = CompositionClusterSplit(n_clusters=3, random_state=0)
    labels = split.cluster_labels(groups=groups)
    # the oxides share O: one cluster; the nitrides share N: another
    assert len(set(labels[6:10])) == 1 and len(set(labels[10:])) == 1
    assert labels[6] != labels[10]
    tests = [set(te) for _, te in split.split(np.zeros((13, 1)), groups=groups)]
    assert sorted(len(t) for t in tests) == sorted(np.bincount(labels).tolist())
    assert set().union(*tests) == set(range(13))
    with pytest.raises(ValueError, match="n_clusters=20 is more than the 13 distinct"):
        CompositionClusterSplit(20).get_n_splits(groups=groups) and list(
            CompositionClusterSplit(20).split(np.zeros((13, 1)), groups=groups))


def test_splitters_plug_into_sklearn_and_sissocv():
    rng = np.random.default_rng(5)
    cations, anions = ["Li", "Na", "K", "Rb"], ["F", "Cl", "Br", "I"]
    formulas = [c + a for c in cations for a in anions] * 2
    X = pd.DataFrame({"a": rng.uniform(1, 3, 32), "b": rng.uniform(1, 3, 32)})
    y = 1.5 * X.a / X.b + 0.02 * rng.standard_normal(32)
    est = SissoRegressor(n_dim=2, max_complexity=1, n_sis=5, n_models=1,
                         operators=("+", "-", "*", "/"))
    scores = cross_val_score(est, X, y, groups=formulas, cv=LeaveElementOut())
    assert len(scores) == 8
    cv = SissoCV(est, cv=LeaveElementOut()).fit(X, y, groups=formulas)
    assert cv.n_splits_ == 8 and cv.best_params_["n_dim"] == 1
    assert cv.cv_results_.set_index("n_dim").loc[1, "modal_descriptor"] == "(a/b)"
