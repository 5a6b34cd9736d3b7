"""Reading a LOBSTER calculation directory through ``pymatgen.io.lobster``.

pymatgen's parsers raise whatever their indexing hits on damaged input (``IndexError``,
``RuntimeError``, ``UnicodeDecodeError``...); every reader here turns that into a
:class:`LobsterFileError` (a ``ValueError``) that names the file and the problem, and checks
that the numbers it returns are finite and consistent.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pymatgen.io.lobster import Charge, Icohplist, MadelungEnergies

_ELEMENT = re.compile(r"^([A-Z][a-z]?)")


class LobsterFileError(ValueError):
    """A LOBSTER output file that cannot be read; the message starts with the file name."""


def _parse(path: Path, parser: Callable[[str], object]):
    """Run a pymatgen parser on ``path``; any failure becomes a :class:`LobsterFileError`."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise LobsterFileError(f"{path}: cannot read file ({exc})") from None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LobsterFileError(f"{path}:{line}: not valid UTF-8 text") from None
    if not raw.strip():
        raise LobsterFileError(f"{path}: empty file")
    try:
        return parser(str(path))
    except Exception as exc:  # pymatgen raises anything on damaged input
        raise LobsterFileError(f"{path}: not a readable LOBSTER file "
                               f"({type(exc).__name__}: {exc})") from None


def _finite(path: Path, what: str, values) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise LobsterFileError(f"{path}: {what} are not numbers ({exc})") from None
    if not np.all(np.isfinite(arr)):
        raise LobsterFileError(f"{path}: non-finite {what}")
    return arr


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


def element_of(atom_label: str, path: Path | None = None) -> str:
    """Element symbol of a LOBSTER atom label such as ``"Ti2"``."""
    match = _ELEMENT.match(atom_label)
    if match is None:
        where = f"{path}: " if path is not None else ""
        raise LobsterFileError(f"{where}cannot read element of LOBSTER atom label "
                               f"{atom_label!r}")
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
    icohplist = _parse(path, lambda name: Icohplist(filename=name))
    try:
        return _collect_bonds(path, icohplist)
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise LobsterFileError(f"{path}: inconsistent bond table ({type(exc).__name__}: "
                               f"{exc})") from None


def _collect_bonds(path: Path, icohplist: Icohplist) -> Bonds:
    collection = icohplist.icohpcollection.as_dict()
    labels = collection["list_labels"]
    if not labels:
        raise LobsterFileError(f"{path}: no bonds in the file")
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
    bonds = Bonds(
        atom1=[str(a) for a in collection["list_atom1"]],
        atom2=[str(a) for a in collection["list_atom2"]],
        length=_finite(path, "bond lengths", collection["list_length"]),
        icohp=_finite(path, "ICOHP values", icohp),
        num=_finite(path, "bond counts", collection["list_num"]),
        bonding=_finite(path, "bonding ICOHP parts", bonding),
        antibonding=_finite(path, "antibonding ICOHP parts", antibonding),
    )
    n = len(labels)
    if not (len(bonds.atom1) == len(bonds.atom2) == len(bonds.length) == len(bonds.num) == n):
        raise LobsterFileError(f"{path}: bond table columns have different lengths")
    for label in bonds.atom1 + bonds.atom2:
        element_of(label, path)
    return bonds


def read_charges(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Atom labels, Mulliken and Loewdin charges of CHARGE.lobster."""
    charge = _parse(path, lambda name: Charge(filename=name))
    atoms = [str(a) for a in getattr(charge, "atomlist", [])]
    mulliken = _finite(path, "Mulliken charges", getattr(charge, "mulliken", []))
    loewdin = _finite(path, "Loewdin charges", getattr(charge, "loewdin", []))
    if not atoms or not len(atoms) == mulliken.size == loewdin.size or mulliken.ndim != 1:
        raise LobsterFileError(f"{path}: {len(atoms)} atoms but {mulliken.size} Mulliken and "
                               f"{loewdin.size} Loewdin charges")
    for label in atoms:
        element_of(label, path)
    return atoms, mulliken, loewdin


def read_madelung(path: Path) -> tuple[float, float]:
    """Madelung energies (Mulliken, Loewdin) per cell in eV from MadelungEnergies.lobster."""
    madelung = _parse(path, lambda name: MadelungEnergies(filename=name))
    values = _finite(path, "Madelung energies", [madelung.madelungenergies_mulliken,
                                                  madelung.madelungenergies_loewdin])
    return float(values[0]), float(values[1])
