"""Members of :class:`~sisso_lite.estimators.ensemble.SissoEnsemble`: the fitted-member
record and the functions that fit members (per member with ``run_sisso``, in lock-step with
:mod:`sisso_lite.solvers.batch`, or as independent classifiers)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sisso_lite._threads import numba_threads

__all__ = ["EnsembleMember"]


@dataclass
class EnsembleMember:
    """One fitted member of a :class:`SissoEnsemble`.

    Attributes
    ----------
    rows : ndarray of int
        Training rows of the member (bootstrap sample, with repeats).
    dropped_features : tuple of str
        Primary features the member was not allowed to use.
    descriptors : list of str
        Formulas of the member's descriptors.
    coefficients : ndarray, shape (n_dim,) (classification: the classifier's ``coef_``)
    intercept : float (classification: the classifier's ``intercept_``)
    model : SissoModel or SissoClassifier
        The fitted model (predicts from primary features).
    seed : int
        Seed that drew ``rows`` and ``dropped_features``.
    error : float
        Out-of-bag RMSE of the member (training RMSE when it has < 2 out-of-bag rows).
    """

    rows: np.ndarray
    dropped_features: tuple[str, ...]
    descriptors: list[str]
    coefficients: np.ndarray
    intercept: float
    model: object = field(repr=False)
    seed: int = 0
    error: float = 0.0

    def predict(self, X: np.ndarray, names=None) -> np.ndarray:
        """Prediction from a primary-feature array with columns ``names``.

        Rows where a descriptor is undefined (e.g. division by zero) give NaN.
        """
        with np.errstate(all="ignore"):
            try:
                out = self.model.predict_array(X, names=names)
            except ArithmeticError:
                out = np.array([_predict_row(self.model, X[i:i + 1], names)
                                for i in range(X.shape[0])])
        out = np.asarray(out, dtype=np.float64)
        out[~np.isfinite(out)] = np.nan
        return out


def _predict_row(model, row: np.ndarray, names) -> float:
    try:
        return float(model.predict_array(row, names=names)[0])
    except ArithmeticError:
        return np.nan


def _fit_member(space, y, rows, allowed, params: dict, n_threads: int | None):
    """Run SISSO for one member; returns its best model of the largest dimension."""
    from sisso_lite.solvers.driver import run_sisso

    with numba_threads(n_threads):
        result = run_sisso(space, y, rows=rows, allowed_primary=allowed, **params)
    return result.best()


def _fit_batched(space, y, plans, masks, params: dict, max_bytes: float):
    """All members in lock-step (None when the space exceeds ``max_bytes``)."""
    from sisso_lite.solvers.batch import fit_members_batched

    results = fit_members_batched(
        space, y, [(rows, mask) for (_, rows, _), mask in zip(plans, masks, strict=True)],
        max_bytes=max_bytes, keep_selected=False, **params)
    return None if results is None else [r.best() for r in results]


def _fit_classifier_member(model, X: pd.DataFrame, y: np.ndarray):
    return model.fit(X, y)
