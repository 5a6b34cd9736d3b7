"""Cross-check against pysubgroup 0.9.0 on identical selectors and quality functions.

Our selectors ``x <= c`` / ``x >= c`` are given to pysubgroup as the equivalent
``IntervalSelector(-inf, nextafter(c, inf))`` / ``IntervalSelector(c, inf)``. Both searches
use pysubgroup's search space (one selector per attribute, up to ``depth``), so with
``dedupe=False`` the top-k quality values must be identical. pysubgroup's numeric quality
uses the subgroup size ``|S|**a`` where we use the coverage ``(|S|/N)**a``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ps = pytest.importorskip("pysubgroup")

from sisso_lite.subgroups import (  # noqa: E402
    SubgroupDiscovery,
    equal_frequency_cutpoints,
    get_quality,
    make_selectors,
)
from sisso_lite.subgroups.search import Problem, search_exact  # noqa: E402

DATA = Path(__file__).parent / "data" / "octet_binaries_82.csv"


def _to_ps(sel):
    if sel.op == "<=":
        return ps.IntervalSelector(sel.feature, -np.inf, np.nextafter(sel.value, np.inf))
    if sel.op == ">=":
        return ps.IntervalSelector(sel.feature, sel.value, np.inf)
    return ps.EqualitySelector(sel.feature, sel.value)


def _octet():
    df = pd.read_csv(DATA)
    X = df.drop(columns=["material", "A", "B", "dE_RS_ZB_eV"])
    return X, df["dE_RS_ZB_eV"].to_numpy()


def _planted(n=1200, n_feat=6, seed=1, n_cut=10):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.random((n, n_feat)), columns=[f"x{i}" for i in range(n_feat)])
    c = [equal_frequency_cutpoints(X[f"x{i}"].to_numpy(), n_cut) for i in range(3)]
    inside = (X.x0 >= c[0][6]) & (X.x1 <= c[1][4]) & (X.x2 >= c[2][6])
    y = 0.3 * rng.normal(size=n) + 3.0 * inside
    return X, y.to_numpy(), inside.to_numpy()


def _ours(X, y, quality, a, top_k, depth=3, dedupe=False, n_cut=10):
    sels = make_selectors(X, n_cutpoints=n_cut)
    names = list(X.columns)
    qf = get_quality(quality, a)
    z = qf.fit(y)
    pb = Problem(np.array([s.covers(X) for s in sels]),
                 np.array([names.index(s.feature) for s in sels]), z, qf)
    res = search_exact(pb, depth, top_k, dedupe)
    scale = len(y) ** a if quality == "mean_shift" else 1.0
    return sels, np.array([r.quality * scale for r in res]), res, pb


def _pysubgroup(X, y, sels, quality, a, top_k, depth=3):
    data = X.copy()
    if quality == "wracc":
        data["target"] = y.astype(bool)
        target, qf = ps.BinaryTarget("target", True), ps.WRAccQF()
    else:
        data["target"] = y
        target = ps.NumericTarget("target")
        qf = ps.StandardQFNumeric(a, estimator="sum" if a == 1.0 else "order")
    task = ps.SubgroupDiscoveryTask(data, target, [_to_ps(s) for s in sels], qf,
                                    result_set_size=top_k, depth=depth)
    res = ps.BestFirstSearch().execute(task)
    return res, np.array(sorted((q for q, _, _ in res.results), reverse=True))


CASES = [("mean_shift", 1.0), ("mean_shift", 0.5), ("wracc", 1.0)]


@pytest.mark.parametrize("quality,a", CASES)
def test_octet_top_k_identical_to_pysubgroup(quality, a):
    X, dE = _octet()
    y = (dE > 0).astype(float) if quality == "wracc" else dE
    sels, ours, _, _ = _ours(X, y, quality, a, 10)
    _, ref = _pysubgroup(X, y, sels, quality, a, 10)
    assert ours.size == ref.size == 10
    assert np.allclose(ours, ref, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("quality,a", CASES)
def test_planted_top_k_identical_to_pysubgroup(quality, a):
    X, y, inside = _planted()
    if quality == "wracc":
        y = inside.astype(float)
    sels, ours, res, pb = _ours(X, y, quality, a, 10)
    ps_res, ref = _pysubgroup(X, y, sels, quality, a, 10)
    assert np.allclose(ours, ref, rtol=1e-10, atol=1e-13)
    # the planted rule is the best subgroup for both
    best = np.logical_and.reduce([sels[j].covers(X) for j in res[0].selectors])
    assert np.array_equal(best, inside)
    q_best, sg_best, _ = max(ps_res.results, key=lambda t: t[0])
    assert np.array_equal(sg_best.covers(X), inside)


def test_dedupe_matches_pysubgroup_distinct_extensions():
    """dedupe=True top-k equals pysubgroup's ranking with duplicate member sets removed."""
    X, y = _octet()
    sels, ours, _, _ = _ours(X, y, "mean_shift", 1.0, 10, dedupe=True)
    ps_res, _ = _pysubgroup(X, y, sels, "mean_shift", 1.0, 150)
    seen, distinct = set(), []
    for q, sg, _ in sorted(ps_res.results, key=lambda t: -t[0]):
        key = sg.covers(X).tobytes()
        if key not in seen:
            seen.add(key)
            distinct.append(q)
    # the 150 best descriptions hold only a few distinct member sets (redundant rules)
    k = min(10, len(distinct))
    assert k >= 3
    assert np.allclose(ours[:k], distinct[:k], rtol=1e-10)


def test_estimator_matches_pysubgroup_on_octet():
    X, y = _octet()
    m = SubgroupDiscovery(quality="mean_shift", depth=3, top_k=10, dedupe=False).fit(X, y)
    sels = make_selectors(X, n_cutpoints=10)
    _, ref = _pysubgroup(X, y, sels, "mean_shift", 1.0, 10)
    assert np.allclose(m.subgroups_.quality.to_numpy() * len(y), ref, rtol=1e-10)
