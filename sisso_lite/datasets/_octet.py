"""The 82 octet binaries of Ghiringhelli et al., PRL 114, 105503 (2015).

Target: ``E_RS - E_ZB`` (eV per atom, LDA). Primary features are free-atom properties of the
cation ``A`` and the anion ``B``; column names follow the Fortran SISSO reference ``train.dat``
(``IP_A, EA_A, E_HOMO_A, E_LUMO_A, r_s_A, r_p_A, r_d_A`` and ``_B``) so that formulas compare.

Sign convention: the ionization potential ``IP`` and electron affinity ``EA`` are stored with a
NEGATIVE sign as in the NOMAD files (``E(N) - E(N-1)``; e.g. ``IP`` of Li is -5.329 eV), so the
PRL descriptor ``(IP(B) - EA(B)) / r_p(A)^2`` reads ``(EA_B - IP_B) / r_p_A^2`` here.

Data: ``data/octet_binaries/`` (see ``PROVENANCE.md`` there; Apache-2.0).
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["OCTET_UNITS", "load_octet_binaries"]

_DATA = "data/octet_binaries/octet_binaries_82.csv"

#: column order of the 14-feature table (as in the Fortran reference train.dat)
_COLUMNS_14 = [
    "IP_A", "IP_B", "EA_A", "EA_B", "E_HOMO_A", "E_HOMO_B", "E_LUMO_A", "E_LUMO_B",
    "r_s_A", "r_s_B", "r_p_A", "r_p_B", "r_d_A", "r_d_B",
]
_EXTRA_20 = ["r_sigma", "r_pi", "Z_A", "Z_B", "period_A", "period_B"]

#: physical units of the primary features (None = dimensionless)
OCTET_UNITS: dict[str, str | None] = {
    **{c: "eV" for c in _COLUMNS_14[:8]},
    **{c: "Angstrom" for c in _COLUMNS_14[8:]},
    "r_sigma": "Angstrom",
    "r_pi": "Angstrom",
    "Z_A": None,
    "Z_B": None,
    "period_A": None,
    "period_B": None,
}

_PERIOD_END = np.array([2, 10, 18, 36, 54, 86, 118])


def _period(z: np.ndarray) -> np.ndarray:
    return np.searchsorted(_PERIOD_END, np.asarray(z), side="left") + 1


def load_octet_binaries(
    n_features: int = 14,
) -> tuple[pd.DataFrame, pd.Series, pd.Series, dict[str, str | None]]:
    """Load the 82 octet binaries (rocksalt vs zincblende energy difference).

    Parameters
    ----------
    n_features : {14, 20}
        14: the atomic features of the PRL/SISSO papers; 20 adds ``r_sigma = |r_s_A + r_p_A -
        r_s_B - r_p_B|``, ``r_pi = |r_p_A - r_s_A| + |r_p_B - r_s_B|``, ``Z_A, Z_B`` and
        ``period_A, period_B`` (the SISSO++ tutorial table).

    Returns
    -------
    X : DataFrame, shape (82, n_features)
        Primary features indexed by material (``AgBr``, ``NaCl``, ...; cation first).
    y : Series
        ``E_RS - E_ZB`` in eV (named ``E_RS-E_ZB``); > 0: zincblende more stable.
    materials : Series
        Material formulas.
    units : dict
        Unit of every column of ``X`` (``"eV"``, ``"Angstrom"`` or None).
    """
    if n_features not in (14, 20):
        raise ValueError(f"n_features must be 14 or 20, got {n_features}")
    with resources.files("sisso_lite.datasets").joinpath(_DATA).open("r") as fh:
        raw = pd.read_csv(fh)
    df = raw.rename(
        columns={f"{a}_{s}": f"E_{a}_{s}" for a in ("HOMO", "LUMO") for s in ("A", "B")}
    )
    X = df[_COLUMNS_14].astype(np.float64).copy()
    if n_features == 20:
        X["r_sigma"] = (df.r_s_A + df.r_p_A - df.r_s_B - df.r_p_B).abs()
        X["r_pi"] = (df.r_p_A - df.r_s_A).abs() + (df.r_p_B - df.r_s_B).abs()
        X["Z_A"] = df.Z_A.astype(np.float64)
        X["Z_B"] = df.Z_B.astype(np.float64)
        X["period_A"] = _period(df.Z_A).astype(np.float64)
        X["period_B"] = _period(df.Z_B).astype(np.float64)
    materials = df["material"].rename("material")
    X.index = pd.Index(materials, name="material")
    y = pd.Series(df["dE_RS_ZB_eV"].to_numpy(np.float64), index=X.index, name="E_RS-E_ZB")
    units = {c: OCTET_UNITS[c] for c in X.columns}
    return X, y, materials.reset_index(drop=True), units
