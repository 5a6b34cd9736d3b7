"""Retrospective benchmarks: many campaigns on a fully known data set, scored with the
metrics of Rohr et al., Chem. Sci. 11, 2696 (2020).

Every strategy is run with the same seeds, and a seed fixes the initial design, so the
strategies are compared on paired starts. Campaigns run in parallel through joblib (with
``joblib.parallel_config(backend="dask")`` on a Dask cluster).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from sisso_lite.features.distributed import dask_client, run_on_dask
from sisso_lite.learning.campaign import Campaign
from sisso_lite.learning.metrics import first_hit, top_fraction_mask

__all__ = ["run_retrospective"]


def _one_run(pool: pd.DataFrame, target: str, name: str, options: dict, seed: int,
             common: dict, mask: np.ndarray) -> tuple[pd.DataFrame, dict]:
    start = time.perf_counter()
    camp = Campaign(pool, target=target, random_state=seed, progress=False,
                    **{**common, **options}).run()
    wall = time.perf_counter() - start
    hist = camp.history_
    positions = pool.index.get_indexer(hist["pool_index"])
    hit = mask[positions] & (hist["status"].to_numpy() == "ok")
    trace = pd.DataFrame({
        "strategy": name, "seed": seed, "step": np.arange(1, len(hist) + 1),
        "round": hist["round"].to_numpy(), "pool_index": hist["pool_index"].to_numpy(),
        "value": hist["value"].to_numpy(), "hit": hit,
        "best_so_far": hist["best_so_far"].to_numpy(),
        "n_pool": int(np.isfinite(pool[target].to_numpy(dtype=float)).sum()),
        "n_targets": int(mask.sum())})
    rounds = camp.rounds_
    modelled = rounds[rounds["fit_seconds"] > 0] if "fit_seconds" in rounds else rounds.iloc[:0]
    formulas = hist["formula"][hist["formula"].fillna("").astype(bool)]
    run = {"strategy": name, "seed": seed, "wall_seconds": wall,
           "n_rounds": len(rounds), "first_hit": first_hit(hit),
           "seconds_per_round": float((modelled["fit_seconds"]
                                       + modelled["acquisition_seconds"]).mean())
           if len(modelled) else 0.0,
           "final_formula": formulas.iloc[-1] if len(formulas) else "",
           "final_rmse_unmeasured": float(rounds["rmse_unmeasured"].iloc[-1])
           if "rmse_unmeasured" in rounds and len(rounds) else np.nan}
    return trace, run


def run_retrospective(pool: pd.DataFrame, target: str, strategies: dict[str, dict],
                      seeds=range(20), *, goal: str = "maximize", budget: int = 150,
                      n_initial: int = 10, batch_size: int = 1, fraction: float = 0.01,
                      features=None, n_jobs: int | None = None,
                      verbose: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every strategy once per seed on a pool whose ``target`` is fully known.

    Parameters
    ----------
    pool : DataFrame
        Candidates with features and the known target.
    target : str
        Column with the answers (revealed pick by pick).
    strategies : dict
        Name -> keyword arguments of :class:`Campaign` (``surrogate``, ``acquisition``,
        ``acquisition_params``, ``batch_strategy``, ...).
    seeds : iterable of int
        One campaign per seed and strategy (same seed = same initial design).
    goal, budget, n_initial, batch_size, features
        Passed to every campaign (a strategy's own options override them).
    fraction : float
        The target set is the best ``fraction`` of the pool (Rohr et al.: top 1 %).
    n_jobs : int, optional
        Parallel campaigns (joblib).

    Returns
    -------
    traces : DataFrame
        One row per pick: ``strategy, seed, step, round, pool_index, value, hit,
        best_so_far, n_pool, n_targets`` (the input of
        :func:`sisso_lite.learning.metrics.summarize_traces` and the plots).
    runs : DataFrame
        One row per campaign: wall seconds, seconds per modelled round (fit + acquisition),
        first hit, the final formula of SISSO surrogates, the final model error on the
        unmeasured pool.
    """
    if not strategies:
        raise ValueError("strategies is empty: give at least one name -> options entry")
    values = pool[target].to_numpy(dtype=float)
    mask = top_fraction_mask(values, fraction, goal)
    common = dict(goal=goal, budget=budget, n_initial=n_initial, batch_size=batch_size,
                  features=features)
    jobs = [delayed(_one_run)(pool, target, name, dict(options), int(seed), common, mask)
            for seed in seeds for name, options in strategies.items()]
    client = dask_client()  # on Dask: submitted directly, so a lost worker is rerun
    out = (Parallel(n_jobs=n_jobs, verbose=verbose)(jobs) if client is None else
           run_on_dask(client, jobs, f"running {len(jobs)} retrospective campaigns"))
    traces = pd.concat([t for t, _ in out], ignore_index=True)
    runs = pd.DataFrame([r for _, r in out])
    return traces, runs
