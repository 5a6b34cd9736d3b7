"""Old import path of :mod:`sisso_lite.uncertainty.plotting` (kept for users; the package
itself imports the new path)."""

from sisso_lite.uncertainty.plotting import plot_calibration_curve, plot_parity_with_errorbars

__all__ = ["plot_calibration_curve", "plot_parity_with_errorbars"]
