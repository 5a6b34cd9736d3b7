"""Sensitivity analysis of a fitted law: which primary features drive the prediction.

* Analytic partial derivatives (sympy) of the model with respect to each primary feature, and
  local elasticities ``(df/dx_i) * x_i / f`` at each material (the relative change of the
  prediction per relative change of the feature).
* Global variance-based indices: Sobol' first-order ``S1_i = V[E(f | x_i)] / V(f)`` and total
  ``ST_i = E[V(f | x_~i)] / V(f)``, estimated with Saltelli's sampling scheme (two
  quasi-random matrices A, B and the k matrices AB_i; N (k + 2) model runs) and the
  estimators of Saltelli et al. 2010 (first order) and Jansen 1999 (total), over
  independent uniform distributions on the data's ranges.
* Ensembles: the spread of the indices over the members.

The input is the law itself -- a sympy expression, an object with ``.sympy()`` (a fitted
:class:`~sisso_lite.models.SissoModel` or ``SissoRegressor``) or, for the Sobol' indices
only, a ``predict`` callable -- and the primary features as a DataFrame; this module needs
no estimator.

References
----------
* I. M. Sobol', Math. Comput. Simul. 55, 271 (2001) -- global sensitivity indices.
* A. Saltelli, Comput. Phys. Commun. 145, 280 (2002) -- sampling scheme, N (k + 2) runs.
* A. Saltelli et al., Comput. Phys. Commun. 181, 259 (2010) -- the estimators used here.
* M. J. W. Jansen, Comput. Phys. Commun. 117, 35 (1999) -- total-effect estimator.
* T. Ishigami, T. Homma, Proc. ISUMA 1990, 398 -- the test function :func:`ishigami`.

Note: uniform independent inputs over the data's ranges also sample combinations that no
material has (``r_s`` and ``r_p`` of an atom are correlated); the local elasticities, taken
at the materials themselves, complement the global indices.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SensitivityResult", "ensemble_sensitivity", "ishigami", "ishigami_indices",
           "local_elasticities", "partial_derivatives", "saltelli_sample",
           "plot_indices", "sensitivity_analysis", "sobol_indices"]


# ---------------------------------------------------------------------- expressions
def _as_sympy(model) -> Any:
    import sympy

    if isinstance(model, sympy.Basic):
        return model
    if hasattr(model, "sympy"):
        return model.sympy()
    if hasattr(model, "model") and hasattr(model.model, "sympy"):  # EnsembleMember
        return model.model.sympy()
    raise TypeError(f"model must be a sympy expression or have .sympy(), got "
                    f"{type(model).__name__}")


def _symbols(expr) -> dict[str, Any]:
    return {s.name: s for s in sorted(expr.free_symbols, key=lambda s: s.name)}


def partial_derivatives(model, features: Sequence[str] | None = None) -> dict[str, Any]:
    """Analytic partial derivatives ``df/dx`` of a law, one per primary feature.

    Parameters
    ----------
    model : sympy expression, or an object with ``.sympy()``
    features : sequence of str, optional
        Features to differentiate by (default: the expression's free symbols, sorted).

    Returns
    -------
    dict feature name -> sympy expression (0 for a feature the law does not use)
    """
    import sympy

    expr = _as_sympy(model)
    syms = _symbols(expr)
    names = list(syms) if features is None else list(features)
    return {n: sympy.diff(expr, syms[n]) if n in syms else sympy.Integer(0) for n in names}


def _lambdify(expr, names: Sequence[str]) -> Callable[[pd.DataFrame], np.ndarray]:
    import sympy

    syms = _symbols(expr)
    args = [syms.get(n, sympy.Symbol(n, real=True)) for n in names]
    fn = sympy.lambdify(args, expr, modules="numpy")

    def call(frame: pd.DataFrame) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = fn(*[frame[n].to_numpy(dtype=np.float64) for n in names])
        return np.broadcast_to(np.asarray(out, dtype=np.float64), (len(frame),)).copy()

    return call


def _check_columns(X: pd.DataFrame, names: Sequence[str]) -> None:
    if not isinstance(X, pd.DataFrame):
        raise TypeError("X must be a DataFrame of the primary features (named columns)")
    missing = [n for n in names if n not in X.columns]
    if missing:
        raise ValueError(f"X lacks the primary feature column(s) {missing} used by the law")
    for n in names:
        if not np.all(np.isfinite(X[n].to_numpy(dtype=np.float64))):
            raise ValueError(f"column {n!r} of X has non-finite values")


def local_elasticities(model, X: pd.DataFrame, features: Sequence[str] | None = None
                       ) -> pd.DataFrame:
    """Local elasticities ``(df/dx_i) * x_i / f`` of a law at every row of ``X``.

    Returns
    -------
    DataFrame, index of ``X``, one column per feature (NaN where ``f`` is 0)
    """
    expr = _as_sympy(model)
    derivs = partial_derivatives(expr, features)
    names = list(derivs)
    _check_columns(X, list(_symbols(expr)))
    f = _lambdify(expr, list(_symbols(expr)))(X)
    out = {}
    with np.errstate(all="ignore"):
        for n, d in derivs.items():
            grad = _lambdify(d, list(_symbols(expr)))(X)
            e = grad * X[n].to_numpy(dtype=np.float64) / f
            out[n] = np.where(np.isfinite(e), e, np.nan)
    return pd.DataFrame(out, index=X.index, columns=names)


# ---------------------------------------------------------------------- Sobol'
def saltelli_sample(bounds: Mapping[str, tuple[float, float]], n: int = 1024,
                    random_state: int | None = 0, sampler: str = "sobol"
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two base matrices ``A``, ``B`` (``n`` rows each) of Saltelli's scheme.

    ``sampler="sobol"``: the first / last ``k`` columns of a scrambled Sobol' sequence of
    dimension ``2k`` (``n`` is rounded up to a power of 2); ``"random"``: uniform
    pseudo-random. Every column is scaled to its ``(low, high)`` bounds.
    """
    names = list(bounds)
    k = len(names)
    if k == 0:
        raise ValueError("bounds is empty: no feature to sample")
    lo = np.array([float(bounds[n][0]) for n in names])
    hi = np.array([float(bounds[n][1]) for n in names])
    if not np.all(hi > lo):
        bad = [n for n, a, b in zip(names, lo, hi, strict=True) if not b > a]
        raise ValueError(f"bounds of {bad} need high > low (constant features have no "
                         "variance to apportion)")
    if int(n) < 16:
        raise ValueError(f"n must be >= 16 samples, got {n}")
    if sampler == "sobol":
        from scipy.stats import qmc

        m = int(np.ceil(np.log2(int(n))))
        U = qmc.Sobol(d=2 * k, scramble=True, seed=random_state).random_base2(m)
    elif sampler == "random":
        U = np.random.default_rng(random_state).random((int(n), 2 * k))
    else:
        raise ValueError(f"sampler must be 'sobol' or 'random', got {sampler!r}")
    A = pd.DataFrame(lo + U[:, :k] * (hi - lo), columns=names)
    B = pd.DataFrame(lo + U[:, k:] * (hi - lo), columns=names)
    return A, B


def _indices(fA, fB, fAB, idx=None):
    if idx is not None:
        fA, fB, fAB = fA[idx], fB[idx], fAB[:, idx]
    V = np.var(np.concatenate([fA, fB]))
    if not V > 0:
        return np.full(fAB.shape[0], np.nan), np.full(fAB.shape[0], np.nan)
    S1 = np.mean(fB * (fAB - fA), axis=1) / V  # Saltelli et al. 2010, Table 2 (b)
    ST = 0.5 * np.mean((fA - fAB) ** 2, axis=1) / V  # Jansen 1999, Table 2 (f)
    return S1, ST


def sobol_indices(func: Callable[[pd.DataFrame], np.ndarray],
                  bounds: Mapping[str, tuple[float, float]], n: int = 1024, *,
                  base: pd.DataFrame | None = None, n_bootstrap: int = 100,
                  random_state: int | None = 0, sampler: str = "sobol") -> pd.DataFrame:
    """Sobol' first-order and total indices of ``func`` over uniform ``bounds``.

    Parameters
    ----------
    func : callable DataFrame -> array (n_rows,)
        The model; it gets a DataFrame with one column per key of ``bounds`` (plus the
        columns of ``base``, held at their first row, if given).
    bounds : mapping feature -> (low, high)
    n : int
        Base sample size (model runs: ``n (k + 2)``).
    base : DataFrame, optional
        One row of values for the columns ``func`` needs but that are not varied.
    n_bootstrap : int
        Resamples for the 95 % confidence half-widths ``S1_conf`` / ``ST_conf`` (0: none).
    random_state : int or None
    sampler : {"sobol", "random"}

    Returns
    -------
    DataFrame indexed by feature: ``S1, S1_conf, ST, ST_conf``; ``attrs["n_valid"]`` is the
    number of base rows whose ``k + 2`` runs were all finite (the others are dropped).
    """
    A, B = saltelli_sample(bounds, n, random_state, sampler)
    names = list(bounds)
    N = len(A)

    def run(frame: pd.DataFrame) -> np.ndarray:
        if base is not None:
            for c in base.columns:
                if c not in frame.columns:
                    frame[c] = base[c].iloc[0]
        out = np.asarray(func(frame), dtype=np.float64).ravel()
        if out.shape != (len(frame),):
            raise ValueError(f"func returned shape {out.shape} for {len(frame)} rows")
        return out

    fA, fB = run(A.copy()), run(B.copy())
    fAB = np.empty((len(names), N))
    for i, name in enumerate(names):
        AB = A.copy()
        AB[name] = B[name].to_numpy()
        fAB[i] = run(AB)
    ok = np.isfinite(fA) & np.isfinite(fB) & np.all(np.isfinite(fAB), axis=0)
    if ok.sum() < 0.5 * N:
        warnings.warn(f"only {int(ok.sum())} of {N} Sobol' base samples give finite "
                      "predictions over the bounds; the indices describe that subset",
                      RuntimeWarning, stacklevel=2)
    if ok.sum() < 8:
        raise ValueError("fewer than 8 finite Sobol' samples: the law is undefined on most "
                         "of the bounds")
    fA, fB, fAB = fA[ok], fB[ok], fAB[:, ok]
    S1, ST = _indices(fA, fB, fAB)
    table = pd.DataFrame({"S1": S1, "ST": ST}, index=pd.Index(names, name="feature"))
    if n_bootstrap:
        rng = np.random.default_rng(random_state)
        boot = [_indices(fA, fB, fAB, rng.integers(0, len(fA), len(fA)))
                for _ in range(int(n_bootstrap))]
        table["S1_conf"] = 1.96 * np.nanstd([b[0] for b in boot], axis=0)
        table["ST_conf"] = 1.96 * np.nanstd([b[1] for b in boot], axis=0)
    else:
        table["S1_conf"] = np.nan
        table["ST_conf"] = np.nan
    table = table[["S1", "S1_conf", "ST", "ST_conf"]]
    table.attrs["n_valid"] = int(ok.sum())
    return table


def ishigami(X, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """Ishigami function ``sin x1 + a sin^2 x2 + b x3^4 sin x1`` (columns x1, x2, x3)."""
    X = X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> pd.DataFrame:
    """Closed-form Sobol' indices of :func:`ishigami` on ``[-pi, pi]^3``."""
    pi4, pi8 = np.pi ** 4, np.pi ** 8
    V1 = 0.5 * (1 + b * pi4 / 5) ** 2
    V2 = a ** 2 / 8
    V13 = b ** 2 * pi8 * (1 / 18 - 1 / 50)
    V = V1 + V2 + V13
    return pd.DataFrame({"S1": [V1 / V, V2 / V, 0.0], "ST": [(V1 + V13) / V, V2 / V, V13 / V]},
                        index=pd.Index(["x1", "x2", "x3"], name="feature"))


# ---------------------------------------------------------------------- one law
@dataclass
class SensitivityResult:
    """Outcome of :func:`sensitivity_analysis`.

    Attributes
    ----------
    table : DataFrame
        Ranked by ``ST`` (most influential first): ``S1, S1_conf, ST, ST_conf``,
        ``median_abs_elasticity`` (over the materials), ``scaled_derivative`` (mean of
        ``|df/dx| * std(x) / std(f)`` over the materials) and ``rank``.
    elasticities : DataFrame
        Local elasticities, one row per material.
    derivatives : dict feature -> sympy expression
    expression : sympy expression
    """

    table: pd.DataFrame
    elasticities: pd.DataFrame
    derivatives: dict = field(repr=False)
    expression: Any = None

    def plot(self, ax=None, top: int | None = None):
        """Horizontal bars of ``S1`` and ``ST`` (95 % intervals), most influential on top."""
        return plot_indices(self.table, ax=ax, top=top)


def _bounds(X: pd.DataFrame, names: Sequence[str]) -> dict[str, tuple[float, float]]:
    return {n: (float(X[n].min()), float(X[n].max())) for n in names}


def sensitivity_analysis(model, X: pd.DataFrame, *, features: Sequence[str] | None = None,
                         n: int = 1024, n_bootstrap: int = 100,
                         random_state: int | None = 0) -> SensitivityResult:
    """Derivatives, local elasticities and Sobol' indices of one law on the data ``X``.

    Parameters
    ----------
    model : sympy expression or object with ``.sympy()`` (SissoModel, fitted
        SissoRegressor); the Sobol' bounds are the ranges of its features in ``X``.
    X : DataFrame
        Primary features of the materials (rows); columns named as the law's symbols.
    features : sequence of str, optional
        Features to report (default: those the law uses).
    n, n_bootstrap, random_state
        See :func:`sobol_indices`.
    """
    expr = _as_sympy(model)
    used = list(_symbols(expr))
    if not used:
        raise ValueError("the law is a constant: it has no primary feature to analyse")
    names = used if features is None else list(features)
    _check_columns(X, used)
    f = _lambdify(expr, used)
    derivs = partial_derivatives(expr, names)
    sobol = sobol_indices(f, _bounds(X, used), n, n_bootstrap=n_bootstrap,
                          random_state=random_state)
    sobol = sobol.reindex(names, fill_value=0.0)
    elast = local_elasticities(expr, X, names)
    fx = f(X)
    sy = float(np.std(fx))
    scaled = {}
    for name, d in derivs.items():
        g = _lambdify(d, used)(X)
        sx = float(np.std(X[name])) if name in X.columns else 0.0
        scaled[name] = float(np.nanmean(np.abs(g)) * sx / sy) if sy > 0 else np.nan
    table = sobol.copy()
    table["median_abs_elasticity"] = elast.abs().median()
    table["scaled_derivative"] = pd.Series(scaled)
    table = table.sort_values(["ST", "S1"], ascending=False)
    table["rank"] = np.arange(1, len(table) + 1)
    table.attrs["n_valid"] = sobol.attrs.get("n_valid")
    return SensitivityResult(table=table, elasticities=elast, derivatives=derivs,
                             expression=expr)


def ensemble_sensitivity(models: Sequence, X: pd.DataFrame, *, n: int = 512,
                         random_state: int | None = 0) -> pd.DataFrame:
    """Sobol' indices of every member of an ensemble, summarised over the members.

    Parameters
    ----------
    models : sequence of laws (sympy expressions, SissoModel, EnsembleMember, ...)
        e.g. ``ensemble.members_`` of a fitted SissoEnsemble.
    X : DataFrame
        Primary features; each member is sampled over the ranges of the features it uses.
    n : int
        Base sample size per member.

    Returns
    -------
    DataFrame indexed by feature, ranked by ``ST_mean``: ``S1_mean, S1_std, ST_mean,
    ST_std`` (a member that does not use the feature counts 0) and ``frequency`` (share of
    the members whose law uses it).
    """
    if len(models) == 0:
        raise ValueError("models is empty")
    tables = []
    for i, m in enumerate(models):
        expr = _as_sympy(m)
        used = list(_symbols(expr))
        if not used:
            tables.append(pd.DataFrame(columns=["S1", "ST"]))
            continue
        _check_columns(X, used)
        t = sobol_indices(_lambdify(expr, used), _bounds(X, used), n, n_bootstrap=0,
                          random_state=None if random_state is None else random_state + i)
        tables.append(t[["S1", "ST"]])
    names = sorted({f for t in tables for f in t.index})
    S1 = np.array([t["S1"].reindex(names, fill_value=0.0).to_numpy() for t in tables])
    ST = np.array([t["ST"].reindex(names, fill_value=0.0).to_numpy() for t in tables])
    used = np.array([[f in t.index for f in names] for t in tables])
    out = pd.DataFrame({"S1_mean": S1.mean(0), "S1_std": S1.std(0), "ST_mean": ST.mean(0),
                        "ST_std": ST.std(0), "frequency": used.mean(0)},
                       index=pd.Index(names, name="feature"))
    out = out.sort_values(["ST_mean", "frequency"], ascending=False)
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def plot_indices(table: pd.DataFrame, ax=None, top: int | None = None):
    """Bar plot of Sobol' indices from :func:`sensitivity_analysis` (``S1``/``ST`` with
    ``*_conf``) or :func:`ensemble_sensitivity` (``*_mean`` with ``*_std``)."""
    import matplotlib.pyplot as plt

    ensemble = "ST_mean" in table.columns
    t = table.head(top) if top else table
    t = t.iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 0.35 * len(t) + 1.2))
    pos = np.arange(len(t))
    for shift, key, label in ((-0.2, "S1", "first order $S_1$"), (0.2, "ST", "total $S_T$")):
        val = t[f"{key}_mean"] if ensemble else t[key]
        err = t[f"{key}_std"] if ensemble else t[f"{key}_conf"]
        ax.barh(pos + shift, val, height=0.4, xerr=err, capsize=2, label=label)
    ax.set_yticks(pos)
    ax.set_yticklabels(t.index)
    ax.set_xlabel("Sobol' index" + (" (mean ± std over members)" if ensemble else ""))
    ax.legend(fontsize=8)
    return ax
