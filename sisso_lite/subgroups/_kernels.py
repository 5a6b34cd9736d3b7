"""Numba kernels: quality values and optimistic estimates over bitset subgroups.

Every kernel receives the subgroup's (transformed) target values sorted ascending
(rows are stored in target order, so gathering set bits yields sorted values).
The NumPy references live in :mod:`sisso_lite.subgroups.quality`; tests check agreement.

``params`` layout (float64): see the ``P_*`` constants. ``aux`` holds per-population
arrays (only used by the cumulative Jensen-Shannon divergence).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._bitset import _ctpop, _cttz, gather
from ._dispersion import _weight, dc_bound_linear, dc_value

# quality kinds
K_MEAN = 0
K_MEDIAN = 1
K_NORM_MEAN = 2
K_DC = 3
K_CJS = 4
# parameter slots
P_A = 0
P_CENTER = 1
P_N = 2
P_SCALE = 3
P_MINSIZE = 4
P_BOTH = 5
P_AMD = 6
P_LIMIT = 7
N_PARAMS = 8

_LN2 = math.log(2.0)


@njit(cache=True)
def _median_sorted(v: np.ndarray, lo: int, k: int) -> float:
    h = k // 2
    if k % 2 == 1:
        return v[lo + h]
    return 0.5 * (v[lo + h - 1] + v[lo + h])


@njit(cache=True)
def mean_quality(v, n, params):
    """cov^a * (mean - center) * scale (|.| if both; clipped at 0 for K_NORM_MEAN)."""
    s = 0.0
    for i in range(n):
        s += v[i]
    d = s / n - params[P_CENTER]
    if params[P_BOTH] != 0.0:
        d = abs(d)
    return _weight(n, params[P_N], params[P_A]) * d * params[P_SCALE]


@njit(cache=True)
def _prefix_bound(v, n, a, c, n_pop, k0, sign):
    """max over k >= k0 of (k/N)^a * sign*(mean of the k most extreme values - c).

    ``sign=1``: top-k (scan from the end of ascending ``v``); ``sign=-1``: bottom-k.
    Stops once the remaining values cannot raise the maximum: after the scan crosses
    ``c`` the partial excess D_k = sum(sign*(v-c)) only decreases, and for ``a <= 1``
    the weight k^(a-1) does too; for ``a > 1`` the scan stops once D_k <= 0.
    """
    best = -np.inf
    cum = 0.0
    for k in range(1, n + 1):
        x = sign * ((v[n - k] if sign > 0 else v[k - 1]) - c)
        cum += x
        if k >= k0:
            if a == 1.0:
                val = cum / n_pop
            else:
                val = _weight(k, n_pop, a) * (cum / k)
            if val > best:
                best = val
            if x <= 0.0 and (a <= 1.0 or cum <= 0.0):
                break
    return best


@njit(cache=True)
def mean_bound(v, n, params):
    """Tight estimate: best value over the top-k (and bottom-k if both) prefixes."""
    a, c, n_pop = params[P_A], params[P_CENTER], params[P_N]
    k0 = max(1, int(params[P_MINSIZE]))
    best = _prefix_bound(v, n, a, c, n_pop, k0, 1.0)
    if params[P_BOTH] != 0.0:
        best = max(best, _prefix_bound(v, n, a, c, n_pop, k0, -1.0))
    return best * params[P_SCALE]


@njit(cache=True)
def median_quality(v, n, params):
    d = _median_sorted(v, 0, n) - params[P_CENTER]
    if params[P_BOTH] != 0.0:
        d = abs(d)
    return _weight(n, params[P_N], params[P_A]) * d * params[P_SCALE]


@njit(cache=True)
def median_bound(v, n, params):
    """Tight estimate: for each size k the k largest (smallest if both) values."""
    a, c, n_pop = params[P_A], params[P_CENTER], params[P_N]
    k0 = max(1, int(params[P_MINSIZE]))
    best = -np.inf
    for k in range(k0, n + 1):
        val = _weight(k, n_pop, a) * (_median_sorted(v, n - k, k) - c)
        if val > best:
            best = val
        if params[P_BOTH] != 0.0:
            val = _weight(k, n_pop, a) * (c - _median_sorted(v, 0, k))
            if val > best:
                best = val
    return best * params[P_SCALE]


@njit(cache=True)
def dc_quality(v, n, params, work):
    return dc_value(v, n, params[P_N], params[P_A], params[P_CENTER], params[P_AMD],
                    params[P_SCALE], work)


@njit(cache=True)
def dc_bound(v, n, params, work):
    """Tight estimate in ``O(n)`` (:mod:`sisso_lite.subgroups._dispersion`)."""
    return dc_bound_linear(v, n, params[P_N], params[P_A], params[P_CENTER], params[P_AMD],
                           params[P_SCALE], max(1, int(params[P_MINSIZE])), work)


@njit(cache=True)
def _phi(f, g):
    m = 0.5 * (f + g)
    if f <= 0.0:
        return m
    return f * math.log(f / m) - f + m


@njit(cache=True)
def cjs_quality(v, n, params, aux):
    u, gp, du = aux[0], aux[1], aux[2]
    n_u = int(params[P_LIMIT])
    j = 0
    acc = 0.0
    for i in range(n_u - 1):
        while j < n and v[j] <= u[i]:
            j += 1
        acc += du[i] * _phi(j / n, gp[i])
    return _weight(n, params[P_N], params[P_A]) * acc / _LN2


@njit(cache=True)
def cjs_bound(v, n, params, aux):
    """The integrand is convex in F_S, so over monotone CDFs the integral is maximised by
    a step 0 -> 1 at some value t of the subgroup: max_t pre0[t] + (pre1[end] - pre1[t])."""
    u, pre0, pre1 = aux[0], aux[3], aux[5]
    n_u = int(params[P_LIMIT])
    best = -np.inf
    last = -1
    for i in range(n):
        if i > 0 and v[i] == v[i - 1]:
            continue
        j = np.searchsorted(u[:n_u], v[i])
        if j == last:
            continue
        last = j
        val = pre0[j] - pre1[j]
        if val > best:
            best = val
    tot = best + pre1[n_u]
    return _weight(n, params[P_N], params[P_A]) * tot / _LN2


@njit(cache=True)
def quality_and_bound(kind, v, n, params, aux, want_bound, work):
    """Dispatch on ``kind``; return ``(quality, optimistic_estimate)``."""
    b = np.nan
    if kind == K_MEAN or kind == K_NORM_MEAN:
        q = mean_quality(v, n, params)
        if kind == K_NORM_MEAN and q < 0.0:
            q = 0.0
        if want_bound:
            b = mean_bound(v, n, params)
            if kind == K_NORM_MEAN and b < 0.0:
                b = 0.0
    elif kind == K_MEDIAN:
        q = median_quality(v, n, params)
        if want_bound:
            b = median_bound(v, n, params)
    elif kind == K_DC:
        q = dc_quality(v, n, params, work)
        if want_bound:
            b = dc_bound(v, n, params, work)
    else:
        q = cjs_quality(v, n, params, aux)
        if want_bound:
            b = cjs_bound(v, n, params, aux)
    return q, b


@njit(cache=True, nogil=True)
def eval_children(node, sel_bits, cand, z, kind, params, aux, want_bound,
                  out_q, out_b, out_n, tmp, buf, work):
    """Evaluate ``node AND sel_bits[j]`` for every ``j`` in ``cand``.

    Writes the quality, optimistic estimate and size of each refinement; refinements
    smaller than ``params[P_MINSIZE]`` (or empty) get ``-inf`` for both.
    """
    min_size = max(1, int(params[P_MINSIZE]))
    n_words = node.shape[0]
    tmp[:] = 0
    for t in range(cand.shape[0]):
        j = cand[t]
        c = 0
        for i in range(n_words):
            if node[i] == 0:
                continue
            w = node[i] & sel_bits[j, i]
            tmp[i] = w
            c += _ctpop(w)
        out_n[t] = c
        if c < min_size:
            out_q[t] = -np.inf
            out_b[t] = -np.inf
            continue
        n = gather(tmp, z, buf)
        q, b = quality_and_bound(kind, buf, n, params, aux, want_bound, work)
        out_q[t] = q
        out_b[t] = b


@njit(cache=True, nogil=True)
def and_rows(sel_bits, idx, out):
    """``out = AND of sel_bits[idx]`` (all-ones if ``idx`` is empty is not handled here)."""
    n_words = sel_bits.shape[1]
    for i in range(n_words):
        w = sel_bits[idx[0], i]
        for t in range(1, idx.shape[0]):
            w &= sel_bits[idx[t], i]
        out[i] = w


# ---------------------------------------------------------------------------------------
# Fused kernel for the mean-type qualities with a = 1 (mean shift, WRAcc, normalised mean
# shift, error reduction): only counts and sums over set bits are needed, and the tight
# estimate is the sum of the positive excesses z - c (rows are sorted, so these rows form
# a suffix of the row order). Sums of dense words use per-byte lookup tables.
# ---------------------------------------------------------------------------------------
def byte_sum_table(zs: np.ndarray) -> np.ndarray:
    """``T[p, v]`` = sum of ``zs[8p + b]`` over the set bits ``b`` of byte value ``v``."""
    n_bytes = max(1, (zs.size + 63) // 64) * 8
    zp = np.zeros(n_bytes * 8)
    zp[:zs.size] = zs
    bits = ((np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1).astype(np.float64)
    return np.ascontiguousarray(zp.reshape(n_bytes, 8) @ bits.T)


@njit(cache=True)
def _word_sum(w, i, z, table):
    if _ctpop(w) <= 8:
        s = 0.0
        base = i * 64
        while w != 0:
            s += z[base + _cttz(w)]
            w &= w - np.uint64(1)
        return s
    s = 0.0
    p = i * 8
    for b in range(8):
        s += table[p + b, (w >> np.uint64(8 * b)) & np.uint64(255)]
    return s


@njit(cache=True, nogil=True)
def eval_children_mean1(node, sel_bits, cand, z, table, params, p_hi, p_lo, want_bound,
                        out_q, out_b, out_n, tmp, buf, work, kind, thr):
    """As :func:`eval_children` for ``kind`` in (K_MEAN, K_NORM_MEAN) with ``a == 1``.

    ``p_hi``: first row with ``z > c``; ``p_lo``: first row with ``z >= c``. Words are
    scanned from the top; the excess above ``c`` found so far plus the node's excess in the
    words not yet scanned bounds both the quality and the estimate, and a refinement whose
    bound drops to ``<= thr`` is abandoned (``-inf`` quality and estimate, size ``-1``).
    """
    min_size = max(1, int(params[P_MINSIZE]))
    c, n_pop, scale = params[P_CENTER], params[P_N], params[P_SCALE]
    both = params[P_BOTH] != 0.0
    n_words = node.shape[0]
    hw, hb = p_hi // 64, p_hi % 64
    lw, lb = p_lo // 64, p_lo % 64
    one = np.uint64(1)
    hmask = ~((one << np.uint64(hb)) - one)  # bits >= hb
    lmask = (one << np.uint64(lb)) - one  # bits < lb
    can_stop = (not both) and thr > -np.inf
    # non-empty words of the node, from the top (rows sorted by target), and the node's
    # remaining excess above c from each of them on: a refinement can gain at most that
    nz = np.empty(n_words, dtype=np.int64)
    rest = np.zeros(n_words + 1)
    n_nz = 0
    for i in range(n_words - 1, -1, -1):
        tmp[i] = 0
        if node[i] != 0:
            nz[n_nz] = i
            n_nz += 1
    for r in range(n_nz - 1, -1, -1):
        i = nz[r]
        ex = 0.0
        if i >= hw:
            wm = node[i] & hmask if i == hw else node[i]
            if wm != 0:
                ex = _word_sum(wm, i, z, table) - _ctpop(wm) * c
        rest[r] = rest[r + 1] + ex
    # phase 1 scans the node's words with rows above c (positions [0, r_split) of nz)
    r_split = 0
    while r_split < n_nz and nz[r_split] >= hw:
        r_split += 1
    lo_abort = can_stop and (kind == K_MEAN or thr >= 0.0)
    for t in range(cand.shape[0]):
        j = cand[t]
        cnt = 0
        s = 0.0
        c_hi = 0
        s_hi = 0.0
        c_lo = 0
        s_lo = 0.0
        stopped = False
        for r in range(r_split):
            i = nz[r]
            if can_stop and r % 4 == 0 and (s_hi - c_hi * c + rest[r]) / n_pop * scale <= thr:
                stopped = True
                break
            w = node[i] & sel_bits[j, i]
            tmp[i] = w
            if w == 0:
                continue
            pc = _ctpop(w)
            ws = _word_sum(w, i, z, table)
            cnt += pc
            s += ws
            if i > hw:
                c_hi += pc
                s_hi += ws
            else:
                wm = w & hmask
                if wm != 0:
                    c_hi += _ctpop(wm)
                    s_hi += _word_sum(wm, i, z, table)
            if both and i == lw:
                wm = w & lmask
                if wm != 0:
                    c_lo += _ctpop(wm)
                    s_lo += _word_sum(wm, i, z, table)
        if can_stop and not stopped and (s_hi - c_hi * c) / n_pop * scale <= thr:
            stopped = True
        if stopped:
            out_n[t] = -1
            out_q[t] = -np.inf
            out_b[t] = -np.inf
            continue
        # phase 2: rows at or below c, from the bottom (the deficit grows fastest there);
        # once the quality cannot exceed thr any more, only the estimate is still needed
        dead = False
        allow = lo_abort and c_hi >= min_size
        done = 0
        for r in range(n_nz - 1, r_split - 1, -1):
            i = nz[r]
            if allow and done % 4 == 3 and (s - cnt * c) / n_pop * scale <= thr:
                dead = True
                break
            done += 1
            w = node[i] & sel_bits[j, i]
            tmp[i] = w
            if w == 0:
                continue
            pc = _ctpop(w)
            ws = _word_sum(w, i, z, table)
            cnt += pc
            s += ws
            if both:
                if i < lw:
                    c_lo += pc
                    s_lo += ws
                elif i == lw:
                    wm = w & lmask
                    if wm != 0:
                        c_lo += _ctpop(wm)
                        s_lo += _word_sum(wm, i, z, table)
        if dead:
            out_n[t] = -1
            out_q[t] = -np.inf
            b = (s_hi - c_hi * c) / n_pop * scale if want_bound else np.nan
            out_b[t] = max(b, 0.0) if kind == K_NORM_MEAN and want_bound else b
            continue
        out_n[t] = cnt
        if cnt < min_size:
            out_q[t] = -np.inf
            out_b[t] = -np.inf
            continue
        d = (s - cnt * c) / n_pop
        if both:
            d = abs(d)
        q = d * scale
        b = np.nan
        if want_bound:
            if c_hi >= min_size and (not both or c_lo >= min_size):
                b = (s_hi - c_hi * c) / n_pop
                if both:
                    b = max(b, (c_lo * c - s_lo) / n_pop)
                b *= scale
            else:  # top-k prefix must reach below c: use the general scan
                n = gather(tmp, z, buf)
                b = mean_bound(buf, n, params)
        if kind == K_NORM_MEAN:
            q = max(q, 0.0)
            b = max(b, 0.0)
        out_q[t] = q
        out_b[t] = b
