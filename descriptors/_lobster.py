"""Reading a LOBSTER calculation directory through ``pymatgen.io.lobster``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pymatgen.io.lobster import Charge, Icohplist, MadelungEnergies

_ELEMENT = re.compile(r"^([A-Z][a-z]?)")


def find_lobster_file(directory: Path, name: str) -> Path:
    """``directory/name`` or ``directory/name.gz``.

    Raises
    ------
    ValueError
        Naming the missing file.
    """
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise ValueError(f"missing LOBSTER file {directory / name}[.gz]")


def element_of(atom_label: str) -> str:
    """Element symbol of a LOBSTER atom label such as ``"Ti2"``."""
    match = _ELEMENT.match(atom_label)
    if match is None:
        raise ValueError(f"cannot read element of LOBSTER atom label {atom_label!r}")
    return match.group(1)


@dataclass
class Bonds:
    """All bonds of ICOHPLIST.lobster (spin channels summed)."""

    atom1: list[str]
    atom2: list[str]
    length: np.ndarray
    icohp: np.ndarray
    num: np.ndarray
    bonding: np.ndarray  # sum of negative (bonding) orbital-pair contributions, <= 0
    antibonding: np.ndarray  # sum of positive (antibonding) orbital-pair contributions, >= 0


def read_bonds(path: Path) -> Bonds:
    """Parse ICOHPLIST.lobster with pymatgen and collect per-bond arrays."""
    icohplist = Icohplist(filename=str(path))
    collection = icohplist.icohpcollection.as_dict()
    labels = collection["list_labels"]
    if not labels:
        raise ValueError(f"no bonds in {path}")
    icohp, bonding, antibonding = [], [], []
    for label in labels:
        entry = icohplist.icohplist[label]
        total = float(sum(entry["icohp"].values()))
        icohp.append(total)
        orbitals = entry.get("orbitals") or {}
        parts = np.array([sum(o["icohp"].values()) for o in orbitals.values()], dtype=float)
        if parts.size:
            bonding.append(parts[parts < 0].sum())
            antibonding.append(parts[parts > 0].sum())
        else:
            bonding.append(min(total, 0.0))
            antibonding.append(max(total, 0.0))
    return Bonds(
        atom1=list(collection["list_atom1"]),
        atom2=list(collection["list_atom2"]),
        length=np.asarray(collection["list_length"], dtype=float),
        icohp=np.asarray(icohp),
        num=np.asarray(collection["list_num"], dtype=float),
        bonding=np.asarray(bonding),
        antibonding=np.asarray(antibonding),
    )


def read_charges(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Atom labels, Mulliken and Loewdin charges of CHARGE.lobster."""
    charge = Charge(filename=str(path))
    return (
        list(charge.atomlist),
        np.asarray(charge.mulliken, dtype=float),
        np.asarray(charge.loewdin, dtype=float),
    )


def read_madelung(path: Path) -> tuple[float, float]:
    """Madelung energies (Mulliken, Loewdin) per cell in eV from MadelungEnergies.lobster."""
    madelung = MadelungEnergies(filename=str(path))
    return float(madelung.madelungenergies_mulliken), float(madelung.madelungenergies_loewdin)
