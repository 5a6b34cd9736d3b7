"""Uncertainty plots (matplotlib, headless-safe).

Each function draws into an existing ``Axes`` (or a new figure) and returns the ``Axes``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from sisso_lite.uncertainty.metrics import (
    Recalibrator,
    calibration_curve,
    check_uncertainty_inputs,
    gaussian_interval,
    miscalibration_area_from_proportions,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_calibration_curve", "plot_parity_with_errorbars"]


def _axes(ax: Axes | None) -> Axes:
    """``ax`` or a new pyplot-free (hence headless-safe) figure's axes."""
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=(4.0, 4.0), layout="constrained").add_subplot()


def plot_calibration_curve(
    y: ArrayLike,
    mu: ArrayLike,
    sigma: ArrayLike,
    ax: Axes | None = None,
    n_bins: int = 100,
    recalibrator: Recalibrator | None = None,
    label: str | None = None,
) -> Axes:
    """Observed vs expected proportion in central intervals, with the diagonal.

    The legend shows the miscalibration area. ``ax`` defaults to a new Agg figure.
    """
    exp_p, obs_p = calibration_curve(y, mu, sigma, n_bins, recalibrator)
    area = miscalibration_area_from_proportions(exp_p, obs_p)
    ax = _axes(ax)
    ax.plot([0, 1], [0, 1], ls="--", color="0.5", lw=1)
    text = f"miscal. area {area:.3f}"
    ax.plot(exp_p, obs_p, lw=2, label=f"{label}: {text}" if label else text)
    ax.fill_between(exp_p, exp_p, obs_p, alpha=0.2)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="expected proportion in interval",
           ylabel="observed proportion in interval")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_parity_with_errorbars(
    y: ArrayLike,
    mu: ArrayLike,
    sigma: ArrayLike,
    ax: Axes | None = None,
    level: float = 0.9,
    recalibrator: Recalibrator | None = None,
    label: str | None = None,
) -> Axes:
    """Parity plot (predicted vs true) with central ``level`` intervals as error bars."""
    y, mu, sigma = check_uncertainty_inputs(y, mu, sigma)
    if recalibrator is None:
        lo, hi = gaussian_interval(mu, sigma, level)
    else:
        lo, hi = recalibrator.interval(mu, sigma, level)
    ax = _axes(ax)
    ax.errorbar(y, mu, yerr=np.vstack([mu - lo, hi - mu]), fmt="o", ms=3, lw=0.8,
                alpha=0.7, label=label)
    lims = [min(y.min(), lo.min()), max(y.max(), hi.max())]
    ax.plot(lims, lims, ls="--", color="0.5", lw=1)
    ax.set(xlabel="true", ylabel=f"predicted ({round(100 * level)}% interval)")
    if label:
        ax.legend(loc="upper left", fontsize="small")
    return ax
