"""``SissoClassifier``: SISSO for classification (domain overlap or accuracy).

Ouyang et al., Phys. Rev. Mater. 2, 083802 (2018) (domain-overlap SISSO, Fortran SISSO
``ptype=2``); accuracy-based screening in the spirit of Inorg. Chem. 62, 10865 (2023).
See ``docs/sisso_classification.md``.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from sisso_lite.solvers.classification import (
    OverlapScorer,
    StumpScorer,
    l0_accuracy,
    l0_overlap,
    overlap_flags,
    sample_weights,
    stump_accuracy_block,
)

DEFAULT_OPERATORS = ("+", "-", "*", "/", "exp", "^-1", "^2", "sqrt", "log", "|-|")


def _check_hashable_labels(y: Any) -> None:
    arr = y if isinstance(y, np.ndarray) else None
    if arr is None:
        try:
            arr = np.asarray(y, dtype=object)
        except ValueError:  # ragged nested sequences
            arr = np.empty(len(y), dtype=object)
            arr[:] = list(y)
    if arr.dtype == object and arr.ndim == 1:
        for v in arr:
            if not isinstance(v, Hashable):
                raise ValueError(
                    f"class labels must be hashable scalars (str, int, ...); got {type(v)}")


class SissoClassifier(ClassifierMixin, BaseEstimator):
    """SISSO classifier (scikit-learn API).

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
    units : sequence of str or None, optional
        Unit of every input column (None: dimensionless).
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
        feature-space rules.
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
        if not (isinstance(self.n_dim, int | np.integer) and self.n_dim >= 1):
            raise ValueError(f"n_dim must be a positive integer, got {self.n_dim!r}")
        if self.scoring == "overlap" and self.n_dim > 3:
            raise ValueError("scoring='overlap' supports n_dim <= 3 (convex hulls up to 3D)")
        if not (isinstance(self.n_sis, int | np.integer) and self.n_sis >= 1):
            raise ValueError(f"n_sis must be a positive integer, got {self.n_sis!r}")
        if self.bwidth < 0:
            raise ValueError("bwidth must be >= 0")

    def _build_space(self, X: NDArray, names: list[str]):
        from sisso_lite.features import FeatureSpace

        units = list(self.units) if self.units is not None else [None] * X.shape[1]
        if len(units) != X.shape[1]:
            raise ValueError(f"units has {len(units)} entries, X has {X.shape[1]} columns")
        space = FeatureSpace(
            operators=tuple(self.operators), max_complexity=self.max_complexity,
            max_abs_value=self.max_abs_value, min_abs_value=self.min_abs_value,
            fortran_compatible=self.fortran_compatible)
        space.build(X, names, units)
        return space

    def fit(self, X: ArrayLike, y: ArrayLike) -> SissoClassifier:
        """Run SIS + L0 for dimensions 1..n_dim and fit the final linear model."""
        self._validate_params_fit()
        if y is not None:
            _check_hashable_labels(y)
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        codes = codes.astype(np.int64)
        k = len(self.classes_)
        if k < 2:
            raise ValueError(
                f"SissoClassifier needs samples of at least two classes; y has only one "
                f"class ({self.classes_[0]!r})")
        counts = np.bincount(codes, minlength=k)
        if counts.min() < 2:
            small = [self.classes_[i] for i in np.flatnonzero(counts < 2)]
            raise ValueError(f"every class needs at least 2 samples; classes {small!r} have 1")
        if self.feature_names is not None:
            names = [str(n) for n in self.feature_names]
        elif hasattr(self, "feature_names_in_"):
            names = [str(n) for n in self.feature_names_in_]
        else:
            names = [f"x{i}" for i in range(X.shape[1])]
        space = self._build_space(X, names)
        self._run(space, codes, k)
        self._fit_final(X, codes, k)
        return self

    def _screen(self, space, codes, k, active, exclude):
        if self.scoring == "overlap":
            scorer = OverlapScorer(codes, k, active, self.bwidth,
                                   standardize=not self.fortran_compatible)
        else:
            # >= the candidates the screen keeps before its duplicate removal
            keep = (self.n_keep if self.n_keep is not None
                    else 8 * self.n_sis + len(exclude) + 64)
            scorer = StumpScorer(codes, k, active, self.balanced, n_keep=keep or None)
        t0 = time.perf_counter()
        out = space.screen(scorer, n_sis=int(self.n_sis), exclude=exclude)
        self.screen_stats_.append({
            "seconds": time.perf_counter() - t0,
            "n_scored": getattr(scorer, "n_scored", None),
            "n_pruned": getattr(scorer, "n_pruned", None)})
        return out

    def _run(self, space, codes: NDArray, k: int) -> None:
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
        scale = None
        for d in range(1, int(self.n_dim) + 1):
            new = self._screen(space, codes, k, active, exclude)
            self.sis_selected_[d] = [(str(f.expression), float(f.score)) for f in new]
            for f in new:
                exclude.add(f.expression.key)
                exprs.append(f.expression)
                vals.append(np.asarray(f.values, dtype=np.float64))
            if len(exprs) < d:
                break
            F = np.column_stack(vals)
            if self.scoring == "overlap":
                scale = None if self.fortran_compatible else _safe_std(F)
                width = self.bwidth
                found = l0_overlap(F, codes, k, d, int(self.n_models), width,
                                   self.fortran_compatible, scale)
            else:
                found = l0_accuracy(F, codes, k, d, int(self.n_models), self.balanced, self.C)
            self.models_[d] = [
                {"descriptor": [str(exprs[j]) for j in m.columns], "n_overlap": m.count,
                 "size_overlap": m.size, "accuracy": m.accuracy} for m in found]
            best_cols = found[0].columns
            self.descriptors_by_dim_[d] = [exprs[j] for j in best_cols]
            D = F[:, list(best_cols)]
            active = self._unresolved(D, codes, k, scale, best_cols)
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

    def _unresolved(self, D, codes, k, scale, cols) -> NDArray:
        """Samples the best model leaves unresolved (they drive the next SIS)."""
        if self.scoring == "overlap":
            Z = D if scale is None else D / scale[list(cols)]
            return overlap_flags(Z, codes, k, self.bwidth, self.fortran_compatible)[2]
        rule = self._fit_rule(D, codes, k)
        return rule(D) != codes

    def _fit_rule(self, D: NDArray, codes: NDArray, k: int):
        """Standardise D, fit the decision rule; returns a function D -> codes."""
        self._mean = D.mean(0)
        self._std = _safe_std(D)
        Z = (D - self._mean) / self._std
        if self.linear_model == "logistic":
            from sklearn.linear_model import LogisticRegression

            lr = LogisticRegression(C=self.C, max_iter=5000).fit(Z, codes)
            coef, icpt = lr.coef_, lr.intercept_
        elif self.scoring == "accuracy" and Z.shape[1] == 1 and k == 2:
            w = sample_weights(codes, k, np.ones(len(codes), bool), self.balanced)
            _, thr = stump_accuracy_block(np.ascontiguousarray(Z.T), codes, k, w)
            left = Z[:, 0] < thr[0]
            maj_left = np.argmax(np.bincount(codes[left], w[left], minlength=2)) if left.any() \
                else 1
            sign = -1.0 if maj_left == 1 else 1.0
            t = thr[0] if np.isfinite(thr[0]) else Z[:, 0].min() - 1.0
            coef, icpt = np.array([[sign]]), np.array([-sign * t])
        else:
            from sklearn.svm import LinearSVC

            svm = LinearSVC(C=self.C, class_weight="balanced" if self.balanced else None,
                            max_iter=20000).fit(Z, codes)
            coef, icpt = svm.coef_, svm.intercept_
        self.coef_ = np.atleast_2d(coef).astype(float)
        self.intercept_ = np.atleast_1d(icpt).astype(float)
        return lambda Dn: self._codes_from_decision(self._decision_std(
            (Dn - self._mean) / self._std))

    def _fit_final(self, X: NDArray, codes: NDArray, k: int) -> None:
        D = self._descriptor_values(X)
        self._fit_rule(D, codes, k)
        self.descriptor_mean_ = self._mean
        self.descriptor_scale_ = self._std
        self.temperature_ = 1.0
        if self.linear_model == "svm":
            dec = self._decision_std((D - self._mean) / self._std)

            def nll(logt: float) -> float:
                return -np.mean(_log_proba(dec, np.exp(logt))[np.arange(len(codes)), codes])

            res = minimize_scalar(nll, bounds=(-8.0, 8.0), method="bounded")
            self.temperature_ = float(np.exp(res.x))

    # --------------------------------------------------------------- prediction
    def _descriptor_values(self, X: NDArray) -> NDArray:
        cols = []
        for e in self.descriptors_:
            with np.errstate(all="ignore"):
                cols.append(np.asarray(e.evaluate(X), dtype=np.float64))
        return np.column_stack(cols)

    def _decision_std(self, Z: NDArray) -> NDArray:
        Z = np.where(np.isfinite(Z), Z, 0.0)
        dec = Z @ self.coef_.T + self.intercept_
        return dec.ravel() if dec.shape[1] == 1 else dec

    def _codes_from_decision(self, dec: NDArray) -> NDArray:
        return (dec > 0).astype(np.int64) if dec.ndim == 1 else np.argmax(dec, axis=1)

    def decision_function(self, X: ArrayLike) -> NDArray:
        """Linear decision values (binary: > 0 means ``classes_[1]``)."""
        check_is_fitted(self, "descriptors_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        D = self._descriptor_values(X)
        return self._decision_std((D - self.descriptor_mean_) / self.descriptor_scale_)

    def predict(self, X: ArrayLike) -> NDArray:
        """Predicted class labels."""
        codes = self._codes_from_decision(self.decision_function(X))
        return self.classes_[codes]

    def predict_proba(self, X: ArrayLike) -> NDArray:
        """Class probabilities (logistic model, or temperature-scaled SVM decision)."""
        dec = self.decision_function(X)
        return np.exp(_log_proba(dec, self.temperature_))

    def descriptor_values(self, X: ArrayLike) -> NDArray:
        """Values of the descriptor (n_samples, n_dim_)."""
        check_is_fitted(self, "descriptors_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._descriptor_values(X)

    # -------------------------------------------------------------- expressions
    def sympy(self) -> Any:
        """Decision function as a SymPy expression of the primary features (binary), or a
        list with one expression per class (multi-class)."""
        import sympy as sp

        check_is_fitted(self, "descriptors_")
        d = [(e.sympy() - sp.Float(m)) / sp.Float(s) for e, m, s in
             zip(self.descriptors_, self.descriptor_mean_, self.descriptor_scale_, strict=True)]
        out = [sum((sp.Float(c) * di for c, di in zip(row, d, strict=True)), sp.Float(b))
               for row, b in zip(self.coef_, self.intercept_, strict=True)]
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


def _safe_std(F: NDArray) -> NDArray:
    s = F.std(axis=0)
    return np.where(s > 0, s, 1.0)


def _log_proba(dec: NDArray, temperature: float) -> NDArray:
    """log sigmoid / log softmax of ``temperature * dec`` (argmax-consistent with dec)."""
    if dec.ndim == 1:
        z = temperature * dec
        return np.column_stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)])
    z = temperature * dec
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))
