"""What every SISSO estimator shares: parameter constraints and the fitted-model contract.

Every SISSO estimator (:class:`~sisso_lite.estimators.regressor.SissoRegressor`,
:class:`~sisso_lite.estimators.classifier.SissoClassifier`) exposes after ``fit``:

* ``n_dim_``: the fitted descriptor dimension;
* ``descriptors_``: the formulas (str) of the final descriptor, ``expressions_`` the same
  as :class:`~sisso_lite.features.Expression` programs;
* ``models_``: a DataFrame of the kept models, one row each, with at least the columns
  ``dimension, rank`` (1 = best of its dimension), ``descriptors`` (list of str),
  ``coefficients, intercept`` and the estimator's scores;
* ``sympy()``, ``latex()``, ``to_json(path)`` / ``from_json(path)``.

Parameters are validated with scikit-learn's ``_parameter_constraints`` (an
``InvalidParameterError``, a ``ValueError``, naming the parameter, its allowed values and
the value given); the checks that involve several parameters or the data stay in ``fit``.
"""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

from sisso_lite.estimators.persistence import JsonModelMixin

__all__ = ["SissoBase"]


class SissoBase(JsonModelMixin, BaseEstimator):
    """Base of the SISSO estimators (see the module docstring for the fitted contract)."""

    _parameter_constraints: dict = {
        "n_dim": [Interval(Integral, 1, None, closed="left")],
        "max_complexity": [Interval(Integral, 0, None, closed="left")],
        "operators": [None, str, list, tuple],  # str: SISSO.in form "(+)(-)(*)"
        "n_sis": [Interval(Integral, 1, None, closed="left")],
        "units": [None, dict, list, tuple],
        "max_abs_value": [Interval(Real, 0, None, closed="neither")],
        "min_abs_value": [Interval(Real, 0, None, closed="left")],
        "n_models": [Interval(Integral, 1, None, closed="left")],
        "fortran_compatible": ["boolean"],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
    }

    def _check_common_params(self) -> None:
        """scikit-learn's parameter validation plus the checks across parameters."""
        self._validate_params()
        if not self.max_abs_value > self.min_abs_value:
            raise ValueError("need max_abs_value > min_abs_value >= 0, got "
                             f"max_abs_value={self.max_abs_value!r}, "
                             f"min_abs_value={self.min_abs_value!r}")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
