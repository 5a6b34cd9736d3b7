"""Agreement with Fortran SISSO v3.5 reference runs (tests/data/sisso_reference)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sisso_lite.estimators import SissoRegressor
from sisso_lite.solvers.l0 import l0_search

REF = Path(__file__).parent / "data" / "sisso_reference"
OPS = "(+)(-)(*)(/)(exp)(exp-)(^-1)(^2)(^3)(sqrt)(cbrt)(log)(|-|)"
_NUM = r"[-+]?\d\.\d+E[-+]\d+"


def _train(folder: Path):
    df = pd.read_csv(folder / "train.dat", sep=r"\s+", index_col=0)
    y = df.iloc[:, 0]
    X = df.iloc[:, 1:]
    units = {c: ("eV" if i < 8 else "Angstrom") for i, c in enumerate(X.columns)}
    return X, y, units


def _best_models(folder: Path) -> dict[int, dict]:
    """Descriptors, coefficients, intercepts, RMSE and MaxAE per dimension (SISSO.out)."""
    text = (folder / "SISSO.out.reference").read_text()
    out = {}
    for block in text.split("descriptor/model(y=sum(ci*di)+c0)")[1:]:
        block = block.split("Time (second)")[0]
        descs = re.findall(r"d\d{3} = (\S+)\s+feature_ID", block)
        coeffs = [[float(v) for v in re.findall(_NUM, line)]
                  for line in re.findall(r"coeff\.\(ci\):(.*)", block)]
        c0 = [float(v) for v in re.findall(rf"c0:\s+({_NUM})", block)]
        errs = [[float(v) for v in re.findall(_NUM, line)]
                for line in re.findall(r"^\s*RMSE and MaxAE:(.*)", block, flags=re.M)]
        out[len(descs)] = {"descriptors": descs, "coef": np.array(coeffs),
                           "intercept": np.array(c0), "errors": np.array(errs)}
    return out


def _top_models(folder: Path, dim: int):
    """(descriptor tuple, RMSE, MaxAE) of the reference top-model list of one dimension."""
    space = [line.split("SIS_score")[0].strip()
             for line in (folder / "Uspace.expressions.reference").read_text().splitlines()]
    rows = []
    path = next((folder / "Models.reference").glob(f"top*_D{dim:03d}"))
    for line in path.read_text().splitlines()[1:]:
        head, ids = line.split("(")
        _, rmse, maxae = head.split()
        rows.append((tuple(space[int(i) - 1] for i in ids.strip(" )").split()),
                     float(rmse), float(maxae)))
    return rows


def _space(folder: Path) -> list[str]:
    return [line.split("SIS_score")[0].strip()
            for line in (folder / "Uspace.expressions.reference").read_text().splitlines()]


def _evaluate_fortran(formula: str, X: pd.DataFrame) -> np.ndarray:
    """Values of a Fortran SISSO formula (test data only: a restricted eval)."""
    code = formula.replace("^", "**")
    namespace = {c: X[c].to_numpy() for c in X.columns}
    namespace.update(exp=np.exp, log=np.log, sqrt=np.sqrt, cbrt=np.cbrt, abs=np.abs)
    return eval(code, {"__builtins__": {}}, namespace)  # noqa: S307


@pytest.mark.parametrize(("name", "dim"), [("octet14_r2_d3", 1), ("octet14_r2_d3", 2),
                                           ("octet14_r2_d3", 3), ("octet14_mt2_r2_d2", 1),
                                           ("octet14_mt2_r2_d2", 2)])
def test_l0_on_reference_subspace(name, dim):
    """The L0 stage alone, on the SIS subspace printed by Fortran SISSO."""
    folder = REF / name
    X, y, _ = _train(folder)
    space = _space(folder)[: 100 * dim]
    F = np.column_stack([_evaluate_fortran(f, X) for f in space])
    tasks = np.array([1] * 29 + [2] * 53) if "mt2" in name else None
    found = l0_search(F, y.to_numpy(), dim, n_models=100, tasks=tasks)
    top = _top_models(folder, dim)
    np.testing.assert_allclose([m.rmse for m in found], [r[1] for r in top], atol=1.5e-6)
    np.testing.assert_allclose([m.maxae for m in found], [r[2] for r in top], atol=1.5e-6)
    assert [tuple(space[i] for i in m.indices) for m in found][:20] == [r[0] for r in top][:20]
    assert {tuple(sorted(space[i] for i in m.indices)) for m in found} == \
        {tuple(sorted(r[0])) for r in top}
    best = _best_models(folder)[dim]
    np.testing.assert_allclose(found[0].coefficients, best["coef"], rtol=1e-6)
    np.testing.assert_allclose(found[0].task_rmse, best["errors"][:, 0], rtol=1e-6)
    np.testing.assert_allclose(found[0].task_maxae, best["errors"][:, 1], rtol=1e-6)


def _compare(est, folder: Path, dims, multi_task: bool):
    ref = _best_models(folder)
    for dim in dims:
        best = est.result_.best(dim)
        expected = ref[dim]
        assert best.descriptors == expected["descriptors"], dim
        if multi_task:
            np.testing.assert_allclose(best.task_rmse, expected["errors"][:, 0], rtol=1e-6)
            np.testing.assert_allclose(best.task_maxae, expected["errors"][:, 1], rtol=1e-6)
        else:
            assert best.rmse == pytest.approx(expected["errors"][0, 0], rel=1e-6)
            assert best.maxae == pytest.approx(expected["errors"][0, 1], rel=1e-6)
        np.testing.assert_allclose(best.coefficients, expected["coef"], rtol=1e-6)
        np.testing.assert_allclose(best.intercept, expected["intercept"], rtol=1e-6, atol=1e-9)
        # the whole top-model list: same models, same errors (printed with 6 decimals)
        top = _top_models(folder, dim)
        ours = est.result_.models[dim][: len(top)]
        assert len(ours) == len(top)
        np.testing.assert_allclose([m.rmse for m in ours], [r[1] for r in top], atol=1.5e-6)
        np.testing.assert_allclose([m.maxae for m in ours], [r[2] for r in top], atol=1.5e-6)
        assert {tuple(sorted(m.descriptors)) for m in ours} == \
            {tuple(sorted(r[0])) for r in top}


@pytest.fixture(scope="module")
def octet14_r2_d3():
    folder = REF / "octet14_r2_d3"
    X, y, units = _train(folder)
    est = SissoRegressor(
        n_dim=3, max_complexity=3, operators=OPS, n_sis=100, units=units, max_abs_value=1e5,
        min_abs_value=1e-3, n_models=100, fortran_compatible=True,
    ).fit(X, y)
    return est, folder


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_octet14_r2_d3(octet14_r2_d3, dim):
    est, folder = octet14_r2_d3
    _compare(est, folder, [dim], multi_task=False)


def test_octet14_r2_d3_feature_space(octet14_r2_d3):
    est, folder = octet14_r2_d3
    assert est.feature_space_size_ == [14, 536, 473048]
    space = [line.split("SIS_score")[0].strip()
             for line in (folder / "Uspace.expressions.reference").read_text().splitlines()]
    for d in (1, 2, 3):
        ours = {str(e) for e in est.result_.selected[d]}
        assert ours == set(space[100 * (d - 1): 100 * d]), d


def test_octet14_multitask():
    folder = REF / "octet14_mt2_r2_d2"
    X, y, units = _train(folder)
    tasks = np.array([1] * 29 + [2] * 53)
    est = SissoRegressor(
        n_dim=2, max_complexity=3, operators=OPS, n_sis=100, units=units, n_models=100,
        fortran_compatible=True,
    ).fit(X, y, tasks=tasks)
    _compare(est, folder, [1, 2], multi_task=True)
    ref = _best_models(folder)
    assert est.result_.best(2).rmse == pytest.approx(
        np.sqrt(np.mean(ref[2]["errors"][:, 0] ** 2)), rel=1e-6)


def test_octet20_sisppp_r2_d4():
    """20 features, 16 operators (incl. sin/cos of dimensional features), dims 1-4."""
    folder = REF / "octet20_sisppp_r2_d4"
    X, y, _ = _train(folder)
    units = {c: "eV_IP" if i < 4 else "eV" if i < 8 else "Z" if i in (16, 17) else None
             for i, c in enumerate(X.columns)}  # funit=(1:4)(5:8)(17:18)
    est = SissoRegressor(
        n_dim=4, max_complexity=3, n_sis=10, units=units, max_abs_value=1e8,
        min_abs_value=1e-5, n_models=100, fortran_compatible=True,
        operators="(+)(-)(|-|)(*)(/)(^-1)(exp)(log)(sin)(cos)(^2)(^3)(^6)(sqrt)(cbrt)(exp-)",
    ).fit(X, y)
    assert est.feature_space_size_ == [20, 986, 1763114]
    _compare(est, folder, [1, 2, 3, 4], multi_task=False)


@pytest.mark.slow
def test_octet14_r3c4_d2():
    """Rung 3 (fcomplexity 4): 25.7 million features in the last rung, nf_sis 1000."""
    folder = REF / "octet14_r3c4_d2"
    X, y, units = _train(folder)
    est = SissoRegressor(
        n_dim=2, max_complexity=4, operators="(+)(-)(*)(/)(^-1)(^2)(sqrt)(|-|)", n_sis=1000,
        units=units, n_models=100, fortran_compatible=True,
    ).fit(X, y)
    assert est.feature_space_size_ == [14, 473, 168217, 25712813]
    _compare(est, folder, [1, 2], multi_task=False)
