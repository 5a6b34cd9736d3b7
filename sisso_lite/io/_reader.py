"""Reading Fortran-style values (integers, reals with ``d`` exponents, logicals, lists).

Internal helper of :mod:`sisso_lite.io.sisso_in`: every conversion error becomes a
:class:`SissoInputError` that names the file, line and keyword.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sisso_lite.io.errors import SissoInputError

_BOOL_TRUE = {".true.", "true", "t", ".t."}
_BOOL_FALSE = {".false.", "false", "f", ".f."}


@dataclass
class _Entry:
    keyword: str  # v3.5 name
    given_as: str  # as written (lower case)
    value: str
    line: int


def _strip_quotes(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return s


class _Reader:
    """Converts the raw values of one file, raising errors with file/line/keyword."""

    def __init__(self, path: Path | None, entries: dict[str, _Entry]) -> None:
        self.path = path
        self.entries = entries

    def error(self, key: str, message: str) -> SissoInputError:
        e = self.entries.get(key)
        line = e.line if e else None
        kw = e.given_as if e else key
        return SissoInputError(message, self.path, line, kw)

    def raw(self, key: str) -> str | None:
        e = self.entries.get(key)
        return None if e is None else e.value

    def int(self, key: str, default: int, lo: int | None = None, hi: int | None = None) -> int:
        raw = self.raw(key)
        if raw is None:
            return default
        s = _strip_quotes(raw)
        try:
            v = int(s)
        except ValueError:
            raise self.error(key, f"expected an integer, got {raw!r}") from None
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = f"{lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}"
            raise self.error(key, f"value {v} is out of range {rng}")
        return v

    def float(self, key: str, default: float, positive: bool = False) -> float:
        raw = self.raw(key)
        if raw is None:
            return default
        s = _strip_quotes(raw).replace("d", "e").replace("D", "E")
        try:
            v = float(s)
        except ValueError:
            raise self.error(key, f"expected a real number, got {raw!r}") from None
        if not np.isfinite(v) or (positive and v <= 0):
            raise self.error(key, f"expected a {'positive ' if positive else ''}finite number, "
                                  f"got {raw!r}")
        return v

    def bool(self, key: str, default: bool) -> bool:
        raw = self.raw(key)
        if raw is None:
            return default
        s = _strip_quotes(raw).lower()
        if s in _BOOL_TRUE:
            return True
        if s in _BOOL_FALSE:
            return False
        raise self.error(key, f"expected .true. or .false., got {raw!r}")

    def str(self, key: str, default: str) -> str:
        raw = self.raw(key)
        return default if raw is None else _strip_quotes(raw)

    def int_list(self, key: str, raw: str | None = None) -> list[int]:
        raw = self.raw(key) if raw is None else raw
        toks = [t for t in re.split(r"[,\s]+", (raw or "").strip()) if t]
        try:
            vals = [int(t) for t in toks]
        except ValueError:
            raise self.error(key, f"expected integers separated by commas, got {raw!r}") from None
        if not vals:
            raise self.error(key, "no value given")
        return vals

    def groups(self, key: str) -> list[list[int]]:
        raw = self.raw(key) or ""
        rest = re.sub(r"\([^()]*\)", "", raw)
        if rest.replace(",", "").strip():
            raise self.error(key, f"expected brackets like (n1,n2),(m1,m2), got {raw!r}")
        groups = [self.int_list(key, g) for g in re.findall(r"\(([^()]*)\)", raw)]
        if not groups:
            raise self.error(key, f"expected brackets like (n1,n2), got {raw!r}")
        return groups
