"""The final decision rule of :class:`~sisso_lite.estimators.classifier.SissoClassifier`.

Once SIS + L0 have chosen the descriptor, a linear rule on the standardised descriptor
``Z`` decides the class: ``LinearSVC`` (an exact decision stump for 1D binary problems with
``scoring="accuracy"``) or ``LogisticRegression``; multi-task models fit one rule per task.
Probabilities are the log sigmoid / log softmax of the decision values times a fitted
temperature (:func:`log_proba`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sisso_lite.solvers.classification import sample_weights, stump_accuracy_block

__all__ = ["StandardizedRule", "codes_from_decision", "fit_rule_codes", "fit_standardized_rule",
           "linear_rule", "log_proba", "safe_std", "task_linear_rule"]


def linear_rule(Z: NDArray, codes: NDArray, k: int, *, linear_model: str, scoring: str,
                C: float, balanced: bool) -> tuple[NDArray, NDArray]:
    """Coefficients and intercepts of the decision rule on the standardised ``Z``."""
    if linear_model == "logistic":
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=C, max_iter=5000).fit(Z, codes)
        coef, icpt = lr.coef_, lr.intercept_
    elif scoring == "accuracy" and Z.shape[1] == 1 and k == 2:
        w = sample_weights(codes, k, np.ones(len(codes), bool), balanced)
        _, thr = stump_accuracy_block(np.ascontiguousarray(Z.T), codes, k, w)
        left = Z[:, 0] < thr[0]
        maj_left = np.argmax(np.bincount(codes[left], w[left], minlength=2)) if left.any() \
            else 1
        sign = -1.0 if maj_left == 1 else 1.0
        t = thr[0] if np.isfinite(thr[0]) else Z[:, 0].min() - 1.0
        coef, icpt = np.array([[sign]]), np.array([-sign * t])
    else:
        from sklearn.svm import LinearSVC

        svm = LinearSVC(C=C, class_weight="balanced" if balanced else None,
                        max_iter=20000).fit(Z, codes)
        coef, icpt = svm.coef_, svm.intercept_
    return np.atleast_2d(coef).astype(float), np.atleast_1d(icpt).astype(float)


def task_linear_rule(Z: NDArray, codes: NDArray, k: int, **params) -> tuple[NDArray, NDArray]:
    """Linear rule of one task, embedded into the global classes: a class absent from
    the task gets the intercept -inf (probability 0); a two-class task with three or
    more global classes gets the rows -w/2, +w/2 (softmax = sigmoid of its decision).

    ``params`` are the keyword arguments of :func:`linear_rule`.
    """
    present, local = np.unique(codes, return_inverse=True)
    coef, icpt = linear_rule(Z, local.ravel(), len(present), **params)
    if k == 2:
        return coef, icpt
    full_c = np.zeros((k, Z.shape[1]))
    full_b = np.full(k, -np.inf)
    if len(present) == 2:
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        icpt = np.array([-icpt[0] / 2, icpt[0] / 2])
    full_c[present] = coef
    full_b[present] = icpt
    return full_c, full_b


def safe_std(F: NDArray) -> NDArray:
    """Column standard deviations, 1.0 where a column is constant."""
    s = F.std(axis=0)
    return np.where(s > 0, s, 1.0)


def log_proba(dec: NDArray, temperature: float) -> NDArray:
    """log sigmoid / log softmax of ``temperature * dec`` (argmax-consistent with dec)."""
    if dec.ndim == 1:
        z = temperature * dec
        return np.column_stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)])
    z = temperature * dec
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class StandardizedRule:
    """A linear decision rule on the standardised descriptor ``Z = (D - mean) / scale``.

    ``coef`` / ``intercept``: ``(n_out, n_dim)`` / ``(n_out,)``, or per task
    ``(n_tasks, n_out, n_dim)`` / ``(n_tasks, n_out)``.
    """

    coef: NDArray
    intercept: NDArray
    mean: NDArray
    scale: NDArray

    def decision(self, D: NDArray, task_index: NDArray | None = None) -> NDArray:
        """Decision values of descriptor values ``D`` (binary: 1D, else one per class)."""
        return decision_values((D - self.mean) / self.scale, self.coef, self.intercept,
                               task_index)


def decision_values(Z: NDArray, coef: NDArray, intercept: NDArray,
                    task_index: NDArray | None = None) -> NDArray:
    """Linear decision values of standardised descriptors (non-finite entries count 0)."""
    Z = np.where(np.isfinite(Z), Z, 0.0)
    if task_index is None:
        dec = Z @ coef.T + intercept
    else:
        dec = np.empty((Z.shape[0], coef.shape[1]))
        for t in np.unique(task_index):
            rows = task_index == t
            dec[rows] = Z[rows] @ coef[t].T + intercept[t]
    return dec.ravel() if dec.shape[1] == 1 else dec


def codes_from_decision(dec: NDArray) -> NDArray:
    """Class indices of decision values (binary: ``dec > 0`` is class 1)."""
    return (dec > 0).astype(np.int64) if dec.ndim == 1 else np.argmax(dec, axis=1)


def fit_standardized_rule(D: NDArray, codes: NDArray, k: int, task_index: NDArray | None,
                          params: dict) -> StandardizedRule:
    """Standardise ``D`` and fit :func:`linear_rule` (per task with ``task_index``)."""
    mean = D.mean(0)
    scale = safe_std(D)
    Z = (D - mean) / scale
    if task_index is None:
        coef, intercept = linear_rule(Z, codes, k, **params)
    else:
        fits = [task_linear_rule(Z[task_index == t], codes[task_index == t], k, **params)
                for t in range(int(task_index.max()) + 1)]
        coef = np.stack([c for c, _ in fits])
        intercept = np.stack([b for _, b in fits])
    return StandardizedRule(coef=coef, intercept=intercept, mean=mean, scale=scale)


def fit_rule_codes(D: NDArray, codes: NDArray, k: int, task_index: NDArray | None,
                   params: dict) -> NDArray:
    """Class indices that the rule fitted on ``D`` gives ``D`` itself."""
    rule = fit_standardized_rule(D, codes, k, task_index, params)
    return codes_from_decision(rule.decision(D, task_index))
