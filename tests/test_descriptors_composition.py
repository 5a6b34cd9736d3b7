"""Tests of descriptors.composition and the bundled Bartel (2019) perovskite table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Composition, Species

from descriptors._perovskite import bartel_tau, shannon_radius, tolerance_factor
from descriptors.base import featurize_with_units
from descriptors.composition import ElementStatistics, MagpieProperties, PerovskiteSiteFeatures
from sisso_lite.datasets.bartel import load_bartel_perovskites


@pytest.fixture(scope="module")
def bartel() -> pd.DataFrame:
    return load_bartel_perovskites()[0]


def _paper_composition(row: pd.Series) -> Composition:
    return Composition(
        {Species(row.A, row.nA): 1, Species(row.B, row.nB): 1, Species(row.X, row.nX): 3}
    )


def test_loader_shape_and_units(bartel: pd.DataFrame) -> None:
    data, units = load_bartel_perovskites()
    assert data.shape[0] == 576
    assert data["label"].value_counts().to_dict() == {1: 313, -1: 263}
    assert data["split"].value_counts().to_dict() == {"train": 460, "test": 116}
    assert units["rA"] == "Angstrom" and units["tau"] == "1"
    assert set(units) <= set(data.columns)
    double, _ = load_bartel_perovskites("A2BBX6")
    assert double.shape[0] == 918
    with pytest.raises(ValueError, match="kind"):
        load_bartel_perovskites("ABX4")


def test_t_tau_from_paper_radii(bartel: pd.DataFrame) -> None:
    t = tolerance_factor(bartel.rA, bartel.rB, bartel.rX)
    # t and the radii are stored rounded to 2 decimals (t from the unrounded radii)
    assert np.abs(t - bartel.t).max() <= 0.0101
    tau = bartel_tau(bartel.rA, bartel.rB, bartel.rX, bartel.nA)
    # Radii in the table are rounded, tau was computed from unrounded ones: compare the
    # classification (tau < 4.18) and the paper's accuracy instead of every value.
    same = np.where(tau < 4.18, 1, -1) == np.where(bartel.tau < 4.18, 1, -1)
    assert same.mean() > 0.99
    accuracy = (np.where(tau < 4.18, 1, -1) == bartel.label).mean()
    assert accuracy == pytest.approx(0.917, abs=0.005)
    t_accuracy = (np.where((t > 0.825) & (t < 1.059), 1, -1) == bartel.label).mean()
    assert t_accuracy == pytest.approx(0.738, abs=0.005)


def test_double_perovskite_t_tau_exact() -> None:
    double, _ = load_bartel_perovskites("A2BBX6")
    np.testing.assert_allclose(tolerance_factor(double.rA, double.rB, double.rX), double.t)
    tau = bartel_tau(double.rA, double.rB, double.rX, double.nA)
    np.testing.assert_allclose(tau, double.tau, rtol=1e-9)


def test_featurizer_reproduces_paper_with_given_oxidation_states(bartel: pd.DataFrame) -> None:
    featurizer = PerovskiteSiteFeatures()
    labels = featurizer.feature_labels()
    n_ok = n_skipped = 0
    for _, row in bartel.iterrows():
        try:
            values = dict(zip(labels, featurizer.featurize(_paper_composition(row)), strict=True))
        except ValueError as exc:  # pymatgen's Shannon table lacks Sn2+ (Bartel added it)
            assert "Sn" in str(exc)
            n_skipped += 1
            continue
        assert values["r_A"] == pytest.approx(row.rA, abs=0.0051)
        assert values["r_B"] == pytest.approx(row.rB, abs=0.0051)
        assert values["r_X"] == pytest.approx(row.rX, abs=0.0051)
        assert round(values["t"], 2) == pytest.approx(row.t, abs=1e-9)
        assert round(values["tau"], 2) == pytest.approx(row.tau, abs=1e-9)
        n_ok += 1
    assert n_skipped == 7 and n_ok == 569


def test_automatic_oxidation_states_mostly_reproduce_paper(bartel: pd.DataFrame) -> None:
    featurizer = PerovskiteSiteFeatures()
    feats = featurizer.featurize_dataframe(
        bartel[["formula"]].copy(), "formula", pbar=False, ignore_errors=True
    )
    same = (
        np.isclose(feats.r_A, bartel.rA, atol=0.0051)
        & np.isclose(feats.r_B, bartel.rB, atol=0.0051)
        & np.isclose(feats.n_A, bartel.nA)
    )
    assert same.mean() > 0.95  # measured 550 / 576
    done = feats["tau"].notna()
    assert done.sum() == 570  # 6 contain Sn2+, absent from pymatgen's Shannon table
    agree = np.where(feats["tau"] < 4.18, 1, -1) == np.where(bartel["tau"] < 4.18, 1, -1)
    assert agree[done].mean() > 0.98  # measured 563 / 570


def test_site_features_values() -> None:
    featurizer = PerovskiteSiteFeatures()
    values = dict(zip(featurizer.feature_labels(), featurizer.featurize("SrMnO3"), strict=True))
    assert values["r_A"] == pytest.approx(1.44) and values["r_B"] == pytest.approx(0.53)
    assert values["n_B"] == 4 and values["n_d_B"] == 3
    assert values["moment_B"] == pytest.approx(np.sqrt(15))
    assert values["mu"] == pytest.approx(0.53 / 1.40)
    assert values["chi_X_minus_B"] == pytest.approx(3.44 - 1.55)
    double = dict(zip(featurizer.feature_labels(), featurizer.featurize("Sr2FeMoO6"), strict=True))
    r_fe, r_mo = shannon_radius("Fe", 2, 6)[0], shannon_radius("Mo", 6, 6)[0]
    assert double["r_B"] == pytest.approx((r_fe + r_mo) / 2)
    assert double["delta_r_B"] == pytest.approx(abs(r_fe - r_mo))
    assert double["moment_B"] == pytest.approx(np.sqrt(24) / 2)  # Fe2+ d6 HS, Mo6+ d0


def test_site_feature_errors_name_the_formula() -> None:
    featurizer = PerovskiteSiteFeatures()
    with pytest.raises(ValueError, match="NaCl"):
        featurizer.featurize("NaCl")
    with pytest.raises(ValueError, match="Xx2O"):
        featurizer.featurize("Xx2O")
    with pytest.raises(ValueError, match="CsSnI3.*Sn"):
        featurizer.featurize(Composition({"Cs+": 1, "Sn2+": 1, "I-": 3}))
    df = pd.DataFrame({"composition": ["BaTiO3", "NaCl"]})
    out = featurizer.featurize_dataframe(
        df, "composition", pbar=False, ignore_errors=True, return_errors=True
    )
    assert np.isnan(out["t"].iloc[1]) and "NaCl" in out.iloc[1, -1]
    assert out["t"].iloc[0] == pytest.approx(1.0615, abs=1e-3)


def test_element_statistics_units_and_values() -> None:
    featurizer = ElementStatistics()
    df = pd.DataFrame({"composition": [Composition("NaCl"), Composition("MgO")]})
    features, units = featurize_with_units(featurizer, df, "composition")
    assert list(features.columns) == featurizer.feature_labels() == list(units)
    assert units["mean covalent_radius"] == "Angstrom"
    assert units["mean ionization_energy"] == "eV"
    assert units["range electronegativity"] == "1"
    assert features.loc[0, "mean electronegativity"] == pytest.approx((0.93 + 3.16) / 2)
    assert features.loc[0, "range ionization_energy"] == pytest.approx(12.97 - 5.14, abs=0.02)
    assert 0.5 < features.loc[1, "mean covalent_radius"] < 2.0  # Angstrom, not pm
    assert features.loc[1, "mean n_s_valence"] == pytest.approx(2.0)
    assert featurizer.citations() and featurizer.implementors()
    with pytest.raises(ValueError, match="unit"):
        ElementStatistics(properties=("NotAProperty",))


def test_magpie_preset_with_units() -> None:
    featurizer = MagpieProperties()
    assert len(featurizer.feature_labels()) == len(featurizer.feature_units()) == 132
    unit_map = featurizer.unit_map()
    assert unit_map["MagpieData mean CovalentRadius"] == "pm"
    assert unit_map["MagpieData mean GSbandgap"] == "eV"
    values = featurizer.featurize(Composition("Fe2O3"))
    assert len(values) == 132


def test_double_perovskites_with_given_oxidation_states() -> None:
    raw = pd.read_csv(
        Path(__file__).parents[1]
        / "sisso_lite/datasets/data/bartel2019_perovskite_tau/icsd_A2BBX6.csv"
    )
    featurizer = PerovskiteSiteFeatures()
    labels = featurizer.feature_labels()
    n_exact = 0
    for _, row in raw.iterrows():
        comp = Composition(
            {
                Species(row.A, row.nA): 2,
                Species(row.B1, row.nB1): 1,
                Species(row.B2, row.nB2): 1,
                Species(row.X, row.nX): 6,
            }
        )
        try:
            values = dict(zip(labels, featurizer.featurize(comp), strict=True))
        except ValueError as exc:
            assert "Sn+2" in str(exc)  # 2 compounds with Sn2+ on B
            continue
        n_exact += np.isclose(values["t"], row.t) and np.isclose(values["tau"], row.tau)
    assert n_exact == 916


def test_featurize_with_units_ignores_other_columns(bartel: pd.DataFrame) -> None:
    table, units = featurize_with_units(
        PerovskiteSiteFeatures(), bartel.head(5), "formula", ignore_errors=True
    )
    assert list(table.columns) == list(units)  # bartel's own "t", "tau" do not collide
    np.testing.assert_allclose(table["t"].round(2), bartel.head(5)["t"])
    table, _ = featurize_with_units(
        PerovskiteSiteFeatures(), pd.DataFrame({"c": ["NaCl"]}), "c",
        ignore_errors=True, return_errors=True,
    )  # fmt: skip
    assert "NaCl" in table.iloc[0, -1]
