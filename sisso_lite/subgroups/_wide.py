"""Word-major variant of the fused ``a = 1`` mean kernel for many refinements of one node.

:func:`sisso_lite.subgroups._kernels.eval_children_mean1` scans the node's words once per
refinement; its dense-word sums read per-byte tables (2 KiB per 8 rows, megabytes for the
whole table), so each refinement walks the whole table again. Without a threshold (the
root node, or any node while the top-k is not yet full) nothing is abandoned, and
:func:`eval_children_mean1_wide` swaps the loops: for each word, all refinements, so that
word's table rows are read from cache by every refinement. Every refinement's sums are
accumulated in the same order as in ``eval_children_mean1``, so the outputs are identical
(tested), bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._bitset import _ctpop, gather
from ._kernels import K_NORM_MEAN, P_BOTH, P_CENTER, P_MINSIZE, P_N, P_SCALE, _word_sum, mean_bound

__all__ = ["eval_children_mean1_wide"]


@njit(cache=True, nogil=True)
def eval_children_mean1_wide(node, sel_bits, cand, z, table, params, p_hi, p_lo, want_bound,
                             out_q, out_b, out_n, tmp, buf, kind, acc):
    """:func:`~sisso_lite.subgroups._kernels.eval_children_mean1` with ``thr = -inf``.

    ``acc``: work array of shape ``(6, len(cand))`` (count, sum, count and sum above the
    centre, count and sum below it).
    """
    min_size = max(1, int(params[P_MINSIZE]))
    c, n_pop, scale = params[P_CENTER], params[P_N], params[P_SCALE]
    both = params[P_BOTH] != 0.0
    n_words = node.shape[0]
    n_c = cand.shape[0]
    hw, hb = p_hi // 64, p_hi % 64
    lw, lb = p_lo // 64, p_lo % 64
    one = np.uint64(1)
    hmask = ~((one << np.uint64(hb)) - one)  # bits >= hb
    lmask = (one << np.uint64(lb)) - one  # bits < lb
    nz = np.empty(n_words, dtype=np.int64)
    n_nz = 0
    for i in range(n_words - 1, -1, -1):
        if node[i] != 0:
            nz[n_nz] = i
            n_nz += 1
    r_split = 0
    while r_split < n_nz and nz[r_split] >= hw:
        r_split += 1
    cnt, s, c_hi, s_hi, c_lo, s_lo = acc[0], acc[1], acc[2], acc[3], acc[4], acc[5]
    for t in range(n_c):
        for k in range(6):
            acc[k, t] = 0.0
    # phase 1 of eval_children_mean1: words with rows above c, from the top
    for r in range(r_split):
        i = nz[r]
        nw = node[i]
        for t in range(n_c):
            w = nw & sel_bits[cand[t], i]
            if w == 0:
                continue
            pc = _ctpop(w)
            ws = _word_sum(w, i, z, table)
            cnt[t] += pc
            s[t] += ws
            if i > hw:
                c_hi[t] += pc
                s_hi[t] += ws
            else:
                wm = w & hmask
                if wm != 0:
                    c_hi[t] += _ctpop(wm)
                    s_hi[t] += _word_sum(wm, i, z, table)
            if both and i == lw:
                wm = w & lmask
                if wm != 0:
                    c_lo[t] += _ctpop(wm)
                    s_lo[t] += _word_sum(wm, i, z, table)
    # phase 2: the remaining words from the bottom
    for r in range(n_nz - 1, r_split - 1, -1):
        i = nz[r]
        nw = node[i]
        for t in range(n_c):
            w = nw & sel_bits[cand[t], i]
            if w == 0:
                continue
            pc = _ctpop(w)
            ws = _word_sum(w, i, z, table)
            cnt[t] += pc
            s[t] += ws
            if both:
                if i < lw:
                    c_lo[t] += pc
                    s_lo[t] += ws
                elif i == lw:
                    wm = w & lmask
                    if wm != 0:
                        c_lo[t] += _ctpop(wm)
                        s_lo[t] += _word_sum(wm, i, z, table)
    for t in range(n_c):
        n = int(cnt[t])
        out_n[t] = n
        if n < min_size:
            out_q[t] = -np.inf
            out_b[t] = -np.inf
            continue
        d = (s[t] - n * c) / n_pop
        if both:
            d = abs(d)
        q = d * scale
        b = np.nan
        if want_bound:
            ch, cl = int(c_hi[t]), int(c_lo[t])
            if ch >= min_size and (not both or cl >= min_size):
                b = (s_hi[t] - ch * c) / n_pop
                if both:
                    b = max(b, (cl * c - s_lo[t]) / n_pop)
                b *= scale
            else:  # top-k prefix must reach below c: use the general scan
                j = cand[t]
                for i in range(n_words):
                    tmp[i] = node[i] & sel_bits[j, i]
                b = mean_bound(buf, gather(tmp, z, buf), params)
        if kind == K_NORM_MEAN:
            q = max(q, 0.0)
            b = max(b, 0.0)
        out_q[t] = q
        out_b[t] = b
