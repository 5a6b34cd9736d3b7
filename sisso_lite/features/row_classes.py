"""Classes of candidates with the same unit rows, so batched screening scores each row once.

Many last-rung candidates are algebraically equal (``(a*b)/c`` and ``a*(b/c)``) or equal up
to sign (``a-b`` and ``b-a``): their centred unit-norm float32 rows (see
:func:`~.materialize.candidate_rows`) are identical or exact negatives. Every quantity the
batched ensemble screen derives from a row -- weighted variances, ``|S_xr|``, the bounds
of :mod:`sisso_lite.solvers.batch_kernels` -- is the same for ``z`` and ``-z``, so it is
computed once per class and the exact scoring expands a class to its candidates.

Two candidates share a class when their rows are equal up to one global sign *and* they use
the same primary features (so a member that drops a feature hides whole classes). Rows
that must stay alone (the batch screen's *special* candidates, whose visibility depends on
the member) get a class of their own; rows marked absent (``NEVER``) get no class (-1).
Classes are numbered in the order of their first candidate.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = [
    "ABSENT", "ALONE", "MERGE", "class_members", "compact_rows", "row_classes",
    "row_classes_numpy", "row_hashes", "uses_bits",
]  # fmt: skip

ABSENT, ALONE, MERGE = 0, 1, 2
_MAGNITUDE = np.uint32(0x7FFFFFFF)


def uses_bits(uses: np.ndarray) -> np.ndarray:
    """Rows of a boolean matrix packed into int64 bit masks, 62 columns per word:
    ``(max(1, ceil(n_columns / 62)), n_rows)`` (word-major)."""
    n_words = max(1, -(-uses.shape[1] // 62))
    bits = np.zeros((n_words, uses.shape[0]), np.int64)
    for p in range(uses.shape[1]):
        bits[p // 62] |= uses[:, p].astype(np.int64) << (p % 62)
    return bits


@njit(cache=True, inline="always")
def _flip_of(z, i):
    """Sign (+1 or -1) that makes the first nonzero value of row ``i`` positive."""
    for s in range(z.shape[1]):
        if z[i, s] != 0.0:
            return np.float32(-1.0) if z[i, s] < 0.0 else np.float32(1.0)
    return np.float32(1.0)


@njit(cache=True, parallel=True)
def row_hashes(bits, uses):
    """Hash of every row's magnitudes (``bits``: a float32 matrix viewed as uint32, sign
    bits ignored, so ``z`` and ``-z`` hash alike) and primary-feature words ``uses``
    ``(n_words, n_rows)``: a sum of products with fixed odd constants (vectorises), then the
    splitmix64 finaliser."""
    n, m = bits.shape
    keys = np.empty(m + uses.shape[0], np.uint64)
    state = np.uint64(0x9E3779B97F4A7C15)
    for s in range(keys.shape[0]):
        state = state * np.uint64(6364136223846793005) + np.uint64(1442695040888963407)
        keys[s] = state | np.uint64(1)
    out = np.empty(n, np.uint64)
    for i in prange(n):
        h = np.uint64(0)
        for s in range(m):
            h += np.uint64(bits[i, s] & _MAGNITUDE) * keys[s]
        for w in range(uses.shape[0]):
            h += np.uint64(uses[w, i]) * keys[m + w]
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        out[i] = h ^ (h >> np.uint64(31))
    return out


@njit(cache=True, inline="always")
def _same(z, i, si, j, sj, uses):
    """Rows ``i`` and ``j`` equal after their sign flips, with the same feature words."""
    for w in range(uses.shape[0]):
        if uses[w, i] != uses[w, j]:
            return False
    for s in range(z.shape[1]):
        if z[i, s] * si != z[j, s] * sj:
            return False
    return True


@njit(cache=True)
def _classes_by_hash(hashes, kind, out_class, first):
    """Provisional classes: rows with equal hashes (open addressing on a power-of-two table
    of ``(hash, class)`` pairs, one cache line per probe). Returns the number of classes."""
    n = hashes.shape[0]
    size = 1
    while size < 2 * n + 2:
        size *= 2
    mask = np.uint64(size - 1)
    table = np.full((size, 2), -1, np.int64)  # (hash bits, class id)
    n_classes = 0
    for i in range(n):
        if kind[i] == ABSENT:
            out_class[i] = -1
            continue
        if kind[i] == ALONE:
            first[n_classes] = i
            out_class[i] = n_classes
            n_classes += 1
            continue
        h = hashes[i]
        key = np.int64(h)
        slot = np.int64(h & mask)
        while True:
            c = table[slot, 1]
            if c < 0:
                table[slot, 0] = key
                table[slot, 1] = n_classes
                first[n_classes] = i
                out_class[i] = n_classes
                n_classes += 1
                break
            if table[slot, 0] == key:
                out_class[i] = c
                break
            slot = np.int64((np.uint64(slot) + np.uint64(1)) & mask)
    return n_classes


@njit(cache=True, parallel=True)
def _verify_classes(z, uses, out_class, first, wrong):
    """``wrong[i]``: row ``i`` differs from its class's first row (a hash collision)."""
    for i in prange(z.shape[0]):
        c = out_class[i]
        wrong[i] = False
        if c >= 0:
            j = first[c]
            if j != i:
                wrong[i] = not _same(z, i, _flip_of(z, i), j, _flip_of(z, j), uses)


def row_classes(z: np.ndarray, hashes: np.ndarray, uses: np.ndarray, kind: np.ndarray,
                out_class: np.ndarray) -> int:
    """Class of every row of ``z`` (float32; ``hashes`` from :func:`row_hashes`).

    ``uses``: primary-feature bit words ``(n_words, n_rows)``; ``kind``: ``ABSENT``,
    ``ALONE`` or ``MERGE`` per row. Writes ``out_class`` (-1 for absent rows) and returns
    the number of classes. Rows are grouped by hash, then every row is compared with its
    class's first row; rows a hash collision put in a wrong class are made ``ALONE`` and
    the grouping is redone, so the classes are exact.
    """
    kind = np.asarray(kind, np.int8)
    first = np.empty(len(z), np.int64)
    wrong = np.empty(len(z), np.bool_)
    while True:
        n_classes = _classes_by_hash(hashes, kind, out_class, first)
        _verify_classes(z, uses, out_class, first, wrong)
        if not wrong.any():
            return int(n_classes)
        kind = np.where(wrong, np.int8(ALONE), kind)


@njit(cache=True)
def class_members(row_class, n_classes):
    """``(start, members)``: the rows of class ``c`` are ``members[start[c] : start[c + 1]]``,
    increasing (rows of class -1 are left out); as a stable argsort of ``row_class``."""
    start = np.zeros(n_classes + 1, np.int64)
    for c in row_class:
        if c >= 0:
            start[c + 1] += 1
    for c in range(n_classes):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    members = np.empty(start[n_classes], np.int64)
    for i in range(row_class.shape[0]):
        c = row_class[i]
        if c >= 0:
            members[fill[c]] = i
            fill[c] += 1
    return start, members


@njit(cache=True)
def compact_rows(z, keep):
    """``z[keep]`` for increasing ``keep``, written over the leading rows of ``z`` (no new
    array: a fresh copy of a large matrix costs page faults); returns the view."""
    for r in range(keep.shape[0]):
        src = keep[r]
        if src != r:
            z[r, :] = z[src, :]
    return z[: keep.shape[0]]


def row_classes_numpy(z: np.ndarray, uses: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Reference of :func:`row_classes` with a dictionary of canonical rows.

    ``uses``: boolean ``(n_rows, n_primary)``. Returns the class of every row.
    """
    out = np.full(len(z), -1, np.int64)
    seen: dict[bytes, int] = {}
    n_classes = 0
    for i in range(len(z)):
        if kind[i] == ABSENT:
            continue
        row = z[i].astype(np.float32)
        nonzero = np.flatnonzero(row)
        if nonzero.size and row[nonzero[0]] < 0:
            row = -row
        row = np.where(row == 0, np.float32(0.0), row)  # -0.0 and 0.0 alike
        key = row.tobytes() + np.asarray(uses[i], bool).tobytes()
        if kind[i] == MERGE and key in seen:
            out[i] = seen[key]
            continue
        if kind[i] == MERGE:
            seen[key] = n_classes
        out[i] = n_classes
        n_classes += 1
    return out
