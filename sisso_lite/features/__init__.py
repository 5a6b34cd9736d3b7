"""SISSO feature space: primary features with units, operators, expression programs.

See ``docs/feature_space.md`` for the rules and ``docs/architecture.md`` for the contract.
"""

from .expression import Expression
from .operators import ALL_OPERATORS
from .screening import ScreenedFeature
from .space import FeatureSpace, n_rungs_for_complexity
from .tables import SpaceTables
from .units import DIMENSIONLESS, Unit, parse_unit

__all__ = [
    "ALL_OPERATORS",
    "DIMENSIONLESS",
    "Expression",
    "FeatureSpace",
    "ScreenedFeature",
    "SpaceTables",
    "Unit",
    "n_rungs_for_complexity",
    "parse_unit",
]
