"""Property maps over a whole candidate space: a SISSO law with its sigma on every candidate.

The Foppa et al. (2024) set: a bulk-modulus law fitted on the 504 cubic ABO3 perovskites with
DFT values (:func:`sisso_lite.datasets.load_foppa_perovskites`) is evaluated on the 12,096
(double) perovskite candidates of ``candidates_for_screening.csv`` (same free-atom features;
for A2BB'O6 the B-site features are averages of B and B'). The 150 DFT-verified double
perovskites of ``DFT_calculations.csv`` (50 random picks, 50 "high utility" and 50 "max"
subgroup-guided picks) are held out by construction -- none is among the 504 training rows
-- and say how good the map's ranking is *among them*: Spearman rank correlation, top-k
overlap, coverage of the 90 % intervals. Because 100 of the 150 were chosen by another
screening for a high bulk modulus, they are not a random sample of the 12,096: the hit rate
of the map's top picks over the whole candidate space cannot be checked with them.

The two upstream files are not bundled with sisso-lite; :func:`load_foppa_candidates` reads
them from a folder (the ``data/`` folder of github.com/lfoppa/Multi-objective-optimization-
of-subgroups, commit b82c3de).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtri
from scipy.stats import spearmanr

__all__ = ["bulk_modulus_estimator", "evaluate_map", "load_foppa_candidates", "property_map"]

_OPERATORS = ("+", "-", "*", "/", "^-1", "^2", "sqrt", "|-|")


def load_foppa_candidates(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read ``candidates_for_screening.csv`` and ``DFT_calculations.csv`` from ``folder``.

    Returns
    -------
    candidates : DataFrame
        12,096 rows indexed by ``material``, the 22 feature columns of the Foppa set.
    verified : DataFrame
        150 rows indexed by ``material``: ``label`` (random / high utility / max) and the
        DFT ``bulk_modulus``.
    """
    folder = Path(folder)
    paths = [folder / "candidates_for_screening.csv", folder / "DFT_calculations.csv"]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"Foppa 2024 files not found: {missing} (copy them from the "
                                "data/ folder of lfoppa/Multi-objective-optimization-of-"
                                "subgroups)")
    candidates = pd.read_csv(paths[0]).set_index("material")
    verified = pd.read_csv(paths[1]).set_index("material")
    for name, frame, cols in (("candidates", candidates, ["A_Z", "B_Z", "n_A", "n_B"]),
                              ("DFT_calculations", verified, ["label", "bulk_modulus"])):
        lacking = [c for c in cols if c not in frame.columns]
        if lacking:
            raise ValueError(f"{name}: missing columns {lacking}")
    return candidates, verified


def bulk_modulus_estimator(units: dict | None = None, random_state: int = 0, *,
                           n_estimators: int = 24, n_dim: int = 2, max_complexity: int = 2,
                           n_sis: int = 20):
    """SISSO ensemble for the bulk modulus (22 primary features: rung 2 stays cheap)."""
    from sisso_lite import SissoEnsemble, SissoRegressor

    template = SissoRegressor(n_dim=n_dim, max_complexity=max_complexity, n_sis=n_sis,
                              n_models=1, operators=_OPERATORS, units=units)
    return SissoEnsemble(template, n_estimators=n_estimators, feature_dropout=0.2,
                         predictive_std="mixture", calibrate="sigma",
                         random_state=random_state)


def property_map(X_train: pd.DataFrame, y_train, candidates: pd.DataFrame, estimator=None,
                 *, units: dict | None = None, random_state: int = 0
                 ) -> tuple[pd.DataFrame, object]:
    """Fit a law on ``(X_train, y_train)`` and map every candidate (mean, sigma, rank).

    Candidates with a missing or non-finite feature are dropped with a ``UserWarning``
    naming them.

    Returns
    -------
    table : DataFrame
        Indexed like ``candidates``, ranked highest predicted value first: ``rank``,
        ``predicted``, ``sigma``, ``lower_90``, ``upper_90``.
    estimator : the fitted estimator
    """
    from sklearn.base import clone

    from sisso_lite.screening.stability import _mean_std

    features = list(X_train.columns)
    lacking = [c for c in features if c not in candidates.columns]
    if lacking:
        raise ValueError(f"candidates lack the features {lacking}")
    est = (bulk_modulus_estimator(units, random_state) if estimator is None
           else clone(estimator))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        est.fit(X_train, np.asarray(y_train, dtype=np.float64))
    C = candidates[features].astype(np.float64)
    bad = ~np.isfinite(C.to_numpy()).all(axis=1)
    if bad.any():
        warnings.warn(f"property map skipped {int(bad.sum())} candidates with missing "
                      f"features: {list(C.index[bad][:5])}", UserWarning, stacklevel=2)
        C = C[~bad]
    mean, std = _mean_std(est, C)
    z = float(ndtri(0.95))
    table = pd.DataFrame({"predicted": mean, "sigma": std, "lower_90": mean - z * std,
                          "upper_90": mean + z * std}, index=C.index)
    table = table.sort_values("predicted", ascending=False)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table, est


def evaluate_map(table: pd.DataFrame, verified: pd.DataFrame, *, top_k=(10, 25, 50),
                 target: str = "bulk_modulus") -> tuple[pd.DataFrame, pd.DataFrame]:
    """How good the map is on held-out verified candidates.

    Parameters
    ----------
    table : DataFrame
        Of :func:`property_map`.
    verified : DataFrame
        Indexed by candidate, with the ``target`` column (and optionally ``label``).
    top_k : sequence of int
        For each ``k``: of the ``k`` verified candidates the map ranks highest, the share
        that are among the ``k`` best by DFT.

    Returns
    -------
    metrics : DataFrame
        One row per group (``all`` and every ``label``): ``n``, ``spearman``, ``mae``,
        ``coverage_90``, the mean DFT value and the mean map rank among all candidates, and
        for ``all`` the ``top<k>_overlap`` columns with ``top<k>_random``, the overlap
        expected from a random ranking (``k / n``).
    joined : DataFrame
        The verified rows with their map columns.
    """
    joined = verified.join(table, how="inner")
    if joined.empty:
        raise ValueError("no verified candidate is in the map")
    groups = {"all": joined}
    if "label" in joined.columns:
        groups.update({str(k): g for k, g in joined.groupby("label")})
    rows = {}
    for name, g in groups.items():
        truth, pred = g[target].to_numpy(), g["predicted"].to_numpy()
        row = {"n": len(g), "spearman": float(spearmanr(truth, pred).statistic)
               if len(g) > 2 else np.nan,
               "mae": float(np.mean(np.abs(pred - truth))),
               "coverage_90": float(np.mean((truth >= g["lower_90"]) & (truth <= g["upper_90"]))),
               "mean_dft": float(truth.mean()), "mean_map_rank": float(g["rank"].mean())}
        if name == "all":
            for k in top_k:
                k = min(int(k), len(g))
                best_dft = set(g[target].nlargest(k).index)
                best_map = set(g["predicted"].nlargest(k).index)
                row[f"top{k}_overlap"] = len(best_dft & best_map) / k
                row[f"top{k}_random"] = k / len(g)  # expected overlap of a random ranking
        rows[name] = row
    metrics = pd.DataFrame.from_dict(rows, orient="index")
    metrics.index.name = "group"
    return metrics, joined
