"""WannierHamiltonian and WannierHoppingFeatures: synthetic models and real SrMnO3 data."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from descriptors.base import featurize_with_units
from descriptors.wannier import WannierHamiltonian, WannierHoppingFeatures, spin_partner
from descriptors.wannier_io import write_hr_dat

DATA = Path(__file__).parent / "data" / "wannier" / "SrMnO3"
HR_UP = DATA / "abinito_w90_up_hr.dat.gz"
HR_DN = DATA / "abinito_w90_down_hr.dat.gz"
A = 4.0  # synthetic simple-cubic lattice constant (Angstrom)
T2G_IDX, EG_IDX = [1, 2, 4], [0, 3]  # Wannier90 d order: dz2, dxz, dyz, dx2-y2, dxy


def _cubic_model(t1_t2g: float = 0.1, t1_eg: float = 0.2, t2: float = 0.03) -> tuple:
    """One Fe d shell per simple-cubic cell; diagonal hoppings to 1st and 2nd neighbours."""
    rs = [(a, b, c) for a in range(-2, 3) for b in range(-2, 3) for c in range(-2, 3)]
    h = np.zeros((len(rs), 5, 5), dtype=complex)
    for k, r in enumerate(rs):
        n2 = sum(x * x for x in r)
        if n2 == 0:
            h[k] = np.diag([2.0, 1.0, 1.0, 2.0, 1.0])
        elif n2 == 1:
            h[k][T2G_IDX, T2G_IDX] = -t1_t2g
            h[k][EG_IDX, EG_IDX] = -t1_eg
        elif n2 == 2 and max(abs(x) for x in r) == 1:
            h[k] = -t2 * np.eye(5)
    return np.array(rs), h


def _write_model(folder: Path, rs: np.ndarray, h: np.ndarray, centres: np.ndarray | None = None,
                 win: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_hr_dat(folder / "fe_hr.dat", rs, h)
    if win:
        (folder / "fe.win").write_text(
            f"num_wann = {h.shape[1]}\nbegin unit_cell_cart\n{A} 0 0\n0 {A} 0\n0 0 {A}\n"
            "end unit_cell_cart\nbegin atoms_cart\nFe 0 0 0\nend atoms_cart\n"
            "begin projections\nFe: d\nend projections\n")
    if centres is not None:
        rows = [f"X {x:.6f} {y:.6f} {z:.6f}" for x, y, z in centres] + ["Fe 0 0 0"]
        (folder / "fe_centres.xyz").write_text(f"{len(rows)}\ncentres\n" + "\n".join(rows) + "\n")
    return folder / "fe_hr.dat"


def _features(source, **kw) -> dict[str, float]:
    f = WannierHoppingFeatures(element=kw.pop("element", "Fe"), **kw)
    return dict(zip(f.feature_labels(), f.featurize(source), strict=True))


def test_labels_units_citations() -> None:
    f = WannierHoppingFeatures("Mn", n_shells=3)
    labels, units = f.feature_labels(), f.feature_units()
    assert len(labels) == len(units) == len(set(labels)) == 5 + 3 * 9 + 1
    um = f.unit_map()
    assert um["w90_crystal_field_10Dq"] == "eV" and um["w90_shell1_sum_t2"] == "eV^2"
    assert um["w90_shell2_J_AF"] == "meV" and um["w90_J2_over_J1"] == "1"
    assert um["w90_shell3_distance"] == "Angstrom"
    assert any("165902" in c for c in f.citations()) and any("107938" in c for c in f.citations())
    with pytest.raises(ValueError, match="U must be positive"):
        WannierHoppingFeatures("Mn", u=0.0)


def test_synthetic_cubic_exact(tmp_path: Path) -> None:
    rs, h = _cubic_model()
    feats = _features(_write_model(tmp_path, rs, h), u=2.0)
    assert feats["w90_onsite_t2g"] == pytest.approx(1.0)
    assert feats["w90_onsite_eg"] == pytest.approx(2.0)
    assert feats["w90_crystal_field_10Dq"] == pytest.approx(1.0)
    assert np.isnan(feats["w90_exchange_splitting_d"])
    assert feats["w90_shell1_distance"] == pytest.approx(A)
    assert feats["w90_shell1_n_neighbours"] == 6
    assert feats["w90_shell1_sum_t2"] == pytest.approx(3 * 0.01 + 2 * 0.04)
    assert feats["w90_shell1_sum_t2_t2g"] == pytest.approx(0.03)
    assert feats["w90_shell1_sum_t2_eg"] == pytest.approx(0.08)
    assert feats["w90_shell1_max_t"] == pytest.approx(0.2)
    assert feats["w90_shell1_max_t_t2g"] == pytest.approx(0.1)
    assert feats["w90_shell1_J_AF"] == pytest.approx(4 * 0.11 / 2.0 * 1000)  # meV
    assert feats["w90_shell2_distance"] == pytest.approx(A * np.sqrt(2))
    assert feats["w90_shell2_n_neighbours"] == 12
    assert feats["w90_shell2_sum_t2"] == pytest.approx(5 * 0.03**2)
    assert feats["w90_J2_over_J1"] == pytest.approx(5 * 0.03**2 / 0.11)
    shifted = _features(tmp_path / "fe_hr.dat", u=2.0, reference_energy=1.5)
    assert shifted["w90_onsite_t2g"] == pytest.approx(-0.5)
    assert shifted["w90_crystal_field_10Dq"] == pytest.approx(1.0)


@pytest.mark.parametrize("win", [False, True])
def test_wf_outside_home_cell_gives_same_features(tmp_path: Path, win: bool) -> None:
    """Move WF 0 (dz2) by +a1: H'_{0n}(R) = H_{0n}(R - a1), H'_{m0}(R) = H_{m0}(R + a1).

    The image offset comes from the centres file, with or without ``.win`` projections."""
    rs, h = _cubic_model()
    big = [(a, b, c) for a in range(-3, 4) for b in range(-3, 4) for c in range(-3, 4)]
    index = {tuple(r): k for k, r in enumerate(rs.tolist())}
    hb = np.zeros((len(big), 5, 5), dtype=complex)
    e1 = np.array([1, 0, 0])
    for k, r in enumerate(big):
        r = np.array(r)
        for m in range(5):
            for n in range(5):
                src = r - (m == 0) * e1 + (n == 0) * e1
                src = tuple(src.tolist())
                if src in index:
                    hb[k, m, n] = h[index[src], m, n]
    centres = np.zeros((5, 3))
    centres[0] = [A, 0.0, 0.0]
    path = _write_model(tmp_path, np.array(big), hb, centres=centres, win=win)
    ham = WannierHamiltonian.from_files(path, lattice=np.eye(3) * A)
    assert ham.wf_offset[0].tolist() == [1, 0, 0] and ham.wf_offset[1:].sum() == 0
    assert ham.wf_orbital == ["dz2", "dxz", "dyz", "dx2-y2", "dxy"]  # 5 WFs: W90 d order
    moved = _features(ham, u=2.0)
    ref = _features(_write_model(tmp_path / "ref", rs, h), u=2.0)
    for key, value in ref.items():
        assert moved[key] == pytest.approx(value, nan_ok=True), key


def test_two_site_supercell_matches_primitive(tmp_path: Path) -> None:
    """A 2x1x1 supercell (two Fe sites, R' in supercell units) gives the primitive features."""
    rs, h = _cubic_model()
    index = {tuple(r): k for k, r in enumerate(rs.tolist())}
    big = [(a, b, c) for a in range(-2, 3) for b in range(-2, 3) for c in range(-2, 3)]
    hs = np.zeros((len(big), 10, 10), dtype=complex)
    for k, (x, y, z) in enumerate(big):
        for s1 in range(2):
            for s2 in range(2):
                src = (2 * x + s2 - s1, y, z)
                if src in index:
                    hs[k, 5 * s1:5 * s1 + 5, 5 * s2:5 * s2 + 5] = h[index[src]]
    write_hr_dat(tmp_path / "fe2_hr.dat.gz", big, hs)
    (tmp_path / "fe2.win").write_text(
        f"num_wann = 10\nbegin unit_cell_cart\n{2 * A} 0 0\n0 {A} 0\n0 0 {A}\n"
        "end unit_cell_cart\nbegin atoms_frac\nFe1 0 0 0\nFe2 0.5 0 0\nO 0.25 0.5 0.5\n"
        "end atoms_frac\nbegin projections\nFe1: d\nFe2: d\nend projections\n")
    ham = WannierHamiltonian.from_files(tmp_path / "fe2_hr.dat.gz")
    assert ham.wf_atom.tolist() == [0] * 5 + [1] * 5
    sup = _features(ham, u=2.0)
    ref = _features(_write_model(tmp_path / "ref", rs, h), u=2.0)
    for key, value in ref.items():
        assert sup[key] == pytest.approx(value, nan_ok=True), key


def test_featurize_dataframe_and_direct_object(tmp_path: Path) -> None:
    rs, h = _cubic_model()
    path = _write_model(tmp_path, rs, h)
    df = pd.DataFrame({"hr": [str(path), WannierHamiltonian.from_files(path)],
                       "element": ["Fe", "Fe"]})
    table, units = featurize_with_units(WannierHoppingFeatures(u=3.0), df, ["hr", "element"])
    assert list(table.columns) == list(units) and table.shape == (2, 24)
    np.testing.assert_allclose(table.iloc[0].to_numpy(float), table.iloc[1].to_numpy(float))


def test_errors(tmp_path: Path) -> None:
    rs, h = _cubic_model()
    path = _write_model(tmp_path / "nowin", rs, h, win=False)
    with pytest.raises(ValueError, match="not assigned to atoms"):
        WannierHoppingFeatures("Fe").featurize(path)
    path = _write_model(tmp_path / "ok", rs, h)
    with pytest.raises(ValueError, match="no Wannier functions on Co atoms"):
        WannierHoppingFeatures("Co").featurize(path)
    with pytest.raises(ValueError, match=r"^12345: expected str, bytes or os.PathLike"):
        WannierHoppingFeatures("Fe").featurize(12345)
    with pytest.raises(ValueError, match="expected an \\(up, down\\) pair"):
        WannierHoppingFeatures("Fe").featurize((path,))
    with pytest.raises(ValueError, match="no magnetic element"):
        WannierHoppingFeatures().featurize(path)
    with pytest.raises(ValueError, match="no spin-down channel"):
        WannierHoppingFeatures("Fe", spin="down").featurize(path)
    # centres file of another model: 4 centres for 5 WFs
    bad = _write_model(tmp_path / "bad", rs, h, centres=np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"fe_centres\.xyz:3: 4 Wannier centres .* num_wann = 5"):
        WannierHamiltonian.from_files(bad)
    far = _write_model(tmp_path / "far", rs, h, centres=np.full((5, 3), 1.9), win=False)
    with pytest.raises(ValueError, match="Wannier function 1 lies 3.29 Angstrom"):
        WannierHamiltonian.from_files(far, lattice=np.eye(3) * A)
    centres_only = _write_model(tmp_path / "nolat", rs, h, centres=np.zeros((5, 3)), win=False)
    with pytest.raises(ValueError, match="lattice unknown"):
        WannierHoppingFeatures("Fe").featurize(centres_only)


# ---------------------------------------------------------------- real data: SrMnO3
def _tb2j_reference() -> dict[float, list[float]]:
    """J_iso (meV) from TB2J's exchange.out, grouped by distance (Angstrom)."""
    text = (DATA / "exchange.out").read_text()
    pat = re.compile(r"Mn1\s+Mn1\s+\(.*?\)\s+(-?\d+\.\d+)\s+\(.*?\)\s+(\d+\.\d+)")
    out: dict[float, list[float]] = {}
    for j, d in pat.findall(text):
        out.setdefault(round(float(d), 2), []).append(float(j))
    return out


@pytest.fixture(scope="module")
def srmno3() -> WannierHamiltonian:
    return WannierHamiltonian.from_files(HR_UP)


def test_srmno3_assignment(srmno3: WannierHamiltonian) -> None:
    assert srmno3.nspin == 2 and spin_partner(HR_DN) == HR_UP and spin_partner(HR_UP) == HR_DN
    assert srmno3.wf_atom.tolist() == [1] * 5 + [2] * 3 + [3] * 3 + [4] * 3  # assigned_basis
    assert srmno3.wf_orbital[:5] == ["dz2", "dxz", "dyz", "dx2-y2", "dxy"]
    assert srmno3.hermiticity_error() < 2e-6
    single = WannierHamiltonian.from_files(HR_UP, find_partner=False)
    assert single.nspin == 1
    np.testing.assert_array_equal(single.h[0], srmno3.h[0])
    from_down = WannierHamiltonian.from_files(HR_DN)  # the partner is the up channel
    np.testing.assert_array_equal(from_down.h, srmno3.h)
    f = WannierHoppingFeatures("Mn", u=3.0)
    np.testing.assert_allclose(f.featurize((HR_UP, HR_DN)), f.featurize(srmno3))


def test_srmno3_centres_only_matches_win(tmp_path: Path, srmno3: WannierHamiltonian) -> None:
    for name in ("abinito_w90_up_hr.dat.gz", "abinito_w90_up_centres.xyz"):
        shutil.copy(DATA / name, tmp_path / name)
    ham = WannierHamiltonian.from_files(tmp_path / "abinito_w90_up_hr.dat.gz",
                                        lattice=srmno3.lattice)
    assert ham.nspin == 1 and ham.wf_atom.tolist() == srmno3.wf_atom.tolist()
    assert ham.wf_orbital[:5] == srmno3.wf_orbital[:5] and ham.wf_orbital[5] is None


def test_srmno3_physics_vs_tb2j(srmno3: WannierHamiltonian) -> None:
    ref = _tb2j_reference()
    (d1, j1_tb2j), (d2, j2_tb2j) = sorted(ref.items())[:2]
    assert len(j1_tb2j) == 6 and len(j2_tb2j) == 12
    assert np.mean(j1_tb2j) == pytest.approx(-7.11, abs=0.01)
    assert np.mean(j2_tb2j) == pytest.approx(-0.58, abs=0.01)
    for spin in ("average", "up", "down"):
        f = _features(srmno3, element="Mn", u=3.0, spin=spin)
        assert f["w90_onsite_t2g"] < f["w90_onsite_eg"], spin  # octahedral crystal field
        assert f["w90_shell1_distance"] == pytest.approx(d1, abs=0.01)
        assert f["w90_shell2_distance"] == pytest.approx(d2, abs=0.01)
        assert f["w90_shell1_n_neighbours"] == 6 and f["w90_shell2_n_neighbours"] == 12
        # J_AF > 0 is AFM; TB2J: J < 0 is AFM. Same sign of -J_TB2J, J1 dominant.
        assert np.sign(f["w90_shell1_J_AF"]) == -np.sign(np.mean(j1_tb2j)) == 1
        assert np.sign(f["w90_shell2_J_AF"]) == -np.sign(np.mean(j2_tb2j)) == 1
        assert f["w90_shell1_J_AF"] > 10 * f["w90_shell2_J_AF"]
        assert 0 < f["w90_J2_over_J1"] < abs(np.mean(j2_tb2j) / np.mean(j1_tb2j))
        # Mn4+ d3: t2g (pi) hopping dominates the nearest-neighbour transfer
        assert f["w90_shell1_sum_t2_t2g"] > f["w90_shell1_sum_t2_eg"]
    f = _features(srmno3, element="Mn", u=3.0)
    assert f["w90_onsite_t2g"] == pytest.approx((2.6596 + 8.1623) / 2, abs=1e-3)
    assert f["w90_onsite_eg"] == pytest.approx((5.5932 + 8.7165) / 2, abs=1e-3)
    assert f["w90_exchange_splitting_d"] == pytest.approx(4.551, abs=1e-3)
    assert f["w90_shell1_max_t"] == pytest.approx(0.0882, abs=1e-4)
    assert f["w90_shell1_J_AF"] == pytest.approx(21.91, abs=0.01)
    assert f["w90_shell2_J_AF"] == pytest.approx(0.168, abs=0.001)
