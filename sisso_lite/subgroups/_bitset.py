"""Bitsets: rows packed into uint64 words (bit ``r % 64`` of word ``r // 64`` is row ``r``).

Numba kernels (``@njit(cache=True)``, nopython) and their NumPy references.
Popcount and count-trailing-zeros use the LLVM intrinsics ``ctpop`` / ``cttz``.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = [
    "and_count",
    "and_count_numpy",
    "gather",
    "gather_numpy",
    "pack_rows",
    "popcount64",
    "unpack_rows",
]


@intrinsic
def _ctpop(typingctx, x):  # pragma: no cover - compiled
    if x != types.uint64:
        return None

    def codegen(context, builder, sig, args):
        return builder.ctpop(args[0])

    return types.uint64(types.uint64), codegen


@intrinsic
def _cttz(typingctx, x):  # pragma: no cover - compiled
    if x != types.uint64:
        return None

    def codegen(context, builder, sig, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))

    return types.uint64(types.uint64), codegen


@njit(cache=True)
def popcount64(x: np.uint64) -> int:
    """Number of set bits of one uint64 word."""
    return int(_ctpop(x))


@njit(cache=True)
def and_count(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> int:
    """``out = a & b``; return the number of set bits."""
    c = 0
    for i in range(a.shape[0]):
        w = a[i] & b[i]
        out[i] = w
        c += _ctpop(w)
    return c


def and_count_numpy(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """NumPy reference of :func:`and_count`."""
    w = a & b
    return w, int(np.unpackbits(w.view(np.uint8)).sum())


@njit(cache=True)
def gather(bits: np.ndarray, values: np.ndarray, buf: np.ndarray) -> int:
    """Copy ``values[r]`` for every set row ``r`` (increasing ``r``) into ``buf``."""
    c = 0
    for i in range(bits.shape[0]):
        w = bits[i]
        base = i * 64
        while w != 0:
            t = _cttz(w)
            buf[c] = values[base + t]
            c += 1
            w &= w - np.uint64(1)
    return c


def gather_numpy(bits: np.ndarray, values: np.ndarray) -> np.ndarray:
    """NumPy reference of :func:`gather`."""
    return values[unpack_rows(bits, values.shape[0])]


def pack_rows(mask: np.ndarray) -> np.ndarray:
    """Pack boolean rows (``(n,)`` or ``(m, n)``) into uint64 words (little bit order)."""
    mask = np.asarray(mask, dtype=bool)
    two_d = mask.ndim == 2
    m2 = mask if two_d else mask[None, :]
    n = m2.shape[1]
    n_words = max(1, (n + 63) // 64)
    padded = np.zeros((m2.shape[0], n_words * 64), dtype=bool)
    padded[:, :n] = m2
    packed = np.packbits(padded, axis=1, bitorder="little")
    words = np.ascontiguousarray(packed).view("<u8").astype(np.uint64)
    return words if two_d else words[0]


def unpack_rows(bits: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`pack_rows` for one bitset."""
    b = np.ascontiguousarray(bits, dtype="<u8").view(np.uint8)
    return np.unpackbits(b, bitorder="little")[:n].astype(bool)
