"""Magnetic-order data: Frey et al. 2020 (FM vs AFM, DFT) and MAGNDATA (experimental).

* :func:`load_frey_magnetic_order` -- the FM/AFM train/test split of N. C. Frey et al.,
  Sci. Adv. 6, eabd1076 (2020): 3,988 training rows (class-balanced) and 315 test rows (natural
  distribution, 79 FM / 236 AFM) of 14 structure/composition features; the published
  random-forest baseline is 0.80 test accuracy (:data:`FREY_RF_TEST_ACCURACY`).
* :func:`load_magndata_summary` -- the parsed summary of the 1,968 commensurate MAGNDATA mcifs
  (Gallego et al., J. Appl. Cryst. 49, 1750 (2016)), with transition temperatures.
* :func:`load_magndata_labels` -- per MAGNDATA entry the FM / AFM / FiM label derived from the
  mcif moments, the magnetic-sublattice geometry (M-M distances, M-X-M angle) and the
  transition temperature (``magndata_labels.csv``, made by
  ``sisso_lite.screening.magnetic_labels.magndata_table``; see PROVENANCE.md).
* :func:`magndata_mcif_path` -- one of the few mcifs bundled for examples and tests.

Data: ``data/frey2020_magnetic_order/`` (MIT) and ``data/magndata_magnetic/`` (CC BY 4.0).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import pandas as pd

__all__ = ["FREY_RF_TEST_ACCURACY", "FREY_UNITS", "FreyData", "load_frey_magnetic_order",
           "load_magndata_labels", "load_magndata_summary", "magndata_mcif_path",
           "MAGNDATA_GEOMETRY_UNITS"]

#: test accuracy of Frey et al.'s random forest on the bundled split (upstream notebook)
FREY_RF_TEST_ACCURACY = 0.80

_FREY = "data/frey2020_magnetic_order"
_MAGNDATA = "data/magndata_magnetic"

#: unit of every Frey feature after renaming (None = dimensionless; the sine-Coulomb-matrix
#: eigenvalues mix e^2/A and dimensionless diagonal terms and are treated as dimensionless)
FREY_UNITS: dict[str, str | None] = {
    "nsublattices": None, "nn_dist": "Angstrom", "nnn_dist": "Angstrom",
    "cn_weighted_avg": None, "mean_NdUnfilled": None, "mean_SpaceGroupNumber": None,
    "structural_complexity_per_atom": None,
    **{f"sine_coulomb_eig_{k}": None for k in (0, 3, 6, 10, 11, 27, 31)},
}

#: units of the geometry columns of :func:`load_magndata_labels`
MAGNDATA_GEOMETRY_UNITS: dict[str, str | None] = {
    "d_mm1": "Angstrom", "d_mm2": "Angstrom", "z_mm1": None, "angle_mxm": "deg",
    "d_mx": "Angstrom", "x_magnetic": None,
}


class FreyData(NamedTuple):
    """Loader result; unpacks as ``X_train, y_train, X_test, y_test, units``."""

    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series
    units: dict[str, str | None]


def _file(folder: str, name: str) -> Path:
    return Path(str(resources.files("sisso_lite.datasets").joinpath(f"{folder}/{name}")))


def _frey_name(column: str) -> str:
    m = re.fullmatch(r"sine coulomb matrix eig (\d+)", column)
    if m:
        return f"sine_coulomb_eig_{m.group(1)}"
    m = re.fullmatch(r"MagpieData mean (\w+)", column)
    if m:
        return f"mean_{m.group(1)}"
    return column.replace(" ", "_")


def _read_frey(name: str) -> tuple[pd.DataFrame, pd.Series]:
    path = _file(_FREY, name)
    df = pd.read_csv(path)
    if "is_FM" not in df.columns:
        raise ValueError(f"{path}: no 'is_FM' label column")
    df = df.rename(columns=_frey_name)
    missing = set(FREY_UNITS) - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing feature columns {sorted(missing)}")
    X = df[list(FREY_UNITS)].astype(float)
    X.index = pd.RangeIndex(len(X), name=f"{name.split('_')[-1][:-4]}_row")
    return X, df["is_FM"].astype(int).rename("is_FM").set_axis(X.index)


def load_frey_magnetic_order() -> FreyData:
    """The FM/AFM train/test split of Frey et al. (2020), exactly as published.

    Returns
    -------
    FreyData
        ``X_train`` (3,988 x 14), ``y_train`` (``is_FM``: 1 = ferromagnetic, 0 = AFM),
        ``X_test`` (315 x 14), ``y_test``, ``units``. Feature names are the upstream ones in
        snake case (``sine coulomb matrix eig 3`` -> ``sine_coulomb_eig_3``,
        ``MagpieData mean NdUnfilled`` -> ``mean_NdUnfilled``). Rows carry no formula.
    """
    X_train, y_train = _read_frey("magnetic_order_FM_AFM_train.csv")
    X_test, y_test = _read_frey("magnetic_order_FM_AFM_test.csv")
    return FreyData(X_train, y_train, X_test, y_test, dict(FREY_UNITS))


def load_magndata_summary() -> pd.DataFrame:
    """The MAGNDATA mcif summary (1,968 rows), indexed by ``magndata_id`` (string)."""
    path = _file(_MAGNDATA, "magndata_mcif_summary.csv")
    df = pd.read_csv(path, dtype={"magndata_id": str})
    return df.set_index("magndata_id")


def load_magndata_labels(with_temperature: bool = False) -> pd.DataFrame:
    """Order labels, sublattice geometry and transition temperature of MAGNDATA entries.

    Parameters
    ----------
    with_temperature : bool
        Keep only entries with a transition temperature (> 0 K).

    Returns
    -------
    DataFrame
        Indexed by ``magndata_id``: ``formula`` (reduced), ``magnetic_elements``, ``order``
        (FM / AFM / FiM), ``net_ratio``, ``n_magnetic_sites``, ``mean_moment`` (muB),
        ``antiparallel_fraction``, the geometry columns of
        :data:`MAGNDATA_GEOMETRY_UNITS` and ``transition_temperature_K``.
    """
    path = _file(_MAGNDATA, "magndata_labels.csv")
    df = pd.read_csv(path, dtype={"magndata_id": str}).set_index("magndata_id")
    bad = ~df["order"].isin(["FM", "AFM", "FiM"])
    if bad.any():
        raise ValueError(f"{path}: unknown order labels in rows "
                         f"{df.index[bad].tolist()[:5]}")
    if with_temperature:
        df = df[df["transition_temperature_K"] > 0]
    return df


def magndata_mcif_path(magndata_id: str) -> Path:
    """Path of a bundled mcif (a small subset of MAGNDATA; see PROVENANCE.md)."""
    path = _file(_MAGNDATA, f"mcifs/{magndata_id}.mcif")
    if not path.is_file():
        have = sorted(p.name[:-5] for p in path.parent.glob("*.mcif"))
        raise FileNotFoundError(f"MAGNDATA entry {magndata_id!r} is not bundled; "
                                f"bundled: {have}")
    return path
