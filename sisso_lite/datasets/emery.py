"""ABO3 perovskites of Emery & Wolverton, Sci. Data 4, 170153 (2017).

5,329 A-B combinations of 73 elements with DFT (PBE+U, OQMD settings) formation energy,
stability (energy above hull), band gap, lattice data and O-vacancy energy; 53 rows have no
DFT result. Primary features are compositional and carry units:

* ``r_A``, ``r_B`` -- Shannon ionic radii used by the authors (table columns), Angstrom
* ``X_A``, ``X_B`` -- Pauling electronegativity (pymatgen ``Element.X``), dimensionless
* ``IE_A``, ``IE_B`` -- first ionization energy (pymatgen), eV
* ``EA_A``, ``EA_B`` -- electron affinity (pymatgen), eV (``with_extra=True``)
* ``rat_A``, ``rat_B`` -- empirical atomic radius (pymatgen), Angstrom (``with_extra=True``)

Data: ``data/emery2017_abo3/`` (see ``PROVENANCE.md`` there).
"""

from __future__ import annotations

import warnings
from functools import cache
from importlib import resources
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = ["EMERY_TARGETS", "EMERY_UNITS", "EmeryData", "load_emery_perovskites"]


class EmeryData(NamedTuple):
    """Loader result; unpacks as ``X, y, materials, units`` or use the attributes."""

    X: pd.DataFrame
    y: pd.Series
    materials: pd.Series
    units: dict[str, str | None]

_DATA = "data/emery2017_abo3/ABO3_Emery_Wolverton_2017.csv"

#: short name -> column of the published table
EMERY_TARGETS: dict[str, str] = {
    "formation_energy": "Formation energy [eV/atom]",
    "stability": "Stability [eV/atom]",
    "band_gap": "Band gap [eV]",
    "volume": "Volume per atom [A^3/atom]",
    "vacancy_energy": "Vacancy energy [eV/O atom]",
}

#: unit of every primary feature (None = dimensionless)
EMERY_UNITS: dict[str, str | None] = {
    "r_A": "Angstrom", "r_B": "Angstrom", "X_A": None, "X_B": None,
    "IE_A": "eV", "IE_B": "eV", "EA_A": "eV", "EA_B": "eV",
    "rat_A": "Angstrom", "rat_B": "Angstrom",
}


@cache
def _element_properties(symbol: str) -> tuple[float, float, float, float]:
    """(Pauling X, first ionization energy, electron affinity, atomic radius)."""
    from pymatgen.core import Element

    el = Element(symbol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ie = el.ionization_energies[0] if el.ionization_energies else np.nan
        return (float(el.X), float(ie), float(el.electron_affinity), float(el.atomic_radius))


def load_emery_perovskites(
    target: str = "formation_energy",
    with_extra: bool = False,
    dropna: bool = True,
) -> EmeryData:
    """Load the Emery & Wolverton (2017) ABO3 perovskites with compositional features.

    Parameters
    ----------
    target
        One of :data:`EMERY_TARGETS` (short name) or a column of the published table.
    with_extra
        Also return electron affinities and atomic radii (10 instead of 6 features).
    dropna
        Drop rows without a target value (and, defensively, rows with missing features).

    Returns
    -------
    EmeryData
        Named tuple ``(X, y, materials, units)``:

    X : DataFrame
        Primary features (see module docstring), indexed by chemical formula.
    y : Series
        The target (named after the table column).
    materials : Series
        Chemical formulas (``A`` first, e.g. ``SrTiO3``).
    units : dict
        Unit of every column of ``X`` (``"Angstrom"``, ``"eV"`` or None).
    """
    column = EMERY_TARGETS.get(target, target)
    with resources.files("sisso_lite.datasets").joinpath(_DATA).open("r") as fh:
        df = pd.read_csv(fh, na_values=["-"])
    if column not in df.columns or column in ("A", "B", "Chemical formula"):
        raise ValueError(
            f"unknown target {target!r}; use one of {sorted(EMERY_TARGETS)} or a numeric column"
        )
    feats = {"r_A": df["Radius A [ang]"], "r_B": df["Radius B [ang]"]}
    props = {s: _element_properties(s) for s in set(df["A"]) | set(df["B"])}
    names = ["X", "IE", "EA", "rat"] if with_extra else ["X", "IE"]
    for site in ("A", "B"):
        table = np.array([props[s] for s in df[site]])
        for k, name in enumerate(["X", "IE", "EA", "rat"]):
            if name in names:
                feats[f"{name}_{site}"] = table[:, k]
    X = pd.DataFrame(feats).astype(np.float64)
    X = X[[f"{n}_{s}" for n in ["r", *names] for s in ("A", "B")]]
    y = pd.to_numeric(df[column], errors="coerce").astype(np.float64)
    keep = np.ones(len(df), dtype=bool)
    if dropna:
        keep = y.notna().to_numpy() & X.notna().all(axis=1).to_numpy()
    materials = df.loc[keep, "Chemical formula"].reset_index(drop=True).rename("material")
    X = X.loc[keep].set_axis(pd.Index(materials, name="material"))
    y = pd.Series(y[keep].to_numpy(), index=X.index, name=column)
    units = {c: EMERY_UNITS[c] for c in X.columns}
    return EmeryData(X, y, materials, units)
