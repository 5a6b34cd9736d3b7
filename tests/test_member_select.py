"""Compiled member selection (names as code-point segments) against the Python selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sisso_lite.features import FeatureSpace
from sisso_lite.features.generate import status_of_rows
from sisso_lite.features.kernels import SELECTABLE, pearson_scores_nb
from sisso_lite.features.materialize import _values_of, materialize
from sisso_lite.features.screening import select_candidates
from sisso_lite.solvers.member_select import (
    compare_names,
    name_length,
    name_tables,
    select_member,
)
from sisso_lite.solvers.sis import PearsonScorer

OPS = ("+", "-", "*", "/", "exp", "exp-", "^-1", "^2", "^3", "sqrt", "cbrt", "log", "|-|")


@pytest.fixture(scope="module", params=[False, True], ids=["python", "fortran"])
def space_case(request):
    rng = np.random.default_rng(3)
    # names with non-ASCII characters and prefixes of each other
    cols = ["a", "ab", "b_2", "Δr", "r_σ", "c"]
    X = pd.DataFrame(rng.uniform(0.5, 3.0, size=(25, len(cols))), columns=cols)
    X["c"] = np.round(X["c"])  # ties between candidates
    space = FeatureSpace(operators=OPS, max_complexity=3,
                         fortran_compatible=request.param).build(X)
    y = X["a"] / X["b_2"] + X["Δr"] * X["c"] + 0.01 * rng.standard_normal(25)
    return space, y.to_numpy()


def _name(space, c, a, b):
    return space.tables.names[a] if c < 0 else space.candidate_name(c, a, b)


def test_names_compare_as_python_strings(space_case):
    space, _ = space_case
    ms = materialize(space)
    tables = name_tables(space)
    rng = np.random.default_rng(0)
    picks = rng.choice(len(ms.code), (3000, 2))
    picks[:200, 1] = picks[:200, 0]  # equal names
    for i, j in picks:
        ni, nj = _name(space, ms.code[i], ms.a[i], ms.b[i]), _name(space, ms.code[j],
                                                                ms.a[j], ms.b[j])
        got = compare_names(ms.code[i], ms.a[i], ms.b[i], ms.code[j], ms.a[j], ms.b[j], tables)
        assert got == (ni > nj) - (ni < nj)
        assert name_length(ms.code[i], ms.a[i], ms.b[i], tables) == len(ni)


@pytest.mark.parametrize("seed", range(6))
def test_select_member_matches_select_candidates(space_case, seed):
    """Random members, with and without exclusions: the same selection as the Python
    ``select_candidates`` (names, ties by simplicity, duplicates)."""
    space, y = space_case
    ms = materialize(space)
    tables = name_tables(space)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.integers(0, len(y), len(y)))
    values = np.ascontiguousarray(space.tables.values[:, rows])
    cand = np.sort(rng.choice(ms.regular, 3000, replace=False))
    if seed % 2:  # whole classes, so that many scores tie
        cand = ms.candidates_of(np.unique(ms.row_of[cand])[:1500])
    code, a, b = ms.code[cand], ms.a[cand], ms.b[cand]
    with np.errstate(all="ignore"):
        vals = _values_of(code, a, b, values, space.tables.fortran)
    status = status_of_rows(vals, space.tables.fortran, space.tables.lower, space.tables.upper)
    unit_y = PearsonScorer(y[rows] - y[rows].mean()).fast_path()[0]
    score = pearson_scores_nb(vals, unit_y, np.zeros(len(rows), np.int64), 1, np.ones(1))
    ok = np.flatnonzero((status == SELECTABLE) & ~np.isnan(score))
    # exclusions: names of some of the best candidates and of their class mates
    best = ok[np.argsort(-score[ok])[: 4 * (seed % 3)]]
    excluded = np.array([[code[i], a[i], b[i], ms.row_of[cand[i]]] for i in best],
                        np.int64).reshape(-1, 4)
    names = {_name(space, *e[:3]) for e in excluded}
    corr = 1.0 - 1e-8 if space.tables.fortran else 0.99
    for n_sis in (1, 10, 40):
        want = select_candidates(space, score[ok], code[ok], a[ok], b[ok], None, n_sis,
                                 names, candidate_values=vals[ok])
        got = select_member(score[ok], code[ok], a[ok], b[ok], ms.row_of[cand[ok]], vals[ok],
                            space.tables.complexity, excluded, tables, corr, 1e-8, n_sis)
        assert [(w[1], w[2], w[3]) for w in want] == [
            (int(code[ok][g]), int(a[ok][g]), int(b[ok][g])) for g in got]
