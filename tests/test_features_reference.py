"""Exactness of the feature space against Fortran SISSO v3.5 reference runs.

Feature-space sizes per rung (SISSO.out) and the SIS-selected lists
(Uspace.expressions.reference: same strings, same order, scores to 1e-4).
The large ``octet14_r3c4_d2`` case lives in ``benchmarks/bench_feature_space.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sisso_lite.features import FeatureSpace
from sisso_lite.solvers.sis import MultiTaskPearsonScorer, PearsonScorer

REF = Path(__file__).parent / "data" / "sisso_reference"


def load_reference(name: str) -> dict:
    """train.dat, the SISSO.in settings (ops, units from funit, bounds) and the SIS lists."""
    folder = REF / name
    df = pd.read_csv(folder / "train.dat", sep=r"\s+", index_col=0)
    settings = {}
    for line in (folder / "SISSO.in").read_text().splitlines():
        line = line.split("!")[0].strip()
        if "=" in line:
            key, value = line.split("=", 1)
            settings[key.strip()] = value.strip().strip("'")
    X = df.iloc[:, 1:]
    units: list[str | None] = [None] * X.shape[1]
    for group, (lo, hi) in enumerate(re.findall(r"\((\d+):(\d+)\)", settings["funit"])):
        for k in range(int(lo) - 1, int(hi)):
            units[k] = f"u{group}"  # Fortran funit groups: one base dimension each
    lines = (folder / "Uspace.expressions.reference").read_text().splitlines()
    nsis = int(settings["nf_sis"])
    lists = [
        [(ln.split()[0], float(ln.split()[-1])) for ln in lines[k : k + nsis]]
        for k in range(0, len(lines), nsis)
    ]
    out_text = (folder / "SISSO.out.reference").read_text()
    sizes = [int(v) for v in re.findall(r"space Phi\d\d:\s+(\d+)", out_text)]
    space = FeatureSpace(
        operators=settings["ops"],
        max_complexity=int(settings["fcomplexity"]),
        max_abs_value=float(settings["fmax_max"]),
        min_abs_value=float(settings["fmax_min"]),
        fortran_compatible=True,
    )
    return {
        "X": X, "y": df.iloc[:, 0].to_numpy(), "units": units, "space": space,
        "lists": lists, "nsis": nsis, "sizes": sizes,
        "nsample": [int(v) for v in settings["nsample"].split(",")],
    }  # fmt: skip


def assert_same_list(selected, reference) -> None:
    got = [str(f.expression) for f in selected]
    want = [name for name, _ in reference]
    assert got == want
    np.testing.assert_allclose([f.score for f in selected], [s for _, s in reference], atol=1e-4)


@pytest.fixture(scope="module")
def octet14():
    ref = load_reference("octet14_r2_d3")
    ref["space"].build(ref["X"], list(ref["X"].columns), ref["units"])
    return ref


def test_octet14_sizes_and_dimension1(octet14):
    space, y = octet14["space"], octet14["y"]
    selected = space.screen(PearsonScorer(y - y.mean()), octet14["nsis"])
    assert space.n_features_per_rung_ == [14, 536, 473_048]
    assert octet14["sizes"][:3] == [14, 536, 473_048]
    assert_same_list(selected, octet14["lists"][0])


def test_octet14_dimension2_with_exclusion(octet14):
    """Residual of the 1D model and exclusion of the dimension-1 features (by key)."""
    space, y = octet14["space"], octet14["y"]
    first = space.screen(PearsonScorer(y - y.mean()), octet14["nsis"])
    design = np.c_[first[0].values, np.ones_like(y)]
    residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    exclude = {f.expression.key for f in first}
    second = space.screen(PearsonScorer(residual), octet14["nsis"], exclude=exclude)
    assert_same_list(second, octet14["lists"][1])


def test_octet20_sisppp_sizes_and_dimension1():
    ref = load_reference("octet20_sisppp_r2_d4")
    space, y = ref["space"], ref["y"]
    space.build(ref["X"], list(ref["X"].columns), ref["units"])
    selected = space.screen(PearsonScorer(y - y.mean()), ref["nsis"])
    assert space.n_features_per_rung_ == [20, 986, 1_763_114]
    assert_same_list(selected, ref["lists"][0])


def test_multitask_dimension1():
    ref = load_reference("octet14_mt2_r2_d2")
    space, y = ref["space"], ref["y"]
    space.build(ref["X"], list(ref["X"].columns), ref["units"])
    task = np.repeat(np.arange(len(ref["nsample"])), ref["nsample"])
    residual = y.copy()
    for t in np.unique(task):
        residual[task == t] -= y[task == t].mean()
    selected = space.screen(MultiTaskPearsonScorer(residual, task), ref["nsis"])
    assert space.n_features_per_rung_ == [14, 536, 473_048]
    assert_same_list(selected, ref["lists"][0])


def test_octet20_classification_space_size():
    """The classification run (ptype=2, fcomplexity=1): 20 / 928 features."""
    folder = REF / "octet20_class_r1_d2_nocbrt"
    X = pd.read_csv(folder / "train.dat", sep=r"\s+", index_col=0)  # no target column
    units = [None] * 20
    for group, (lo, hi) in enumerate([(1, 4), (5, 8), (17, 18)]):  # funit in SISSO.in
        units[lo - 1 : hi] = [f"u{group}"] * (hi - lo + 1)
    space = FeatureSpace("(+)(-)(|-|)(*)(/)(^-1)(exp)(log)(sin)(cos)(^2)(^3)(^6)(sqrt)(exp-)",
                         max_complexity=1, min_abs_value=1e-5, max_abs_value=1e8,
                         fortran_compatible=True).build(X, list(X.columns), units)  # fmt: skip
    space.screen(PearsonScorer(np.arange(82.0) % 2), 20)
    assert space.n_features_per_rung_ == [20, 928]
