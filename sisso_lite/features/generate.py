"""Enumeration of one rung of the SISSO feature space (Numba).

The enumeration order and the pruning rules follow Fortran SISSO v3.5 (``FC.f90``,
subroutine ``combine``): for every feature ``i`` of the newest tier, first the unary
operators in the fixed order exp, exp-, ^-1, scd, ^2, ^3, ^6, sqrt, cbrt, log, sin, cos;
then, for every partner ``j`` (all older features, then the newer features of the same tier
with ``j > i``), the binary candidates ``i+j, i-j, j-i`` (not at the last rung),
``|i-j|, i*j, i/j, j/i``.

:func:`generate_rung` serves two sinks (``mode``):

* ``MODE_RECORD``: store opcode/operands/status/fingerprint of every valid candidate
  (stored rungs; values are recomputed after the duplicate check),
* ``MODE_VALUES``: store opcode/operands and the values of every selectable candidate into a
  bounded buffer (the generic last-rung path; the caller scores the block and resumes).

It is resumable: it stops before a pair whose candidates may not fit the output buffer and
returns where to continue (``j == -1`` means "unary operators of ``i`` next"). The fused
Pearson path lives in :mod:`.fused`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import CONSTANT_TOL, INVALID, SELECTABLE, apply_op_rows, feature_status_nb
from .operators import (
    ABSDIFF,
    ADD,
    CBRT,
    COS,
    CUBE,
    DIV,
    EXP,
    EXPNEG,
    INV,
    LOG,
    MUL,
    SCD,
    SIN,
    SQ,
    SQRT,
    SUB,
)
from .operators import UNARY_ORDER as _UNARY_ORDER

MODE_RECORD, MODE_VALUES = 0, 2
MAX_PER_PAIR = 12  # upper bound of candidates emitted for one (i, j) or for the unaries of i
UNARY_ORDER = np.array(_UNARY_ORDER, dtype=np.int64)  # Fortran's fixed order


#: binary candidate bits of :func:`binary_mask`: opcode and whether the operands swap
BIN_CODE = np.array([ADD, SUB, SUB, ABSDIFF, MUL, DIV, DIV], dtype=np.int64)
BIN_SWAP = np.array([False, False, True, False, False, False, True])


@njit(cache=True, inline="always")
def _has(bits, code):
    return (bits >> code) & 1 == 1


@njit(cache=True, inline="always")
def unary_mask(bits, fortran, last, nonzero, positive, dimensionless):
    """Bit ``k`` set if ``UNARY_ORDER[k]`` applies to a feature (scalars only: no refcounts)."""
    mask = 0
    exp_or_log = last == EXP or last == EXPNEG or last == LOG
    for k in range(12):
        code = UNARY_ORDER[k]
        if not _has(bits, code):
            continue
        transcendental = code == EXP or code == EXPNEG or code == LOG or code == SCD
        transcendental = transcendental or code == SIN or code == COS
        if transcendental and not fortran and not dimensionless:
            continue
        if code == EXP or code == EXPNEG:
            if exp_or_log:
                continue
        elif code == INV:
            if not nonzero:
                continue
        elif code == SQ:
            if last == SQRT:
                continue
        elif code == CUBE:
            if last == CBRT:
                continue
        elif code == SQRT:
            if last == SQ or not positive:
                continue
        elif code == CBRT:
            if last == CUBE:
                continue
        elif code == LOG:
            if exp_or_log or not positive:
                continue
        mask |= 1 << k
    return mask


@njit(cache=True, inline="always")
def binary_mask(
    bits, is_last, i, j, oi, ai, bi, rfi, ui, nzi, oj, aj, bj, rfj, uj, nzj
):  # fmt: skip
    """Bits of :data:`BIN_CODE` that apply to the pair (``i`` new, ``j`` partner).

    ``o*`` opcode, ``a*``/``b*`` operands, ``rf*`` "right operand's string occurs first at
    the end" (Fortran's string test for ``A*B/B``), ``u*`` unit class, ``nz*`` min|f| > 1e-50.
    """
    mask = 0
    if ui == uj:
        if _has(bits, ADD):
            mask |= 1
        if _has(bits, SUB):
            mask |= 2
            if not is_last:
                mask |= 4
        if _has(bits, ABSDIFF):
            mask |= 8
    if _has(bits, MUL):
        mask |= 16
    if not _has(bits, DIV):
        return mask
    # A/(B/C)=(A*C)/B, (A/B)/C=A/(B*C): no division of divisions below the last rung
    if _has(bits, MUL) and (oi == DIV or oj == DIV) and not is_last:
        return mask
    do_ij = True
    do_ji = True
    if oi == MUL and (j == ai or (j == bi and rfi)):
        # (A*B)/B = A and B/(A*B) = A^-1
        if _has(bits, INV):
            return mask
        do_ij = False
    elif oi == MUL and oj == MUL and (aj == i or (bj == i and rfj)):
        if _has(bits, INV):
            return mask
        do_ji = False
    if do_ij and nzj:
        mask |= 32
    if do_ji and nzi:
        mask |= 64
    return mask


@njit(cache=True, inline="always")
def operator_bits(opmask):
    """Bit ``code`` set for every enabled opcode of ``opmask``."""
    bits = 0
    for code in range(opmask.shape[0]):
        if opmask[code]:
            bits |= 1 << code
    return bits


@njit(cache=True, inline="always")
def unary_candidates(
    bits, fortran, i, op, nonzero, positive, dimensionless, cand_code, cand_x, cand_y
):  # fmt: skip
    """Write the unary candidates of feature ``i`` (``UNARY_ORDER``); returns their count."""
    mask = unary_mask(bits, fortran, op[i], nonzero[i], positive[i], dimensionless[i])
    nc = 0
    for k in range(12):
        if (mask >> k) & 1:
            cand_code[nc] = UNARY_ORDER[k]
            cand_x[nc] = i
            cand_y[nc] = -1
            nc += 1
    return nc


@njit(cache=True, inline="always")
def binary_candidates(
    bits, is_last, i, j, op, arg_a, arg_b, right_first, unit_id, nonzero,
    cand_code, cand_x, cand_y,
):  # fmt: skip
    """Write the binary candidates of the pair (``i`` new, ``j`` partner); returns their count."""
    mask = binary_mask(
        bits, is_last, i, j, op[i], arg_a[i], arg_b[i], right_first[i], unit_id[i],
        nonzero[i], op[j], arg_a[j], arg_b[j], right_first[j], unit_id[j], nonzero[j],
    )  # fmt: skip
    nc = 0
    for k in range(7):
        if (mask >> k) & 1:
            cand_code[nc] = BIN_CODE[k]
            cand_x[nc] = j if BIN_SWAP[k] else i
            cand_y[nc] = i if BIN_SWAP[k] else j
            nc += 1
    return nc


@njit(cache=True, inline="always")
def partner_range(older_off, tier_flat, tier_off, budget, i):
    """Partners of ``i`` within complexity ``budget`` in the lists of :func:`.fused.partner_lists`.

    Returns ``(o_lo, n_older, t_lo, n_tier)``: the partners are ``older_flat[o_lo:o_lo +
    n_older]`` (older features), then ``tier_flat[t_lo:t_lo + n_tier]`` (tier features
    ``j > i``).
    """
    b = min(budget, older_off.shape[0] - 2)
    o_lo = older_off[b]
    n_older = older_off[b + 1] - o_lo
    t_hi = tier_off[b + 1]
    t_lo = tier_off[b] + np.searchsorted(tier_flat[tier_off[b] : t_hi], i + 1)
    return o_lo, n_older, t_lo, t_hi - t_lo


@njit(cache=True, fastmath={"reassoc", "contract"})
def feature_sums(f, y):
    """``sum f``, ``sum f^2`` and ``sum f*y`` (vectorised; NaN/inf propagate into the sums)."""
    s1 = 0.0
    s2 = 0.0
    sy = 0.0
    for s in range(f.shape[0]):
        v = f[s]
        s1 += v
        s2 += v * v
        sy += v * y[s]
    return s1, s2, sy


@njit(cache=True)
def fast_status(f, s1, s2, fortran, lower, upper):
    """:func:`feature_status_nb` from the sums when they decide it, else the exact check.

    With mean square ``m2 = s2/n``: ``m2 <= max|f|^2 <= s2``, and a feature whose centred
    sum of squares exceeds ``n * 1e-16`` (plus rounding) cannot be constant to 1e-8. The
    shortcut only answers SELECTABLE when all of this is certain; everything else (NaN,
    inf, values near the bounds) takes the exact path.
    """
    n = f.shape[0]
    if s2 <= 1e100 and s2 <= upper * upper and s2 >= n * lower * lower and s2 > n * 1e-100:
        ss = s2 - s1 * s1 / n
        if ss > 2.0 * n * CONSTANT_TOL * CONSTANT_TOL + 1e-13 * s2:
            return SELECTABLE
    return feature_status_nb(f, fortran, lower, upper)


@njit(cache=True)
def generate_rung(
    mode, i_pos, j_pos, i_end, tier_start, is_last, opmask, op, arg_a, arg_b, complexity,
    max_complexity, suffix_min_complexity, right_first, unit_id, nonzero, positive,
    dimensionless, allowed, values, fortran, lower, upper, tag,
    out_code, out_a, out_b, out_status, out_fid, out_values,
):  # fmt: skip
    """Enumerate the candidates of one rung from position ``(i_pos, j_pos)``.

    Returns ``(n_out, n_valid, next_i, next_j)``: records written, valid candidates seen
    (the Fortran feature count), and the position to resume from (``next_i == i_end`` when
    done).
    """
    n_samples = values.shape[1]
    tier_end = values.shape[0]
    buf = np.empty(n_samples)
    zeros = np.zeros(n_samples)
    cand_code = np.empty(MAX_PER_PAIR, dtype=np.int64)
    cand_x = np.empty(MAX_PER_PAIR, dtype=np.int64)
    cand_y = np.empty(MAX_PER_PAIR, dtype=np.int64)
    capacity = out_code.shape[0]
    real_cbrt = not fortran
    bits = operator_bits(opmask)
    n_out = 0
    n_valid = 0
    i = i_pos
    j = j_pos
    while i < i_end:
        if not allowed[i]:
            i += 1
            j = -1
            continue
        was_unary = j == -1
        nc = 0
        if was_unary:
            if complexity[i] + 1 <= max_complexity:
                nc = unary_candidates(
                    bits, fortran, i, op, nonzero, positive, dimensionless,
                    cand_code, cand_x, cand_y,
                )  # fmt: skip
            j = 0
        else:
            if j >= tier_end:
                i += 1
                j = -1
                continue
            if j >= tier_start and j <= i:
                j = i + 1
                continue
            if j >= tier_start and complexity[i] + suffix_min_complexity[j] + 1 > max_complexity:
                i += 1  # no partner left in the newest tier is simple enough
                j = -1
                continue
            if allowed[j] and complexity[i] + complexity[j] + 1 <= max_complexity:
                nc = binary_candidates(
                    bits, is_last, i, j, op, arg_a, arg_b, right_first, unit_id, nonzero,
                    cand_code, cand_x, cand_y,
                )  # fmt: skip
            j += 1
        if nc == 0:
            continue
        if n_out + nc > capacity:  # resume at this pair / these unaries next time
            if was_unary:
                return n_out, n_valid, i, -1
            return n_out, n_valid, i, j - 1
        for k in range(nc):
            code = cand_code[k]
            x = cand_x[k]
            y = cand_y[k]
            apply_op_rows(code, values, x, y if y >= 0 else x, buf, real_cbrt)
            s1, s2, _ = feature_sums(buf, zeros)
            status = fast_status(buf, s1, s2, fortran, lower, upper)
            if status == INVALID:
                continue
            n_valid += 1
            if mode == MODE_RECORD:
                fid = 0.0
                for s in range(n_samples):
                    fid += tag[s] * buf[s]
                out_code[n_out], out_a[n_out], out_b[n_out] = code, x, y
                out_status[n_out] = status
                out_fid[n_out] = fid  # Fortran v3.5 ftag = sum(tag*f)
                n_out += 1
            elif status == SELECTABLE:
                out_code[n_out], out_a[n_out], out_b[n_out] = code, x, y
                out_values[n_out, :] = buf
                n_out += 1
    return n_out, n_valid, i, j


@njit(cache=True)
def domain_flags(values, fortran):
    """Per feature: ``min|f| > 1e-50`` and ``min f > 0`` (gfortran NaN-ignoring minval)."""
    m, n = values.shape
    nonzero = np.zeros(m, dtype=np.bool_)
    positive = np.zeros(m, dtype=np.bool_)
    for k in range(m):
        min_abs = np.inf
        min_val = np.inf
        seen = False
        for s in range(n):
            v = values[k, s]
            if v != v:
                continue
            seen = True
            if abs(v) < min_abs:
                min_abs = abs(v)
            if v < min_val:
                min_val = v
        nonzero[k] = seen and min_abs > 1e-50
        positive[k] = seen and min_val > 0.0
    return nonzero, positive


@njit(cache=True)
def status_of_rows(values, fortran, lower, upper):
    """:func:`feature_status_nb` of every row of ``values``."""
    m = values.shape[0]
    out = np.empty(m, dtype=np.int8)
    for k in range(m):
        out[k] = feature_status_nb(values[k], fortran, lower, upper)
    return out


@njit(cache=True)
def compute_nodes_into(codes, arg_a, arg_b, values, fortran, out, offset):
    """Write the values of nodes ``(codes, arg_a, arg_b)`` into ``out[offset:]``.

    ``out`` may be ``values`` itself (operands must then lie before ``offset``).
    """
    real_cbrt = not fortran
    for k in range(codes.shape[0]):
        b = arg_b[k] if arg_b[k] >= 0 else arg_a[k]
        apply_op_rows(codes[k], values, arg_a[k], b, out[offset + k], real_cbrt)


def compute_nodes(codes, arg_a, arg_b, values, fortran):
    """Values ``(m, n)`` of new nodes ``(codes, arg_a, arg_b)`` over rows of ``values``."""
    out = np.empty((len(codes), values.shape[1]))
    compute_nodes_into(np.asarray(codes, np.int64), np.asarray(arg_a, np.int64),
                       np.asarray(arg_b, np.int64), values, fortran, out, 0)  # fmt: skip
    return out
