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
    "ABSENT", "ALONE", "MERGE", "ClassTable", "add_rows", "class_members", "row_classes",
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
def _same(za, i, sa, zb, j, sb):
    """Row ``i`` of ``za`` times ``sa`` equals row ``j`` of ``zb`` times ``sb``."""
    for s in range(za.shape[1]):
        if za[i, s] * sa != zb[j, s] * sb:
            return False
    return True


class ClassTable:
    """State of :func:`add_rows` over the blocks of one matrix of ``n`` rows (``uses``:
    the primary-feature words of all ``n`` rows, ``(n_words, n)``)."""

    def __init__(self, n: int, n_columns: int, uses: np.ndarray) -> None:
        size = 1
        while size < 2 * n + 2:
            size *= 2
        self.table = np.full((size, 2), -1, np.int64)  # (hash bits, class) per slot
        self.first = np.empty(n, np.int64)  # first row of each class
        # one row per class; np.empty maps pages lazily, only the rows written are touched
        self.rows = np.empty((n, n_columns), np.float32)
        self.row_class = np.empty(n, np.int64)
        self.uses = uses
        self.n_classes = 0

    def add(self, block: np.ndarray, hashes: np.ndarray, kind: np.ndarray, offset: int) -> None:
        """Classify rows ``offset ..`` of the matrix (``block``; hashes from
        :func:`row_hashes`, ``kind`` per row): grouped by hash, then every merged row is
        compared with its class's row (in parallel); a row that differs (a hash collision)
        gets a class of its own, so a class never holds different rows."""
        self.n_classes = add_rows(block, hashes, kind, offset, self.uses, self.table,
                                  self.first, self.rows, self.row_class, self.n_classes)
        wrong = np.empty(len(block), np.bool_)
        _verify_block(block, offset, self.uses, self.first, self.rows, self.row_class, wrong)
        for i in np.flatnonzero(wrong).tolist():  # collisions: never seen in practice
            self.rows[self.n_classes] = block[i]
            self.first[self.n_classes] = offset + i
            self.row_class[offset + i] = self.n_classes
            self.n_classes += 1


@njit(cache=True)
def add_rows(block, hashes, kind, offset, uses, table, first, rows, row_class, n_classes):
    """Provisional classes of rows ``offset + i`` (``block[i]``), continuing from
    ``n_classes``: a ``MERGE`` row joins the class of the first row with the same hash
    (open addressing on ``table``, ``(hash, class)`` per slot); a new class stores its row
    in ``rows``; ``ALONE`` rows always get a new class, ``ABSENT`` rows class -1. Returns
    the number of classes (:meth:`ClassTable.add` then checks the merges)."""
    mask = np.uint64(table.shape[0] - 1)
    for i in range(block.shape[0]):
        g = offset + i
        if kind[i] == ABSENT:
            row_class[g] = -1
            continue
        found = -1
        slot = np.int64(hashes[i] & mask)
        if kind[i] == MERGE:
            key = np.int64(hashes[i])
            while table[slot, 1] >= 0:
                if table[slot, 0] == key:
                    found = table[slot, 1]
                    break
                slot = np.int64((np.uint64(slot) + np.uint64(1)) & mask)
        if found < 0:
            found = n_classes
            rows[found] = block[i]
            first[found] = g
            n_classes += 1
            if kind[i] == MERGE:
                table[slot, 0] = np.int64(hashes[i])
                table[slot, 1] = found
        row_class[g] = found
    return n_classes


@njit(cache=True, parallel=True)
def _verify_block(block, offset, uses, first, rows, row_class, wrong):
    """``wrong[i]``: row ``offset + i`` joined a class (made before this block, or by an
    earlier row) whose row differs from it up to sign, or whose feature words differ."""
    for i in prange(block.shape[0]):
        g = offset + i
        c = row_class[g]
        wrong[i] = False
        if c >= 0 and first[c] != g:
            bad = not _same(block, i, _flip_of(block, i), rows, c, _flip_of(rows, c))
            for w in range(uses.shape[0]):
                bad |= uses[w, g] != uses[w, first[c]]
            wrong[i] = bad


def row_classes(z: np.ndarray, hashes: np.ndarray, uses: np.ndarray, kind: np.ndarray,
                out_class: np.ndarray) -> int:
    """Class of every row of ``z`` (float32; ``hashes`` from :func:`row_hashes`) in one
    block of :func:`add_rows`; writes ``out_class`` and returns the number of classes."""
    state = ClassTable(len(z), z.shape[1], uses)
    state.add(z, hashes, np.asarray(kind, np.int8), 0)
    out_class[:] = state.row_class
    return state.n_classes


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
