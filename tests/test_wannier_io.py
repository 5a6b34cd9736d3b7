"""Strict Wannier90 readers: real SrMnO3 files, error messages, hypothesis fuzzing."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from descriptors.wannier_io import read_centres_xyz, read_hr_dat, read_win

DATA = Path(__file__).parent / "data" / "wannier" / "SrMnO3"
HR_UP = DATA / "abinito_w90_up_hr.dat.gz"
HR_DN = DATA / "abinito_w90_down_hr.dat.gz"
FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _real_lines() -> list[str]:
    return gzip.decompress(HR_UP.read_bytes()).decode().splitlines()


def _mini_hr_lines(nw: int = 5, nr: int = 17) -> list[str]:
    """A small but real hr.dat: the first ``nw`` WFs (Mn d) and ``nr`` R vectors of SrMnO3.

    ``nr = 17`` keeps two degeneracy lines (15 + 2)."""
    lines = _real_lines()
    nw_full, nr_full = int(lines[1]), int(lines[2])
    n_deg = -(-nr_full // 15)
    deg = " ".join(lines[3:3 + n_deg]).split()[:nr]
    body = lines[3 + n_deg:3 + n_deg + nr * nw_full ** 2]
    kept = [ln for ln in body if int(ln.split()[3]) <= nw and int(ln.split()[4]) <= nw]
    deg_lines = ["".join(f"{int(d):5d}" for d in deg[i:i + 15]) for i in range(0, nr, 15)]
    return [lines[0], f"{nw:12d}", f"{nr:12d}", *deg_lines, *kept]


@pytest.fixture(scope="module")
def mini() -> list[str]:
    return _mini_hr_lines()


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------- real files
def test_real_srmno3_shapes_and_degeneracy() -> None:
    d = read_hr_dat(HR_UP)
    assert d.num_wann == 14 and d.h.shape == (125, 14, 14) and d.r_vectors.shape == (125, 3)
    assert np.isclose((1.0 / d.ndegen).sum(), 64.0)  # 4x4x4 k grid sum rule
    r = {tuple(v): i for i, v in enumerate(d.r_vectors.tolist())}
    onsite = np.real(np.diag(d.h[r[(0, 0, 0)]]))
    np.testing.assert_allclose(onsite[[0, 3]], [5.593208, 5.593214], atol=1e-6)  # Mn eg
    np.testing.assert_allclose(onsite[[1, 2, 4]], 2.6596, atol=1e-4)  # Mn t2g
    # degeneracy applied: the first line is R=(-2,-2,-2), m=n=1, -0.000534 with ndegen 8
    assert d.ndegen[0] == 8 and np.isclose(d.h[0, 0, 0].real, -0.000534 / 8)
    for rv, i in r.items():  # H(-R) = H(R)^dagger
        np.testing.assert_allclose(d.h[r[tuple(-x for x in rv)]], d.h[i].conj().T, atol=1e-6)


def test_plain_and_gzip_agree(tmp_path: Path, mini: list[str]) -> None:
    plain = _write(tmp_path / "m_hr.dat", mini)
    gz = tmp_path / "m_hr.dat.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    a, b = read_hr_dat(plain), read_hr_dat(gz)
    np.testing.assert_array_equal(a.h, b.h)
    assert a.num_wann == 5 and a.h.shape == (17, 5, 5)


def test_crosscheck_hamiltonio(tmp_path: Path) -> None:
    """Independent parser: HamiltonIO's parse_ham returns raw values and weights."""
    w90 = pytest.importorskip("HamiltonIO.wannier.w90_parser")
    plain = tmp_path / "up_hr.dat"
    plain.write_bytes(gzip.decompress(HR_UP.read_bytes()))
    nw, h_ref, deg_ref = w90.parse_ham(str(plain))
    d = read_hr_dat(plain)
    assert nw == d.num_wann
    np.testing.assert_array_equal(np.asarray(deg_ref), d.ndegen)
    assert [tuple(r) for r in h_ref] == [tuple(r) for r in d.r_vectors.tolist()]
    for i, r in enumerate(d.r_vectors.tolist()):
        np.testing.assert_allclose(h_ref[tuple(r)], d.h[i] * d.ndegen[i], atol=1e-12)


def test_centres_and_win() -> None:
    c = read_centres_xyz(DATA / "abinito_w90_up_centres.xyz", num_wann=14)
    assert c.centres.shape == (14, 3) and c.symbols == ["Sr", "Mn", "O", "O", "O"]
    w = read_win(DATA / "abinito_w90_up.win")
    np.testing.assert_allclose(np.diag(w.lattice), 3.8099846261953436)
    assert w.symbols == ["Sr", "Mn", "O", "O", "O"] and w.projection_error is None
    assert [p[1] for p in w.projections][:5] == ["dz2", "dxz", "dyz", "dx2-y2", "dxy"]
    with pytest.raises(ValueError, match=r"centres\.xyz:3: 14 Wannier centres .* num_wann = 13"):
        read_centres_xyz(DATA / "abinito_w90_up_centres.xyz", num_wann=13)


def test_win_species_projections_and_bohr(tmp_path: Path) -> None:
    win = _write(tmp_path / "x.win", [
        "num_wann = 8", "begin unit_cell_cart", "bohr", "10 0 0", "0 10 0", "0 0 10",
        "end unit_cell_cart", "begin atoms_frac", "Ni 0 0 0", "O 0.5 0.5 0.5",
        "end atoms_frac", "begin projections", "Ni: d", "O: l=1,mr=2,3", "Ni: s ! comment",
        "end projections"])
    w = read_win(win)
    assert np.isclose(w.lattice[0, 0], 5.2917721092) and w.num_wann == 8
    assert [p[1] for p in w.projections] == ["dz2", "dxz", "dyz", "dx2-y2", "dxy", "px", "py",
                                             "s"]
    np.testing.assert_allclose(w.projections[5][0], [2.6458860546] * 3)
    hybrid = _write(tmp_path / "h.win", ["begin projections", "c=0,0,0: sp3", "end projections"])
    assert read_win(hybrid).projections is None and "sp3" in read_win(hybrid).projection_error


# ---------------------------------------------------------------- targeted errors
@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda ln: ln[:-1], r":430: file truncated: expected 425 .* R block 17 has 24 of 25"),
        (lambda ln: ln[:100], r":101: file truncated"),
        (lambda ln: ln[:3] + ln[5:], r":4: expected 15 degeneracy weights on this line, got 7 "
                                     r"fields \(looks like a matrix-element line"),
        (lambda ln: [ln[0], "  five", *ln[2:]], r":2: num_wann is not an integer: 'five'"),
        (lambda ln: [ln[0], ln[1], "0", *ln[3:]], r":3: nrpts must be positive"),
        (lambda ln: ln[:10] + [ln[10].replace(ln[10].split()[5], "abc")] + ln[11:],
         r":11: Re/Im fields are not numbers"),
        (lambda ln: ln[:10] + [ln[10].replace(ln[10].split()[5], "nan")] + ln[11:],
         r":11: non-finite matrix element"),
        (lambda ln: ln[:10] + ["  0 0 0 9 1 0.1 0.0"] + ln[11:],
         r":11: orbital index \(m, n\) = \(9, 1\) outside 1..5"),
        (lambda ln: ln[:10] + [ln[9]] + ln[11:], r":11: duplicate entry"),
        (lambda ln: ln[:10] + ln[11:], r":30: R block .* ends after 24 of 25 entries"),
        (lambda ln: [*ln, ln[-1]], r":431: unexpected content after the last of 17 R blocks"),
        (lambda ln: [ln[0], ln[1], "18", *ln[3:]], r":5: expected 3 degeneracy weights"),
        (lambda ln: ln[:3] + [ln[3].replace(" 8", "-8", 1)] + ln[4:],
         r":4: degeneracy weight must be in 1"),
        (lambda ln: [], r":2: file truncated: expected num_wann"),
    ],
)
def test_error_messages(tmp_path: Path, mini: list[str], edit, pattern: str) -> None:
    path = _write(tmp_path / "bad_hr.dat", edit(list(mini)))
    with pytest.raises(ValueError, match=re.escape(str(path)) + pattern):
        read_hr_dat(path)


def test_repeated_r_block(tmp_path: Path, mini: list[str]) -> None:
    lines = list(mini)
    lines[5 + 25:5 + 50] = lines[5:5 + 25]  # second R block = copy of the first
    path = _write(tmp_path / "rep_hr.dat", lines)
    with pytest.raises(ValueError, match=r"rep_hr\.dat:31: R = .* appears in two separate"):
        read_hr_dat(path)


def test_missing_file_and_bad_gzip(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nope_hr.dat: cannot read file"):
        read_hr_dat(tmp_path / "nope_hr.dat")
    trunc = tmp_path / "t_hr.dat.gz"
    trunc.write_bytes(HR_UP.read_bytes()[:20000])
    with pytest.raises(ValueError, match=r"t_hr\.dat\.gz:\d+: gzip stream truncated"):
        read_hr_dat(trunc)


# ---------------------------------------------------------------- fuzzing
_ERROR = re.compile(r"^(?P<file>.+?):(?P<line>\d+): \S")


def _check(path: Path, reader) -> None:
    """The reader either succeeds or raises ValueError '<path>:<line>: <what>'."""
    try:
        reader(path)
    except ValueError as exc:
        m = _ERROR.match(str(exc))
        assert m and m.group("file") == str(path), str(exc)
        assert int(m.group("line")) >= 1


_garbage = st.text(alphabet=st.sampled_from(list("0123456789 -.eE+xX\tnaNIf\x00é")), max_size=12)


@FUZZ
@given(cut=st.integers(min_value=0, max_value=10**6))
def test_fuzz_truncation(tmp_path: Path, mini: list[str], cut: int) -> None:
    text = "\n".join(mini) + "\n"
    path = tmp_path / "trunc_hr.dat"
    path.write_text(text[: cut % (len(text) + 1)])
    _check(path, read_hr_dat)


@FUZZ
@given(data=st.data())
def test_fuzz_corruption(tmp_path: Path, mini: list[str], data: st.DataObject) -> None:
    lines = list(mini)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1)) if lines else 0
        op = data.draw(st.sampled_from(["token", "delete", "dup", "insert", "swap"]))
        if not lines:
            lines = [data.draw(_garbage)]
        elif op == "token":
            tokens = lines[i].split() or [""]
            k = data.draw(st.integers(0, len(tokens) - 1))
            tokens[k] = data.draw(_garbage)
            lines[i] = " ".join(tokens)
        elif op == "delete":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, data.draw(_garbage))
        else:
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    path = tmp_path / "corrupt_hr.dat"
    path.write_text("\n".join(lines), encoding="utf-8")
    _check(path, read_hr_dat)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pos=st.integers(0, 10**6), junk=st.binary(min_size=1, max_size=8),
       gz=st.booleans())
def test_fuzz_bytes(tmp_path: Path, mini: list[str], pos: int, junk: bytes, gz: bool) -> None:
    raw = ("\n".join(mini) + "\n").encode()
    if gz:
        raw = gzip.compress(raw, mtime=0)
    pos %= len(raw)
    path = tmp_path / ("bytes_hr.dat.gz" if gz else "bytes_hr.dat")
    path.write_bytes(raw[:pos] + junk + raw[pos + len(junk):])
    _check(path, read_hr_dat)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=10**7))
def test_fuzz_truncation_full_file(tmp_path: Path, cut: int) -> None:
    """Random truncation of the full 24500-line SrMnO3 file (gzipped, as shipped)."""
    raw = gzip.decompress(HR_UP.read_bytes())
    path = tmp_path / "full_hr.dat.gz"
    path.write_bytes(gzip.compress(raw[: cut % (len(raw) + 1)], compresslevel=1))
    _check(path, read_hr_dat)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_centres_and_win(tmp_path: Path, data: st.DataObject) -> None:
    for name, reader in (("abinito_w90_up_centres.xyz", lambda p: read_centres_xyz(p, 14)),
                         ("abinito_w90_up.win", read_win)):
        lines = (DATA / name).read_text().splitlines()
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["cut", "token", "delete"]))
        if op == "cut":
            lines = lines[:i]
        elif op == "delete":
            del lines[i]
        else:
            tokens = lines[i].split() or [""]
            tokens[data.draw(st.integers(0, len(tokens) - 1))] = data.draw(_garbage)
            lines[i] = " ".join(tokens)
        path = tmp_path / name
        path.write_text("\n".join(lines))
        _check(path, reader)
