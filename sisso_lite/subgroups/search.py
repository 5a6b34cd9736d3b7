"""Search over conjunctions of selectors: exact best-first branch-and-bound and beam search.

Search space (as pysubgroup's ``StaticSpecializationOperator``): conjunctions of up to
``depth`` selectors, at most one selector per feature. The exact search returns the true
top-k by quality (ties at the k-th value are resolved by discovery order); with
``dedupe=True`` (default) each extension (set of member rows) counts once and is
represented by its shortest description found.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import _kernels as K
from ._atoms import Atoms, build_atoms, pack_selectors
from ._bitset import pack_rows
from ._last_level import LastLevel, use_atoms
from ._wide import eval_children_mean1_wide
from .quality import QualityFunction

PAIR_LIMIT = 3000  # selectors; above this the pair-estimate table (m*m floats) is skipped

__all__ = ["Problem", "Result", "beam_search", "best_first_search", "diverse_top_k",
           "search_exact"]


@dataclass
class Problem:
    """Packed search problem (rows sorted by transformed target, ascending).

    Parameters
    ----------
    masks : ndarray of bool, shape (n_selectors, n_rows)
        Selector membership in the original row order.
    feature_of : ndarray of int, shape (n_selectors,)
        Feature index of each selector (non-decreasing).
    z : ndarray, shape (n_rows,)
        Transformed target (``qf.fit`` output), original row order.
    qf : QualityFunction
        Fitted quality function.
    min_size : int
        Minimum number of rows of a subgroup.
    """

    masks: np.ndarray
    feature_of: np.ndarray
    z: np.ndarray
    qf: QualityFunction
    min_size: int = 1
    order: np.ndarray = field(init=False)
    bits: np.ndarray = field(init=False)
    zs: np.ndarray = field(init=False)
    full: np.ndarray = field(init=False)
    first_of_feature: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.feature_of = np.asarray(self.feature_of, dtype=np.int64)
        if np.any(np.diff(self.feature_of) < 0):
            raise ValueError("selectors must be grouped by feature (non-decreasing feature_of)")
        self.order = np.argsort(self.z, kind="stable")
        self.zs = np.ascontiguousarray(self.z[self.order], dtype=np.float64)
        n = self.zs.size
        n_words = max(1, (n + 63) // 64)
        m = np.asarray(self.masks, dtype=bool).reshape(-1, n)
        n_feat = int(self.feature_of.max()) + 1 if self.feature_of.size else 0
        self.first_of_feature = np.searchsorted(self.feature_of, np.arange(n_feat + 1))
        # atoms of each feature's selectors; the selector bitsets are ORs of atom bitsets
        self._atoms = build_atoms(m, self.first_of_feature, self.order)
        self.bits = pack_selectors(self._atoms, m, self.first_of_feature, self.order, n_words)
        self.full = pack_rows(np.ones(n, dtype=bool))
        self.params = self.qf.kernel_params(self.min_size)
        self.aux = np.ascontiguousarray(self.qf.kernel_aux(), dtype=np.float64)
        # fused a == 1 kernel for the mean family (byte tables: 2 KiB per 8 rows)
        self.fused = self.qf.kind in (K.K_MEAN, K.K_NORM_MEAN) and self.qf.a == 1.0
        if self.fused:
            c = self.params[K.P_CENTER]
            self.table = K.byte_sum_table(self.zs)
            self.p_hi = int(np.searchsorted(self.zs, c, side="right"))
            self.p_lo = int(np.searchsorted(self.zs, c, side="left"))

    @property
    def n_selectors(self) -> int:
        return int(self.bits.shape[0])

    def atoms(self) -> Atoms:
        """Atom codes of the selectors (:mod:`sisso_lite.subgroups._atoms`)."""
        return self._atoms

    def node_bits(self, sel: tuple[int, ...]) -> np.ndarray:
        """Bitset of a conjunction (all rows for the empty one)."""
        if not sel:
            return self.full.copy()
        out = np.empty(self.bits.shape[1], dtype=np.uint64)
        K.and_rows(self.bits, np.asarray(sel, dtype=np.int64), out)
        return out

    def candidates_after(self, sel: tuple[int, ...]) -> np.ndarray:
        """Selectors of features after the last feature used in ``sel``."""
        start = 0 if not sel else self.first_of_feature[self.feature_of[sel[-1]] + 1]
        return np.arange(start, self.n_selectors, dtype=np.int64)


@dataclass(order=True)
class Result:
    """One subgroup: quality, selector indices, size."""

    quality: float
    selectors: tuple[int, ...]
    size: int


class _Evaluator:
    """Evaluates refinements of one node with the Numba kernel (or Python fallback)."""

    def __init__(self, pb: Problem) -> None:
        self.pb = pb
        n_words = pb.bits.shape[1]
        self.tmp = np.empty(n_words, dtype=np.uint64)
        self.buf = np.empty(max(1, pb.zs.size), dtype=np.float64)
        self.work = np.empty(pb.zs.size + 1, dtype=np.float64)

    def __call__(self, node: np.ndarray, cand: np.ndarray, want_bound: bool,
                 thr: float = -np.inf):
        """Quality, estimate and size of ``node AND selector`` for each candidate.

        Refinements that provably cannot beat ``thr`` may be abandoned early (reported
        with ``-inf`` quality and estimate).
        """
        pb = self.pb
        q = np.empty(cand.size)
        b = np.empty(cand.size)
        n = np.empty(cand.size, dtype=np.int64)
        if pb.fused and thr == -np.inf:  # nothing to abandon: word-major, same values
            eval_children_mean1_wide(node, pb.bits, cand, pb.zs, pb.table, pb.params, pb.p_hi,
                                     pb.p_lo, want_bound, q, b, n, self.tmp, self.buf,
                                     pb.qf.kind, np.empty((6, cand.size)))
            return q, b, n
        if pb.fused:
            K.eval_children_mean1(node, pb.bits, cand, pb.zs, pb.table, pb.params, pb.p_hi,
                                  pb.p_lo, want_bound, q, b, n, self.tmp, self.buf, self.work,
                                  pb.qf.kind, float(thr))
            return q, b, n
        if pb.qf.kind is not None:
            K.eval_children(node, pb.bits, cand, pb.zs, pb.qf.kind, pb.params, pb.aux,
                            want_bound, q, b, n, self.tmp, self.buf, self.work)
            return q, b, n
        from ._bitset import unpack_rows
        nr = pb.zs.size
        for t, j in enumerate(cand):
            member = unpack_rows(node & pb.bits[j], nr)
            vals = pb.zs[member]
            n[t] = vals.size
            if vals.size < max(1, pb.min_size):
                q[t] = b[t] = -np.inf
                continue
            q[t] = pb.qf.evaluate(vals)
            b[t] = pb.qf.optimistic_estimate(vals, pb.min_size) if want_bound else np.nan
        return q, b, n


class _TopK:
    """Top-k results; optional dedupe by extension."""

    def __init__(self, k: int, pb: Problem, dedupe: bool) -> None:
        self.k, self.pb, self.dedupe = k, pb, dedupe
        self.heap: list[list] = []  # [quality, -counter, selectors, size, key]
        self.by_key: dict[bytes, list] = {}
        self.counter = itertools.count()

    def threshold(self) -> float:
        return self.heap[0][0] if len(self.heap) >= self.k else -np.inf

    def offer(self, q: float, sel: tuple[int, ...], size: int) -> None:
        full = len(self.heap) >= self.k
        if full and q < self.heap[0][0]:
            return
        key = b""
        if self.dedupe:
            key = self.pb.node_bits(sel).tobytes()
            old = self.by_key.get(key)
            if old is not None:
                if len(sel) < len(old[2]) or (len(sel) == len(old[2]) and sel < old[2]):
                    old[2] = sel
                return
        if full and q <= self.heap[0][0]:
            return
        entry = [q, -next(self.counter), sel, size, key]
        if full:
            worst = heapq.heappushpop(self.heap, entry)
            if self.dedupe:
                self.by_key.pop(worst[4], None)
        else:
            heapq.heappush(self.heap, entry)
        if self.dedupe:
            self.by_key[key] = entry

    def results(self) -> list[Result]:
        out = [Result(e[0], e[2], e[3]) for e in self.heap]
        out.sort(key=lambda r: (-r.quality, len(r.selectors), r.selectors))
        return out


def best_first_search(pb: Problem, depth: int, top_k: int, dedupe: bool = True,
                      roots: np.ndarray | None = None, last_level: str = "auto",
                      progress: Callable[[int], object] | None = None) -> list[Result]:
    """Exact best-first branch-and-bound (pruning on the optimistic estimate).

    Parameters
    ----------
    roots : ndarray of int, optional
        Restrict the first selector of every conjunction to these (used to split the
        search tree across workers).
    last_level : {"auto", "node", "batch", "bitset"}
        How last-level refinements of the mean family are evaluated: from atom histograms
        (:mod:`sisso_lite.subgroups._last_level`: ``"node"`` one pass per node,
        ``"batch"`` sibling batches where possible, ``"auto"`` batches where cheaper and
        only on tables large enough to gain) or by the bitset kernels alone. All give
        identical results.
    progress : callable, optional
        Called with a number of top-level branches (first selectors) done: those pruned or
        without refinement at the root, then one per first-level node expanded, and at the
        end the ones the bound prunes; the calls add up to the number of root candidates
        (``pb.n_selectors``, or ``len(roots)``). Only counts: the search is unchanged.
    """
    if not pb.qf.has_estimator:
        raise ValueError("exact search needs an optimistic estimator; this quality "
                         "function has none (use search='beam' or supply an estimator)")
    ev = _Evaluator(pb)
    top = _TopK(top_k, pb, dedupe)
    tie = itertools.count()
    m = pb.n_selectors
    last = LastLevel(pb, ev, last_level) if use_atoms(pb, depth, last_level) else None
    # optimistic estimates of single selectors and of pairs (estimates are monotone, so a
    # conjunction containing j, or j and k, is bounded by them): skip hopeless refinements
    b1 = np.full(m, np.inf)
    b2 = np.full((m, m), np.inf) if m <= PAIR_LIMIT else None
    heap: list[tuple[float, int, tuple[int, ...]]] = [(-np.inf, next(tie), ())]
    open_first = 0  # first-level nodes pushed, not yet expanded (for progress)
    while heap:
        negb, _, sel = heapq.heappop(heap)
        thr = top.threshold()
        if sel and -negb <= thr:
            break
        if progress is not None and len(sel) == 1:
            open_first -= 1
            progress(1)
        cand = pb.candidates_after(sel) if sel or roots is None else np.asarray(roots, np.int64)
        if sel and cand.size:
            keep = b1[cand] > thr
            if b2 is not None:
                for s in sel:
                    keep &= b2[s, cand] > thr
            cand = cand[keep]
        if cand.size == 0:
            continue
        want_bound = len(sel) + 1 < depth
        if last is not None and not want_bound:  # only refinements that may reach thr
            at, q, n = last(sel, cand, thr)
            b, sub = None, cand[at]
        else:
            q, b, n = ev(pb.node_bits(sel), cand, want_bound, thr)
            sub = cand
        if want_bound and len(sel) == 0:
            b1[cand] = b
        elif want_bound and len(sel) == 1 and b2 is not None:
            b2[sel[0], cand] = b
        thr = top.threshold()
        ok = np.flatnonzero(q >= thr)
        for t in ok[np.argsort(-q[ok], kind="stable")]:
            if q[t] > -np.inf:
                top.offer(float(q[t]), (*sel, int(sub[t])), int(n[t]))
        if want_bound:
            thr = top.threshold()
            final = pb.feature_of[pb.n_selectors - 1]
            register = last is not None and len(sel) + 2 == depth
            for t in np.flatnonzero(b > thr):
                j = int(cand[t])
                if pb.feature_of[j] == final:
                    continue  # no feature left to refine with
                heapq.heappush(heap, (-float(b[t]), next(tie), (*sel, j)))
                open_first += not sel
                if register:
                    last.register(sel, j, int(n[t]), float(b[t]))
        if progress is not None and not sel:
            progress(int(cand.size) - open_first)
    if progress is not None and open_first:
        progress(open_first)  # pruned by the bound
    return top.results()


def _merge(parts: list[list[Result]], pb: Problem, top_k: int, dedupe: bool) -> list[Result]:
    top = _TopK(top_k, pb, dedupe)
    allr = sorted((r for p in parts for r in p),
                  key=lambda r: (-r.quality, len(r.selectors), r.selectors))
    for r in allr:
        top.offer(r.quality, r.selectors, r.size)
    return top.results()


def search_exact(pb: Problem, depth: int, top_k: int, dedupe: bool = True,
                 n_jobs: int | None = None,
                 progress: Callable[[int], object] | None = None) -> list[Result]:
    """Exact top-k; with ``n_jobs > 1`` the tree is split by first selector (threads).

    ``progress``: called with counts of top-level branches done, adding up to
    ``pb.n_selectors`` (see :func:`best_first_search`; from the worker threads when
    ``n_jobs > 1``, so it must be thread-safe).
    """
    n_workers = _n_workers(n_jobs)
    if n_workers <= 1 or pb.n_selectors < 2:
        return best_first_search(pb, depth, top_k, dedupe, progress=progress)
    from joblib import Parallel, delayed

    roots = [np.arange(i, pb.n_selectors, n_workers, dtype=np.int64) for i in range(n_workers)]
    parts = Parallel(n_jobs=n_workers, prefer="threads")(
        delayed(best_first_search)(pb, depth, top_k, dedupe, r, progress=progress)
        for r in roots if r.size)
    return _merge(parts, pb, top_k, dedupe)


def _n_workers(n_jobs: int | None) -> int:
    if n_jobs is None:
        return 1
    import os

    cpus = os.cpu_count() or 1
    return cpus if n_jobs < 0 else max(1, int(n_jobs))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two bitsets."""
    inter = int(np.unpackbits((a & b).view(np.uint8)).sum())
    union = int(np.unpackbits((a | b).view(np.uint8)).sum())
    return inter / union if union else 1.0


def diverse_top_k(pb: Problem, results: list[Result], top_k: int,
                  max_overlap: float) -> list[Result]:
    """Greedy selection by quality skipping rules with Jaccard similarity > max_overlap
    to an already selected rule."""
    chosen: list[Result] = []
    bits: list[np.ndarray] = []
    for r in results:
        rb = pb.node_bits(r.selectors)
        if all(jaccard(rb, o) <= max_overlap for o in bits):
            chosen.append(r)
            bits.append(rb)
            if len(chosen) == top_k:
                break
    return chosen


def beam_search(pb: Problem, depth: int, top_k: int, beam_width: int = 20,
                dedupe: bool = True,
                progress: Callable[[int], object] | None = None) -> list[Result]:
    """Level-wise beam search (keeps the ``beam_width`` best conjunctions per level).

    ``progress``: called with the number of levels done (one per level; the levels left
    when no conjunction extends), adding up to ``depth``. Only counts.
    """
    ev = _Evaluator(pb)
    top = _TopK(top_k, pb, dedupe)
    beam: list[tuple[int, ...]] = [()]
    seen: set[tuple[int, ...]] = set()
    for level_no in range(depth):
        level: list[tuple[float, tuple[int, ...]]] = []
        for sel in beam:
            used = {int(pb.feature_of[j]) for j in sel}
            cand = np.array([j for j in range(pb.n_selectors)
                             if int(pb.feature_of[j]) not in used], dtype=np.int64)
            if cand.size == 0:
                continue
            q, _, n = ev(pb.node_bits(sel), cand, False)
            for t in np.flatnonzero(q > -np.inf):
                key = tuple(sorted((*sel, int(cand[t]))))
                if key in seen:
                    continue
                seen.add(key)
                level.append((float(q[t]), key))
                top.offer(float(q[t]), key, int(n[t]))
        if not level:
            if progress is not None:
                progress(depth - level_no)
            break
        level.sort(key=lambda x: (-x[0], x[1]))
        beam = [s for _, s in level[:beam_width]]
        if progress is not None:
            progress(1)
    return top.results()
