"""The SISSO loop: sure independence screening on residuals + exact L0 over the union.

For ``d = 1 .. n_dim``: score the feature space against the residual of the best model of
dimension ``d - 1`` (``d = 1``: ``y - mean(y)``, or ``y`` without intercept; per task for
multi-task SISSO), add the ``n_sis`` best features not selected before (by ``Expression.key``)
to the SIS union, and run the exact L0 search over all ``d``-subsets of the union.

Ouyang et al., Phys. Rev. Materials 2, 083802 (2018); multi-task: Ouyang et al.,
J. Phys. Mater. 2, 024002 (2019).
"""

from __future__ import annotations

import time
from math import comb

import numpy as np

from sisso_lite.models import SissoModel, SissoResult
from sisso_lite.solvers.l0 import l0_search

__all__ = ["run_sisso"]


def _make_scorer(residual: np.ndarray, task_index: np.ndarray | None):
    from sisso_lite.solvers.sis import MultiTaskPearsonScorer, PearsonScorer

    if task_index is None:
        return PearsonScorer(residual)
    return MultiTaskPearsonScorer(residual, task_index)


def _residual(y: np.ndarray, model, values: np.ndarray | None, task_index, fit_intercept):
    """Residual of the best model (``values``: its descriptor columns on the training rows)."""
    if model is None:
        if not fit_intercept:
            return y.copy()
        if task_index is None:
            return y - y.mean()
        res = y.copy()
        for t in np.unique(task_index):
            res[task_index == t] -= y[task_index == t].mean()
        return res
    ti = np.zeros(len(y), dtype=np.int64) if task_index is None else task_index
    pred = np.einsum("ij,ij->i", values, model.coefficients[ti]) + model.intercept[ti]
    return y - pred


def _primary_mask(space, allowed) -> np.ndarray:
    """Boolean mask over ``space.primary_names_`` from names or a boolean array."""
    names = list(space.primary_names_)
    arr = np.asarray(list(allowed) if not isinstance(allowed, np.ndarray) else allowed)
    if arr.dtype == np.bool_:
        if arr.shape != (len(names),):
            raise ValueError(f"allowed_primary mask must have shape ({len(names)},)")
        return arr
    unknown = [str(a) for a in arr if str(a) not in names]
    if unknown:
        raise ValueError(f"allowed_primary names unknown primary feature(s) {unknown}")
    wanted = {str(a) for a in arr}
    return np.array([n in wanted for n in names], dtype=np.bool_)


def run_sisso(
    space,
    y,
    *,
    n_dim: int,
    n_sis: int,
    n_models: int = 10,
    metric: str = "rmse",
    fit_intercept: bool = True,
    rows=None,
    allowed_primary=None,
    tasks=None,
    task_weighting: int = 1,
    verbose: bool = False,
    release_space: bool = False,
) -> SissoResult:
    """Run SISSO on a built :class:`~sisso_lite.features.FeatureSpace`.

    Parameters
    ----------
    space : FeatureSpace
        Already built (``space.build(X, names, units)``).
    y : array-like, shape (n_samples,)
        Target aligned with the samples the space was built on (all of them, also when
        ``rows`` is given).
    n_dim : int
        Largest descriptor dimension.
    n_sis : int
        Features added to the SIS union per dimension.
    n_models : int
        Models kept per dimension.
    metric : {"rmse", "maxae"}
        L0 ranking metric.
    fit_intercept : bool
    rows : array-like of int, optional
        Training rows (may repeat, e.g. a bootstrap sample); passed to ``space.screen``.
    allowed_primary : collection of str or bool array (n_primary,), optional
        Only features built from these primary features are screened (ensembles).
    tasks : array-like, shape (n_samples,), optional
        Task label per sample (multi-task SISSO), aligned like ``y``.
    task_weighting : {1, 2}
        Multi-task error: quadratic mean of task RMSEs (1) or sample-weighted RMSE (2).
    verbose : bool
        Show a tqdm progress bar over the dimensions.
    release_space : bool
        Call ``space.release()`` (free the stored feature values) right after the screening
        of dimension ``n_dim``, so that the last L0 search does not hold them: for callers
        that do not reuse ``space`` (``SissoRegressor.fit``). Results are unchanged.

    Returns
    -------
    SissoResult
        With an extra attribute ``timings`` (dict of dicts keyed by dimension): wall seconds
        ``"sis"`` and ``"l0"`` (``time.perf_counter``), CPU seconds of all threads
        ``"sis_cpu"`` and ``"l0_cpu"`` (``time.process_time``), ``"n_features_scored"`` (size
        of the space, ``n_features_per_rung[-1]``; the last rung is only counted by an
        unrestricted screen) and ``"n_l0_models"`` (``C(len(union), d)``). Feature
        construction (``space.build``) happens before this function and is not included.
    """
    y_all = np.asarray(y, dtype=np.float64).ravel()
    rows_arr = None if rows is None else np.asarray(rows, dtype=np.int64).ravel()
    y_fit = y_all if rows_arr is None else y_all[rows_arr]
    labels = None
    task_index = None
    if tasks is not None:
        t_all = np.asarray(tasks)
        if t_all.shape[0] != y_all.shape[0]:
            raise ValueError(f"tasks has {t_all.shape[0]} labels but y has {y_all.shape[0]}")
        labels, inverse = np.unique(t_all, return_inverse=True)
        inverse = inverse.ravel().astype(np.int64)
        task_index = inverse if rows_arr is None else inverse[rows_arr]
        # labels that do not occur in the training rows get no coefficients
        present = np.unique(task_index)
        labels = labels[present]
        task_index = np.searchsorted(present, task_index)

    screen_kw = {}
    if rows_arr is not None:
        screen_kw["rows"] = rows_arr
    if allowed_primary is not None:
        screen_kw["allowed_primary"] = _primary_mask(space, allowed_primary)

    union_expr: list = []
    union_vals: list[np.ndarray] = []
    exclude: set[str] = set()
    models: dict[int, list[SissoModel]] = {}
    selected: dict[int, list] = {}
    scores: dict[int, np.ndarray] = {}
    best = None
    best_vals = None
    timings: dict[str, dict[int, float | int]] = {
        "sis": {}, "l0": {}, "sis_cpu": {}, "l0_cpu": {}, "n_features_scored": {},
        "n_l0_models": {}}
    dims = range(1, int(n_dim) + 1)
    if verbose:
        from tqdm.auto import tqdm

        dims = tqdm(dims, desc="SISSO", unit="dim")
    for d in dims:
        residual = _residual(y_fit, best, best_vals, task_index, fit_intercept)
        scorer = _make_scorer(residual, task_index)
        t0, c0 = time.perf_counter(), time.process_time()
        new = space.screen(scorer, n_sis=int(n_sis), exclude=exclude, **screen_kw)
        timings["sis"][d] = time.perf_counter() - t0
        timings["sis_cpu"][d] = time.process_time() - c0
        if release_space and d == int(n_dim):
            space.release()  # the last screen is done: only the union's values are needed
        sizes = getattr(space, "n_features_per_rung_", None)
        timings["n_features_scored"][d] = int(sizes[-1]) if sizes else 0
        selected[d] = [f.expression for f in new]
        scores[d] = np.array([f.score for f in new], dtype=np.float64)
        for f in new:
            exclude.add(f.expression.key)
            union_expr.append(f.expression)
            union_vals.append(np.asarray(f.values, dtype=np.float64))
        if len(union_expr) < d:
            break
        F = np.column_stack(union_vals)
        if F.shape[0] != y_fit.shape[0]:
            raise RuntimeError(
                f"screened feature values have {F.shape[0]} rows, expected {y_fit.shape[0]}")
        t0, c0 = time.perf_counter(), time.process_time()
        found = l0_search(
            F, y_fit, d, n_models=int(n_models), fit_intercept=fit_intercept, metric=metric,
            tasks=task_index, task_weighting=task_weighting,
        )
        timings["l0"][d] = time.perf_counter() - t0
        timings["l0_cpu"][d] = time.process_time() - c0
        timings["n_l0_models"][d] = comb(F.shape[1], d)
        if not found:
            break
        models[d] = [
            SissoModel(
                expressions=tuple(union_expr[i] for i in mod.indices),
                coefficients=mod.coefficients,
                intercept=mod.intercept,
                rmse=mod.rmse,
                maxae=mod.maxae,
                task_rmse=mod.task_rmse,
                task_maxae=mod.task_maxae,
            )
            for mod in found
        ]
        best = models[d][0]
        best_vals = F[:, list(found[0].indices)]
        if verbose and hasattr(dims, "set_postfix"):
            dims.set_postfix(rmse=f"{best.rmse:.4g}")
    if not models:
        raise ValueError("SISSO found no model: the feature space is empty or degenerate")
    result = SissoResult(
        models=models,
        feature_names=list(space.primary_names_),
        fit_intercept=fit_intercept,
        task_labels=labels,
        n_features_per_rung=list(getattr(space, "n_features_per_rung_", [])),
        selected=selected,
        selected_scores=scores,
        metric=metric,
    )
    result.timings = timings
    return result
