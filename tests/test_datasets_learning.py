"""Bundled Rohr et al. (2020) OER plates and Foppa et al. (2024) perovskites."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from sisso_lite.datasets import load_foppa_perovskites, load_oer_plate
from sisso_lite.features import parse_unit

#: plate -> (rows, element columns in CSV order, top-1% threshold of PROVENANCE.md in V)
_PLATES = {
    "A": (2121, ["ni", "fe", "co", "mn", "ce", "la"], 0.348),
    "B": (2119, ["ni", "fe", "co", "ta", "mn", "cu"], 0.378),
    "C": (2120, ["sn", "fe", "co", "ta", "mn", "cu"], 0.399),
    "D": (2121, ["sn", "sb", "co", "ca", "ni", "mn"], 0.405),
}


@pytest.mark.parametrize("plate", sorted(_PLATES))
def test_oer_plate_table(plate):
    n_rows, elements, _ = _PLATES[plate]
    X, y = load_oer_plate(plate)
    assert X.shape == (n_rows, 6)
    assert list(X.columns) == [f"{el}_load" for el in elements]
    assert all(dt == np.float64 for dt in X.dtypes)
    assert y.name == "overpotential_V" and len(y) == n_rows
    assert y.notna().all() and X.notna().all().all()
    np.testing.assert_allclose(X.sum(axis=1), 1.0, atol=1e-6)
    # 0.1 composition grid, at most quaternary
    np.testing.assert_allclose(X * 10, np.round(X * 10), atol=1e-9)
    assert ((X > 0).sum(axis=1) <= 4).all()


@pytest.mark.parametrize("plate", sorted(_PLATES))
def test_oer_top_one_percent_threshold(plate):
    _, y = load_oer_plate(plate)
    threshold = _PLATES[plate][2]
    assert round(float(np.quantile(y, 0.01)), 3) == pytest.approx(threshold, abs=1e-12)
    # about 21 catalysts (1% of the plate) are at or below the threshold
    assert 19 <= int((y <= threshold).sum()) <= 24


def test_oer_overpotential_ranges():
    lows = {"A": 0.340, "B": 0.356, "C": 0.373, "D": 0.395}
    highs = {"A": 0.750, "B": 0.548, "C": 0.722, "D": 0.656}
    for plate in _PLATES:
        _, y = load_oer_plate(plate)
        assert round(y.min(), 3) == pytest.approx(lows[plate])
        assert round(y.max(), 3) == pytest.approx(highs[plate])


def test_oer_plate_letter_case_insensitive():
    X_lower, y_lower = load_oer_plate("b")
    X_upper, y_upper = load_oer_plate("B")
    assert X_lower.equals(X_upper) and y_lower.equals(y_upper)


@pytest.mark.parametrize("bad", ["E", "", "AB", 1, None])
def test_oer_bad_plate_raises(bad):
    with pytest.raises(ValueError, match="A, B, C, D"):
        load_oer_plate(bad)


def test_foppa_table():
    X, y, materials, units = load_foppa_perovskites()
    assert X.shape == (504, 22)
    assert y.name == "bulk_modulus" and len(y) == 504 and len(materials) == 504
    assert materials.is_unique and list(X.index) == list(materials)
    assert {"material", "bulk_modulus", "lattice_constant", "cohesive_energy"}.isdisjoint(X)
    assert y.min() == pytest.approx(0.374, abs=5e-4)
    assert y.max() == pytest.approx(1.486, abs=5e-4)
    assert X.notna().all().all()
    assert sorted(X["n_A"].value_counts().items()) == [(1.0, 140), (2.0, 140), (3.0, 224)]
    # oxidation states of ABO3 add up to +6
    np.testing.assert_array_equal(X["n_A"] + X["n_B"], 6.0)
    assert y["BaAgO3"] == pytest.approx(0.723307857564)


def test_foppa_include_lattice():
    X, _, _, units = load_foppa_perovskites(include_lattice=True)
    assert X.shape == (504, 24)
    assert units["lattice_constant"] == "Angstrom" and units["cohesive_energy"] == "eV"
    # PROVENANCE.md: cohesive energy 3.7..9.1 eV/atom; cubic lattice constants near 4 Angstrom
    assert round(X["cohesive_energy"].min(), 1) == 3.7
    assert round(X["cohesive_energy"].max(), 1) == 9.1
    assert X["lattice_constant"].between(3.5, 4.5).all()


def test_foppa_units_parse():
    X, _, _, units = load_foppa_perovskites(include_lattice=True)
    assert set(units) == set(X.columns)
    for column, unit in units.items():
        parse_unit(unit)  # must not raise
        if column in ("A_Z", "B_Z", "n_A", "n_B"):
            assert parse_unit(unit).is_dimensionless
    assert units["A_r_val_1"] == "Angstrom" and units["B_IP"] == "eV"
    assert units["A_EN"] == "eV" and units["B_eps_L"] == "eV"
    assert parse_unit(units["A_r_s"]) != parse_unit(units["A_IP"])


def test_learning_data_files_are_bundled():
    root = resources.files("sisso_lite.datasets").joinpath("data")
    oer = {p.name for p in root.joinpath("rohr2020_oer").iterdir()}
    assert {"PROVENANCE.md", "LICENSE_upstream_MIT.txt"} <= oer
    assert sum(name.endswith(".csv") for name in oer) == 4
    foppa = {p.name for p in root.joinpath("foppa2024_perovskites").iterdir()}
    assert {"PROVENANCE.md", "dataset_SAC_features.csv"} <= foppa
    note = root.joinpath("foppa2024_perovskites/PROVENANCE.md").read_text()
    assert "arXiv:2403.18437" in note and "no licence" in note
