"""Pure-Python/NumPy reference of the rung enumeration (slow; for tests on small spaces).

Written independently of the Numba kernels, close to Fortran SISSO's ``combine``: the
``A*B/B`` rule uses Fortran's string test on the feature names, the checks use NumPy
reductions with gfortran's NaN-ignoring ``maxval``/``minval``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .expression import format_node
from .kernels import INVALID, apply_op_numpy, feature_status_numpy
from .operators import CODE, TRANSCENDENTAL, UNARY_ORDER

if TYPE_CHECKING:
    from .space import FeatureSpace


def _nan_min(v: np.ndarray) -> float:
    v = v[~np.isnan(v)]
    return float(v.min()) if v.size else float("nan")


def domain_flags_numpy(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NumPy reference of :func:`.generate.domain_flags`."""
    nonzero = np.array([_nan_min(np.abs(v)) > 1e-50 for v in values], dtype=bool)
    positive = np.array([_nan_min(v) > 0 for v in values], dtype=bool)
    return nonzero, positive


def _fortran_factor_test(product: str, factor: str) -> bool:
    """Fortran's test that ``factor`` is the first or last factor of the string ``product``."""
    k = product.find(factor)
    if k < 0:
        return False
    first = k == 1 and product[k + len(factor) : k + len(factor) + 1] == "*"
    last = len(product) - k == len(factor) + 1 and product[k - 1] == "*"
    return first or last


def enumerate_rung_numpy(space: FeatureSpace, rung: int, values: np.ndarray | None = None):
    """Valid candidates ``(code, a, b, status)`` of ``rung`` built on the stored rungs below it.

    ``space`` must have stored every rung below ``rung`` (``rung <= space.n_rungs_``).
    """
    values = space._values if values is None else values
    fortran = space._fortran
    ops = {CODE[name] for name in space.operator_sets_[rung - 1]}
    last_rung = rung == space.n_rungs_
    start = space._tier_starts[rung - 1]
    stop = space._tier_starts[rung] if rung < len(space._tier_starts) else space.n_stored_
    names, op, comp = space._names[:stop], space._op, space._complexity
    units = space._unit_vec
    nonzero, positive = domain_flags_numpy(values[:stop])
    dimensionless = np.all(np.abs(units) < 1e-8, axis=1)
    out = []

    def emit(code: int, a: int, b: int) -> None:
        f = apply_op_numpy(code, values[a], values[b] if b >= 0 else None, not fortran)
        status = feature_status_numpy(f, fortran, space._lower, space._upper)
        if status != INVALID:
            out.append((code, a, b, status))

    for i in range(start, stop):
        last_op = op[i]
        if comp[i] + 1 <= space.max_complexity:
            for code in UNARY_ORDER:
                if code not in ops:
                    continue
                if code in TRANSCENDENTAL and not fortran and not dimensionless[i]:
                    continue
                if code in (CODE["exp"], CODE["exp-"], CODE["log"]) and last_op in (
                    CODE["exp"], CODE["exp-"], CODE["log"]
                ):
                    continue
                if (code == CODE["^-1"] and not nonzero[i]) or (
                    code in (CODE["sqrt"], CODE["log"]) and not positive[i]
                ):
                    continue
                banned = {CODE["^2"]: CODE["sqrt"], CODE["sqrt"]: CODE["^2"],
                          CODE["^3"]: CODE["cbrt"], CODE["cbrt"]: CODE["^3"]}  # fmt: skip
                if banned.get(code) == last_op:
                    continue
                emit(code, i, -1)
        for j in list(range(start)) + list(range(i + 1, stop)):
            if comp[i] + comp[j] + 1 > space.max_complexity:
                continue
            if np.max(np.abs(units[i] - units[j])) <= 1e-8:
                if CODE["+"] in ops:
                    emit(CODE["+"], i, j)
                if CODE["-"] in ops:
                    emit(CODE["-"], i, j)
                    if not last_rung:
                        emit(CODE["-"], j, i)
                if CODE["|-|"] in ops:
                    emit(CODE["|-|"], i, j)
            if CODE["*"] in ops:
                emit(CODE["*"], i, j)
            if CODE["/"] not in ops:
                continue
            if CODE["*"] in ops and CODE["/"] in (op[i], op[j]) and not last_rung:
                continue
            do_ij = do_ji = True
            if op[i] == CODE["*"] and _fortran_factor_test(names[i], names[j]):
                if CODE["^-1"] in ops:
                    continue
                do_ij = False
            elif op[i] == CODE["*"] and _fortran_factor_test(names[j], names[i]):
                if CODE["^-1"] in ops:
                    continue
                do_ji = False
            if do_ij and nonzero[j]:
                emit(CODE["/"], i, j)
            if do_ji and nonzero[i]:
                emit(CODE["/"], j, i)
    return out


def candidate_names(space: FeatureSpace, candidates) -> list[str]:
    """Fortran strings of ``(code, a, b, ...)`` candidates."""
    return [format_node(c[0], space._names[c[1]], space._names[c[2]] if c[2] >= 0 else None)
            for c in candidates]  # fmt: skip
