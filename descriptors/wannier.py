"""Wannier transfer-integral descriptors of magnetic sites (onsite energies, d-d hoppings).

Following Guo, Morrow, van den Brink and Janson, J. Mater. Chem. A (2024),
doi:10.1039/D3TA05679A, onsite energies and d-d transfer integrals t_ij(R) of the magnetic
atoms, taken from a Wannier90 tight-binding Hamiltonian, are turned into primary features.

Sign convention of the superexchange estimate (Anderson, Phys. Rev. 115, 2 (1959)):
``J_AF = 4 * sum_ab |t_ab|^2 / U`` per bond, **positive = antiferromagnetic**. TB2J uses
``E = -sum J S_i.S_j`` (negative = AFM), so J_AF corresponds to ``-J_TB2J`` up to the
normalisation of the spins.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from descriptors.base import UnitFeaturizer, naming_errors
from descriptors.wannier_io import read_centres_xyz, read_hr_dat, read_win

T2G = ("dxz", "dyz", "dxy")
EG = ("dz2", "dx2-y2")
_D5 = ("dz2", "dxz", "dyz", "dx2-y2", "dxy")
_SPIN_RE = re.compile(r"^(?P<pre>.*[._-])(?P<spin>up|dn|down)(?P<post>_hr\.dat(?:\.gz)?)$")
_PARTNER = {"up": ("dn", "down"), "dn": ("up",), "down": ("up",)}


def _element(label: str) -> str:
    m = re.match(r"[A-Z][a-z]?", label)
    return m.group(0) if m else label


def _seed_file(hr_path: Path, suffix: str) -> Path | None:
    """``seed_hr.dat[.gz]`` -> existing ``seed<suffix>[.gz]`` or None."""
    name = re.sub(r"_hr\.dat(\.gz)?$", "", hr_path.name)
    for cand in (hr_path.with_name(name + suffix), hr_path.with_name(name + suffix + ".gz")):
        if cand.is_file():
            return cand
    return None


def spin_partner(hr_path: str | Path) -> Path | None:
    """Return the other spin channel of ``*_up_hr.dat`` / ``*_dn_hr.dat`` (or ``_down``)."""
    hr_path = Path(hr_path)
    m = _SPIN_RE.match(hr_path.name)
    if not m:
        return None
    for other in _PARTNER[m.group("spin")]:
        for post in ("_hr.dat", "_hr.dat.gz"):
            cand = hr_path.with_name(m.group("pre") + other + post)
            if cand.is_file():
                return cand
    return None


def _nearest_image(point: np.ndarray, sites: np.ndarray,
                   lattice: np.ndarray | None) -> tuple[int, np.ndarray, float]:
    """Index of the site nearest to ``point``, lattice offset of that image, distance."""
    if lattice is None:
        d = np.linalg.norm(sites - point, axis=1)
        i = int(np.argmin(d))
        return i, np.zeros(3, dtype=int), float(d[i])
    frac = (point - sites) @ np.linalg.inv(lattice)
    base = np.rint(frac)
    shifts = np.array([(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)])
    best = (0, np.zeros(3, dtype=int), np.inf)
    for i in range(len(sites)):
        cands = base[i] + shifts
        dist = np.linalg.norm(point - sites[i] - cands @ lattice, axis=1)
        k = int(np.argmin(dist))
        if dist[k] < best[2]:
            best = (i, cands[k].astype(int), float(dist[k]))
    return best


@dataclass
class WannierHamiltonian:
    """Tight-binding Hamiltonian in a Wannier basis, with WFs assigned to atoms.

    Attributes
    ----------
    h : numpy.ndarray
        H_mn(R) = <w_m0|H|w_nR> in eV (degeneracy already divided out), complex, shape
        (nspin, nR, nw, nw); nspin = 2 for an up/down pair (index 0 = up).
    r_vectors : numpy.ndarray
        Integer R vectors (nR, 3) in units of the lattice vectors.
    lattice : numpy.ndarray or None
        Lattice vectors as rows, Angstrom.
    symbols, positions : list of str, numpy.ndarray
        Atom labels and Cartesian positions (Angstrom).
    wf_atom : numpy.ndarray
        Atom index of each Wannier function (-1 = unassigned).
    wf_offset : numpy.ndarray
        Lattice vector (nw, 3) of the atom image each WF sits on.
    wf_orbital : list of str or None
        Orbital name of each WF in Wannier90 naming (``dz2``, ``dxz``...), None if unknown.
    """

    h: np.ndarray
    r_vectors: np.ndarray
    lattice: np.ndarray | None = None
    symbols: list[str] = field(default_factory=list)
    positions: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    wf_atom: np.ndarray | None = None
    wf_offset: np.ndarray | None = None
    wf_orbital: list[str | None] | None = None
    source: str = ""

    def __post_init__(self) -> None:
        self.h = np.asarray(self.h, dtype=complex)
        if self.h.ndim == 3:
            self.h = self.h[None]
        if self.h.ndim != 4 or self.h.shape[2] != self.h.shape[3]:
            raise ValueError(f"h must have shape (nspin, nR, nw, nw), got {self.h.shape}")
        self.r_vectors = np.asarray(self.r_vectors, dtype=int).reshape(-1, 3)
        if len(self.r_vectors) != self.h.shape[1]:
            raise ValueError(f"{len(self.r_vectors)} R vectors for {self.h.shape[1]} H(R) blocks")
        self._r_index = {tuple(r): i for i, r in enumerate(self.r_vectors.tolist())}
        if (0, 0, 0) not in self._r_index:
            raise ValueError(f"{self.source or 'Hamiltonian'}: no R = (0, 0, 0) block")
        nw = self.num_wann
        if self.wf_offset is None:
            self.wf_offset = np.zeros((nw, 3), dtype=int)
        if self.wf_orbital is None:
            self.wf_orbital = [None] * nw

    def __repr__(self) -> str:
        return (f"WannierHamiltonian(source={self.source!r}, nspin={self.nspin}, "
                f"num_wann={self.num_wann}, nR={len(self.r_vectors)})")

    @property
    def num_wann(self) -> int:
        """Number of Wannier functions."""
        return self.h.shape[-1]

    @property
    def nspin(self) -> int:
        """1 (single channel) or 2 (up, down)."""
        return self.h.shape[0]

    @classmethod
    def from_files(cls, hr: str | Path, hr_dn: str | Path | None = None,
                   win: str | Path | None = None, centres: str | Path | None = None,
                   lattice: np.ndarray | None = None, max_assign_distance: float = 1.5,
                   find_partner: bool = True) -> WannierHamiltonian:
        """Build from ``seed_hr.dat`` and, if found beside it, ``seed.win``/``seed_centres.xyz``.

        Parameters
        ----------
        hr : path
            ``seedname_hr.dat`` (plain or ``.gz``).
        hr_dn : path, optional
            Second spin channel. By default, for ``*_up_hr.dat`` or ``*_dn_hr.dat`` /
            ``*_down_hr.dat`` the partner file is looked up; channel 0 is always "up".
        win, centres : path, optional
            Override the auto-detected ``seed.win`` / ``seed_centres.xyz``.
        lattice : array (3, 3), optional
            Lattice vectors (rows, Angstrom) if no ``.win`` gives them.
        max_assign_distance : float
            A WF farther than this (Angstrom) from every atom is an error.
        find_partner : bool
            Look for the spin partner when ``hr_dn`` is None.
        """
        hr = Path(hr)
        if hr_dn is None and find_partner and spin_partner(hr) is not None:
            hr_dn = spin_partner(hr)
            if _SPIN_RE.match(hr.name).group("spin") != "up":  # given the down file
                hr, hr_dn = hr_dn, hr
        up = read_hr_dat(hr)
        h = up.h[None]
        if hr_dn is not None:
            dn = read_hr_dat(hr_dn)
            if dn.num_wann != up.num_wann:
                raise ValueError(f"{hr_dn}: num_wann = {dn.num_wann} but {hr} has {up.num_wann}")
            order = {tuple(r): i for i, r in enumerate(dn.r_vectors.tolist())}
            if set(order) != {tuple(r) for r in up.r_vectors.tolist()}:
                raise ValueError(f"{hr_dn}: R vectors differ from those of {hr}")
            h = np.stack([up.h, dn.h[[order[tuple(r)] for r in up.r_vectors.tolist()]]])
        win = win if win is not None else _seed_file(hr, ".win")
        centres = centres if centres is not None else _seed_file(hr, "_centres.xyz")
        wd = read_win(win) if win is not None else None
        cd = read_centres_xyz(centres, up.num_wann) if centres is not None else None
        if wd is not None and wd.num_wann is not None and wd.num_wann != up.num_wann:
            raise ValueError(f"{win}: num_wann = {wd.num_wann} but {hr} has {up.num_wann}")
        if lattice is None and wd is not None:
            lattice = wd.lattice
        lattice = None if lattice is None else np.asarray(lattice, dtype=float).reshape(3, 3)
        if wd is not None and wd.positions is not None and len(wd.positions):
            symbols, positions = wd.symbols, wd.positions
        elif cd is not None:
            symbols, positions = cd.symbols, cd.positions
        else:
            symbols, positions = [], np.zeros((0, 3))
        sites: np.ndarray | None = None
        orbitals: list[str | None] = [None] * up.num_wann
        if wd is not None and wd.projections is not None and len(wd.projections) == up.num_wann:
            sites = np.array([p[0] for p in wd.projections])
            orbitals = [p[1] for p in wd.projections]
        elif cd is not None:
            sites = cd.centres
        wf_atom = wf_offset = None
        if sites is not None and len(positions):
            wf_atom = np.empty(up.num_wann, dtype=int)
            wf_offset = np.zeros((up.num_wann, 3), dtype=int)
            for w, point in enumerate(sites):
                i, off, dist = _nearest_image(point, positions, lattice)
                if dist > max_assign_distance:
                    raise ValueError(f"{hr}: Wannier function {w + 1} lies {dist:.2f} Angstrom "
                                     f"from the nearest atom (> {max_assign_distance})")
                if cd is not None and sites is not cd.centres:  # atom from the projection,
                    _, off, dist = _nearest_image(cd.centres[w], positions[[i]], lattice)
                    if dist > max_assign_distance:  # image from the actual centre
                        raise ValueError(f"{cd.path}: centre of Wannier function {w + 1} lies "
                                         f"{dist:.2f} Angstrom from its projection atom")
                wf_atom[w], wf_offset[w] = i, off
            if all(o is None for o in orbitals):
                for i in set(wf_atom.tolist()):  # 5 WFs on one atom: Wannier90's d order
                    idx = np.flatnonzero(wf_atom == i)
                    if len(idx) == 5:
                        for w, name in zip(idx, _D5, strict=True):
                            orbitals[w] = name
        return cls(h=h, r_vectors=up.r_vectors, lattice=lattice, symbols=list(symbols),
                   positions=np.asarray(positions, dtype=float), wf_atom=wf_atom,
                   wf_offset=wf_offset, wf_orbital=orbitals, source=str(hr))

    def channel(self, spin: str = "average") -> np.ndarray:
        """H(R) of one channel: ``"up"``, ``"down"`` or ``"average"`` of both."""
        if spin == "average":
            return self.h.mean(axis=0)
        if spin == "up":
            return self.h[0]
        if spin in ("down", "dn"):
            if self.nspin < 2:
                raise ValueError(f"{self.source}: no spin-down channel")
            return self.h[1]
        raise ValueError(f"spin must be 'up', 'down' or 'average', got {spin!r}")

    def hermiticity_error(self) -> float:
        """max |H(R) - H(-R)^dagger| over R pairs present (eV); ~1e-6 for 6-decimal files."""
        err = 0.0
        for r, k in self._r_index.items():
            kk = self._r_index.get(tuple(-x for x in r))
            if kk is not None:
                err = max(err, float(np.abs(self.h[:, k] - np.conj(
                    np.swapaxes(self.h[:, kk], -1, -2))).max()))
        return err

    def atom_wfs(self, atom: int, orbitals: tuple[str, ...] | None = None) -> np.ndarray:
        """Indices of the WFs on ``atom`` (optionally only the named orbitals)."""
        if self.wf_atom is None:
            raise ValueError(f"{self.source}: Wannier functions are not assigned to atoms "
                             "(need seed.win or seed_centres.xyz)")
        idx = np.flatnonzero(self.wf_atom == atom)
        if orbitals is not None:
            idx = np.array([w for w in idx if self.wf_orbital[w] in orbitals], dtype=int)
        return idx

    def onsite(self, atom: int, spin: str = "average") -> np.ndarray:
        """R = 0 block of ``atom`` (eV)."""
        idx = self.atom_wfs(atom)
        return self.channel(spin)[self._r_index[(0, 0, 0)]][np.ix_(idx, idx)]

    def hopping(self, i: int, j: int, r_atom: tuple[int, int, int],
                spin: str = "average") -> np.ndarray:
        """Block t(i -> j + R_atom) between the WFs of atoms i and j (eV; 0 if outside R set).

        ``r_atom`` is the lattice vector between the atom images, so the WF-level R for the
        element (m, n) is ``r_atom + wf_offset[m] - wf_offset[n]``.
        """
        h = self.channel(spin)
        wi, wj = self.atom_wfs(i), self.atom_wfs(j)
        out = np.zeros((len(wi), len(wj)), dtype=complex)
        for a, m in enumerate(wi):
            for b, n in enumerate(wj):
                r = tuple(np.asarray(r_atom) + self.wf_offset[m] - self.wf_offset[n])
                k = self._r_index.get(r)
                if k is not None:
                    out[a, b] = h[k, m, n]
        return out

    def neighbour_shells(self, i: int, atoms: list[int], n_shells: int = 2,
                         tol: float = 0.02) -> list[list[tuple[int, tuple[int, int, int], float]]]:
        """Neighbours (j, R_atom, distance) of atom ``i`` among ``atoms``, grouped in shells.

        Only atom pairs whose R vector lies inside the Hamiltonian's R set are considered.
        Distances within ``tol`` (Angstrom) share a shell; shells are sorted by distance.
        """
        if self.lattice is None:
            raise ValueError(f"{self.source}: lattice unknown (need seed.win or lattice=)")
        cands = []
        for r in self.r_vectors.tolist():
            for j in atoms:
                d = self.positions[j] + np.asarray(r) @ self.lattice - self.positions[i]
                dist = float(np.linalg.norm(d))
                if dist > 1e-6:
                    cands.append((dist, j, tuple(r)))
        cands.sort()
        shells: list[list[tuple[int, tuple[int, int, int], float]]] = []
        last = -np.inf
        for dist, j, r in cands:
            if dist - last > tol:
                if len(shells) == n_shells:
                    break
                shells.append([])
                last = dist
            shells[-1].append((j, r, dist))
        return shells


def _sq_and_max(blocks: list[np.ndarray]) -> tuple[float, float]:
    """Per-bond average of sum |t|^2 and the maximum |t| over all bonds."""
    if not blocks or blocks[0].size == 0:
        return float("nan"), float("nan")
    return (float(np.mean([np.sum(np.abs(b) ** 2) for b in blocks])),
            float(max(np.abs(b).max() for b in blocks)))


class WannierHoppingFeatures(UnitFeaturizer):
    """Onsite energies and d-d transfer integrals of magnetic atoms from a Wannier90 model.

    Input of :meth:`featurize`: a path to ``seed_hr.dat`` (a ``*_up_hr.dat`` or ``*_dn_hr.dat``
    pulls in its partner; ``seed.win`` / ``seed_centres.xyz`` beside it assign WFs to atoms
    and orbitals), or a :class:`WannierHamiltonian`; and the magnetic element.

    Parameters
    ----------
    element : str, optional
        Default magnetic element (e.g. ``"Mn"``) when :meth:`featurize` gets none.
    u : float
        Hubbard U in eV of the superexchange estimate ``J_AF = 4 sum|t|^2 / U`` (> 0 = AFM).
    n_shells : int
        Number of magnetic-neighbour shells.
    spin : str
        ``"average"`` (mean of up and down, a proxy of the non-magnetic hoppings), ``"up"``
        or ``"down"``.
    reference_energy : float
        Subtracted from onsite energies (e.g. the Fermi level, eV).
    shell_tol : float
        Distances within this tolerance (Angstrom) form one shell.
    """

    def __init__(self, element: str | None = None, u: float = 4.0, n_shells: int = 2,
                 spin: str = "average", reference_energy: float = 0.0,
                 shell_tol: float = 0.02) -> None:
        super().__init__()
        if u <= 0:
            raise ValueError(f"U must be positive (eV), got {u}")
        if n_shells < 1:
            raise ValueError("n_shells must be >= 1")
        self.element, self.u, self.n_shells, self.spin = element, u, n_shells, spin
        self.reference_energy, self.shell_tol = reference_energy, shell_tol

    _ONSITE = [("onsite_d", "eV"), ("onsite_t2g", "eV"), ("onsite_eg", "eV"),
               ("crystal_field_10Dq", "eV"), ("exchange_splitting_d", "eV")]
    _SHELL = [("distance", "Angstrom"), ("n_neighbours", "1"), ("sum_t2", "eV^2"),
              ("sum_t2_t2g", "eV^2"), ("sum_t2_eg", "eV^2"), ("max_t", "eV"),
              ("max_t_t2g", "eV"), ("max_t_eg", "eV"), ("J_AF", "meV")]

    def _labels_units(self) -> list[tuple[str, str]]:
        out = [(f"w90_{name}", unit) for name, unit in self._ONSITE]
        for k in range(1, self.n_shells + 1):
            out += [(f"w90_shell{k}_{name}", unit) for name, unit in self._SHELL]
        if self.n_shells >= 2:
            out.append(("w90_J2_over_J1", "1"))
        return out

    def feature_labels(self) -> list[str]:
        """Feature names."""
        return [label for label, _ in self._labels_units()]

    def feature_units(self) -> list[str]:
        """Units: eV, eV^2, meV, Angstrom or "1"."""
        return [unit for _, unit in self._labels_units()]

    def featurize(self, wannier: str | Path | tuple | WannierHamiltonian,
                  element: str | None = None) -> list[float]:
        """Features of the ``element`` sites (averaged over all such sites in the cell).

        ``wannier`` is a ``seed_hr.dat`` path, an ``(up, down)`` pair of paths or a
        :class:`WannierHamiltonian`.
        """
        element = element or self.element
        if not element:
            raise ValueError("no magnetic element given")
        if isinstance(wannier, WannierHamiltonian):
            name: object = wannier.source or "WannierHamiltonian"
        elif isinstance(wannier, tuple | list):
            name = Path(wannier[0]) if wannier else "()"
        else:
            name = Path(wannier) if isinstance(wannier, str | os.PathLike) else repr(wannier)[:80]
        with naming_errors(name):
            return self._featurize(wannier, element)

    def _featurize(self, wannier: str | Path | tuple | WannierHamiltonian,
                   element: str | None) -> list[float]:
        if isinstance(wannier, WannierHamiltonian):
            ham = wannier
        elif isinstance(wannier, tuple | list):
            if len(wannier) != 2:
                raise ValueError("expected an (up, down) pair of hr.dat paths")
            ham = WannierHamiltonian.from_files(wannier[0], hr_dn=wannier[1])
        else:
            ham = WannierHamiltonian.from_files(wannier)
        if ham.wf_atom is None:
            raise ValueError(f"{ham.source}: Wannier functions are not assigned to atoms "
                             "(need seed.win or seed_centres.xyz beside the hr.dat)")
        sites = [i for i, s in enumerate(ham.symbols) if _element(s) == element]
        sites = [i for i in sites if len(ham.atom_wfs(i))]
        if not sites:
            raise ValueError(f"{ham.source}: no Wannier functions on {element} atoms")
        per_site = np.array([self._site_features(ham, i, sites) for i in sites])
        finite = np.isfinite(per_site)
        counts = finite.sum(axis=0)
        sums = np.where(finite, per_site, 0.0).sum(axis=0)
        return [float(s / c) if c else float("nan") for s, c in zip(sums, counts, strict=True)]

    def _site_features(self, ham: WannierHamiltonian, i: int, sites: list[int]) -> list[float]:
        nan = float("nan")
        wfs = ham.atom_wfs(i)
        names = [ham.wf_orbital[w] for w in wfs]
        t2g = [a for a, n in enumerate(names) if n in T2G]
        eg = [a for a, n in enumerate(names) if n in EG]
        diag = np.real(np.diag(ham.onsite(i, self.spin))) - self.reference_energy
        e_t2g = float(diag[t2g].mean()) if t2g else nan
        e_eg = float(diag[eg].mean()) if eg else nan
        split = nan
        if ham.nspin == 2:
            split = float(np.real(np.diag(ham.onsite(i, "down")) - np.diag(ham.onsite(i, "up")))
                          .mean())
        feats = [float(diag.mean()), e_t2g, e_eg, e_eg - e_t2g, split]
        j_vals = []
        shells = ham.neighbour_shells(i, sites, self.n_shells, self.shell_tol)
        for k in range(self.n_shells):
            if k >= len(shells):
                feats += [nan] * len(self._SHELL)
                j_vals.append(nan)
                continue
            blocks = [ham.hopping(i, j, r, self.spin) for j, r, _ in shells[k]]
            s_all, m_all = _sq_and_max(blocks)
            s_t, m_t = _sq_and_max([b[np.ix_(t2g, t2g)] for b in blocks]) if t2g else (nan, nan)
            s_e, m_e = _sq_and_max([b[np.ix_(eg, eg)] for b in blocks]) if eg else (nan, nan)
            j_af = 4.0 * s_all / self.u * 1000.0
            j_vals.append(j_af)
            feats += [shells[k][0][2], float(len(shells[k])), s_all, s_t, s_e, m_all, m_t, m_e,
                      j_af]
        if self.n_shells >= 2:
            feats.append(j_vals[1] / j_vals[0] if j_vals[0] > 0 else nan)
        return feats

    def citations(self) -> list[str]:
        """BibTeX entries."""
        return [
            "@article{Pizzi2020, author={Pizzi, G. and others}, title={Wannier90 as a community "
            "code: new features and applications}, journal={J. Phys.: Condens. Matter}, "
            "volume={32}, pages={165902}, year={2020}, doi={10.1088/1361-648X/ab51ff}}",
            "@article{Anderson1959, author={Anderson, P. W.}, title={New Approach to the Theory "
            "of Superexchange Interactions}, journal={Phys. Rev.}, volume={115}, pages={2}, "
            "year={1959}, doi={10.1103/PhysRev.115.2}}",
            "@article{Guo2024, author={Guo, S. and Morrow, R. and van den Brink, J. and "
            "Janson, O.}, journal={J. Mater. Chem. A}, year={2024}, doi={10.1039/D3TA05679A}}",
            "@article{He2021, author={He, X. and Helbig, N. and Verstraete, M. J. and Bousquet, "
            "E.}, title={TB2J: a python package for computing magnetic interaction parameters}, "
            "journal={Comput. Phys. Commun.}, volume={264}, pages={107938}, year={2021}, "
            "doi={10.1016/j.cpc.2021.107938}}",
        ]

    def implementors(self) -> list[str]:
        """Authors."""
        return ["sisso-lite developers"]
