"""The Numba selection kernel agrees exactly with the Python/NumPy reference loop."""

from __future__ import annotations

import numpy as np
import pytest

from sisso_lite.features.select import (
    key_ranks,
    select_indices,
    select_indices_reference,
    tie_ranks,
    unit_rows,
    unit_rows_nb,
)


def _random_case(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores with ties, duplicate-valued and constant features, random key ranks."""
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(1, 120)), int(rng.integers(2, 12))
    vals = rng.normal(size=(m, n))
    dup = rng.random(m) < 0.3  # copies (or affine images) of earlier features
    for k in np.flatnonzero(dup):
        if k:
            j = int(rng.integers(0, k))
            vals[k] = rng.choice([-2.0, 1.0, 3.0]) * vals[j] + rng.normal()
    vals[rng.random(m) < 0.05] = 1.5  # constant: zero unit row
    score = np.round(rng.random(m), int(rng.integers(1, 3)))  # many exact ties
    score[dup] = np.roll(score, 1)[dup] + rng.choice([0.0, 5e-9, 2e-8], size=int(dup.sum()))
    score = np.sort(score)[::-1]
    keys = [(int(rng.integers(0, 3)), int(rng.integers(1, 4)), str(rng.integers(0, 5)))
            for _ in range(m)]
    return score, unit_rows(vals), key_ranks(keys)


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("threshold", [0.99, 1.0 - 1e-8])
def test_kernel_matches_reference(seed: int, threshold: float) -> None:
    score, unit, rank = _random_case(seed)
    for n_sis in (1, 5, len(score) + 3):
        got = select_indices(score, unit, rank, threshold, 1e-8, n_sis)
        ref = select_indices_reference(score, unit, rank, threshold, 1e-8, n_sis)
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("threshold", [0.99, 1.0 - 1e-8])
def test_tie_ranks_select_the_same(seed: int, threshold: float) -> None:
    """Ranks built only inside tie runs give the selection of ranks over all keys."""
    score, unit, rank = _random_case(seed)
    lazy = tie_ranks(score, 1e-8, lambda i: (int(rank[i]),))
    for n_sis in (1, 5, len(score) + 3):
        np.testing.assert_array_equal(
            select_indices(score, unit, lazy, threshold, 1e-8, n_sis),
            select_indices(score, unit, rank, threshold, 1e-8, n_sis))


def test_tie_ranks_only_asks_for_tied_keys() -> None:
    asked = []
    score = np.array([0.9, 0.9, 0.5, 0.3 + 5e-9, 0.3, 0.1])
    rank = tie_ranks(score, 1e-8, lambda i: asked.append(i) or (-i,))
    assert asked == [0, 1, 3, 4]
    assert rank.tolist() == [1, 0, 0, 1, 0, 0]


def test_duplicates_merged_to_simpler() -> None:
    x = np.array([[1.0, 2.0, 4.0], [2.0, 4.0, 8.0], [1.0, 0.0, 3.0]])
    score = np.array([0.9, 0.9, 0.5])
    rank = np.array([2, 1, 0])
    got = select_indices(score, unit_rows(x), rank, 0.99, 1e-8, 3)
    assert got.tolist() == [1, 2]  # feature 1 replaces its simpler-ranked twin 0


def test_key_ranks_dense_and_tied() -> None:
    keys = [(1, 3, "b"), (0, 5, "a"), (1, 3, "b"), (1, 2, "z")]
    assert key_ranks(keys).tolist() == [2, 0, 2, 1]


def test_unit_rows_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    vals = rng.normal(size=(9000, 7))
    vals[3] = 2.0
    centred = vals - vals.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1)
    ref = np.divide(centred, norms[:, None], out=np.zeros_like(centred),
                    where=norms[:, None] > 0)
    np.testing.assert_array_equal(unit_rows(vals), ref)
    np.testing.assert_allclose(unit_rows_nb(vals, np.empty_like(vals)), ref, rtol=0,
                               atol=1e-14)
    vals[5] = np.nan
    assert not unit_rows_nb(vals, vals)[[3, 5]].any()  # zero or NaN norm: zero row


def _simpler_key(space, code: int, a: int, b: int, name: str) -> tuple:
    """Simplicity of a candidate: complexity, then formula length, then the formula."""
    if code < 0:
        comp = int(space.tables.complexity[a])
    else:
        cx = space.tables.complexity
        comp = 1 + int(cx[a]) + (int(cx[b]) if b >= 0 else 0)
    return (comp, len(name), name)


def _select_reference(space, cands, values, n_sis, excluded):
    """The original Python/NumPy ``screening._select`` (before the Numba kernel)."""
    from sisso_lite.features.generate import compute_nodes
    from sisso_lite.features.screening import SCORE_TOL

    corr_threshold = 1.0 - 1e-8 if space.tables.fortran else 0.99
    cands = sorted(cands, key=lambda c: -c[0])
    names = [space.tables.names[a] if code < 0 else space.candidate_name(code, a, b)
             for _, code, a, b in cands]
    cands = [c for c, name in zip(cands, names, strict=True) if name not in excluded]
    names = [name for name in names if name not in excluded]
    if not cands:
        return []
    code = np.array([c[1] for c in cands], dtype=np.int64)
    arg_a = np.array([c[2] for c in cands], dtype=np.int64)
    arg_b = np.array([c[3] for c in cands], dtype=np.int64)
    vals = np.empty((len(cands), values.shape[1]))
    stored = code < 0
    vals[stored] = values[arg_a[stored]]
    vals[~stored] = compute_nodes(code[~stored], arg_a[~stored], arg_b[~stored], values,
                                  space.tables.fortran)
    centred = vals - vals.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1)
    unit = np.divide(centred, norms[:, None], out=np.zeros_like(centred),
                     where=norms[:, None] > 0)

    def key(k):
        _, c, a, b = cands[k]
        return _simpler_key(space, c, a, b, names[k])

    kept: list[int] = []
    low = 0
    for k, (score, _c, _a, _b) in enumerate(cands):
        while low < len(kept) and cands[kept[low]][0] - score > SCORE_TOL:
            low += 1
        if low < len(kept):
            window = np.array(kept[low:])
            corr = np.abs(unit[window] @ unit[k])
            hits = np.flatnonzero(corr >= corr_threshold)
            if hits.size:
                other = low + int(hits[-1])
                if key(k) < key(kept[other]):
                    kept[other] = k
                continue
        kept.append(k)
    remaining = kept
    chosen = []
    while remaining and len(chosen) < n_sis:
        top = cands[remaining[0]][0]
        end = 1
        while end < len(remaining) and top - cands[remaining[end]][0] <= SCORE_TOL:
            end += 1
        pick = min(range(end), key=lambda p: key(remaining[p]))
        k = remaining.pop(pick)
        chosen.append((*cands[k], vals[k].copy()))
    return chosen


@pytest.mark.parametrize("fortran", [False, True])
def test_select_matches_original_on_a_space(fortran: bool) -> None:
    from sisso_lite.features import FeatureSpace
    from sisso_lite.features.screening import _select

    rng = np.random.default_rng(3)
    X = rng.uniform(0.5, 3.0, size=(25, 5))
    X[:, 4] = 2.0 * X[:, 0]  # duplicate-valued primary feature
    space = FeatureSpace(["+", "-", "*", "/", "^2", "sqrt"], max_complexity=2,
                         fortran_compatible=fortran).build(X)
    values = space.tables.values
    y = rng.normal(size=25)
    yc = (y - y.mean()) / np.linalg.norm(y - y.mean())
    vc = values - values.mean(axis=1, keepdims=True)
    with np.errstate(all="ignore"):
        r = np.abs(vc @ yc) / np.linalg.norm(vc, axis=1)
    r = np.round(r, 2)  # many exact ties
    cands = [(float(r[k]), -1, k, -1) for k in range(space.n_stored_) if np.isfinite(r[k])]
    cands += [(float(r[k]), 9, k, -1) for k in range(0, space.n_stored_, 7)
              if np.isfinite(r[k])]  # last-rung candidates k^2 (code 9), equal scores
    names = space.stored_names()
    for n_sis, excluded in [(1, set()), (10, {names[7], names[30]}), (400, set())]:
        got = _select(space, list(cands), space.tables.storage, n_sis, excluded)
        ref = _select_reference(space, list(cands), values, n_sis, excluded)
        assert [g[:4] for g in got] == [q[:4] for q in ref]
        assert len(ref) < min(n_sis, len(cands)) or n_sis < 400  # duplicates were merged
        for g, q in zip(got, ref, strict=True):
            np.testing.assert_array_equal(g[4], q[4])

