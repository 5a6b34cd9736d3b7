"""Bundled octet-binary data and the Ghiringhelli et al. PRL 2015 descriptors."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from sisso_lite.datasets import load_octet_binaries
from sisso_lite.solvers.l0 import l0_search, refit_model

_REFERENCE = "tests/data/sisso_reference/octet20_sisppp_r2_d4/train.dat"


def test_octet14_table():
    X, y, materials, units = load_octet_binaries()
    assert X.shape == (82, 14)
    assert list(X.columns) == [
        "IP_A", "IP_B", "EA_A", "EA_B", "E_HOMO_A", "E_HOMO_B", "E_LUMO_A", "E_LUMO_B",
        "r_s_A", "r_s_B", "r_p_A", "r_p_B", "r_d_A", "r_d_B",
    ]
    assert y.name == "E_RS-E_ZB" and len(y) == 82 and len(materials) == 82
    assert (y > 0).sum() == 41 and (y < 0).sum() == 41
    assert units["IP_A"] == "eV" and units["r_p_B"] == "Angstrom"
    # negative IP/EA sign convention of the NOMAD files
    assert X.loc["LiF", "IP_A"] == pytest.approx(-5.329, abs=1e-3)
    assert (X["IP_A"] < 0).all() and (X["IP_B"] < 0).all()
    assert materials.iloc[0] == "AgBr" and X.index[0] == "AgBr"


def test_octet20_matches_fortran_reference_train_dat():
    X, y, _, units = load_octet_binaries(n_features=20)
    assert X.shape == (82, 20) and units["Z_A"] is None
    ref = pd.read_csv(_REFERENCE, sep=r"\s+", index_col=0)
    # the reference names materials in another order (AsGa = GaAs): match rows by target value
    o = np.argsort(y.to_numpy())
    p = np.argsort(ref["E_RS-E_ZB"].to_numpy())
    np.testing.assert_allclose(y.to_numpy()[o], ref["E_RS-E_ZB"].to_numpy()[p], atol=1e-5)
    np.testing.assert_allclose(X.to_numpy()[o], ref[X.columns].to_numpy()[p], atol=1e-5)


def test_bad_n_features():
    with pytest.raises(ValueError, match="n_features"):
        load_octet_binaries(n_features=13)


def test_data_files_are_bundled():
    root = resources.files("sisso_lite.datasets").joinpath("data/octet_binaries")
    names = {p.name for p in root.iterdir()}
    assert {"octet_binaries_82.csv", "PROVENANCE.md", "LICENSE_upstream_Apache-2.0.txt"} <= names


def _prl_descriptors():
    X, y, _, _ = load_octet_binaries()
    d1 = (X.EA_B - X.IP_B) / X.r_p_A**2  # (IP(B) - EA(B)) / r_p(A)^2 with positive IP
    d2 = (X.r_s_A - X.r_p_B).abs() / np.exp(X.r_s_A)
    return np.column_stack([d1, d2]), y.to_numpy()


def test_ghiringhelli_2015_descriptors():
    D, y = _prl_descriptors()
    one = refit_model(D, y, (0,))
    assert one.rmse == pytest.approx(0.140, abs=5e-4)
    np.testing.assert_allclose(one.coefficients[0], [0.1182], atol=5e-5)
    assert one.intercept[0] == pytest.approx(-0.3423, abs=5e-4)
    two = l0_search(D, y, 2, n_models=1)[0]
    assert two.indices == (0, 1)
    assert two.rmse == pytest.approx(0.100, abs=5e-4)
    assert two.maxae == pytest.approx(0.280, abs=5e-4)
    np.testing.assert_allclose(two.coefficients[0], [0.1143, -1.4825], atol=5e-4)
    # the L0 search over both columns picks D1 as the best single descriptor
    assert l0_search(D, y, 1, n_models=2)[0].indices == (0,)
