"""Predictive uncertainty on arrays: metrics, recalibration and plots.

* :mod:`.metrics` -- accuracy and calibration metrics of Gaussian predictions
  (``y``, ``mu``, ``sigma``), following uncertainty-toolbox 0.1.1;
* :mod:`.calibration` -- post-hoc recalibrators (:class:`SigmaScaling`,
  :class:`IsotonicRecalibration`) fitted on held-out residuals;
* :mod:`.plotting` -- calibration curve and parity plot with error bars (matplotlib).

Everything works on plain arrays and knows no estimator, so the estimators (the ensemble
recalibrates its spread) sit on top of this package. See ``docs/uncertainty.md``.
"""

from sisso_lite.uncertainty.calibration import (
    IsotonicRecalibration,
    SigmaScaling,
    make_recalibrator,
)
from sisso_lite.uncertainty.metrics import (
    DEFAULT_LEVELS,
    Recalibrator,
    calibration_curve,
    check_uncertainty_inputs,
    crps_gaussian,
    gaussian_interval,
    interval_width,
    mace,
    mae,
    miscalibration_area,
    miscalibration_area_from_proportions,
    nll_gaussian,
    picp,
    rmsce,
    rmse,
    sharpness,
    spearman_error_sigma,
    uncertainty_metrics,
)
from sisso_lite.uncertainty.plotting import plot_calibration_curve, plot_parity_with_errorbars
from sisso_lite.uncertainty.sensitivity import (
    SensitivityResult,
    ensemble_sensitivity,
    local_elasticities,
    partial_derivatives,
    sensitivity_analysis,
    sobol_indices,
)

__all__ = [
    "DEFAULT_LEVELS",
    "IsotonicRecalibration",
    "Recalibrator",
    "SensitivityResult",
    "SigmaScaling",
    "calibration_curve",
    "check_uncertainty_inputs",
    "crps_gaussian",
    "ensemble_sensitivity",
    "gaussian_interval",
    "interval_width",
    "local_elasticities",
    "mace",
    "mae",
    "make_recalibrator",
    "miscalibration_area",
    "miscalibration_area_from_proportions",
    "nll_gaussian",
    "partial_derivatives",
    "picp",
    "plot_calibration_curve",
    "plot_parity_with_errorbars",
    "rmse",
    "rmsce",
    "sensitivity_analysis",
    "sharpness",
    "sobol_indices",
    "spearman_error_sigma",
    "uncertainty_metrics",
]
