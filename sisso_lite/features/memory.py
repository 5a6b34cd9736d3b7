"""Memory guard: refuse a feature-space configuration whose arrays would not fit.

A rung that is too large is otherwise found out by the operating system (the process is
killed without a message). :class:`FeatureSpace` instead checks, before each large
allocation, the bytes it is about to hold against a limit and raises
:class:`MemoryLimitError` naming what to change:

* the candidate records of a stored rung (``code, a, b, fingerprint``: 32 B per candidate,
  checked while they are generated);
* the values of the stored rungs (``n_stored x n_samples x 8`` B; the newest tier costs
  nothing when it is kept virtual, ``storage.StoredValues``);
* a SIS: the candidates kept before duplicate removal (``8 n_sis + 64`` from the stored
  rungs and as many from the last rung, each ``n_samples x 8`` B, plus the per-chunk top
  lists of the fused kernel) and, for a generic scorer, the materialised stored values.

The limit is, in order: the ``memory_limit`` argument of :class:`FeatureSpace` (bytes),
the environment variable ``SISSO_LITE_MEMORY_LIMIT`` (bytes, ``"4GB"``, ``"512MiB"`` or a
percentage of RAM such as ``"50%"``), else 75 % of the machine's RAM (or of the cgroup
limit when lower). ``SISSO_LITE_MEMORY_LIMIT=none`` disables the guard.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

__all__ = ["MemoryLimitError", "check_memory", "check_rung_records", "check_rung_values",
           "check_screen", "format_bytes", "memory_limit", "total_ram"]

DEFAULT_FRACTION = 0.75
ENV = "SISSO_LITE_MEMORY_LIMIT"
_UNITS = {"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}  # fmt: skip
ADVICE = ("lower max_complexity, use fewer operators or primary features (smaller stored "
          "rungs), lower n_sis, or raise the limit (FeatureSpace(memory_limit=...) or the "
          f"environment variable {ENV}, e.g. {ENV}=16GB; {ENV}=none disables the check)")


class MemoryLimitError(MemoryError):
    """A configuration needs more memory than the limit (:func:`memory_limit`)."""


def total_ram() -> int:
    """Physical RAM in bytes, or the cgroup (container) limit when that is lower."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < ram:
            ram = int(text)
    return int(ram)


def parse_limit(text: str | float | int, what: str = ENV) -> float | None:
    """Bytes of a limit given as a number, ``"4GB"``, ``"512MiB"``, ``"50%"`` or ``"none"``."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if not text > 0:
            raise ValueError(f"{what}={text!r}: the memory limit must be > 0 bytes")
        return float(text)
    s = str(text).strip().lower()
    if s in ("none", "off", "inf", "0"):
        return None
    m = re.fullmatch(r"([0-9.]+(?:e[+-]?\d+)?)\s*(%|[kmgt]i?b|b)?", s)
    if m is None:
        raise ValueError(f"{what}={text!r} is not a memory size (e.g. 4GB, 512MiB, 50%, none)")
    value, unit = float(m.group(1)), m.group(2) or ""
    if unit == "%":
        if not 0 < value <= 100:
            raise ValueError(f"{what}={text!r}: a percentage must lie in (0, 100]")
        return value / 100 * total_ram()
    if not value > 0:
        raise ValueError(f"{what}={text!r}: the memory limit must be > 0 bytes")
    return value * _UNITS[unit]


def memory_limit(explicit: str | float | int | None = None) -> float | None:
    """The limit in bytes (``None``: no limit); see the module docstring for the order."""
    if explicit is not None:
        return parse_limit(explicit, "memory_limit")
    env = os.environ.get(ENV)
    if env is not None and env.strip():
        return parse_limit(env)
    return DEFAULT_FRACTION * total_ram()


def format_bytes(n: float) -> str:
    """``1.23 GB``-style size (decimal units)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def check_memory(what: str, nbytes: float, detail: str,
                 explicit: str | float | int | None = None) -> None:  # fmt: skip
    """Raise :class:`MemoryLimitError` when ``nbytes`` exceeds the limit.

    Parameters
    ----------
    what : str
        The step about to allocate (``"rung 2 values"``).
    nbytes : float
        Estimated bytes held after the allocation.
    detail : str
        How ``nbytes`` is made up (shown in the message).
    explicit : optional
        An explicit limit (``FeatureSpace(memory_limit=...)``).
    """
    limit = memory_limit(explicit)
    if limit is None or nbytes <= limit:
        return
    raise MemoryLimitError(
        f"{what} would need about {format_bytes(nbytes)} ({detail}), above the memory limit "
        f"of {format_bytes(limit)}; {ADVICE}"
    )


def check_rung_records(space: Any, rung: int, n_records: int) -> None:
    """Guard while the candidates of stored rung ``rung`` of ``space`` are recorded."""
    held = space._operand_rows.nbytes
    check_memory(f"building rung {rung}", held + 32 * n_records,
                 f"{n_records:,} candidate records x 32 B + {format_bytes(held)} of stored "
                 f"values, max_complexity={space.max_complexity}",
                 space.memory_limit)  # fmt: skip


def check_rung_values(space: Any, rung: int, n_new: int, virtual: bool) -> None:
    """Guard before the values of stored rung ``rung`` (``n_new`` features) are allocated."""
    n_old, n = len(space._names), space.n_samples_
    rows = n_old if virtual else 2 * n_old + n_new  # old rows + the grown copy
    nbytes = 8 * n * rows + 8 * 5 * (n_old + n_new)  # values + programs and flags
    check_memory(f"storing rung {rung} ({n_new:,} features)", nbytes,
                 f"{rows:,} rows x {n} samples x 8 B" + (" (rung kept virtual)" if virtual
                                                         else "")
                 + f", max_complexity={space.max_complexity}", space.memory_limit)


def check_screen(space: Any, store: Any, n_sis: int, keep: int, n_chunks: int,
                 materialise: bool) -> None:  # fmt: skip
    """Guard before a SIS: kept candidates, per-chunk top lists, materialised values."""
    n = store.n_samples
    cand = 2 * keep * n * 8 * 2  # candidate rows, normalised copy
    tops = n_chunks * keep * 32
    full = 8 * n * store.n_total if materialise and store.n_virtual else 0
    nbytes = store.nbytes + cand + tops + full
    check_memory(f"SIS with n_sis={n_sis}", nbytes,
                 f"{format_bytes(store.nbytes)} stored values + 2 x {keep:,} candidates x "
                 f"{n} samples x 16 B + {format_bytes(tops)} top lists"
                 + (f" + {format_bytes(full)} materialised rows" if full else ""),
                 getattr(space, "memory_limit", None))
