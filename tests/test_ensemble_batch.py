"""Batched (lock-step) ensemble members are identical to per-member ``run_sisso`` fits."""

from __future__ import annotations

from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pytest

from sisso_lite.datasets import load_octet_binaries
from sisso_lite.estimators import SissoEnsemble, SissoRegressor
from sisso_lite.features import FeatureSpace
from sisso_lite.features.fused import partner_lists
from sisso_lite.features.generate import MODE_RECORD, compute_nodes, generate_rung
from sisso_lite.features.kernels import pearson_scores_nb
from sisso_lite.features.materialize import (
    NEVER,
    _values_of,
    candidate_rows,
    candidate_rows_numpy,
    enumerate_last_rung,
    materialize,
)
from sisso_lite.features.operators import operator_mask
from sisso_lite.solvers.batch import (
    fit_members_batched,
    inverse_sd,
    inverse_sd_numpy,
    upper_bounds,
    upper_bounds_numpy,
)
from sisso_lite.solvers.driver import run_sisso
from sisso_lite.solvers.sis import PearsonScorer

OCTET_OPS = ("+", "-", "*", "/", "exp", "exp-", "^-1", "^2", "^3", "sqrt", "cbrt", "log", "|-|")
REF = Path(__file__).parent / "data" / "sisso_reference" / "octet14_r2_d3"


def _members(n_samples: int, n_primary: int, n_members: int, n_drop: int, seed: int):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_members):
        rows = np.sort(rng.integers(0, n_samples, n_samples))
        mask = np.ones(n_primary, dtype=bool)
        mask[rng.choice(n_primary, n_drop, replace=False)] = False
        out.append((rows, mask))
    return out


def _assert_same(space, y, members, **params):
    with_threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        batched = fit_members_batched(space, y, members, **params)
        reference = [run_sisso(space, y, rows=r, allowed_primary=m, **params)
                     for r, m in members]
    finally:
        numba.set_num_threads(with_threads)
    assert batched is not None
    for got, want in zip(batched, reference, strict=True):
        assert sorted(got.models) == sorted(want.models)
        for d in want.models:
            assert [str(e) for e in got.selected[d]] == [str(e) for e in want.selected[d]]
            np.testing.assert_array_equal(got.selected_scores[d], want.selected_scores[d])
            for a, b in zip(got.models[d], want.models[d], strict=True):
                assert a.descriptors == b.descriptors
                np.testing.assert_allclose(a.coefficients, b.coefficients, rtol=0, atol=1e-10)
                np.testing.assert_allclose(a.intercept, b.intercept, rtol=0, atol=1e-10)
                assert a.rmse == pytest.approx(b.rmse, abs=1e-12)


@pytest.fixture(scope="module")
def octet_space():
    from sisso_lite.estimators._validation import check_units
    from sisso_lite.features import parse_unit

    data = load_octet_binaries()
    X, y, units = data[0], data[1], data[-1]
    est = SissoRegressor(max_complexity=3, operators=OCTET_OPS, units=units)
    X_arr, y_arr, names = est._validate_fit_input(X, y)
    space = est._make_space()
    space.build(X_arr, names, check_units(est.units, names, parse_unit))
    return space, y_arr


def _planted_space(fortran: bool = False):
    rng = np.random.default_rng(3)
    n = 40
    X = pd.DataFrame({"a": rng.uniform(0.5, 2.0, n), "b": rng.uniform(-1.0, 1.0, n),
                      "c": rng.uniform(1.0, 3.0, n), "d": rng.normal(0.0, 1.0, n),
                      "e": rng.uniform(0.1, 1.0, n)})
    X.loc[5, "b"] = 0.0  # a/b, b^-1: only for members without row 5 (special candidates)
    X.loc[7, "e"] = 1e-4  # bounds of e^-1 etc. depend on the rows
    y = (3.0 * X.a * X.c / (X.e + 1.0) - 1.0 + 0.05 * rng.standard_normal(n)).to_numpy()
    space = FeatureSpace(operators=("+", "-", "*", "/", "^-1", "^2", "sqrt", "log", "exp"),
                         max_complexity=3, fortran_compatible=fortran)
    space.build(X)
    return space, y


def test_batched_equals_per_member_octet(octet_space):
    space, y = octet_space
    members = _members(len(y), 14, 8, 3, seed=1)
    _assert_same(space, y, members, n_dim=2, n_sis=10, n_models=3)


@pytest.mark.parametrize("fortran", [False, True])
def test_batched_equals_per_member_planted(fortran):
    space, y = _planted_space(fortran)
    members = _members(len(y), 5, 8, 1, seed=2)
    members.append((np.sort(np.r_[np.arange(40), 5]), None))  # no dropout, row 5 repeated
    _assert_same(space, y, members, n_dim=3, n_sis=6, n_models=2)


def test_batched_equals_per_member_without_pools(octet_space, monkeypatch):
    """Pools too small for the first cut: every member screens from its full bound vector."""
    from sisso_lite.solvers import batch

    monkeypatch.setattr(batch, "POOL_FACTOR", 0.5)
    space, y = octet_space
    _assert_same(space, y, _members(len(y), 14, 4, 3, seed=7), n_dim=2, n_sis=10, n_models=2)


@pytest.mark.parametrize("n_rows", [6, 24])
def test_batched_equals_per_member_zero_loads(n_rows):
    """Composition loads with zeros: divisions by a load that is zero only outside some
    members' rows are special candidates, and many candidates share a row class, so a
    special candidate's class row differs from its candidate index (the domain conditions
    must be looked up by candidate; a row lookup once hid ``la_load/ni_load``)."""
    from sisso_lite.datasets import load_oer_plate

    X, y = load_oer_plate("A")
    rows = [60, 300, 960, 1040, 1560, 1980] if n_rows == 6 else list(range(0, 2121, 89))[:24]
    X, y = X.iloc[rows].reset_index(drop=True), y.iloc[rows].to_numpy()
    space = FeatureSpace(operators=("+", "-", "*", "/", "^-1", "sqrt"),
                         max_complexity=2 if n_rows > 6 else 1).build(X)
    members = _members(n_rows, X.shape[1], 8, 1, seed=0)
    members.append((np.array([0, 1, 2, 2, 2, 4]) if n_rows == 6 else members[0][0],
                    np.array([c != "co_load" for c in X.columns])))
    _assert_same(space, y, members, n_dim=2, n_sis=5, n_models=2)


@pytest.mark.parametrize("fortran", [False, True])
def test_batched_equals_per_member_integer_ties(fortran):
    """Small-integer features: many exactly tied scores and duplicate features."""
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.integers(1, 4, size=(30, 6)).astype(float), columns=list("abcdef"))
    y = (X.a * X.b + X.c).to_numpy()
    space = FeatureSpace(operators=("+", "-", "*", "/", "^2", "sqrt", "^-1", "|-|"),
                         max_complexity=3, fortran_compatible=fortran).build(X)
    members = _members(30, 6, 8, 1, seed=6)
    _assert_same(space, y, members, n_dim=2, n_sis=15, n_models=3)


def test_batched_equals_per_member_fortran_reference():
    df = pd.read_csv(REF / "train.dat", sep=r"\s+", index_col=0)
    X = df.iloc[:, 1:]
    units = {c: ("eV" if i < 8 else "Angstrom") for i, c in enumerate(X.columns)}
    space = FeatureSpace(operators=OCTET_OPS, max_complexity=3, fortran_compatible=True)
    space.build(X, units=units)
    y = df.iloc[:, 0].to_numpy()
    members = _members(len(y), X.shape[1], 8, 3, seed=4)
    _assert_same(space, y, members, n_dim=2, n_sis=8, n_models=1)


def test_upper_bounds_are_upper_bounds(octet_space):
    space, y = octet_space
    ms = materialize(space)
    members = _members(len(y), 14, 3, 3, seed=5)
    rows, mask = members[0]
    w = np.bincount(rows, minlength=len(y)).astype(np.float32)[None, :]
    vals = np.ascontiguousarray(space.tables.values[:, rows])
    unit = PearsonScorer(y[rows] - y[rows].mean()).fast_path()[0]
    r = np.bincount(rows, weights=unit, minlength=len(y)).astype(np.float32)[None, :]
    plain = np.setdiff1d(ms.regular, ms.special)
    pick = np.sort(np.random.default_rng(0).choice(plain, 3000, replace=False))
    z = ms.z[ms.row_of[pick]]
    sx, sxx = w @ z.T, w @ (z * z).T
    inv, ill = np.empty_like(sx), np.empty(sx.shape, bool)
    inverse_sd(sx, sxx, np.array([w.sum()], float), 2.0 * 84 * 1.2e-7,
               np.zeros(sx.shape, bool), inv, ill)
    u = np.empty_like(sx)
    upper_bounds(np.ascontiguousarray(r @ z.T), inv, np.array([float(w.max())]),
                 2.0 * 84 * 1.2e-7, u)
    exact_vals = _values_of(ms.code[pick], ms.a[pick], ms.b[pick], vals, False)
    exact = pearson_scores_nb(exact_vals, unit, np.zeros(len(rows), np.int64), 1, np.ones(1))
    ok = ~ill[0] & np.isfinite(exact)
    assert ok.sum() > 2500
    assert np.all(u[0, ok] >= exact[ok])
    gap = u[0, ok] - exact[ok]
    assert np.median(gap) < 1e-3 and gap.max() < 0.05


def test_kernels_match_numpy(octet_space):
    space, _ = octet_space
    ms = materialize(space)
    rng = np.random.default_rng(0)
    idx = np.sort(np.r_[rng.choice(len(ms.code), 2000, replace=False), ms.special[:50],
                        np.arange(20)])
    z = np.zeros((len(idx), space.n_samples_), np.float32)
    kind = np.empty(len(idx), np.int8)
    with np.errstate(all="ignore"):
        candidate_rows(ms.code[idx], ms.a[idx], ms.b[idx], space.tables.values, False,
                       space.tables.lower, z, kind)
    z_ref, kind_ref = candidate_rows_numpy(ms.code[idx], ms.a[idx], ms.b[idx], space.tables.values,
                                           False, space.tables.lower)
    np.testing.assert_array_equal(kind, kind_ref)
    np.testing.assert_allclose(z, z_ref, atol=1e-6)
    sx = rng.normal(size=(4, 300)).astype(np.float32)
    sxx = (sx**2 + rng.uniform(0, 2, size=(4, 300))).astype(np.float32)
    sxx[0, :5] = sx[0, :5] ** 2  # ill-conditioned
    excluded = rng.random((4, 300)) < 0.1
    wsum = np.full(4, 1.0)
    inv, ill = np.empty_like(sx), np.empty(sx.shape, bool)
    inverse_sd(sx, sxx, wsum, 1e-5, excluded, inv, ill)
    inv_ref, ill_ref = inverse_sd_numpy(sx, sxx, wsum, 1e-5, excluded)
    np.testing.assert_allclose(inv, inv_ref, rtol=1e-6)
    np.testing.assert_array_equal(ill, ill_ref)
    assert ill[0, :5].all()
    out = np.empty_like(sx)
    wmax = np.array([1.0, 2.0, 3.0, 4.0])
    upper_bounds(sx, inv, wmax, 1e-5, out)
    np.testing.assert_allclose(out, upper_bounds_numpy(sx, inv, wmax, 1e-5), rtol=1e-6)


@pytest.mark.parametrize("fortran", [False, True])
def test_enumeration_matches_generate_rung(octet_space, fortran):
    """With the real flags, the valid enumerated candidates are generate_rung's, in order."""
    space, _ = octet_space
    if fortran:
        space = _planted_space(True)[0]
    inputs = space.tables.rung_inputs(space.tables.values)
    opmask = np.array(operator_mask(space.operator_sets_[space.n_rungs_ - 1]), dtype=np.bool_)
    n_total, start = space.n_stored_, inputs["tier_start"]
    allowed = np.ones(n_total, dtype=np.bool_)
    older = partner_lists(space.tables.complexity, allowed, 0, start, space.max_complexity - 1)
    tier = partner_lists(space.tables.complexity, allowed, start, n_total, space.max_complexity - 1)
    out = tuple(np.empty(2_000_000, np.int64) for _ in range(3))
    n = enumerate_last_rung(start, n_total, opmask, space.tables.op, space.tables.a, space.tables.b,
                            space.tables.complexity, space.max_complexity, inputs["right_first"],
                            inputs["unit_id"], inputs["nonzero"], inputs["positive"],
                            inputs["dimensionless"], space.tables.fortran, *older, *tier, *out)
    code, a, b = (o[:n] for o in out)
    cap = 4_000_000
    rec = (np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64),
           np.empty(cap, np.int8), np.empty(cap), np.empty((1, space.n_samples_)))
    tb = space.tables
    n_rec, _, i_pos, _ = generate_rung(
        MODE_RECORD, start, -1, n_total, start, True, opmask, tb.op, tb.a, tb.b,
        tb.complexity, space.max_complexity, inputs["suffix_min"], inputs["right_first"],
        inputs["unit_id"], inputs["nonzero"], inputs["positive"], inputs["dimensionless"],
        allowed, tb.values, tb.fortran, tb.lower, tb.upper, tb.tag, *rec)
    assert i_pos == n_total
    from sisso_lite.features.generate import status_of_rows

    with np.errstate(all="ignore"):
        status = status_of_rows(compute_nodes(code, a, b, tb.values, tb.fortran),
                                tb.fortran, tb.lower, tb.upper)
    valid = status > 0
    np.testing.assert_array_equal(code[valid], rec[0][:n_rec])
    np.testing.assert_array_equal(a[valid], rec[1][:n_rec])
    np.testing.assert_array_equal(b[valid], rec[2][:n_rec])


def test_materialize_never_drops_selectable(octet_space):
    space, _ = octet_space
    ms = materialize(space)
    dropped = np.setdiff1d(np.arange(len(ms.code)), ms.regular)
    z = np.zeros((len(dropped), space.n_samples_), np.float32)
    kind = np.empty(len(dropped), np.int8)
    with np.errstate(all="ignore"):
        candidate_rows(ms.code[dropped], ms.a[dropped], ms.b[dropped], space.tables.values, False,
                       space.tables.lower, z, kind)
    assert np.all(kind == NEVER)


def test_ensemble_batch_matches_per_member_and_falls_back():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(1.0, 2.0, size=(30, 5)), columns=list("abcde"))
    y = (2.0 * X.a / X.b + 0.3 * X.c + 0.05 * rng.standard_normal(30)).to_numpy()
    template = SissoRegressor(n_dim=2, max_complexity=3, n_sis=5, n_models=1,
                              operators=("+", "-", "*", "/", "^2", "sqrt"))
    kw = dict(n_estimators=6, feature_dropout=0.2, random_state=3)
    fast = SissoEnsemble(template, batch=True, **kw).fit(X, y)
    slow = SissoEnsemble(template, batch=False, **kw).fit(X, y)
    tiny = SissoEnsemble(template, batch=True, max_batch_bytes=1.0, **kw).fit(X, y)
    for a, b, c in zip(fast.members_, slow.members_, tiny.members_, strict=True):
        assert a.descriptors == b.descriptors == c.descriptors
        np.testing.assert_allclose(a.coefficients, b.coefficients, rtol=0, atol=1e-10)
        np.testing.assert_allclose(a.intercept, b.intercept, rtol=0, atol=1e-10)
    np.testing.assert_allclose(fast.predict(X), slow.predict(X), rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match="batch"):
        SissoEnsemble(template, batch="yes", **kw).fit(X, y)


def test_excluded_block_matches_float_product() -> None:
    from sisso_lite.solvers.batch_kernels import excluded_block, uses_bits

    rng = np.random.default_rng(5)
    for n_primary in (14, 62, 63, 130):  # one, one, two and three bit words
        uses = rng.random((300, n_primary)) < 0.05
        dropped = rng.random((n_primary, 7)) < 0.2  # (primary, member)
        usable = rng.random(300) < 0.9
        ref = ((uses.astype(np.float32) @ dropped.astype(np.float32)).T > 0) | ~usable[None, :]
        out = np.empty((7, 300), bool)
        excluded_block(uses_bits(uses), uses_bits(dropped.T), usable, out)
        np.testing.assert_array_equal(out, ref)


def test_row_classes_match_numpy(octet_space):
    """Classes (same row up to sign, same primaries) agree with a dictionary of canonical
    rows, also when hashes collide; every class's candidates share its row up to sign."""
    from sisso_lite.features.row_classes import (
        ALONE,
        MERGE,
        row_classes,
        row_classes_numpy,
        row_hashes,
        uses_bits,
    )

    space, _ = octet_space
    ms = materialize(space)
    rng = np.random.default_rng(1)
    idx = np.sort(rng.choice(len(ms.code), 6000, replace=False))
    z = np.zeros((len(idx), space.n_samples_), np.float32)
    kind = np.empty(len(idx), np.int8)
    with np.errstate(all="ignore"):
        candidate_rows(ms.code[idx], ms.a[idx], ms.b[idx], space.tables.values, False,
                       space.tables.lower, z, kind)
    z[::7] = -z[::7]  # sign flips
    row_kind = np.where(kind == NEVER, 0, MERGE).astype(np.int8)
    row_kind[::50] = ALONE
    bits = ms.bits[:, idx]
    uses = np.array([[(bits[p // 62, i] >> (p % 62)) & 1 for p in range(14)]
                     for i in range(len(idx))], bool)
    np.testing.assert_array_equal(uses_bits(uses), bits)
    ref = row_classes_numpy(z, uses, row_kind)
    out = np.empty(len(idx), np.int64)
    n = row_classes(z, row_hashes(z.view(np.uint32), bits), bits, row_kind, out)
    np.testing.assert_array_equal(out, ref)
    assert n == ref.max() + 1 < (row_kind > 0).sum()  # some rows were merged
    # all hashes equal: every merge is a collision; the colliding rows end alone
    collided = np.empty(len(idx), np.int64)
    n_collided = row_classes(z, np.zeros(len(idx), np.uint64), bits, row_kind, collided)
    assert n_collided >= n
    for classes, count in ((out, n), (collided, n_collided)):
        assert np.array_equal(classes < 0, row_kind == 0)
        assert set(classes[classes >= 0]) == set(range(count))
        for c in range(count):
            rows = np.flatnonzero(classes == c)
            signs = np.sign(z[rows] @ z[rows[0]])
            np.testing.assert_array_equal(z[rows] * signs[:, None].astype(np.float32),
                                          z[rows[[0] * len(rows)]])
            assert (bits[:, rows] == bits[:, rows[:1]]).all()
    cand = ms.candidates_of(np.array([0, 5, 5 + 1]))
    np.testing.assert_array_equal(np.sort(ms.row_of[cand]), np.repeat(
        [0, 5, 6], np.diff(ms.row_start)[[0, 5, 6]]))
