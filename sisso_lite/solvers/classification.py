"""SIS scorers and exhaustive L0 search for SISSO classification.

Two criteria:

* ``"overlap"`` -- domain overlap (Ouyang et al., Phys. Rev. Mater. 2, 083802 (2018); Fortran
  SISSO v3.5 ``ptype=2``).  SIS scores a feature by the number of *unclassified* samples that
  fall inside another class's 1D domain ``[min, max]`` (tolerance ``width``), ties broken by
  the normalised overlap length (or, when all domains are separated, by the separation).  The
  L0 minimises the same two numbers with convex hulls in 1, 2 or 3 dimensions.
* ``"accuracy"`` -- the training accuracy of the best decision stump (SIS) and of a decision
  stump (1D) or linear SVM (2D, 3D) on the candidate descriptor (L0), in the spirit of
  Inorg. Chem. 62, 10865 (2023).  ``balanced=True`` uses balanced accuracy.

Both scorers return one higher-is-better float per feature, as required by
``FeatureSpace.screen``:

* overlap: ``-count - squash(size)`` with :func:`~sisso_lite.solvers.overlap.squash` mapping
  the lower-is-better size into (0, 1), so the integer count dominates (SISSO's two-level
  ranking in one number; use :meth:`OverlapScorer.details` for the two numbers);
* accuracy: the (balanced) accuracy in [0, 1].

The decision-stump kernels are in :mod:`sisso_lite.solvers.stump` (re-exported here).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sisso_lite.solvers.overlap import (
    overlap_1d_block,
    overlap_2d,
    overlap_2d_pairs,
    overlap_nd,
    squash,
)
from sisso_lite.solvers.sis import Scorer as _ScorerBase
from sisso_lite.solvers.stump import sample_weights, stump_accuracy_block, stump_accuracy_pruned
from sisso_lite.solvers.stump import stump_accuracy_reference as stump_accuracy_reference

# ------------------------------------------------------------------------ SIS scorers


class OverlapScorer(_ScorerBase):
    """Domain-overlap SIS score of features (higher is better).

    Parameters
    ----------
    codes : ndarray of int (n,)
        Class index of every sample, ``0 .. n_classes - 1``.
    n_classes : int
    active : ndarray of bool (n,), optional
        Samples not yet classified (all by default); only these define the domains.
    width : float
        Domain-boundary tolerance (SISSO ``bwidth``).
    standardize : bool
        Divide each feature by its standard deviation (over the active samples) before
        applying ``width`` and measuring separations.  ``False`` is Fortran SISSO.
    pair_count : bool
        Count a sample once per foreign domain containing it (Fortran SISSO with three or
        more classes) instead of once.
    """

    kind = "overlap"

    def __init__(self, codes: NDArray, n_classes: int, active: NDArray | None = None,
                 width: float = 1e-3, standardize: bool = True,
                 pair_count: bool = False) -> None:
        self.codes = np.ascontiguousarray(codes, dtype=np.int64)
        self.n_classes = int(n_classes)
        n = self.codes.shape[0]
        self.active = np.ones(n, bool) if active is None else np.asarray(active, bool)
        self.width = float(width)
        self.standardize = bool(standardize)
        self.pair_count = bool(pair_count)
        self.n_samples = n

    def details(self, values: NDArray) -> tuple[NDArray, NDArray]:
        """Overlap counts (m,) and sizes (m,) of the rows of ``values`` (m, n)."""
        v = np.ascontiguousarray(np.atleast_2d(values), dtype=np.float64)
        return overlap_1d_block(v, self.codes, self.n_classes, self.active, self.width,
                                self.standardize, self.pair_count)

    def score_block(self, values: NDArray) -> NDArray:
        counts, sizes = self.details(values)
        score = -counts - squash(sizes)
        return np.where(np.all(np.isfinite(values), axis=1), score, -np.inf)


class StumpScorer(_ScorerBase):
    """SIS score = (balanced) accuracy of the best decision stump on the active samples.

    Parameters
    ----------
    codes, n_classes, active
        As in :class:`OverlapScorer`.
    balanced : bool
        Balanced accuracy (class weights ``1 / (n_classes * count)``).
    n_keep : int, optional
        Enables exact pruning for large screens: the scorer remembers the ``n_keep`` best
        exact scores seen so far and, for a feature whose histogram upper bound is below the
        smallest of them, returns that bound instead of sorting (the feature can then not
        enter the top ``n_keep``).  Choose ``n_keep`` >= ``n_sis`` + excluded features (+
        margin for duplicates the screen may drop).  One scorer per screen.
    n_bins : int
        Histogram bins of the bound.
    """

    kind = "accuracy"

    def __init__(self, codes: NDArray, n_classes: int, active: NDArray | None = None,
                 balanced: bool = False, n_keep: int | None = None, n_bins: int = 64) -> None:
        self.codes = np.ascontiguousarray(codes, dtype=np.int64)
        self.n_classes = int(n_classes)
        n = self.codes.shape[0]
        self.active = np.ones(n, bool) if active is None else np.asarray(active, bool)
        self.weights = sample_weights(self.codes, self.n_classes, self.active, balanced)
        self.n_samples = n
        # only the active samples matter: score on those columns (cheaper in dimension > 1)
        self._cols = None if self.active.all() else np.flatnonzero(self.active)
        self._codes_a = self.codes if self._cols is None else self.codes[self._cols]
        self._w_a = self.weights if self._cols is None else self.weights[self._cols]
        self.n_keep = n_keep
        self.n_bins = int(n_bins)
        self._top = np.empty(0)
        self.n_scored = 0
        self.n_pruned = 0

    @property
    def threshold(self) -> float:
        """Smallest of the ``n_keep`` best exact scores so far (-inf until filled)."""
        if self.n_keep is None or self._top.size < self.n_keep:
            return -np.inf
        return float(self._top.min())

    def score_block(self, values: NDArray) -> NDArray:
        v = np.atleast_2d(values)
        v = np.ascontiguousarray(v if self._cols is None else v[:, self._cols],
                                 dtype=np.float64)
        if self.n_keep is None:
            return stump_accuracy_pruned(v, self._codes_a, self.n_classes, self._w_a, -1.0,
                                         self.n_bins)[0]
        acc, pruned = stump_accuracy_pruned(v, self._codes_a, self.n_classes, self._w_a,
                                            self.threshold, self.n_bins)
        self.n_scored += acc.size
        self.n_pruned += int(pruned.sum())
        exact = acc[~pruned & np.isfinite(acc)]
        if exact.size:
            top = np.concatenate([self._top, exact])
            if top.size > self.n_keep:
                top = np.partition(top, top.size - self.n_keep)[top.size - self.n_keep:]
            self._top = top
        return acc


# ----------------------------------------------------------------------------- L0


@dataclass(frozen=True)
class ClassificationModel:
    """One L0 candidate: feature columns, overlap ``count``/``size`` or ``accuracy``."""

    columns: tuple[int, ...]
    count: int
    size: float
    accuracy: float = np.nan
    degenerate: bool = False


def _combos(m: int, dim: int) -> NDArray:
    return np.array(list(itertools.combinations(range(m), dim)), dtype=np.int64).reshape(-1, dim)


def _rank(models: list[ClassificationModel], key, n_models: int,
          what: str) -> list[ClassificationModel]:
    models.sort(key=key)
    if not models or models[0].degenerate:
        raise ValueError(
            f"every {what} candidate descriptor has a degenerate class domain (collinear/"
            "coplanar samples or fewer than dim + 1 samples in a class); use a smaller "
            "n_dim or more samples per class")
    return models[:n_models]


def l0_overlap(features: NDArray, codes: NDArray, n_classes: int, dim: int,
               n_models: int = 1, width: float = 1e-3, fortran: bool = False,
               scale: NDArray | None = None,
               pair_count: bool = False) -> list[ClassificationModel]:
    """Exhaustive L0 over all ``dim``-subsets of the columns of ``features`` (n, m).

    Ranks by (overlap count, size), both lower is better; ties keep the lexicographically
    first column tuple.  ``scale`` (m,) divides the columns first.  ``dim`` 1 and 2 use
    Numba kernels, ``dim`` 3 SciPy hulls (sizes only for the candidates that can reach the
    top ``n_models``).  ``pair_count``: Fortran's per-class-pair counting (see
    :class:`OverlapScorer`).
    """
    F = np.asarray(features, dtype=np.float64)
    if scale is not None:
        F = F / np.asarray(scale, float)[None, :]
    n, m = F.shape
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    if dim > m:
        raise ValueError(f"dimension {dim} exceeds the {m} candidate features")
    combos = _combos(m, dim)
    if dim == 1:
        counts, sizes = overlap_1d_block(np.ascontiguousarray(F.T), codes, n_classes,
                                         np.ones(n, bool), width, False, pair_count)
        degen = np.zeros(m, bool)
    elif dim == 2:
        counts, sizes, degen = overlap_2d_pairs(np.ascontiguousarray(F), combos, codes,
                                                n_classes, width, fortran, pair_count)
    elif dim == 3:
        counts, sizes, degen = _overlap_3d_combos(F, combos, codes, n_classes, width,
                                                  n_models, pair_count)
    else:
        raise ValueError("overlap L0 is implemented for dim 1, 2 and 3")
    models = [ClassificationModel(tuple(int(j) for j in combos[r]), int(counts[r]),
                                  float(sizes[r]), degenerate=bool(degen[r]))
              for r in range(len(combos))]
    return _rank(models, lambda mo: (mo.degenerate, mo.count, mo.size), n_models,
                 f"{dim}D overlap")


def _overlap_3d_combos(F, combos, codes, n_classes, width, n_models, pair_count=False):
    counts = np.full(len(combos), F.shape[0], np.int64)
    sizes = np.full(len(combos), np.inf)
    degen = np.zeros(len(combos), bool)
    for r, cols in enumerate(combos):
        try:
            counts[r] = overlap_nd(F[:, cols], codes, n_classes, width, with_size=False,
                                   pair_count=pair_count)[0]
        except ValueError:
            degen[r] = True
    ok = np.flatnonzero(~degen)
    if ok.size:
        cut = np.sort(counts[ok])[min(n_models, ok.size) - 1]
        for r in ok[counts[ok] <= cut]:
            sizes[r] = overlap_nd(F[:, combos[r]], codes, n_classes, width)[1]
    return counts, sizes, degen


def l0_overlap_reference(features: NDArray, codes: NDArray, n_classes: int, dim: int,
                         n_models: int = 1, width: float = 1e-3) -> list[ClassificationModel]:
    """SciPy reference of :func:`l0_overlap` (non-Fortran mode), any ``dim``."""
    F = np.asarray(features, dtype=np.float64)
    models = []
    for cols in itertools.combinations(range(F.shape[1]), dim):
        try:
            c, s, _ = overlap_nd(F[:, cols], codes, n_classes, width)
            models.append(ClassificationModel(cols, c, s))
        except ValueError:
            models.append(ClassificationModel(cols, F.shape[0], 0.0, degenerate=True))
    return _rank(models, lambda mo: (mo.degenerate, mo.count, mo.size), n_models,
                 f"{dim}D overlap")


def overlap_flags(X: NDArray, codes: NDArray, n_classes: int, width: float,
                  fortran: bool = False, pair_count: bool = False) -> tuple[int, float, NDArray]:
    """(count, size, per-sample "in a foreign domain" flags) of one descriptor (n, d)."""
    X = np.asarray(X, dtype=np.float64).reshape(len(codes), -1)
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    if X.shape[1] == 2:
        flags = np.empty(len(codes), bool)
        c, s, d = overlap_2d(np.ascontiguousarray(X[:, 0]), np.ascontiguousarray(X[:, 1]),
                             codes, n_classes, width, fortran, flags, pair_count)
        if d:
            overlap_nd(X, codes, n_classes, width)  # raises the descriptive ValueError
        return int(c), float(s), flags
    return overlap_nd(X, codes, n_classes, width, pair_count=pair_count)


def l0_accuracy(features: NDArray, codes: NDArray, n_classes: int, dim: int,
                n_models: int = 1, balanced: bool = False,
                C: float = 1.0) -> list[ClassificationModel]:
    """Exhaustive L0 by training accuracy: decision stump (dim 1, exact) or a linear SVM
    on the standardised candidate descriptor (dim >= 2)."""
    from sklearn.svm import LinearSVC

    F = np.asarray(features, dtype=np.float64)
    n, m = F.shape
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    w = sample_weights(codes, n_classes, np.ones(n, bool), balanced)
    combos = _combos(m, dim)
    if dim == 1:
        acc = stump_accuracy_block(np.ascontiguousarray(F.T), codes, n_classes, w)[0]
    else:
        Z = (F - F.mean(0)) / np.where(F.std(0) > 0, F.std(0), 1.0)
        acc = np.empty(len(combos))
        for r, cols in enumerate(combos):
            svm = LinearSVC(C=C, class_weight="balanced" if balanced else None, max_iter=2000)
            svm.fit(Z[:, cols], codes)
            pred = svm.predict(Z[:, cols])
            acc[r] = (w * (pred == codes)).sum() / w.sum()
    models = [ClassificationModel(tuple(int(j) for j in combos[r]), 0, 0.0,
                                  accuracy=float(acc[r])) for r in range(len(combos))]
    models.sort(key=lambda mo: -mo.accuracy)
    return models[:n_models]
