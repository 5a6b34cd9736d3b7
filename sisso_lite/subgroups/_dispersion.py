"""Dispersion-corrected quality: Numba kernels and a brute-force reference.

Objective (Boley et al. 2017, as in the authors' realKD implementation) on the subgroup's
transformed targets ``v`` (sorted ascending), population size ``N``, population median
``c``, population amd ``A`` and normalisation ``s`` (``1`` or ``1/(max_P - c)``)::

    f(R) = dcc(R)^a * s * (med_R - c)_+,   dcc(R) = (|R|/N) * (1 - amd_R / A)_+

with ``amd`` the mean absolute deviation from the median and ``dcc`` the
dispersion-corrected coverage (``0^0 = 1``). Optimal subsets of a subgroup are contiguous
windows of its sorted values (see ``docs/subgroup_discovery.md``).

Linear-time tight estimate. Fix the window's centre: an odd window ``[i-h, i+h]`` has
median ``v[i]`` and absolute-deviation sum ``S(h) = sum_{j<=h} d_j`` with
``d_j = v[i+j] - v[i-j]``; an even window ``[i-h+1, i+h]`` has median ``(v[i]+v[i+1])/2``
and ``S(h) = sum_{j<=h} (v[i+j] - v[i+1-j])``. The increments are non-decreasing in ``h``,
so ``N dcc = k - S(h)/A`` (``k = 2h+1`` or ``2h``; increments ``2 - d_h/A``) is concave in
``h`` and maximal at the widest window around the centre whose range is at most ``2A``
(raised to the minimum size if needed). Since ``a`` acts on ``dcc`` only, this maximiser
is the same for every ``a``. A window of range ``<= 2A`` shrunk by one at both ends is one
around the neighbouring centre, so the widest half-width changes by at most one from one
centre to the next and a two-pointer sweep finds all of them in ``O(n)`` total (realKD's
median-sequence estimator likewise only tries sizes within 3 of the previous optimum).
"""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

__all__ = ["dc_bound_linear", "dc_bound_windows", "dc_bruteforce", "dc_objective", "dc_value",
           "dc_window"]


@njit(cache=True)
def _weight(k: int, n_pop: float, a: float) -> float:
    if a == 1.0:
        return k / n_pop
    if a == 0.0:
        return 1.0
    return (k / n_pop) ** a


DCC_ROUNDING = 1e-12  # |R| - amd_R |R| / A below this fraction of |R| counts as 0


@njit(cache=True)
def _cumsum(v: np.ndarray, n: int, cs: np.ndarray) -> None:
    cs[0] = 0.0
    for i in range(n):
        cs[i + 1] = cs[i] + v[i]


@njit(cache=True)
def _dcc_pow(dcc: float, a: float) -> float:
    if a == 0.0:
        return 1.0
    if dcc <= 0.0:
        return 0.0
    if a == 1.0:
        return dcc
    return dcc ** a


@njit(cache=True)
def dc_window(v: np.ndarray, cs: np.ndarray, lo: int, hi: int, n_pop: float, a: float,
              med_p: float, amd_p: float, scale: float) -> float:
    """Objective of the window ``v[lo:hi+1]`` (``cs``: prefix sums of ``v``)."""
    k = hi - lo + 1
    h = k // 2
    if k % 2 == 1:
        mi = lo + h
        med = v[mi]
        sabs = (cs[hi + 1] - cs[mi + 1]) - (cs[mi] - cs[lo])
    else:
        med = 0.5 * (v[lo + h - 1] + v[lo + h])
        sabs = (cs[hi + 1] - cs[lo + h]) - (cs[lo + h] - cs[lo])
    shift = med - med_p
    if shift <= 0.0 or amd_p <= 0.0:
        return 0.0
    d = k - sabs / amd_p
    if d <= DCC_ROUNDING * k:  # 0 up to the rounding of the prefix sums (dcc^a magnifies it)
        d = 0.0
    return _dcc_pow(d / n_pop, a) * shift * scale


@njit(cache=True)
def dc_value(v: np.ndarray, n: int, n_pop: float, a: float, med_p: float, amd_p: float,
             scale: float, cs: np.ndarray) -> float:
    """Objective of the whole sorted array ``v[:n]`` (``cs``: work array, length >= n+1)."""
    _cumsum(v, n, cs)
    return dc_window(v, cs, 0, n - 1, n_pop, a, med_p, amd_p, scale)


@njit(cache=True)
def _sweep(v, cs, n, n_pop, a, med_p, amd_p, scale, k0, even):
    """Best window over all centres of one parity; see the module docstring.

    Odd (``even=0``): centre ``i``, window ``[i-h, i+h]``, ``h >= 0``. Even (``even=1``):
    centre ``i`` (median between ``v[i]`` and ``v[i+1]``), window ``[i-h+1, i+h]``,
    ``h >= 1``. ``h`` is the widest half-width whose window has range ``<= 2A`` (the
    concave objective's maximiser); it is carried from one centre to the next minus one.
    """
    two_a = 2.0 * amd_p
    base = even
    h_min = max(base, (k0 + 1) // 2 if even else k0 // 2)
    best = 0.0
    h = base
    for i in range(n - even):
        h_max = min(i + even, n - 1 - i)
        if h > h_max:
            h = h_max
        if h < base:
            h = base
        while h < h_max and v[i + h + 1] - v[i - h - 1 + even] <= two_a:
            h += 1
        hh = h if h >= h_min else h_min
        if hh <= h_max:
            val = dc_window(v, cs, i - hh + even, i + hh, n_pop, a, med_p, amd_p, scale)
            if val > best:
                best = val
        h -= 1
    return best


@njit(cache=True)
def dc_bound_linear(v: np.ndarray, n: int, n_pop: float, a: float, med_p: float,
                    amd_p: float, scale: float, k0: int, cs: np.ndarray) -> float:
    """Tight estimate in ``O(n)``: max of the objective over subsets of size ``>= k0``."""
    if amd_p <= 0.0 or n < k0:
        return 0.0
    _cumsum(v, n, cs)
    b = _sweep(v, cs, n, n_pop, a, med_p, amd_p, scale, k0, 0)
    if n >= 2:
        b = max(b, _sweep(v, cs, n, n_pop, a, med_p, amd_p, scale, k0, 1))
    return b


@njit(cache=True)
def dc_bound_windows(v: np.ndarray, n: int, n_pop: float, a: float, med_p: float,
                     amd_p: float, scale: float, k0: int, cs: np.ndarray) -> float:
    """Tight estimate by scanning all windows of size ``>= k0`` (``O(n^2)``; reference).

    Windows are scanned by right end from the top; a window ending at ``hi`` is worth at
    most ``((hi+1)/N)^a (v[hi] - c) s``, which stops the scan.
    """
    if amd_p <= 0.0:
        return 0.0
    _cumsum(v, n, cs)
    best = 0.0
    for hi in range(n - 1, k0 - 2, -1):
        if _weight(hi + 1, n_pop, a) * (v[hi] - med_p) * scale <= best:
            break
        for lo in range(hi - k0 + 1, -1, -1):
            val = dc_window(v, cs, lo, hi, n_pop, a, med_p, amd_p, scale)
            if val > best:
                best = val
    return best


def dc_objective(values: np.ndarray, n_pop: int, a: float, med_p: float, amd_p: float,
                 scale: float = 1.0) -> float:
    """Pure NumPy objective of a set of target values (any order)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0 or amd_p <= 0:
        return 0.0
    med = float(np.median(v))
    shift = max(0.0, med - med_p)
    d = v.size * (1.0 - float(np.mean(np.abs(v - med))) / amd_p)
    dcc = d / n_pop if d > DCC_ROUNDING * v.size else 0.0
    return float(dcc ** a * shift * scale)


def dc_bruteforce(values: np.ndarray, n_pop: int, a: float, med_p: float, amd_p: float,
                  scale: float = 1.0, min_size: int = 1) -> float:
    """Reference estimate: max of the objective over **all** subsets of ``values`` of size
    ``>= min_size`` (exponential; for tests on ``n <= 12``)."""
    v = np.asarray(values, dtype=float)
    best = 0.0 if v.size >= max(1, min_size) else -np.inf
    for r in range(max(1, min_size), v.size + 1):
        for sub in itertools.combinations(range(v.size), r):
            best = max(best, dc_objective(v[list(sub)], n_pop, a, med_p, amd_p, scale))
    return best
