"""Fitted SISSO models: linear models of :class:`~sisso_lite.features.Expression` descriptors.

:class:`SissoModel` is one model ``y = c0 + sum_i c_i d_i`` (per task for multi-task SISSO);
:class:`SissoResult` holds the ranked models of every dimension and predicts on its own (the
descriptors are re-evaluated from the primary features by name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sisso_lite._validation import check_finite

if TYPE_CHECKING:  # sympy is imported when a formula is asked for, not at fit time (memory)
    import sympy

__all__ = ["SissoModel", "SissoResult", "linear_model_latex", "linear_model_sympy", "model_table"]


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}g}"


def linear_model_sympy(expressions: Sequence, coefficients, intercept: float = 0.0,
                       digits: int | None = None) -> sympy.Expr:
    """Sympy expression ``intercept + sum_i coefficients[i] * expressions[i].sympy()``.

    ``digits`` rounds the coefficients (significant digits) for display.
    """
    import sympy

    def num(v):
        return sympy.Float(float(v), digits) if digits else sympy.Float(float(v))

    total = num(intercept) if intercept != 0.0 else sympy.Integer(0)
    for expr, coef in zip(expressions, np.ravel(coefficients), strict=True):
        total = total + num(coef) * expr.sympy()
    return total


def linear_model_latex(expressions: Sequence, coefficients, intercept: float = 0.0,
                       digits: int = 4, target: str = "y") -> str:
    """LaTeX string ``y = c_0 + c_1 d_1 + ...`` built from :meth:`Expression.latex`."""
    parts: list[str] = []
    for expr, coef in zip(expressions, np.ravel(coefficients), strict=True):
        sign = "-" if coef < 0 else "+"
        parts.append(f"{sign} {_fmt(abs(coef), digits)} \\left({expr.latex()}\\right)")
    if intercept != 0.0:
        parts.append(f"{'-' if intercept < 0 else '+'} {_fmt(abs(intercept), digits)}")
    body = " ".join(parts) if parts else "0"
    if body.startswith("+ "):
        body = body[2:]
    return f"{target} = {body}"


@dataclass
class SissoModel:
    """One fitted linear model of descriptors.

    Attributes
    ----------
    expressions : tuple of Expression
        The descriptors ``d_1 .. d_n``.
    coefficients : ndarray, shape (n_tasks, n)
    intercept : ndarray, shape (n_tasks,)
    rmse, maxae : float
        Training errors (multi-task: quadratic mean of per-task RMSEs, max over tasks).
    task_rmse, task_maxae : ndarray, shape (n_tasks,)
    """

    expressions: tuple
    coefficients: np.ndarray
    intercept: np.ndarray
    rmse: float
    maxae: float
    task_rmse: np.ndarray = field(repr=False, default=None)
    task_maxae: np.ndarray = field(repr=False, default=None)

    @property
    def dimension(self) -> int:
        """Number of descriptors."""
        return len(self.expressions)

    @property
    def descriptors(self) -> list[str]:
        """Formula strings of the descriptors (Fortran SISSO spelling)."""
        return [str(e) for e in self.expressions]

    @property
    def primary_features(self) -> tuple[str, ...]:
        """Primary features used by the descriptors (sorted)."""
        names: set[str] = set()
        for e in self.expressions:
            names.update(e.primary_features)
        return tuple(sorted(names))

    def descriptor_values(self, X: np.ndarray, names: Sequence[str] | None = None) -> np.ndarray:
        """Descriptor matrix (n_samples, n) from primary features.

        ``X`` is an array whose columns are the primary features ``names`` (or, without
        ``names``, anything :meth:`Expression.evaluate` accepts: DataFrame, mapping, array).
        """
        n = len(X)
        if not self.expressions:
            return np.zeros((n, 0))
        data = X if names is None else {name: X[:, j] for j, name in enumerate(names)}
        return np.column_stack([np.asarray(e.evaluate(data), dtype=np.float64)
                                for e in self.expressions])

    def predict_array(self, X: np.ndarray, task_index: np.ndarray | None = None,
                      names: Sequence[str] | None = None) -> np.ndarray:
        """Predictions from primary features and integer task indices (0 if None)."""
        D = self.descriptor_values(X, names)
        if task_index is None:
            task_index = np.zeros(D.shape[0], dtype=np.int64)
        coef = self.coefficients[task_index]
        return np.einsum("ij,ij->i", D, coef) + self.intercept[task_index]

    def sympy(self, task: int = 0, digits: int | None = None) -> sympy.Expr:
        """Sympy expression of the model for one task."""
        return linear_model_sympy(self.expressions, self.coefficients[task],
                                  float(self.intercept[task]), digits)

    def latex(self, task: int = 0, digits: int = 4, target: str = "y") -> str:
        """LaTeX of the model for one task."""
        return linear_model_latex(self.expressions, self.coefficients[task],
                                  float(self.intercept[task]), digits, target)

    def __str__(self) -> str:
        terms = " ".join(f"{c:+.6g}*{d}" for c, d in zip(self.coefficients[0], self.descriptors,
                                                        strict=True))
        errors = f"(RMSE {self.rmse:.6g}, MaxAE {self.maxae:.6g})"
        return f"y = {self.intercept[0]:.6g} {terms}  {errors}"


@dataclass
class SissoResult:
    """The outcome of :func:`sisso_lite.solvers.driver.run_sisso`.

    Attributes
    ----------
    models : dict int -> list of SissoModel
        Ranked models (best first) for every dimension ``1 .. n_dim``.
    feature_names : list of str
        Primary features in the column order expected by :meth:`Expression.evaluate`.
    fit_intercept : bool
    task_labels : ndarray or None
        Sorted task labels (multi-task); predictions need a label per sample.
    n_features_per_rung : list of int
    selected : dict int -> list of Expression
        The SIS-selected features added at every dimension (best first).
    selected_scores : dict int -> ndarray
    metric : str
    """

    models: dict[int, list[SissoModel]]
    feature_names: list[str]
    fit_intercept: bool = True
    task_labels: np.ndarray | None = None
    n_features_per_rung: list[int] = field(default_factory=list)
    selected: dict[int, list] = field(default_factory=dict)
    selected_scores: dict[int, np.ndarray] = field(default_factory=dict)
    metric: str = "rmse"

    @property
    def n_dim(self) -> int:
        """Largest fitted dimension."""
        return max(self.models)

    def best(self, dim: int | None = None) -> SissoModel:
        """Best model of dimension ``dim`` (default: the largest)."""
        dim = self.n_dim if dim is None else int(dim)
        if dim not in self.models or not self.models[dim]:
            raise ValueError(f"no model of dimension {dim}; fitted: {sorted(self.models)}")
        return self.models[dim][0]

    def primary_array(self, X, needed: Sequence[str] | None = None) -> np.ndarray:
        """Primary-feature array in ``feature_names`` order from a DataFrame or an array.

        Columns missing from a DataFrame are NaN unless they are ``needed`` (then a ValueError
        names them).
        """
        if isinstance(X, pd.DataFrame):
            cols = [str(c) for c in X.columns]
            needed = self.feature_names if needed is None else needed
            missing = [n for n in needed if n not in cols]
            if missing:
                raise ValueError(
                    f"X lacks the primary feature(s) {missing} needed by the model")
            out = np.full((len(X), len(self.feature_names)), np.nan)
            pos = {c: i for i, c in enumerate(cols)}
            for j, name in enumerate(self.feature_names):
                if name in pos:
                    col = X.iloc[:, pos[name]]
                    if not pd.api.types.is_numeric_dtype(col.dtype):
                        raise ValueError(f"non-numeric column {name!r}")
                    out[:, j] = col.to_numpy(dtype=np.float64)
            used = [self.feature_names.index(n) for n in needed]
            check_finite(out[:, used], [self.feature_names[j] for j in used], "X")
            return out
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != len(self.feature_names):
            raise ValueError(
                f"X must have shape (n_samples, {len(self.feature_names)}) with columns "
                f"{self.feature_names}, got {arr.shape}")
        check_finite(arr, self.feature_names, "X")
        return arr

    def task_index(self, tasks, n_samples: int) -> np.ndarray | None:
        """Integer task index per sample from labels (None for single-task results)."""
        if self.task_labels is None:
            return None
        if tasks is None:
            if len(self.task_labels) == 1:
                return np.zeros(n_samples, dtype=np.int64)
            raise ValueError("this is a multi-task model: pass tasks (one label per sample)")
        tasks = np.asarray(tasks)
        if tasks.shape != (n_samples,):
            raise ValueError(f"tasks must have shape ({n_samples},), got {tasks.shape}")
        lookup = {label: i for i, label in enumerate(self.task_labels.tolist())}
        unknown = sorted({t for t in tasks.tolist() if t not in lookup}, key=str)
        if unknown:
            raise ValueError(f"unknown task label(s) {unknown}; known: {list(lookup)}")
        return np.array([lookup[t] for t in tasks.tolist()], dtype=np.int64)

    def predict(self, X, dim: int | None = None, tasks=None) -> np.ndarray:
        """Predict with the best model of dimension ``dim`` (default: the largest)."""
        model = self.best(dim)
        arr = self.primary_array(X, model.primary_features)
        return model.predict_array(arr, self.task_index(tasks, arr.shape[0]),
                                   self.feature_names)

    def model_table(self) -> pd.DataFrame:
        """All kept models: see :func:`model_table`."""
        return model_table(self)


def model_table(result: SissoResult) -> pd.DataFrame:
    """DataFrame with one row per kept model.

    Columns: ``dimension, rank, descriptors`` (list of formula strings), ``coefficients``
    (list; per task a list for multi-task), ``intercept`` (float, per-task list for multi-task),
    ``rmse, maxae``.
    """
    rows = []
    multi = result.task_labels is not None and len(result.task_labels) > 1
    for dim in sorted(result.models):
        for rank, mod in enumerate(result.models[dim], start=1):
            rows.append({
                "dimension": dim,
                "rank": rank,
                "descriptors": mod.descriptors,
                "coefficients": (mod.coefficients.tolist() if multi
                                 else mod.coefficients[0].tolist()),
                "intercept": mod.intercept.tolist() if multi else float(mod.intercept[0]),
                "rmse": mod.rmse,
                "maxae": mod.maxae,
            })
    cols = ["dimension", "rank", "descriptors", "coefficients", "intercept", "rmse", "maxae"]
    return pd.DataFrame(rows, columns=cols)
