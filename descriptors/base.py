"""Shared shape of every sisso-lite featurizer: matminer ``BaseFeaturizer`` plus units."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matminer.featurizers.base import BaseFeaturizer


class UnitFeaturizer(BaseFeaturizer):
    """A matminer featurizer whose features carry physical units.

    Subclasses implement ``featurize``, ``feature_labels``, ``citations``,
    ``implementors`` (matminer) and ``feature_units`` (sisso-lite). Units are strings
    understood by :func:`sisso_lite.features.parse_unit` (``"eV"``, ``"Angstrom"``,
    ``"eV/Angstrom^2"``, ``"1"`` for dimensionless).

    Cheap featurizers run serially by default: matminer's process pool costs more
    than it saves for them.
    """

    def __init__(self) -> None:
        self.set_n_jobs(1)

    def feature_units(self) -> list[str]:
        """Unit of each feature, in the order of :meth:`feature_labels`."""
        raise NotImplementedError

    def unit_map(self) -> dict[str, str]:
        """Mapping feature label -> unit string."""
        return dict(zip(self.feature_labels(), self.feature_units(), strict=True))


def featurize_with_units(
    featurizers: UnitFeaturizer | Sequence[UnitFeaturizer],
    df: pd.DataFrame,
    col_id: str | Sequence[str],
    **kwargs,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Run featurizers on ``df[col_id]`` and return (feature table, units).

    The feature table holds only the new feature columns (same index as ``df``);
    ``units`` maps each column to its unit string, ready for
    ``SissoRegressor(units=units)`` or ``SubgroupDiscovery``.
    """
    if isinstance(featurizers, BaseFeaturizer):
        featurizers = [featurizers]
    kwargs.setdefault("pbar", False)
    out = df.copy()
    units: dict[str, str] = {}
    for featurizer in featurizers:
        out = featurizer.featurize_dataframe(out, col_id, **kwargs)
        units.update(featurizer.unit_map())
    return out[list(units)], units
