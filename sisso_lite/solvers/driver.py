"""The SISSO loop: sure independence screening + exact L0 over the growing SIS union.

:func:`sisso_loop` is the one loop every SISSO estimator runs. For ``d = 1 .. n_dim`` it asks
a :class:`SissoStrategy` for the ``n_sis`` best features not selected before (by
``Expression.key``), adds them to the SIS union, asks the strategy for the exact L0 search
over all ``d``-subsets of the union, and lets the strategy update what the next screen
scores against. A strategy owns what differs between the tasks: regression screens the
residual of the best model of dimension ``d - 1`` (``d = 1``: ``y - mean(y)``, or ``y``
without intercept; per task for multi-task SISSO) and ranks by RMSE / MaxAE
(:class:`RegressionStrategy`, :func:`run_sisso`); classification screens the samples the
best model leaves unresolved and ranks by domain overlap or accuracy
(:class:`sisso_lite.estimators.classification_strategy.ClassificationStrategy`).

Ouyang et al., Phys. Rev. Materials 2, 083802 (2018); multi-task: Ouyang et al.,
J. Phys. Mater. 2, 024002 (2019).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from math import comb
from typing import Any, Protocol

import numpy as np

from sisso_lite.models import SissoModel, SissoResult
from sisso_lite.solvers.l0 import l0_search

__all__ = ["LoopResult", "RegressionStrategy", "SissoStrategy", "run_sisso", "sisso_loop"]


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



class SissoStrategy(Protocol):
    """What a SISSO task supplies to :func:`sisso_loop`.

    The loop calls, per dimension ``d``: :meth:`screen`, then (if the union holds at least
    ``d`` features) :meth:`l0`, then (if it found models) :meth:`advance` with the best
    one. The strategy keeps its own state between the calls (the residual, the unresolved
    samples).
    """

    def screen(self, space, n_sis: int, exclude: set[str]) -> list:
        """The ``n_sis`` best features of ``space`` not in ``exclude`` (``ScreenedFeature``)."""

    def l0(self, F: np.ndarray, d: int) -> list:
        """Ranked L0 models of dimension ``d`` over the union columns ``F`` (best first)."""

    def columns(self, model) -> Sequence[int]:
        """Union columns of an L0 model."""

    def advance(self, F: np.ndarray, model, d: int) -> bool:
        """Take the best model of dimension ``d``; False stops the loop after ``d``."""

    def describe(self, model) -> dict[str, str]:
        """Progress-bar postfix of the best model."""


@dataclass
class LoopResult:
    """What :func:`sisso_loop` found.

    Attributes
    ----------
    union : list of Expression
        The SIS union in selection order (union column ``j`` is ``union[j]``).
    models : dict int -> list
        The strategy's ranked L0 models per dimension.
    selected, selected_scores : dict int -> list of Expression / ndarray
        Features each SIS added, and their scores.
    timings : dict
        Wall / CPU seconds of SIS and L0 per dimension, features scored, L0 models visited.
    """

    union: list = field(default_factory=list)
    models: dict[int, list] = field(default_factory=dict)
    selected: dict[int, list] = field(default_factory=dict)
    selected_scores: dict[int, np.ndarray] = field(default_factory=dict)
    timings: dict[str, dict[int, float | int]] = field(default_factory=lambda: {
        "sis": {}, "l0": {}, "sis_cpu": {}, "l0_cpu": {}, "n_features_scored": {},
        "n_l0_models": {}})


def sisso_loop(space, strategy: SissoStrategy, *, n_dim: int, n_sis: int,
               verbose: bool = False, release_space: bool = False,
               desc: str = "SISSO") -> LoopResult:
    """Run SIS + L0 for ``d = 1 .. n_dim`` on a built feature space (see the module doc).

    Parameters
    ----------
    space : FeatureSpace
        Already built.
    strategy : SissoStrategy
    n_dim, n_sis : int
    verbose : bool
        A tqdm progress bar over the dimensions, and (inner bars, removed when done) over
        the last-rung screen when it runs in several steps
        (:func:`sisso_lite.features.screening.screen_progress`). From ``d >= 3`` the
        dimension bar names the L0 search that runs; ``RegressionStrategy(progress=True)``
        (as :func:`run_sisso` passes it) adds a bar over that search. Results do not
        depend on it.
    release_space : bool
        ``space.release()`` right after the last screen (the last L0 then does not hold the
        feature values): for callers that do not reuse ``space``.
    desc : str
        Label of the progress bar.
    """
    out = LoopResult()
    union_vals: list[np.ndarray] = []
    exclude: set[str] = set()
    timings = out.timings
    dims: Any = range(1, int(n_dim) + 1)
    if verbose:
        from tqdm.auto import tqdm

        dims = tqdm(dims, desc=desc, unit="dim")
    for d in dims:
        t0, c0 = time.perf_counter(), time.process_time()
        with _screen_progress(verbose):
            new = strategy.screen(space, int(n_sis), exclude)
        timings["sis"][d] = time.perf_counter() - t0
        timings["sis_cpu"][d] = time.process_time() - c0
        if release_space and d == int(n_dim):
            space.release()  # the last screen is done: only the union's values are needed
        sizes = getattr(space, "n_features_per_rung_", None)
        timings["n_features_scored"][d] = int(sizes[-1]) if sizes else 0
        out.selected[d] = [f.expression for f in new]
        out.selected_scores[d] = np.array([f.score for f in new], dtype=np.float64)
        for f in new:
            exclude.add(f.expression.key)
            out.union.append(f.expression)
            union_vals.append(np.asarray(f.values, dtype=np.float64))
        if len(out.union) < d:
            break
        F = np.column_stack(union_vals)
        if verbose and d >= L0_PROGRESS_MIN_DIM and hasattr(dims, "set_postfix_str"):
            dims.set_postfix_str(f"L0 over C({F.shape[1]}, {d}) = {comb(F.shape[1], d):,} "
                                 "models")
        t0, c0 = time.perf_counter(), time.process_time()
        found = strategy.l0(F, d)
        timings["l0"][d] = time.perf_counter() - t0
        timings["l0_cpu"][d] = time.process_time() - c0
        timings["n_l0_models"][d] = comb(F.shape[1], d)
        if not found:
            break
        out.models[d] = list(found)
        go_on = strategy.advance(F, found[0], d)
        if verbose and hasattr(dims, "set_postfix"):
            dims.set_postfix(strategy.describe(found[0]))
        if not go_on:
            break
    return out


#: the L0 search shows its own progress bar (``verbose``) from this dimension on
L0_PROGRESS_MIN_DIM = 3


def _screen_progress(verbose: bool):
    """The last-rung screen bar (:func:`~sisso_lite.features.screening.screen_progress`)."""
    if not verbose:
        return nullcontext()
    from sisso_lite.features.screening import screen_progress

    return screen_progress(True)


class RegressionStrategy:
    """SISSO regression: SIS on the residual, L0 by RMSE / MaxAE (single or multi-task).

    Parameters
    ----------
    y : ndarray (n_rows,)
        Target on the training rows (after ``rows`` is applied).
    task_index : int ndarray (n_rows,) or None
        Task of each training row (0 .. n_tasks - 1).
    fit_intercept : bool
    metric : {"rmse", "maxae"}
    n_models : int
    task_weighting : {1, 2}
    screen_kw : dict
        ``rows`` / ``allowed_primary`` for :meth:`FeatureSpace.screen`.
    progress : bool
        A tqdm bar over the L0 search of dimensions ``d >= 3`` (``l0_search(progress=)``).
    """

    def __init__(self, y: np.ndarray, task_index, *, fit_intercept: bool, metric: str,
                 n_models: int, task_weighting: int, screen_kw: dict | None = None,
                 progress: bool = False) -> None:
        self.y = y
        self.task_index = task_index
        self.fit_intercept = fit_intercept
        self.metric = metric
        self.n_models = int(n_models)
        self.task_weighting = task_weighting
        self.screen_kw = screen_kw or {}
        self.progress = bool(progress)
        self.best = None
        self.best_values = None

    def screen(self, space, n_sis: int, exclude: set[str]) -> list:
        residual = _residual(self.y, self.best, self.best_values, self.task_index,
                             self.fit_intercept)
        return space.screen(_make_scorer(residual, self.task_index), n_sis=n_sis,
                            exclude=exclude, **self.screen_kw)

    def l0(self, F: np.ndarray, d: int) -> list:
        if F.shape[0] != self.y.shape[0]:
            raise RuntimeError(
                f"screened feature values have {F.shape[0]} rows, expected {self.y.shape[0]}")
        return l0_search(F, self.y, d, n_models=self.n_models,
                         fit_intercept=self.fit_intercept, metric=self.metric,
                         tasks=self.task_index, task_weighting=self.task_weighting,
                         progress=self.progress and d >= L0_PROGRESS_MIN_DIM)

    def columns(self, model) -> Sequence[int]:
        return model.indices

    def advance(self, F: np.ndarray, model, d: int) -> bool:
        self.best = model
        self.best_values = F[:, list(model.indices)]
        return True

    def describe(self, model) -> dict[str, str]:
        return {"rmse": f"{model.rmse:.4g}"}


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
        Show a tqdm progress bar over the dimensions, with inner bars over the last-rung
        screen (when it runs in several steps) and the L0 search of ``d >= 3``.
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

    strategy = RegressionStrategy(y_fit, task_index, fit_intercept=fit_intercept,
                                  metric=metric, n_models=n_models,
                                  task_weighting=task_weighting, screen_kw=screen_kw,
                                  progress=bool(verbose))
    loop = sisso_loop(space, strategy, n_dim=n_dim, n_sis=n_sis, verbose=verbose,
                      release_space=release_space)
    union_expr = loop.union
    models = {
        d: [SissoModel(expressions=tuple(union_expr[i] for i in mod.indices),
                       coefficients=mod.coefficients, intercept=mod.intercept,
                       rmse=mod.rmse, maxae=mod.maxae, task_rmse=mod.task_rmse,
                       task_maxae=mod.task_maxae)
            for mod in found]
        for d, found in loop.models.items()}
    selected, scores, timings = loop.selected, loop.selected_scores, loop.timings
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
