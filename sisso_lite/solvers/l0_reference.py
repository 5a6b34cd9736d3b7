"""Reference L0 search: every subset by ``itertools.combinations`` and one ``lstsq`` each.

The plain NumPy counterpart of :func:`sisso_lite.solvers.l0.l0_search` (same parameters,
same models); the tests compare the two.
"""

from __future__ import annotations

import itertools

import numpy as np

from sisso_lite.solvers.l0 import (
    _SINGULAR_TOL,
    L0Model,
    _check_inputs,
    _sort_key,
    _task_index,
    refit_model,
)

__all__ = ["l0_search_numpy"]


def l0_search_numpy(
    features: np.ndarray,
    y: np.ndarray,
    dim: int,
    n_models: int = 10,
    fit_intercept: bool = True,
    metric: str = "rmse",
    *,
    tasks=None,
    task_weighting: int = 1,
) -> list[L0Model]:
    """Reference implementation: ``itertools.combinations`` and one ``lstsq`` per model.

    Same parameters and result as :func:`l0_search`; rank-deficient subsets are skipped.
    """
    X, y, metric = _check_inputs(features, y, dim, n_models, metric, task_weighting)
    tidx = _task_index(tasks, len(y))
    T = int(tidx.max()) + 1
    k = int(dim)
    models = []
    for combo in itertools.combinations(range(X.shape[1]), k):
        singular = False
        for t in range(T):
            A = X[np.ix_(tidx == t, combo)]
            if fit_intercept:
                A = A - A.mean(axis=0)
            norms = np.linalg.norm(A, axis=0)
            if A.shape[0] == 0 or np.any(norms == 0.0):
                singular = True
                break
            sv = np.linalg.svd(A / norms, compute_uv=False)
            if sv[-1] ** 2 <= _SINGULAR_TOL:
                singular = True
                break
        if singular:
            continue
        models.append(
            refit_model(X, y, combo, fit_intercept=fit_intercept, tasks=tidx,
                        task_weighting=task_weighting)
        )
    models.sort(key=lambda mod: _sort_key(mod, metric))
    return models[: int(n_models)]
