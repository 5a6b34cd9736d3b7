"""Planted symbolic laws are recovered exactly (sympy-equal up to the linear coefficients)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sympy

from sisso_lite.estimators import SissoRegressor

ARITH = ("+", "-", "*", "/")


def _frame(n, seed, lows=(0.5, 0.5, 0.5, 0.5), highs=(2.0, 2.0, 2.0, 2.0)):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({f"x{i + 1}": rng.uniform(lo, hi, n)
                         for i, (lo, hi) in enumerate(zip(lows, highs, strict=True))})


def _same_up_to_constant(found: sympy.Expr, expected: str) -> bool:
    symbols = {s.name: s for s in found.free_symbols}
    names = {f"x{i}": symbols.get(f"x{i}", sympy.Symbol(f"x{i}")) for i in range(1, 7)}
    target = sympy.sympify(expected, locals=names)
    ratio = sympy.simplify(found / target)
    if not ratio.free_symbols:
        return True
    # abs() / sqrt of positive data: compare numerically on random positive points
    rng = np.random.default_rng(1)
    values = []
    for _ in range(5):
        point = {s: float(rng.uniform(0.6, 1.9)) for s in ratio.free_symbols}
        values.append(complex(ratio.evalf(subs=point)))
    return np.allclose(values, values[0], rtol=1e-8)


def _check(est, expected_terms):
    best = est.result_.best()
    found = [e.sympy() for e in best.expressions]
    assert len(found) == len(expected_terms), est.descriptors_
    unmatched = list(found)
    for term in expected_terms:
        hit = next((f for f in unmatched if _same_up_to_constant(f, term)), None)
        assert hit is not None, f"{term} not among {est.descriptors_}"
        unmatched.remove(hit)


def test_one_term_ratio():
    X = _frame(30, 0)
    y = 3.2 * X.x1 / X.x2 + 0.4
    est = SissoRegressor(n_dim=1, max_complexity=1, operators=ARITH, n_sis=10).fit(X, y)
    _check(est, ["x1/x2"])
    np.testing.assert_allclose(est.coef_, [3.2], rtol=1e-9)
    assert est.intercept_ == pytest.approx(0.4, rel=1e-9)


def test_two_terms_square_and_exp():
    # y = 2.5 x1^2 / x2 - 0.7 exp(-x3/x4)
    X = _frame(50, 1)
    y = 2.5 * X.x1**2 / X.x2 - 0.7 * np.exp(-X.x3 / X.x4)
    est = SissoRegressor(n_dim=2, max_complexity=2, operators=ARITH + ("^2", "exp-"),
                         n_sis=20).fit(X, y)
    _check(est, ["x1**2/x2", "exp(-x3/x4)"])
    assert est.result_.best().rmse < 1e-10


def test_three_terms():
    X = _frame(60, 2)
    y = 1.5 * X.x1 * X.x2 - 2.0 * X.x3 / X.x4 + 0.7 * X.x2**3
    est = SissoRegressor(n_dim=3, max_complexity=1, operators=ARITH + ("^3",),
                         n_sis=10).fit(X, y)
    _check(est, ["x1*x2", "x3/x4", "x2**3"])
    assert est.intercept_ == pytest.approx(0.0, abs=1e-9)


def test_units_restrict_the_space():
    X = _frame(40, 3, highs=(3.0, 1.0, 2.0, 2.0), lows=(2.0, 0.1, 0.5, 0.5))
    units = {"x1": "eV", "x2": "eV", "x3": "Angstrom", "x4": "Angstrom"}
    y = 0.9 * (X.x1 - X.x2) * X.x3 - 1.5 * X.x4 / X.x3
    est = SissoRegressor(n_dim=2, max_complexity=2, operators=ARITH, n_sis=20,
                         units=units).fit(X, y)
    _check(est, ["(x1 - x2)*x3", "x4/x3"])
    for d in est.models_.descriptors.sum() + [str(e) for e in est.result_.selected[1]]:
        for a in ("x1", "x2"):
            for b in ("x3", "x4"):  # eV +- Angstrom is never built
                assert f"{a}+{b}" not in d and f"{a}-{b}" not in d and f"{b}-{a}" not in d


def test_no_intercept():
    X = _frame(30, 4)
    y = 4.0 * X.x1 * X.x2 - X.x3 / X.x1
    est = SissoRegressor(n_dim=2, max_complexity=1, operators=ARITH, n_sis=10,
                         fit_intercept=False).fit(X, y)
    _check(est, ["x1*x2", "x3/x1"])
    assert est.intercept_ == 0.0
    np.testing.assert_allclose(sorted(est.coef_), [-1.0, 4.0], rtol=1e-9)


def test_noisy_law():
    X = _frame(80, 5)
    rng = np.random.default_rng(50)
    y = 1.7 * np.log(X.x1) * X.x2 - 0.6 * X.x3 / X.x4
    y = y + 0.01 * y.std() * rng.normal(size=len(y))
    est = SissoRegressor(n_dim=2, max_complexity=2, operators=ARITH + ("log",),
                         n_sis=20).fit(X, y)
    _check(est, ["log(x1)*x2", "x3/x4"])
    np.testing.assert_allclose(sorted(est.coef_), [-0.6, 1.7], rtol=0.05)


def test_multi_task_law():
    X = _frame(60, 6)
    tasks = np.repeat(["a", "b", "c"], 20)
    slope = pd.Series(tasks).map({"a": 1.0, "b": -2.0, "c": 0.5}).to_numpy()
    other = pd.Series(tasks).map({"a": 0.3, "b": 0.8, "c": -1.1}).to_numpy()
    icpt = pd.Series(tasks).map({"a": 0.0, "b": 1.0, "c": -2.0}).to_numpy()
    y = slope * X.x1 / X.x2**2 + other * X.x3 * X.x4 + icpt
    est = SissoRegressor(n_dim=2, max_complexity=2, operators=ARITH + ("^2",),
                         n_sis=20).fit(X, y, tasks=tasks)
    _check(est, ["x1/x2**2", "x3*x4"])
    assert est.coef_.shape == (3, 2) and est.intercept_.shape == (3,)
    np.testing.assert_allclose(est.intercept_, [0.0, 1.0, -2.0], atol=1e-8)
    np.testing.assert_allclose(est.predict(X, tasks=tasks), y, atol=1e-8)
    with pytest.raises(ValueError, match="tasks"):
        est.predict(X)


# ------------------------------------------------------------ driver: rows / allowed_primary


def _space(X, ops=ARITH, complexity=1):
    from sisso_lite.features import FeatureSpace

    return FeatureSpace(operators=ops, max_complexity=complexity).build(
        X.to_numpy(), list(X.columns))


def test_driver_bootstrap_rows_match_fit_on_the_subset():
    from sisso_lite.solvers.driver import run_sisso

    X = _frame(50, 7)
    y = (2.0 * X.x1 / X.x2 + 0.5 * X.x3 * X.x4).to_numpy()
    rows = np.random.default_rng(3).integers(0, 50, size=50)  # with repeats
    space = _space(X)
    res = run_sisso(space, y, n_dim=2, n_sis=10, n_models=3, metric="rmse",
                    fit_intercept=True, rows=rows)
    est = SissoRegressor(n_dim=2, max_complexity=1, operators=ARITH, n_sis=10,
                         n_models=3).fit(X.iloc[rows], y[rows])
    assert res.best().descriptors == est.descriptors_
    np.testing.assert_allclose(res.best().coefficients[0], est.coef_, rtol=1e-8)
    np.testing.assert_allclose(res.predict(X), y, atol=1e-9)  # all rows, also out-of-bag


def test_driver_allowed_primary_and_standalone_result():
    import pickle

    from sisso_lite.solvers.driver import run_sisso

    X = _frame(40, 8)
    y = (2.0 * X.x1 / X.x2 + 0.5 * X.x3 * X.x4).to_numpy()
    space = _space(X)
    res = run_sisso(space, y, n_dim=2, n_sis=10, n_models=5, metric="rmse",
                    fit_intercept=True, allowed_primary=["x1", "x2", "x3"])
    for dim, models in res.models.items():
        for mod in models:
            assert set(mod.primary_features) <= {"x1", "x2", "x3"}, (dim, mod.descriptors)
    mask = np.array([True, True, False, True])
    res_mask = run_sisso(space, y, n_dim=1, n_sis=5, n_models=5, metric="rmse",
                         fit_intercept=True, allowed_primary=mask)
    assert all("x3" not in mod.primary_features for mod in res_mask.models[1])
    with pytest.raises(ValueError, match="x9"):
        run_sisso(space, y, n_dim=1, n_sis=5, allowed_primary=["x9"])
    # the result predicts on its own, also after pickling, from a DataFrame in any order
    clone = pickle.loads(pickle.dumps(res))
    Xr = X[["x4", "x3", "x2", "x1"]]
    np.testing.assert_allclose(clone.predict(Xr), res.predict(X))
    np.testing.assert_allclose(clone.predict(X.to_numpy(), dim=1), res.predict(X, dim=1))
    table = clone.model_table()
    assert list(table.dimension.unique()) == [1, 2] and (table["rank"] >= 1).all()


def test_driver_maxae_metric():
    from sisso_lite.solvers.driver import run_sisso
    from sisso_lite.solvers.l0_reference import l0_search_numpy

    X = _frame(40, 9)
    rng = np.random.default_rng(9)
    y = (X.x1 * X.x2 - X.x3 / X.x4).to_numpy() + 0.1 * rng.normal(size=40)
    res = run_sisso(_space(X), y, n_dim=2, n_sis=8, n_models=5, metric="maxae",
                    fit_intercept=True)
    F = np.column_stack([e.evaluate(X) for d in (1, 2) for e in res.selected[d]])
    ref = l0_search_numpy(F, y, 2, n_models=5, metric="maxae")
    assert [m.maxae for m in res.models[2]] == pytest.approx([m.maxae for m in ref], rel=1e-10)
