"""Strict readers for Wannier90 output: ``seedname_hr.dat``, ``_centres.xyz`` and ``.win``.

Every reader accepts plain or gzip-compressed files (detected from the magic bytes, not
the name) and raises :class:`ValueError` naming the file, the 1-based line number and
what is wrong for any malformed input. No other exception type escapes for bad content.

References
----------
G. Pizzi et al., "Wannier90 as a community code: new features and applications",
J. Phys.: Condens. Matter 32, 165902 (2020).
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BOHR_TO_ANGSTROM = 0.52917721092
N_DEGEN_PER_LINE = 15
MAX_R = 10_000  # |R_i| bound: larger values are corrupt, not physics
MAX_DEGEN = 10**9
MAX_WANN = 100_000

#: Wannier90 real-orbital names in ``mr`` order for each ``l`` (Wannier90 user guide, Table 3.1).
W90_ORBITALS: dict[int, tuple[str, ...]] = {
    0: ("s",),
    1: ("pz", "px", "py"),
    2: ("dz2", "dxz", "dyz", "dx2-y2", "dxy"),
    3: ("fz3", "fxz2", "fyz2", "fz(x2-y2)", "fxyz", "fx(x2-3y2)", "fy(3x2-y2)"),
}
_ORBITAL_NAMES = {name for names in W90_ORBITALS.values() for name in names}
_SHELL_NAMES = {"s": 0, "p": 1, "d": 2, "f": 3}


def _gunzip(path: Path, raw: bytes) -> bytes:
    """Decompress (possibly multi-member) gzip data; on damage report the line reached."""
    out = bytearray()
    rest = raw
    while rest:
        dec = zlib.decompressobj(wbits=31)
        try:
            for start in range(0, len(rest), 1 << 16):
                out += dec.decompress(rest[start:start + (1 << 16)])
                if dec.eof:
                    break
        except zlib.error as exc:
            line = out.count(b"\n") + 1
            raise ValueError(f"{path}:{line}: corrupt gzip stream after line {line - 1} "
                             f"({exc})") from None
        if not dec.eof:
            line = out.count(b"\n") + 1
            raise ValueError(f"{path}:{line}: gzip stream truncated after line {line - 1}")
        rest = dec.unused_data.lstrip(b"\x00")
    return bytes(out)


def _read_lines(path: str | Path) -> list[str]:
    """Read a text file (plain or gzipped) into lines; errors become ValueError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:  # missing file, directory, permissions
        raise ValueError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    if raw[:2] == b"\x1f\x8b":
        raw = _gunzip(path, raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: not valid UTF-8 text") from exc
    lines = text.split("\n")  # only \n ends a line, so numbers match editors and sed
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _err(path: str | Path, lineno: int, msg: str) -> ValueError:
    return ValueError(f"{path}:{lineno}: {msg}")


def _positive_int(path: Path, lines: list[str], idx: int, what: str) -> int:
    if idx >= len(lines):
        raise _err(path, idx + 1, f"file truncated: expected {what} (one integer), got end of file")
    tokens = lines[idx].split()
    if len(tokens) != 1:
        raise _err(path, idx + 1, f"expected {what} (one integer), got {lines[idx].strip()!r}")
    try:
        value = int(tokens[0])
    except ValueError:
        raise _err(path, idx + 1, f"{what} is not an integer: {tokens[0]!r}") from None
    if value <= 0:
        raise _err(path, idx + 1, f"{what} must be positive, got {value}")
    return value


@dataclass
class HrData:
    """Content of a ``seedname_hr.dat`` file.

    Attributes
    ----------
    path : Path
        File that was read.
    header : str
        First line (Wannier90 writes the date).
    num_wann : int
        Number of Wannier functions.
    r_vectors : numpy.ndarray
        Integer lattice vectors, shape (nrpts, 3), in file order.
    ndegen : numpy.ndarray
        Wigner-Seitz degeneracy of each R, shape (nrpts,).
    h : numpy.ndarray
        Complex H_mn(R) = <w_m0|H|w_nR> / ndegen(R) in eV, shape (nrpts, num_wann, num_wann)
        (0-based m, n).
    """

    path: Path
    header: str
    num_wann: int
    r_vectors: np.ndarray
    ndegen: np.ndarray
    h: np.ndarray


def read_hr_dat(path: str | Path) -> HrData:
    """Read a Wannier90 ``seedname_hr.dat`` file (plain or gzipped), strictly.

    Layout: header line; ``num_wann``; ``nrpts``; ``nrpts`` degeneracy weights, 15 per line;
    then ``nrpts * num_wann**2`` lines ``R1 R2 R3 m n Re Im``, grouped in contiguous blocks
    of one R vector. The returned matrix elements are divided by their degeneracy weight.

    Raises
    ------
    ValueError
        ``"<file>:<line>: <problem>"`` for a truncated file, wrong counts, non-numeric or
        non-finite fields, indices out of range, duplicated or missing (m, n, R) entries,
        missing degeneracy lines or trailing garbage.
    """
    path = Path(path)
    lines = _read_lines(path)
    if not lines:
        raise _err(path, 1, "empty file: expected a header line")
    nw = _positive_int(path, lines, 1, "num_wann")
    if nw > MAX_WANN:
        raise _err(path, 2, f"num_wann = {nw} is implausibly large (> {MAX_WANN})")
    nrpts = _positive_int(path, lines, 2, "nrpts")
    n_deg_lines = math.ceil(nrpts / N_DEGEN_PER_LINE)
    ndegen: list[int] = []
    for k in range(n_deg_lines):
        idx = 3 + k
        expected = min(N_DEGEN_PER_LINE, nrpts - k * N_DEGEN_PER_LINE)
        if idx >= len(lines):
            raise _err(path, idx + 1, f"file truncated in degeneracy weights: got {len(ndegen)} "
                       f"of nrpts = {nrpts}")
        tokens = lines[idx].split()
        if len(tokens) != expected:
            hint = " (looks like a matrix-element line: degeneracy lines missing?)" \
                if len(tokens) == 7 else ""
            raise _err(path, idx + 1, f"expected {expected} degeneracy weights on this line, "
                       f"got {len(tokens)} fields{hint}")
        for tok in tokens:
            try:
                value = int(tok)
            except ValueError:
                raise _err(path, idx + 1, f"degeneracy weight is not an integer: {tok!r}") \
                    from None
            if not 0 < value <= MAX_DEGEN:
                raise _err(path, idx + 1, f"degeneracy weight must be in 1..{MAX_DEGEN}, "
                           f"got {value}")
            ndegen.append(value)

    start = 3 + n_deg_lines
    block = nw * nw
    n_data = nrpts * block
    # nothing is sized from the header counts alone: a corrupt count must not allocate memory
    n_alloc = max(0, min(n_data, len(lines) - start))
    values = np.empty(n_alloc, dtype=complex)
    flat = np.empty(n_alloc, dtype=np.int64)
    r_list: list[tuple[int, int, int]] = []
    r_set: set[tuple[int, int, int]] = set()
    seen: set[tuple[int, int]] = set()
    for i in range(n_data):
        idx = start + i
        ir, within = divmod(i, block)
        if idx >= len(lines):
            raise _err(path, idx + 1, f"file truncated: expected {n_data} matrix-element lines "
                       f"({nrpts} R vectors x {nw}^2), got {i}; R block {ir + 1} has "
                       f"{within} of {block} entries")
        tokens = lines[idx].split()
        if len(tokens) != 7:
            raise _err(path, idx + 1, f"expected 7 fields 'R1 R2 R3 m n Re Im', got "
                       f"{len(tokens)}: {lines[idx].strip()[:60]!r}")
        try:
            r1, r2, r3, m, n = (int(t) for t in tokens[:5])
        except ValueError:
            raise _err(path, idx + 1, f"R1 R2 R3 m n must be integers: {tokens[:5]}") from None
        try:
            re_h, im_h = float(tokens[5]), float(tokens[6])
        except ValueError:
            raise _err(path, idx + 1, f"Re/Im fields are not numbers: {tokens[5:]}") from None
        if not (math.isfinite(re_h) and math.isfinite(im_h)):
            raise _err(path, idx + 1, f"non-finite matrix element {tokens[5:]}")
        if not (1 <= m <= nw and 1 <= n <= nw):
            raise _err(path, idx + 1, f"orbital index (m, n) = ({m}, {n}) outside 1..{nw}")
        rvec = (r1, r2, r3)
        if max(abs(r1), abs(r2), abs(r3)) > MAX_R:
            raise _err(path, idx + 1, f"R = {rvec} has a component beyond +-{MAX_R}")
        if within == 0:
            if rvec in r_set:
                raise _err(path, idx + 1, f"R = {rvec} appears in two separate blocks")
            r_list.append(rvec)
            r_set.add(rvec)
            seen.clear()
        elif rvec != r_list[ir]:
            raise _err(path, idx + 1, f"R block {r_list[ir]} ends after {within} of "
                       f"{block} entries (found R = {rvec}); each R needs num_wann^2 lines")
        if (m, n) in seen:
            raise _err(path, idx + 1, f"duplicate entry (m, n) = ({m}, {n}) for R = {rvec}")
        seen.add((m, n))
        values[i] = complex(re_h, im_h)
        flat[i] = (m - 1) * nw + (n - 1)
    for extra in range(start + n_data, len(lines)):
        if lines[extra].strip():
            raise _err(path, extra + 1, f"unexpected content after the last of {nrpts} R blocks "
                       f"(nrpts too small?): {lines[extra].strip()[:60]!r}")
    h = np.zeros((nrpts, block), dtype=complex)
    h[np.repeat(np.arange(nrpts), block), flat] = values
    deg = np.asarray(ndegen, dtype=int)
    h = h.reshape(nrpts, nw, nw) / deg[:, None, None]
    return HrData(path=path, header=lines[0].strip(), num_wann=nw,
                  r_vectors=np.array(r_list, dtype=int).reshape(-1, 3), ndegen=deg, h=h)


@dataclass
class CentresData:
    """Content of a ``seedname_centres.xyz`` file (positions in Angstrom)."""

    path: Path
    centres: np.ndarray
    symbols: list[str]
    positions: np.ndarray


def read_centres_xyz(path: str | Path, num_wann: int | None = None) -> CentresData:
    """Read Wannier90 ``seedname_centres.xyz``: ``X`` lines (centres) followed by atoms.

    Parameters
    ----------
    path : str or Path
        File (plain or gzipped).
    num_wann : int, optional
        If given, the number of ``X`` lines must equal it.
    """
    path = Path(path)
    lines = _read_lines(path)
    if not lines:
        raise _err(path, 1, "empty file: expected the number of entries")
    natoms = _positive_int(path, lines, 0, "number of entries")
    if len(lines) < 2 + natoms:
        raise _err(path, len(lines) + 1, f"file truncated: header announces {natoms} entries, "
                   f"found {max(len(lines) - 2, 0)}")
    centres: list[list[float]] = []
    symbols: list[str] = []
    positions: list[list[float]] = []
    for idx in range(2, 2 + natoms):
        tokens = lines[idx].split()
        if len(tokens) != 4:
            raise _err(path, idx + 1, f"expected 'symbol x y z', got {lines[idx].strip()!r}")
        try:
            xyz = [float(t) for t in tokens[1:]]
        except ValueError:
            raise _err(path, idx + 1, f"coordinates are not numbers: {tokens[1:]}") from None
        if not all(math.isfinite(x) for x in xyz):
            raise _err(path, idx + 1, "non-finite coordinate")
        if tokens[0].upper() == "X":
            if symbols:
                raise _err(path, idx + 1, "Wannier centre 'X' after the atoms")
            centres.append(xyz)
        else:
            symbols.append(tokens[0])
            positions.append(xyz)
    for idx in range(2 + natoms, len(lines)):
        if lines[idx].strip():
            raise _err(path, idx + 1, f"more lines than the {natoms} entries announced")
    if num_wann is not None and len(centres) != num_wann:
        raise _err(path, 3, f"{len(centres)} Wannier centres ('X' lines) but the Hamiltonian "
                   f"has num_wann = {num_wann}: centres file does not belong to it")
    return CentresData(path=path, centres=np.array(centres, dtype=float).reshape(-1, 3),
                       symbols=symbols, positions=np.array(positions, dtype=float).reshape(-1, 3))


@dataclass
class WinData:
    """Structure and projections from a Wannier90 ``seedname.win`` (Angstrom)."""

    path: Path
    lattice: np.ndarray | None = None
    symbols: list[str] = field(default_factory=list)
    positions: np.ndarray | None = None
    num_wann: int | None = None
    #: one (site position in Angstrom, orbital name) per Wannier function, or None if the
    #: projections block is absent or uses features not supported here
    projections: list[tuple[np.ndarray, str]] | None = None
    projection_error: str | None = None


def _strip_comment(line: str) -> str:
    return re.split(r"[!#]", line, maxsplit=1)[0].strip()


def _blocks(path: Path, lines: list[str]) -> tuple[dict[str, list[tuple[int, str]]],
                                                    dict[str, tuple[int, str]]]:
    blocks: dict[str, list[tuple[int, str]]] = {}
    keys: dict[str, tuple[int, str]] = {}
    current: str | None = None
    for i, raw in enumerate(lines):
        line = _strip_comment(raw)
        if not line:
            continue
        low = line.lower()
        if low.startswith("begin"):
            if current is not None:
                raise _err(path, i + 1, f"'begin' inside block {current!r}")
            parts = low.split()
            if len(parts) != 2:
                raise _err(path, i + 1, f"malformed block start {line!r}")
            current = parts[1]
            blocks[current] = []
        elif low.startswith("end"):
            parts = low.split()
            if current is None or len(parts) != 2 or parts[1] != current:
                raise _err(path, i + 1, f"unmatched block end {line!r}")
            current = None
        elif current is not None:
            blocks[current].append((i + 1, line))
        else:
            m = re.match(r"([A-Za-z_0-9]+)\s*[=:]?\s*(.*)$", line)
            if m:
                keys[m.group(1).lower()] = (i + 1, m.group(2).strip())
    if current is not None:
        raise _err(path, len(lines), f"block {current!r} is never closed (file truncated?)")
    return blocks, keys


def _unit_factor(rows: list[tuple[int, str]]) -> tuple[float, list[tuple[int, str]]]:
    first = rows[0][1].split()[0].lower() if rows else ""
    if first in ("bohr", "ang", "angstrom"):
        return (BOHR_TO_ANGSTROM if first == "bohr" else 1.0), rows[1:]
    return 1.0, rows


def _floats(path: Path, lineno: int, tokens: list[str], n: int, what: str) -> list[float]:
    if len(tokens) != n:
        raise _err(path, lineno, f"{what}: expected {n} numbers, got {len(tokens)}")
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        raise _err(path, lineno, f"{what}: not numbers: {tokens}") from None
    if not all(math.isfinite(v) for v in values):
        raise _err(path, lineno, f"{what}: non-finite value")
    return values


def _expand_orbitals(spec: str) -> list[str]:
    """Expand a projection's angular part (``d``, ``dxy;dz2``, ``l=2,mr=1,3``) to names."""
    names: list[str] = []
    for part in spec.split(";"):
        part = part.strip().lower()
        if not part:
            continue
        m = re.fullmatch(r"l\s*=\s*(\d)(?:\s*,\s*mr\s*=\s*([\d,\s]+))?", part)
        if m:
            l = int(m.group(1))
            if l not in W90_ORBITALS:
                raise KeyError(f"unsupported l = {l} (hybrid orbitals are not supported)")
            mrs = [int(x) for x in m.group(2).split(",") if x.strip()] if m.group(2) else \
                list(range(1, 2 * l + 2))
            for mr in mrs:
                if not 1 <= mr <= 2 * l + 1:
                    raise KeyError(f"mr = {mr} out of range for l = {l}")
                names.append(W90_ORBITALS[l][mr - 1])
        elif part in _SHELL_NAMES:
            names.extend(W90_ORBITALS[_SHELL_NAMES[part]])
        elif part in _ORBITAL_NAMES:
            names.append(part)
        else:
            raise KeyError(f"unsupported projection {part!r}")
    return names


def read_win(path: str | Path) -> WinData:
    """Read lattice, atoms, ``num_wann`` and projections from a Wannier90 ``.win`` file.

    Supported projection sites: species labels (all atoms of that species, in file order),
    ``c=x,y,z`` (Cartesian, Angstrom) and ``f=x,y,z`` (fractional). Supported angular parts:
    ``s``, ``p``, ``d``, ``f``, single real orbitals (``dxy``...) and ``l=L[,mr=...]``.
    Anything else (hybrids, ``random``, spinors, local axes) leaves ``projections = None``
    with the reason in ``projection_error``; the structure is still returned.
    """
    path = Path(path)
    lines = _read_lines(path)
    blocks, keys = _blocks(path, lines)
    out = WinData(path=path)
    if "num_wann" in keys:
        lineno, value = keys["num_wann"]
        try:
            out.num_wann = int(value)
        except ValueError:
            raise _err(path, lineno, f"num_wann is not an integer: {value!r}") from None
    if "unit_cell_cart" in blocks:
        factor, rows = _unit_factor(blocks["unit_cell_cart"])
        if len(rows) != 3:
            line = rows[-1][0] if rows else 1
            raise _err(path, line, f"unit_cell_cart needs 3 lattice vectors, got {len(rows)}")
        out.lattice = factor * np.array([_floats(path, ln, s.split(), 3, "lattice vector")
                                         for ln, s in rows])
    for key in ("atoms_cart", "atoms_frac"):
        if key not in blocks:
            continue
        factor, rows = _unit_factor(blocks[key])
        if out.positions is not None:
            raise _err(path, rows[0][0] if rows else 1, "both atoms_cart and atoms_frac given")
        coords = []
        for ln, s in rows:
            tokens = s.split()
            out.symbols.append(tokens[0])
            coords.append(_floats(path, ln, tokens[1:], 3, f"{key} position"))
        pos = np.array(coords, dtype=float).reshape(-1, 3)
        if key == "atoms_frac":
            if out.lattice is None:
                raise _err(path, rows[0][0] if rows else 1, "atoms_frac without unit_cell_cart")
            pos = pos @ out.lattice
        else:
            pos = pos * factor
        out.positions = pos
    if "projections" in blocks:
        try:
            out.projections = _parse_projections(out, blocks["projections"])
        except (KeyError, ValueError) as exc:
            out.projection_error = str(exc.args[0]) if exc.args else repr(exc)
    return out


def _parse_projections(win: WinData, rows: list[tuple[int, str]]) -> list[tuple[np.ndarray, str]]:
    result: list[tuple[np.ndarray, str]] = []
    for _, line in rows:
        if ":" not in line:
            raise KeyError(f"projection line without ':' ({line!r})")
        fields = line.split(":")
        site, ang = fields[0].strip(), fields[1].strip()
        if len(fields) > 2:
            raise KeyError(f"projection options (z-axis, x-axis, radial, spin) unsupported: "
                           f"{line!r}")
        if site.lower().startswith(("c=", "f=")):
            xyz = np.array([float(x) for x in site[2:].split(",")])
            if xyz.shape != (3,):
                raise KeyError(f"bad projection site {site!r}")
            if site.lower().startswith("f="):
                if win.lattice is None:
                    raise KeyError("fractional projection site without unit_cell_cart")
                xyz = xyz @ win.lattice
            sites = [xyz]
        else:
            if win.positions is None:
                raise KeyError(f"projection on species {site!r} without atoms block")
            sites = [win.positions[i] for i, s in enumerate(win.symbols) if s == site]
            if not sites:
                raise KeyError(f"projection on unknown species {site!r}")
        orbitals = _expand_orbitals(ang)
        for xyz in sites:
            result.extend((np.asarray(xyz, dtype=float), name) for name in orbitals)
    return result


def write_hr_dat(path: str | Path, r_vectors: np.ndarray, h: np.ndarray,
                 ndegen: np.ndarray | None = None, header: str = "written by sisso-lite") -> None:
    """Write H(R) (already divided by ``ndegen``) in Wannier90 ``_hr.dat`` layout.

    Values are multiplied back by ``ndegen`` (default all 1) and printed with the column
    order of Wannier90 (m fastest, then n). A ``.gz`` suffix writes gzip.
    """
    r_vectors = np.asarray(r_vectors, dtype=int).reshape(-1, 3)
    h = np.asarray(h, dtype=complex)
    nr, nw = h.shape[0], h.shape[1]
    ndegen = np.ones(nr, dtype=int) if ndegen is None else np.asarray(ndegen, dtype=int)
    out = [header, f"{nw:12d}", f"{nr:12d}"]
    out += ["".join(f"{d:5d}" for d in ndegen[i:i + N_DEGEN_PER_LINE])
            for i in range(0, nr, N_DEGEN_PER_LINE)]
    for k, (r, deg) in enumerate(zip(r_vectors, ndegen, strict=True)):
        for n in range(nw):
            for m in range(nw):
                v = h[k, m, n] * deg
                out.append(f"{r[0]:5d}{r[1]:5d}{r[2]:5d}{m + 1:5d}{n + 1:5d}"
                           f"{v.real:12.6f}{v.imag:12.6f}")
    data = ("\n".join(out) + "\n").encode()
    if Path(path).suffix == ".gz":
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip without timestamp: reproducible
        data = comp.compress(data) + comp.flush()
    Path(path).write_bytes(data)
