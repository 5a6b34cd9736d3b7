"""Write results in the layout of Fortran SISSO v3.5: SISSO.out, Models/, SIS_subspaces/.

The writers take a neutral :class:`RunReport` (built from a fitted estimator by
:mod:`sisso_lite.io.runner`), so the file formats are independent of the estimator internals.
Number formats mimic the Fortran edit descriptors (``e20.10``, ``f12.6``, ``i8``, ...) of
``src/DI.f90``/``src/SISSO.f90`` so the files can be compared line by line with Fortran output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sisso_lite.io.sisso_in import SissoConfig

__all__ = ["ModelRow", "DimensionReport", "RunReport", "fortran_e", "write_sisso_out",
           "write_models", "write_uspace", "write_outputs"]

_RULE = "=" * 80
_DASH = "-" * 80


def fortran_e(x: float, width: int = 20, digits: int = 10) -> str:
    """Format like Fortran ``Ew.d`` (``0.2291116199E+01``), right-justified in ``width``."""
    x = float(x)
    if not np.isfinite(x):
        return ("NaN" if np.isnan(x) else ("-Infinity" if x < 0 else "Infinity")).rjust(width)
    if x == 0.0:
        body = "0." + "0" * digits + "E+00"
    else:
        mant, exp = f"{abs(x):.{digits - 1}e}".split("e")
        e = int(exp) + 1
        body = f"0.{mant.replace('.', '')}E{'+' if e >= 0 else '-'}{abs(e):02d}"
        if x < 0:
            body = "-" + body
    return body.rjust(width)


def _f(x: float, width: int, digits: int) -> str:
    return f"{float(x):{width}.{digits}f}"


def _i(n: int, width: int) -> str:
    return f"{int(n):{width}d}"


@dataclass
class ModelRow:
    """One ranked model of one dimension.

    ``feature_ids`` are 1-based positions in the union of SIS subspaces (``Uspace``).
    Regression: ``rmse``/``maxae`` (overall), ``coef`` (ntask, dim), ``intercept`` (ntask,).
    Classification: ``n_overlap`` and ``overlap_size``.
    """

    feature_ids: list[int]
    rmse: float = float("nan")
    maxae: float = float("nan")
    coef: np.ndarray | None = None
    intercept: np.ndarray | None = None
    n_overlap: int = 0
    overlap_size: float = float("nan")


@dataclass
class DimensionReport:
    """Everything the Fortran output shows for one descriptor dimension.

    Attributes
    ----------
    dim : int
    space_sizes : list of int
        Features per rung ``Phi00, Phi01, ...`` (the last rung as counted by the screening).
    n_selected : int
        Features the SIS of this dimension added to ``Uspace``.
    descriptors : list of str
        Expressions of the best model (Fortran spelling).
    models : list of ModelRow
        Ranked models, best first (``models[0]`` is the reported one).
    task_rmse, task_maxae : ndarray, shape (ntask,)
        Regression errors of the best model per task.
    y_pred : ndarray
        Fitted values (regression) or classified-correctly flags (classification).
    descriptor_values : ndarray, shape (n_samples, dim)
    fc_seconds, di_seconds : float
    """

    dim: int
    space_sizes: list[int]
    n_selected: int
    descriptors: list[str]
    models: list[ModelRow]
    descriptor_values: np.ndarray
    y_pred: np.ndarray | None = None
    task_rmse: np.ndarray | None = None
    task_maxae: np.ndarray | None = None
    fc_seconds: float = 0.0
    di_seconds: float = 0.0


@dataclass
class RunReport:
    """A whole run: configuration, data summary, and one :class:`DimensionReport` per dim."""

    config: SissoConfig
    y: np.ndarray
    tasks: np.ndarray | None
    #: SIS-selected features: (expression, score) or, for classification,
    #: (expression, score, n_overlap, size_overlap)
    uspace: list[tuple] = field(default_factory=list)
    dimensions: list[DimensionReport] = field(default_factory=list)
    total_seconds: float = 0.0
    version: str = ""


def _task_slices(report: RunReport) -> list[np.ndarray]:
    n = len(report.y)
    if report.tasks is None:
        return [np.arange(n)]
    return [np.flatnonzero(report.tasks == t) for t in np.unique(report.tasks)]


def _header(report: RunReport) -> list[str]:
    c = report.config
    out = [
        "*" * 64,
        "  Sure Independence Screening and Sparsifying Operator (SISSO)  ",
        f"       sisso-lite {report.version} (Fortran SISSO v3.5 compatible output)".ljust(64),
        "*" * 64,
        "",
        "Read in data from train.dat",
    ]
    if c.ptype == 1:
        for t, idx in enumerate(_task_slices(report), start=1):
            yt = report.y[idx]
            sd = float(np.sqrt(np.mean((yt - yt.mean()) ** 2)))
            if c.ntask == 1:
                out.append("Standard Deviation (sqrt[sum(y-y_mean)^2/n]) of the target property:"
                           + _f(sd, 10, 5))
            else:
                out.append("Standard Deviation (sqrt[sum(y-y_mean)^2/n]) of the target property "
                           f"of task {t:03d}: " + _f(sd, 10, 5))
    out += [
        "Read in data from SISSO.in",
        "Property type:   " + _i(c.ptype, 3),
        "Number of tasks: " + _i(c.ntask, 8),
        "Descriptor dimension: " + _i(c.desc_dim, 8),
        "Number of samples for the task(s): " + "".join(_i(n, 6) for n in c.nsample),
        "Restarts :" + _i(c.restart, 3),
    ]
    if c.ptype == 1 and c.ntask > 1:
        out.append("Task_weighting: " + _i(c.task_weighting, 8))
        out.append("Sign-constrained multi-task learning: " + "F".rjust(6))
    if c.ptype == 2:
        for t, groups in enumerate(c.ngroup or [], start=1):
            conv = (c.isconvex or [[1] * len(groups)] * c.ntask)[t - 1]
            out.append(f"Number of samples in each category of the task {t:03d}: "
                       + "".join(_i(g, 5) for g in groups))
            out.append(f"Convexity of the domains of the task {t:03d}: "
                       + "".join(_i(v, 5) for v in conv))
        out.append("Domain-boundary tolerance: " + _f(c.bwidth, 10, 6))
    out += [
        "Scheme for feature storing in memory: " + _i(c.fstore, 8),
        "Number of scalar features: " + _i(c.nsf, 8),
        "Tier of the feature space (max depth of expression tree): " + _i(c.rung, 8),
        "Maximal feature complexity (number of operators in a feature): "
        + _i(c.fcomplexity, 8),
        "Unit of input primary feature, each represented by a row vector: ",
    ]
    out += ["".join(_f(v, 8, 2) for v in row) for row in c.unit_matrix()]
    out += [
        "The feature will be discarded if the minimum of the maximal abs. value in it <"
        + fortran_e(c.fmax_min, 15, 5),
        "The faature will be discarded if the maximum of the maximal abs. value in it > "
        + fortran_e(c.fmax_max, 15, 5),
        "Size of the SIS-selected (single) subspace : " + "".join(_i(n, 6) for n in c.nf_sis),
        "Operators for feature construction: "
        + "".join("".join(f"({o})" for o in ops) + " " for ops in c.operators),
        "Method for sparse regression:  " + c.method_so.ljust(10),
    ]
    if c.ptype == 1:
        out.append("Fitting intercept: " + ("T" if c.fit_intercept else "F").rjust(6))
        out.append("Metric for model selection: " + c.metric)
    out += ["Number of the top-ranked models to output: " + _i(c.nmodel, 8), _DASH]
    return out


def _dimension_block(report: RunReport, d: DimensionReport, n_sis_total: int) -> list[str]:
    c = report.config
    out = ["", "Dimension: " + _i(d.dim, 3), "-" * 19, "Feature Construction (FC) starts ..."]
    for r, size in enumerate(d.space_sizes):
        out.append(f"Total number of features in the space Phi{r:02d}:" + _i(size, 15))
    out += [
        f"Size of the SIS-selected subspace from Phi{len(d.space_sizes) - 1:02d}:"
        + _i(d.n_selected, 11),
        "Time (second) used for this FC: " + _f(d.fc_seconds, 15, 2),
        "",
        "Descriptor Identification (DI) starts ...",
        "Total number of SIS-selected features for this DI: " + _i(n_sis_total, 10),
        " ",
    ]
    best = d.models[0]
    if c.ptype == 1:
        model = "y=sum(ci*di)+c0" if c.fit_intercept else "y=sum(ci*di)"
        out.append(f"  {d.dim}D descriptor/model({model}) : ")
    else:
        out.append(f"  {d.dim}D descriptor: ")
    out.append(_RULE)
    for k, (expr, fid) in enumerate(zip(d.descriptors, best.feature_ids, strict=True), start=1):
        out.append(f"     d{k:03d} = {expr}    feature_ID:{fid:06d}")
    if c.ptype == 1:
        assert best.coef is not None and best.intercept is not None
        out.append(" ")
        for t in range(c.ntask):
            if c.ntask > 1:
                out.append(f"     task_{t + 1:03d}")
            out.append("        coeff.(ci): " + "".join(fortran_e(v) for v in best.coef[t]))
            if c.fit_intercept:
                out.append("                c0: " + fortran_e(best.intercept[t]))
            rmse = best.rmse if d.task_rmse is None else d.task_rmse[t]
            maxae = best.maxae if d.task_maxae is None else d.task_maxae[t]
            out.append("    RMSE and MaxAE: " + fortran_e(rmse) + fortran_e(maxae))
        if c.ntask > 1:
            out += ["", "     Overall RMSE and MaxAE: " + _f(best.rmse, 10, 6)
                    + _f(best.maxae, 10, 6)]
            if c.task_weighting == 1:
                out.append("     RMSE = sqrt(sum(RMSE_i^2)/ntask)   (for task_weighting=1)")
            else:
                out.append("     RMSE = sqrt(sum(n_i*RMSE_i^2)/sum(n_i))   (for task_weighting=2)")
            out.append("     MaxAE = max(MaxAE_i)")
    else:
        out += [
            "",
            "Number of data (double-counting removed) in all overlap regions: "
            + _i(best.n_overlap, 10),
            "Size of the overlap (1D:length, 2D:area, 3D:volume): " + _f(best.overlap_size, 14, 5),
            "Note: with negative, the magnitude means the min separation distance between "
            "domains.",
        ]
    out += [_RULE, "Time (second) used for this DI: " + _f(d.di_seconds, 15, 2)]
    return out


def write_sisso_out(report: RunReport, path: str | Path) -> Path:
    """Write the ``SISSO.out`` summary."""
    lines = _header(report)
    total = 0
    for d in report.dimensions:
        total += d.n_selected
        lines += _dimension_block(report, d, total)
    lines += ["Total time (second): " + _f(report.total_seconds, 15, 2), "Have a nice day !    ",
              ""]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def _model_files(report: RunReport, d: DimensionReport, models_dir: Path) -> None:
    c = report.config
    n = len(d.models)
    name = f"top{n:04d}_D{d.dim:03d}"
    if c.ptype == 1:
        rows = ["        Rank        RMSE       MaxAE  Feature_ID"]
        coef_rows = ["Model_ID, [(c_i,i=0,n)_j,j=1,ntask]"]
        for rank, m in enumerate(d.models, start=1):
            ids = "".join(_i(i, 8) for i in m.feature_ids)
            rows.append(_i(rank, 12) + _f(m.rmse, 12, 6) + _f(m.maxae, 12, 6) + f"  ({ids})")
            assert m.coef is not None and m.intercept is not None
            vals = []
            for t in range(c.ntask):
                vals += [m.intercept[t], *m.coef[t]]
            coef_rows.append(_i(rank, 12) + "".join(fortran_e(v) for v in vals))
        (models_dir / f"{name}_coeff").write_text("\n".join(coef_rows) + "\n")
    else:
        rows = ["      rank       #data_overlap        size_overlap          feature_ID"]
        for rank, m in enumerate(d.models, start=1):
            ids = "".join(_i(i, 8) for i in m.feature_ids)
            rows.append(_i(rank, 10) + _i(m.n_overlap, 20) + _f(m.overlap_size, 20, 5)
                        + f"   ({ids})")
    (models_dir / name).write_text("\n".join(rows) + "\n")


def _data_files(report: RunReport, d: DimensionReport, data_dir: Path) -> None:
    c = report.config
    desc_head = "".join(f"descriptor_{k}".rjust(20) for k in range(1, d.dim + 1))
    for t, idx in enumerate(_task_slices(report), start=1):
        suffix = f"_t{t:03d}" if c.ntask > 1 else ""
        if c.ptype == 1:
            assert d.y_pred is not None
            rows = ["     Index" + "y_true".rjust(20) + "y_pred".rjust(20) + desc_head]
            for k, i in enumerate(idx, start=1):
                rows.append(_i(k, 10) + fortran_e(report.y[i]) + fortran_e(d.y_pred[i])
                            + "".join(fortran_e(v) for v in d.descriptor_values[i]))
        else:
            rows = ["index".rjust(20) + "classified?".rjust(20) + desc_head]
            ok = np.ones(len(report.y), bool) if d.y_pred is None else d.y_pred.astype(bool)
            for k, i in enumerate(idx, start=1):
                rows.append(_i(k, 20) + ("YES" if ok[i] else "NO").rjust(20)
                            + "".join(fortran_e(v) for v in d.descriptor_values[i]))
        (data_dir / f"desc_D{d.dim:03d}{suffix}.dat").write_text("\n".join(rows) + "\n")


def write_models(report: RunReport, directory: str | Path) -> Path:
    """Write ``Models/top*_D*`` (ranked models, coefficients) and ``Models/data_top1/``."""
    models_dir = Path(directory) / "Models"
    data_dir = models_dir / "data_top1"
    data_dir.mkdir(parents=True, exist_ok=True)
    for old in list(models_dir.glob("top*_D*")) + list(data_dir.glob("desc_D*.dat")):
        old.unlink()
    for d in report.dimensions:
        _model_files(report, d, models_dir)
        _data_files(report, d, data_dir)
    return models_dir


def write_uspace(report: RunReport, directory: str | Path) -> Path:
    """Write ``SIS_subspaces/Uspace.expressions`` (SIS-selected features and scores)."""
    sub = Path(directory) / "SIS_subspaces"
    sub.mkdir(parents=True, exist_ok=True)
    path = sub / "Uspace.expressions"
    if report.config.ptype == 1:
        lines = [f"{e}     SIS_score = {_f(s, 11, 4)}" for e, s, *_ in report.uspace]
    else:  # (expression, score, n_overlap, size_overlap)
        lines = [f"{e}    N_overlap = {_i(n, 5)}    S_overlap ={_f(size, 12, 4)}"
                 for e, _, n, size in report.uspace]
    path.write_text("".join(line + "\n" for line in lines))
    return path


def write_outputs(report: RunReport, directory: str | Path) -> list[Path]:
    """Write ``SISSO.out``, ``Models/`` and ``SIS_subspaces/`` into ``directory``."""
    directory = Path(directory)
    return [write_sisso_out(report, directory / "SISSO.out"), write_models(report, directory),
            write_uspace(report, directory)]
