"""The predictive distribution a surrogate gives over a candidate pool."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Prediction"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Prediction:
    """Model prediction over a candidate pool.

    Parameters
    ----------
    mean : ndarray of shape (n,)
        Predicted mean of every candidate (may contain non-finite entries; those candidates
        get a ``NaN`` score).
    std : ndarray of shape (n,)
        Predictive standard deviation, ``>= 0`` (``NaN``/``inf`` allowed, scored ``NaN``).
    samples : ndarray of shape (K, n), optional
        Predictions of the ``K`` ensemble members or ``K`` posterior draws (may contain
        ``NaN``); used by :func:`thompson`.
    p_feasible : ndarray of shape (n,), optional
        Probability that a candidate is feasible, in ``[0, 1]`` (``NaN`` allowed); used by
        :func:`constrained`.

    Raises
    ------
    ValueError
        If a field has the wrong number of dimensions or a shape inconsistent with ``mean``,
        if ``std`` is negative, or if ``p_feasible`` lies outside ``[0, 1]``.

    Notes
    -----
    The arrays are converted with :func:`numpy.asarray` (``float64``), so no copy is made
    when they already are ``float64`` arrays.
    """

    mean: np.ndarray
    std: np.ndarray
    samples: np.ndarray | None = None
    p_feasible: np.ndarray | None = None

    def __post_init__(self) -> None:
        mean = _as_float_array(self.mean, "mean")
        if mean.ndim != 1:
            raise ValueError(f"mean must be 1-D of shape (n,), got shape {mean.shape}")
        n = mean.shape[0]
        std = _as_float_array(self.std, "std")
        if std.shape != (n,):
            raise ValueError(f"std must have the shape of mean {(n,)}, got shape {std.shape}")
        if np.any(std < 0):  # NaN compares False
            raise ValueError("std must be >= 0 (found negative standard deviations)")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)
        if self.samples is not None:
            samples = _as_float_array(self.samples, "samples")
            if samples.ndim != 2 or samples.shape[1] != n or samples.shape[0] < 1:
                raise ValueError(
                    f"samples must have shape (K, n) = (K, {n}) with K >= 1, "
                    f"got shape {samples.shape}"
                )
            object.__setattr__(self, "samples", samples)
        if self.p_feasible is not None:
            p = _as_float_array(self.p_feasible, "p_feasible")
            if p.shape != (n,):
                raise ValueError(
                    f"p_feasible must have the shape of mean {(n,)}, got shape {p.shape}"
                )
            if np.any((p < 0) | (p > 1)):
                raise ValueError("p_feasible must lie in [0, 1]")
            object.__setattr__(self, "p_feasible", p)


def _as_float_array(value: ArrayLike, name: str) -> Array:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from exc
