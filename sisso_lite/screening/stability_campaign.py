""""Find all stable perovskites": a target-window campaign on the Emery ABO3 table.

The target set is every material with ``E_hull <= 25 meV/atom`` (398 of the 5,276 ABO3 of
Emery & Wolverton (2017) with a DFT result). The campaign measures (looks up) E_hull of the
candidates its acquisition chooses; ``acquisition="window"`` scores each candidate by
``P(E_hull <= 0.025 eV/atom)`` under the surrogate's ``N(mean, sigma^2)``
(:func:`sisso_lite.learning.acquisition.target_window` with ``low = -inf``). Random picking
and greedy picking (lowest predicted E_hull) are the baselines; the metric is the fraction
of the stable materials found after ``i`` measurements (Rohr et al., Chem. Sci. 11, 2696
(2020)), computed by :func:`sisso_lite.learning.retrospective.run_retrospective` with the
target set passed as the best ``K / N`` of the pool (``K`` = number of stable materials).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sisso_lite.learning import Campaign
from sisso_lite.learning.metrics import summarize_traces, top_fraction_mask
from sisso_lite.learning.retrospective import run_retrospective

__all__ = ["STABLE_THRESHOLD", "emery_stability_pool", "find_stable_campaign",
           "run_stability_benchmark", "stability_strategies"]

STABLE_THRESHOLD = 0.025
"""E_hull (eV/atom) up to which a material counts as stable (25 meV/atom)."""

TARGET = "E_hull"


def emery_stability_pool(with_extra: bool = False) -> tuple[pd.DataFrame, dict]:
    """The Emery ABO3 table as a campaign pool: features + ``E_hull`` (eV/atom).

    Returns
    -------
    pool : DataFrame
        Indexed by formula; the feature columns of
        :func:`sisso_lite.datasets.load_emery_perovskites` and ``E_hull``.
    units : dict
        Units of the feature columns.
    """
    from sisso_lite.datasets import load_emery_perovskites

    X, y, _, units = load_emery_perovskites("stability", with_extra=with_extra)
    return X.assign(**{TARGET: y.to_numpy()}), units


def stability_strategies(threshold: float = STABLE_THRESHOLD, surrogate="sisso",
                         batch_strategy: str = "top") -> dict[str, dict]:
    """Random, greedy (lowest predicted E_hull) and window (P(E_hull <= threshold)) options.

    The returned dict maps a strategy name to :class:`~sisso_lite.learning.Campaign`
    keyword arguments (the input of ``run_retrospective``).
    """
    name = surrogate if isinstance(surrogate, str) else "custom"
    return {
        "random": {"acquisition": "random"},
        f"{name}-greedy": {"surrogate": surrogate, "acquisition": "greedy",
                           "batch_strategy": batch_strategy},
        f"{name}-window": {"surrogate": surrogate, "acquisition": "window",
                           "acquisition_params": {"low": -math.inf, "high": float(threshold)},
                           "batch_strategy": batch_strategy},
    }


def _stable_fraction(pool: pd.DataFrame, threshold: float) -> tuple[float, int, int]:
    values = pool[TARGET].to_numpy(dtype=np.float64)
    finite = np.isfinite(values)
    n_stable = int(np.sum(values[finite] <= threshold))
    if n_stable == 0:
        raise ValueError(f"no material of the pool has {TARGET} <= {threshold} eV/atom")
    n = int(finite.sum())
    fraction = n_stable / n
    mask = top_fraction_mask(values, fraction, goal="minimize")
    if not np.array_equal(mask, finite & (values <= threshold)):
        raise RuntimeError("the top-fraction target set differs from the stable set "
                           "(ties at the threshold)")
    return fraction, n_stable, n


def run_stability_benchmark(pool: pd.DataFrame | None = None, *, seeds=range(3),
                            budget: int = 300, batch_size: int = 20, n_initial: int = 20,
                            strategies: dict[str, dict] | None = None,
                            threshold: float = STABLE_THRESHOLD,
                            checkpoints=(50, 100, 200, 300), n_jobs: int | None = None
                            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Retrospective "find all stable perovskites" benchmark.

    Parameters
    ----------
    pool : DataFrame, optional
        Features + ``E_hull`` (default :func:`emery_stability_pool`).
    seeds : iterable of int
        One campaign per seed and strategy; a seed fixes the initial design of all.
    budget, batch_size, n_initial : int
        Campaign settings (the budget includes the random initial design).
    strategies : dict, optional
        Default :func:`stability_strategies`.
    threshold : float
        Stable = ``E_hull <= threshold`` (eV/atom).
    checkpoints : sequence of int
        Budgets at which the fraction found is tabulated (those above ``budget`` dropped).
    n_jobs : int, optional
        Parallel campaigns (joblib).

    Returns
    -------
    summary : DataFrame
        :func:`~sisso_lite.learning.metrics.summarize_traces` per strategy (median, IQR)
        plus ``n_found_median`` (stable materials found within the budget).
    traces, runs : DataFrame
        Of :func:`~sisso_lite.learning.retrospective.run_retrospective`.
    """
    if pool is None:
        pool, _ = emery_stability_pool()
    fraction, n_stable, _ = _stable_fraction(pool, threshold)
    strategies = stability_strategies(threshold) if strategies is None else strategies
    traces, runs = run_retrospective(pool, TARGET, strategies, seeds=seeds, goal="minimize",
                                     budget=budget, n_initial=n_initial,
                                     batch_size=batch_size, fraction=fraction, n_jobs=n_jobs)
    cps = [c for c in checkpoints if c <= budget] or [budget]
    summary = summarize_traces(traces, checkpoints=cps)
    found = traces.groupby(["strategy", "seed"])["hit"].sum().groupby("strategy").median()
    summary["n_found_median"] = found.reindex(summary.index)
    summary.loc["random (closed form)", "n_found_median"] = budget * fraction
    summary.attrs.update(n_stable=n_stable, n_pool=len(pool), budget=budget)
    return summary, traces, runs


def find_stable_campaign(pool: pd.DataFrame | None = None, *, budget: int = 100,
                         batch_size: int = 10, n_initial: int = 20, surrogate="sisso",
                         threshold: float = STABLE_THRESHOLD, random_state: int = 0,
                         progress: bool = False) -> Campaign:
    """Run one window campaign for stable materials (retrospective on ``pool``).

    Returns the finished :class:`~sisso_lite.learning.Campaign` (its ``history_``,
    ``rounds_`` and ``model_``).
    """
    if pool is None:
        pool, _ = emery_stability_pool()
    camp = Campaign(pool, target=TARGET, goal="minimize", surrogate=surrogate,
                    acquisition="window",
                    acquisition_params={"low": -math.inf, "high": float(threshold)},
                    budget=budget, batch_size=batch_size, n_initial=n_initial,
                    batch_strategy="top", random_state=random_state, progress=progress)
    return camp.run()
