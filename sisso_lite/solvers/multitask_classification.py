"""Multi-task domain-overlap SISSO classification (Ouyang et al., J. Phys. Mater. 2, 024002
(2019); Fortran SISSO ``ptype=2`` with ``ntask > 1``).

One descriptor is shared by all tasks; class domains are built per task (a sample is only
compared with the domains of the other classes *of its own task*).  Overlap counts are summed
over tasks; the overlap size is Fortran's pooled ratio

    size = sum over overlapping class pairs of all tasks of |H_i ∩ H_j| / min(|H_i|, |H_j|)
           / (number of class pairs of all tasks)

if any pair of any task overlaps, else minus the smallest separation over all pairs.  The
per-task numbers come from the single-task kernels of :mod:`sisso_lite.solvers.overlap` and
are combined by :func:`combine_task_overlaps`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sisso_lite.solvers.classification import (
    ClassificationModel,
    _combos,
    _overlap_3d_combos,
    _rank,
    overlap_flags,
)
from sisso_lite.solvers.overlap import _BIG, overlap_1d_block, overlap_2d_pairs, squash
from sisso_lite.solvers.sis import Scorer as _ScorerBase

__all__ = ["TaskSplit", "MultiTaskOverlapScorer", "combine_task_overlaps",
           "l0_overlap_multitask", "overlap_flags_multitask"]


@dataclass(frozen=True)
class TaskSplit:
    """Rows and task-local class codes of every task.

    ``rows[t]`` indexes the samples of task ``t``; ``codes[t]`` are their class codes
    renumbered ``0 .. n_classes[t] - 1`` in the order of the global codes ``classes[t]``.
    """

    rows: tuple[NDArray, ...]
    codes: tuple[NDArray, ...]
    classes: tuple[NDArray, ...]

    @classmethod
    def make(cls, codes: NDArray, task_index: NDArray) -> TaskSplit:
        codes = np.asarray(codes, dtype=np.int64)
        task_index = np.asarray(task_index, dtype=np.int64)
        rows, local, classes = [], [], []
        for t in range(int(task_index.max()) + 1):
            r = np.flatnonzero(task_index == t)
            present, inv = np.unique(codes[r], return_inverse=True)
            rows.append(r)
            local.append(np.ascontiguousarray(inv.ravel(), dtype=np.int64))
            classes.append(present)
        return cls(tuple(rows), tuple(local), tuple(classes))

    @property
    def n_tasks(self) -> int:
        return len(self.rows)

    def n_pairs(self, t: int) -> int:
        k = len(self.classes[t])
        return k * (k - 1) // 2


def combine_task_overlaps(counts: NDArray, sizes: NDArray, n_pairs: NDArray) -> tuple[
        NDArray, NDArray]:
    """Pool per-task overlap results (Fortran SISSO's ``sis_score`` for ``ntask > 1``).

    Parameters
    ----------
    counts, sizes : ndarray (n_tasks, m)
        Per-task counts and sizes of ``m`` candidates; a size ``>= 0`` means that some pair
        of the task overlaps (mean normalised overlap of its pairs), ``< 0`` minus the
        smallest separation.
    n_pairs : ndarray (n_tasks,)
        Class pairs per task.

    Returns
    -------
    counts, sizes : ndarray (m,)
    """
    counts = np.asarray(counts)
    sizes = np.asarray(sizes, dtype=np.float64)
    w = np.asarray(n_pairs, dtype=np.float64)[:, None]
    over = sizes >= 0
    pooled = np.where(over, sizes * w, 0.0).sum(0) / w.sum()
    sep = np.where(over, -_BIG, sizes).max(0)
    return counts.sum(0), np.where(over.any(0), pooled, sep)


class MultiTaskOverlapScorer(_ScorerBase):
    """Domain-overlap SIS score with per-task domains (higher is better).

    Parameters
    ----------
    codes : ndarray of int (n,)
        Global class code of every sample.
    task_index : ndarray of int (n,)
        Task ``0 .. n_tasks - 1`` of every sample.
    active : ndarray of bool (n,), optional
        Unresolved samples (all by default).
    width : float
        Domain-boundary tolerance.
    standardize : bool
        Divide each feature by its standard deviation over the active samples of all tasks.
    pair_count : bool
        Fortran's per-class-pair counting (three or more classes).
    """

    kind = "overlap"

    def __init__(self, codes: NDArray, task_index: NDArray, active: NDArray | None = None,
                 width: float = 1e-3, standardize: bool = True,
                 pair_count: bool = False) -> None:
        self.codes = np.ascontiguousarray(codes, dtype=np.int64)
        self.task_index = np.asarray(task_index, dtype=np.int64)
        n = self.codes.shape[0]
        self.active = np.ones(n, bool) if active is None else np.asarray(active, bool)
        self.width = float(width)
        self.standardize = bool(standardize)
        self.pair_count = bool(pair_count)
        self.n_samples = n
        self.split = TaskSplit.make(self.codes, self.task_index)

    def details(self, values: NDArray) -> tuple[NDArray, NDArray]:
        """Pooled overlap counts (m,) and sizes (m,) of the rows of ``values`` (m, n)."""
        v = np.atleast_2d(np.asarray(values, dtype=np.float64))
        if self.standardize and self.active.sum() > 1:
            sd = v[:, self.active].std(axis=1)
            v = v / np.where(sd > 0, sd, 1.0)[:, None]
        T = self.split.n_tasks
        counts = np.zeros((T, v.shape[0]), np.int64)
        sizes = np.full((T, v.shape[0]), -_BIG)
        for t in range(T):
            r = self.split.rows[t]
            act = np.ascontiguousarray(self.active[r])
            if not act.any():
                continue
            counts[t], sizes[t] = overlap_1d_block(
                np.ascontiguousarray(v[:, r]), self.split.codes[t],
                len(self.split.classes[t]), act, self.width, False, self.pair_count)
        return combine_task_overlaps(counts, sizes, self._n_pairs())

    def _n_pairs(self) -> NDArray:
        return np.array([self.split.n_pairs(t) for t in range(self.split.n_tasks)])

    def score_block(self, values: NDArray) -> NDArray:
        counts, sizes = self.details(values)
        score = -counts - squash(sizes)
        return np.where(np.all(np.isfinite(values), axis=1), score, -np.inf)


def l0_overlap_multitask(features: NDArray, codes: NDArray, task_index: NDArray, dim: int,
                         n_models: int = 1, width: float = 1e-3, fortran: bool = False,
                         scale: NDArray | None = None,
                         pair_count: bool = False) -> list[ClassificationModel]:
    """Exhaustive multi-task L0 by pooled (count, size); see
    :func:`~sisso_lite.solvers.classification.l0_overlap`.  A candidate is degenerate if any
    task has a degenerate domain."""
    F = np.asarray(features, dtype=np.float64)
    if scale is not None:
        F = F / np.asarray(scale, float)[None, :]
    m = F.shape[1]
    if dim > m:
        raise ValueError(f"dimension {dim} exceeds the {m} candidate features")
    if dim > 3:
        raise ValueError("overlap L0 is implemented for dim 1, 2 and 3")
    split = TaskSplit.make(codes, task_index)
    combos = _combos(m, dim)
    T = split.n_tasks
    counts = np.zeros((T, len(combos)), np.int64)
    sizes = np.zeros((T, len(combos)))
    degen = np.zeros(len(combos), bool)
    for t in range(T):
        Ft = np.ascontiguousarray(F[split.rows[t]])
        ct, k = split.codes[t], len(split.classes[t])
        if dim == 1:
            counts[t], sizes[t] = overlap_1d_block(np.ascontiguousarray(Ft.T), ct, k,
                                                   np.ones(len(ct), bool), width, False,
                                                   pair_count)
        elif dim == 2:
            counts[t], sizes[t], dg = overlap_2d_pairs(Ft, combos, ct, k, width, fortran,
                                                       pair_count)
            degen |= dg
        else:
            # sizes for all candidates: the pooled ranking needs every task's size
            counts[t], sizes[t], dg = _overlap_3d_combos(Ft, combos, ct, k, width,
                                                         len(combos), pair_count)
            degen |= dg
    n_pairs = np.array([split.n_pairs(t) for t in range(T)])
    c, s = combine_task_overlaps(counts, sizes, n_pairs)
    models = [ClassificationModel(tuple(int(j) for j in combos[r]), int(c[r]), float(s[r]),
                                  degenerate=bool(degen[r])) for r in range(len(combos))]
    return _rank(models, lambda mo: (mo.degenerate, mo.count, mo.size), n_models,
                 f"{dim}D multi-task overlap")


def overlap_flags_multitask(X: NDArray, codes: NDArray, task_index: NDArray, width: float,
                            fortran: bool = False,
                            pair_count: bool = False) -> tuple[int, float, NDArray]:
    """(pooled count, pooled size, per-sample flags) of one descriptor (n, d) with per-task
    domains."""
    X = np.asarray(X, dtype=np.float64).reshape(len(codes), -1)
    split = TaskSplit.make(codes, task_index)
    flags = np.zeros(len(codes), bool)
    counts = np.zeros((split.n_tasks, 1), np.int64)
    sizes = np.zeros((split.n_tasks, 1))
    for t in range(split.n_tasks):
        r = split.rows[t]
        c, s, f = overlap_flags(X[r], split.codes[t], len(split.classes[t]), width, fortran,
                                pair_count)
        counts[t, 0], sizes[t, 0] = c, s
        flags[r] = f
    n_pairs = np.array([split.n_pairs(t) for t in range(split.n_tasks)])
    c, s = combine_task_overlaps(counts, sizes, n_pairs)
    return int(c[0]), float(s[0]), flags
