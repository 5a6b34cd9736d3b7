"""What a Fortran-style SISSO run needs from io: estimator parameters and the report.

:func:`estimator_params` turns a SISSO input (``SISSO.in`` + ``train.dat``) into the keyword
arguments of an estimator class; :func:`build_report` collects from the fitted estimator
what the Fortran output files show. The run itself (choose the estimator, fit, write) is
:func:`sisso_lite.estimators.sisso_dir.run_sisso_dir`:

>>> from sisso_lite.estimators.sisso_dir import run_sisso_dir     # doctest: +SKIP
>>> model, report = run_sisso_dir("tests/data/sisso_reference/octet14_r2_d3")

writes ``SISSO.out``, ``Models/`` and ``SIS_subspaces/Uspace.expressions`` into the folder,
in the layout of Fortran SISSO v3.5 (see :mod:`sisso_lite.io.sisso_out`).
"""

from __future__ import annotations

import inspect

import numpy as np

import sisso_lite
from sisso_lite._compat import forward_moved
from sisso_lite.io.errors import SissoInputError
from sisso_lite.io.sisso_out import DimensionReport, ModelRow, RunReport
from sisso_lite.io.train_dat import SissoProblem

__all__ = ["build_report", "estimator_params"]


def estimator_params(problem: SissoProblem, cls: type, verbose: bool = False,
                     n_jobs: int | None = None) -> dict:
    """Keyword arguments of ``cls`` configured from a SISSO input (``fortran_compatible=True``).

    ``cls`` is the estimator class for the input (``SissoClassifier`` when
    ``problem.config.is_classification``, else ``SissoRegressor``). Settings the estimator
    does not accept raise :class:`SissoInputError` when they would change the result
    (``task_weighting=2``, per-dimension ``nf_sis``) and are dropped otherwise
    (``isconvex``/``bwidth`` with their default values).
    """
    c = problem.config
    params = c.estimator_params()
    params.update(verbose=verbose, n_jobs=n_jobs)
    accepted = set(inspect.signature(cls.__init__).parameters)
    for key in list(params):
        if key in accepted:
            continue
        value = params.pop(key)
        harmless = {"task_weighting": 1, "bwidth": 0.001}
        if key == "isconvex" and all(v == 1 for g in value for v in g):
            continue
        if key in harmless and value == harmless[key]:
            continue
        kw = {"n_sis": "nf_sis", "isconvex": "isconvex"}.get(key, key)
        raise SissoInputError(f"{kw}={value} is not supported by {cls.__name__}",
                              c.path, c.lines.get(kw), kw)
    if isinstance(params.get("n_sis"), list):
        raise SissoInputError("different nf_sis per dimension are not supported; give one value",
                              c.path, c.lines.get("nf_sis"), "nf_sis")
    return params


def _task_index(problem: SissoProblem) -> np.ndarray | None:
    return None if problem.tasks is None else (problem.tasks - 1).astype(np.int64)


def build_report(model, problem: SissoProblem, seconds: float = 0.0) -> RunReport:
    """Collect what the Fortran output files show from a fitted estimator."""
    report = RunReport(config=problem.config, y=np.asarray(problem.y), tasks=problem.tasks,
                       total_seconds=seconds, version=sisso_lite.__version__)
    if problem.config.is_classification:
        _classification_report(model, problem, report)
    else:
        _regression_report(model, problem, report)
    return report


def _regression_report(model, problem: SissoProblem, report: RunReport) -> None:
    result = model.result_
    ids: dict[str, int] = {}
    for d in sorted(result.selected):
        exprs = result.selected[d]
        scores = np.asarray(result.selected_scores.get(d, np.full(len(exprs), np.nan)))
        for expr, score in zip(exprs, scores, strict=False):
            if expr.key not in ids:
                ids[expr.key] = len(ids) + 1
                report.uspace.append((str(expr), float(score)))
    X = problem.X[list(result.feature_names)].to_numpy(dtype=np.float64)
    ti = _task_index(problem)
    sizes = list(getattr(model, "feature_space_size_", result.n_features_per_rung))
    for d in sorted(result.models):
        if not result.models[d]:
            continue
        rows = []
        for m in result.models[d]:
            fid = [ids[e.key] for e in m.expressions]
            order = np.argsort(fid, kind="stable")
            coef = np.atleast_2d(np.asarray(m.coefficients, dtype=float))[:, order]
            rows.append(ModelRow([fid[i] for i in order], rmse=float(m.rmse),
                                 maxae=float(m.maxae), coef=coef,
                                 intercept=np.atleast_1d(np.asarray(m.intercept, dtype=float))))
        best = result.models[d][0]
        order = np.argsort([ids[e.key] for e in best.expressions], kind="stable")
        exprs = [best.expressions[i] for i in order]
        task_rmse = getattr(best, "task_rmse", None)
        task_maxae = getattr(best, "task_maxae", None)
        report.dimensions.append(DimensionReport(
            dim=d, space_sizes=sizes, n_selected=len(result.selected.get(d, [])),
            descriptors=[str(e) for e in exprs], models=rows,
            descriptor_values=_values(exprs, X), y_pred=best.predict_array(X, ti),
            task_rmse=None if task_rmse is None else np.asarray(task_rmse),
            task_maxae=None if task_maxae is None else np.asarray(task_maxae)))


def _values(exprs, X: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.column_stack([np.asarray(e.evaluate(X), dtype=np.float64) for e in exprs])


def _overlap_from_score(score: float) -> tuple[int, float]:
    """(count, size) from the overlap SIS score ``-count - squash(size)`` of the classifier.

    ``squash(s) = 0.5 + 0.5 s / (1 + |s|)`` (:mod:`sisso_lite.solvers.overlap`); the size is
    recovered to display precision only.
    """
    neg = -float(score)
    if not np.isfinite(neg) or neg < 0:
        return 0, float("nan")
    count = int(np.floor(neg))
    t = 2.0 * (neg - count) - 1.0
    if abs(t) >= 1.0:
        return count, float("nan")
    return count, t / (1.0 - abs(t))


def _classification_report(model, problem: SissoProblem, report: RunReport) -> None:
    from sisso_lite.solvers.classification import overlap_flags
    from sisso_lite.solvers.multitask_classification import overlap_flags_multitask

    ids: dict[str, int] = {}
    for d in sorted(model.sis_selected_):
        for expr, score in model.sis_selected_[d]:
            if expr not in ids:
                ids[expr] = len(ids) + 1
                report.uspace.append((expr, float(score), *_overlap_from_score(score)))
    X = problem.X.to_numpy(dtype=np.float64)
    codes = np.unique(problem.y, return_inverse=True)[1].astype(np.int64)
    k = int(codes.max()) + 1
    table = model.models_
    for d in sorted(table["dimension"].unique()):
        rows = []
        for m in table[table["dimension"] == d].itertuples(index=False):
            fid = sorted(ids[e] for e in m.descriptors)
            rows.append(ModelRow(fid, n_overlap=int(m.n_overlap),
                                 overlap_size=float(m.size_overlap)))
        if not rows:
            continue
        best = model.descriptors_by_dim_[d]
        order = np.argsort([ids[str(e)] for e in best], kind="stable")
        exprs = [best[i] for i in order]
        values = _values(exprs, X)
        try:
            if problem.tasks is None:
                flags = overlap_flags(values, codes, k, report.config.bwidth, fortran=True)[2]
            else:  # multi-task: class domains per task
                flags = overlap_flags_multitask(values, codes, _task_index(problem),
                                                report.config.bwidth, fortran=True)[2]
            classified = ~np.asarray(flags, dtype=bool)
        except ValueError:  # degenerate domains: no per-sample flags
            classified = None
        report.dimensions.append(DimensionReport(
            dim=d, space_sizes=list(model.n_features_per_rung_),
            n_selected=len(model.sis_selected_.get(d, [])),
            descriptors=[str(e) for e in exprs], models=rows, descriptor_values=values,
            y_pred=classified))


#: moved to :mod:`sisso_lite.estimators.sisso_dir` (the old import path keeps working)
_MOVED = {
    "make_estimator": "sisso_lite.estimators.sisso_dir",
    "run_sisso_dir": "sisso_lite.estimators.sisso_dir",
}
__getattr__ = forward_moved(__name__, _MOVED)
