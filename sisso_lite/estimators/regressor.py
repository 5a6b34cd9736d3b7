"""``SissoRegressor``: SISSO symbolic regression with the scikit-learn API."""

from __future__ import annotations

import time
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import Options
from sklearn.utils.validation import check_is_fitted, validate_data

from sisso_lite._threads import numba_threads
from sisso_lite._validation import check_finite
from sisso_lite.estimators._base import SissoBase
from sisso_lite.estimators._validation import (
    check_feature_names,
    check_target,
    check_tasks,
    check_units,
    dataframe_to_array,
    default_feature_names,
)
from sisso_lite.estimators.persistence import model_file_class
from sisso_lite.io.model_json import training_data_hash

__all__ = ["SissoRegressor"]


@model_file_class
class SissoRegressor(RegressorMixin, SissoBase):
    """SISSO symbolic regression (sure independence screening + sparsifying operator).

    Builds a space of analytic features from the primary features (unit-consistent when
    ``units`` are given), screens it on the residual of the previous dimension and finds the
    best linear model of ``1 .. n_dim`` descriptors by exhaustive L0 search.
    Ouyang et al., Phys. Rev. Materials 2, 083802 (2018); multi-task SISSO:
    Ouyang et al., J. Phys. Mater. 2, 024002 (2019).

    Parameters
    ----------
    n_dim : int
        Largest descriptor dimension (number of terms of the final model).
    max_complexity : int
        Maximum number of operators per feature (SISSO ``fcomplexity``).
    operators : sequence of str, or str, optional
        Operators (default: the FeatureSpace default set), e.g. ``("+", "-", "*", "/", "exp",
        "^2", "sqrt", "|-|")``, or SISSO.in's string form ``"(+)(-)(*)(/)"``.
    n_sis : int
        Features added to the SIS subspace per dimension (SISSO ``nf_sis``).
    units : dict or sequence, optional
        Unit string per primary feature (``"eV"``, ``"Angstrom"``, ``None``).
    max_abs_value, min_abs_value : float
        Features whose largest absolute value is above/below are discarded (``fmax_max``,
        ``fmax_min``).
    metric : {"rmse", "maxae"}
        Ranking metric of the L0 search.
    fit_intercept : bool
    n_models : int
        Number of top models kept per dimension (``models_``).
    fortran_compatible : bool
        Mimic Fortran SISSO v3.5 feature construction quirks.
    n_jobs : int, optional
        numba threads (None: numba default, -1: all).
    verbose : bool
        Progress bars.
    task_weighting : {1, 2}
        Multi-task L0 error: 1 = quadratic mean of the per-task RMSEs (SISSO default),
        2 = RMSE over all samples (tasks weighted by their sample counts), as SISSO's
        ``task_weighting``.

    Attributes
    ----------
    n_dim_ : int
        Largest fitted dimension (below ``n_dim`` when the SIS union ran out of features).
    descriptors_ : list of str
        Formulas of the descriptors of the best model of dimension ``n_dim_``.
    expressions_ : list of Expression
        The same descriptors as expression programs.
    coef_ : ndarray, shape (n_dim,) or (n_tasks, n_dim) for multi-task fits
    intercept_ : float or ndarray of shape (n_tasks,)
    models_ : DataFrame
        Kept models: ``dimension, rank, descriptors, coefficients, intercept, rmse, maxae``.
    feature_space_size_ : list of int
        Number of features per rung.
    feature_names_in_ : ndarray of str
        Names of the primary features seen in ``fit`` (``x0, x1, ...`` for arrays are not stored
        here, as in scikit-learn).
    n_features_in_ : int
    result_ : SissoResult
    timings_ : dict
        Seconds of the phases of the last ``fit``: ``"build"`` / ``"build_cpu"`` (feature
        construction, wall / CPU), ``"sis"``, ``"l0"``, ``"sis_cpu"``, ``"l0_cpu"`` (dicts
        dimension -> seconds), ``"n_features_scored"`` and ``"n_l0_models"`` per dimension
        (see :func:`~sisso_lite.solvers.driver.run_sisso`).
    """

    _parameter_constraints: dict = {
        **SissoBase._parameter_constraints,
        "metric": [str],
        "fit_intercept": ["boolean"],
        "task_weighting": [Options(Integral, {1, 2})],
    }

    #: the fitted attributes a model file holds (sisso_lite.io.model_json, format version 2)
    _model_file_attributes = (
        "n_features_in_", "feature_names_in_", "_primary_names", "n_dim_", "descriptors_",
        "expressions_", "coef_", "intercept_", "models_", "result_", "feature_space_size_",
        "timings_", "training_data_sha256_")

    @staticmethod
    def _migrate_model_file(fitted: dict, version: int) -> dict:
        """Attributes of a format-1 file (``n_dim_fitted_``, no ``expressions_``) renamed."""
        fitted = dict(fitted)
        if "n_dim_fitted_" in fitted:
            fitted["n_dim_"] = fitted.pop("n_dim_fitted_")
        if "expressions_" not in fitted and "result_" in fitted:
            fitted["expressions_"] = list(fitted["result_"].best().expressions)
        return fitted

    def __init__(self, n_dim=2, max_complexity=3, operators=None, n_sis=100, units=None,
                 max_abs_value=1e5, min_abs_value=1e-3, metric="rmse", fit_intercept=True,
                 n_models=10, fortran_compatible=False, n_jobs=None, verbose=False,
                 task_weighting=1):
        self.n_dim = n_dim
        self.max_complexity = max_complexity
        self.operators = operators
        self.n_sis = n_sis
        self.units = units
        self.max_abs_value = max_abs_value
        self.min_abs_value = min_abs_value
        self.metric = metric
        self.fit_intercept = fit_intercept
        self.n_models = n_models
        self.fortran_compatible = fortran_compatible
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.task_weighting = task_weighting

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> None:
        self._check_common_params()
        if str(self.metric).lower() not in ("rmse", "maxae"):
            raise ValueError(f"metric must be 'rmse' or 'maxae', got {self.metric!r}")

    def _validate_fit_input(self, X, y):
        named = isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns)
        if isinstance(X, pd.DataFrame):
            _, names = dataframe_to_array(X)
            if named:
                names = check_feature_names(names)
        try:  # name the row of a NaN/inf target before sklearn's generic message
            y_float = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError):
            y_float = None
        if y_float is not None and y_float.ndim == 1:
            check_finite(y_float, None, "y")
        X_arr, y_arr = validate_data(self, X, y, y_numeric=True, ensure_min_samples=2,
                                     dtype=np.float64)
        if not named:  # arrays, or DataFrames without string column names
            names = default_feature_names(X_arr.shape[1])
        y_arr = check_target(y_arr, X_arr.shape[0], self.n_dim, self.fit_intercept)
        return X_arr, y_arr, names

    def _make_space(self):
        from sisso_lite.features import FeatureSpace

        kwargs = dict(max_complexity=self.max_complexity, max_abs_value=self.max_abs_value,
                      min_abs_value=self.min_abs_value,
                      fortran_compatible=self.fortran_compatible)
        if self.operators is not None:
            kwargs["operators"] = self.operators
        try:
            return FeatureSpace(**kwargs)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"invalid operators {self.operators!r}: {exc}") from exc

    # ------------------------------------------------------------------ fit / predict
    def fit(self, X, y, tasks=None):
        """Fit SISSO.

        Parameters
        ----------
        X : DataFrame or array-like, shape (n_samples, n_features)
            Primary features; DataFrame column names become feature names (else ``x0, ...``).
        y : array-like, shape (n_samples,)
        tasks : array-like, shape (n_samples,), optional
            Task label per sample: multi-task SISSO (one descriptor, coefficients per task).

        Returns
        -------
        self
        """
        from sisso_lite.features import parse_unit
        from sisso_lite.solvers.driver import run_sisso

        self._check_params()
        X_arr, y_arr, names = self._validate_fit_input(X, y)
        tasks_arr = check_tasks(tasks, X_arr.shape[0])
        if tasks_arr is not None:
            labels, counts = np.unique(tasks_arr, return_counts=True)
            need = self.n_dim + 1 if self.fit_intercept else self.n_dim
            if counts.min() < need:
                small = labels[counts < need].tolist()
                raise ValueError(f"task(s) {small} have fewer than {need} samples, the minimum "
                                 f"for n_dim={self.n_dim} (+ intercept if fitted)")
        unit_list = check_units(self.units, names, parse_unit)
        space = self._make_space()
        with numba_threads(self.n_jobs):
            t_build, c_build = time.perf_counter(), time.process_time()
            space.build(X_arr, names, unit_list)
            t_build, c_build = time.perf_counter() - t_build, time.process_time() - c_build
            result = run_sisso(
                space, y_arr, n_dim=self.n_dim, n_sis=self.n_sis, n_models=self.n_models,
                metric=str(self.metric).lower(), fit_intercept=self.fit_intercept,
                tasks=tasks_arr, verbose=self.verbose, task_weighting=self.task_weighting,
                release_space=True,  # the space is not kept: free its values before the last L0
            )
        self.result_ = result
        self.timings_ = {"build": t_build, "build_cpu": c_build,
                         **getattr(result, "timings", {})}
        self.feature_space_size_ = list(space.n_features_per_rung_)
        self.models_ = result.model_table()
        best = result.best()
        self.descriptors_ = best.descriptors
        self.expressions_ = list(best.expressions)
        if tasks_arr is None:
            self.coef_ = best.coefficients[0].copy()
            self.intercept_ = float(best.intercept[0])
        else:
            self.coef_ = best.coefficients.copy()
            self.intercept_ = best.intercept.copy()
        self.n_dim_ = result.n_dim
        self._primary_names = list(names)
        self.training_data_sha256_ = training_data_hash(X_arr, y_arr, tasks_arr)
        return self

    def _primary_array(self, X, needed):
        """Validated primary-feature array for prediction."""
        missing = []
        if isinstance(X, pd.DataFrame):
            cols = {str(c) for c in X.columns}
            missing = [n for n in needed if n not in cols]
            present = [n for n in needed if n in cols]
            if present and all(X[n].dtype.kind in "biuf" for n in present):
                check_finite(X[present].to_numpy(dtype=np.float64), present, "X")
        try:
            return validate_data(self, X, reset=False, dtype=np.float64)
        except ValueError as exc:
            if missing:
                raise ValueError(
                    f"X lacks the primary feature(s) {missing} needed by the model\n{exc}"
                ) from exc
            raise

    def predict(self, X, dim=None, tasks=None):
        """Predict with the best model of dimension ``dim`` (default: ``n_dim``).

        Parameters
        ----------
        X : DataFrame or array-like, shape (n_samples, n_features_in_)
        dim : int, optional
        tasks : array-like, optional
            Task labels (required for multi-task fits).
        """
        check_is_fitted(self, "result_")
        model = self.result_.best(dim)
        X_arr = self._primary_array(X, model.primary_features)
        return model.predict_array(X_arr, self.result_.task_index(tasks, X_arr.shape[0]),
                                   self.result_.feature_names)

    def score(self, X, y, sample_weight=None, tasks=None):
        """R^2 of the predictions of the final model."""
        from sklearn.metrics import r2_score

        return r2_score(y, self.predict(X, tasks=tasks), sample_weight=sample_weight)

    def sympy(self, dim=None, task=0, digits=None):
        """Sympy expression of the best model of dimension ``dim``."""
        check_is_fitted(self, "result_")
        return self.result_.best(dim).sympy(task=task, digits=digits)

    def latex(self, dim=None, task=0, digits=4):
        """LaTeX of the best model of dimension ``dim``."""
        check_is_fitted(self, "result_")
        return self.result_.best(dim).latex(task=task, digits=digits)

    @property
    def n_dim_fitted_(self) -> int:
        """Deprecated name of ``n_dim_``."""
        warnings.warn("n_dim_fitted_ is deprecated; use n_dim_", FutureWarning, stacklevel=2)
        return self.n_dim_
