"""Memory-saving representations agree with the plain ones they replace (no size assertions).

* :class:`~sisso_lite.features.expression.NodeNames`: lazily formatted feature strings;
* ``FeatureSpace._uses`` built on demand; ``FeatureSpace.release``;
* :func:`~sisso_lite.features.fused.truncate_top` (per-chunk cut of the last-rung top lists)
  against its NumPy reference and against the uncut merge;
* the Gram matrix of the L0 search written without a second copy, bit for bit as before.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from sisso_lite.features import FeatureSpace
from sisso_lite.features.expression import NodeNames, format_node
from sisso_lite.features.fused import truncate_top, truncate_top_numpy
from sisso_lite.features.operators import CODE
from sisso_lite.solvers.driver import run_sisso
from sisso_lite.solvers.l0 import _gram, l0_search
from sisso_lite.solvers.sis import PearsonScorer

OPS = ("+", "-", "*", "/", "^-1", "^2", "sqrt", "|-|")


def _space(complexity: int = 4, fortran: bool = True, seed: int = 0) -> FeatureSpace:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({k: rng.uniform(0.5, 3.0, 25) for k in ("a", "b", "c", "d")})
    units = {"a": "eV", "b": "eV", "c": "Angstrom", "d": "Angstrom"}
    space = FeatureSpace(OPS, max_complexity=complexity, fortran_compatible=fortran)
    return space.build(X, list(X.columns), units)


@pytest.mark.parametrize("fortran", [True, False])
def test_lazy_names_are_the_expression_strings(fortran):
    space = _space(fortran=fortran)
    names = space.tables.names
    assert isinstance(names, NodeNames)
    assert len(names) == space.n_stored_ == space.n_features_per_rung_[-1]
    for k in range(space.n_stored_):
        assert names[k] == str(space.expression_of(k))
    assert names[-1] == names[len(names) - 1]
    assert names[3:7] == [names[k] for k in range(3, 7)]
    assert space.stored_names() == list(names)
    with pytest.raises(IndexError):
        names[len(names)]
    # only the newest stored tier is formatted on demand
    assert len(names._fixed) == space.tables.tier_starts[-1]


def test_node_names_tiers():
    names = NodeNames(["x", "y"])
    op = np.array([0, 0, CODE["*"], CODE["^2"]], dtype=np.int64)  # x, y, (x*y), ((x*y))^2
    a = np.array([0, 1, 0, 2], dtype=np.int64)
    b = np.array([-1, -1, 1, -1], dtype=np.int64)
    names.add_tier(op[:3], a[:3], b[:3])
    assert list(names) == ["x", "y", "(x*y)"]
    names.add_tier(op, a, b)  # the previous lazy tier is now kept as strings
    assert names._fixed == ["x", "y", "(x*y)"]
    assert names[3] == "((x*y))^2" == format_node(CODE["^2"], "(x*y)")


def test_uses_built_on_demand_matches_expressions():
    space = _space()
    assert space._uses_table is None  # not needed by an unrestricted fit
    uses = space.tables.uses
    primary = np.array(space.primary_names_)
    for k in range(0, space.n_stored_, 7):
        assert set(primary[uses[k]]) == set(space.expression_of(k).primary_features)
    assert np.shares_memory(space.tables.uses, uses)  # built once, then cached


def test_release_keeps_names_and_blocks_screening():
    space = _space()
    names = space.stored_names()
    expr = space.expression_of(space.n_stored_ - 1)
    space.release()
    assert "_storage" not in vars(space)
    assert space.stored_names() == names and space.n_stored_ == len(names)
    assert space.expression_of(space.n_stored_ - 1) == expr
    with pytest.raises(RuntimeError, match="released"):
        space.screen(PearsonScorer(np.arange(25.0)), 5)


def test_release_space_does_not_change_the_fit():
    rng = np.random.default_rng(3)
    space = _space(complexity=3, seed=3)
    y = rng.normal(size=25)
    kept = run_sisso(space, y, n_dim=2, n_sis=20, n_models=5)
    released = run_sisso(_space(complexity=3, seed=3), y, n_dim=2, n_sis=20, n_models=5,
                         release_space=True)
    for d in (1, 2):
        assert [m.descriptors for m in kept.models[d]] == [
            m.descriptors for m in released.models[d]]
        np.testing.assert_array_equal([m.rmse for m in kept.models[d]],
                                      [m.rmse for m in released.models[d]])


def _random_tops(rng, n: int):
    score = rng.integers(0, 40, n).astype(np.float64) / 7.0  # many exact ties
    code = rng.integers(0, 20, n).astype(np.int64)
    return score, code, np.arange(n, dtype=np.int64), rng.integers(-1, 50, n).astype(np.int64)


@pytest.mark.parametrize(("n", "keep"), [(0, 3), (5, 5), (9, 5), (200, 17), (64, 1)])
def test_truncate_top_matches_numpy(n, keep):
    rng = np.random.default_rng(n + keep)
    arrays = _random_tops(rng, n + 4)
    ours = [x.copy() for x in arrays]
    ref = [x.copy() for x in arrays]
    got = truncate_top(*ours, n, keep)
    want = truncate_top_numpy(*ref, n, keep)
    assert got == want == min(n, keep)
    for x, r in zip(ours, ref, strict=True):
        np.testing.assert_array_equal(x[:got], r[:got])


def test_cut_chunks_give_the_same_global_top():
    """Stable global top ``keep`` of chunk-major lists: the same with and without the cut."""
    rng = np.random.default_rng(7)
    keep = 25
    chunks = [_random_tops(rng, int(n)) for n in rng.integers(0, 3 * keep, 9)]

    def global_top(parts):
        score = np.concatenate([p[0] for p in parts])
        rest = [np.concatenate([p[i] for p in parts]) for i in (1, 2, 3)]
        order = np.argsort(-score, kind="stable")[:keep]
        return [score[order], *(r[order] for r in rest)]

    cut = []
    for part in chunks:
        arrays = [x.copy() for x in part]
        n = truncate_top(*arrays, len(arrays[0]), keep)
        cut.append([x[:n] for x in arrays])
    for a, b in zip(global_top(chunks), global_top(cut), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n_tasks", [1, 3])
def test_gram_bitwise_as_per_task_products(n_tasks):
    rng = np.random.default_rng(n_tasks)
    Xs = rng.normal(size=(60, 40))
    yc = rng.normal(size=60)
    offsets = np.linspace(0, 60, n_tasks + 1).astype(np.int64)
    G, b, yy = _gram(Xs, yc, offsets)
    assert G.shape == (n_tasks, 40, 40) and G.flags.c_contiguous
    for t in range(n_tasks):
        sl = slice(offsets[t], offsets[t + 1])
        np.testing.assert_array_equal(G[t], Xs[sl].T @ Xs[sl])
        np.testing.assert_array_equal(b[t], Xs[sl].T @ yc[sl])
        assert yy[t] == yc[sl] @ yc[sl]


def test_gram_single_task_is_not_copied():
    Xs = np.random.default_rng(0).normal(size=(30, 600))
    yc = np.ones(30)
    offsets = np.array([0, 30], dtype=np.int64)
    nbytes = 600 * 600 * 8
    tracemalloc.start()
    try:
        G, _, _ = _gram(Xs, yc, offsets)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert G.nbytes == nbytes
    assert peak < 1.5 * nbytes  # one m x m array, not an empty G plus the product


def test_l0_results_unchanged_by_gram():
    rng = np.random.default_rng(11)
    F = rng.normal(size=(40, 30))
    y = F[:, 3] - 2 * F[:, 17] + 0.01 * rng.normal(size=40)
    best = l0_search(F, y, 2, n_models=3)[0]
    assert best.indices == (3, 17)
