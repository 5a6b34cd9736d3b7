"""Tests of descriptors.bonding on small pymatgen structures and LobsterPy test outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Lattice, Structure

from descriptors._harrison import ETA, HBAR2_OVER_M, d_state_radii, r_d
from descriptors.base import featurize_with_units
from descriptors.bonding import (
    ChemEnvFeatures,
    HarrisonBondIntegrals,
    LobsterBonding,
    StructureBonding,
)

LOBSTER = Path(__file__).parent / "data" / "lobster"


def _values(featurizer, material) -> dict:
    return dict(zip(featurizer.feature_labels(), featurizer.featurize(material), strict=True))


@pytest.fixture(scope="module")
def srtio3() -> Structure:
    return Structure.from_spacegroup(
        "Pm-3m",
        Lattice.cubic(3.905),
        ["Sr", "Ti", "O"],
        [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0]],
    )


@pytest.fixture(scope="module")
def sr2femoo6() -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m",
        Lattice.cubic(7.90),
        ["Sr", "Fe", "Mo", "O"],
        [[0.25, 0.25, 0.25], [0, 0, 0], [0.5, 0.5, 0.5], [0.25, 0, 0]],
    )


@pytest.fixture(scope="module")
def batio3() -> Structure:
    return Structure.from_file(LOBSTER / "BaTiO3" / "CONTCAR.gz")


def test_structure_bonding_cubic_perovskite(srtio3: Structure) -> None:
    featurizer = StructureBonding(pairs=[("Ti", "O"), ("Sr", "O")])
    v = _values(featurizer, srtio3)
    assert v["cn_center"] == 6
    assert v["bond_center_ligand_mean"] == pytest.approx(3.905 / 2)
    assert v["bond_center_ligand_std"] == pytest.approx(0, abs=1e-9)
    assert v["angle_center_ligand_center_mean"] == pytest.approx(180.0)
    assert v["bond_Ti-O_mean"] == pytest.approx(3.905 / 2)
    assert v["bond_Sr-O_mean"] == pytest.approx(3.905 / np.sqrt(2))
    assert 3.5 < v["bvs_center"] < 4.3 and -2.3 < v["bvs_ligand"] < -1.6
    assert 0 <= v["gii"] < 0.5
    units = featurizer.unit_map()
    assert units["angle_center_ligand_center_mean"] == "deg"
    assert units["bond_Ti-O_max"] == "Angstrom" and units["gii"] == "1"


def test_structure_bonding_distorted_and_double(batio3: Structure, sr2femoo6: Structure) -> None:
    v = _values(StructureBonding(), batio3)
    assert v["cn_center"] == 6  # Ti off-centred but octahedral
    assert v["bond_distortion_center"] > 0.05
    assert 160 < v["angle_center_ligand_center_mean"] < 175
    d = _values(StructureBonding(), sr2femoo6)  # centres default to Fe and Mo (CN 6)
    assert d["cn_center"] == 6
    assert d["angle_center_ligand_center_min"] == pytest.approx(180.0)
    assert d["bond_center_ligand_mean"] == pytest.approx(7.90 / 4)


def test_harrison_integrals_cubic(srtio3: Structure) -> None:
    v = _values(HarrisonBondIntegrals(), srtio3)
    d = 3.905 / 2
    assert v["ligand_n"] == 6 and v["center_n"] == 6
    assert v["ligand_V_pp_sigma"] == pytest.approx(6 * ETA["pp_sigma"] * HBAR2_OVER_M / d**2)
    assert v["ligand_V_pd_sigma"] == pytest.approx(
        6 * ETA["pd_sigma"] * HBAR2_OVER_M * r_d("Ti") ** 1.5 / d**3.5
    )
    assert v["center_V_dd_sigma"] == pytest.approx(
        6 * ETA["dd_sigma"] * HBAR2_OVER_M * r_d("Ti") ** 3 / 3.905**5
    )
    assert v["ligand_V_pd_sigma"] < 0 < v["ligand_V_pd_pi"]
    assert set(HarrisonBondIntegrals().feature_units()) == {"1", "Angstrom", "eV"}
    assert d_state_radii()["Ti"] == pytest.approx(1.08) and len(d_state_radii()) == 27


def test_harrison_mixed_b_sites_and_non_d_centre(sr2femoo6: Structure) -> None:
    v = _values(HarrisonBondIntegrals(center="Fe"), sr2femoo6)
    # Fe's nearest centre shell ... with center="Fe" only Fe centres: fcc Fe sublattice
    assert v["center_d"] == pytest.approx(7.90 / np.sqrt(2))
    both = _values(HarrisonBondIntegrals(), sr2femoo6)
    expected = ETA["dd_sigma"] * HBAR2_OVER_M * (r_d("Fe") * r_d("Mo")) ** 1.5 / (7.90 / 2) ** 5
    assert both["center_V_dd_sigma"] == pytest.approx(6 * expected)  # Fe-Mo and Mo-Fe
    nacl = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0, 0]]
    )
    v = _values(HarrisonBondIntegrals(), nacl)
    assert v["ligand_n"] == 6 and np.isnan(v["ligand_V_pd_sigma"])
    assert np.isfinite(v["ligand_V_sp_sigma"])


def test_missing_site_errors_name_the_material(srtio3: Structure) -> None:
    with pytest.raises(ValueError, match="SrTiO3.*Mn"):
        StructureBonding(center="Mn").featurize(srtio3)
    with pytest.raises(ValueError, match="SrTiO3.*Ti-N"):
        StructureBonding(pairs=[("Ti", "N")]).featurize(srtio3)
    df = pd.DataFrame({"structure": [srtio3]})
    out = HarrisonBondIntegrals(center="Mn").featurize_dataframe(
        df, "structure", pbar=False, ignore_errors=True, return_errors=True
    )
    assert np.isnan(out["ligand_V_pp_sigma"].iloc[0]) and "SrTiO3" in out.iloc[0, -1]


def test_featurize_with_units_on_structures(srtio3: Structure, batio3: Structure) -> None:
    df = pd.DataFrame({"structure": [srtio3, batio3]})
    table, units = featurize_with_units(
        [StructureBonding(), HarrisonBondIntegrals()], df, "structure"
    )
    assert table.shape == (2, len(units)) and units["ligand_V_pp_pi"] == "eV"


def test_chemenv_batio3_octahedral(batio3: Structure) -> None:
    v = _values(ChemEnvFeatures(), batio3)
    reference = json.loads((LOBSTER / "BaTiO3" / "lobsterpy.json").read_text())
    assert v["chemenv_label"] == reference["sites"]["1"]["env"] == "O:6"
    assert v["chemenv_cn"] == 6 and 0 <= v["chemenv_csm_mean"] < 1.0


def test_lobster_batio3_matches_lobsterpy_reference() -> None:
    featurizer = LobsterBonding(bond_types=[("O", "Ti")], charge_elements=["Ti"])
    v = _values(featurizer, LOBSTER / "BaTiO3")
    reference = json.loads((LOBSTER / "BaTiO3" / "lobsterpy.json").read_text())
    bonds = reference["sites"]["1"]["bonds"]["O"]
    assert round(v["icohp_mean_O-Ti"], 2) == float(bonds["ICOHP_mean"]) == -3.54
    assert round(v["icohp_sum_per_fu_O-Ti"], 2) == float(bonds["ICOHP_sum"])
    assert v["n_bonds_per_fu_O-Ti"] == bonds["number_of_bonds"] == 6
    assert v["icohp_mean_cation_anion"] == pytest.approx(v["icohp_mean_O-Ti"])
    assert v["mulliken_charge_Ti"] == reference["sites"]["1"]["charge"] == 0.96
    assert v["loewdin_charge_Ti"] == 1.15
    assert 0 <= v["antibonding_share_O-Ti"] < 0.05
    units = featurizer.unit_map()
    assert units["icohp_mean_O-Ti"] == "eV" and units["mulliken_charge_Ti"] == "e"


def test_lobster_spin_polarised_and_madelung() -> None:
    spin = _values(LobsterBonding(bond_types=[("Na", "Cl")]), LOBSTER / "NaCl_spin")
    assert spin["icohp_mean_Na-Cl"] < 0 and spin["n_bonds_per_fu_Na-Cl"] == 6
    aln = _values(LobsterBonding(include_madelung=True), LOBSTER / "AlN_v51")
    assert aln["madelung_mulliken_per_atom"] == pytest.approx(-9.7375)
    assert aln["n_bonds_per_fu_cation_anion"] == 4  # tetrahedral Al-N


def test_lobster_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="NaCl_spin.*MadelungEnergies"):
        LobsterBonding(include_madelung=True).featurize(LOBSTER / "NaCl_spin")
    partial = tmp_path / "run"
    partial.mkdir()
    shutil.copy(LOBSTER / "BaTiO3" / "ICOHPLIST.lobster.gz", partial)
    with pytest.raises(ValueError, match="CHARGE.lobster"):
        LobsterBonding().featurize(partial)
    with pytest.raises(ValueError, match="BaTiO3.*Ti-N"):
        LobsterBonding(bond_types=[("Ti", "N")]).featurize(LOBSTER / "BaTiO3")
    df = pd.DataFrame({"run": [str(LOBSTER / "BaTiO3"), str(partial)]})
    out = LobsterBonding().featurize_dataframe(df, "run", pbar=False, ignore_errors=True)
    assert out["icohp_mean_all"].notna().tolist() == [True, False]
