"""Atoms of a feature's selectors and histogram kernels for the last search level.

Rows that every selector of one feature treats alike (same membership in each of them)
form an *atom* of that feature; for threshold selectors ``x <= c_i`` / ``x >= c_i`` the
atoms are the bins between consecutive cut points (plus the missing values). Every
selector is a union of atoms of its feature, so the size and target sum of
``node AND selector`` for *all* selectors of a feature follow from one histogram of the
node's rows over that feature's atoms: one pass over the node's rows for every threshold
of the family instead of one pass over the node's words per selector.

* :func:`node_histogram`: counts and target sums of a node's rows per atom, for several
  features at once (one pass over the node's set bits).
* :func:`pair_histogram`: the same per pair (atom of feature ``f``, atom of feature
  ``g``): from one pass over a node ``Q`` it gives the refinements of every sibling
  ``Q AND s`` (``s`` on ``f``) by every selector of a later feature.
* :func:`child_sums` / :func:`sibling_child_sums`: sizes and sums of the refinements
  (sums over each selector's atoms).
* :func:`mean_from_sums`: quality of the mean family from size and sum, with a bound on
  its rounding difference to the bitset kernels (those recompute the few refinements
  that can enter the top-k, so reported values are exactly the bitset kernels').

All kernels are ``@njit(cache=True)`` nopython functions; each has a NumPy reference
(``*_numpy``) and agreement tests (``tests/test_subgroups_atoms.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ._bitset import _cttz, pack_rows, unpack_rows
from ._dispersion import _weight
from ._kernels import K_NORM_MEAN, P_A, P_BOTH, P_CENTER, P_MINSIZE, P_N, P_SCALE

MAX_ATOMS = 255  # atoms per feature (uint8 codes); features with more use the bitsets
_EPS = np.finfo(np.float64).eps

__all__ = ["MAX_ATOMS", "Atoms", "build_atoms", "child_sums", "child_sums_numpy",
           "factorize_keys", "factorize_keys_numpy", "feature_keys", "feature_keys_numpy",
           "mean_from_sums", "mean_from_sums_numpy", "node_histogram", "node_histogram_numpy",
           "pack_selectors", "pair_histogram", "pair_histogram_numpy", "selector_bits",
           "selector_bits_numpy", "sibling_child_sums", "sibling_child_sums_numpy"]


# ---------------------------------------------------------------------------- coding
@dataclass
class Atoms:
    """Atom codes of the rows and atoms of the selectors.

    Attributes
    ----------
    codes : ndarray of uint8, shape (n_rows, n_features)
        Atom of each row (rows in target order) for each feature (0 for uncoded features).
    coded : ndarray of bool, shape (n_features,)
        Whether a feature has at most :data:`MAX_ATOMS` atoms (else it is not coded).
    n_atoms : ndarray of int64, shape (n_features,)
        Number of atoms of each coded feature (0 if not coded).
    ptr, idx : ndarray of int64
        Atoms of selector ``j``: ``idx[ptr[j]:ptr[j + 1]]`` (empty for uncoded features).
    width : int
        Largest number of atoms of a coded feature (at least 1).
    """

    codes: np.ndarray
    coded: np.ndarray
    n_atoms: np.ndarray
    ptr: np.ndarray
    idx: np.ndarray
    width: int


@njit(cache=True)
def feature_keys(masks, lo, hi, keys):
    """``keys[r]``: membership signature of row ``r`` in selectors ``lo .. hi - 1``
    (bit ``j - lo`` set if ``masks[j, r]``; at most 64 selectors)."""
    for r in range(keys.shape[0]):
        keys[r] = 0
    for j in range(lo, hi):
        bit = np.uint64(1) << np.uint64(j - lo)
        for r in range(keys.shape[0]):
            if masks[j, r]:
                keys[r] |= bit


def feature_keys_numpy(masks: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """NumPy reference of :func:`feature_keys`."""
    w = np.left_shift(np.uint64(1), np.arange(hi - lo, dtype=np.uint64))
    return (masks[lo:hi].astype(np.uint64) * w[:, None]).sum(axis=0, dtype=np.uint64)


_HASH_BITS = 10  # open-addressing table of 1024 slots (> 4 MAX_ATOMS)


@njit(cache=True)
def factorize_keys(keys, max_codes, out):
    """``out[r]`` = code of ``keys[r]``, codes ``0, 1, ...`` in order of first appearance.

    Returns the number of distinct keys, or ``-1`` once it would exceed ``max_codes``
    (``max_codes`` at most 255).
    """
    size = 1 << _HASH_BITS
    slot_code = np.full(size, -1, dtype=np.int64)
    slot_key = np.zeros(size, dtype=np.uint64)
    mult = np.uint64(0x9E3779B97F4A7C15)
    shift = np.uint64(64 - _HASH_BITS)
    mask = size - 1
    n_seen = 0
    last_key = np.uint64(0)
    last = -1
    for r in range(keys.shape[0]):
        k = keys[r]
        if last >= 0 and k == last_key:
            out[r] = last
            continue
        h = np.int64((k * mult) >> shift)
        while slot_code[h] >= 0 and slot_key[h] != k:
            h = (h + 1) & mask
        if slot_code[h] < 0:
            if n_seen == max_codes:
                return -1
            slot_code[h] = n_seen
            slot_key[h] = k
            n_seen += 1
        last = slot_code[h]
        last_key = k
        out[r] = last
    return n_seen


def factorize_keys_numpy(keys: np.ndarray, max_codes: int) -> tuple[np.ndarray, int]:
    """NumPy reference of :func:`factorize_keys` (codes and count, or ``-1``)."""
    uniq, first, inv = np.unique(keys, return_index=True, return_inverse=True)
    if uniq.size > max_codes:
        return np.zeros(keys.size, dtype=np.int64), -1
    rank = np.empty(uniq.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(uniq.size)
    return rank[inv.ravel()], int(uniq.size)


def build_atoms(masks: np.ndarray, first_of_feature: np.ndarray,
                order: np.ndarray | None = None) -> Atoms:
    """Atom codes from selector masks.

    Parameters
    ----------
    masks : ndarray of bool, shape (n_selectors, n_rows)
        Selector membership; selectors grouped by feature.
    first_of_feature : ndarray of int
        First selector of each feature (``n_features + 1`` entries).
    order : ndarray of int, optional
        Row order of the codes (``codes[i]`` describes row ``order[i]`` of ``masks``).
    """
    m = np.ascontiguousarray(masks, dtype=bool)
    n_sel, n = m.shape
    n_feat = len(first_of_feature) - 1
    codes = np.zeros((n, n_feat), dtype=np.uint8)
    coded = np.zeros(n_feat, dtype=bool)
    n_atoms = np.zeros(n_feat, dtype=np.int64)
    ptr = np.zeros(n_sel + 1, dtype=np.int64)
    parts: list[np.ndarray] = []
    col = np.empty(n, dtype=np.int64)
    keys = np.empty(n, dtype=np.uint64)
    for f in range(n_feat):
        lo, hi = int(first_of_feature[f]), int(first_of_feature[f + 1])
        if hi == lo:
            continue
        if hi - lo <= 64:
            feature_keys(m, lo, hi, keys)
            n_f = int(factorize_keys(keys, MAX_ATOMS, col))
        else:  # more than 64 selectors: distinct membership columns
            sig = np.unique(m[lo:hi].T, axis=0, return_inverse=True)[1].ravel()
            col[:], n_f = factorize_keys_numpy(sig, MAX_ATOMS)
        if n_f < 0:
            continue
        coded[f], n_atoms[f] = True, n_f
        codes[:, f] = col
        rep = np.empty(n_f, dtype=np.int64)
        rep[col] = np.arange(n)  # one row of each atom
        for j in range(lo, hi):
            parts.append(np.flatnonzero(m[j, rep]))
            ptr[j + 1] = parts[-1].size
    ptr = np.cumsum(ptr)  # selectors of uncoded features have no atoms
    idx = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
    if order is not None:
        codes = codes[order]
    width = max(1, int(n_atoms.max())) if n_feat else 1
    return Atoms(np.ascontiguousarray(codes), coded, n_atoms, ptr, idx, width)


@njit(cache=True)
def selector_bits(codes, f, n_atoms, lo, hi, ptr, idx, atom_bits, out):
    """Bitsets ``out[j]`` (rows in the order of ``codes``) of the selectors ``lo .. hi - 1``
    of feature ``f``: the OR of the bitsets of their atoms (``atom_bits``: work array of
    shape ``(n_atoms, n_words)``)."""
    n_words = out.shape[1]
    for a in range(n_atoms):
        for i in range(n_words):
            atom_bits[a, i] = 0
    for r in range(codes.shape[0]):
        atom_bits[codes[r, f], r >> 6] |= np.uint64(1) << np.uint64(r & 63)
    for j in range(lo, hi):
        for i in range(n_words):
            out[j, i] = 0
        for p in range(ptr[j], ptr[j + 1]):
            a = idx[p]
            for i in range(n_words):
                out[j, i] |= atom_bits[a, i]


def selector_bits_numpy(codes, f, lo, hi, ptr, idx, n_words):
    """NumPy reference of :func:`selector_bits`; returns the ``(hi - lo, n_words)`` rows."""
    n = codes.shape[0]
    out = np.zeros((hi - lo, n_words * 64), dtype=bool)
    for j in range(lo, hi):
        out[j - lo, :n] = np.isin(codes[:, f], idx[ptr[j]:ptr[j + 1]])
    packed = np.packbits(out, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64)


def pack_selectors(at: Atoms, masks: np.ndarray, first_of_feature: np.ndarray,
                   order: np.ndarray, n_words: int) -> np.ndarray:
    """Bitsets of all selectors, rows in ``order`` (from the atoms where coded)."""
    n_sel = masks.shape[0]
    out = np.zeros((n_sel, n_words), dtype=np.uint64)
    atom_bits = np.empty((max(1, at.width), n_words), dtype=np.uint64)
    for f in range(len(first_of_feature) - 1):
        lo, hi = int(first_of_feature[f]), int(first_of_feature[f + 1])
        if hi == lo:
            continue
        if at.coded[f]:
            selector_bits(at.codes, f, int(at.n_atoms[f]), lo, hi, at.ptr, at.idx,
                          atom_bits, out)
        else:
            out[lo:hi] = pack_rows(np.asarray(masks[lo:hi], dtype=bool)[:, order])
    return out


# ---------------------------------------------------------------------------- histograms
@njit(cache=True, nogil=True)
def node_histogram(node, codes, feats, z, cnt, sums):
    """``cnt[t, a]`` / ``sums[t, a]``: number / sum of ``z`` of the rows ``r`` of ``node``
    with ``codes[r, feats[t]] == a``."""
    n_f = feats.shape[0]
    for t in range(n_f):
        for a in range(cnt.shape[1]):
            cnt[t, a] = 0
            sums[t, a] = 0.0
    for i in range(node.shape[0]):
        w = node[i]
        base = i * 64
        while w != 0:
            r = base + _cttz(w)
            zr = z[r]
            for t in range(n_f):
                a = codes[r, feats[t]]
                cnt[t, a] += 1
                sums[t, a] += zr
            w &= w - np.uint64(1)


def node_histogram_numpy(node, codes, feats, z, width):
    """NumPy reference of :func:`node_histogram`; returns ``(cnt, sums)``."""
    rows = np.flatnonzero(unpack_rows(node, z.size))
    cnt = np.zeros((len(feats), width), dtype=np.int64)
    sums = np.zeros((len(feats), width))
    for t, f in enumerate(feats):
        a = codes[rows, f].astype(np.int64)
        cnt[t] = np.bincount(a, minlength=width)[:width]
        sums[t] = np.bincount(a, weights=z[rows], minlength=width)[:width]
    return cnt, sums


@njit(cache=True, nogil=True)
def pair_histogram(node, codes, f, feats, z, cnt, sums):
    """``cnt[t, a, b]`` / ``sums[t, a, b]``: number / sum of ``z`` of the rows of ``node``
    with ``codes[r, f] == a`` and ``codes[r, feats[t]] == b``."""
    n_f = feats.shape[0]
    for t in range(n_f):
        for a in range(cnt.shape[1]):
            for b in range(cnt.shape[2]):
                cnt[t, a, b] = 0
                sums[t, a, b] = 0.0
    for i in range(node.shape[0]):
        w = node[i]
        base = i * 64
        while w != 0:
            r = base + _cttz(w)
            zr = z[r]
            a = codes[r, f]
            for t in range(n_f):
                b = codes[r, feats[t]]
                cnt[t, a, b] += 1
                sums[t, a, b] += zr
            w &= w - np.uint64(1)


def pair_histogram_numpy(node, codes, f, feats, z, width):
    """NumPy reference of :func:`pair_histogram`; returns ``(cnt, sums)``."""
    rows = np.flatnonzero(unpack_rows(node, z.size))
    cnt = np.zeros((len(feats), width, width), dtype=np.int64)
    sums = np.zeros((len(feats), width, width))
    a = codes[rows, f].astype(np.int64)
    for t, g in enumerate(feats):
        ab = a * width + codes[rows, g].astype(np.int64)
        cnt[t] = np.bincount(ab, minlength=width * width).reshape(width, width)
        sums[t] = np.bincount(ab, weights=z[rows], minlength=width * width).reshape(width, width)
    return cnt, sums


# ---------------------------------------------------------------------------- refinements
@njit(cache=True, nogil=True)
def child_sums(cnt, sums, slot, feature_of, cand, ptr, idx, out_n, out_s):
    """Size and target sum of ``node AND cand[t]`` from the node's :func:`node_histogram`
    (``slot[f]``: row of feature ``f`` in ``cnt``)."""
    for t in range(cand.shape[0]):
        j = cand[t]
        h = slot[feature_of[j]]
        c = 0
        s = 0.0
        for p in range(ptr[j], ptr[j + 1]):
            a = idx[p]
            c += cnt[h, a]
            s += sums[h, a]
        out_n[t] = c
        out_s[t] = s


def child_sums_numpy(cnt, sums, slot, feature_of, cand, ptr, idx):
    """NumPy reference of :func:`child_sums`; returns ``(out_n, out_s)``."""
    out_n = np.zeros(len(cand), dtype=np.int64)
    out_s = np.zeros(len(cand))
    for t, j in enumerate(cand):
        h, at = slot[feature_of[j]], idx[ptr[j]:ptr[j + 1]]
        out_n[t], out_s[t] = cnt[h, at].sum(), sums[h, at].sum()
    return out_n, out_s


@njit(cache=True, nogil=True)
def sibling_child_sums(cnt, sums, sibs, cand, slot, feature_of, ptr, idx, out_n, out_s,
                       rn, rs):
    """``out_*[u, t]``: size / sum of ``Q AND sibs[u] AND cand[t]`` from the
    :func:`pair_histogram` of ``Q`` (``cand`` grouped by feature; ``rn``, ``rs``: work
    arrays of shape ``(len(sibs), width)``)."""
    width = cnt.shape[2]
    cur = -1
    for t in range(cand.shape[0]):
        j = cand[t]
        h = slot[feature_of[j]]
        if h != cur:  # per sibling: histogram over the atoms of this feature
            cur = h
            for u in range(sibs.shape[0]):
                for b in range(width):
                    rn[u, b] = 0
                    rs[u, b] = 0.0
                s_ = sibs[u]
                for p in range(ptr[s_], ptr[s_ + 1]):
                    a = idx[p]
                    for b in range(width):
                        rn[u, b] += cnt[h, a, b]
                        rs[u, b] += sums[h, a, b]
        for u in range(sibs.shape[0]):
            c = 0
            s = 0.0
            for p in range(ptr[j], ptr[j + 1]):
                b = idx[p]
                c += rn[u, b]
                s += rs[u, b]
            out_n[u, t] = c
            out_s[u, t] = s


def sibling_child_sums_numpy(cnt, sums, sibs, cand, slot, feature_of, ptr, idx):
    """NumPy reference of :func:`sibling_child_sums`; returns ``(out_n, out_s)``."""
    out_n = np.zeros((len(sibs), len(cand)), dtype=np.int64)
    out_s = np.zeros((len(sibs), len(cand)))
    for u, s_ in enumerate(sibs):
        a = idx[ptr[s_]:ptr[s_ + 1]]
        for t, j in enumerate(cand):
            h, b = slot[feature_of[j]], idx[ptr[j]:ptr[j + 1]]
            out_n[u, t] = cnt[h][np.ix_(a, b)].sum()
            out_s[u, t] = sums[h][np.ix_(a, b)].sum()
    return out_n, out_s


@njit(cache=True, nogil=True)
def mean_from_sums(out_n, out_s, kind, params, zabs, out_q, out_tol):
    """Mean-family quality (``K_MEAN`` / ``K_NORM_MEAN``, any ``a``) of a subgroup from its
    size and target sum; ``-inf`` below the minimum size.

    ``out_tol`` bounds the difference to the bitset kernels, which sum the same values in
    another order: each sum is within ``(n - 1) u sum|z|`` of the exact one (``u`` the unit
    roundoff, ``zabs`` = sum of ``|z|`` over all rows), and the few operations after it add
    a few ulps; the bound below is about four times that.
    """
    min_size = max(1, int(params[P_MINSIZE]))
    a, c, n_pop, scale = params[P_A], params[P_CENTER], params[P_N], params[P_SCALE]
    both = params[P_BOTH] != 0.0
    for t in range(out_n.shape[0]):
        n = out_n[t]
        if n < min_size:
            out_q[t] = -np.inf
            out_tol[t] = 0.0
            continue
        s = out_s[t]
        if a == 1.0:
            d = (s - n * c) / n_pop
            w_n = 1.0 / n_pop
        else:
            d = _weight(n, n_pop, a) * (s / n - c)
            w_n = _weight(n, n_pop, a) / n
        if both:
            d = abs(d)
        q = d * scale
        if kind == K_NORM_MEAN and q < 0.0:
            q = 0.0
        err_s = 2.0 * n * _EPS * zabs + 8.0 * _EPS * (abs(s) + n * abs(c))
        out_q[t] = q
        out_tol[t] = 4.0 * (w_n * abs(scale) * err_s + 8.0 * _EPS * abs(q))


def mean_from_sums_numpy(out_n, out_s, kind, params, zabs):
    """NumPy reference of :func:`mean_from_sums`; returns ``(out_q, out_tol)``."""
    n = np.asarray(out_n, dtype=float)
    s = np.asarray(out_s, dtype=float)
    a, c, n_pop, scale = params[P_A], params[P_CENTER], params[P_N], params[P_SCALE]
    ok = n >= max(1, int(params[P_MINSIZE]))
    nn = np.where(ok, n, 1.0)
    w = (nn / n_pop) ** a if a != 0.0 else np.ones_like(nn)
    d = (s - nn * c) / n_pop if a == 1.0 else w * (s / nn - c)
    w_n = np.full_like(nn, 1.0 / n_pop) if a == 1.0 else w / nn
    if params[P_BOTH] != 0.0:
        d = np.abs(d)
    q = d * scale
    if kind == K_NORM_MEAN:
        q = np.maximum(q, 0.0)
    err_s = 2.0 * nn * _EPS * zabs + 8.0 * _EPS * (np.abs(s) + nn * abs(c))
    tol = 4.0 * (w_n * abs(scale) * err_s + 8.0 * _EPS * np.abs(q))
    return np.where(ok, q, -np.inf), np.where(ok, tol, 0.0)
