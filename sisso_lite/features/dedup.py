"""Duplicate removal among the new features of one rung (Fortran SISSO ``dup_scheck``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["DUPLICATE_TOL", "unique_by_fingerprint"]

DUPLICATE_TOL = 1e-8  # Fortran dup_scheck on the fingerprint sum(tag * f)


def unique_by_fingerprint(
    fid: np.ndarray,
    comp: np.ndarray,
    names: Sequence[str] | Callable[[int], str],
    same_values: Any = None,
    fortran: bool = False,
) -> np.ndarray:
    """Indices (in generation order) kept after removing duplicates of the same rung.

    As Fortran ``dup_scheck``: features are visited in generation order; a feature whose
    fingerprint ``sum(tag * f)`` lies within 1e-8 of a kept representative is a duplicate,
    and the simpler of the two stays representative (Fortran: shorter name, then
    alphabetical; default: lower complexity first; ``same_values`` additionally confirms
    the values agree, so accidental fingerprint collisions do not drop features),
    carrying *its* fingerprint. The relation is not transitive: a chain of fingerprints
    spaced by just under 1e-8 can leave several representatives (as in Fortran).
    """
    name_of = names if callable(names) else names.__getitem__
    order = np.argsort(fid, kind="stable")
    sorted_fid = fid[order]
    finite = ~np.isnan(sorted_fid)
    linked = finite[:-1] & finite[1:] & (np.diff(sorted_fid) <= DUPLICATE_TOL)
    keep_mask = np.ones(len(fid), dtype=bool)

    def simpler_key(k: int) -> tuple:
        name = name_of(k)
        if fortran:
            return (len(name), name)
        return (int(comp[k]), len(name), name)

    # groups of consecutive fingerprints linked by gaps <= tol (singletons need no work)
    starts = np.flatnonzero(linked & ~np.r_[False, linked[:-1]])
    for first in starts.tolist():
        last = first + 1
        while last < len(linked) and linked[last]:
            last += 1
        group = order[first : last + 1]
        keep_mask[group] = False
        reps: list[int] = []
        for g in sorted(group.tolist()):
            close = [r for r in reps if abs(fid[g] - fid[r]) <= DUPLICATE_TOL]
            if same_values is not None:
                close = [r for r in close if same_values(g, r)]
            if not close:
                reps.append(g)
                continue
            r = min(close, key=lambda r: abs(fid[g] - fid[r]))
            if simpler_key(g) < simpler_key(r):
                reps[reps.index(r)] = g
        keep_mask[reps] = True
    return np.flatnonzero(keep_mask)
