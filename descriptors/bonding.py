"""Bonding featurizers with units, from a pymatgen ``Structure`` or a LOBSTER run.

* :class:`StructureBonding`: CrystalNN coordination numbers, centre-ligand bond lengths and
  their distortion, centre-ligand-centre (B-X-B') angles, bond-valence sums and the global
  instability index, optional bond-length statistics per element pair.
* :class:`HarrisonBondIntegrals`: Harrison's universal tight-binding bond integrals summed
  over the nearest centre-ligand and centre-centre shells (eV).
* :class:`ChemEnvFeatures`: ChemEnv coordination environment and continuous symmetry
  measure of the centre sites (slower; optional).
* :class:`LobsterBonding`: ICOHP statistics per bond type, Mulliken/Loewdin charges and
  Madelung energies of a LOBSTER calculation directory (``pymatgen.io.lobster``).

"Centre" and "ligand" are element roles: by default the ligands are the anions and the
centres the cations with CrystalNN coordination <= 6 (the B sites of a perovskite).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pymatgen.analysis.bond_valence import calculate_bv_sum
from pymatgen.core import Structure

from descriptors import _harrison as harrison
from descriptors._lobster import (
    element_of,
    find_lobster_file,
    read_bonds,
    read_charges,
    read_madelung,
)
from descriptors._structure import analyse, bridging_angles, stats
from descriptors.base import UnitFeaturizer, naming_errors

__all__ = ["ChemEnvFeatures", "HarrisonBondIntegrals", "LobsterBonding", "StructureBonding"]

_CITE_CRYSTALNN = (
    "@article{pan_crystalnn_2021, title={Benchmarking Coordination Number Prediction "
    "Algorithms on Inorganic Crystal Structures}, volume={60}, DOI={10.1021/acs.inorgchem.0c02996},"
    " journal={Inorganic Chemistry}, author={Pan, Hillary and others}, year={2021}, "
    "pages={1590--1603}}"
)
_CITE_BV = (
    "@article{okeeffe_brese_1991, title={Atom sizes and bond lengths in molecules and "
    "crystals}, volume={113}, DOI={10.1021/ja00009a002}, journal={Journal of the American "
    "Chemical Society}, author={O'Keeffe, M. and Brese, N. E.}, year={1991}, "
    "pages={3226--3229}}"
)
_CITE_GII = (
    "@article{salinas_gii_1992, title={Bond valence and the global instability index}, "
    "volume={100}, DOI={10.1016/0022-4596(92)90094-C}, journal={Journal of Solid State "
    "Chemistry}, author={Salinas-Sanchez, A. and others}, year={1992}, pages={201--211}}"
)
_CITE_HARRISON = (
    "@book{harrison_1980, title={Electronic Structure and the Properties of Solids}, "
    "author={Harrison, Walter A.}, publisher={W. H. Freeman}, address={San Francisco}, "
    "year={1980}}"
)
_CITE_HARRISON_D = (
    "@article{harrison_froyen_1980, title={Universal linear-combination-of-atomic-orbitals "
    "parameters for d-state solids}, volume={21}, DOI={10.1103/PhysRevB.21.3214}, "
    "journal={Physical Review B}, author={Harrison, W. A. and Froyen, S.}, year={1980}, "
    "pages={3214--3221}}"
)
_CITE_CHEMENV = (
    "@article{waroquiers_chemenv_2020, title={ChemEnv: a fast and robust coordination "
    "environment identification tool}, volume={76}, DOI={10.1107/S2052520620007994}, "
    "journal={Acta Crystallographica B}, author={Waroquiers, David and others}, year={2020}, "
    "pages={683--695}}"
)
_CITE_LOBSTER = (
    "@article{nelson_lobster_2020, title={LOBSTER: Local orbital projections, atomic charges, "
    "and chemical-bonding analysis from projector-augmented-wave-based density-functional "
    "theory}, volume={41}, DOI={10.1002/jcc.26353}, journal={Journal of Computational "
    "Chemistry}, author={Nelson, Ryky and others}, year={2020}, pages={1931--1940}}"
)
_CITE_LOBSTERPY = (
    "@article{naik_lobsterpy_2024, title={LobsterPy: A package to automatically analyze "
    "LOBSTER runs}, volume={9}, DOI={10.21105/joss.06286}, journal={Journal of Open Source "
    "Software}, author={Naik, Aakash A. and others}, year={2024}, pages={6286}}"
)
_IMPLEMENTORS = ["sisso-lite developers (pymatgen analysis underneath)"]


def _pair_label(pair: Sequence[str]) -> str:
    return "-".join(pair)


class StructureBonding(UnitFeaturizer):
    """Coordination, bond lengths, bridging angles and bond valences of a structure.

    Parameters
    ----------
    center, ligand
        Element(s) of the centre and ligand sites (see module docstring for defaults).
    pairs
        Extra element pairs, e.g. ``[("Ti", "O")]``, for CrystalNN bond-length statistics.
    bv_cutoff
        Neighbour radius (Angstrom) for bond-valence sums (pymatgen ``calculate_bv_sum``,
        O'Keeffe-Brese element parameters).

    Notes
    -----
    Features (units): ``cn_mean`` (all sites) and ``cn_center`` (CrystalNN, "1");
    ``bond_center_ligand_{mean,min,max,std}`` (Angstrom); ``bond_distortion_center``
    (Baur's index mean |d - <d>|/<d> of each centre, "1");
    ``angle_center_ligand_center_{mean,min,max,std}`` (deg); ``bvs_center``, ``bvs_ligand``
    (mean bond-valence sums, valence units "1", ligands negative); ``gii`` (global instability index
    sqrt(<(BVS - V)^2>), "1"); per pair ``bond_<A>-<B>_{mean,min,max,std}`` (Angstrom).
    """

    def __init__(
        self,
        center: str | Sequence[str] | None = None,
        ligand: str | Sequence[str] | None = None,
        pairs: Sequence[tuple[str, str]] = (),
        bv_cutoff: float = 4.0,
    ) -> None:
        super().__init__()
        self.center = center
        self.ligand = ligand
        self.pairs = [tuple(p) for p in pairs]
        self.bv_cutoff = bv_cutoff

    def featurize(self, structure: Structure) -> list[float]:
        """Bonding features of one structure."""
        with naming_errors(structure):
            bonded = analyse(structure, self.center, self.ligand)
            cn_all = [len(n) for n in bonded.neighbors]
            lengths, distortion = [], []
            for i in bonded.center_idx:
                d = np.array([dist for _, dist in bonded.bonds(i, bonded.ligand)])
                if d.size:
                    lengths.extend(d)
                    distortion.append(float(np.mean(np.abs(d - d.mean()) / d.mean())))
            if not lengths:
                raise ValueError("no centre-ligand bond found by CrystalNN")
            s = bonded.structure
            bvs = []
            for site in s:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    bvs.append(calculate_bv_sum(site, s.get_neighbors(site, self.bv_cutoff)))
            bvs_arr = np.asarray(bvs)
            gii = float(np.sqrt(np.mean((bvs_arr - np.asarray(bonded.valences)) ** 2)))
            out = [
                float(np.mean(cn_all)),
                float(np.mean([cn_all[i] for i in bonded.center_idx])),
                *stats(lengths),
                float(np.mean(distortion)),
                *stats(bridging_angles(bonded)),
                float(bvs_arr[bonded.center_idx].mean()),
                float(bvs_arr[bonded.ligand_idx].mean()),
                gii,
            ]
            symbols = [site.specie.symbol for site in s]
            for a, b in self.pairs:
                if a not in symbols or b not in symbols:
                    raise ValueError(f"structure has no {a}-{b} pair (requested pair)")
                pair_lengths = [
                    dist
                    for i, el in enumerate(symbols)
                    if el == a
                    for _, dist in bonded.bonds(i, (b,))
                ]
                out.extend(stats(pair_lengths))
            return out

    def feature_labels(self) -> list[str]:
        labels = ["cn_mean", "cn_center"]
        labels += [f"bond_center_ligand_{s}" for s in ("mean", "min", "max", "std")]
        labels += ["bond_distortion_center"]
        labels += [f"angle_center_ligand_center_{s}" for s in ("mean", "min", "max", "std")]
        labels += ["bvs_center", "bvs_ligand", "gii"]
        for pair in self.pairs:
            labels += [f"bond_{_pair_label(pair)}_{s}" for s in ("mean", "min", "max", "std")]
        return labels

    def feature_units(self) -> list[str]:
        units = ["1", "1"] + ["Angstrom"] * 4 + ["1"] + ["deg"] * 4 + ["1"] * 3
        return units + ["Angstrom"] * 4 * len(self.pairs)

    def citations(self) -> list[str]:
        return [_CITE_CRYSTALNN, _CITE_BV, _CITE_GII]

    def implementors(self) -> list[str]:
        return list(_IMPLEMENTORS)


_HARRISON_LIGAND = ("n", "d", *harrison.SP_INTEGRALS, *harrison.LD_INTEGRALS)
_HARRISON_CENTER = ("n", "d", *harrison.DD_INTEGRALS)


class HarrisonBondIntegrals(UnitFeaturizer):
    """Harrison's universal tight-binding bond integrals summed per neighbour shell.

    For every centre site, the centre-ligand shell (the ligands CrystalNN bonds to it) and
    the nearest centre-centre shell (centres within ``(1 + shell_tol)`` times the shortest
    centre-centre distance, up to ``cutoff``) are found; each integral is summed over the
    shell and the sums are averaged over centres.

    ``V_ss_sigma, V_sp_sigma, V_pp_sigma, V_pp_pi = eta hbar^2/(m d^2)`` and ``V_sd_sigma,
    V_pd_sigma, V_pd_pi = eta hbar^2 r_d^(3/2)/(m d^(7/2))`` (centre d state, ligand s/p state)
    for the ligand shell; ``V_dd_sigma, V_dd_pi, V_dd_delta = eta hbar^2 (r_d r_d')^(3/2)/(m
    d^5)`` for the centre shell; Harrison's 1980 coefficients and d-state radii
    (:mod:`descriptors._harrison`). d integrals are ``nan`` for centres without tabulated
    ``r_d`` (non-transition metals, Zn/Cd/Hg, f elements).

    Features: ``<shell>_n`` (count, "1"), ``<shell>_d`` (mean distance, Angstrom) and
    ``<shell>_V_<integral>`` (eV) with shell ``ligand`` or ``center``. Integrals of one
    family (sp, ld, dd) differ only by eta, hence are proportional: use one per family as
    SISSO primary features.
    """

    def __init__(
        self,
        center: str | Sequence[str] | None = None,
        ligand: str | Sequence[str] | None = None,
        shell_tol: float = 0.1,
        cutoff: float = 6.0,
    ) -> None:
        super().__init__()
        self.center = center
        self.ligand = ligand
        self.shell_tol = shell_tol
        self.cutoff = cutoff

    def _shell(
        self, structure: Structure, i: int, elements: tuple[str, ...]
    ) -> tuple[np.ndarray, list[str]]:
        """Distances and elements of the nearest shell of ``elements`` around site ``i``."""
        found = [
            (n.nn_distance, n.specie.symbol)
            for n in structure.get_neighbors(structure[i], self.cutoff)
            if n.specie.symbol in elements
        ]
        if not found:
            return np.array([]), []
        d_min = min(d for d, _ in found)
        shell = [(d, el) for d, el in found if d <= d_min * (1 + self.shell_tol)]
        return np.array([d for d, _ in shell]), [el for _, el in shell]

    def featurize(self, structure: Structure) -> list[float]:
        """Shell-summed Harrison integrals of one structure."""
        with naming_errors(structure):
            bonded = analyse(structure, self.center, self.ligand)
            s = bonded.structure
            rows_l, rows_c = [], []
            for i in bonded.center_idx:
                rd = harrison.r_d(s[i].specie.symbol)
                d = np.array([dist for _, dist in bonded.bonds(i, bonded.ligand)])
                if d.size == 0:
                    raise ValueError(f"CrystalNN found no ligand bonded to site {i}")
                values = {**harrison.sp_integrals(d), **harrison.ld_integrals(d, rd)}
                rows_l.append([d.size, d.mean(), *(values[k].sum() for k in _HARRISON_LIGAND[2:])])
                dc, partners = self._shell(s, i, bonded.center)
                if dc.size == 0:
                    rows_c.append([0.0] + [np.nan] * (len(_HARRISON_CENTER) - 1))
                    continue
                # nearest-shell centres may be another element (B'): use each one's r_d
                rd2 = np.array([harrison.r_d(el) for el in partners])
                values = harrison.dd_integrals(dc, rd, rd2)
                sums = [values[k].sum() for k in _HARRISON_CENTER[2:]]
                rows_c.append([dc.size, dc.mean(), *sums])
            return [float(v) for v in np.mean(rows_l, axis=0)] + [
                float(v) for v in np.mean(rows_c, axis=0)
            ]

    def feature_labels(self) -> list[str]:
        def names(prefix: str, keys: tuple[str, ...]) -> list[str]:
            return [f"{prefix}_{k}" if k in ("n", "d") else f"{prefix}_V_{k}" for k in keys]

        return names("ligand", _HARRISON_LIGAND) + names("center", _HARRISON_CENTER)

    def feature_units(self) -> list[str]:
        units = []
        for keys in (_HARRISON_LIGAND, _HARRISON_CENTER):
            units += ["1", "Angstrom"] + ["eV"] * (len(keys) - 2)
        return units

    def citations(self) -> list[str]:
        return [_CITE_HARRISON, _CITE_HARRISON_D]

    def implementors(self) -> list[str]:
        return list(_IMPLEMENTORS)


class ChemEnvFeatures(UnitFeaturizer):
    """ChemEnv coordination environment of the centre sites (slow path; optional).

    Uses pymatgen's ``LocalGeometryFinder`` with the ``SimplestChemenvStrategy``
    (``distance_cutoff``, ``angle_cutoff``) on the centre sites only. Seconds per small
    structure; much slower for large cells, so it is not part of the default set.

    Features: ``chemenv_cn`` (coordination number of the environment, "1"),
    ``chemenv_csm_mean`` / ``chemenv_csm_max`` (continuous symmetry measure of the best
    environment, "1": 0 is ideal) and ``chemenv_label`` (most frequent environment symbol,
    e.g. ``"O:6"``; a string, unit ``"category"``: drop it before SISSO).
    """

    def __init__(
        self,
        center: str | Sequence[str] | None = None,
        ligand: str | Sequence[str] | None = None,
        distance_cutoff: float = 1.4,
        angle_cutoff: float = 0.3,
    ) -> None:
        super().__init__()
        self.center = center
        self.ligand = ligand
        self.distance_cutoff = distance_cutoff
        self.angle_cutoff = angle_cutoff

    def featurize(self, structure: Structure) -> list:
        """ChemEnv environment of the centre sites of one structure."""
        from pymatgen.analysis.chemenv.coordination_environments.chemenv_strategies import (
            SimplestChemenvStrategy,
        )
        from pymatgen.analysis.chemenv.coordination_environments.coordination_geometry_finder import (  # noqa: E501
            LocalGeometryFinder,
        )
        from pymatgen.analysis.chemenv.coordination_environments.structure_environments import (
            LightStructureEnvironments,
        )

        with naming_errors(structure):
            bonded = analyse(structure, self.center, self.ligand)
            finder = LocalGeometryFinder()
            finder.setup_structure(structure)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                envs = finder.compute_structure_environments(
                    only_indices=bonded.center_idx, maximum_distance_factor=self.distance_cutoff
                )
                strategy = SimplestChemenvStrategy(
                    distance_cutoff=self.distance_cutoff, angle_cutoff=self.angle_cutoff
                )
                light = LightStructureEnvironments.from_structure_environments(
                    strategy=strategy, structure_environments=envs
                )
            symbols, csms = [], []
            for i in bonded.center_idx:
                best = (light.coordination_environments[i] or [None])[0]
                if best is None:
                    raise ValueError(f"ChemEnv found no environment for site {i}")
                symbols.append(best["ce_symbol"])
                csms.append(float(best["csm"]))
            label = max(set(symbols), key=symbols.count)
            cn = float(label.split(":")[1]) if ":" in label else np.nan
            return [cn, float(np.mean(csms)), float(np.max(csms)), label]

    def feature_labels(self) -> list[str]:
        return ["chemenv_cn", "chemenv_csm_mean", "chemenv_csm_max", "chemenv_label"]

    def feature_units(self) -> list[str]:
        return ["1", "1", "1", "category"]

    def citations(self) -> list[str]:
        return [_CITE_CHEMENV]

    def implementors(self) -> list[str]:
        return list(_IMPLEMENTORS)


_ICOHP_STATS = ("icohp_mean", "icohp_min", "icohp_sum_per_fu", "n_bonds_per_fu",
                "antibonding_share", "length_mean")  # fmt: skip
_ICOHP_UNITS = ("eV", "eV", "eV", "1", "1", "Angstrom")


class LobsterBonding(UnitFeaturizer):
    """ICOHP statistics, atomic charges and Madelung energies of a LOBSTER run.

    Input is a calculation directory holding ``ICOHPLIST.lobster`` and ``CHARGE.lobster``
    (``.gz`` allowed) and, with ``include_madelung=True``, ``MadelungEnergies.lobster``.
    Files are read with ``pymatgen.io.lobster``; spin channels are summed.

    Bonds whose ICOHP is at most ``icohp_fraction`` times the most negative ICOHP of the
    run are "relevant" (LobsterPy's strength cut; 0.1 reproduces its BaTiO3 reference).
    Groups: ``all`` relevant bonds, ``cation_anion`` (Mulliken charges of opposite sign)
    and each requested element pair ``bond_types`` (e.g. ``[("Ti", "O")]``, order free).

    Features per group (units): ``icohp_mean``, ``icohp_min`` (eV per bond),
    ``icohp_sum_per_fu`` (eV per formula unit), ``n_bonds_per_fu`` ("1"),
    ``antibonding_share`` = sum of positive orbital-pair ICOHPs / sum of their absolute
    values ("1"; whole-bond values without orbital resolution), ``length_mean``
    (Angstrom). Charges (elementary charges, "e"): Mulliken and Loewdin max, min, mean
    absolute value, and the mean charge of each element in ``charge_elements``. Madelung
    energies per atom (eV) from Mulliken and Loewdin charges.

    Raises
    ------
    ValueError
        Naming the directory: missing file, requested bond type or element absent.
    """

    def __init__(
        self,
        bond_types: Sequence[tuple[str, str]] = (),
        charge_elements: Sequence[str] = (),
        include_madelung: bool = False,
        icohp_fraction: float = 0.1,
    ) -> None:
        super().__init__()
        self.bond_types = [tuple(p) for p in bond_types]
        self.charge_elements = list(charge_elements)
        self.include_madelung = include_madelung
        self.icohp_fraction = icohp_fraction

    def featurize(self, directory: str | os.PathLike) -> list[float]:
        """Features of the LOBSTER run in ``directory``."""
        with naming_errors(Path(directory)):
            path = Path(directory)
            bonds = read_bonds(find_lobster_file(path, "ICOHPLIST.lobster"))
            atoms, mulliken, loewdin = read_charges(find_lobster_file(path, "CHARGE.lobster"))
            elements = [element_of(a) for a in atoms]
            n_fu = _formula_units(elements)
            charge_of = dict(zip(atoms, mulliken, strict=True))
            relevant = bonds.icohp <= self.icohp_fraction * bonds.icohp.min()
            pairs = [
                frozenset((element_of(a), element_of(b)))
                for a, b in zip(bonds.atom1, bonds.atom2, strict=True)
            ]
            groups = [relevant]
            groups.append(
                relevant
                & np.array(
                    [charge_of[a] * charge_of[b] < 0 for a, b in zip(bonds.atom1, bonds.atom2,
                                                                    strict=True)]
                )
            )  # fmt: skip
            for pair in self.bond_types:
                wanted = frozenset(pair)
                if not wanted <= set(elements):
                    raise ValueError(f"no {'-'.join(pair)} bond type: elements are {set(elements)}")
                groups.append(relevant & np.array([p == wanted for p in pairs]))
            out: list[float] = []
            for mask in groups:
                out.extend(_icohp_stats(bonds, mask, n_fu))
            for charges in (mulliken, loewdin):
                out.extend([charges.max(), charges.min(), np.abs(charges).mean()])
            for el in self.charge_elements:
                if el not in elements:
                    raise ValueError(f"no {el} atom in CHARGE.lobster")
                chosen = [i for i, e in enumerate(elements) if e == el]
                out.extend([mulliken[chosen].mean(), loewdin[chosen].mean()])
            if self.include_madelung:
                e_mull, e_loew = read_madelung(find_lobster_file(path, "MadelungEnergies.lobster"))
                out.extend([e_mull / len(atoms), e_loew / len(atoms)])
            return [float(v) for v in out]

    def _group_names(self) -> list[str]:
        return ["all", "cation_anion"] + [f"{a}-{b}" for a, b in self.bond_types]

    def feature_labels(self) -> list[str]:
        labels = [f"{stat}_{g}" for g in self._group_names() for stat in _ICOHP_STATS]
        for scheme in ("mulliken", "loewdin"):
            labels += [f"{scheme}_charge_max", f"{scheme}_charge_min", f"{scheme}_charge_absmean"]
        for el in self.charge_elements:
            labels += [f"mulliken_charge_{el}", f"loewdin_charge_{el}"]
        if self.include_madelung:
            labels += ["madelung_mulliken_per_atom", "madelung_loewdin_per_atom"]
        return labels

    def feature_units(self) -> list[str]:
        units = list(_ICOHP_UNITS) * len(self._group_names())
        units += ["e"] * (6 + 2 * len(self.charge_elements))
        return units + ["eV", "eV"] * self.include_madelung

    def citations(self) -> list[str]:
        return [_CITE_LOBSTER, _CITE_LOBSTERPY]

    def implementors(self) -> list[str]:
        return ["sisso-lite developers (pymatgen.io.lobster parsers)"]


def _formula_units(elements: Sequence[str]) -> int:
    """Number of formula units in a cell with these atoms."""
    counts = [elements.count(el) for el in set(elements)]
    return int(np.gcd.reduce(counts))


def _icohp_stats(bonds, mask: np.ndarray, n_fu: int) -> list[float]:
    if not mask.any():
        return [np.nan, np.nan, 0.0, 0.0, np.nan, np.nan]
    icohp, num = bonds.icohp[mask], bonds.num[mask]
    bonding, anti = bonds.bonding[mask], bonds.antibonding[mask]
    total = np.sum(num * (anti - bonding))
    return [
        float(np.average(icohp, weights=num)),
        float(icohp.min()),
        float(np.sum(num * icohp) / n_fu),
        float(num.sum() / n_fu),
        float(np.sum(num * anti) / total) if total > 0 else np.nan,
        float(np.average(bonds.length[mask], weights=num)),
    ]
