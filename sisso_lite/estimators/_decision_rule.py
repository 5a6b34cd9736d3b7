"""The final decision rule of :class:`~sisso_lite.estimators.classifier.SissoClassifier`.

Once SIS + L0 have chosen the descriptor, a linear rule on the standardised descriptor
``Z`` decides the class: ``LinearSVC`` (an exact decision stump for 1D binary problems with
``scoring="accuracy"``) or ``LogisticRegression``; multi-task models fit one rule per task.
Probabilities are the log sigmoid / log softmax of the decision values times a fitted
temperature (:func:`log_proba`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sisso_lite.solvers.classification import sample_weights, stump_accuracy_block

__all__ = ["linear_rule", "log_proba", "safe_std", "task_linear_rule"]


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
