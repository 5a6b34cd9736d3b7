"""FeatureSpace rules: operators, units, pruning, bounds, duplicates, rows, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sisso_lite.features import FeatureSpace, n_rungs_for_complexity
from sisso_lite.solvers.sis import MultiTaskPearsonScorer, PearsonScorer, Scorer


def make(n: int = 30, seed: int = 0, **columns_range) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({k: rng.uniform(lo, hi, n) for k, (lo, hi) in columns_range.items()})


def stored(X, ops, units=None, complexity=4, **kw) -> list[str]:
    space = FeatureSpace(ops, max_complexity=complexity, **kw).build(X, list(X.columns), units)
    return space.stored_names()


def screened(space: FeatureSpace, y, n_sis=10_000, **kw) -> list[str]:
    return [str(f.expression) for f in space.screen(PearsonScorer(y), n_sis, **kw)]


@pytest.mark.parametrize(
    ("complexity", "rungs"), [(0, 0), (1, 1), (2, 2), (3, 2), (4, 3), (7, 3), (8, 4)]
)
def test_rungs_from_complexity(complexity, rungs):
    assert n_rungs_for_complexity(complexity) == rungs


def test_rung_one_enumeration_and_spelling():
    X = make(a=(1, 4), b=(2, 3))
    names = stored(X, ["+", "-", "*", "/", "|-|", "exp", "exp-", "^-1", "^2", "^3", "^6",
                       "sqrt", "cbrt", "log", "scd", "sin", "cos"])
    rung1 = names[2:]
    assert rung1[:12] == ["exp(a)", "exp(-a)", "(a)^-1", "scd(a)", "(a)^2", "(a)^3", "(a)^6",
                          "sqrt(a)", "cbrt(a)", "log(a)", "sin(a)", "cos(a)"]
    # both a-b and b-a below the last rung, each unordered pair once, both divisions
    assert rung1[12:19] == ["(a+b)", "(a-b)", "(b-a)", "abs(a-b)", "(a*b)", "(a/b)", "(b/a)"]


def test_last_rung_has_one_subtraction_only():
    X = make(a=(1, 2), b=(3, 5))
    space = FeatureSpace(["-"], max_complexity=1).build(X, ["a", "b"])
    assert screened(space, np.random.default_rng(1).normal(size=30)).count("(a-b)") == 1
    assert space.n_features_per_rung_ == [2, 3]  # (b-a) not generated at the last rung


def test_syntactic_pruning():
    X = make(x=(1, 2), y=(2, 3))
    names = stored(X, ["exp", "exp-", "log", "^2", "sqrt", "^3", "cbrt", "*", "/", "^-1"])
    for banned in ["exp(log(x))", "log(exp(x))", "exp(exp(x))", "log(log(x))", "exp(-log(x))",
                   "log(exp(-x))", "sqrt((x)^2)", "(sqrt(x))^2", "cbrt((x)^3)", "(cbrt(x))^3",
                   "((x*y)/y)", "((x*y)/x)", "(y/(x*y))", "(x/(x*y))", "((x/y)/x)", "(x/(x/y))"]:
        assert banned not in names, banned
    for kept in ["exp(sqrt(x))", "log((x)^2)", "((x)^2)^3", "(exp(x)*exp(y))", "(x*y)"]:
        assert kept in names, kept


def test_a_times_b_over_b_without_inverse_keeps_one_division():
    X = make(x=(1, 2), y=(2, 3))
    names = stored(X, ["*", "/"], complexity=4)
    assert "((x*y)/y)" not in names and "(y/(x*y))" in names


def test_additive_operators_need_equal_units():
    X = make(a=(1, 2), b=(3, 5), c=(1, 2))
    names = stored(X, ["+", "-", "|-|", "*"], ["eV", "Angstrom", "eV"], complexity=3)
    assert "(a+c)" in names and "abs(a-c)" in names and "(a*b)" in names
    assert not any(n in names for n in ["(a+b)", "(a-b)", "(b-a)", "abs(a-b)", "(b+c)"])
    by_name = stored(X, ["+", "-", "|-|", "*"], {"a": "eV", "b": "Å", "c": "eV"}, complexity=3)
    assert by_name == names


def test_transcendental_operators_need_dimensionless_inputs_by_default():
    X = make(a=(1, 2), b=(3, 5))
    ops = ["exp", "exp-", "log", "scd", "sin", "cos", "sqrt", "/"]
    default = stored(X, ops, ["eV", None], complexity=3)
    assert not any(n.endswith("(a)") and not n.startswith("sqrt") for n in default)
    assert {"exp(b)", "log(b)", "sin(b)", "scd(b)", "sqrt(a)"} <= set(default)
    ratio = stored(make(a=(1, 2), c=(3, 4)), ["exp", "/"], ["eV", "eV"], complexity=4)
    assert "exp((a/c))" in ratio and "exp(a)" not in ratio  # dimensionless ratio of eV
    fortran = stored(X, ops, ["eV", None], complexity=3, fortran_compatible=True)
    assert {"exp(a)", "log(a)", "sin(a)", "cos(a)", "scd(a)"} <= set(fortran)


def test_cbrt_of_negative_values():
    X = make(a=(-3, -1), b=(1, 2))
    default = FeatureSpace(["cbrt"], max_complexity=2).build(X, ["a", "b"])
    k = default.stored_names().index("cbrt(a)")
    np.testing.assert_allclose(default._values[k], np.cbrt(X["a"]))
    fortran = FeatureSpace(["cbrt"], max_complexity=2, fortran_compatible=True).build(X, ["a", "b"])
    k = fortran.stored_names().index("cbrt(a)")
    assert np.isnan(fortran._values[k]).all()  # Fortran x**(1/3): NaN, yet counted
    y = X["b"].to_numpy() ** 2
    assert "cbrt(a)" not in screened(fortran, y)


def test_domain_checks():
    X = make(p=(1, 2), q=(-1, 1), r=(-2, -1))
    X.loc[0, "q"] = 0.0
    names = stored(X, ["log", "sqrt", "^-1", "/"], complexity=2)
    assert {"log(p)", "sqrt(p)", "(p)^-1", "(r)^-1", "(p/r)", "(q/p)"} <= set(names)
    assert not {"log(q)", "log(r)", "sqrt(q)", "sqrt(r)", "(q)^-1", "(p/q)"} & set(names)


def test_bounds_constants_and_further_use():
    X = make(x=(200, 400), z=(1, 1))
    space = FeatureSpace([("^2",), ("^-1",)], max_complexity=2, max_abs_value=1e5,
                         min_abs_value=1e-6).build(X, ["x", "z"])
    names = screened(space, np.random.default_rng(2).normal(size=30))
    assert space.n_features_per_rung_ == [2, 3, 4]  # (z)^2 is constant: dropped
    assert "(x)^2" not in names  # max|f| > max_abs_value: not selectable ...
    assert "((x)^2)^-1" in names  # ... but combined further
    assert "z" not in names and "x" in names


def test_duplicates_stored_and_selected():
    rng = np.random.default_rng(3)
    x = rng.uniform(1, 2, 30)
    X = pd.DataFrame({"x": x, "w": x, "v": 2 * x, "u": rng.uniform(1, 2, 30)})
    names = stored(X, ["^2", "*"], complexity=3)
    assert "(w)^2" in names and "(x)^2" not in names  # same values: alphabetical winner
    space = FeatureSpace(["^2"], max_complexity=1).build(X, list(X.columns))
    selected = screened(space, x**2 + rng.normal(0, 0.01, 30))
    assert selected.count("(v)^2") + selected.count("(w)^2") + selected.count("(x)^2") == 1
    assert sum(n in selected for n in ["v", "w", "x"]) == 1


def test_selection_prefers_simpler_on_equal_score():
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"a": rng.uniform(1, 2, 30), "b": rng.uniform(1, 2, 30)})
    space = FeatureSpace(["^2", "^3", "sqrt", "*"], max_complexity=3).build(X, ["a", "b"])
    y = X["a"].to_numpy()
    first = space.screen(PearsonScorer(y), 3)
    assert str(first[0].expression) == "a"  # ties broken towards lower complexity
    scores = [f.score for f in first]
    assert scores == sorted(scores, reverse=True)


def test_operators_per_rung_and_unknown_operator():
    X = make(a=(1, 2), b=(3, 5))
    names = stored(X, [("^2",), ("sqrt",), ("+",)], complexity=4)
    assert "sqrt((a)^2)" not in names and "(a)^2" in names and "sqrt(a)" not in names
    assert "sqrt((a)^2)" not in names
    with pytest.raises(ValueError, match="'tanh'"):
        FeatureSpace(["+", "tanh"]).build(X, ["a", "b"])
    with pytest.raises(ValueError, match="'pow'"):
        FeatureSpace("(+)(pow)").build(X, ["a", "b"])


@pytest.mark.parametrize(
    ("column", "message"),
    [([1.0, np.nan, 2.0], "'bad'.*NaN"), ([1.0, np.inf, 2.0], "'bad'.*infinite"),
     (["1", "x", "2"], "'bad'.*not numeric")],
)
def test_bad_values(column, message):
    X = pd.DataFrame({"ok": [1.0, 2.0, 3.0], "bad": column})
    with pytest.raises(ValueError, match=message):
        FeatureSpace().build(X)


@pytest.mark.parametrize("name", ["a+b", "a-b", "a*b", "a/b", "a^2", "f(a)", "a|b", "a b", ""])
def test_bad_names(name):
    with pytest.raises(ValueError, match="operator characters"):
        FeatureSpace().build(np.ones((3, 2)) * [[1], [2], [3]], ["ok", name])


def test_other_bad_input():
    X = np.array([[1.0, 2.0], [2.0, 3.0], [4.0, 1.0]])
    with pytest.raises(ValueError, match="duplicate feature name 'a'"):
        FeatureSpace().build(X, ["a", "a"])
    with pytest.raises(ValueError, match="'b'.*'eV/#'"):
        FeatureSpace().build(X, ["a", "b"], ["eV", "eV/#"])
    with pytest.raises(ValueError, match="units"):
        FeatureSpace().build(X, ["a", "b"], ["eV"])
    with pytest.raises(ValueError, match="2-D"):
        FeatureSpace().build(np.ones(3), ["a"])
    with pytest.raises(RuntimeError, match="build"):
        FeatureSpace().screen(PearsonScorer([1.0, 2.0, 3.0]), 1)
    space = FeatureSpace(["+"], max_complexity=1).build(X, ["a", "b"])
    with pytest.raises(ValueError, match="scorer"):
        space.screen(PearsonScorer([1.0, 2.0]), 1)
    with pytest.raises(ValueError, match="allowed_primary"):
        space.screen(PearsonScorer([1.0, 2.0, 0.0]), 1, allowed_primary=[True])
    with pytest.raises(ValueError, match="rows"):
        space.screen(PearsonScorer([1.0, 2.0]), 1, rows=[0, 5])


class NoFastPath(Scorer):
    """Generic-path scorer: same numbers as the wrapped scorer, no fused kernel."""

    kind = "test"

    def __init__(self, residual, inner=None):
        self.inner = inner or PearsonScorer(residual)
        self.n_samples = self.inner.n_samples

    def score_block(self, values):
        return self.inner.score_block(values)


@pytest.fixture(scope="module")
def small_space():
    X = make(40, 5, a=(1, 2), b=(0.5, 3), c=(-2, -1), d=(1, 4))
    space = FeatureSpace(["+", "-", "*", "/", "^2", "sqrt", "exp", "|-|"], max_complexity=3)
    return X, space.build(X, list(X.columns), ["eV", "eV", None, "Angstrom"])


def test_fused_and_generic_paths_agree(small_space):
    X, space = small_space
    y = X["a"] * X["d"] / X["b"] + np.random.default_rng(6).normal(0, 0.1, 40)
    fused = space.screen(PearsonScorer(y), 50)
    generic = space.screen(NoFastPath(y), 50)
    assert [str(f.expression) for f in fused] == [str(f.expression) for f in generic]
    np.testing.assert_allclose([f.score for f in fused], [f.score for f in generic], rtol=1e-12)
    for f in fused:
        np.testing.assert_allclose(f.expression.evaluate(X), f.values, rtol=1e-12)


def test_multitask_fused_and_generic_paths_agree(small_space):
    X, space = small_space
    task = np.arange(40) % 3
    y = (X["a"] * X["d"]).to_numpy() * (1 + task)
    scorer = MultiTaskPearsonScorer(y, task)
    fused = space.screen(scorer, 30)
    generic = space.screen(NoFastPath(None, scorer), 30)
    assert [str(f.expression) for f in fused] == [str(f.expression) for f in generic]
    np.testing.assert_allclose([f.score for f in fused], [f.score for f in generic], rtol=1e-12)


def test_small_space_returns_everything():
    X = make(a=(1, 2), b=(2, 4))
    space = FeatureSpace(["+"], max_complexity=1).build(X, ["a", "b"], ["eV", "eV"])
    got = screened(space, np.random.default_rng(8).normal(size=30), n_sis=50)
    assert sorted(got) == ["(a+b)", "a", "b"]


def test_rows_subset_equals_space_built_on_the_subset(small_space):
    X, space = small_space
    rows = np.arange(0, 40, 2)
    y = (X["a"] * X["b"]).to_numpy()
    on_rows = space.screen(PearsonScorer(y[rows]), 20, rows=rows)
    sub = FeatureSpace(space.operators, 3).build(X.iloc[rows], list(X.columns),
                                                 ["eV", "eV", None, "Angstrom"])
    direct = sub.screen(PearsonScorer(y[rows]), 20)
    assert [str(f.expression) for f in on_rows] == [str(f.expression) for f in direct]
    assert all(len(f.values) == len(rows) for f in on_rows)


def test_bootstrap_rows_with_repeats(small_space):
    X, space = small_space
    rows = np.random.default_rng(7).integers(0, 40, 40)
    y = (X["a"] / X["d"]).to_numpy()
    best = space.screen(PearsonScorer(y[rows]), 5, rows=rows)
    for f in best:
        values = f.expression.evaluate(X)[rows]
        np.testing.assert_allclose(f.values, values)
        assert f.score == pytest.approx(abs(np.corrcoef(values, y[rows])[0, 1]), abs=1e-12)
    assert space.n_features_per_rung_[-1] > space.n_stored_  # counted by full screens only


def test_allowed_primary(small_space):
    X, space = small_space
    y = (X["a"] * X["d"]).to_numpy()
    allowed = np.array([False, True, True, True])
    masked = space.screen(PearsonScorer(y), 30, allowed_primary=allowed)
    assert all("a" not in f.expression.primary_features for f in masked)
    sub = FeatureSpace(space.operators, 3).build(X[["b", "c", "d"]], ["b", "c", "d"],
                                                 ["eV", None, "Angstrom"])
    direct = sub.screen(PearsonScorer(y), 30)
    assert [str(f.expression) for f in masked] == [str(f.expression) for f in direct]
    np.testing.assert_allclose([f.score for f in masked], [f.score for f in direct])


def test_exclude_and_evaluate(small_space):
    X, space = small_space
    y = (X["a"] - X["b"]).to_numpy()
    first = space.screen(PearsonScorer(y), 5)
    again = space.screen(PearsonScorer(y), 5, exclude={first[0].expression.key})
    assert first[0].expression not in [f.expression for f in again]
    # exclusion is by key (as Fortran's by name): the mirrored twin may now be selected
    assert str(first[0].expression) == "(a-b)" and str(again[0].expression) == "(b-a)"
    assert [f.expression for f in again[1:]] == [f.expression for f in first[1:]]
    table = space.evaluate([f.expression for f in first], X)
    assert table.shape == (40, 5)
    np.testing.assert_allclose(table[:, 0], first[0].values)


def test_stored_unit_vectors_match_expression_units(small_space):
    _, space = small_space
    for k in range(space.n_stored_):
        expr = space.expression_of(k)
        assert str(expr) == space.stored_names()[k]
        np.testing.assert_allclose(expr.unit.vector(space.unit_bases_), space.tables.unit_vec[k])
        assert expr.complexity == space.tables.complexity[k]


def test_tables_is_a_frozen_view_of_the_program():
    rng = np.random.default_rng(5)
    X = rng.uniform(1, 2, size=(20, 3))
    space = FeatureSpace(("+", "*", "^2"), max_complexity=2)
    space.build(X, ["a", "b", "c"], [None, None, None])
    tables = space.tables
    assert tables.n_stored == space.n_stored_ == len(tables.names)
    assert list(tables.names[:3]) == ["a", "b", "c"]
    k = int(np.flatnonzero(tables.complexity == 1)[0])
    expr = space.expression_of(k)
    np.testing.assert_allclose(tables.values[k], expr.evaluate(X))
    assert tables.values.shape == (space.n_stored_, 20)
    for arr in (tables.op, tables.a, tables.complexity, tables.values):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1
    with pytest.raises(AttributeError):
        tables.fortran = True  # frozen
