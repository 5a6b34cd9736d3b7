"""Small Numba kernels (arrays in, arrays out) and their pure-NumPy references.

Every ``*_nb`` kernel has a ``*_numpy`` twin with the same semantics; the tests check that
both agree. NaN handling follows gfortran (``fortran=True``): ``maxval``/``minval`` ignore
NaN entries and are NaN only when every entry is NaN. With ``fortran=False`` any non-finite
value makes a feature invalid.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

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
    SIXTH,
    SQ,
    SQRT,
    SUB,
    VAR,
)

__all__ = [
    "apply_op_nb",
    "apply_op_rows",
    "apply_op_numpy",
    "feature_status_nb",
    "feature_status_numpy",
    "run_program_nb",
    "run_program_numpy",
    "pearson_scores_nb",
    "pearson_scores_numpy",
    "INVALID",
    "STORED_ONLY",
    "SELECTABLE",
]

INVALID, STORED_ONLY, SELECTABLE = 0, 1, 2
CONSTANT_TOL = 1e-8  # Fortran goodf: max|f - f(1)| <= 1e-8 -> constant
TINY, HUGE = 1e-50, 1e50  # Fortran goodf: maxabs <= 1e-50 or > 1e50 -> rejected
THIRD = 1.0 / 3.0
INV_PI = 1.0 / math.pi


@njit(cache=True, error_model="numpy")
def apply_op_rows(
    code: int, values: np.ndarray, xi: int, yi: int, out: np.ndarray, real_cbrt: bool
) -> None:
    """``out[:] = values[xi] OP values[yi]`` (``yi`` ignored for unary operators).

    Rows are indexed inside the kernel so that callers in hot loops create no array views.
    """
    n = out.shape[0]
    x = values[xi]
    y = values[yi]
    if code == ADD:
        for s in range(n):
            out[s] = x[s] + y[s]
    elif code == SUB:
        for s in range(n):
            out[s] = x[s] - y[s]
    elif code == ABSDIFF:
        for s in range(n):
            out[s] = abs(x[s] - y[s])
    elif code == MUL:
        for s in range(n):
            out[s] = x[s] * y[s]
    elif code == DIV:
        for s in range(n):
            out[s] = x[s] / y[s]
    elif code == EXP:
        for s in range(n):
            out[s] = math.exp(x[s])
    elif code == EXPNEG:
        for s in range(n):
            out[s] = math.exp(-x[s])
    elif code == INV:
        for s in range(n):
            out[s] = 1.0 / x[s]
    elif code == SQ:
        for s in range(n):
            out[s] = x[s] * x[s]
    elif code == CUBE:
        for s in range(n):
            out[s] = x[s] * x[s] * x[s]
    elif code == SIXTH:
        for s in range(n):
            v = x[s] * x[s] * x[s]
            out[s] = v * v
    elif code == SQRT:
        for s in range(n):
            out[s] = math.sqrt(x[s]) if x[s] >= 0.0 else np.nan
    elif code == CBRT:
        for s in range(n):
            v = x[s]
            if v >= 0.0:
                out[s] = v**THIRD
            elif real_cbrt:
                out[s] = -((-v) ** THIRD)
            else:
                out[s] = np.nan  # Fortran x**(1.d0/3.d0) of a negative number
    elif code == LOG:
        for s in range(n):
            out[s] = math.log(x[s]) if x[s] > 0.0 else np.nan
    elif code == SCD:
        for s in range(n):
            out[s] = INV_PI / (1.0 + x[s] * x[s])
    elif code == SIN:
        for s in range(n):
            out[s] = math.sin(x[s])
    elif code == COS:
        for s in range(n):
            out[s] = math.cos(x[s])
    else:
        for s in range(n):
            out[s] = x[s]


@njit(cache=True, error_model="numpy")
def apply_op_nb(code: int, x: np.ndarray, y: np.ndarray, out: np.ndarray, real_cbrt: bool) -> None:
    """``out[:] = x OP y`` for 1-D arrays (``y`` ignored for unary operators)."""
    both = np.empty((2, x.shape[0]))
    both[0] = x
    both[1] = y
    apply_op_rows(code, both, 0, 1, out, real_cbrt)


def apply_op_numpy(code: int, x: np.ndarray, y: np.ndarray | None, real_cbrt: bool) -> np.ndarray:
    """NumPy reference of :func:`apply_op_nb` (returns a new array)."""
    with np.errstate(all="ignore"):
        table = {
            ADD: lambda: x + y,
            SUB: lambda: x - y,
            ABSDIFF: lambda: np.abs(x - y),
            MUL: lambda: x * y,
            DIV: lambda: x / y,
            EXP: lambda: np.exp(x),
            EXPNEG: lambda: np.exp(-x),
            INV: lambda: 1.0 / x,
            SQ: lambda: x * x,
            CUBE: lambda: x * x * x,
            SIXTH: lambda: (x * x * x) ** 2,
            SQRT: lambda: np.sqrt(x),
            CBRT: lambda: np.cbrt(x) if real_cbrt else np.where(x >= 0, np.abs(x) ** THIRD, np.nan),
            LOG: lambda: np.where(x > 0, np.log(np.abs(x)), np.nan),
            SCD: lambda: INV_PI / (1.0 + x * x),
            SIN: lambda: np.sin(x),
            COS: lambda: np.cos(x),
            VAR: lambda: x.copy(),
        }
        return np.asarray(table[code](), dtype=np.float64)


@njit(cache=True)
def feature_status_nb(f: np.ndarray, fortran: bool, lower: float, upper: float) -> int:
    """Fortran ``goodf``: 0 invalid (constant / zero / huge / non-finite), 1 stored but not
    selectable (max|f| outside [lower, upper]), 2 selectable."""
    n = f.shape[0]
    first = f[0]
    max_dev = -1.0
    max_abs = -1.0
    seen_dev = False
    seen_abs = False
    for s in range(n):
        v = f[s]
        if v != v:  # NaN
            if not fortran:
                return INVALID
            continue
        d = abs(v - first)
        if d == d:
            seen_dev = True
            if d > max_dev:
                max_dev = d
        a = abs(v)
        seen_abs = True
        if a > max_abs:
            max_abs = a
    if not fortran and max_abs > HUGE:
        return INVALID
    # all-NaN reductions are NaN in gfortran: every comparison below is then False
    if seen_dev and max_dev <= CONSTANT_TOL:
        return INVALID
    if seen_abs and (max_abs > HUGE or max_abs <= TINY):
        return INVALID
    if seen_abs and (max_abs > upper or max_abs < lower):
        return STORED_ONLY
    return SELECTABLE


def feature_status_numpy(f: np.ndarray, fortran: bool, lower: float, upper: float) -> int:
    """NumPy reference of :func:`feature_status_nb`."""
    f = np.asarray(f, dtype=np.float64)
    nan = np.isnan(f)
    if nan.any() and not fortran:
        return INVALID
    with np.errstate(invalid="ignore"):
        dev = np.abs(f - f[0])
    dev = dev[~np.isnan(dev)]
    absval = np.abs(f[~nan])
    if not fortran and absval.size and absval.max() > HUGE:
        return INVALID
    if dev.size and dev.max() <= CONSTANT_TOL:
        return INVALID
    if absval.size:
        max_abs = absval.max()
        if max_abs > HUGE or max_abs <= TINY:
            return INVALID
        if max_abs > upper or max_abs < lower:
            return STORED_ONLY
    return SELECTABLE


@njit(cache=True)
def run_program_nb(
    codes: np.ndarray, arg_a: np.ndarray, arg_b: np.ndarray, leaves: np.ndarray, real_cbrt: bool
) -> np.ndarray:
    """Evaluate an expression program; returns the values of every node ``(n_nodes, n)``.

    ``leaves`` is ``(n_leaves, n)``; a ``VAR`` node reads row ``arg_a`` of it. Nodes are in
    topological order (operands before their users).
    """
    n_nodes = codes.shape[0]
    n = leaves.shape[1]
    out = np.empty((n_nodes, n))
    for k in range(n_nodes):
        if codes[k] == VAR:
            out[k, :] = leaves[arg_a[k]]
        else:
            b = arg_b[k] if arg_b[k] >= 0 else arg_a[k]
            apply_op_rows(codes[k], out, arg_a[k], b, out[k], real_cbrt)
    return out


def run_program_numpy(
    codes: np.ndarray, arg_a: np.ndarray, arg_b: np.ndarray, leaves: np.ndarray, real_cbrt: bool
) -> np.ndarray:
    """NumPy reference of :func:`run_program_nb`."""
    out: list[np.ndarray] = []
    for code, a, b in zip(codes, arg_a, arg_b, strict=True):
        if code == VAR:
            out.append(np.asarray(leaves[a], dtype=np.float64).copy())
        else:
            out.append(apply_op_numpy(int(code), out[a], out[b] if b >= 0 else None, real_cbrt))
    return np.array(out)


@njit(cache=True)
def pearson_score_one(
    f: np.ndarray, y_unit: np.ndarray, task_index: np.ndarray, n_tasks: int, weights: np.ndarray
) -> float:
    """Quadratic (weighted) mean over tasks of |Pearson r| between ``f`` and the residual.

    ``y_unit`` is the residual centred and scaled to unit norm *within each task*; ``weights``
    sum to one. Returns NaN if ``f`` contains NaN.
    """
    n = f.shape[0]
    if n_tasks == 1:
        total = 0.0
        for s in range(n):
            total += f[s]
        mean = total / n
        dot = 0.0
        ss = 0.0
        for s in range(n):
            d = f[s] - mean
            dot += d * y_unit[s]
            ss += d * d
        if ss <= 1e-100:
            return abs(dot)
        return abs(dot) / math.sqrt(ss)
    sums = np.zeros(n_tasks)
    counts = np.zeros(n_tasks)
    for s in range(n):
        t = task_index[s]
        sums[t] += f[s]
        counts[t] += 1.0
    dots = np.zeros(n_tasks)
    sss = np.zeros(n_tasks)
    for s in range(n):
        t = task_index[s]
        d = f[s] - sums[t] / counts[t]
        dots[t] += d * y_unit[s]
        sss[t] += d * d
    acc = 0.0
    for t in range(n_tasks):
        r = abs(dots[t]) if sss[t] <= 1e-100 else abs(dots[t]) / math.sqrt(sss[t])
        acc += weights[t] * r * r
    return math.sqrt(acc)


@njit(cache=True)
def pearson_scores_nb(
    values: np.ndarray,
    y_unit: np.ndarray,
    task_index: np.ndarray,
    n_tasks: int,
    weights: np.ndarray,
) -> np.ndarray:
    """:func:`pearson_score_one` for every row of ``values`` ``(m, n)``."""
    m = values.shape[0]
    out = np.empty(m)
    for k in range(m):
        out[k] = pearson_score_one(values[k], y_unit, task_index, n_tasks, weights)
    return out


def pearson_scores_numpy(
    values: np.ndarray,
    y_unit: np.ndarray,
    task_index: np.ndarray,
    n_tasks: int,
    weights: np.ndarray,
) -> np.ndarray:
    """NumPy reference of :func:`pearson_scores_nb`."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    acc = np.zeros(values.shape[0])
    for t in range(n_tasks):
        mask = task_index == t
        block = values[:, mask]
        centred = block - block.mean(axis=1, keepdims=True)
        dot = np.abs(centred @ y_unit[mask])
        norm = np.sqrt((centred**2).sum(axis=1))
        with np.errstate(all="ignore"):
            r = np.where(norm**2 <= 1e-100, dot, dot / norm)
        acc += weights[t] * r**2
    return np.sqrt(acc)
