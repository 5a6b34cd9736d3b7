"""Input validation shared below the estimators: :func:`check_finite` (used by
:mod:`sisso_lite.models` and the estimators; errors name the offending column).

The estimators' own checks (feature names, targets, tasks, units) are in
:mod:`sisso_lite.estimators._validation`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["check_finite"]


def check_finite(arr: np.ndarray, names: Sequence[str] | None, what: str) -> None:
    """Raise a ValueError naming the first column with NaN or inf."""
    if arr.ndim == 1:
        arr = arr[:, None]
    finite = np.isfinite(arr)
    if finite.all():
        return
    j = int(np.nonzero(~finite.all(axis=0))[0][0])
    col = arr[:, j]
    kind = "NaN" if np.isnan(col).any() else "inf"
    rows = np.flatnonzero(~finite[:, j])
    label = f" in column {names[j]!r}" if names is not None else ""
    where = f" at row {int(rows[0])}" + (f" (and {rows.size - 1} more)" if rows.size > 1 else "")
    raise ValueError(f"{what} contains {kind}{label}{where}; remove or impute these values")
