"""Quality functions for subgroup discovery and their optimistic estimators.

Every quality function maps the target to a transformed target ``z`` (e.g. ``-y`` for
downward shifts, ``-|residual|`` for error reduction) and is then evaluated on the
subgroup's ``z`` values **sorted ascending**. ``evaluate`` / ``optimistic_estimate`` are
NumPy reference implementations; built-in classes also carry a Numba kernel id
(:mod:`sisso_lite.subgroups._kernels`) used by the search.

Coverage is the fraction ``cov = |S| / |P|``. (pysubgroup's ``StandardQFNumeric`` uses
the count ``|S|``; its values equal ours times ``|P|**a``.)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import _kernels as K
from ._dispersion import dc_bound_linear, dc_bound_windows, dc_objective

__all__ = [
    "CumulativeJSDivergence",
    "CustomQuality",
    "DispersionCorrected",
    "ErrorReduction",
    "MeanShift",
    "MedianShift",
    "NormalizedMeanShift",
    "QUALITY_FUNCTIONS",
    "QualityFunction",
    "WRAcc",
    "get_quality",
]


def _median(v: np.ndarray) -> float:
    return float(np.median(v))


class QualityFunction:
    """Base class. Subclass and implement :meth:`evaluate` (and :meth:`optimistic_estimate`
    for exact search): both receive the subgroup's transformed target values sorted
    ascending; :meth:`fit` has stored population statistics before."""

    kind: int | None = None
    name: str = "custom"
    has_estimator: bool = True

    def __init__(self, a: float = 1.0) -> None:
        if not np.isfinite(a) or a < 0:
            raise ValueError(f"a must be a finite number >= 0, got {a}")
        self.a = float(a)

    # ---------------------------------------------------------------- population
    def transform(self, y: np.ndarray) -> np.ndarray:
        """Transformed target ``z`` (default: ``y`` itself)."""
        return np.asarray(y, dtype=float)

    def fit(self, y: np.ndarray) -> np.ndarray:
        """Store population statistics; return ``z``."""
        z = self.transform(y)
        self.z_sorted_ = np.sort(z)
        self.n_ = z.size
        self._fit_stats(self.z_sorted_)
        return z

    def _fit_stats(self, zs: np.ndarray) -> None:  # noqa: B027 - optional hook
        pass

    def _w(self, k: np.ndarray | int) -> np.ndarray | float:
        return (np.asarray(k, dtype=float) / self.n_) ** self.a

    # ---------------------------------------------------------------- interface
    def evaluate(self, values: np.ndarray) -> float:
        """Quality of a subgroup with sorted transformed target ``values``."""
        raise NotImplementedError

    def optimistic_estimate(self, values: np.ndarray, min_size: int = 1) -> float:
        """Upper bound of the quality of every subset (of size >= min_size)."""
        raise NotImplementedError

    def kernel_params(self, min_size: int) -> np.ndarray:
        """Parameter vector of the Numba kernel."""
        p = np.zeros(K.N_PARAMS)
        p[K.P_A], p[K.P_N], p[K.P_SCALE], p[K.P_MINSIZE] = self.a, self.n_, 1.0, min_size
        return p

    def kernel_aux(self) -> np.ndarray:
        """Auxiliary population arrays of the Numba kernel."""
        return np.zeros((1, 1))

    def to_dict(self) -> dict:
        """JSON description (name and parameters)."""
        return {"name": self.name, "a": self.a}


class MeanShift(QualityFunction):
    r"""Mean shift :math:`q = cov^a (\mu_S - \mu_P)` (``direction="greater"``), on ``-y``
    for ``"less"``, or :math:`cov^a |\mu_S-\mu_P|` for ``"both"``.

    Optimistic estimate (tight): best value over the top-k prefixes of the sorted
    subgroup targets (and bottom-k for ``"both"``).
    """

    kind = K.K_MEAN
    name = "mean_shift"

    def __init__(self, a: float = 1.0, direction: str = "greater") -> None:
        super().__init__(a)
        if direction not in ("greater", "less", "both"):
            raise ValueError(f"direction must be 'greater', 'less' or 'both', got {direction!r}")
        self.direction = direction
        self.scale = 1.0

    def transform(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        return -y if self.direction == "less" else y

    def _fit_stats(self, zs: np.ndarray) -> None:
        self.center_ = float(np.mean(zs))

    def evaluate(self, values: np.ndarray) -> float:
        d = float(np.mean(values)) - self.center_
        if self.direction == "both":
            d = abs(d)
        return float(self._w(values.size) * d * self.scale)

    def optimistic_estimate(self, values: np.ndarray, min_size: int = 1) -> float:
        k = np.arange(1, values.size + 1)
        top = np.cumsum(values[::-1]) / k - self.center_
        vals = self._w(k) * top
        if self.direction == "both":
            vals = np.maximum(vals, self._w(k) * (self.center_ - np.cumsum(values) / k))
        vals = vals[max(1, min_size) - 1:]
        return float(vals.max() * self.scale) if vals.size else -math.inf

    def kernel_params(self, min_size: int) -> np.ndarray:
        p = super().kernel_params(min_size)
        p[K.P_CENTER], p[K.P_SCALE] = self.center_, self.scale
        p[K.P_BOTH] = 1.0 if self.direction == "both" else 0.0
        return p

    def to_dict(self) -> dict:
        return {"name": self.name, "a": self.a, "direction": self.direction}


class WRAcc(MeanShift):
    r"""Binary target family :math:`cov^a (p_S - p_P)`; ``a=1`` is weighted relative
    accuracy (pysubgroup ``StandardQF(a)`` / ``WRAccQF``). The target must be 0/1 or bool.
    Estimator: the positives of the subgroup, :math:`(n^+_S/N)^a (1 - p_P)`."""

    name = "wracc"

    def __init__(self, a: float = 1.0) -> None:
        super().__init__(a, "greater")

    def transform(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        if not np.all((y == 0) | (y == 1)):
            raise ValueError("quality 'wracc' needs a binary target (0/1 or bool)")
        return y

    def to_dict(self) -> dict:
        return {"name": self.name, "a": self.a}


class NormalizedMeanShift(MeanShift):
    r"""Normalised positive mean shift (realKD):
    :math:`cov^a \max(0, \mu_S-\mu_P)/(\max_P - \mu_P)`; ``direction="negative"`` gives
    :math:`cov^a \max(0, \mu_P-\mu_S)/(\mu_P - \min_P)`."""

    kind = K.K_NORM_MEAN
    name = "normalized_mean_shift"

    def __init__(self, a: float = 1.0, direction: str = "positive") -> None:
        if direction not in ("positive", "negative"):
            raise ValueError(f"direction must be 'positive' or 'negative', got {direction!r}")
        super().__init__(a, "greater" if direction == "positive" else "less")
        self.sign = direction

    def _fit_stats(self, zs: np.ndarray) -> None:
        super()._fit_stats(zs)
        span = zs[-1] - self.center_
        self.scale = 1.0 / span if span > 0 else 0.0

    def evaluate(self, values: np.ndarray) -> float:
        return max(0.0, super().evaluate(values))

    def optimistic_estimate(self, values: np.ndarray, min_size: int = 1) -> float:
        return max(0.0, super().optimistic_estimate(values, min_size))

    def to_dict(self) -> dict:
        return {"name": self.name, "a": self.a, "direction": self.sign}


class MedianShift(QualityFunction):
    r"""Median shift :math:`cov^a (\mathrm{med}_S - \mathrm{med}_P)` (``"less"``: on ``-y``;
    ``"both"``: absolute). Tight estimate: for each size k, the k largest values."""

    kind = K.K_MEDIAN
    name = "median_shift"

    def __init__(self, a: float = 1.0, direction: str = "greater") -> None:
        super().__init__(a)
        if direction not in ("greater", "less", "both"):
            raise ValueError(f"direction must be 'greater', 'less' or 'both', got {direction!r}")
        self.direction = direction

    def transform(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        return -y if self.direction == "less" else y

    def _fit_stats(self, zs: np.ndarray) -> None:
        self.center_ = _median(zs)

    def evaluate(self, values: np.ndarray) -> float:
        d = _median(values) - self.center_
        return float(self._w(values.size) * (abs(d) if self.direction == "both" else d))

    def optimistic_estimate(self, values: np.ndarray, min_size: int = 1) -> float:
        n = values.size
        best = -math.inf
        for k in range(max(1, min_size), n + 1):
            best = max(best, self._w(k) * (_median(values[n - k:]) - self.center_))
            if self.direction == "both":
                best = max(best, self._w(k) * (self.center_ - _median(values[:k])))
        return float(best)

    def kernel_params(self, min_size: int) -> np.ndarray:
        p = super().kernel_params(min_size)
        p[K.P_CENTER] = self.center_
        p[K.P_BOTH] = 1.0 if self.direction == "both" else 0.0
        return p

    def to_dict(self) -> dict:
        return {"name": self.name, "a": self.a, "direction": self.direction}


class DispersionCorrected(QualityFunction):
    r"""Dispersion-corrected median shift of Boley, Goldsmith, Ghiringhelli & Vreeken,
    Data Min. Knowl. Disc. 31, 1391 (2017), in the form of the authors' realKD
    implementation (power of the amd-corrected coverage times the positive median shift):

    .. math:: q = \Big[cov\,\big(1-\mathrm{amd}_S/\mathrm{amd}_P\big)_+\Big]^a
              \,s\,(\mathrm{med}_S-\mathrm{med}_P)_+

    with amd the mean absolute deviation from the median, :math:`s = 1`, or
    :math:`s = 1/(\max_P - \mathrm{med}_P)` with ``normalize=True`` (realKD's normalised
    positive median shift); ``direction="less"`` applies it to ``-y``. The paper's equation
    numbers could not be checked (see ``docs/subgroup_discovery.md``).

    Optimistic estimate (tight): the best subset of a subgroup is a contiguous window of its
    sorted targets, found in ``O(n)`` by
    :func:`sisso_lite.subgroups._dispersion.dc_bound_linear`; :meth:`optimistic_estimate`
    is that kernel, :meth:`optimistic_estimate_windows` the ``O(n^2)`` window scan.
    """

    kind = K.K_DC
    name = "dispersion_corrected"

    def __init__(self, a: float = 1.0, direction: str = "greater",
                 normalize: bool = False) -> None:
        super().__init__(a)
        if direction not in ("greater", "less"):
            raise ValueError(f"direction must be 'greater' or 'less', got {direction!r}")
        self.direction = direction
        self.normalize = bool(normalize)

    def transform(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        return -y if self.direction == "less" else y

    def _fit_stats(self, zs: np.ndarray) -> None:
        self.center_ = _median(zs)
        self.amd_ = float(np.mean(np.abs(zs - self.center_)))
        span = zs[-1] - self.center_
        self.scale_ = (1.0 / span if span > 0 else 0.0) if self.normalize else 1.0

    def evaluate(self, values: np.ndarray) -> float:
        return dc_objective(values, self.n_, self.a, self.center_, self.amd_, self.scale_)

    def _args(self) -> tuple[float, float, float, float, float]:
        return float(self.n_), self.a, self.center_, self.amd_, self.scale_

    def optimistic_estimate(self, values: np.ndarray, min_size: int = 1) -> float:
        v = np.ascontiguousarray(values, dtype=float)
        if v.size < max(1, min_size):
            return -math.inf
        return float(dc_bound_linear(v, v.size, *self._args(), max(1, min_size),
                                     np.empty(v.size + 1)))

    def optimistic_estimate_windows(self, values: np.ndarray, min_size: int = 1) -> float:
        """The same tight estimate by scanning all windows (``O(n^2)``; reference)."""
        v = np.ascontiguousarray(values, dtype=float)
        if v.size < max(1, min_size):
            return -math.inf
        return float(dc_bound_windows(v, v.size, *self._args(), max(1, min_size),
                                      np.empty(v.size + 1)))

    def kernel_params(self, min_size: int) -> np.ndarray:
        p = super().kernel_params(min_size)
        p[K.P_CENTER], p[K.P_AMD], p[K.P_SCALE] = self.center_, self.amd_, self.scale_
        return p

    def to_dict(self) -> dict:
        return {"name": self.name, "a": self.a, "direction": self.direction,
                "normalize": self.normalize}


def _phi(f: np.ndarray, g: np.ndarray) -> np.ndarray:
    m = 0.5 * (f + g)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(f > 0, f * np.log(np.where(f > 0, f, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
    return t - f + m


class CumulativeJSDivergence(QualityFunction):
    r"""Cumulative Jensen-Shannon divergence (Nguyen & Vreeken 2015) of the subgroup's
    target distribution from the population's, as used by Foppa & Scheffler:

    .. math:: q = cov^a\,\frac{1}{\ln 2}\int \Big[F_S\ln\frac{F_S}{M} - F_S + M\Big]dx,
              \quad M = (F_S + F_P)/2

    with :math:`F` the empirical CDFs. Estimate (valid, not tight): the integral is convex
    in :math:`F_S`, so over the monotone CDFs of subsets it is maximised by a single step
    from 0 to 1 at one of the subgroup's values; times the subgroup's :math:`cov^a`.
    """

    kind = K.K_CJS
    name = "cjs"

    def _fit_stats(self, zs: np.ndarray) -> None:
        u, counts = np.unique(zs, return_counts=True)
        g = np.cumsum(counts) / zs.size
        du = np.append(np.diff(u), 0.0)
        L = u.size
        aux = np.zeros((6, L + 1))
        aux[0, :L], aux[1, :L], aux[2, :L] = u, g, du
        z0 = np.zeros(L)
        c0 = du * _phi(z0, g)
        c1 = du * _phi(z0 + 1.0, g)
        aux[3, 1:], aux[4, 1:], aux[5, 1:] = (np.cumsum(c0), np.cumsum(np.maximum(c0, c1)),
                                              np.cumsum(c1))
        self.aux_, self.n_unique_ = aux, L

    def evaluate(self, values: np.ndarray) -> float:
        L = self.n_unique_
        u, g, du = self.aux_[0, :L], self.aux_[1, :L], self.aux_[2, :L]
        f = np.searchsorted(values, u, side="right") / values.size
        return float(self._w(values.size) * np.sum(du * _phi(f, g)) / math.log(2))

    def optimistic_estimate(self, values: np.ndarray, min_size: int = 1) -> float:
        L = self.n_unique_
        j = np.searchsorted(self.aux_[0, :L], np.unique(values))
        a0, a1 = self.aux_[3], self.aux_[5]
        tot = float(np.max(a0[j] - a1[j])) + a1[L]
        return float(self._w(values.size) * tot / math.log(2))

    def kernel_params(self, min_size: int) -> np.ndarray:
        p = super().kernel_params(min_size)
        p[K.P_LIMIT] = self.n_unique_
        return p

    def kernel_aux(self) -> np.ndarray:
        return self.aux_


class ErrorReduction(MeanShift):
    r"""Domain of applicability (Sutton et al., Nat. Commun. 11, 4428 (2020)): given model
    residuals ``y``, :math:`q = cov^a (L_P - L_S)/L_P` with :math:`L` the mean loss
    (``"absolute"`` or ``"squared"`` residual). Tight estimate: the k smallest losses."""

    name = "error_reduction"

    def __init__(self, a: float = 1.0, loss: str = "absolute") -> None:
        super().__init__(a, "greater")
        if loss not in ("absolute", "squared"):
            raise ValueError(f"loss must be 'absolute' or 'squared', got {loss!r}")
        self.loss = loss

    def transform(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        return -(np.abs(y) if self.loss == "absolute" else y * y)

    def _fit_stats(self, zs: np.ndarray) -> None:
        super()._fit_stats(zs)
        lp = -self.center_
        if lp <= 0:
            raise ValueError("error_reduction: all residuals are zero (nothing to reduce)")
        self.scale = 1.0 / lp

    def to_dict(self) -> dict:
        return {"name": self.name, "a": self.a, "loss": self.loss}


class CustomQuality(QualityFunction):
    """User quality function.

    Parameters
    ----------
    func : callable ``(subgroup_values, population_values) -> float``
        Both arrays sorted ascending (raw target values).
    estimator : callable ``(subgroup_values, population_values) -> float``, optional
        Optimistic estimate: an upper bound of ``func`` over all subsets of the subgroup.
        Required by ``search="exact"``.
    name : str
        Label used in output.
    """

    def __init__(self, func: Callable[[np.ndarray, np.ndarray], float],
                 estimator: Callable[[np.ndarray, np.ndarray], float] | None = None,
                 name: str = "custom") -> None:
        super().__init__(1.0)
        self.func, self.estimator, self.name = func, estimator, name
        self.has_estimator = estimator is not None

    def evaluate(self, values: np.ndarray) -> float:
        return float(self.func(values, self.z_sorted_))

    def optimistic_estimate(self, values: np.ndarray, min_size: int = 1) -> float:
        if self.estimator is None:
            raise ValueError("this quality function has no optimistic estimator")
        return float(self.estimator(values, self.z_sorted_))

    def to_dict(self) -> dict:
        return {"name": self.name, "custom": True}


QUALITY_FUNCTIONS: dict[str, type[QualityFunction]] = {
    "mean_shift": MeanShift,
    "wracc": WRAcc,
    "median_shift": MedianShift,
    "normalized_mean_shift": NormalizedMeanShift,
    "dispersion_corrected": DispersionCorrected,
    "cjs": CumulativeJSDivergence,
    "error_reduction": ErrorReduction,
}


def get_quality(quality: str | QualityFunction, a: float = 1.0,
                direction: str | None = None) -> QualityFunction:
    """Resolve a quality name (with ``a`` and ``direction``) or pass an instance through."""
    if isinstance(quality, QualityFunction):
        return quality
    if not isinstance(quality, str) or quality not in QUALITY_FUNCTIONS:
        raise ValueError(f"unknown quality {quality!r}; choose one of "
                         f"{sorted(QUALITY_FUNCTIONS)} or pass a QualityFunction")
    cls = QUALITY_FUNCTIONS[quality]
    if quality in ("wracc", "cjs"):
        return cls(a=a)
    if quality == "error_reduction":
        return cls(a=a, loss=direction or "absolute")
    if quality == "normalized_mean_shift":
        return cls(a=a, direction=direction or "positive")
    return cls(a=a, direction=direction or "greater")
