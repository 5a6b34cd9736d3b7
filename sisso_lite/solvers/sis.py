"""Sure independence screening (SIS) scorers.

A scorer maps a block of candidate features ``values (m, n_samples)`` to one score per
feature (higher is better). :class:`~sisso_lite.features.FeatureSpace` calls
``score_block`` for any scorer; the Pearson scorers also expose :meth:`Scorer.fast_path`,
which lets the fused Numba kernel score the last rung while generating it.

References
----------
R. Ouyang et al., Phys. Rev. Mater. 2, 083802 (2018) (SIS with the projection score);
R. Ouyang et al., J. Phys.: Mater. 2, 024002 (2019) (multi-task SISSO).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sisso_lite.features.kernels import pearson_scores_nb

__all__ = ["Scorer", "PearsonScorer", "MultiTaskPearsonScorer", "PearsonFastPath"]

PearsonFastPath = tuple[NDArray[np.float64], NDArray[np.int64], int, NDArray[np.float64]]


class Scorer:
    """Base class of SIS scorers.

    Subclasses set ``kind`` and implement :meth:`score_block`. ``n_samples`` is the number
    of rows a block must have (the rows the scorer was built for).
    """

    kind: str = "generic"
    n_samples: int | None = None

    def score_block(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Scores of the rows of ``values`` ``(m, n_samples)``; higher is better."""
        raise NotImplementedError

    def fast_path(self) -> PearsonFastPath | None:
        """``(y_unit, task_index, n_tasks, weights)`` for the fused Pearson kernel, or None."""
        return None


def _unit_residual(residual: NDArray, task_index: NDArray, n_tasks: int) -> tuple[NDArray, NDArray]:
    """Per-task centred residual scaled to unit norm, and the per-task squared norms."""
    y_unit = np.empty_like(residual)
    norms2 = np.zeros(n_tasks)
    for t in range(n_tasks):
        mask = task_index == t
        centred = residual[mask] - residual[mask].mean()
        norms2[t] = float(centred @ centred)
        y_unit[mask] = centred / np.sqrt(norms2[t]) if norms2[t] > 0 else 0.0
    return y_unit, norms2


class PearsonScorer(Scorer):
    """|Pearson r| between each feature and one residual vector.

    This equals Fortran SISSO's projection score
    ``|<(x - mean x)/||x - mean x||, y - mean y>| / ||y - mean y||``.

    Parameters
    ----------
    residual : array-like (n_samples,)
        Target or residual of the current model on the screened rows.
    """

    kind = "pearson"

    def __init__(self, residual: ArrayLike) -> None:
        res = np.asarray(residual, dtype=np.float64).ravel()
        if res.size < 2 or not np.all(np.isfinite(res)):
            raise ValueError("residual must hold at least two finite values")
        self.residual = res
        self.n_samples = res.size
        self._task_index = np.zeros(res.size, dtype=np.int64)
        self._y_unit, _ = _unit_residual(res, self._task_index, 1)
        self._weights = np.ones(1)

    def fast_path(self) -> PearsonFastPath:
        return self._y_unit, self._task_index, 1, self._weights

    def score_block(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        block = np.ascontiguousarray(np.atleast_2d(values), dtype=np.float64)
        if block.shape[1] != self.n_samples:
            raise ValueError(f"values have {block.shape[1]} samples, scorer {self.n_samples}")
        return pearson_scores_nb(block, self._y_unit, self._task_index, 1, self._weights)


class MultiTaskPearsonScorer(Scorer):
    """Multi-task SIS score: quadratic mean over tasks of the per-task |Pearson r|.

    Parameters
    ----------
    residuals : array-like (n_samples,)
        Residuals of all samples (each task's samples centred within the task).
    task_index : array-like of int (n_samples,)
        Task of each sample (any labels; mapped to 0..T-1 in sorted order).
    weighting : {"sisso", "equal"}
        ``"sisso"`` (default) reproduces Fortran SISSO's ``sis_score``:
        ``sqrt(sum_t (r_t ||y_t||)^2 / sum_t ||y_t||^2)`` (tasks weighted by the squared norm
        of their centred residual). ``"equal"`` is the plain quadratic mean
        ``sqrt(mean_t r_t^2)``. Both reduce to |r| for one task.
    """

    kind = "pearson_multitask"

    def __init__(
        self,
        residuals: ArrayLike,
        task_index: ArrayLike,
        weighting: Literal["sisso", "equal"] = "sisso",
    ) -> None:
        res = np.asarray(residuals, dtype=np.float64).ravel()
        labels = np.asarray(task_index).ravel()
        if labels.shape != res.shape:
            raise ValueError("residuals and task_index differ in length")
        if not np.all(np.isfinite(res)):
            raise ValueError("residuals must be finite")
        if weighting not in ("sisso", "equal"):
            raise ValueError(f"unknown weighting {weighting!r}")
        _, inverse = np.unique(labels, return_inverse=True)
        self.task_index = inverse.ravel().astype(np.int64)
        self.n_tasks = int(self.task_index.max()) + 1
        self.residual = res
        self.n_samples = res.size
        self.weighting = weighting
        self._y_unit, norms2 = _unit_residual(res, self.task_index, self.n_tasks)
        if weighting == "sisso" and norms2.sum() > 0:
            self._weights = norms2 / norms2.sum()
        else:
            self._weights = np.full(self.n_tasks, 1.0 / self.n_tasks)

    def fast_path(self) -> PearsonFastPath:
        return self._y_unit, self.task_index, self.n_tasks, self._weights

    def score_block(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        block = np.ascontiguousarray(np.atleast_2d(values), dtype=np.float64)
        if block.shape[1] != self.n_samples:
            raise ValueError(f"values have {block.shape[1]} samples, scorer {self.n_samples}")
        return pearson_scores_nb(
            block, self._y_unit, self.task_index, self.n_tasks, self._weights
        )
