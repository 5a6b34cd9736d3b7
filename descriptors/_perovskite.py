"""Perovskite geometry helpers: Shannon radii, site assignment, t, mu, tau.

Formulas
--------
* Goldschmidt tolerance factor ``t = (rA + rX) / (sqrt(2) (rB + rX))``
  (V. M. Goldschmidt, Naturwissenschaften 14, 477 (1926)).
* Octahedral factor ``mu = rB / rX``.
* Bartel's tolerance factor ``tau = rX/rB - nA (nA - (rA/rB) / ln(rA/rB))``
  (C. J. Bartel et al., Sci. Adv. 5, eaav0693 (2019)); ``tau < 4.18`` predicts a perovskite.

Radii are Shannon's effective *ionic* radii (R. D. Shannon, Acta Cryst. A32, 751 (1976)) as
bundled with pymatgen: A site CN XII, B and X sites CN VI, as in Bartel et al.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from pymatgen.core import Composition, Element

ROMAN = {
    "I": 1, "II": 2, "III": 3, "IIIPY": 3, "IV": 4, "IVSQ": 4, "V": 5, "VI": 6, "VII": 7,
    "VIII": 8, "IX": 9, "X": 10, "XI": 11, "XII": 12, "XIV": 14,
}  # fmt: skip

TAU_THRESHOLD = 4.18
"""Bartel et al.: ``tau < 4.18`` predicts a perovskite."""


def tolerance_factor(r_a: ArrayLike, r_b: ArrayLike, r_x: ArrayLike) -> np.ndarray:
    """Goldschmidt tolerance factor ``(rA + rX) / (sqrt(2) (rB + rX))`` (dimensionless)."""
    r_a, r_b, r_x = (np.asarray(v, dtype=float) for v in (r_a, r_b, r_x))
    return (r_a + r_x) / (np.sqrt(2.0) * (r_b + r_x))


def octahedral_factor(r_b: ArrayLike, r_x: ArrayLike) -> np.ndarray:
    """Octahedral factor ``mu = rB / rX`` (dimensionless)."""
    return np.asarray(r_b, dtype=float) / np.asarray(r_x, dtype=float)


def bartel_tau(r_a: ArrayLike, r_b: ArrayLike, r_x: ArrayLike, n_a: ArrayLike) -> np.ndarray:
    """Bartel's tolerance factor ``tau = rX/rB - nA (nA - (rA/rB) / ln(rA/rB))``.

    Undefined (``nan``) when ``rA == rB``; negative ``ln`` (``rA < rB``) is allowed, as in
    the paper's tables.
    """
    r_a, r_b, r_x, n_a = (np.asarray(v, dtype=float) for v in (r_a, r_b, r_x, n_a))
    ratio = r_a / r_b
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(ratio)
        tau = r_x / r_b - n_a * (n_a - ratio / log_ratio)
    return np.where(ratio == 1.0, np.nan, tau)


def shannon_radius(
    element: str, oxidation_state: float, cn: int, *, prefer: str = "closest"
) -> tuple[float, int]:
    """Shannon ionic radius (Angstrom) of ``element`` in ``oxidation_state`` near ``cn``.

    Parameters
    ----------
    element, oxidation_state
        The ion, e.g. ``("Mn", 3)``. Non-integer oxidation states are rejected.
    cn
        Wanted coordination number (12 for the A site, 6 for B and X sites).
    prefer
        What to do when ``cn`` is not tabulated: ``"closest"`` takes the tabulated CN
        nearest to ``cn`` (ties: the larger CN), ``"largest"`` takes the largest CN.

    Returns
    -------
    (radius, cn_used)
        High-spin radius where Shannon lists both spin states.

    Raises
    ------
    ValueError
        No Shannon radius for this ion.
    """
    if abs(oxidation_state - round(oxidation_state)) > 1e-8:
        raise ValueError(f"non-integer oxidation state {element}{oxidation_state:+g}")
    table = Element(element).data.get("Shannon radii", {}).get(str(int(round(oxidation_state))))
    if not table:
        raise ValueError(f"no Shannon radius for {element}{int(round(oxidation_state)):+d}")
    by_cn: dict[int, dict] = {}
    for label in sorted(table, key=lambda lab: lab in ("IIIPY", "IVSQ")):  # plain CN first
        if label in ROMAN:
            by_cn.setdefault(ROMAN[label], table[label])
    if cn in by_cn:
        chosen = cn
    elif prefer == "largest":
        chosen = max(by_cn)
    else:
        chosen = min(by_cn, key=lambda c: (abs(c - cn), -c))
    spins = by_cn[chosen]
    entry = spins.get("High Spin") or spins.get("") or next(iter(spins.values()))
    return float(entry["ionic_radius"]), chosen


@dataclass(frozen=True)
class PerovskiteSites:
    """Site assignment of an ABX3 or A2BB'X6 composition (per ABX3 formula unit)."""

    formula: str
    a: str
    b: tuple[str, ...]
    x: str
    n_a: float
    n_b: tuple[float, ...]
    n_x: float


def _split_species(composition: Composition) -> tuple[Composition, dict[str, float] | None]:
    """Element composition and the given oxidation states (``None`` if not decorated)."""
    states: dict[str, float] = {}
    for species in composition:
        oxi = getattr(species, "oxi_state", None)
        if oxi is None:
            return composition.element_composition, None
        symbol = species.symbol
        if symbol in states and states[symbol] != oxi:
            raise ValueError(f"element {symbol} given with two oxidation states")
        states[symbol] = float(oxi)
    return composition.element_composition, states


def assign_sites(composition: Composition | str, *, max_guesses: int = 10) -> PerovskiteSites:
    """Assign A, B(, B') and X of an ABX3 or A2BB'X6 composition.

    Oxidation states are taken from a species-decorated composition, otherwise from
    pymatgen's ``Composition.oxi_state_guesses`` (most probable first). For ABX3 the A site
    is the cation with the larger Shannon radius (A at CN XII, B at CN VI); the first guess
    with ``rA > rB`` wins, as in Bartel et al.

    Raises
    ------
    ValueError
        Not of ABX3 / A2BB'X6 stoichiometry, unknown element, or no oxidation states.
    """
    if isinstance(composition, str):
        composition = Composition(composition)
    elements, given = _split_species(composition)
    formula = elements.reduced_formula
    if given is not None:
        guesses = [given]
    else:
        guesses = list(elements.oxi_state_guesses(max_sites=-1)[:max_guesses])
        if not guesses:  # rarer states (e.g. Cl5+, Dy2+) only when nothing common balances
            guesses = list(elements.oxi_state_guesses(all_oxi_states=True)[:max_guesses])
        if not guesses:
            raise ValueError("oxidation states cannot be guessed (no charge-balanced guess)")
    fallback: PerovskiteSites | None = None
    radius_error: ValueError | None = None
    for states in guesses:
        for sites in _site_candidates(elements, states, formula):
            try:
                r_a = shannon_radius(sites.a, sites.n_a, 12)[0]
                pairs = zip(sites.b, sites.n_b, strict=True)
                r_b = max(shannon_radius(b, n, 6)[0] for b, n in pairs)
            except ValueError as exc:
                radius_error = exc
                continue
            if len(sites.b) > 1 or r_a > r_b:
                return sites
            fallback = fallback or sites
    if fallback is not None:
        return fallback
    if radius_error is not None:
        raise radius_error
    raise ValueError(
        "not an ABX3 / A2BB'X6 composition with a single anion and tabulated Shannon radii "
        f"(oxidation states tried: {guesses})"
    )


def _site_candidates(
    elements: Composition, states: dict[str, float], formula: str
) -> list[PerovskiteSites]:
    anions = [el.symbol for el in elements if states.get(el.symbol, 0) < 0]
    cations = [el.symbol for el in elements if states.get(el.symbol, 0) > 0]
    if len(anions) != 1 or len(cations) not in (2, 3):
        return []
    x = anions[0]
    per_x = {c: elements[c] / elements[x] for c in cations}  # cations per anion
    if len(cations) == 2 and all(np.isclose(v, 1 / 3) for v in per_x.values()):
        c1, c2 = cations
        return [
            PerovskiteSites(formula, a, (b,), x, states[a], (states[b],), states[x])
            for a, b in ((c1, c2), (c2, c1))
        ]
    if len(cations) == 3:
        a_site = [c for c, v in per_x.items() if np.isclose(v, 1 / 3)]
        b_site = [c for c, v in per_x.items() if np.isclose(v, 1 / 6)]
        if len(a_site) == 1 and len(b_site) == 2:
            a = a_site[0]
            return [
                PerovskiteSites(
                    formula, a, tuple(b_site), x, states[a],
                    tuple(states[b] for b in b_site), states[x],
                )
            ]  # fmt: skip
    return []


def d_electron_count(element: str, oxidation_state: float) -> float:
    """Number of d electrons of a cation.

    d-block: ``group - oxidation state`` clipped to [0, 10]; p-block cations of period >= 4
    keep a full d shell (10); s-block, light p-block and f-block: 0.
    """
    el = Element(element)
    if el.block == "d":
        return float(np.clip(el.group - oxidation_state, 0, 10))
    if el.block == "p" and el.row >= 4 and oxidation_state > 0:
        return 10.0
    return 0.0


def spin_only_moment(n_d: float) -> float:
    """High-spin, spin-only moment ``sqrt(n (n + 2))`` in Bohr magnetons for ``n_d`` d electrons."""
    unpaired = n_d if n_d <= 5 else 10 - n_d
    return float(np.sqrt(unpaired * (unpaired + 2)))
