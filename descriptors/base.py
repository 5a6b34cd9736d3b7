"""Shared shape of every sisso-lite featurizer: matminer ``BaseFeaturizer`` plus units."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pandas as pd
from matminer.featurizers.base import BaseFeaturizer


def material_name(material: object) -> str:
    """Short human-readable name of a featurizer input, used in error messages.

    Compositions and structures give their reduced formula, paths their file name,
    strings themselves.
    """
    if isinstance(material, os.PathLike):
        return os.fspath(material)
    composition = getattr(material, "composition", material)
    formula = getattr(composition, "reduced_formula", None)
    if formula is not None:
        return str(formula)
    return str(material)


@contextmanager
def naming_errors(material: object) -> Iterator[None]:
    """Re-raise any exception as ``ValueError("<material>: <cause>")``.

    matminer's ``ignore_errors`` / ``return_errors`` catch these per row as usual;
    the message tells which material failed and why.
    """
    try:
        yield
    except Exception as exc:
        name = material_name(material) or repr(material)
        message = str(exc) if str(exc) else type(exc).__name__
        if isinstance(exc, KeyError) and exc.args:  # str(KeyError) is only the quoted key
            key = exc.args[0]
            kind = "element" if isinstance(key, str) and len(key) <= 3 and key[:1].isupper() \
                else "key"
            message = f"unknown {kind} {key!r} (not in the property tables)"
        if message.startswith(f"{name}:"):
            raise
        raise ValueError(f"{name}: {message}") from exc


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

    Only the ``col_id`` column(s) of ``df`` are passed to the featurizers, so other columns
    may share names with features. The feature table holds only the new feature columns
    (same index as ``df``), plus matminer's error column(s) if ``return_errors=True``;
    ``units`` maps each feature column to its unit string, ready for
    ``SissoRegressor(units=units)`` or ``SubgroupDiscovery``.
    """
    if isinstance(featurizers, BaseFeaturizer):
        featurizers = [featurizers]
    kwargs.setdefault("pbar", False)
    # only the input column(s): other columns of ``df`` (e.g. a target named like a
    # feature) must not collide with the new feature labels
    inputs = [col_id] if isinstance(col_id, str) else list(col_id)
    out = df[inputs].copy()
    units: dict[str, str] = {}
    for featurizer in featurizers:
        out = featurizer.featurize_dataframe(out, col_id, **kwargs)
        units.update(featurizer.unit_map())
    extra = [c for c in out.columns if c not in units and c not in inputs]  # return_errors
    return out[list(units) + extra], units
