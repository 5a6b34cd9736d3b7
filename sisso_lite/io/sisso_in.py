"""Read Fortran SISSO input: ``SISSO.in`` keywords (v3.5, and the older spellings).

The semantics follow the reference implementation (rouyang2017/SISSO, ``src/SISSO.f90``,
subroutines ``read_para_a``/``read_para_b``, v3.5): a ``!`` starts a comment, each setting is
``keyword=value``, ``fcomplexity`` fixes the number of rungs (0 -> 0, 1 -> 1, 2-3 -> 2,
4-7 -> 3, 8-15 -> 4), ``ops`` and ``nf_sis`` take one value for all rungs/dimensions or a
comma-separated list, ``funit=(1:8)(9:14)`` gives the columns ``1..8`` one unit and ``9..14``
another (all other features are dimensionless), classification uses
``nsample=(n1,n2,...)`` (one bracket per task, one count per class).

Unlike Fortran SISSO, which silently ignores what it does not know, unknown keywords,
malformed values and inconsistent settings raise :class:`SissoInputError` naming the file,
line and keyword. Keywords renamed since SISSO v2.x/v3.1 are accepted with a
:class:`SissoInputWarning`.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sisso_lite.io._reader import _BOOL_FALSE, _BOOL_TRUE, _Entry, _Reader, _strip_quotes
from sisso_lite.io.errors import SissoInputError, SissoInputWarning
from sisso_lite.io.keywords import (
    FORTRAN_OPERATORS,
    IGNORED_KEYWORDS,
    KEYWORDS,
    L1_PREFIXES,
    RENAMED_KEYWORDS,
)

__all__ = [
    "FORTRAN_OPERATORS",
    "KEYWORDS",
    "RENAMED_KEYWORDS",
    "IGNORED_KEYWORDS",
    "SissoConfig",
    "read_sisso_in",
    "parse_sisso_in",
    "rung_from_fcomplexity",
    "unit_symbol",
]


def rung_from_fcomplexity(fcomplexity: int) -> int:
    """Number of rungs Fortran SISSO v3.5 derives from ``fcomplexity``."""
    if fcomplexity <= 1:
        return fcomplexity
    return int(np.ceil(np.log2(fcomplexity + 1)))


def unit_symbol(index: int) -> str:
    """Synthetic unit symbol of the ``index``-th (1-based) bracket of ``funit``."""
    return f"funit{index}"


@dataclass
class SissoConfig:
    """Settings of one ``SISSO.in`` in v3.5 terms.

    Attributes
    ----------
    ptype, ntask, task_weighting, desc_dim, nsf, fcomplexity, nmodel, restart, fstore : int
        As in Fortran SISSO.
    nsample : list of int
        Number of samples per task.
    ngroup : list of list of int or None
        Classification: number of samples per class for each task.
    operators : list of tuple of str
        Operators of each rung (``len == rung``).
    funit : list of tuple of int
        1-based inclusive column ranges, one unit each.
    feature_units : ndarray or None
        ``(nsf, n_units)`` unit exponents (from a ``feature_units`` file); overrides ``funit``.
    nf_sis : list of int
        SIS subspace size per dimension (``len == desc_dim``).
    notes : list of str
        Renamed/ignored keywords that were met (also issued as warnings).
    lines : dict
        Keyword -> line number in the file.
    """

    path: Path | None = None
    ptype: int = 1
    ntask: int = 1
    task_weighting: int = 1
    scmt: bool = False
    desc_dim: int = 2
    nsample: list[int] = field(default_factory=lambda: [5])
    ngroup: list[list[int]] | None = None
    restart: int = 0
    fstore: int = 1
    nsf: int = 5
    operators: list[tuple[str, ...]] = field(default_factory=list)
    fcomplexity: int = 3
    funit: list[tuple[int, int]] = field(default_factory=list)
    feature_units: np.ndarray | None = None
    fmax_min: float = 1e-3
    fmax_max: float = 1e5
    nf_sis: list[int] = field(default_factory=lambda: [50000, 50000])
    method_so: str = "L0"
    fit_intercept: bool = True
    metric: str = "RMSE"
    nmodel: int = 100
    isconvex: list[list[int]] | None = None
    bwidth: float = 0.001
    notes: list[str] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def rung(self) -> int:
        """Number of rungs (tiers) of the feature space."""
        return rung_from_fcomplexity(self.fcomplexity)

    @property
    def is_classification(self) -> bool:
        """True for ``ptype=2``."""
        return self.ptype == 2

    def unit_matrix(self) -> np.ndarray:
        """``(nsf, n_units)`` exponents of the primary features (Fortran ``feature_units``)."""
        if self.feature_units is not None:
            return np.asarray(self.feature_units, dtype=float)
        mat = np.zeros((self.nsf, len(self.funit)))
        for j, (lo, hi) in enumerate(self.funit):
            mat[lo - 1 : hi, j] = 1.0
        return mat

    def units(self) -> list[str | None]:
        """Unit string of each primary feature (``None`` = dimensionless).

        Each bracket ``j`` of ``funit`` becomes a synthetic base unit ``funit<j>`` (see
        :func:`unit_symbol`); a feature in two brackets gets their product, as in Fortran.
        """
        out: list[str | None] = []
        for row in self.unit_matrix():
            parts = []
            for j, e in enumerate(row):
                if e == 0:
                    continue
                sym = unit_symbol(j + 1)
                if e == 1:
                    parts.append(sym)
                else:
                    ex = int(e) if float(e).is_integer() else float(e)
                    parts.append(f"{sym}^{ex}")
            out.append("*".join(parts) if parts else None)
        return out

    def operators_param(self) -> tuple[str, ...] | tuple[tuple[str, ...], ...]:
        """``operators`` argument of the estimators: one tuple, or one tuple per rung."""
        if not self.operators:
            return ()
        if all(ops == self.operators[0] for ops in self.operators):
            return tuple(self.operators[0])
        return tuple(tuple(ops) for ops in self.operators)

    def n_sis_param(self) -> int | list[int]:
        """``n_sis`` argument: one int, or one per dimension when they differ."""
        if all(n == self.nf_sis[0] for n in self.nf_sis):
            return int(self.nf_sis[0])
        return [int(n) for n in self.nf_sis]

    def estimator_params(self) -> dict:
        """Keyword arguments for ``SissoRegressor`` / ``SissoClassifier``.

        Always ``fortran_compatible=True``. Classification settings (``isconvex``,
        ``bwidth``) and ``task_weighting`` are included; the runner drops those the estimator
        does not accept.
        """
        params: dict = {
            "n_dim": self.desc_dim,
            "max_complexity": self.fcomplexity,
            "operators": self.operators_param(),
            "n_sis": self.n_sis_param(),
            "units": self.units(),
            "max_abs_value": self.fmax_max,
            "min_abs_value": self.fmax_min,
            "n_models": self.nmodel,
            "fortran_compatible": True,
        }
        if self.is_classification:
            params["bwidth"] = self.bwidth
            if self.isconvex is not None:
                params["isconvex"] = self.isconvex
        else:
            params["metric"] = self.metric.lower()
            params["fit_intercept"] = self.fit_intercept
            if self.ntask > 1:
                params["task_weighting"] = self.task_weighting
        return params


# ----------------------------------------------------------------------------- parsing
def _split_entries(text: str, path: Path | None) -> tuple[dict[str, _Entry], list[str]]:
    entries: dict[str, _Entry] = {}
    notes: list[str] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        body = line.split("!", 1)[0].strip()
        if not body:
            continue
        if "=" not in body:
            raise SissoInputError(f"expected 'keyword=value', got {body!r}", path, lineno)
        key, value = body.split("=", 1)
        given = key.strip().lower()
        if not given:
            raise SissoInputError(f"missing keyword before '=' in {body!r}", path, lineno)
        name = given
        if given in RENAMED_KEYWORDS:
            name, version = RENAMED_KEYWORDS[given]
            notes.append(f"keyword '{given}' (line {lineno}) was renamed to '{name}' in SISSO "
                         f"v{version}; read as '{name}'")
        elif given in IGNORED_KEYWORDS or given.startswith(L1_PREFIXES):
            reason = IGNORED_KEYWORDS.get(given, "LASSO settings only matter for method_so='L1L0'")
            notes.append(f"keyword '{given}' (line {lineno}) is ignored: {reason}")
            name = "#" + given
        elif given in ("nvf", "vfsize", "vf2sf", "nreaction", "scmt"):
            pass  # checked below
        elif given not in KEYWORDS:
            raise SissoInputError(f"unknown keyword '{key.strip()}'", path, lineno, key.strip())
        if name in entries:
            prev = entries[name]
            raise SissoInputError(
                f"'{name}' is set twice (also as '{prev.given_as}' on line {prev.line})",
                path, lineno, given)
        entries[name] = _Entry(name, given, value.strip(), lineno)
    return entries, notes


def _parse_ops(r: _Reader, rung: int) -> list[tuple[str, ...]]:
    raw = r.raw("ops")
    if raw is None:
        raise r.error("ops", "no operators given (set e.g. ops='(+)(-)(*)(/)')")
    quoted = re.findall(r"'([^']*)'|\"([^\"]*)\"", raw)
    groups = [a or b for a, b in quoted] if quoted else [g for g in raw.split(",")]
    rest = re.sub(r"'[^']*'|\"[^\"]*\"", "", raw) if quoted else ""
    if rest.replace(",", "").strip():
        raise r.error("ops", f"cannot read {raw!r}; expected ops='(+)(-)...' or "
                             "ops='(...)','(...)' with one group per rung")
    out: list[tuple[str, ...]] = []
    for g in groups:
        g = g.replace(" ", "")
        if not re.fullmatch(r"(\([^()]+\))+", g):
            raise r.error("ops", f"cannot read operator group {g!r}; expected e.g. '(+)(-)(exp)'")
        ops = tuple(re.findall(r"\(([^()]+)\)", g))
        bad = [o for o in ops if o not in FORTRAN_OPERATORS]
        if bad:
            raise r.error("ops", f"unknown operator(s) {', '.join(bad)}; Fortran SISSO v3.5 "
                                 f"implements {' '.join('(' + o + ')' for o in FORTRAN_OPERATORS)}")
        out.append(tuple(dict.fromkeys(ops)))
    if len(out) == 1:
        return out * rung
    if len(out) != rung:
        raise r.error("ops", f"{len(out)} operator groups given but fcomplexity implies "
                             f"{rung} rung(s); give one group per rung or a single group")
    return out


def _parse_funit(r: _Reader, nsf: int) -> list[tuple[int, int]]:
    raw = r.raw("funit")
    if raw is None or "(" not in raw:
        return []
    s = _strip_quotes(raw).replace(" ", "")
    if not re.fullmatch(r"(\(\d+:\d+\))+", s):
        raise r.error("funit", f"expected column ranges like (1:8)(9:14), got {raw!r}")
    ranges = [(int(a), int(b)) for a, b in re.findall(r"\((\d+):(\d+)\)", s)]
    for lo, hi in ranges:
        if not 1 <= lo <= hi <= nsf:
            raise r.error("funit", f"range ({lo}:{hi}) is not within 1..nsf={nsf}")
    return ranges


def parse_sisso_in(text: str, path: str | Path | None = None) -> SissoConfig:
    """Parse the text of a ``SISSO.in``.

    Parameters
    ----------
    text : str
        File contents.
    path : str or Path, optional
        Used in error messages.

    Returns
    -------
    SissoConfig

    Raises
    ------
    SissoInputError
        Unknown keyword, unreadable or inconsistent value (message names file/line/keyword).
    """
    p = None if path is None else Path(path)
    entries, notes = _split_entries(text, p)
    r = _Reader(p, entries)
    c = SissoConfig(path=p, notes=notes)
    c.lines = {k: e.line for k, e in entries.items()}

    ptype_raw = r.str("ptype", "1").lower()
    if ptype_raw in ("quanti", "quali"):  # SISSO <= 2.3 spelling
        c.notes.append(f"ptype='{ptype_raw}' is the SISSO v2 spelling of "
                       f"ptype={1 if ptype_raw == 'quanti' else 2}")
        entries["ptype"].value = "1" if ptype_raw == "quanti" else "2"
    c.ptype = r.int("ptype", 1, 1, 2)
    c.ntask = r.int("ntask", 1, 1)
    c.task_weighting = r.int("task_weighting", 1, 1, 2)
    c.scmt = r.bool("scmt", False)
    if c.scmt:
        raise r.error("scmt", "sign-constrained multi-task learning is not supported")
    for key in ("nvf", "nreaction"):
        if r.int(key, 0, 0) > 0:
            what = "vector features" if key == "nvf" else "reaction learning"
            raise r.error(key, f"{what} (SISSO v3.2 and older) are not supported")
    c.desc_dim = r.int("desc_dim", 2, 1)
    if c.ptype == 2 and c.desc_dim > 3:
        raise r.error("desc_dim", f"classification supports desc_dim <= 3 (domain overlap in "
                                  f"1D-3D, as in Fortran SISSO), got {c.desc_dim}")
    c.nsf = r.int("nsf", 5, 1)
    c.fcomplexity = r.int("fcomplexity", -1, 0, 15)
    if c.fcomplexity < 0:
        rung_old = r.int("#rung", -1, 0, 4)
        c.fcomplexity = 2**rung_old - 1 if rung_old >= 0 else 3
        if rung_old >= 0:
            c.notes.append(f"rung={rung_old} without fcomplexity: using fcomplexity="
                           f"{c.fcomplexity}, the largest complexity with {rung_old} rung(s)")
    elif "#rung" in entries and r.int("#rung", -1) != c.rung:
        c.notes.append(f"rung={r.raw('#rung')} is ignored; fcomplexity={c.fcomplexity} "
                       f"gives {c.rung} rung(s)")
    c.restart = 0 if r.raw("restart") is None else _restart(r)
    if c.restart:
        c.notes.append("restart=1: the run starts from scratch (no CONTINUE file is read)")
    c.fstore = r.int("fstore", 1, 1, 2)
    c.operators = _parse_ops(r, c.rung) if c.rung > 0 else []
    c.funit = _parse_funit(r, c.nsf)
    c.fmax_min = r.float("fmax_min", 1e-3)
    c.fmax_max = r.float("fmax_max", 1e5, positive=True)
    if c.fmax_min < 0 or c.fmax_min >= c.fmax_max:
        raise r.error("fmax_min", f"need 0 <= fmax_min < fmax_max, got {c.fmax_min} and "
                                  f"{c.fmax_max}")
    nf = r.int_list("nf_sis") if r.raw("nf_sis") is not None else [50000]
    if any(n < 1 for n in nf):
        raise r.error("nf_sis", f"sizes must be positive, got {nf}")
    if len(nf) == 1:
        nf = nf * c.desc_dim
    elif len(nf) != c.desc_dim:
        raise r.error("nf_sis", f"{len(nf)} values given but desc_dim={c.desc_dim}")
    c.nf_sis = nf
    c.method_so = r.str("method_so", "L0").upper()
    if c.method_so != "L0":
        msg = "only the exact 'L0' is supported" + (
            " ('L1L0' is an approximation of L0; use method_so='L0')"
            if c.method_so == "L1L0" else "")
        raise r.error("method_so", f"got {r.raw('method_so')!r}: {msg}")
    c.fit_intercept = r.bool("fit_intercept", True)
    metric = r.str("metric", "RMSE")
    metric = {"LS_RMSE": "RMSE", "LS_MAXAE": "MaxAE"}.get(metric.upper(), metric)
    if metric.upper() not in ("RMSE", "MAXAE"):
        raise r.error("metric", f"expected 'RMSE' or 'MaxAE', got {r.raw('metric')!r}")
    c.metric = "RMSE" if metric.upper() == "RMSE" else "MaxAE"
    c.nmodel = r.int("nmodel", 100, 1)
    c.bwidth = r.float("bwidth", 0.001)
    _parse_nsample(r, c)
    for note in c.notes:
        warnings.warn(f"{p or 'SISSO.in'}: {note}", SissoInputWarning, stacklevel=3)
    return c


def _restart(r: _Reader) -> int:
    s = _strip_quotes(r.raw("restart") or "").lower()
    if s in _BOOL_TRUE | _BOOL_FALSE:  # logical before v3.2
        return int(s in _BOOL_TRUE)
    return r.int("restart", 0, 0, 1)


def _parse_nsample(r: _Reader, c: SissoConfig) -> None:
    raw = r.raw("nsample")
    if raw is None:
        raise r.error("nsample", "nsample is required (number of samples in train.dat)")
    if c.ptype == 1:
        if "(" in raw:
            raise r.error("nsample", f"{raw!r} is the classification layout (n1,n2,...); for "
                                     "regression (ptype=1) give nsample=N or N1,N2,... per task")
        ns = r.int_list("nsample")
        if len(ns) != c.ntask:
            raise r.error("nsample", f"{len(ns)} value(s) given but ntask={c.ntask}")
        if any(n < 1 for n in ns):
            raise r.error("nsample", f"sample counts must be positive, got {ns}")
        c.nsample = ns
        if r.raw("isconvex") is not None:
            c.notes.append("isconvex only matters for classification (ptype=2)")
        return
    groups = r.groups("nsample")
    if len(groups) != c.ntask:
        raise r.error("nsample", f"{len(groups)} bracket(s) given but ntask={c.ntask}; "
                                 "classification needs one (n1,n2,...) per task")
    for g in groups:
        if len(g) < 2 or any(n < 1 for n in g):
            raise r.error("nsample", f"each task needs >= 2 classes with >= 1 sample, got {g}")
    c.ngroup = groups
    c.nsample = [sum(g) for g in groups]
    if r.raw("isconvex") is not None:
        conv = r.groups("isconvex")
        if len(conv) != c.ntask or any(len(a) != len(b) for a, b in zip(conv, groups,
                                                                          strict=False)):
            raise r.error("isconvex", f"expected one value per class as in nsample={raw}, "
                                      f"got {r.raw('isconvex')}")
        if any(v not in (0, 1) for g in conv for v in g):
            raise r.error("isconvex", "values must be 0 or 1")
        c.isconvex = conv


def read_sisso_in(path: str | Path) -> SissoConfig:
    """Read a ``SISSO.in`` file; see :func:`parse_sisso_in`.

    A file ``feature_units`` (or the pre-v3.2 name ``pfdimension``) next to it overrides
    ``funit``, as in Fortran SISSO.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "SISSO.in"
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SissoInputError("file not found", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SissoInputError(f"cannot read file ({exc})", path) from None
    config = parse_sisso_in(text, path)
    for name in ("feature_units", "pfdimension"):
        fu = path.parent / name
        if fu.is_file():
            config.feature_units = read_feature_units(fu, config.nsf)
            break
    return config


def read_feature_units(path: str | Path, nsf: int) -> np.ndarray:
    """Read a Fortran ``feature_units`` file: one row of unit exponents per primary feature."""
    path = Path(path)
    rows = []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        toks = line.replace(",", " ").split()
        if not toks:
            continue
        try:
            rows.append([float(t.replace("d", "e").replace("D", "E")) for t in toks])
        except ValueError:
            raise SissoInputError(f"expected numbers, got {line.strip()!r}", path,
                                  lineno) from None
        if len(rows[-1]) != len(rows[0]):
            raise SissoInputError(f"expected {len(rows[0])} columns like the first row, got "
                                  f"{len(rows[-1])}", path, lineno)
        if len(rows) == nsf:
            break
    if len(rows) < nsf:
        raise SissoInputError(f"{len(rows)} row(s) found but nsf={nsf} features need one row "
                              "each", path)
    return np.array(rows, dtype=float)
