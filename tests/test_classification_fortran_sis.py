"""Fortran SISSO v3.5's classification SIS lists reproduced exactly by emulating its
selection (``equivalent()`` duplicate check, bounded list, bisection order); see
sisso_lite/solvers/fortran_sis_classification.py and docs/sisso_classification.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sisso_lite.solvers.classification import OverlapScorer, overlap_flags
from sisso_lite.solvers.fortran_sis_classification import (
    _ffcorr,
    fortran_overlap_scores,
    fortran_sis_select,
    rung1_candidates,
)

REF = Path(__file__).parent / "data" / "sisso_reference" / "octet20_class_r1_d2_nocbrt"
OPS = "(+)(-)(|-|)(*)(/)(^-1)(exp)(log)(sin)(cos)(^2)(^3)(^6)(sqrt)(exp-)"


def _setup():
    df = pd.read_csv(REF / "train.dat", sep=r"\s+")
    names = list(df.columns[1:])
    units = [1] * 4 + [2] * 4 + [0] * 8 + [3] * 2 + [0] * 2  # funit=(1:4)(5:8)(17:18)
    codes = np.r_[np.zeros(41, int), np.ones(41, int)]
    ref = [ln.split()[0] for ln in (REF / "Uspace.expressions.reference").read_text()
           .splitlines()]
    return df.iloc[:, 1:].to_numpy(float), names, units, codes, ref


def test_fortran_sis_lists_reproduced_exactly() -> None:
    X, names, units, codes, ref = _setup()
    kw = dict(max_abs_value=1e8, min_abs_value=1e-5)
    cands = rung1_candidates(X, names, units, OPS)
    assert len(cands) == 20 + 928 - 20  # Phi0 + the new rung-1 features (SISSO.out: 928)
    sc1 = OverlapScorer(codes, 2, None, 0.001, standardize=False)
    first = fortran_sis_select(cands, fortran_overlap_scores(sc1), 20, **kw)
    assert [c.name for c in first] == ref[:20]
    active = overlap_flags(first[0].values, codes, 2, 0.001, True)[2]
    sc2 = OverlapScorer(codes, 2, active, 0.001, standardize=False)
    second = fortran_sis_select(rung1_candidates(X, names, units, OPS),
                                fortran_overlap_scores(sc2), 20,
                                reject=[c.name for c in first], **kw)
    assert [c.name for c in second] == ref[20:]


def test_missing_features_are_fortran_duplicates() -> None:
    """Each feature of our pool that Fortran's score would rank in its top 20 but that its
    list lacks has the same overlap count as, and |r| > 0.99 with, a simpler listed one."""
    X, names, units, codes, ref = _setup()
    col = {n: X[:, i] for i, n in enumerate(names)}
    pairs = [("(r_s_B+r_sigma)", col["r_s_B"] + col["r_sigma"],
              "(r_p_A+r_sigma)", col["r_p_A"] + col["r_sigma"]),
             ("abs(r_s_B-r_p_A)", np.abs(col["r_s_B"] - col["r_p_A"]),
              "(r_s_B-r_p_A)", col["r_s_B"] - col["r_p_A"]),
             ("sqrt(r_p_A)", np.sqrt(col["r_p_A"]), "(r_p_A)", col["r_p_A"]),
             ("exp(-r_s_A)", np.exp(-col["r_s_A"]), "(r_s_A)^-1", 1 / col["r_s_A"])]
    sc = OverlapScorer(codes, 2, None, 0.001, standardize=False)
    for _name, a, kept, b in pairs:
        assert kept in ref[:20]
        assert sc.details(a[None])[0][0] == sc.details(b[None])[0][0]
        assert abs(_ffcorr(a, b)) > 0.99
