"""Run a Fortran-style SISSO directory (``SISSO.in`` + ``train.dat``) with the estimators.

>>> from sisso_lite.estimators.sisso_dir import run_sisso_dir     # doctest: +SKIP
>>> model, report = run_sisso_dir("tests/data/sisso_reference/octet14_r2_d3")

writes ``SISSO.out``, ``Models/`` and ``SIS_subspaces/Uspace.expressions`` into the folder,
in the layout of Fortran SISSO v3.5 (reading and writing: :mod:`sisso_lite.io`).
"""

from __future__ import annotations

import time
from pathlib import Path

from sisso_lite.estimators.classifier import SissoClassifier
from sisso_lite.estimators.regressor import SissoRegressor
from sisso_lite.io.runner import build_report, estimator_params
from sisso_lite.io.sisso_out import write_outputs
from sisso_lite.io.train_dat import SissoProblem, load_sisso_dir

__all__ = ["make_estimator", "run_sisso_dir"]


def make_estimator(problem: SissoProblem, verbose: bool = False, n_jobs: int | None = None):
    """Estimator configured from a SISSO input (``fortran_compatible=True``).

    ``SissoClassifier`` for classification inputs, else ``SissoRegressor``; the parameters
    and the errors for unsupported settings are :func:`sisso_lite.io.runner.estimator_params`.
    """
    cls = SissoClassifier if problem.config.is_classification else SissoRegressor
    return cls(**estimator_params(problem, cls, verbose=verbose, n_jobs=n_jobs))


def run_sisso_dir(directory: str | Path, verbose: bool = False, n_jobs: int | None = None,
                  write: bool = True):
    """Read, fit and (if ``write``) write the Fortran-style outputs into ``directory``.

    Returns
    -------
    model : SissoRegressor or SissoClassifier
        The fitted estimator.
    report : RunReport
    """
    problem = load_sisso_dir(directory)
    model = make_estimator(problem, verbose=verbose, n_jobs=n_jobs)
    start = time.perf_counter()
    if problem.tasks is None:
        model.fit(problem.X, problem.y)
    else:
        model.fit(problem.X, problem.y, tasks=problem.tasks)
    report = build_report(model, problem, time.perf_counter() - start)
    if write:
        write_outputs(report, directory)
    return model, report
