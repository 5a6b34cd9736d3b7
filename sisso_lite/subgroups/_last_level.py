"""Refinements at the last level of the exact search from atom histograms.

At the last level only qualities are needed (no estimates), and for the mean family
(mean shift, WRAcc, normalised mean shift, error reduction; any ``a``) a quality needs only
the size and target sum of ``node AND selector``. :mod:`sisso_lite.subgroups._atoms`
gives those for all selectors of a feature from one histogram of the node's rows, and

* a node ``Q AND s`` whose siblings ``Q AND s'`` (``s'`` on the same feature as ``s``)
  will be expanded too gets the refinements of all those siblings from one
  :func:`~sisso_lite.subgroups._atoms.pair_histogram` pass over ``Q`` (kept until the
  sibling is popped) when that is cheaper than one pass per sibling;
* every refinement whose quality could still reach the current k-th value (within a
  rounding bound) is recomputed by the bitset kernel, so the values that enter the top-k,
  and the order in which they are offered, are exactly those of the bitset search.
"""

from __future__ import annotations

import numpy as np

from . import _atoms as A
from ._bitset import and_count
from ._kernels import K_MEAN, K_NORM_MEAN

MIN_WORDS_DEPTH2 = 16  # "auto" uses atoms from 1,024 rows at depth <= 2,
MIN_WORDS = 64  # from 4,096 rows deeper (2,048 without the fused a = 1 kernel)
BATCH_FACTOR = 1.5  # pair pass over Q if the live siblings hold > 1.5 |Q| rows
BATCH_WIDTH = 64  # no pair histograms for features with more atoms
CACHE_LIMIT = 2_000_000  # refinements held for siblings not yet popped


def use_atoms(pb, depth: int, mode: str) -> bool:
    """Whether the exact search evaluates its last level with :class:`LastLevel`.

    ``mode="auto"`` uses it where it measured faster than the bitset kernels alone (mean
    family, enough rows: on small tables the per-node overhead outweighs the scans).
    """
    if mode == "bitset" or pb.qf.kind not in (K_MEAN, K_NORM_MEAN) or not pb.n_selectors:
        return False
    if mode != "auto":
        return True
    n_words = pb.bits.shape[1]
    if depth <= 2:
        return n_words >= MIN_WORDS_DEPTH2
    return n_words >= (MIN_WORDS if pb.fused else MIN_WORDS // 2)


class _Group:
    """Pushed siblings ``Q AND s`` (``s`` on one feature) that will be refined last."""

    __slots__ = ("bounds", "sels", "sizes")

    def __init__(self) -> None:
        self.sels: list[int] = []
        self.sizes: list[int] = []
        self.bounds: list[float] = []


class LastLevel:
    """Last-level refinement values (quality and size) for the exact search.

    Parameters
    ----------
    pb : Problem
        Search problem (quality of the mean family).
    ev : callable
        The bitset evaluator ``ev(node, cand, want_bound, thr) -> (q, b, n)``.
    mode : {"auto", "node", "batch"}
        ``"node"``: one histogram per node; ``"batch"``: sibling batches whenever
        possible; ``"auto"``: batches when cheaper (:data:`BATCH_FACTOR`).
    """

    def __init__(self, pb, ev, mode: str = "auto") -> None:
        self.pb, self.ev, self.mode = pb, ev, mode
        self.at = pb.atoms()
        n_feat = len(pb.first_of_feature) - 1
        w = self.at.width
        self.slot = np.zeros(max(1, n_feat), dtype=np.int64)
        self.cnt = np.empty((max(1, n_feat), w), dtype=np.int64)
        self.sums = np.empty((max(1, n_feat), w))
        self.coded_sel = self.at.coded[pb.feature_of] if pb.n_selectors else np.zeros(0, bool)
        self.zabs = float(np.abs(pb.zs).sum())
        self.groups: dict[tuple, _Group] = {}
        self.cache: dict[tuple, tuple] = {}
        self.held = 0
        self.tmp = np.empty(pb.bits.shape[1], dtype=np.uint64)

    # ------------------------------------------------------------------ bookkeeping
    def register(self, sel: tuple[int, ...], j: int, size: int, bound: float) -> None:
        """Record a pushed node ``(*sel, j)`` whose refinements are last-level ones."""
        g = self.groups.get((sel, int(self.pb.feature_of[j])))
        if g is None:
            g = self.groups[(sel, int(self.pb.feature_of[j]))] = _Group()
        g.sels.append(j)
        g.sizes.append(size)
        g.bounds.append(bound)

    def _features(self, cand: np.ndarray) -> np.ndarray:
        feats = np.unique(self.pb.feature_of[cand])
        self.slot[feats] = np.arange(feats.size)
        return feats

    def _quality(self, n: np.ndarray, s: np.ndarray):
        pb = self.pb
        q = np.empty(n.size)
        tol = np.empty(n.size)
        A.mean_from_sums(n, s, pb.qf.kind, pb.params, self.zabs, q, tol)
        return q, tol

    # ------------------------------------------------------------------ batches
    def _batch(self, sel: tuple[int, ...], thr: float) -> tuple | None:
        """Refinements of all live siblings of ``sel`` from one pair pass (or None)."""
        pb = self.pb
        parent, s = sel[:-1], sel[-1]
        f = int(pb.feature_of[s])
        g = self.groups.pop((parent, f), None)
        if (g is None or self.mode == "node" or not self.at.coded[f]
                or self.at.width > BATCH_WIDTH):
            return None
        sels, sizes = np.asarray(g.sels, np.int64), np.asarray(g.sizes, np.int64)
        live = (np.asarray(g.bounds) > thr) | (sels == s)
        sibs = sels[live]
        if sibs.size < 2:
            return None
        qnode = pb.node_bits(parent)
        q_size = and_count(qnode, qnode, self.tmp)
        # a sibling abandoned by the bitset kernel has an unknown size (-1): count half of Q
        rows = np.where(sizes[live] >= 0, sizes[live], q_size // 2).sum()
        if self.mode == "auto" and rows <= BATCH_FACTOR * q_size:
            return None
        cand = pb.candidates_after(sel)
        cand = cand[self.coded_sel[cand]]
        if cand.size == 0 or self.held + sibs.size * cand.size > CACHE_LIMIT:
            return None
        feats = self._features(cand)
        w = self.at.width
        cnt = np.empty((feats.size, w, w), dtype=np.int64)
        sums = np.empty((feats.size, w, w))
        A.pair_histogram(qnode, self.at.codes, f, feats, pb.zs, cnt, sums)
        on = np.empty((sibs.size, cand.size), dtype=np.int64)
        os_ = np.empty((sibs.size, cand.size))
        A.sibling_child_sums(cnt, sums, sibs, cand, self.slot, pb.feature_of, self.at.ptr,
                             self.at.idx, on, os_, np.empty((sibs.size, w), np.int64),
                             np.empty((sibs.size, w)))
        mine = None
        for u, j in enumerate(sibs):
            q, tol = self._quality(on[u], os_[u])
            entry = (cand, q, tol)
            if int(j) == s:
                mine = entry
            else:
                self.cache[(*parent, int(j))] = entry
                self.held += cand.size
        return mine

    # ------------------------------------------------------------------ evaluation
    def __call__(self, sel: tuple[int, ...], cand: np.ndarray, thr: float):
        """Refinements ``sel AND cand[t]`` that may reach ``thr``.

        Returns
        -------
        t, q, n : ndarray
            Increasing positions in ``cand`` and the bitset kernel's quality and size of
            those refinements; every other refinement has a quality ``<= thr``.
        """
        pb = self.pb
        self._node = None
        if thr == -np.inf:  # top-k not full: every value is needed exactly anyway
            return self._bitset(sel, cand, np.arange(cand.size), thr)
        coded = self.coded_sel[cand]
        pos = None if coded.all() else np.flatnonzero(coded)
        parts = []
        if pos is not None:  # features with too many atoms: bitset kernel
            parts.append(self._bitset(sel, cand, np.flatnonzero(~coded), thr))
        cc = cand if pos is None else cand[pos]
        if cc.size:
            entry = self.cache.pop(sel, None)
            if entry is not None:
                self.held -= entry[0].size
            elif sel:
                entry = self._batch(sel, thr)
            if entry is not None:
                at = np.searchsorted(entry[0], cc)
                qh, tol = entry[1][at], entry[2][at]
            elif self.mode == "auto" and pb.fused:  # the fused kernel abandons early
                parts.append(self._bitset(sel, cand, np.arange(cand.size) if pos is None
                                          else pos, thr))
                cc = cc[:0]
            else:
                qh, tol = self._node_histogram(sel, cc)
            if cc.size:
                redo = np.flatnonzero(qh + tol > thr if thr > -np.inf else qh > -np.inf)
                if redo.size:  # exact values from the bitset kernel
                    t = redo if pos is None else pos[redo]
                    qe, _, ne = self.ev(self._bits(sel), cand[t], False, -np.inf)
                    parts.append((t, qe, ne))
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
        if len(parts) == 1:
            return parts[0]
        t, q, n = (np.concatenate(x) for x in zip(*parts, strict=True))
        o = np.argsort(t, kind="stable")
        return t[o], q[o], n[o]

    def _bits(self, sel: tuple[int, ...]) -> np.ndarray:
        if self._node is None:
            self._node = self.pb.node_bits(sel)
        return self._node

    def _bitset(self, sel, cand, t, thr):
        """Bitset kernel (with early abandonment) on ``cand[t]``: finite results."""
        q, _, n = self.ev(self._bits(sel), cand[t], False, thr)
        fin = np.flatnonzero(q > -np.inf)
        return t[fin], q[fin], n[fin]

    def _node_histogram(self, sel, cand):
        """Quality and rounding tolerance of ``sel AND j`` from one pass over ``sel``."""
        pb = self.pb
        feats = self._features(cand)
        A.node_histogram(self._bits(sel), self.at.codes, feats, pb.zs, self.cnt, self.sums)
        nh = np.empty(cand.size, dtype=np.int64)
        sh = np.empty(cand.size)
        A.child_sums(self.cnt, self.sums, self.slot, pb.feature_of, cand, self.at.ptr,
                     self.at.idx, nh, sh)
        return self._quality(nh, sh)
