"""Magnetic order labels and magnetic-sublattice geometry from structures with moments.

* :func:`read_mcif` reads a magnetic CIF (MAGNDATA ``.mcif``) with pymatgen and checks that it
  carries moments (``site_properties["magmom"]``); every failure names the file.
* :func:`order_from_moments` labels a moment configuration ``FM`` (all moments parallel),
  ``AFM`` (moments compensate) or ``FiM`` (antiparallel sublattices with a net moment).
* :func:`magnetic_geometry` gives the magnetic-ion distances and the M-X-M bridging angles
  that control the sign of superexchange (Goodenough-Kanamori rules: ~180 deg favours AFM,
  ~90 deg favours FM; J. B. Goodenough, *Magnetism and the Chemical Bond* (1963)).
* :func:`magndata_table` runs both over a folder of mcifs and joins the transition
  temperatures of the MAGNDATA summary (how ``magndata_labels.csv`` of
  :mod:`sisso_lite.datasets.magnetic` was made).

Definitions (documented thresholds): with magnetic sites ``|m_i| > min_moment`` and the ratio
``r = |sum_i m_i| / sum_i |m_i|``,

* ``FM``  if every moment is parallel to the net moment within ``parallel_deg`` (r ~ 1);
* ``AFM`` if ``r < afm_ratio`` (compensated; canted weak ferromagnets with a small net
  moment are AFM, as in MAGNDATA's own description);
* ``FiM`` otherwise (antiparallel or non-collinear sublattices with a net moment).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["ANION_SPECIES", "MAGNETIC_ELEMENTS", "MCIFError", "magndata_table",
           "magnetic_geometry", "order_from_moments", "read_mcif"]

#: elements treated as magnetic ions when a structure has no moments (3d, 4d, 5d, 4f, 5f)
MAGNETIC_ELEMENTS = frozenset(
    "Ti V Cr Mn Fe Co Ni Cu Zr Nb Mo Tc Ru Rh Pd Hf Ta W Re Os Ir Pt Ce Pr Nd Pm Sm Eu Gd "
    "Tb Dy Ho Er Tm Yb U Np Pu".split())
#: ligands X of the M-X-M bridges
ANION_SPECIES = frozenset("O S Se Te F Cl Br I N P As Sb C H B".split())


class MCIFError(ValueError):
    """An mcif that cannot be read or has no magnetic moments (the message names the file)."""


def read_mcif(path: str | Path):
    """Read a magnetic CIF into a pymatgen ``Structure`` with a ``magmom`` site property.

    Raises
    ------
    MCIFError
        If the file is missing, not parseable, or has no non-zero moment.
    """
    from pymatgen.io.cif import CifParser

    path = Path(path)
    if not path.is_file():
        raise MCIFError(f"{path}: no such mcif file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            structures = CifParser(path).parse_structures(primitive=False)
    except Exception as err:  # pymatgen raises many types on bad CIF text
        raise MCIFError(f"{path}: not a readable (m)cif: {type(err).__name__}: {err}") from err
    if not structures:
        raise MCIFError(f"{path}: pymatgen found no structure in the file")
    structure = structures[0]
    if "magmom" not in structure.site_properties:
        raise MCIFError(f"{path}: no magnetic moments (_atom_site_moment loop missing)")
    moments = _moment_vectors(structure)
    if not np.any(np.linalg.norm(moments, axis=1) > 0):
        raise MCIFError(f"{path}: every magnetic moment is zero")
    return structure


def _moment_vectors(structure) -> np.ndarray:
    out = []
    for m in structure.site_properties.get("magmom", [0.0] * len(structure)):
        if hasattr(m, "get_moment"):
            out.append(np.asarray(m.get_moment(), dtype=float))
        else:
            v = np.atleast_1d(np.asarray(m, dtype=float))
            out.append(np.array([0.0, 0.0, v[0]]) if v.size == 1 else v[:3])
    return np.array(out, dtype=float).reshape(len(structure), 3)


def order_from_moments(moments, *, min_moment: float = 0.1, parallel_deg: float = 10.0,
                       afm_ratio: float = 0.1) -> dict:
    """FM / AFM / FiM label of a set of moment vectors (muB, Cartesian).

    Parameters
    ----------
    moments : array of shape (n_sites, 3) or (n_sites,)
        Moments of all sites (collinear values are taken along z).
    min_moment : float
        Sites with ``|m| <= min_moment`` muB are non-magnetic.
    parallel_deg : float
        Tolerance of "parallel" for the FM label (degrees).
    afm_ratio : float
        ``|sum m| / sum |m|`` below which the configuration is compensated (AFM).

    Returns
    -------
    dict
        ``order`` ("FM", "AFM", "FiM"), ``net_ratio`` r, ``n_magnetic_sites``,
        ``mean_moment`` (muB), ``antiparallel_fraction`` (sites whose moment points against
        the net moment, or against the first moment for AFM).

    Raises
    ------
    ValueError
        If no site carries a moment above ``min_moment``.
    """
    m = np.asarray(moments, dtype=float)
    if m.ndim == 1:
        m = np.column_stack([np.zeros_like(m), np.zeros_like(m), m])
    norms = np.linalg.norm(m, axis=1)
    mag = norms > min_moment
    if not mag.any():
        raise ValueError(f"no site carries a moment above {min_moment} muB")
    m, norms = m[mag], norms[mag]
    net = m.sum(axis=0)
    ratio = float(np.linalg.norm(net) / norms.sum())
    ref = net / np.linalg.norm(net) if ratio > 1e-9 else m[0] / norms[0]
    cos = (m @ ref) / norms
    if ratio < afm_ratio:
        order = "AFM"
    elif np.all(cos >= np.cos(np.radians(parallel_deg))):
        order = "FM"
    else:
        order = "FiM"
    return {"order": order, "net_ratio": ratio, "n_magnetic_sites": int(mag.sum()),
            "mean_moment": float(norms.mean()), "antiparallel_fraction": float(np.mean(cos < 0))}


def _symbol(site) -> str:
    """Element of a site (the majority species of a disordered site)."""
    species = site.species
    return max(species.items(), key=lambda kv: kv[1])[0].symbol


def _magnetic_indices(structure, min_moment: float) -> np.ndarray:
    if "magmom" in structure.site_properties:
        idx = np.flatnonzero(np.linalg.norm(_moment_vectors(structure), axis=1) > min_moment)
        if idx.size:
            return idx
    return np.array([i for i, s in enumerate(structure)
                     if _symbol(s) in MAGNETIC_ELEMENTS], dtype=int)


def magnetic_geometry(structure, *, min_moment: float = 0.1, r_max: float = 7.0,
                      bond_max: float = 3.0, shell_tol: float = 0.1, name: str = "") -> dict:
    """Magnetic-ion distances and M-X-M angles of a structure.

    Magnetic ions are the sites with a moment above ``min_moment`` (structures from mcifs)
    or, without moments, the d- and f-elements of :data:`MAGNETIC_ELEMENTS`.

    Returns
    -------
    dict
        ``d_mm1`` / ``d_mm2`` (A): first and second M-M neighbour-shell distances (shells
        closer than ``shell_tol`` merged; NaN if none within ``r_max``); ``z_mm1``: number of
        first-shell M neighbours per M; ``angle_mxm`` (deg): mean M-X-M angle over ligands X
        within ``bond_max`` of both ions of a first-shell pair (NaN: no bridge);
        ``d_mx`` (A): mean M-X bond length of those bridges; ``x_magnetic``: fraction of
        sites that are magnetic.

    Raises
    ------
    ValueError
        If the structure has no magnetic ion (the message names ``name``).
    """
    idx = _magnetic_indices(structure, min_moment)
    if idx.size == 0:
        raise ValueError(f"{name or structure.composition.reduced_formula}: the structure has "
                         "no magnetic ion (no moment and no d/f element)")
    mag_set = set(idx.tolist())
    shell1, shell2, angles, bonds, z1 = [], [], [], [], []
    sample = idx[: min(idx.size, 8)]  # symmetry-equivalent ions repeat; 8 is plenty
    for i in sample:
        neigh = structure.get_neighbors(structure[i], r_max)
        dm = sorted(n.nn_distance for n in neigh if n.index in mag_set)
        if not dm:
            continue
        d1 = dm[0]
        shell1.append(d1)
        z1.append(sum(d <= d1 + shell_tol for d in dm))
        rest = [d for d in dm if d > d1 + shell_tol]
        if rest:
            shell2.append(rest[0])
        ligands = [n for n in neigh
                   if _symbol(n) in ANION_SPECIES and n.nn_distance <= bond_max]
        firsts = [n for n in neigh if n.index in mag_set and n.nn_distance <= d1 + shell_tol]
        ci = structure[i].coords
        for mj in firsts:
            for x in ligands:
                dxj = float(np.linalg.norm(x.coords - mj.coords))
                if dxj > bond_max:
                    continue
                v1, v2 = ci - x.coords, mj.coords - x.coords
                n12 = float(np.linalg.norm(v1) * np.linalg.norm(v2))
                if n12 < 1e-6:  # a ligand on a magnetic site (disordered / partial site)
                    continue
                c = float(v1 @ v2 / n12)
                angles.append(float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))))
                bonds.append(0.5 * (x.nn_distance + dxj))

    def mean(v):
        return float(np.mean(v)) if v else float("nan")

    return {"d_mm1": mean(shell1), "d_mm2": mean(shell2), "z_mm1": mean(z1),
            "angle_mxm": mean(angles), "d_mx": mean(bonds),
            "x_magnetic": idx.size / len(structure)}


def magndata_table(mcif_dir: str | Path, summary: pd.DataFrame | None = None, *,
                   progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels and geometry of every ``<id>.mcif`` in ``mcif_dir``.

    Parameters
    ----------
    mcif_dir : path
        Folder of MAGNDATA mcifs named by their MAGNDATA id.
    summary : DataFrame, optional
        The MAGNDATA summary (``magndata_id``, ``transition_temperature_K``, ...); its
        transition temperature is joined.

    Returns
    -------
    table : DataFrame
        Indexed by ``magndata_id``: ``formula`` (reduced), ``magnetic_elements``, the
        :func:`order_from_moments` and :func:`magnetic_geometry` columns and, with
        ``summary``, ``transition_temperature_K``.
    skipped : DataFrame
        ``magndata_id``, ``reason`` of the files that could not be used.
    """
    rows, skipped = [], []
    files = sorted(Path(mcif_dir).glob("*.mcif"))
    if not files:
        raise FileNotFoundError(f"{mcif_dir}: no *.mcif files")
    for k, path in enumerate(files):
        mid = path.name[: -len(".mcif")]
        try:
            s = read_mcif(path)
            lab = order_from_moments(_moment_vectors(s))
            geo = magnetic_geometry(s, name=str(path))
        except (MCIFError, ValueError) as err:
            skipped.append({"magndata_id": mid, "reason": str(err)})
            continue
        mags = sorted({_symbol(s[i]) for i in _magnetic_indices(s, 0.1)})
        rows.append({"magndata_id": mid, "formula": s.composition.reduced_formula,
                     "magnetic_elements": " ".join(mags), **lab, **geo})
        if progress and k % 200 == 0:
            print(f"{k}/{len(files)}", flush=True)
    table = pd.DataFrame(rows).set_index("magndata_id")
    if summary is not None:
        t = summary.set_index(summary["magndata_id"].astype(str))["transition_temperature_K"]
        table["transition_temperature_K"] = pd.to_numeric(t.reindex(table.index),
                                                          errors="coerce")
    return table, pd.DataFrame(skipped, columns=["magndata_id", "reason"])
