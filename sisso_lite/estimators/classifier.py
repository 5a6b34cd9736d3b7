"""``SissoClassifier``: SISSO for classification (domain overlap or accuracy).

Ouyang et al., Phys. Rev. Mater. 2, 083802 (2018) (domain-overlap SISSO, Fortran SISSO
``ptype=2``); accuracy-based screening in the spirit of Inorg. Chem. 62, 10865 (2023).
See ``docs/sisso_classification.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize_scalar
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from sisso_lite.estimators._base import SissoBase
from sisso_lite.estimators._decision_rule import (
    codes_from_decision,
    decision_values,
    fit_standardized_rule,
    log_proba,
)
from sisso_lite.estimators._validation import (
    check_hashable_labels,
    check_tasks,
    check_units,
    default_feature_names,
    input_feature_names,
    task_index_of,
)
from sisso_lite.estimators.classification_strategy import (
    ClassificationStrategy,
    FortranScreenInput,
)
from sisso_lite.estimators.persistence import model_file_class
from sisso_lite.io.model_json import training_data_hash
from sisso_lite.solvers.driver import sisso_loop

__all__ = ["DEFAULT_OPERATORS", "SissoClassifier"]

DEFAULT_OPERATORS = ("+", "-", "*", "/", "exp", "^-1", "^2", "sqrt", "log", "|-|")

#: columns of ``SissoClassifier.models_``
MODEL_COLUMNS = ("dimension", "rank", "descriptors", "coefficients", "intercept", "n_overlap",
                 "size_overlap", "accuracy")


def _values(expressions, X: NDArray) -> NDArray:
    """Columns ``(n_samples, len(expressions))`` of descriptor values on primary features."""
    cols = []
    for e in expressions:
        with np.errstate(all="ignore"):
            cols.append(np.asarray(e.evaluate(X), dtype=np.float64))
    return np.column_stack(cols)


@model_file_class
class SissoClassifier(ClassifierMixin, SissoBase):
    """SISSO classifier (scikit-learn API).

    Single-task or multi-task (``fit(X, y, tasks=...)``: one descriptor for all tasks, class
    domains and the final linear model per task; Ouyang et al., J. Phys. Mater. 2, 024002
    (2019)).

    Parameters
    ----------
    n_dim : int
        Largest descriptor dimension (1-3 for ``scoring="overlap"``).
    max_complexity : int
        Largest number of operators in a feature (SISSO ``fcomplexity``).
    operators : tuple of str, or tuple of tuples (one operator set per rung)
        Operator set, see :class:`sisso_lite.features.FeatureSpace`.
    n_sis : int
        Features added to the SIS subspace per dimension.
    units : dict or sequence, optional
        Unit of every primary feature: a dict name -> unit or a list aligned with the
        columns (None: dimensionless).
    max_abs_value, min_abs_value : float
        Features whose largest absolute value is above / below are discarded.
    scoring : {"overlap", "accuracy"}
        ``"overlap"``: SIS and L0 by the number of samples in foreign convex domains, ties by
        the normalised overlap size.  ``"accuracy"``: SIS by the best decision stump, L0 by a
        stump (1D) or a linear SVM (2D+).
    bwidth : float
        Domain-boundary tolerance (in standard deviations unless ``fortran_compatible``).
    n_models : int
        L0 models kept per dimension (``models_``).
    fortran_compatible : bool
        Reproduce Fortran SISSO v3.5: raw units for tolerance and separations, Fortran
        feature-space rules, and with three or more classes Fortran's overlap count (a
        sample counted once per foreign domain containing it, i.e. summed over class
        pairs; default: once).
    balanced : bool
        ``scoring="accuracy"``: use balanced accuracy.
    linear_model : {"svm", "logistic"}
        Final model on the standardised descriptor: ``LinearSVC`` (an exact stump for 1D
        binary problems with ``scoring="accuracy"``; probabilities by a fitted temperature)
        or ``LogisticRegression``.
    C : float
        Inverse regularisation of the linear model.
    n_keep : int or None
        ``scoring="accuracy"``: exact bound-pruning of the stump screen, keeping this many
        best scores (None: ``8 * n_sis + len(excluded) + 64``, at least what the screen
        keeps before removing duplicates, so the selection is exact; 0 disables pruning).
    feature_names : sequence of str, optional
        Names of the input columns (default: DataFrame columns or ``x0, x1, ...``).
    n_jobs : int or None
        Reserved (the Numba kernels are single-threaded).
    verbose : bool
        Print progress.

    Attributes
    ----------
    classes_ : ndarray
    task_labels_ : ndarray or None
        Sorted task labels of a multi-task fit (None otherwise).
    n_dim_ : int
        Dimension of the fitted descriptor (below ``n_dim`` when a lower dimension already
        resolves every sample).
    descriptors_ : list of str
        Formulas of the fitted descriptor (best model of dimension ``n_dim_``).
    expressions_ : list of Expression
        The same descriptor as expression programs (``evaluate``, ``sympy``, ``latex``).
    models_ : DataFrame
        Kept L0 models, one row each: ``dimension, rank`` (1 = best),
        ``descriptors`` (list of str),
        ``coefficients, intercept`` (the linear rule on the standardised descriptor, for the
        best model of each dimension; None for the others), ``n_overlap, size_overlap,
        accuracy`` (the L0 scores; ``accuracy`` is NaN for ``scoring="overlap"``).
    descriptors_by_dim_ : dict int -> list of Expression
        Best descriptor of every fitted dimension.
    sis_selected_ : dict int -> list of (str, float)
        Features each SIS added to the union, with their scores.
    screen_stats_ : list of dict
        Per SIS: seconds, whether Fortran's selection was emulated, candidates scored / pruned.
    timings_ : dict
        Wall / CPU seconds of SIS and L0 per dimension (as ``SissoRegressor.timings_``).
    coef_, intercept_ : ndarray
        Linear model on the standardised descriptor: ``(n_out, n_dim_)`` / ``(n_out,)``,
        or ``(n_tasks, n_out, n_dim_)`` / ``(n_tasks, n_out)`` for multi-task fits
        (``n_out`` = 1 for two classes, else the number of classes).
    feature_space_size_ : list of int
        Cumulative feature-space sizes per rung (same as ``n_features_per_rung_``).
    training_data_sha256_ : str
        :func:`~sisso_lite.io.model_json.training_data_hash` of ``(X, y, tasks)``.
    """

    _parameter_constraints: dict = {
        **SissoBase._parameter_constraints,
        "scoring": [StrOptions({"overlap", "accuracy"})],
        "bwidth": [Interval(Real, 0, None, closed="left")],
        "balanced": ["boolean"],
        "linear_model": [StrOptions({"svm", "logistic"})],
        "C": [Interval(Real, 0, None, closed="neither")],
        "n_keep": [None, Interval(Integral, 0, None, closed="left")],
        "feature_names": [None, list, tuple, np.ndarray],
    }

    #: the fitted attributes a model file holds (sisso_lite.io.model_json, format version 2)
    _model_file_attributes = (
        "n_features_in_", "feature_names_in_", "_primary_names", "_unit_keys", "classes_",
        "task_labels_", "n_dim_", "descriptors_", "expressions_", "descriptors_by_dim_",
        "models_", "sis_selected_", "screen_stats_", "timings_", "n_features_per_rung_",
        "feature_space_size_", "coef_", "intercept_", "descriptor_mean_",
        "descriptor_scale_", "temperature_", "training_data_sha256_")

    @staticmethod
    def _migrate_model_file(fitted: dict, version: int) -> dict:
        """A format-1 file: ``descriptors_`` held expressions and ``models_`` was a dict
        dimension -> ranked list of dicts; today's ``models_`` table is rebuilt from it (the
        linear rule only of the final model, the only one format 1 kept)."""
        fitted = dict(fitted)
        if "expressions_" not in fitted and "descriptors_" in fitted:
            fitted["expressions_"] = list(fitted["descriptors_"])
            fitted["descriptors_"] = [str(e) for e in fitted["expressions_"]]
        old = fitted.get("models_")
        if isinstance(old, dict):
            n_dim = fitted.get("n_dim_", max(old) if old else 0)
            rows = []
            for d in sorted(old):
                for rank, m in enumerate(old[d], start=1):
                    final = d == n_dim and rank == 1
                    rows.append({
                        "dimension": d, "rank": rank, "descriptors": list(m["descriptor"]),
                        "coefficients": np.asarray(fitted["coef_"]).tolist() if final else None,
                        "intercept": (np.asarray(fitted["intercept_"]).tolist() if final
                                      else None),
                        "n_overlap": m.get("n_overlap"), "size_overlap": m.get("size_overlap"),
                        "accuracy": m.get("accuracy")})
            fitted["models_"] = pd.DataFrame(rows, columns=list(MODEL_COLUMNS))
        return fitted

    def __init__(
        self,
        n_dim: int = 2,
        max_complexity: int = 2,
        operators: Sequence = DEFAULT_OPERATORS,
        n_sis: int = 20,
        units: Sequence[str | None] | None = None,
        max_abs_value: float = 1e8,
        min_abs_value: float = 1e-5,
        scoring: str = "overlap",
        bwidth: float = 1e-3,
        n_models: int = 10,
        fortran_compatible: bool = False,
        balanced: bool = False,
        linear_model: str = "svm",
        C: float = 1.0,
        n_keep: int | None = None,
        feature_names: Sequence[str] | None = None,
        n_jobs: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.n_dim = n_dim
        self.max_complexity = max_complexity
        self.operators = operators
        self.n_sis = n_sis
        self.units = units
        self.max_abs_value = max_abs_value
        self.min_abs_value = min_abs_value
        self.scoring = scoring
        self.bwidth = bwidth
        self.n_models = n_models
        self.fortran_compatible = fortran_compatible
        self.balanced = balanced
        self.linear_model = linear_model
        self.C = C
        self.n_keep = n_keep
        self.feature_names = feature_names
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting
    def _validate_params_fit(self) -> None:
        self._check_common_params()
        if self.scoring == "overlap" and self.n_dim > 3:
            raise ValueError("scoring='overlap' supports n_dim <= 3 (convex hulls up to 3D)")

    def _build_space(self, X: NDArray, names: list[str]):
        from sisso_lite.features import FeatureSpace, parse_unit

        units = check_units(self.units, names, parse_unit)
        self._unit_keys = [str(parse_unit(u)) for u in units]
        space = FeatureSpace(
            operators=tuple(self.operators), max_complexity=self.max_complexity,
            max_abs_value=self.max_abs_value, min_abs_value=self.min_abs_value,
            fortran_compatible=self.fortran_compatible)
        space.build(X, names, units)
        return space

    def fit(self, X: ArrayLike, y: ArrayLike, tasks: ArrayLike | None = None) -> SissoClassifier:
        """Run SIS + L0 for dimensions 1..n_dim and fit the final linear model.

        Parameters
        ----------
        X : DataFrame or array-like (n_samples, n_features)
            Primary features; DataFrame column names become feature names.
        y : array-like (n_samples,)
            Class labels.
        tasks : array-like (n_samples,), optional
            Task label per sample (multi-task classification, ``scoring="overlap"``): one
            descriptor for all tasks, class domains and linear models per task.  Every task
            needs at least two classes; a class absent from a task gets probability 0 there.
        """
        self._validate_params_fit()
        if y is not None:
            check_hashable_labels(y)
        names = input_feature_names(X, self.feature_names)
        X_raw, y_raw = X, y
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        codes = codes.astype(np.int64).ravel()
        k = len(self.classes_)
        if k < 2:
            raise ValueError(
                f"SissoClassifier needs samples of at least two classes; y has only one "
                f"class ({self.classes_[0]!r})")
        counts = np.bincount(codes, minlength=k)
        if counts.min() < 2:
            small = [self.classes_[i] for i in np.flatnonzero(counts < 2)]
            raise ValueError(f"every class needs at least 2 samples; classes {small!r} have 1")
        task_index = self._check_fit_tasks(tasks, codes, k)
        if names is None:
            names = default_feature_names(X.shape[1])
        if len(names) != X.shape[1]:
            raise ValueError(f"feature_names has {len(names)} entries, X has {X.shape[1]} "
                             "columns")
        self._primary_names = list(names)
        space = self._build_space(X, names)
        self._run(space, X, codes, k, task_index)
        self._fit_final(X, codes, k, task_index)
        self.feature_space_size_ = list(self.n_features_per_rung_)
        self.training_data_sha256_ = training_data_hash(
            X_raw if isinstance(X_raw, pd.DataFrame) else X, np.asarray(y_raw).ravel(),
            None if tasks is None else np.asarray(tasks))
        return self

    def _check_fit_tasks(self, tasks, codes: NDArray, k: int) -> NDArray | None:
        self.task_labels_ = None
        arr = check_tasks(tasks, len(codes))
        if arr is None:
            return None
        if self.scoring != "overlap":
            raise ValueError("tasks (multi-task classification) require scoring='overlap'")
        labels, task_index = np.unique(arr, return_inverse=True)
        task_index = task_index.astype(np.int64).ravel()
        for t, label in enumerate(labels):
            present = np.unique(codes[task_index == t])
            if len(present) < 2:
                raise ValueError(f"task {label!r} has samples of one class only "
                                 f"({self.classes_[present[0]]!r}); every task needs at "
                                 "least two classes")
        self.task_labels_ = labels
        return task_index

    def _fortran_sis(self, task_index) -> bool:
        """Emulate Fortran's SIS selection (fcomplexity <= 1, one operator set, overlap,
        single task, ``fortran_compatible``)?"""
        return (bool(self.fortran_compatible) and self.scoring == "overlap"
                and task_index is None and self.max_complexity <= 1
                and all(isinstance(op, str) for op in self.operators))

    def _rule_params(self) -> dict[str, Any]:
        """Parameters of :func:`~sisso_lite.estimators._decision_rule.linear_rule`."""
        return dict(linear_model=self.linear_model, scoring=self.scoring, C=self.C,
                    balanced=self.balanced)

    def _strategy(self, X: NDArray, codes: NDArray, k: int,
                  task_index: NDArray | None) -> ClassificationStrategy:
        fortran_screen = None
        if self._fortran_sis(task_index):
            fortran_screen = FortranScreenInput(
                X=X, names=self._primary_names, unit_keys=self._unit_keys,
                operators=tuple(self.operators), max_abs_value=self.max_abs_value,
                min_abs_value=self.min_abs_value)
        return ClassificationStrategy(
            codes=codes, n_classes=k, task_index=task_index, scoring=self.scoring,
            bwidth=self.bwidth, n_models=int(self.n_models),
            fortran_compatible=bool(self.fortran_compatible), balanced=self.balanced, C=self.C,
            n_keep=self.n_keep, rule_params=self._rule_params(), fortran_screen=fortran_screen)

    def _run(self, space, X: NDArray, codes: NDArray, k: int,
             task_index: NDArray | None = None) -> None:
        """The SISSO loop (:func:`~sisso_lite.solvers.driver.sisso_loop`) and ``models_``."""
        strategy = self._strategy(X, codes, k, task_index)
        loop = sisso_loop(space, strategy, n_dim=int(self.n_dim), n_sis=int(self.n_sis),
                          verbose=bool(self.verbose), desc="SissoClassifier")
        self.n_features_per_rung_ = list(getattr(space, "n_features_per_rung_", []))
        if not loop.models:
            raise ValueError("the feature space has no valid feature to screen (check X, "
                             "operators, max_abs_value and min_abs_value)")
        union = loop.union
        self.sis_selected_ = {d: [(str(e), float(v)) for e, v in
                                  zip(loop.selected[d], loop.selected_scores[d], strict=True)]
                              for d in loop.selected}
        self.screen_stats_ = strategy.screen_stats
        self.timings_ = loop.timings
        self.descriptors_by_dim_ = {d: [union[j] for j in found[0].columns]
                                    for d, found in loop.models.items()}
        rows = []
        for d, found in loop.models.items():
            best = self.descriptors_by_dim_[d]
            rule = fit_standardized_rule(_values(best, X), codes, k, task_index,
                                         self._rule_params())
            for rank, m in enumerate(found):
                rows.append({
                    "dimension": d, "rank": rank + 1,
                    "descriptors": [str(union[j]) for j in m.columns],
                    "coefficients": rule.coef.tolist() if rank == 0 else None,
                    "intercept": rule.intercept.tolist() if rank == 0 else None,
                    "n_overlap": m.count, "size_overlap": m.size, "accuracy": m.accuracy})
        self.models_ = pd.DataFrame(rows, columns=list(MODEL_COLUMNS))
        self.expressions_ = self.descriptors_by_dim_[max(loop.models)]
        self.descriptors_ = [str(e) for e in self.expressions_]
        self.n_dim_ = len(self.expressions_)

    def _fit_final(self, X: NDArray, codes: NDArray, k: int,
                   task_index: NDArray | None = None) -> None:
        D = self._descriptor_values(X)
        rule = fit_standardized_rule(D, codes, k, task_index, self._rule_params())
        self.coef_, self.intercept_ = rule.coef, rule.intercept
        self.descriptor_mean_ = rule.mean
        self.descriptor_scale_ = rule.scale
        self.temperature_ = 1.0
        if self.linear_model == "svm":
            dec = rule.decision(D, task_index)

            def nll(logt: float) -> float:
                return -np.mean(log_proba(dec, np.exp(logt))[np.arange(len(codes)), codes])

            res = minimize_scalar(nll, bounds=(-8.0, 8.0), method="bounded")
            self.temperature_ = float(np.exp(res.x))

    # --------------------------------------------------------------- prediction
    def _descriptor_values(self, X: NDArray) -> NDArray:
        return _values(self.expressions_, X)

    def _decision_std(self, Z: NDArray, task_index: NDArray | None = None) -> NDArray:
        return decision_values(Z, self.coef_, self.intercept_, task_index)

    def _codes_from_decision(self, dec: NDArray) -> NDArray:
        return codes_from_decision(dec)

    def _task_index(self, tasks, n_samples: int) -> NDArray | None:
        return task_index_of(tasks, getattr(self, "task_labels_", None), n_samples)

    def decision_function(self, X: ArrayLike, tasks: ArrayLike | None = None) -> NDArray:
        """Linear decision values (binary: > 0 means ``classes_[1]``).

        ``tasks`` (task label per sample) is required for multi-task models.
        """
        check_is_fitted(self, "expressions_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        ti = self._task_index(tasks, X.shape[0])
        D = self._descriptor_values(X)
        return self._decision_std((D - self.descriptor_mean_) / self.descriptor_scale_, ti)

    def predict(self, X: ArrayLike, tasks: ArrayLike | None = None) -> NDArray:
        """Predicted class labels (``tasks`` required for multi-task models)."""
        codes = self._codes_from_decision(self.decision_function(X, tasks))
        return self.classes_[codes]

    def predict_proba(self, X: ArrayLike, tasks: ArrayLike | None = None) -> NDArray:
        """Class probabilities (logistic model, or temperature-scaled SVM decision)."""
        dec = self.decision_function(X, tasks)
        return np.exp(log_proba(dec, self.temperature_))

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None,
              tasks: ArrayLike | None = None) -> float:
        """Mean accuracy (``tasks`` required for multi-task models)."""
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(y, self.predict(X, tasks), sample_weight=sample_weight))

    def descriptor_values(self, X: ArrayLike) -> NDArray:
        """Values of the descriptor (n_samples, n_dim_)."""
        check_is_fitted(self, "expressions_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._descriptor_values(X)

    # -------------------------------------------------------------- expressions
    def sympy(self, task: Any = None) -> Any:
        """Decision function as a SymPy expression of the primary features (binary), or a
        list with one expression per class (multi-class).  Multi-task models: the function
        of task label ``task`` (default: the first task)."""
        import sympy as sp

        check_is_fitted(self, "expressions_")
        coef, icpt = self.coef_, self.intercept_
        if getattr(self, "task_labels_", None) is not None:
            t = 0 if task is None else int(self._task_index([task], 1)[0])
            coef, icpt = coef[t], icpt[t]
        d = [(e.sympy() - sp.Float(m)) / sp.Float(s) for e, m, s in
             zip(self.expressions_, self.descriptor_mean_, self.descriptor_scale_, strict=True)]
        out = [sum((sp.Float(c) * di for c, di in zip(row, d, strict=True)), sp.Float(b))
               for row, b in zip(coef, icpt, strict=True)]
        return out[0] if len(out) == 1 else out

    def latex(self) -> str:
        """LaTeX of the descriptor components ``d_1 = ..., d_2 = ...``."""
        check_is_fitted(self, "expressions_")
        return ",\\quad ".join(f"d_{{{i + 1}}} = {e.latex()}"
                               for i, e in enumerate(self.expressions_))


