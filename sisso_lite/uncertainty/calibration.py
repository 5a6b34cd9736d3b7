"""Post-hoc recalibration of Gaussian predictive uncertainties.

Both recalibrators are fitted on held-out residuals (out-of-bag or cross-validated
predictions: ``y``, predicted mean ``mu``, predicted std ``sigma``) and then applied
to new predictions. They share the interface used by :mod:`sisso_lite.uncertainty.metrics`:

* ``fit(y, mu, sigma)`` -> self
* ``transform(sigma)`` -> recalibrated (or equivalent Gaussian) sigma
* ``interval(mu, sigma, level)`` -> (lower, upper) central interval
* ``quantile(mu, sigma, q)`` -> recalibrated quantile

References
----------
* K. Tran et al., Mach. Learn.: Sci. Technol. 1, 025006 (2020).
* G. Palmer et al., npj Comput. Mater. 8, 115 (2022) -- sigma scaling.
* V. Kuleshov, N. Fenner, S. Ermon, ICML 2018 -- isotonic (quantile) recalibration.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from sisso_lite.uncertainty.metrics import _check_level, check_uncertainty_inputs, gaussian_interval

__all__ = ["SigmaScaling", "IsotonicRecalibration", "make_recalibrator"]

_EPS = 1e-6


def _positive_sigma(sigma: ArrayLike) -> NDArray[np.float64]:
    s = np.asarray(sigma, dtype=np.float64)
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError("sigma must be finite and strictly positive")
    return s


class SigmaScaling(BaseEstimator):
    """Multiply all predicted standard deviations by one factor ``s``.

    ``s`` minimises the mean Gaussian NLL of the calibration residuals; the
    minimiser has the closed form ``s = sqrt(mean(((y - mu) / sigma)^2))``
    (Palmer et al. 2022).

    Attributes
    ----------
    scale_ : float
        Fitted factor ``s``.
    """

    def fit(self, y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> SigmaScaling:
        """Fit ``scale_`` on calibration residuals."""
        y, mu, sigma = check_uncertainty_inputs(y, mu, sigma)
        s = float(np.sqrt(np.mean(((y - mu) / sigma) ** 2)))
        # exact fits (zero residuals) would give s = 0; keep sigma usable
        self.scale_ = max(s, _EPS)
        return self

    def transform(self, sigma: ArrayLike) -> NDArray[np.float64]:
        """Recalibrated standard deviation ``scale_ * sigma``."""
        check_is_fitted(self, "scale_")
        return self.scale_ * _positive_sigma(sigma)

    def quantile(self, mu: ArrayLike, sigma: ArrayLike, q: float) -> NDArray[np.float64]:
        """Quantile ``q`` of ``N(mu, (scale_ sigma)^2)``."""
        q = _check_level(q)
        return np.asarray(mu, dtype=np.float64) + stats.norm.ppf(q) * self.transform(sigma)

    def interval(
        self, mu: ArrayLike, sigma: ArrayLike, level: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Central interval with nominal coverage ``level``."""
        return gaussian_interval(mu, self.transform(sigma), level)


class IsotonicRecalibration(BaseEstimator):
    """Isotonic recalibration of quantile levels (Kuleshov et al. 2018).

    On the calibration set the probability integral transform
    ``u_i = Phi((y_i - mu_i) / sigma_i)`` is computed; the recalibrated CDF is
    ``R(Phi(z))`` with ``R`` the isotonic fit of the empirical frequency of ``u`` on
    ``u``. Here the inverse map ``R^-1`` (target level -> nominal Gaussian level) is
    fitted directly (``level_map_``). Quantiles are computed in standardized-residual
    space: the recalibrated quantile at level ``q`` is ``mu + sigma * Q(q)`` with ``Q``
    the empirical quantile function of ``z = (y - mu) / sigma`` (linear between the
    Hazen levels, i.e. ``Phi^-1(R^-1(q))`` at the observed points) and, beyond the
    observed levels, a Gaussian tail scaled by the RMS of ``z`` (sigma scaling). Levels
    are never clipped, so intervals keep widening with the level even when the raw sigma
    is very over-confident; intervals may be asymmetric.

    Parameters
    ----------
    level_grid
        Central-interval levels used to define the *equivalent sigma* returned by
        :meth:`transform`: the factor ``c`` (``sigma_eq = c * sigma``) is the
        least-squares fit of the recalibrated half-widths to Gaussian half-widths over
        these levels. Use :meth:`interval` for exact recalibrated intervals.

    Attributes
    ----------
    level_map_ : sklearn.isotonic.IsotonicRegression
        Fitted ``R^-1``: target quantile level -> nominal Gaussian level.
    scale_ : float
        Equivalent-sigma factor ``c``.
    z_knots_, level_knots_ : ndarray
        Sorted standardized residuals and their Hazen levels (the quantile function).
    tail_scale_ : float
        Sigma-scaling factor of the tails beyond the observed levels.
    """

    def __init__(self, level_grid: tuple[float, ...] = (0.2, 0.4, 0.6, 0.68, 0.8, 0.9, 0.95)):
        self.level_grid = level_grid

    def fit(self, y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> IsotonicRecalibration:
        """Fit the level map on calibration residuals."""
        y, mu, sigma = check_uncertainty_inputs(y, mu, sigma)
        if y.size < 2:
            raise ValueError("isotonic recalibration needs at least 2 calibration points")
        u = np.sort(stats.norm.cdf((y - mu) / sigma))
        n = u.size
        # empirical CDF of the PIT values (Hazen plotting positions) plus end points
        freq = (np.arange(1, n + 1) - 0.5) / n
        x = np.concatenate(([0.0], freq, [1.0]))
        t = np.concatenate(([0.0], u, [1.0]))
        self.level_map_ = IsotonicRegression(
            y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip"
        ).fit(x, t)
        # quantile function in standardized-residual space: no clipping of levels, so very
        # over-confident sigmas (|z| beyond 4.75) keep distinct, monotone intervals
        self.z_knots_ = np.sort((y - mu) / sigma)
        self.level_knots_ = freq
        self.tail_scale_ = max(float(np.sqrt(np.mean(self.z_knots_**2))), _EPS)
        grid = np.asarray(self.level_grid, dtype=np.float64)
        z = stats.norm.ppf(0.5 + grid / 2.0)
        lo = self._nominal_z((1.0 - grid) / 2.0)
        hi = self._nominal_z((1.0 + grid) / 2.0)
        half = 0.5 * (hi - lo)
        self.scale_ = max(float(np.sum(half * z) / np.sum(z * z)), _EPS)
        return self

    def _nominal_z(self, q: NDArray[np.float64]) -> NDArray[np.float64]:
        """Recalibrated standardized quantile ``Q(q)`` (``mu + sigma Q(q)`` is the quantile).

        Inside the observed range (Hazen levels ``(k - 1/2) / n``) ``Q`` interpolates the
        sorted standardized residuals linearly in the level; beyond it the tail continues
        as a Gaussian tail with the sigma-scaling factor ``tail_scale_`` (RMS of the
        standardized residuals), so quantiles keep growing with the level instead of being
        clipped.
        """
        check_is_fitted(self, "z_knots_")
        q = np.atleast_1d(np.asarray(q, dtype=np.float64))
        z, f = self.z_knots_, self.level_knots_
        out = np.interp(q, f, z)
        with np.errstate(divide="ignore"):
            low, high = q < f[0], q > f[-1]
            out[low] = z[0] + self.tail_scale_ * (stats.norm.ppf(q[low]) - stats.norm.ppf(f[0]))
            out[high] = z[-1] + self.tail_scale_ * (
                stats.norm.ppf(q[high]) - stats.norm.ppf(f[-1]))
        return out

    def recalibrated_level(self, q: ArrayLike) -> NDArray[np.float64]:
        """Nominal Gaussian level ``R^-1(q)`` that achieves target level ``q``."""
        check_is_fitted(self, "level_map_")
        return self.level_map_.predict(np.atleast_1d(np.asarray(q, dtype=np.float64)))

    def quantile(self, mu: ArrayLike, sigma: ArrayLike, q: float) -> NDArray[np.float64]:
        """Recalibrated quantile at level ``q``."""
        q = _check_level(q)
        z = float(self._nominal_z(np.array([q]))[0])
        return np.asarray(mu, dtype=np.float64) + z * _positive_sigma(sigma)

    def interval(
        self, mu: ArrayLike, sigma: ArrayLike, level: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Recalibrated central interval (quantiles ``(1 -/+ level) / 2``)."""
        level = _check_level(level)
        return (self.quantile(mu, sigma, 0.5 - level / 2.0),
                self.quantile(mu, sigma, 0.5 + level / 2.0))

    def transform(self, sigma: ArrayLike) -> NDArray[np.float64]:
        """Equivalent Gaussian sigma ``scale_ * sigma`` (see ``level_grid``)."""
        check_is_fitted(self, "scale_")
        return self.scale_ * _positive_sigma(sigma)


def make_recalibrator(kind: str | None) -> SigmaScaling | IsotonicRecalibration | None:
    """Recalibrator for ``kind`` in ``{None, "sigma", "isotonic"}`` (unfitted)."""
    if kind is None:
        return None
    if kind == "sigma":
        return SigmaScaling()
    if kind == "isotonic":
        return IsotonicRecalibration()
    raise ValueError(f"calibrate must be None, 'sigma' or 'isotonic', got {kind!r}")
