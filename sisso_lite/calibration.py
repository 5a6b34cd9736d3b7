"""Old import path of :mod:`sisso_lite.uncertainty.calibration` (kept for users; the
package itself imports the new path)."""

from sisso_lite.uncertainty.calibration import (
    IsotonicRecalibration,
    SigmaScaling,
    make_recalibrator,
)

__all__ = ["IsotonicRecalibration", "SigmaScaling", "make_recalibrator"]
