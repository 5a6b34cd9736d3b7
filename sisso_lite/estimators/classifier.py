"""``SissoClassifier``: SISSO for classification (domain overlap or accuracy).

Ouyang et al., Phys. Rev. Mater. 2, 083802 (2018) (domain-overlap SISSO, Fortran SISSO
``ptype=2``); accuracy-based screening in the spirit of Inorg. Chem. 62, 10865 (2023).
See ``docs/sisso_classification.md``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from sisso_lite.estimators._decision_rule import linear_rule, log_proba, safe_std, task_linear_rule
from sisso_lite.estimators._validation import (
    check_hashable_labels,
    check_integer,
    check_tasks,
    check_units,
    default_feature_names,
    input_feature_names,
    task_index_of,
)
from sisso_lite.estimators.persistence import JsonModelMixin, model_file_class
from sisso_lite.io.model_json import training_data_hash
from sisso_lite.solvers.classification import (
    OverlapScorer,
    StumpScorer,
    l0_accuracy,
    l0_overlap,
    overlap_flags,
)
from sisso_lite.solvers.fortran_sis_classification import fortran_rung1_screen
from sisso_lite.solvers.multitask_classification import (
    MultiTaskOverlapScorer,
    l0_overlap_multitask,
    overlap_flags_multitask,
)

__all__ = ["DEFAULT_OPERATORS", "SissoClassifier"]

DEFAULT_OPERATORS = ("+", "-", "*", "/", "exp", "^-1", "^2", "sqrt", "log", "|-|")


@model_file_class
class SissoClassifier(JsonModelMixin, ClassifierMixin, BaseEstimator):
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
    descriptors_ : list of Expression
    coef_, intercept_ : ndarray
        Linear model on the standardised descriptor: ``(n_out, n_dim_)`` / ``(n_out,)``,
        or ``(n_tasks, n_out, n_dim_)`` / ``(n_tasks, n_out)`` for multi-task fits
        (``n_out`` = 1 for two classes, else the number of classes).
    feature_space_size_ : list of int
        Cumulative feature-space sizes per rung (same as ``n_features_per_rung_``).
    training_data_sha256_ : str
        :func:`~sisso_lite.io.model_json.training_data_hash` of ``(X, y, tasks)``.
    """

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
        if self.scoring not in ("overlap", "accuracy"):
            raise ValueError(f"scoring must be 'overlap' or 'accuracy', got {self.scoring!r}")
        if self.linear_model not in ("svm", "logistic"):
            raise ValueError(f"linear_model must be 'svm' or 'logistic', got {self.linear_model!r}")
        check_integer("n_dim", self.n_dim, 1)
        if self.scoring == "overlap" and self.n_dim > 3:
            raise ValueError("scoring='overlap' supports n_dim <= 3 (convex hulls up to 3D)")
        check_integer("n_sis", self.n_sis, 1)
        check_integer("n_models", self.n_models, 1)
        if self.bwidth < 0:
            raise ValueError("bwidth must be >= 0")

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
        self._fit_X = X
        try:
            self._run(space, codes, k, task_index)
        finally:
            del self._fit_X
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

    @property
    def _pair_count(self) -> bool:
        return bool(self.fortran_compatible) and len(self.classes_) > 2

    def _screen(self, space, codes, k, active, exclude, task_index=None):
        if self.scoring == "overlap" and task_index is not None:
            scorer = MultiTaskOverlapScorer(codes, task_index, active, self.bwidth,
                                            standardize=not self.fortran_compatible,
                                            pair_count=self._pair_count)
        elif self.scoring == "overlap":
            scorer = OverlapScorer(codes, k, active, self.bwidth,
                                   standardize=not self.fortran_compatible,
                                   pair_count=self._pair_count)
        else:
            # >= the candidates the screen keeps before its duplicate removal
            keep = (self.n_keep if self.n_keep is not None
                    else 8 * self.n_sis + len(exclude) + 64)
            scorer = StumpScorer(codes, k, active, self.balanced, n_keep=keep or None)
        t0 = time.perf_counter()
        out = None
        emulated = self._fortran_sis(task_index)
        if emulated:
            out = fortran_rung1_screen(
                space, self._fit_X, self._primary_names, self._unit_keys, self.operators,
                scorer, int(self.n_sis), exclude, self.max_abs_value, self.min_abs_value)
        if out is None:
            emulated = False
            out = space.screen(scorer, n_sis=int(self.n_sis), exclude=exclude)
        self.screen_stats_.append({
            "seconds": time.perf_counter() - t0, "fortran_selection": emulated,
            "n_scored": getattr(scorer, "n_scored", None),
            "n_pruned": getattr(scorer, "n_pruned", None)})
        return out

    def _l0(self, F, codes, k, d, task_index):
        if self.scoring != "overlap":
            return l0_accuracy(F, codes, k, d, int(self.n_models), self.balanced, self.C), None
        scale = None if self.fortran_compatible else safe_std(F)
        if task_index is not None:
            return l0_overlap_multitask(F, codes, task_index, d, int(self.n_models),
                                        self.bwidth, self.fortran_compatible, scale,
                                        self._pair_count), scale
        return l0_overlap(F, codes, k, d, int(self.n_models), self.bwidth,
                          self.fortran_compatible, scale, self._pair_count), scale

    def _run(self, space, codes: NDArray, k: int, task_index: NDArray | None = None) -> None:
        n = len(codes)
        active = np.ones(n, bool)
        exprs: list = []
        vals: list[NDArray] = []
        exclude: set[str] = set()
        self.models_: dict[int, list[dict]] = {}
        self.sis_selected_: dict[int, list[tuple[str, float]]] = {}
        self.screen_stats_: list[dict] = []
        self.descriptors_by_dim_: dict[int, list] = {}
        self.n_features_per_rung_ = []
        best_cols = None
        for d in range(1, int(self.n_dim) + 1):
            new = self._screen(space, codes, k, active, exclude, task_index)
            self.sis_selected_[d] = [(str(f.expression), float(f.score)) for f in new]
            for f in new:
                exclude.add(f.expression.key)
                exprs.append(f.expression)
                vals.append(np.asarray(f.values, dtype=np.float64))
            if len(exprs) < d:
                break
            F = np.column_stack(vals)
            found, scale = self._l0(F, codes, k, d, task_index)
            self.models_[d] = [
                {"descriptor": [str(exprs[j]) for j in m.columns], "n_overlap": m.count,
                 "size_overlap": m.size, "accuracy": m.accuracy} for m in found]
            best_cols = found[0].columns
            self.descriptors_by_dim_[d] = [exprs[j] for j in best_cols]
            D = F[:, list(best_cols)]
            active = self._unresolved(D, codes, k, scale, best_cols, task_index)
            if self.verbose:
                print(f"[SissoClassifier] {d}D: {self.models_[d][0]}; "
                      f"{int(active.sum())} samples unresolved")
            if not active.any():
                break
        self.n_features_per_rung_ = list(getattr(space, "n_features_per_rung_", []))
        if best_cols is None:
            raise ValueError("the feature space has no valid feature to screen (check X, "
                             "operators, max_abs_value and min_abs_value)")
        self.descriptors_ = [exprs[j] for j in best_cols]
        self.n_dim_ = len(self.descriptors_)

    def _unresolved(self, D, codes, k, scale, cols, task_index=None) -> NDArray:
        """Samples the best model leaves unresolved (they drive the next SIS)."""
        if self.scoring == "overlap":
            Z = D if scale is None else D / scale[list(cols)]
            if task_index is not None:
                return overlap_flags_multitask(Z, codes, task_index, self.bwidth,
                                               self.fortran_compatible, self._pair_count)[2]
            return overlap_flags(Z, codes, k, self.bwidth, self.fortran_compatible,
                                 self._pair_count)[2]
        rule = self._fit_rule(D, codes, k)
        return rule(D) != codes

    def _rule_params(self) -> dict[str, Any]:
        """Parameters of :func:`~sisso_lite.estimators._decision_rule.linear_rule`."""
        return dict(linear_model=self.linear_model, scoring=self.scoring, C=self.C,
                    balanced=self.balanced)

    def _fit_rule(self, D: NDArray, codes: NDArray, k: int,
                  task_index: NDArray | None = None):
        """Standardise D, fit the decision rule (per task); returns a function D -> codes."""
        self._mean = D.mean(0)
        self._std = safe_std(D)
        Z = (D - self._mean) / self._std
        if task_index is None:
            self.coef_, self.intercept_ = linear_rule(Z, codes, k, **self._rule_params())
        else:
            fits = [task_linear_rule(Z[task_index == t], codes[task_index == t], k,
                                     **self._rule_params())
                    for t in range(int(task_index.max()) + 1)]
            self.coef_ = np.stack([c for c, _ in fits])
            self.intercept_ = np.stack([b for _, b in fits])
        return lambda Dn: self._codes_from_decision(self._decision_std(
            (Dn - self._mean) / self._std, task_index))

    def _fit_final(self, X: NDArray, codes: NDArray, k: int,
                   task_index: NDArray | None = None) -> None:
        D = self._descriptor_values(X)
        self._fit_rule(D, codes, k, task_index)
        self.descriptor_mean_ = self._mean
        self.descriptor_scale_ = self._std
        self.temperature_ = 1.0
        if self.linear_model == "svm":
            dec = self._decision_std((D - self._mean) / self._std, task_index)

            def nll(logt: float) -> float:
                return -np.mean(log_proba(dec, np.exp(logt))[np.arange(len(codes)), codes])

            res = minimize_scalar(nll, bounds=(-8.0, 8.0), method="bounded")
            self.temperature_ = float(np.exp(res.x))

    # --------------------------------------------------------------- prediction
    def _descriptor_values(self, X: NDArray) -> NDArray:
        cols = []
        for e in self.descriptors_:
            with np.errstate(all="ignore"):
                cols.append(np.asarray(e.evaluate(X), dtype=np.float64))
        return np.column_stack(cols)

    def _decision_std(self, Z: NDArray, task_index: NDArray | None = None) -> NDArray:
        Z = np.where(np.isfinite(Z), Z, 0.0)
        if task_index is None:
            dec = Z @ self.coef_.T + self.intercept_
        else:
            dec = np.empty((Z.shape[0], self.coef_.shape[1]))
            for t in np.unique(task_index):
                rows = task_index == t
                dec[rows] = Z[rows] @ self.coef_[t].T + self.intercept_[t]
        return dec.ravel() if dec.shape[1] == 1 else dec

    def _codes_from_decision(self, dec: NDArray) -> NDArray:
        return (dec > 0).astype(np.int64) if dec.ndim == 1 else np.argmax(dec, axis=1)

    def _task_index(self, tasks, n_samples: int) -> NDArray | None:
        return task_index_of(tasks, getattr(self, "task_labels_", None), n_samples)

    def decision_function(self, X: ArrayLike, tasks: ArrayLike | None = None) -> NDArray:
        """Linear decision values (binary: > 0 means ``classes_[1]``).

        ``tasks`` (task label per sample) is required for multi-task models.
        """
        check_is_fitted(self, "descriptors_")
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
        check_is_fitted(self, "descriptors_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._descriptor_values(X)

    # -------------------------------------------------------------- expressions
    def sympy(self, task: Any = None) -> Any:
        """Decision function as a SymPy expression of the primary features (binary), or a
        list with one expression per class (multi-class).  Multi-task models: the function
        of task label ``task`` (default: the first task)."""
        import sympy as sp

        check_is_fitted(self, "descriptors_")
        coef, icpt = self.coef_, self.intercept_
        if getattr(self, "task_labels_", None) is not None:
            t = 0 if task is None else int(self._task_index([task], 1)[0])
            coef, icpt = coef[t], icpt[t]
        d = [(e.sympy() - sp.Float(m)) / sp.Float(s) for e, m, s in
             zip(self.descriptors_, self.descriptor_mean_, self.descriptor_scale_, strict=True)]
        out = [sum((sp.Float(c) * di for c, di in zip(row, d, strict=True)), sp.Float(b))
               for row, b in zip(coef, icpt, strict=True)]
        return out[0] if len(out) == 1 else out

    def latex(self) -> str:
        """LaTeX of the descriptor components ``d_1 = ..., d_2 = ...``."""
        check_is_fitted(self, "descriptors_")
        return ",\\quad ".join(f"d_{{{i + 1}}} = {e.latex()}"
                               for i, e in enumerate(self.descriptors_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags

