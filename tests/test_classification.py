"""SissoClassifier: Fortran reproduction, scikit-learn conformance, bad input, both modes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sisso_lite.estimators import SissoClassifier

REF = Path(__file__).parent / "data" / "sisso_reference" / "octet20_class_r1_d2_nocbrt"
FORTRAN_OPS = ("+", "-", "|-|", "*", "/", "^-1", "exp", "log", "sin", "cos", "^2", "^3",
               "^6", "sqrt", "exp-")
UNITS = ["eV"] * 4 + ["eV2"] * 4 + [None] * 8 + ["Z"] * 2 + [None] * 2



def _rows(clf, d):
    """The kept models of dimension ``d``, best first (dicts of the ``models_`` columns)."""
    table = clf.models_
    return table[table["dimension"] == d].sort_values("rank").to_dict("records")

def _octet():
    df = pd.read_csv(REF / "train.dat", sep=r"\s+")
    return df.iloc[:, 1:], np.array(["RS"] * 41 + ["ZB"] * 41)


def test_reproduces_fortran_sisso_classification() -> None:
    X, y = _octet()
    clf = SissoClassifier(
        n_dim=2, max_complexity=1, operators=FORTRAN_OPS, n_sis=20, units=UNITS,
        max_abs_value=1e8, min_abs_value=1e-5, bwidth=0.001, n_models=100,
        fortran_compatible=True,
    ).fit(X, y)
    assert clf.n_features_per_rung_ == [20, 928]
    best1 = _rows(clf, 1)[0]
    assert best1["descriptors"] == ["(r_p_B+r_sigma)"] and best1["n_overlap"] == 2
    assert best1["size_overlap"] == pytest.approx(0.00599, abs=5e-6)
    assert [m["descriptors"][0] for m in _rows(clf, 1)[:3]] == [
        "(r_p_B+r_sigma)", "(r_p_A-r_pi)", "(r_sigma*r_pi)"]
    best2 = _rows(clf, 2)[0]
    assert best2["descriptors"] == ["(r_sigma*r_pi)", "(IP_A*Z_A)"]
    assert best2["n_overlap"] == 0
    assert best2["size_overlap"] == pytest.approx(-0.17221, abs=5e-6)
    assert [str(e) for e in clf.expressions_] == ["(r_sigma*r_pi)", "(IP_A*Z_A)"]
    # SIS subspaces: Fortran's full lists, in order (fcomplexity <= 1: the estimator
    # emulates Fortran's selection, sisso_lite/solvers/fortran_sis_classification.py)
    ref = [ln.split()[0] for ln in (REF / "Uspace.expressions.reference").read_text()
           .splitlines()]
    ref = [r[1:-1] if r[1:-1] in X.columns else r for r in ref]  # Fortran: "(r_p_A)"
    assert [n for n, _ in clf.sis_selected_[1]] == ref[:20]
    assert [n for n, _ in clf.sis_selected_[2]] == ref[20:]
    # hence the L0 rankings are Fortran's (top 20 of Models/top0100_D002)
    lines = (REF / "Models.reference" / "top0100_D002").read_text().splitlines()[1:21]
    want2 = [(sorted(int(t) for t in re.search(r"\(([\d\s]+)\)", ln).group(1).split()),
              int(ln.split()[1])) for ln in lines]
    got2 = [(sorted(ref.index(n) + 1 for n in m["descriptors"]), m["n_overlap"])
            for m in _rows(clf, 2)[:20]]
    assert got2 == want2
    assert clf.score(X, y) > 0.95
    assert set(clf.predict(X)) <= {"RS", "ZB"}


def test_overlap_mode_dimensions_and_expressions() -> None:
    X, y = _octet()
    cols = ["r_s_A", "r_p_A", "r_s_B", "r_p_B", "r_sigma", "r_pi", "IP_A", "IP_B"]
    clf = SissoClassifier(n_dim=3, max_complexity=1, operators=("+", "-", "*", "/"),
                          n_sis=6, n_models=5).fit(X[cols], y)
    assert 1 <= clf.n_dim_ <= 3
    counts = [_rows(clf, d)[0]["n_overlap"] for d in sorted(set(clf.models_["dimension"]))]
    assert counts == sorted(counts, reverse=True)  # adding dimensions never hurts here
    proba = clf.predict_proba(X[cols])
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert np.array_equal(clf.classes_[proba.argmax(1)], clf.predict(X[cols]))
    assert "d_{1}" in clf.latex()
    expr = clf.sympy()
    assert expr.free_symbols
    assert clf.descriptor_values(X[cols]).shape == (82, clf.n_dim_)


def test_three_class_3d_overlap() -> None:
    rng = np.random.default_rng(0)
    centers = np.array([[0, 0, 0], [3, 0, 1], [0, 3, 2]], float)
    y = np.repeat([0, 1, 2], 25)
    X = centers[y] + rng.normal(size=(75, 3))
    clf = SissoClassifier(n_dim=3, max_complexity=0, n_sis=3, n_models=3).fit(X, y)
    assert set(clf.models_["dimension"]) == {1, 2, 3} or _rows(clf, clf.n_dim_)[0]["n_overlap"] == 0
    assert clf.score(X, y) > 0.8
    assert len(clf.sympy()) == 3  # one decision function per class
    lr = SissoClassifier(n_dim=2, max_complexity=0, n_sis=3, linear_model="logistic").fit(X, y)
    proba = lr.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert np.array_equal(proba.argmax(1), lr.predict(X))


def test_accuracy_mode_small_bartel() -> None:
    from sisso_lite.datasets.bartel import load_bartel_perovskites

    df, units = load_bartel_perovskites()
    feats = ["rA", "rB", "rX", "nA", "nB", "nX"]
    train, test = df[df["split"] == "train"], df[df["split"] == "test"]
    clf = SissoClassifier(n_dim=1, max_complexity=3, scoring="accuracy", n_sis=10,
                          operators=("+", "-", "*", "/", "exp", "log", "^-1", "^2", "sqrt"),
                          units=[units[f] for f in feats], n_models=5)
    clf.fit(train[feats], train["label"])
    assert _rows(clf, 1)[0]["accuracy"] > 0.8
    assert clf.score(test[feats], test["label"]) > 0.78


def test_bartel_rung3_two_dimensional_reaches_90_percent_on_test() -> None:
    """Fast version of benchmarks/study_bartel_tau.py (complexity 4, 2D)."""
    from benchmarks.study_bartel_tau import main

    out = main(["--max-complexity", "4", "--n-dim", "2"])
    assert out["features_per_rung"][-1] > 600_000
    assert out["descriptors"][2]["train_accuracy"] > 0.9
    assert out["descriptors"][2]["test_accuracy"] >= 0.9
    pruned = sum(s["n_pruned"] for s in out["screens"])
    assert pruned > 0.5 * sum(s["n_scored"] for s in out["screens"])


def test_stump_pruning_does_not_change_the_result() -> None:
    from sisso_lite.datasets.bartel import load_bartel_perovskites

    df, _ = load_bartel_perovskites()
    feats = ["rA", "rB", "rX", "nA", "nB", "nX"]
    kw = dict(n_dim=2, max_complexity=3, scoring="accuracy", n_sis=8, n_models=3,
              operators=("+", "-", "*", "/", "log", "sqrt"))
    a = SissoClassifier(**kw).fit(df[feats], df["label"])
    b = SissoClassifier(n_keep=0, **kw).fit(df[feats], df["label"])
    assert a.sis_selected_ == b.sis_selected_
    pd.testing.assert_frame_equal(a.models_, b.models_)
    assert a.screen_stats_[0]["n_pruned"] > 0 and b.screen_stats_[0]["n_pruned"] == 0


@pytest.mark.parametrize("bad_y, match", [
    (np.array([0] * 9 + [1]), "at least 2 samples"),
    (np.zeros(10, int), "one class"),
    ([[1], [2, 3]] * 5, "hashable"),
    ([{"a": 1}, {"b": 2}] * 5, "hashable"),
])
def test_bad_labels(bad_y, match: str) -> None:
    X = np.random.default_rng(0).random((10, 2))
    with pytest.raises(ValueError, match=match):
        SissoClassifier(max_complexity=1, n_sis=3).fit(X, bad_y)


def test_degenerate_hulls_raise() -> None:
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 6)
    X0 = np.c_[t, 2 * t + 1]  # class 0 lies on a line: no 2D domain
    X1 = np.c_[rng.random(6), 1 + 2 * rng.random(6)]  # overlaps class 0 in both 1D features
    X = np.vstack([X0, X1])
    y = np.r_[np.zeros(6, int), np.ones(6, int)]
    with pytest.raises(ValueError, match="degenerate"):
        SissoClassifier(n_dim=2, max_complexity=0, n_sis=2).fit(X, y)


def test_bad_parameters() -> None:
    X, y = np.random.default_rng(0).random((20, 2)), np.r_[np.zeros(10), np.ones(10)]
    with pytest.raises(ValueError, match="scoring"):
        SissoClassifier(scoring="f1").fit(X, y)
    with pytest.raises(ValueError, match="n_dim"):
        SissoClassifier(n_dim=4).fit(X, y)


@parametrize_with_checks([
    SissoClassifier(n_dim=2, max_complexity=1, n_sis=4, n_models=2,
                    operators=("+", "-", "*", "/")),
    SissoClassifier(n_dim=2, max_complexity=1, n_sis=4, n_models=2, scoring="accuracy",
                    operators=("+", "-", "*", "/"), linear_model="logistic"),
])
def test_sklearn_compatible(estimator, check) -> None:
    check(estimator)
