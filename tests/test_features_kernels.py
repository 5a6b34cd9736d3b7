"""Numba kernels vs their NumPy references, and the Expression program (sympy/LaTeX/JSON)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sympy

from sisso_lite.features import Expression, FeatureSpace
from sisso_lite.features.generate import (
    BIN_CODE,
    BIN_SWAP,
    UNARY_ORDER,
    compute_nodes,
    fast_status,
    feature_sums,
)
from sisso_lite.features.kernels import (
    apply_op_nb,
    apply_op_numpy,
    feature_status_nb,
    feature_status_numpy,
    run_program_nb,
    run_program_numpy,
)
from sisso_lite.features.operators import CODE, N_CODES, VAR
from sisso_lite.solvers.sis import PearsonScorer

RNG = np.random.default_rng(11)
X_MIXED = RNG.normal(0, 2, 64)
X_MIXED[:3] = [0.0, -1e-3, np.nan]
Y_MIXED = RNG.normal(1, 2, 64)


@pytest.mark.parametrize("code", range(1, N_CODES))
@pytest.mark.parametrize("real_cbrt", [True, False])
def test_apply_op_matches_numpy(code, real_cbrt):
    out = np.empty_like(X_MIXED)
    with np.errstate(all="ignore"):
        apply_op_nb(code, X_MIXED, Y_MIXED, out, real_cbrt)
    expected = apply_op_numpy(code, X_MIXED, Y_MIXED, real_cbrt)
    np.testing.assert_allclose(out, expected, rtol=1e-13, equal_nan=True)


@pytest.mark.parametrize("fortran", [True, False])
def test_feature_status_matches_numpy(fortran):
    cases = [
        RNG.normal(size=20), np.full(20, 3.0), np.r_[3.0, 3.0 + 1e-9, np.full(18, 3.0)],
        np.r_[1e-60, -1e-60, np.zeros(18)], np.r_[1e60, np.ones(19)], np.r_[2e5, np.ones(19)],
        np.r_[1e-4, 2e-4, np.zeros(18)], np.r_[np.nan, RNG.normal(size=19)],
        np.full(20, np.nan), np.r_[np.inf, np.ones(19)], np.r_[np.nan, np.full(19, 2.0)],
        np.r_[np.nan, 1.0, 1.0 + 1e-9, np.full(17, 1.0)],
    ]  # fmt: skip
    for f in cases:
        expected = feature_status_numpy(f, fortran, 1e-3, 1e5)
        assert feature_status_nb(f, fortran, 1e-3, 1e5) == expected
        s1, s2, _ = feature_sums(f, np.zeros_like(f))
        assert fast_status(f, s1, s2, fortran, 1e-3, 1e5) == expected
        s1, s2, _ = feature_sums(f, np.zeros_like(f))
        assert fast_status(f, s1, s2, fortran, 0.0, np.inf) == feature_status_numpy(
            f, fortran, 0.0, np.inf
        )


def test_fast_status_on_random_features():
    for _ in range(200):
        scale = 10.0 ** RNG.uniform(-8, 8)
        f = RNG.normal(RNG.normal(), 1.0, 30) * scale
        s1, s2, _ = feature_sums(f, np.zeros_like(f))
        assert fast_status(f, s1, s2, False, 1e-3, 1e5) == feature_status_numpy(f, False, 1e-3, 1e5)


def test_run_program_matches_numpy():
    leaves = np.abs(RNG.normal(size=(3, 16))) + 0.1
    codes = np.array([VAR, VAR, VAR, CODE["*"], CODE["sqrt"], CODE["/"], CODE["exp-"],
                      CODE["|-|"], CODE["cbrt"]])  # fmt: skip
    arg_a = np.array([0, 1, 2, 0, 3, 4, 2, 5, 7])
    arg_b = np.array([-1, -1, -1, 1, -1, 2, -1, 6, -1])
    for real in (True, False):
        np.testing.assert_allclose(
            run_program_nb(codes, arg_a, arg_b, leaves, real),
            run_program_numpy(codes, arg_a, arg_b, leaves, real),
            rtol=1e-13,
        )


def test_compute_nodes_and_candidate_tables():
    values = np.abs(RNG.normal(size=(3, 10))) + 0.5
    out = compute_nodes(np.array([CODE["/"], CODE["^2"]]), np.array([0, 2]), np.array([1, -1]),
                        values, False)  # fmt: skip
    np.testing.assert_allclose(out, [values[0] / values[1], values[2] ** 2])
    assert len(UNARY_ORDER) == 12 and len(BIN_CODE) == len(BIN_SWAP) == 7


@pytest.fixture(scope="module")
def screened():
    rng = np.random.default_rng(12)
    X = pd.DataFrame({"r_s_A": rng.uniform(0.5, 2, 30), "IP_B": rng.uniform(-12, -7, 30),
                      "z": rng.uniform(1, 3, 30)})  # fmt: skip
    space = FeatureSpace(max_complexity=3).build(X, list(X.columns), ["Å", "eV", None])
    y = X["IP_B"] / X["r_s_A"] ** 2 + np.exp(-X["z"]) * X["r_s_A"]
    return X, space.screen(PearsonScorer(y), 40)


def test_expression_properties(screened):
    X, features = screened
    for f in features:
        expr = f.expression
        assert expr.complexity <= 3
        assert set(expr.primary_features) <= {"r_s_A", "IP_B", "z"}
        assert expr.key == str(expr) and hash(expr) == hash(str(expr))
        np.testing.assert_allclose(expr.evaluate(X), f.values, rtol=1e-12)
        np.testing.assert_allclose(expr.evaluate(X.to_numpy()), f.values, rtol=1e-12)
        np.testing.assert_allclose(expr.evaluate({c: X[c].to_numpy() for c in X}), f.values)


def test_json_round_trip(screened):
    X, features = screened
    for f in features:
        data = json.loads(json.dumps(f.expression.to_dict()))
        back = Expression.from_dict(data)
        assert back == f.expression and str(back) == str(f.expression)
        assert back.latex() == f.expression.latex() and back.unit == f.expression.unit
        np.testing.assert_allclose(back.evaluate(X), f.values, rtol=1e-12)


def test_sympy_and_latex(screened):
    X, features = screened
    for f in features:
        expr = f.expression.sympy()
        symbols = [sympy.Symbol(n, real=True) for n in f.expression.primary_features]
        func = sympy.lambdify(symbols, expr, "numpy")
        values = func(*[X[n].to_numpy() for n in f.expression.primary_features])
        np.testing.assert_allclose(np.broadcast_to(values, (30,)), f.values, rtol=1e-10)
        latex = f.expression.latex()
        assert latex.count("{") == latex.count("}")


def test_spelling_units_and_known_strings():
    expr = Expression([(0, 0, -1), (0, 1, -1), (CODE["^-1"], 0, -1), (CODE["+"], 0, 1),
                       (CODE["/"], 2, 3)], ["r_p_A", "r_p_B"], ["Angstrom", "Angstrom"])
    assert str(expr) == "((r_p_A)^-1/(r_p_A+r_p_B))"
    assert str(expr.unit) == "1/Angstrom^2" and expr.complexity == 3
    assert expr.latex() == (
        "\\frac{\\left(r_{\\mathrm{p,A}}\\right)^{-1}}"
        "{\\left(r_{\\mathrm{p,A}} + r_{\\mathrm{p,B}}\\right)}"
    )
    assert sympy.simplify(expr.sympy() - 1 / (sympy.Symbol("r_p_A", real=True) * (
        sympy.Symbol("r_p_A", real=True) + sympy.Symbol("r_p_B", real=True)))) == 0
    abs_expr = Expression([(0, 0, -1), (0, 1, -1), (CODE["|-|"], 0, 1), (CODE["exp-"], 0, -1),
                           (CODE["*"], 2, 3)], ["IP_A", "EA_B"])  # fmt: skip
    assert str(abs_expr) == "(abs(IP_A-EA_B)*exp(-IP_A))"


def test_from_dict_rejects_bad_data(screened):
    _, features = screened
    good = features[0].expression.to_dict()
    for bad in [
        {**good, "format": "pickle"},
        {**good, "nodes": [["__import__", 0, -1]]},
        {**good, "nodes": [["var", 5, -1]]},
        {**good, "nodes": [["var", 0, -1], ["+", 0, 3]]},
        {**good, "expression": "something else"},
    ]:
        with pytest.raises(ValueError):
            Expression.from_dict(bad)


def _record_rung(space, rung):
    """Raw (pre-duplicate-check) candidates of a rung from the Numba enumeration."""
    from sisso_lite.features.generate import MODE_RECORD, generate_rung
    from sisso_lite.features.operators import operator_mask

    start = space.tables.tier_starts[rung - 1]
    starts = space.tables.tier_starts
    stop = starts[rung] if rung < len(starts) else space.n_stored_
    inputs = space.tables.rung_inputs(space.tables.values)
    cut = {k: v[:stop] if isinstance(v, np.ndarray) else v for k, v in inputs.items()}
    cap = 200_000
    out = (np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64),
           np.empty(cap, np.int8), np.empty(cap), np.empty((1, 1)))  # fmt: skip
    n, n_valid, i_next, _ = generate_rung(
        MODE_RECORD, start, -1, stop, start, rung == space.n_rungs_,
        np.array(operator_mask(space.operator_sets_[rung - 1])), space.tables.op[:stop],
        space.tables.a[:stop], space.tables.b[:stop], space.tables.complexity[:stop],
        space.max_complexity,
        cut["suffix_min"], cut["right_first"], cut["unit_id"], cut["nonzero"], cut["positive"],
        cut["dimensionless"], np.ones(stop, bool), space.tables.values[:stop], space.tables.fortran,
        space.tables.lower, space.tables.upper, space.tables.tag, *out,
    )  # fmt: skip
    assert i_next == stop and n == n_valid
    return [(int(c), int(a), int(b), int(s)) for c, a, b, s in zip(*[o[:n] for o in out[:4]],
                                                                   strict=True)]


@pytest.mark.parametrize("fortran", [False, True])
def test_enumeration_matches_python_reference(fortran):
    from sisso_lite.features.reference import enumerate_rung_numpy

    rng = np.random.default_rng(13)
    X = pd.DataFrame({"a": rng.uniform(0.5, 2, 12), "b": rng.uniform(-2, 2, 12),
                      "c": rng.uniform(-3, -1, 12)})  # fmt: skip
    X.loc[3, "b"] = 0.0
    ops = ["+", "-", "|-|", "*", "/", "^-1", "^2", "sqrt", "cbrt", "exp", "exp-", "log", "sin"]
    space = FeatureSpace(ops, max_complexity=4, fortran_compatible=fortran, min_abs_value=1e-2,
                         max_abs_value=50.0)  # fmt: skip
    space.build(X, list(X.columns), ["eV", "eV", None])
    for rung in (1, 2):
        assert _record_rung(space, rung) == enumerate_rung_numpy(space, rung)
    # last rung: valid count and the best candidates against brute force
    from sisso_lite.features.screening import _screen_last_rung

    reference = enumerate_rung_numpy(space, 3)
    y = rng.normal(size=12)
    n_valid, top = _screen_last_rung(space, PearsonScorer(y), space.tables.values,
                                     np.ones(space.n_stored_, bool), 64)  # fmt: skip
    assert n_valid == len(reference)
    selectable = [c for c in reference if c[3] == 2]
    values = space.tables.values
    block = np.array([apply_op_numpy(c, values[a], values[b] if b >= 0 else None, not fortran)
                      for c, a, b, _ in selectable])
    scores = np.nan_to_num(PearsonScorer(y).score_block(block), nan=-1.0)
    best = np.sort(scores)[::-1][:64]
    np.testing.assert_allclose([t[0] for t in top], best, rtol=1e-10)


def test_domain_flags_match_numpy():
    from sisso_lite.features.generate import domain_flags
    from sisso_lite.features.reference import domain_flags_numpy

    values = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 2.0], [-1.0, 2.0, 3.0], [np.nan, 1.0, 2.0],
                       [np.nan, np.nan, np.nan], [1e-60, 1.0, 1.0], [np.nan, -1.0, 2.0]])
    for got, want in zip(domain_flags(values, True), domain_flags_numpy(values), strict=True):
        np.testing.assert_array_equal(got, want)
