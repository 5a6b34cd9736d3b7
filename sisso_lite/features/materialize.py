"""Materialised feature space: every candidate any restricted screen could select, stored once.

:meth:`FeatureSpace.screen` with ``rows``/``allowed_primary`` (ensemble members) generates
the last rung on the fly with *member* domain flags (``min|f| > 1e-50``, ``min f > 0`` on the
member's rows), so a member may see candidates that the full data does not allow (``a/b``
with ``b`` zero on an out-of-bag row only). :func:`materialize` enumerates the last rung with
permissive flags (a superset of every member's candidates, in the same order), and splits
the candidates (stored features first, code ``-1``) into

* candidates no member can ever select (on the finite values ``max f - min f <= 1e-8``,
  ``max|f| < min_abs_value`` or ``<= 1e-50``, or no finite value), which are dropped;
* the others, whose finite values are stored centred and scaled to unit norm (float32, 0 at
  non-finite values) for batched approximate scoring with matrix products;
* among those the *special* ones: non-finite on some build rows, or needing a domain flag
  that fails on the full data; a member may use them only when its rows avoid the
  non-finite values (a non-finite value on the member rows makes a candidate invalid or
  its score NaN in ``screen``) and its own domain flags allow them.
 The member-specific rules (allowed primary
features, domain flags, validity and bounds on the member rows) are applied by the caller
(:mod:`sisso_lite.solvers.batch`) exactly as ``screen`` applies them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

from .fused import partner_lists
from .generate import (
    MAX_PER_PAIR,
    binary_candidates,
    compute_nodes,
    operator_bits,
    partner_range,
    unary_candidates,
)
from .kernels import TINY, apply_op_rows
from .operators import DIV, INV, LOG, SQRT, operator_mask
from .row_classes import (
    ABSENT,
    ALONE,
    MERGE,
    ClassTable,
    class_members,
    row_hashes,
    uses_bits,
)

if TYPE_CHECKING:
    from .space import FeatureSpace

__all__ = [
    "MaterializedSpace", "enumerate_last_rung", "last_rung", "materialize",
    "materialized_bytes",
]  # fmt: skip



@njit(cache=True)
def enumerate_last_rung(
    tier_start, tier_stop, opmask, op, arg_a, arg_b, complexity, max_complexity, right_first,
    unit_id, nonzero, positive, dimensionless, fortran, older_flat, older_off, tier_flat,
    tier_off, out_code, out_x, out_y,
):  # fmt: skip
    """``(code, x, y)`` of the last-rung candidates in the order of the fused kernel.

    Same loops and rules as :func:`.fused.screen_last_rung_pearson` without values (no
    validity check). Writes at most ``len(out_code)`` records; returns the total count (the
    caller retries with larger buffers when it exceeds the capacity).
    """
    capacity = out_code.shape[0]
    cand_code = np.empty(MAX_PER_PAIR, np.int64)
    cand_x = np.empty(MAX_PER_PAIR, np.int64)
    cand_y = np.empty(MAX_PER_PAIR, np.int64)
    bits = operator_bits(opmask)
    n_out = 0
    for i in range(tier_start, tier_stop):
        budget = max_complexity - 1 - complexity[i]
        if budget < 0:
            continue
        nc = unary_candidates(
            bits, fortran, i, op, nonzero, positive, dimensionless, cand_code, cand_x, cand_y
        )  # fmt: skip
        o_lo, n_older, t_lo, n_tier = partner_range(older_off, tier_flat, tier_off, budget, i)
        for p in range(-1, n_older + n_tier):
            if p >= 0:
                j = older_flat[o_lo + p] if p < n_older else tier_flat[t_lo + p - n_older]
                nc = binary_candidates(
                    bits, True, i, j, op, arg_a, arg_b, right_first, unit_id, nonzero,
                    cand_code, cand_x, cand_y,
                )  # fmt: skip
            for k in range(nc):
                if n_out < capacity:
                    out_code[n_out] = cand_code[k]
                    out_x[n_out] = cand_x[k]
                    out_y[n_out] = cand_y[k]
                n_out += 1
    return n_out


NEVER, REGULAR, NONFINITE = 0, 1, 2
_BLOCK = 32768  # candidates evaluated and classified at a time by materialize


@njit(cache=True, error_model="numpy")
def _candidate_rows_range(code, arg_a, arg_b, values, fortran, lower, out_z, out_kind, lo, hi):
    """:func:`candidate_rows` for candidates ``lo <= k < hi``."""
    n = values.shape[1]
    buf = np.empty(n)
    real_cbrt = not fortran
    for k in range(lo, hi):
        if code[k] < 0:
            buf[:] = values[arg_a[k]]
        else:
            y = arg_b[k] if arg_b[k] >= 0 else arg_a[k]
            apply_op_rows(code[k], values, arg_a[k], y, buf, real_cbrt)
        vmax = -np.inf
        vmin = np.inf
        total = 0.0
        count = 0
        for s in range(n):
            v = buf[s]
            if np.isfinite(v):
                vmax = max(vmax, v)
                vmin = min(vmin, v)
                total += v
                count += 1
        max_abs = max(abs(vmax), abs(vmin))
        if count == 0 or vmax - vmin <= 1e-8 or max_abs < lower or max_abs <= TINY:
            out_kind[k] = NEVER
            continue
        mean = total / count
        ss = 0.0
        for s in range(n):
            if np.isfinite(buf[s]):
                ss += (buf[s] - mean) ** 2
        scale = 1.0 / np.sqrt(ss)
        for s in range(n):
            out_z[k, s] = (buf[s] - mean) * scale if np.isfinite(buf[s]) else 0.0
        out_kind[k] = REGULAR if count == n else NONFINITE


@njit(cache=True, parallel=True)
def candidate_rows(code, arg_a, arg_b, values, fortran, lower, out_z, out_kind):
    """Classify candidates and write their unit-norm centred values (float32).

    Statistics use the finite values only (a member sees a candidate only when its rows
    avoid the non-finite ones). ``out_kind``: ``NEVER`` (no finite value, or on the finite
    values ``max - min <= 1e-8`` or ``max|f| < lower`` or ``<= 1e-50``: no subset of rows
    makes it selectable; row of ``out_z`` left untouched), ``NONFINITE`` (some value
    NaN/inf; ``out_z`` is 0 there) or ``REGULAR``. Code ``-1`` is stored feature ``a``.
    """
    m = code.shape[0]
    n_blocks = (m + 1023) // 1024
    for blk in prange(n_blocks):
        _candidate_rows_range(code, arg_a, arg_b, values, fortran, lower, out_z, out_kind,
                              blk * 1024, min(m, blk * 1024 + 1024))


def candidate_rows_numpy(
    code: np.ndarray, arg_a: np.ndarray, arg_b: np.ndarray, values: np.ndarray,
    fortran: bool, lower: float,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """NumPy reference of :func:`candidate_rows`: ``(z float64, kind)``."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        vals = _values_of(code, arg_a, arg_b, values, fortran)
        fin = np.isfinite(vals)
        masked = np.where(fin, vals, np.nan)
        count = fin.sum(axis=1)
        vmax, vmin = np.nanmax(masked, axis=1), np.nanmin(masked, axis=1)
        max_abs = np.maximum(np.abs(vmax), np.abs(vmin))
        never = (count == 0) | (vmax - vmin <= 1e-8) | (max_abs < lower) | (max_abs <= TINY)
        centred = masked - np.nanmean(masked, axis=1, keepdims=True)
        unit = centred / np.sqrt(np.nansum(centred**2, axis=1, keepdims=True))
    z = np.where(fin & ~never[:, None], unit, 0.0)
    kind = np.where(count == vals.shape[1], REGULAR, NONFINITE).astype(np.int8)
    kind[never] = NEVER
    return z, kind


@dataclass
class MaterializedSpace:
    """Candidates of a :class:`FeatureSpace` for batched screening (see the module doc).

    Attributes
    ----------
    code, a, b : ndarray of int64
        Candidate ``a OP b`` (``code == -1``: stored feature ``a``), in screen order.
    regular : ndarray of int64
        Candidates some member may select (all but the ``NEVER`` ones).
    z : ndarray (n_rows, n_samples), float32
        One row per class of regular candidates (:mod:`.row_classes`: same values up to
        sign and same primary features; special candidates alone): values centred and
        scaled to unit norm over the finite build values (0 at non-finite values), the
        row of the class's first candidate.
    row_of : ndarray (n_candidates,) of int64
        Class (row of ``z``) of every candidate; -1 for ``NEVER`` candidates.
    row_start, row_members : ndarray of int64
        Candidates of class ``r``: ``row_members[row_start[r] : row_start[r + 1]]``
        (increasing; the first is the class's first candidate).
    bits : ndarray (n_words, n_candidates) of int64
        Primary features each candidate uses, packed by :func:`.row_classes.uses_bits`.
    special : ndarray of int64
        Regular candidates with non-finite values or a domain condition that fails on the
        full data: a member may use them only if its rows avoid ``bad_rows`` and its
        domain flags hold.
    bad_rows : ndarray (len(special), n_samples) of bool
        Rows where a special candidate is non-finite.
    need_nonzero, need_positive : ndarray of int64
        Stored feature that must be nonzero / positive on the member rows (-1: none).
    """

    code: np.ndarray
    a: np.ndarray
    b: np.ndarray
    regular: np.ndarray
    z: np.ndarray
    row_of: np.ndarray
    row_start: np.ndarray
    row_members: np.ndarray
    bits: np.ndarray
    special: np.ndarray
    bad_rows: np.ndarray
    need_nonzero: np.ndarray
    need_positive: np.ndarray

    def candidates_of(self, rows: np.ndarray) -> np.ndarray:
        """Candidates of the classes ``rows`` (sorted)."""
        rows = np.asarray(rows, np.int64)
        start, stop = self.row_start[rows], self.row_start[rows + 1]
        counts = stop - start
        if counts.size == 0:
            return np.empty(0, np.int64)
        offsets = np.repeat(start - np.cumsum(counts) + counts, counts)
        return np.sort(self.row_members[offsets + np.arange(counts.sum())])


def last_rung(space: FeatureSpace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All last-rung candidates with permissive domain flags (all features allowed)."""
    n_total = space.n_stored_
    if space.n_rungs_ < 1:
        return (np.empty(0, np.int64),) * 3
    inputs = space._rung_inputs(space._values)
    opmask = np.array(operator_mask(space.operator_sets_[space.n_rungs_ - 1]), dtype=np.bool_)
    allowed = np.ones(n_total, dtype=np.bool_)
    start = inputs["tier_start"]
    max_budget = max(space.max_complexity - 1, 0)
    older = partner_lists(space._complexity, allowed, 0, start, max_budget)
    tier = partner_lists(space._complexity, allowed, start, n_total, max_budget)
    every = np.ones(n_total, dtype=np.bool_)
    cap = 1 << 20
    while True:
        out = tuple(np.empty(cap, np.int64) for _ in range(3))
        n = enumerate_last_rung(
            start, n_total, opmask, space._op, space._a, space._b, space._complexity,
            space.max_complexity, inputs["right_first"], inputs["unit_id"], every, every,
            inputs["dimensionless"], space._fortran, *older, *tier, *out,
        )  # fmt: skip
        if n <= cap:
            return out[0][:n].copy(), out[1][:n].copy(), out[2][:n].copy()
        cap = int(n)


def materialized_bytes(space: FeatureSpace, n_members: int,
                       enumeration: tuple | None = None) -> int:
    """Rough memory need of :func:`materialize` plus batched scoring of ``n_members``
    (``enumeration``: :func:`last_rung` of the space, if already made)."""
    if enumeration is None:
        enumeration = last_rung(space)
    n_cand = space.n_stored_ + len(enumeration[0])
    return int(n_cand * (4 * space.n_samples_ + 40 + 8 * n_members))


def materialize(space: FeatureSpace, enumeration: tuple | None = None) -> MaterializedSpace:
    """Enumerate, evaluate and classify every candidate of ``space`` (see the module doc);
    ``enumeration``: :func:`last_rung` of the space, if already made."""
    space._check_built()
    n_stored = space.n_stored_
    lc, la, lb = last_rung(space) if enumeration is None else enumeration
    code = np.concatenate([np.full(n_stored, -1, np.int64), lc])
    a = np.concatenate([np.arange(n_stored, dtype=np.int64), la])
    b = np.concatenate([np.full(n_stored, -1, np.int64), lb])
    nonzero_full, positive_full = _full_flags(space)
    need_nz = np.where(code == DIV, b, np.where(code == INV, a, -1))
    need_pos = np.where((code == SQRT) | (code == LOG), a, -1)
    conditional = ((need_nz >= 0) & ~nonzero_full[np.maximum(need_nz, 0)]) | (
        (need_pos >= 0) & ~positive_full[np.maximum(need_pos, 0)])
    stored_bits = uses_bits(space._uses)
    bits = stored_bits[:, a] | np.where(b >= 0, stored_bits[:, np.maximum(b, 0)], 0)
    kind = np.empty(len(code), dtype=np.int8)
    classes = ClassTable(len(code), space.n_samples_, bits)
    block = np.empty((min(len(code), _BLOCK), space.n_samples_), dtype=np.float32)
    for lo in range(0, len(code), _BLOCK):  # rows of a block, then their classes
        hi = min(lo + _BLOCK, len(code))
        rows, block_kind = block[: hi - lo], kind[lo:hi]  # NEVER rows stay unwritten
        with np.errstate(all="ignore"):
            candidate_rows(code[lo:hi], a[lo:hi], b[lo:hi], space._values, space._fortran,
                           space._lower, rows, block_kind)
        alone = (block_kind == NONFINITE) | conditional[lo:hi]
        row_kind = np.where(block_kind == NEVER, ABSENT,
                            np.where(alone, ALONE, MERGE)).astype(np.int8)
        classes.add(rows, row_hashes(rows.view(np.uint32), bits[:, lo:hi]), row_kind, lo)
    regular = np.flatnonzero(kind != NEVER)
    special = np.flatnonzero((kind == NONFINITE) | (conditional & (kind != NEVER)))
    row_of, n_rows = classes.row_class, classes.n_classes
    row_start, row_members = class_members(row_of, n_rows)
    z = classes.rows[:n_rows]  # only these rows of the buffer were ever written
    bad_rows = np.zeros((len(special), space.n_samples_), dtype=bool)
    if len(special):
        fin_check = kind[special] == NONFINITE
        vals = _values_of(code[special[fin_check]], a[special[fin_check]],
                          b[special[fin_check]], space._values, space._fortran)
        bad_rows[fin_check] = ~np.isfinite(vals)
    return MaterializedSpace(code=code, a=a, b=b, regular=regular, z=z,
                             row_of=row_of, row_start=row_start, row_members=row_members,
                             bits=bits, special=special,
                             bad_rows=bad_rows, need_nonzero=need_nz,
                             need_positive=need_pos)


def _full_flags(space: FeatureSpace) -> tuple[np.ndarray, np.ndarray]:
    inputs = space._rung_inputs(space._values)
    return np.asarray(inputs["nonzero"]), np.asarray(inputs["positive"])


def _values_of(code: np.ndarray, a: np.ndarray, b: np.ndarray, values: np.ndarray,
               fortran: bool) -> np.ndarray:
    """Values of candidates ``(code, a, b)`` (code -1: row ``a``) on the rows of ``values``."""
    out = np.empty((len(code), values.shape[1]))
    stored = code < 0
    out[stored] = values[a[stored]]
    if np.any(~stored):
        out[~stored] = compute_nodes(code[~stored], a[~stored], b[~stored], values, fortran)
    return out
