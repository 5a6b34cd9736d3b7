"""Data sets for sequential-learning and subgroup-discovery benchmarks.

* :func:`load_oer_plate` -- the four high-throughput OER catalyst composition libraries of the
  sequential-learning benchmark of B. Rohr et al., "Benchmarking the acceleration of materials
  discovery by sequential learning", Chem. Sci. 11, 2696 (2020), as distributed by Olympus
  (github.com/aspuru-guzik-group/olympus, MIT licence). Data: ``data/rohr2020_oer/``.
* :func:`load_foppa_perovskites` -- 504 cubic ABO3 perovskites with DFT bulk modulus and
  free-atom features of L. Foppa et al., arXiv:2403.18437 (2024). Data:
  ``data/foppa2024_perovskites/``.

See the ``PROVENANCE.md`` file in each data directory for sources and licences.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["load_foppa_perovskites", "load_oer_plate"]

_OER_DIR = "data/rohr2020_oer"

#: plate letter -> bundled file (JCAP plate id and the six elements of the library)
_OER_FILES: dict[str, str] = {
    "A": "oer_plate_3496_A_Mn-Fe-Co-Ni-La-Ce.csv",
    "B": "oer_plate_3851_B_Mn-Fe-Co-Ni-Cu-Ta.csv",
    "C": "oer_plate_3860_C_Mn-Fe-Co-Cu-Sn-Ta.csv",
    "D": "oer_plate_4098_D_Ca-Mn-Co-Ni-Sn-Sb.csv",
}
_OER_TARGET = "overpotential_V"

_FOPPA_DATA = "data/foppa2024_perovskites/dataset_SAC_features.csv"
_FOPPA_TARGET = "bulk_modulus"
_FOPPA_LATTICE = ("lattice_constant", "cohesive_energy")

#: unit of a Foppa feature by its name without the ``A_`` / ``B_`` site prefix
_FOPPA_STEM_UNITS: dict[str, str | None] = {
    "r_s": "Angstrom",
    "r_val": "Angstrom",
    "r_s_1": "Angstrom",
    "r_val_1": "Angstrom",
    "eps_H": "eV",
    "eps_L": "eV",
    "EA": "eV",
    "IP": "eV",
    "EN": "eV",
    "Z": None,
}
_FOPPA_OTHER_UNITS: dict[str, str | None] = {
    "lattice_constant": "Angstrom",
    "cohesive_energy": "eV",
    "n_A": None,
    "n_B": None,
}


def _read_csv(relative: str) -> pd.DataFrame:
    with resources.files("sisso_lite.datasets").joinpath(relative).open("r") as fh:
        return pd.read_csv(fh)


def load_oer_plate(plate: str = "A") -> tuple[pd.DataFrame, pd.Series]:
    """Load one OER catalyst composition library of Rohr et al. (2020).

    Each plate holds all unary to quaternary compositions (0.1 steps) of a six-cation oxide
    system with the measured oxygen-evolution (OER) overpotential; about 2,120 rows. The data
    are those of the sequential-learning benchmark of B. Rohr et al., Chem. Sci. 11, 2696
    (2020) (Caltech JCAP high-throughput experiments), taken from the Olympus benchmark suite
    (``dataset_oer_plate_*``).

    Parameters
    ----------
    plate : {"A", "B", "C", "D"}
        Plate letter (case-insensitive): A = Mn-Fe-Co-Ni-La-Ce (plate 3496, 2121 rows),
        B = Mn-Fe-Co-Ni-Cu-Ta (3851, 2119), C = Mn-Fe-Co-Cu-Sn-Ta (3860, 2120),
        D = Ca-Mn-Co-Ni-Sn-Sb (4098, 2121).

    Returns
    -------
    X : DataFrame, shape (n, 6)
        Cation fractions ``<el>_load`` (float, sum to 1 per row), in the CSV column order.
    y : Series
        Measured OER overpotential in V, named ``overpotential_V``. Lower is better (use
        ``goal="minimize"`` in :mod:`sisso_lite.learning.metrics`).

    Raises
    ------
    ValueError
        If ``plate`` is not one of the letters A, B, C, D.
    """
    letter = plate.strip().upper() if isinstance(plate, str) else None
    if letter not in _OER_FILES:
        raise ValueError(f"plate must be one of {', '.join(_OER_FILES)} (A-D), got {plate!r}")
    df = _read_csv(f"{_OER_DIR}/{_OER_FILES[letter]}")
    loads = [c for c in df.columns if c.endswith("_load")]
    X = df[loads].astype(np.float64)
    y = df[_OER_TARGET].astype(np.float64).rename(_OER_TARGET)
    return X, y


def _foppa_unit(column: str) -> str | None:
    if column in _FOPPA_OTHER_UNITS:
        return _FOPPA_OTHER_UNITS[column]
    site, _, stem = column.partition("_")
    if site not in ("A", "B") or stem not in _FOPPA_STEM_UNITS:
        raise KeyError(f"no unit known for column {column!r}")
    return _FOPPA_STEM_UNITS[stem]


def load_foppa_perovskites(
    include_lattice: bool = False,
) -> tuple[pd.DataFrame, pd.Series, pd.Series, dict[str, str | None]]:
    """Load the 504 cubic ABO3 perovskites of Foppa et al. (2024) (``dataset_SAC_features``).

    DFT bulk moduli of cubic perovskites with free-atom features of the A and B cations, the
    subgroup-discovery data set of L. Foppa, M. Scheffler et al., "Coherent Collections of
    Rules Describing Exceptional Materials Identified with a Multi-Objective Optimization of
    Subgroups", arXiv:2403.18437 (2024) (github.com/lfoppa/Multi-objective-optimization-of-
    subgroups; no licence stated upstream, used with attribution).

    Parameters
    ----------
    include_lattice
        Also return the DFT ``lattice_constant`` (Angstrom) and ``cohesive_energy`` (eV/atom)
        as features; by default only the free-atom features (and oxidation states) are used.

    Returns
    -------
    X : DataFrame, shape (504, 22) or (504, 24)
        Features indexed by material: per site ``A_``/``B_`` the radii ``r_s, r_val, r_s_1,
        r_val_1`` (Angstrom), atomic number ``Z``, HOMO/LUMO eigenvalues ``eps_H, eps_L``,
        ``EA``, ``IP`` and electronegativity ``EN`` (eV), plus oxidation states ``n_A, n_B``.
    y : Series
        DFT bulk modulus, named ``bulk_modulus`` (range 0.374..1.486; apparently Mbar, see
        ``PROVENANCE.md``).
    materials : Series
        Formulas (``BaTiO3``, ...).
    units : dict
        Unit of every column of ``X`` (``"Angstrom"``, ``"eV"`` or None = dimensionless).
    """
    df = _read_csv(_FOPPA_DATA)
    drop = ["material", _FOPPA_TARGET]
    if not include_lattice:
        drop += list(_FOPPA_LATTICE)
    X = df.drop(columns=drop).astype(np.float64)
    materials = df["material"].rename("material")
    X.index = pd.Index(materials, name="material")
    y = pd.Series(df[_FOPPA_TARGET].to_numpy(np.float64), index=X.index, name=_FOPPA_TARGET)
    units = {c: _foppa_unit(c) for c in X.columns}
    return X, y, materials.reset_index(drop=True), units
