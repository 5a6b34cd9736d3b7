"""Sensitivity analysis of a law: derivatives, elasticities, Sobol' indices (closed forms)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import sympy

from sisso_lite.uncertainty.sensitivity import (
    ensemble_sensitivity,
    ishigami,
    ishigami_indices,
    local_elasticities,
    partial_derivatives,
    saltelli_sample,
    sensitivity_analysis,
    sobol_indices,
)

PI = (-np.pi, np.pi)


def test_ishigami_indices_match_the_closed_form():
    """Ishigami & Homma (1990), a = 7, b = 0.1: S1 = (0.3139, 0.4424, 0),
    ST = (0.5576, 0.4424, 0.2437) (Saltelli et al. 2010, sec. 4)."""
    exact = ishigami_indices()
    np.testing.assert_allclose(exact["S1"], [0.3139, 0.4424, 0.0], atol=5e-5)
    np.testing.assert_allclose(exact["ST"], [0.5576, 0.4424, 0.2437], atol=5e-5)
    est = sobol_indices(ishigami, {"x1": PI, "x2": PI, "x3": PI}, n=8192, random_state=0)
    np.testing.assert_allclose(est["S1"], exact["S1"], atol=0.02)
    np.testing.assert_allclose(est["ST"], exact["ST"], atol=0.02)
    # the bootstrap intervals cover the exact values
    assert np.all(np.abs(est["S1"] - exact["S1"]) <= est["S1_conf"])
    assert np.all(np.abs(est["ST"] - exact["ST"]) <= est["ST_conf"])
    assert est.attrs["n_valid"] == 8192
    # pseudo-random sampling converges too, more slowly
    rnd = sobol_indices(ishigami, {"x1": PI, "x2": PI, "x3": PI}, n=8192, random_state=1,
                        sampler="random", n_bootstrap=0)
    np.testing.assert_allclose(rnd["ST"], exact["ST"], atol=0.05)


def test_additive_linear_law_indices_are_the_variance_shares():
    """f = 2 x + y on U(0,1) x U(0,3): V_x = 4/12, V_y = 9/12, no interaction."""
    x, y = sympy.symbols("x y", real=True)
    X = pd.DataFrame({"x": np.linspace(0, 1, 50), "y": np.linspace(0, 3, 50)[::-1]})
    res = sensitivity_analysis(2 * x + y, X, n=4096)
    t = res.table
    assert list(t.index) == ["y", "x"] and list(t["rank"]) == [1, 2]
    np.testing.assert_allclose(t.loc[["x", "y"], "S1"], [4 / 13, 9 / 13], atol=0.01)
    np.testing.assert_allclose(t.loc[["x", "y"], "ST"], [4 / 13, 9 / 13], atol=0.01)


def test_derivatives_and_elasticities_of_a_power_law():
    """f = 3 a^2 / b: elasticity 2 wrt a and -1 wrt b at every point; df/da = 6 a / b."""
    a, b = sympy.symbols("a b", real=True)
    law = 3 * a ** 2 / b
    d = partial_derivatives(law)
    assert sympy.simplify(d["a"] - 6 * a / b) == 0
    assert sympy.simplify(d["b"] + 3 * a ** 2 / b ** 2) == 0
    X = pd.DataFrame({"a": [1.0, 2.0, 3.5], "b": [0.5, 1.0, 4.0], "c": [7.0, 8.0, 9.0]})
    el = local_elasticities(law, X, features=["a", "b", "c"])
    np.testing.assert_allclose(el["a"], 2.0)
    np.testing.assert_allclose(el["b"], -1.0)
    np.testing.assert_allclose(el["c"], 0.0)
    # matches a central finite difference of the law
    h = 1e-6
    f = lambda A, B: 3 * A ** 2 / B  # noqa: E731
    fd = (f(X.a + h, X.b) - f(X.a - h, X.b)) / (2 * h) * X.a / f(X.a, X.b)
    np.testing.assert_allclose(el["a"], fd, rtol=1e-6)


def test_sisso_model_and_octet_ranking():
    from sisso_lite.datasets import load_octet_binaries
    from sisso_lite.estimators import SissoRegressor

    X, y, _, units = load_octet_binaries()
    est = SissoRegressor(n_dim=2, max_complexity=2, n_sis=20, n_models=1, units=units,
                         operators=("+", "-", "*", "/", "^2", "exp", "sqrt", "|-|")).fit(X, y)
    res = sensitivity_analysis(est, X, n=2048)
    used = set(est.result_.best().primary_features)
    assert set(res.table.index) == used
    # the leading term's r_p_A (in a 1/r_p_A^2 factor) drives the prediction
    assert res.table.index[0] == "r_p_A"
    assert res.table["ST"].iloc[0] > 0.5
    assert np.all(res.table["ST"] >= res.table["S1"] - 2 * res.table["S1_conf"])
    assert res.elasticities.shape == (82, len(used))
    ax = res.plot()
    assert ax.get_xlabel().startswith("Sobol")


def test_ensemble_spread_over_members():
    x, y, z = sympy.symbols("x y z", real=True)
    X = pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0], "z": [0.0, 1.0]})
    out = ensemble_sensitivity([x + 0 * y, y, x + y], X, n=2048)
    assert list(out.index[:2]) == ["x", "y"] or list(out.index[:2]) == ["y", "x"]
    np.testing.assert_allclose(out.loc["x", "frequency"], 2 / 3)
    np.testing.assert_allclose(out.loc["x", "ST_mean"], (1 + 0 + 0.5) / 3, atol=0.02)
    assert out.loc["x", "ST_std"] > 0.3
    assert "z" not in out.index


def test_bad_input():
    a, b = sympy.symbols("a b", real=True)
    X = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"lacks the primary feature column\(s\) \['b'\]"):
        sensitivity_analysis(a * b, X)
    with pytest.raises(ValueError, match=r"bounds of \['a'\] need high > low"):
        saltelli_sample({"a": (1.0, 1.0)})
    with pytest.raises(ValueError, match="constant"):
        sensitivity_analysis(sympy.Float(2.0), X)
    with pytest.raises(ValueError, match="column 'a' of X has non-finite"):
        sensitivity_analysis(a, pd.DataFrame({"a": [1.0, np.nan]}))
    with pytest.raises(TypeError, match="sympy expression"):
        sensitivity_analysis(object(), X)
    with pytest.warns(RuntimeWarning, match="finite predictions"), np.errstate(invalid="ignore"):
        sobol_indices(lambda F: np.sqrt(F["a"].to_numpy() - 0.8), {"a": (0.0, 1.0)}, n=256)
