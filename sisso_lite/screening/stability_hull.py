"""Convex-hull references for the stability screen: from a formation energy to E_hull.

The energy above the convex hull of a compound with formation energy ``E_f`` (eV/atom) is

    E_hull = E_f - E_f^hull(x),

where ``E_f^hull(x)`` (the *hull energy*) is the formation energy per atom of the lowest
mixture of competing phases at the compound's composition ``x`` (the lower convex hull of
the competing phases' formation energies). ``E_hull <= 0``: the compound is on or below the
hull of its competitors (thermodynamically stable at 0 K); ``E_hull > 0``: it decomposes.

Two references give ``E_f^hull``:

* :class:`CompetingPhasesHull` -- a pymatgen :class:`~pymatgen.analysis.phase_diagram.
  PhaseDiagram` built from competing entries the user supplies (a computed-entries JSON, a
  list of ``(composition, energy per atom)``, or pymatgen entries).
* :class:`TabulatedHull` -- one hull energy per compound from a table. For the Emery &
  Wolverton (2017) ABO3 table, whose formation energy and stability (E_hull) were computed
  against the OQMD hull, the hull energy of every composition is ``E_f - E_hull``
  (:meth:`TabulatedHull.from_emery`).

Both raise :class:`HullError` naming the compound when they cannot give its hull energy
(composition not spanned by the competing phases, compound not in the table).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "CompetingPhasesHull",
    "HullError",
    "TabulatedHull",
    "e_hull_from_formation",
    "hull_energies_from_table",
]


class HullError(ValueError):
    """The hull energy of a compound cannot be determined (the message names it)."""


def e_hull_from_formation(formation_energy, hull_energy) -> np.ndarray:
    """``E_hull = E_f - E_f^hull`` element-wise (eV/atom in, eV/atom out)."""
    return np.asarray(formation_energy, dtype=np.float64) - np.asarray(hull_energy,
                                                                       dtype=np.float64)


def hull_energies_from_table(formation_energy: pd.Series, e_hull: pd.Series) -> pd.Series:
    """Hull energy ``E_f - E_hull`` of every compound of a table with both columns.

    Parameters
    ----------
    formation_energy, e_hull : Series
        Formation energy and energy above the hull (eV/atom), indexed by formula. Only the
        labels present in both with finite values are kept.

    Returns
    -------
    Series
        Hull energy (eV/atom) indexed by formula, named ``hull_energy``.
    """
    common = formation_energy.index.intersection(e_hull.index)
    if common.empty:
        raise ValueError("formation_energy and e_hull share no index label (formula)")
    ef = formation_energy.loc[common].astype(np.float64)
    eh = e_hull.loc[common].astype(np.float64)
    hull = (ef - eh).rename("hull_energy")
    return hull[np.isfinite(hull.to_numpy())]


def _reduced_formula(formula: str) -> str | None:
    from pymatgen.core import Composition

    try:
        return Composition(formula).reduced_formula
    except Exception:  # noqa: BLE001 - any unparsable formula simply has no key
        return None


class TabulatedHull:
    """Hull energies looked up per compound (exact formula, then reduced formula).

    Parameters
    ----------
    hull_energy : Mapping or Series
        Formula -> hull energy ``E_f^hull`` (eV/atom).
    source : str
        Where the numbers come from (shown in messages and reports).
    """

    def __init__(self, hull_energy: Mapping[str, float] | pd.Series, source: str = "table"):
        values = pd.Series(hull_energy, dtype=np.float64)
        if values.empty:
            raise ValueError("hull_energy is empty")
        bad = values.index[~np.isfinite(values.to_numpy())]
        if len(bad):
            raise ValueError(f"hull_energy is not finite for {list(bad[:5])}")
        self.hull_energy = values
        self.source = source
        self._reduced: dict[str, float] = {}
        for formula, value in values.items():
            key = _reduced_formula(str(formula))
            if key is not None:
                self._reduced.setdefault(key, float(value))

    @classmethod
    def from_emery(cls) -> TabulatedHull:
        """The hull energies ``E_f - E_hull`` of the 5,276 Emery & Wolverton (2017) ABO3."""
        from sisso_lite.datasets import load_emery_perovskites

        ef = load_emery_perovskites("formation_energy").y
        eh = load_emery_perovskites("stability").y
        return cls(hull_energies_from_table(ef, eh),
                   source="Emery & Wolverton 2017 (E_f - E_hull)")

    def __len__(self) -> int:
        return len(self.hull_energy)

    def __repr__(self) -> str:
        return f"TabulatedHull({len(self)} compounds, source={self.source!r})"

    def hull_energy_of(self, formula: str) -> float:
        """Hull energy (eV/atom) of ``formula``; :class:`HullError` if it is not tabulated."""
        formula = str(formula)
        if formula in self.hull_energy.index:
            return float(self.hull_energy.loc[formula])
        key = _reduced_formula(formula)
        if key is not None and key in self._reduced:
            return self._reduced[key]
        raise HullError(f"{formula}: no hull energy in the {self.source} table "
                        "(add its competing phases, e.g. with CompetingPhasesHull)")


class CompetingPhasesHull:
    """Hull energies from the lower convex hull of competing phases (pymatgen).

    Parameters
    ----------
    entries : iterable
        Competing phases: pymatgen entries (``PDEntry``, ``ComputedEntry``, ...; their
        ``energy_per_atom`` is used), ``(composition, energy_per_atom)`` pairs, or dicts
        with ``composition`` and ``energy_per_atom`` keys.
    energies : {"formation", "total"}
        ``"formation"`` (default): the energies are formation energies per atom; every
        element that occurs in an entry gets an elemental reference at 0 eV/atom unless an
        elemental entry is given. ``"total"``: total energies per atom, the elemental
        entries must be given (pymatgen's terminal entries), and hull energies are
        returned relative to them (i.e. as formation energies).

    Notes
    -----
    Leave the screened compounds themselves out of ``entries``: an entry at the candidate's
    own composition makes the hull energy the candidate's own (DFT) energy.
    """

    def __init__(self, entries: Iterable, energies: str = "formation"):
        from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
        from pymatgen.core import Composition

        if energies not in ("formation", "total"):
            raise ValueError(f"energies must be 'formation' or 'total', got {energies!r}")
        self.energies = energies
        pd_entries = [_as_pd_entry(e, i) for i, e in enumerate(entries)]
        if not pd_entries:
            raise ValueError("entries is empty: give the competing phases")
        elements = sorted({el for e in pd_entries for el in e.composition.elements})
        if energies == "formation":
            present = {e.composition.elements[0] for e in pd_entries if e.composition.is_element}
            for el in elements:
                if el not in present:
                    pd_entries.append(PDEntry(Composition({el: 1}), 0.0, name=f"{el} (ref)"))
        try:
            self.phase_diagram_ = PhaseDiagram(pd_entries)
        except ValueError as err:
            raise ValueError(f"competing phases do not form a phase diagram: {err} "
                             "(with energies='total' every element needs an elemental entry)"
                             ) from err
        self.elements_ = tuple(str(el) for el in elements)
        self.n_entries_ = len(pd_entries)

    @classmethod
    def from_json(cls, path: str | Path, energies: str = "formation") -> CompetingPhasesHull:
        """Read competing entries from JSON.

        Either a list of serialised pymatgen entries (``ComputedEntry.as_dict()``, e.g. a
        Materials Project or OQMD download saved with ``monty.serialization.dumpfn``) or a
        list of ``{"composition": "SrO", "energy_per_atom": -3.01}`` objects.
        """
        path = Path(path)
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from err
        if not isinstance(raw, list):
            raise ValueError(f"{path}: expected a JSON list of entries, got "
                             f"{type(raw).__name__}")
        entries = []
        for i, item in enumerate(raw):
            if isinstance(item, dict) and "@class" in item:
                from monty.json import MontyDecoder

                entries.append(MontyDecoder().process_decoded(item))
            elif isinstance(item, dict):
                entries.append(item)
            else:
                raise ValueError(f"{path}: entry {i} is not an object: {item!r}")
        return cls(entries, energies=energies)

    def __repr__(self) -> str:
        return (f"CompetingPhasesHull({self.n_entries_} entries, elements "
                f"{'-'.join(self.elements_)}, energies={self.energies!r})")

    def hull_energy_of(self, formula: str) -> float:
        """Formation energy (eV/atom) of the hull at the composition of ``formula``.

        Raises
        ------
        HullError
            If the formula cannot be parsed or contains an element that no competing phase
            contains (the phases do not span the composition).
        """
        from pymatgen.core import Composition

        try:
            comp = Composition(str(formula))
        except Exception as err:  # noqa: BLE001 - pymatgen raises several types
            raise HullError(f"{formula}: not a chemical formula ({err})") from err
        if comp.num_atoms <= 0:
            raise HullError(f"{formula}: empty composition")
        missing = sorted(str(el) for el in comp.elements if str(el) not in self.elements_)
        if missing:
            raise HullError(
                f"{formula}: the competing phases do not span its composition (no phase "
                f"contains {', '.join(missing)}; phases span {'-'.join(self.elements_)})")
        pdiag = self.phase_diagram_
        hull = float(pdiag.get_hull_energy_per_atom(comp))
        refs = sum(comp.get_atomic_fraction(el) * pdiag.el_refs[el].energy_per_atom
                   for el in comp.elements)
        value = hull - float(refs)
        if not math.isfinite(value):
            raise HullError(f"{formula}: the hull energy is not finite")
        return value


def _as_pd_entry(item, i: int):
    """A pymatgen PDEntry from an entry, a pair or a dict (entry ``i`` in messages)."""
    from pymatgen.analysis.phase_diagram import PDEntry
    from pymatgen.core import Composition

    if hasattr(item, "composition") and hasattr(item, "energy_per_atom"):
        comp, e_atom, name = item.composition, item.energy_per_atom, getattr(item, "name", None)
    elif isinstance(item, Mapping):
        if "composition" not in item or "energy_per_atom" not in item:
            raise ValueError(f"entry {i}: a dict needs 'composition' and 'energy_per_atom', "
                             f"got keys {sorted(item)}")
        comp, e_atom, name = item["composition"], item["energy_per_atom"], item.get("name")
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        comp, e_atom = item
        name = str(comp)
    else:
        raise ValueError(f"entry {i}: expected a pymatgen entry, a (composition, "
                         f"energy_per_atom) pair or a dict, got {item!r}")
    try:
        comp = Composition(comp)
    except Exception as err:  # noqa: BLE001
        raise ValueError(f"entry {i}: {comp!r} is not a composition ({err})") from err
    e_atom = float(e_atom)
    if not math.isfinite(e_atom):
        raise ValueError(f"entry {i} ({comp.reduced_formula}): energy per atom is not finite")
    return PDEntry(comp, e_atom * comp.num_atoms, name=name or comp.reduced_formula)
