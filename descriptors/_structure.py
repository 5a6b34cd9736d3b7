"""Structure helpers: oxidation states, site roles (centre / ligand), CrystalNN bonds."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pymatgen.analysis.bond_valence import BVAnalyzer
from pymatgen.analysis.local_env import CrystalNN
from pymatgen.core import Structure


def _as_tuple(elements: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if elements is None:
        return None
    if isinstance(elements, str):
        return (elements,)
    return tuple(elements)


def valences(structure: Structure) -> list[float]:
    """Oxidation state of every site: given, else pymatgen's ``BVAnalyzer``, else a guess."""
    given = [getattr(site.specie, "oxi_state", None) for site in structure]
    if all(v is not None for v in given):
        return [float(v) for v in given]
    try:
        return [float(v) for v in BVAnalyzer().get_valences(structure)]
    except ValueError:
        guessed = structure.copy()
        guessed.add_oxidation_state_by_guess()
        states = [getattr(site.specie, "oxi_state", None) for site in guessed]
        if any(v is None for v in states) or all(v == 0 for v in states):
            raise ValueError("oxidation states could not be determined") from None
        return [float(v) for v in states]


_CACHE_SIZE = 16
_CACHE: dict[tuple, tuple[list[float], Structure, list[list[dict]]]] = {}
"""Oxidation states and CrystalNN neighbours of recently seen structures (several
featurizers on one DataFrame row then run CrystalNN once)."""


def _fingerprint(structure: Structure) -> tuple:
    return (
        structure.lattice.matrix.tobytes(),
        tuple(str(site.species) for site in structure),
        structure.frac_coords.tobytes(),
    )


@dataclass
class Bonded:
    """A structure with oxidation states, CrystalNN neighbours and centre/ligand roles."""

    structure: Structure
    valences: list[float]
    neighbors: list[list[dict]]
    center: tuple[str, ...]
    ligand: tuple[str, ...]
    center_idx: list[int] = field(default_factory=list)
    ligand_idx: list[int] = field(default_factory=list)

    def bonds(self, i: int, elements: tuple[str, ...]) -> list[tuple[np.ndarray, float]]:
        """(neighbour Cartesian coordinates, distance) of CrystalNN bonds of site ``i``."""
        origin = self.structure[i].coords
        out = []
        for info in self.neighbors[i]:
            if info["site"].specie.symbol in elements:
                coords = np.asarray(info["site"].coords)
                out.append((coords, float(np.linalg.norm(coords - origin))))
        return out


def analyse(
    structure: Structure,
    center: str | Sequence[str] | None = None,
    ligand: str | Sequence[str] | None = None,
    *,
    crystal_nn: CrystalNN | None = None,
) -> Bonded:
    """Assign roles and find CrystalNN neighbours.

    ``ligand`` defaults to all anion elements (negative oxidation state). ``center``
    defaults to the cation elements whose mean CrystalNN coordination number is at most 6
    (the B and B' sites of a perovskite); if there are none, the cation of highest
    oxidation state.

    Raises
    ------
    ValueError
        A requested element is absent, there is no anion/cation, or oxidation states
        cannot be determined.
    """
    if not structure.is_ordered:
        raise ValueError("disordered (partially occupied) structures are not supported")
    symbols = [site.specie.symbol for site in structure]
    present = set(symbols)
    center_t, ligand_t = _as_tuple(center), _as_tuple(ligand)
    for role, elements in (("centre", center_t), ("ligand", ligand_t)):
        missing = [el for el in elements or () if el not in present]
        if missing:
            raise ValueError(f"structure has no {'/'.join(missing)} site (requested {role})")
    key = _fingerprint(structure) if crystal_nn is None else None
    if key is not None and key in _CACHE:
        states, decorated, neighbors = _CACHE[key]
    else:
        states = valences(structure)
        decorated = structure.copy()
        decorated.add_oxidation_state_by_site(states)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            neighbors = (crystal_nn or CrystalNN()).get_all_nn_info(decorated)
        if key is not None:
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = (states, decorated, neighbors)
    if ligand_t is None:
        ligand_t = tuple(sorted({s for s, v in zip(symbols, states, strict=True) if v < 0}))
        if not ligand_t:
            raise ValueError("no anion (negative oxidation state) in structure")
    if center_t is None:
        cations = sorted({s for s, v in zip(symbols, states, strict=True) if v > 0})
        if not cations:
            raise ValueError("no cation (positive oxidation state) in structure")
        mean_cn = {
            el: np.mean([len(neighbors[i]) for i, s in enumerate(symbols) if s == el])
            for el in cations
        }
        center_t = tuple(el for el in cations if mean_cn[el] <= 6.0)
        if not center_t:
            top = max(v for v in states)
            center_t = tuple(sorted({s for s, v in zip(symbols, states, strict=True) if v == top}))
    bonded = Bonded(decorated, states, neighbors, center_t, ligand_t)
    bonded.center_idx = [i for i, s in enumerate(symbols) if s in center_t]
    bonded.ligand_idx = [i for i, s in enumerate(symbols) if s in ligand_t]
    return bonded


def stats(values: Sequence[float] | np.ndarray) -> tuple[float, float, float, float]:
    """(mean, min, max, std) or four ``nan`` for no values."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return (np.nan, np.nan, np.nan, np.nan)
    return (float(arr.mean()), float(arr.min()), float(arr.max()), float(arr.std()))


def bridging_angles(bonded: Bonded) -> list[float]:
    """Centre-ligand-centre angles (degrees) over CrystalNN bonds.

    For every ligand site L and every pair of centre neighbours of L (CrystalNN list of L),
    the angle at L. Each angle is counted once.
    """
    angles = []
    for j in bonded.ligand_idx:
        origin = bonded.structure[j].coords
        centers = [c for c, _ in bonded.bonds(j, bonded.center)]
        for a in range(len(centers)):
            for b in range(a + 1, len(centers)):
                u, v = centers[a] - origin, centers[b] - origin
                cos = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
                angles.append(float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))))
    return angles
