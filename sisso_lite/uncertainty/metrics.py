"""Accuracy and calibration metrics for Gaussian predictive uncertainty.

Every metric takes the observed targets ``y``, the predicted means ``mu`` and the
predicted standard deviations ``sigma`` (all 1-D, same length). Definitions follow
uncertainty-toolbox 0.1.1 (Chung et al., arXiv:2109.10254) and Tran et al.,
Mach. Learn.: Sci. Technol. 1, 025006 (2020):

* ``miscalibration_area``, ``mace``, ``rmsce`` compare the expected proportion ``p`` of
  a centred Gaussian prediction interval with the observed proportion of targets inside
  it, on ``n_bins`` levels ``p = linspace(0, 1, n_bins)``.
* ``sharpness`` is ``sqrt(mean(sigma**2))``.
* ``nll_gaussian`` and ``crps_gaussian`` are per-sample means of the proper scoring rules.
* ``picp`` / ``interval_width``: prediction-interval coverage probability and mean width.
* ``spearman_error_sigma``: Spearman rank correlation of ``|y - mu|`` with ``sigma``.

A *recalibrator* (:class:`sisso_lite.uncertainty.calibration.SigmaScaling` or
:class:`sisso_lite.uncertainty.calibration.IsotonicRecalibration`) can be passed to
:func:`calibration_curve` and :func:`uncertainty_metrics`; the interval-based metrics
then use its (possibly asymmetric) intervals and the sigma-based metrics its
equivalent sigma.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = [
    "DEFAULT_LEVELS",
    "Recalibrator",
    "check_uncertainty_inputs",
    "mae",
    "rmse",
    "gaussian_interval",
    "calibration_curve",
    "miscalibration_area",
    "miscalibration_area_from_proportions",
    "mace",
    "rmsce",
    "sharpness",
    "nll_gaussian",
    "crps_gaussian",
    "picp",
    "interval_width",
    "spearman_error_sigma",
    "uncertainty_metrics",
]

#: Interval levels reported by :func:`uncertainty_metrics`.
DEFAULT_LEVELS: tuple[float, ...] = (0.68, 0.90, 0.95)


class Recalibrator(Protocol):
    """What the metrics need from a fitted recalibration model."""

    def transform(self, sigma: ArrayLike) -> NDArray[np.float64]:  # pragma: no cover
        """Recalibrated (or equivalent Gaussian) standard deviation."""
        ...

    def interval(
        self, mu: ArrayLike, sigma: ArrayLike, level: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # pragma: no cover
        """Recalibrated central prediction interval with nominal coverage ``level``."""
        ...


def _as_1d(name: str, a: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_uncertainty_inputs(
    y: ArrayLike, mu: ArrayLike, sigma: ArrayLike | None = None
) -> tuple[NDArray[np.float64], ...]:
    """Validate and convert ``(y, mu[, sigma])`` to float64 1-D arrays.

    Raises
    ------
    ValueError
        If an array is not 1-D, is empty, contains NaN/inf, the lengths differ, or a
        ``sigma`` value is not strictly positive.
    """
    arrays = [_as_1d("y", y), _as_1d("mu", mu)]
    if sigma is not None:
        s = _as_1d("sigma", sigma)
        if np.any(s <= 0):
            raise ValueError(
                f"sigma must be strictly positive; {int(np.sum(s <= 0))} value(s) are <= 0"
            )
        arrays.append(s)
    lengths = {a.size for a in arrays}
    if len(lengths) != 1:
        raise ValueError(
            "length mismatch: " + ", ".join(f"{n}={a.size}" for n, a in zip(
                ("y", "mu", "sigma"), arrays, strict=False))
        )
    return tuple(arrays)


def _check_level(level: float) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"interval level must be in (0, 1), got {level}")
    return level


def mae(y: ArrayLike, mu: ArrayLike) -> float:
    """Mean absolute error."""
    y, mu = check_uncertainty_inputs(y, mu)
    return float(np.mean(np.abs(y - mu)))


def rmse(y: ArrayLike, mu: ArrayLike) -> float:
    """Root-mean-square error."""
    y, mu = check_uncertainty_inputs(y, mu)
    return float(np.sqrt(np.mean((y - mu) ** 2)))


def gaussian_interval(
    mu: ArrayLike, sigma: ArrayLike, level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Central interval ``mu -/+ z_{(1+level)/2} sigma`` of a Gaussian."""
    level = _check_level(level)
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    half = stats.norm.ppf(0.5 + level / 2.0) * sigma
    return mu - half, mu + half


def calibration_curve(
    y: ArrayLike,
    mu: ArrayLike,
    sigma: ArrayLike,
    n_bins: int = 100,
    recalibrator: Recalibrator | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Expected vs observed proportion inside central prediction intervals.

    Parameters
    ----------
    y, mu, sigma
        Targets, predicted means and predicted standard deviations.
    n_bins
        Number of expected proportions ``linspace(0, 1, n_bins)``.
    recalibrator
        Optional fitted recalibrator whose ``interval`` replaces the Gaussian interval.

    Returns
    -------
    expected, observed : ndarray of shape (n_bins,)
    """
    y, mu, sigma = check_uncertainty_inputs(y, mu, sigma)
    if n_bins < 2:
        raise ValueError("n_bins must be >= 2")
    expected = np.linspace(0.0, 1.0, n_bins)
    if recalibrator is None:
        z = np.abs(y - mu) / sigma
        bounds = stats.norm.ppf(0.5 + expected / 2.0)  # 0 ... inf
        observed = (z[:, None] <= bounds[None, :]).mean(axis=0)
        return expected, observed
    observed = np.empty_like(expected)
    for i, p in enumerate(expected):
        if p <= 0.0:
            lo, hi = mu, mu
        elif p >= 1.0:
            observed[i] = 1.0
            continue
        else:
            lo, hi = recalibrator.interval(mu, sigma, p)
        observed[i] = np.mean((y >= lo) & (y <= hi))
    return expected, observed


def miscalibration_area_from_proportions(
    expected: ArrayLike, observed: ArrayLike
) -> float:
    """Area between the piecewise-linear calibration curve and the diagonal.

    Segments where the curve crosses the diagonal are split at the crossing (as in
    uncertainty-toolbox's ``trapezoid_area``).
    """
    x = np.asarray(expected, dtype=np.float64)
    d = np.asarray(observed, dtype=np.float64) - x
    dx = np.diff(x)
    dl, dr = d[:-1], d[1:]
    same = dl * dr >= 0
    area = np.where(same, 0.5 * np.abs(dl + dr), 0.0)
    denom = np.abs(dl) + np.abs(dr)
    cross = np.divide(dl**2 + dr**2, 2.0 * denom, out=np.zeros_like(dl), where=denom > 0)
    area = np.where(same, area, cross)
    return float(np.sum(area * dx))


def miscalibration_area(
    y: ArrayLike,
    mu: ArrayLike,
    sigma: ArrayLike,
    n_bins: int = 100,
    recalibrator: Recalibrator | None = None,
) -> float:
    """Miscalibration area (0 = perfectly calibrated, 0.5 = worst)."""
    exp_p, obs_p = calibration_curve(y, mu, sigma, n_bins, recalibrator)
    return miscalibration_area_from_proportions(exp_p, obs_p)


def mace(
    y: ArrayLike,
    mu: ArrayLike,
    sigma: ArrayLike,
    n_bins: int = 100,
    recalibrator: Recalibrator | None = None,
) -> float:
    """Mean absolute calibration error ``mean_p |obs(p) - p|``."""
    exp_p, obs_p = calibration_curve(y, mu, sigma, n_bins, recalibrator)
    return float(np.mean(np.abs(obs_p - exp_p)))


def rmsce(
    y: ArrayLike,
    mu: ArrayLike,
    sigma: ArrayLike,
    n_bins: int = 100,
    recalibrator: Recalibrator | None = None,
) -> float:
    """Root-mean-square calibration error ``sqrt(mean_p (obs(p) - p)^2)``."""
    exp_p, obs_p = calibration_curve(y, mu, sigma, n_bins, recalibrator)
    return float(np.sqrt(np.mean((obs_p - exp_p) ** 2)))


def sharpness(sigma: ArrayLike) -> float:
    """Sharpness ``sqrt(mean(sigma^2))`` (smaller = more confident)."""
    s = _as_1d("sigma", sigma)
    if np.any(s <= 0):
        raise ValueError("sigma must be strictly positive")
    return float(np.sqrt(np.mean(s**2)))


def nll_gaussian(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> float:
    """Mean Gaussian negative log-likelihood."""
    y, mu, sigma = check_uncertainty_inputs(y, mu, sigma)
    z = (y - mu) / sigma
    return float(np.mean(0.5 * np.log(2.0 * np.pi) + np.log(sigma) + 0.5 * z**2))


def crps_gaussian(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> float:
    """Mean continuous ranked probability score of a Gaussian (closed form).

    ``CRPS = sigma * (z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi))`` with
    ``z = (y - mu) / sigma`` (Gneiting & Raftery 2007).
    """
    y, mu, sigma = check_uncertainty_inputs(y, mu, sigma)
    z = (y - mu) / sigma
    crps = sigma * (z * (2.0 * stats.norm.cdf(z) - 1.0) + 2.0 * stats.norm.pdf(z)
                    - 1.0 / np.sqrt(np.pi))
    return float(np.mean(crps))


def picp(y: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Prediction-interval coverage probability: fraction of ``lower <= y <= upper``."""
    y, lower = check_uncertainty_inputs(y, lower)
    _, upper = check_uncertainty_inputs(y, upper)
    if np.any(upper < lower):
        raise ValueError("upper bound below lower bound")
    return float(np.mean((y >= lower) & (y <= upper)))


def interval_width(lower: ArrayLike, upper: ArrayLike) -> float:
    """Mean prediction-interval width."""
    lower, upper = check_uncertainty_inputs(lower, upper)
    return float(np.mean(upper - lower))


def spearman_error_sigma(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> float:
    """Spearman rank correlation between ``|y - mu|`` and ``sigma``.

    Returns NaN when either vector is constant.
    """
    y, mu, sigma = check_uncertainty_inputs(y, mu, sigma)
    err = np.abs(y - mu)
    if np.ptp(err) == 0 or np.ptp(sigma) == 0:
        return float("nan")
    return float(stats.spearmanr(err, sigma).statistic)


def uncertainty_metrics(
    y: ArrayLike,
    mu: ArrayLike,
    sigma: ArrayLike,
    levels: tuple[float, ...] = DEFAULT_LEVELS,
    n_bins: int = 100,
    recalibrator: Recalibrator | None = None,
) -> dict[str, float]:
    """All accuracy, calibration, sharpness and scoring-rule metrics in one dict.

    Keys: ``mae``, ``rmse``, ``miscal_area``, ``mace``, ``rmsce``, ``sharpness``,
    ``nll``, ``crps``, ``spearman``, and ``picp_<L>`` / ``width_<L>`` for each level
    (``L`` in percent, e.g. ``picp_90``).

    With a ``recalibrator``, intervals and the calibration curve come from
    ``recalibrator.interval`` and sigma-based scores use ``recalibrator.transform``.
    """
    y, mu, sigma = check_uncertainty_inputs(y, mu, sigma)
    s_eff = sigma if recalibrator is None else recalibrator.transform(sigma)
    exp_p, obs_p = calibration_curve(y, mu, sigma, n_bins, recalibrator)
    out = {
        "mae": mae(y, mu),
        "rmse": rmse(y, mu),
        "miscal_area": miscalibration_area_from_proportions(exp_p, obs_p),
        "mace": float(np.mean(np.abs(obs_p - exp_p))),
        "rmsce": float(np.sqrt(np.mean((obs_p - exp_p) ** 2))),
        "sharpness": sharpness(s_eff),
        "nll": nll_gaussian(y, mu, s_eff),
        "crps": crps_gaussian(y, mu, s_eff),
        "spearman": spearman_error_sigma(y, mu, s_eff),
    }
    for level in levels:
        if recalibrator is None:
            lo, hi = gaussian_interval(mu, sigma, level)
        else:
            lo, hi = recalibrator.interval(mu, sigma, level)
        tag = f"{round(100 * level):d}"
        out[f"picp_{tag}"] = picp(y, lo, hi)
        out[f"width_{tag}"] = interval_width(lo, hi)
    return out
