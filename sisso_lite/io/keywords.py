"""Keyword tables of Fortran SISSO ``SISSO.in`` (v3.5 and renamed older spellings).

Sources: rouyang2017/SISSO ``src/SISSO.f90`` (``read_para_a``), ``input_templates/SISSO.in``
and ``Changelog`` (v2.4, v3.1, v3.2 renames).
"""

from __future__ import annotations

__all__ = [
    "FORTRAN_OPERATORS", "KEYWORDS", "RENAMED_KEYWORDS", "IGNORED_KEYWORDS", "L1_PREFIXES",
]

#: Operators implemented by Fortran SISSO v3.5 (``input_templates/SISSO.in``).
FORTRAN_OPERATORS: tuple[str, ...] = (
    "+", "-", "*", "/", "exp", "exp-", "^-1", "^2", "^3", "sqrt", "cbrt", "log", "|-|",
    "scd", "^6", "sin", "cos",
)

#: Supported v3.5 keywords -> short description (used in docs and ``--help``).
KEYWORDS: dict[str, str] = {
    "ptype": "1 regression, 2 classification",
    "ntask": "number of tasks (multi-task learning if > 1)",
    "task_weighting": "1 tasks weighted equally (2, by sample count, if the estimator has it)",
    "scmt": "sign-constrained multi-task learning (only .false. supported)",
    "desc_dim": "descriptor dimension",
    "nsample": "samples per task (regression) or (n1,n2,...) per task (classification)",
    "restart": "0 from scratch (1 is accepted but the run starts from scratch)",
    "fstore": "feature storage scheme of Fortran (no effect here)",
    "nsf": "number of scalar primary features in train.dat",
    "ops": "operators, one string for all rungs or one per rung separated by commas",
    "fcomplexity": "maximal number of operators in a feature (0-15)",
    "funit": "column ranges sharing a unit, e.g. (1:8)(9:14)",
    "fmax_min": "discard a feature whose max |value| is below this",
    "fmax_max": "discard a feature whose max |value| is above this",
    "nf_sis": "SIS subspace size (one value; a list per dimension is not supported)",
    "method_so": "'L0' (exact); 'L1L0' is not supported",
    "nl1l0": "features passed from L1 to L0 in L1L0 (no effect here)",
    "fit_intercept": ".true./.false.",
    "metric": "'RMSE' or 'MaxAE' for model selection",
    "nmodel": "number of top-ranked models written to Models/",
    "isconvex": "(1,1,...) per task: each class domain convex (classification)",
    "bwidth": "domain-boundary tolerance (classification)",
}

#: Old keyword -> (v3.5 keyword, version that renamed it).
RENAMED_KEYWORDS: dict[str, tuple[str, str]] = {
    "opset": ("ops", "3.2"),
    "dimclass": ("funit", "3.2"),
    "maxfval_lb": ("fmax_min", "3.2"),
    "maxfval_ub": ("fmax_max", "3.2"),
    "maxfval_up": ("fmax_max", "3.2"),
    "subs_sis": ("nf_sis", "3.2"),
    "method": ("method_so", "3.2"),
    "width": ("bwidth", "3.2"),
    "nm_output": ("nmodel", "3.2"),
    "nmodels": ("nmodel", "3.5"),
    "l1l0_size4l0": ("nl1l0", "3.2"),
    "maxcomplexity": ("fcomplexity", "3.1"),
    "nprop": ("ntask", "2.4"),
}

#: Keywords accepted with a note but without effect here -> reason.
IGNORED_KEYWORDS: dict[str, str] = {
    "rung": "removed in SISSO v3.1; the number of rungs follows from fcomplexity",
    "ndimtype": "removed in SISSO v3.0; the number of units follows from funit",
    "task": "only the full FC+DI run is supported",
    "calc": "only the full FC+DI run is supported",
    "fs_size_di": "removed in SISSO v3.0",
    "fs_size_l0": "removed in SISSO v3.0",
    "npf_must": "not supported; has no effect",
    "ffdecorr": "feature decorrelation of SISSO v3.2 is not supported; has no effect",
    "decorr_theta": "feature decorrelation of SISSO v3.2 is not supported; has no effect",
    "decorr_delta": "feature decorrelation of SISSO v3.2 is not supported; has no effect",
    "decorr_alpha": "feature decorrelation of SISSO v3.2 is not supported; has no effect",
    "cv_fold": "removed in SISSO v2.2",
    "cv_repeat": "removed in SISSO v2.2",
}
#: Prefixes of the LASSO settings (``L1para.*`` in v3.5, ``L1_*`` before): ignored.
L1_PREFIXES = ("l1para.", "l1_")
