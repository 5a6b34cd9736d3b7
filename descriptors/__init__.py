"""Physics-inspired primary features (matminer featurizers with units) for materials."""

from descriptors.base import UnitFeaturizer, featurize_with_units
from descriptors.bonding import (
    ChemEnvFeatures,
    HarrisonBondIntegrals,
    LobsterBonding,
    StructureBonding,
)
from descriptors.composition import ElementStatistics, MagpieProperties, PerovskiteSiteFeatures
from descriptors.wannier import WannierHamiltonian, WannierHoppingFeatures, spin_partner
from descriptors.wannier_io import read_centres_xyz, read_hr_dat, read_win, write_hr_dat

__all__ = [
    "ChemEnvFeatures",
    "ElementStatistics",
    "HarrisonBondIntegrals",
    "LobsterBonding",
    "MagpieProperties",
    "PerovskiteSiteFeatures",
    "StructureBonding",
    "UnitFeaturizer",
    "WannierHamiltonian",
    "WannierHoppingFeatures",
    "featurize_with_units",
    "read_centres_xyz",
    "read_hr_dat",
    "read_win",
    "spin_partner",
    "write_hr_dat",
]
