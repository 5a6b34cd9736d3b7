"""Values of the stored features, with the newest stored tier optionally kept as a program.

A rung-3 space stores rungs 0-2; its rung-2 tier (e.g. 168,000 features of the octet
data, 105 MB) is by far the largest array of a fit, yet each of its rows is one operator
applied to two much older rows. When the last rung cannot pair two features of that tier
(the complexity limit forbids it), the tier's rows are only ever read one at a time, as
the left operand of the last-rung candidates, so they are *virtual*: computed block by
block into a small window when a screen needs them, and never stored.

``window`` layout (what the screening kernels index): rows ``[0, start)`` are the
operand rows (all stored tiers but the virtual one); rows ``start + k`` hold virtual
feature ``lo + k`` of the current block. A kernel maps a feature index ``x`` to its window
row as ``x if x < start else x - shift`` with ``shift = lo - start``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np

from .generate import compute_nodes, compute_nodes_into, domain_flags, status_of_rows

__all__ = ["StoredValues"]

BLOCK_BYTES = 8 * 2**20  # one block of virtual rows
MIN_BLOCK_ROWS = 1024


class StoredValues:
    """Rows of the stored features: ``operands`` stored, ``[start, n_total)`` virtual.

    Parameters
    ----------
    operands : float64 (start, n_samples)
        Values of the stored features ``[0, start)``. Taken over: an array that owns its
        data is grown in place to hold the block buffer too.
    op, arg_a, arg_b : int64 (n_total,)
        Node programs of all stored features (only ``[start, n_total)`` are read: their
        operands lie below ``start``).
    fortran : bool
        Fortran SISSO arithmetic (``cbrt`` of negatives is NaN).
    block_rows : int, optional
        Virtual rows per block (default: about :data:`BLOCK_BYTES`).
    """

    def __init__(
        self,
        operands: np.ndarray,
        op: np.ndarray,
        arg_a: np.ndarray,
        arg_b: np.ndarray,
        fortran: bool,
        block_rows: int | None = None,
    ) -> None:
        self.start = operands.shape[0]
        self.n_total = len(op)
        self.n_samples = operands.shape[1]
        self.op, self.arg_a, self.arg_b = op, arg_a, arg_b
        self.fortran = bool(fortran)
        if block_rows is None:
            block_rows = max(MIN_BLOCK_ROWS, BLOCK_BYTES // (8 * max(self.n_samples, 1)))
        self.block_rows = int(min(block_rows, max(self.n_virtual, 1)))
        # operands live at the top of a buffer with room for one block of virtual rows
        extra = self.block_rows if self.n_virtual else 0
        if extra and operands.flags.owndata and operands.flags.c_contiguous:
            operands.resize((self.start + extra, self.n_samples), refcheck=False)  # no copy
            self._buffer = operands
        elif extra:
            self._buffer = np.empty((self.start + extra, self.n_samples))
            self._buffer[: self.start] = operands
        else:
            self._buffer = np.ascontiguousarray(operands)
        self._lock = threading.Lock()
        self._full: np.ndarray | None = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_lock"]  # pickled to joblib workers: each copy gets its own lock
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def n_virtual(self) -> int:
        """Number of features whose rows are computed on demand."""
        return self.n_total - self.start

    @property
    def operands(self) -> np.ndarray:
        """Stored rows ``[0, start)`` (a view)."""
        return self._buffer[: self.start]

    @property
    def nbytes(self) -> int:
        """Bytes held (operands, one block, and a materialised copy if one was asked for)."""
        return self._buffer.nbytes + (0 if self._full is None else self._full.nbytes)

    def subset(self, rows: np.ndarray) -> StoredValues:
        """The same store on the sample columns ``rows`` (repeats allowed)."""
        return StoredValues(np.ascontiguousarray(self.operands[:, rows]), self.op, self.arg_a,
                            self.arg_b, self.fortran, self.block_rows)  # fmt: skip

    def full(self, cache: bool = True) -> np.ndarray:
        """All ``n_total`` rows, materialised (kept for the next call when ``cache``).

        For consumers that read arbitrary rows (generic scorers, the batched ensemble).
        """
        if self.n_virtual == 0:
            return self.operands
        if self._full is not None:
            return self._full
        out = np.empty((self.n_total, self.n_samples))
        out[: self.start] = self.operands
        lo = self.start
        compute_nodes_into(self.op[lo:], self.arg_a[lo:], self.arg_b[lo:], out, self.fortran,
                           out, lo)  # fmt: skip
        if cache:
            self._full = out
        return out

    def blocks(self) -> Iterator[tuple[int, int, np.ndarray]]:
        """``(lo, hi, window)`` for consecutive blocks of virtual rows (see module doc).

        Without virtual rows: a single ``(start, start, operands)``. The window is reused
        between blocks: use it before asking for the next one.
        """
        if self.n_virtual == 0:
            yield self.start, self.start, self.operands
            return
        own = self._lock.acquire(blocking=False)  # a concurrent screen gets its own buffer
        try:
            buffer = self._buffer if own else self._buffer.copy()
            for lo in range(self.start, self.n_total, self.block_rows):
                hi = min(lo + self.block_rows, self.n_total)
                compute_nodes_into(self.op[lo:hi], self.arg_a[lo:hi], self.arg_b[lo:hi],
                                   buffer, self.fortran, buffer, self.start)  # fmt: skip
                yield lo, hi, buffer[: self.start + hi - lo]
        finally:
            if own:
                self._lock.release()

    def status_and_flags(
        self, lower: float, upper: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``status_of_rows`` and ``domain_flags`` (nonzero, positive) of all rows."""
        status = np.empty(self.n_total, np.int8)
        nonzero = np.empty(self.n_total, np.bool_)
        positive = np.empty(self.n_total, np.bool_)
        status[: self.start] = status_of_rows(self.operands, self.fortran, lower, upper)
        nonzero[: self.start], positive[: self.start] = domain_flags(self.operands, self.fortran)
        for lo, hi, window in self.blocks():
            if hi > lo:
                rows = window[self.start :]
                status[lo:hi] = status_of_rows(rows, self.fortran, lower, upper)
                nonzero[lo:hi], positive[lo:hi] = domain_flags(rows, self.fortran)
        return status, nonzero, positive

    def rows_of(self, index: np.ndarray) -> np.ndarray:
        """Rows ``(len(index), n_samples)`` of the stored features ``index``."""
        index = np.asarray(index, np.int64)
        if self._full is not None or self.n_virtual == 0:
            return self.full()[index]
        out = np.empty((len(index), self.n_samples))
        real = index < self.start
        out[real] = self.operands[index[real]]
        virtual = index[~real]
        out[~real] = compute_nodes(self.op[virtual], self.arg_a[virtual], self.arg_b[virtual],
                                   self.operands, self.fortran)  # fmt: skip
        return out

    def candidate_rows(self, code: np.ndarray, arg_a: np.ndarray, arg_b: np.ndarray
                       ) -> np.ndarray:  # fmt: skip
        """Values ``(m, n_samples)`` of candidates ``arg_a OP arg_b`` (``code < 0``: the
        stored feature ``arg_a`` itself) over the stored rows."""
        code, arg_a, arg_b = (np.asarray(v, np.int64) for v in (code, arg_a, arg_b))
        out = np.empty((len(code), self.n_samples))
        stored = code < 0
        out[stored] = self.rows_of(arg_a[stored])
        new = np.flatnonzero(~stored)
        if self.n_virtual == 0 or self._full is not None:
            out[new] = compute_nodes(code[new], arg_a[new], arg_b[new], self.full(), self.fortran)
            return out
        # operands of the last-rung candidates may be virtual: compute those rows into the
        # block buffer, a chunk of candidates at a time, and index them there
        half = max(1, self.block_rows // 2)  # a chunk reads at most 2 * half virtual rows
        with self._lock:
            buffer = self._buffer
            for lo in range(0, len(new), half):
                part = new[lo : lo + half]
                x, y = arg_a[part], arg_b[part]
                used = np.unique(np.r_[x[x >= self.start], y[y >= self.start]])
                compute_nodes_into(self.op[used], self.arg_a[used], self.arg_b[used], buffer,
                                   self.fortran, buffer, self.start)  # fmt: skip
                x = np.where(x >= self.start, self.start + np.searchsorted(used, x), x)
                y = np.where(y >= self.start, self.start + np.searchsorted(used, y), y)
                out[part] = compute_nodes(code[part], x, y, buffer, self.fortran)
        return out
