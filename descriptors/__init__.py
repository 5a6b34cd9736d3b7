"""Physics-inspired primary features (matminer featurizers with units) for materials."""

from descriptors.base import UnitFeaturizer, featurize_with_units
from descriptors.bonding import (
    ChemEnvFeatures,
    HarrisonBondIntegrals,
    LobsterBonding,
    StructureBonding,
)
from descriptors.composition import ElementStatistics, MagpieProperties, PerovskiteSiteFeatures

__all__ = [
    "ChemEnvFeatures",
    "ElementStatistics",
    "HarrisonBondIntegrals",
    "LobsterBonding",
    "MagpieProperties",
    "PerovskiteSiteFeatures",
    "StructureBonding",
    "UnitFeaturizer",
    "featurize_with_units",
]
