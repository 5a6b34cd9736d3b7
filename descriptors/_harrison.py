"""Harrison's universal tight-binding bond integrals.

W. A. Harrison, *Electronic Structure and the Properties of Solids* (1980), Solid State
Table; W. A. Harrison and S. Froyen, Phys. Rev. B 21, 3214 (1980).

* s and p states: ``V_llm = eta_llm hbar^2 / (m d^2)``
* one d state:    ``V_ldm = eta_ldm hbar^2 r_d^(3/2) / (m d^(7/2))``
* two d states:   ``V_ddm = eta_ddm hbar^2 (r_d r_d')^(3/2) / (m d^5)``

with ``hbar^2 / m = 7.62 eV Angstrom^2``, ``d`` in Angstrom and the d-state radii ``r_d``
of ``data/harrison_rd.csv`` (see ``data/PROVENANCE.md``). All integrals are in eV.
The coefficients are the book's Solid State Table values; Harrison & Froyen's paper gives
slightly different d coefficients (see ``data/PROVENANCE.md``).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

import numpy as np

HBAR2_OVER_M = 7.62
"""hbar^2 / m_e in eV Angstrom^2 (Harrison's value)."""

ETA: dict[str, float] = {
    "ss_sigma": -1.40,
    "sp_sigma": 1.84,
    "pp_sigma": 3.24,
    "pp_pi": -0.81,
    "sd_sigma": -3.16,
    "pd_sigma": -2.95,
    "pd_pi": 1.36,
    "dd_sigma": -16.2,
    "dd_pi": 8.75,
    "dd_delta": 0.0,
}
"""Harrison's 1980 (Solid State Table) dimensionless coefficients."""

SP_INTEGRALS = ("ss_sigma", "sp_sigma", "pp_sigma", "pp_pi")
LD_INTEGRALS = ("sd_sigma", "pd_sigma", "pd_pi")
DD_INTEGRALS = ("dd_sigma", "dd_pi", "dd_delta")


@lru_cache(maxsize=1)
def d_state_radii() -> dict[str, float]:
    """Harrison's d-state radii ``r_d`` (Angstrom) by element symbol."""
    path = resources.files("descriptors").joinpath("data/harrison_rd.csv")
    with resources.as_file(path) as file, open(file, newline="") as handle:
        return {row["element"]: float(row["r_d_angstrom"]) for row in csv.DictReader(handle)}


def r_d(element: str) -> float:
    """d-state radius of ``element`` in Angstrom, ``nan`` if not tabulated."""
    return d_state_radii().get(element, float("nan"))


def sp_integrals(distance: float | np.ndarray) -> dict[str, np.ndarray]:
    """``V_ss_sigma, V_sp_sigma, V_pp_sigma, V_pp_pi`` (eV) at ``distance`` (Angstrom)."""
    d = np.asarray(distance, dtype=float)
    return {name: ETA[name] * HBAR2_OVER_M / d**2 for name in SP_INTEGRALS}


def ld_integrals(distance: float | np.ndarray, rd: float) -> dict[str, np.ndarray]:
    """``V_sd_sigma, V_pd_sigma, V_pd_pi`` (eV): a d state of radius ``rd`` and an s/p state."""
    d = np.asarray(distance, dtype=float)
    return {name: ETA[name] * HBAR2_OVER_M * rd**1.5 / d**3.5 for name in LD_INTEGRALS}


def dd_integrals(distance: float | np.ndarray, rd1: float, rd2: float) -> dict[str, np.ndarray]:
    """``V_dd_sigma, V_dd_pi, V_dd_delta`` (eV) between d states of radii ``rd1``, ``rd2``."""
    d = np.asarray(distance, dtype=float)
    return {name: ETA[name] * HBAR2_OVER_M * (rd1 * rd2) ** 1.5 / d**5 for name in DD_INTEGRALS}
