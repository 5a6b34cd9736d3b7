"""Subgroup-guided discovery vs random and model-based EI: a retrospective benchmark.

Retrospective campaigns on bundled real data, every strategy on the same seeds (a seed
fixes the random initial design, identical for :class:`~sisso_lite.learning.Campaign` and
:class:`~sisso_lite.screening.subgroup_guided.SubgroupGuidedCampaign`):

* Foppa et al. 2024 cubic ABO3 perovskites (504, maximise the DFT bulk modulus; the data
  set on which Foppa et al. describe exceptional materials by subgroup rules),
* optionally the Rohr OER plates A / B (2,121 / 2,119 compositions, minimise the
  overpotential).

Strategies: random, SISSO-ensemble EI and Gaussian-process EI (``Campaign``), and the
subgroup-guided campaign with uniform picks inside the rule (``subgroup``) and with picks
nearest to a good member of the rule (``subgroup-nearest``). The target sets are the top
1 % and the top 5 % of the pool; per target set the table gives the median and IQR over
seeds of the first hit and of the fraction found after 50 / 100 / 150 measurements
(:mod:`sisso_lite.learning.metrics`), and the seconds per round.

Run: ``.venv/bin/python -m benchmarks.bench_subgroup_guided [--seeds 5] [--budget 150]
[--batch-size 5] [--datasets foppa A] [--strategies random sisso-EI gp-EI subgroup
subgroup-nearest] [--n-jobs 1] [--reuse-model-based]``

``--reuse-model-based`` takes the random / SISSO-EI / GP-EI traces of an earlier run with the
same seeds and budget from ``benchmarks/results/`` (they do not depend on the subgroup code)
and reruns only the subgroup-guided campaigns.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from sisso_lite.datasets import load_foppa_perovskites, load_oer_plate
from sisso_lite.learning.metrics import summarize_traces, top_fraction_mask
from sisso_lite.learning.retrospective import run_retrospective
from sisso_lite.screening.subgroup_guided import SubgroupGuidedCampaign

RESULTS = Path(__file__).parent / "results"
CAMPAIGN = {"random": {"acquisition": "random"},
            "sisso-EI": {"surrogate": "sisso", "acquisition": "ei", "batch_strategy": "top"},
            "gp-EI": {"surrogate": "gp", "acquisition": "ei", "batch_strategy": "top"}}
SUBGROUP = {"subgroup": {"within_rule": "random"},
            "subgroup-nearest": {"within_rule": "nearest"}}


def datasets(names: list[str]) -> dict[str, tuple[pd.DataFrame, str, str]]:
    """slug -> (pool with the target column, target, goal)."""
    out = {}
    for name in names:
        if name.lower() == "foppa":
            X, y, _, _ = load_foppa_perovskites()
            out["foppa"] = (X.assign(bulk_modulus=y.to_numpy()), "bulk_modulus", "maximize")
        else:
            X, y = load_oer_plate(name)
            out[f"plate{name.upper()}"] = (X.assign(overpotential_V=y), "overpotential_V",
                                           "minimize")
    return out


def _subgroup_run(pool: pd.DataFrame, target: str, goal: str, name: str, options: dict,
                  seed: int, budget: int, n_initial: int, batch_size: int
                  ) -> tuple[pd.DataFrame, dict]:
    start = time.perf_counter()
    camp = SubgroupGuidedCampaign(pool, target=target, goal=goal, budget=budget,
                                  n_initial=n_initial, batch_size=batch_size,
                                  random_state=seed, progress=False, **options).run()
    wall = time.perf_counter() - start
    h = camp.history_
    trace = pd.DataFrame({"strategy": name, "seed": seed, "step": np.arange(1, len(h) + 1),
                          "round": h["round"].to_numpy(), "pool_index": h["pool_index"],
                          "value": h["value"].to_numpy(), "status": h["status"].to_numpy()})
    rounds = camp.rounds_.iloc[1:]
    summary = camp.rule_summary_
    best = summary.iloc[0]["rule"] if len(summary) else ""
    run = {"strategy": name, "seed": seed, "wall_seconds": wall,
           "seconds_per_round": float(rounds["fit_seconds"].mean()) if len(rounds) else 0.0,
           "n_rules_proposed": len(summary),
           "n_confirmed_rules": int((summary["verdict"] == "confirmed").sum()),
           "n_falsified_rules": int((summary["verdict"] == "falsified").sum()),
           "most_tested_rule": best}
    return trace, run


def run_all(pool: pd.DataFrame, target: str, goal: str, names: list[str], seeds: range,
            budget: int, n_initial: int, batch_size: int, n_jobs: int
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Traces (one row per pick, no hit flags yet) and one row per campaign."""
    parts, runs = [], []
    model_based = {k: v for k, v in CAMPAIGN.items() if k in names}
    if model_based:
        traces, r = run_retrospective(pool, target, model_based, seeds=seeds, goal=goal,
                                      budget=budget, n_initial=n_initial,
                                      batch_size=batch_size, n_jobs=n_jobs)
        parts.append(traces[["strategy", "seed", "step", "round", "pool_index", "value"]])
        runs.append(r[["strategy", "seed", "wall_seconds", "seconds_per_round"]])
    jobs = [delayed(_subgroup_run)(pool, target, goal, name, SUBGROUP[name], int(seed),
                                   budget, n_initial, batch_size)
            for seed in seeds for name in SUBGROUP if name in names]
    out = Parallel(n_jobs=n_jobs)(jobs)
    if out:
        parts.append(pd.concat([t.drop(columns="status") for t, _ in out]))
        runs.append(pd.DataFrame([r for _, r in out]))
    return pd.concat(parts, ignore_index=True), pd.concat(runs, ignore_index=True)


def stored_model_based(slug: str, seeds: range, budget: int
                       ) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Model-based traces of an earlier run with the same seeds and budget, else None."""
    tpath = RESULTS / f"subgroup_guided_traces_{slug}.csv"
    rpath = RESULTS / f"subgroup_guided_runs_{slug}.csv"
    if not (tpath.exists() and rpath.exists()):
        return None
    traces, runs = pd.read_csv(tpath), pd.read_csv(rpath)
    traces = traces[traces["strategy"].isin(list(CAMPAIGN))]
    runs = runs[runs["strategy"].isin(list(CAMPAIGN))]
    if (set(traces["seed"]) != set(seeds) or traces["step"].max() != budget
            or set(traces["strategy"]) != set(CAMPAIGN)):
        return None
    return traces, runs


def report(slug: str, pool: pd.DataFrame, target: str, goal: str, traces: pd.DataFrame,
           runs: pd.DataFrame, budget: int, fractions: tuple[float, ...]) -> pd.DataFrame:
    """Print and return one table per target-set fraction."""
    values = pool[target].to_numpy(dtype=float)
    checkpoints = tuple(c for c in (50, 100, 150) if c <= budget) or (budget,)
    per_round = runs.groupby("strategy", sort=False)["seconds_per_round"].median()
    tables = []
    for fraction in fractions:
        mask = top_fraction_mask(values, fraction, goal)
        t = traces.copy()
        t["hit"] = mask[pool.index.get_indexer(t["pool_index"])] & t["value"].notna()
        t["n_pool"] = int(np.isfinite(values).sum())
        t["n_targets"] = int(mask.sum())
        summary = summarize_traces(t, checkpoints=checkpoints, f_star=0.5)
        cols = ["first_hit_median", "first_hit_q25", "first_hit_q75"]
        for c in checkpoints:
            cols += [f"f{c}_median", f"f{c}_q25", f"f{c}_q75"]
        table = summary[cols].copy()
        table["s_per_round"] = per_round.reindex(table.index)
        table.insert(0, "top", f"{fraction:.0%} (K={int(mask.sum())})")
        print(f"\n## {slug}: N={len(pool)}, top {fraction:.0%} K={int(mask.sum())}, "
              f"seeds={traces['seed'].nunique()}, budget={budget}")
        with pd.option_context("display.width", 250, "display.max_columns", 40,
                               "display.float_format", "{:.3g}".format):
            print(table.drop(columns="top").to_string())
        tables.append(table)
    return pd.concat(tables)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=5)
    parser.add_argument("--n-initial", type=int, default=10)
    parser.add_argument("--datasets", nargs="+", default=["foppa"],
                        help="foppa and/or OER plates A B")
    parser.add_argument("--strategies", nargs="+", default=[*CAMPAIGN, *SUBGROUP])
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.01, 0.05])
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--reuse-model-based", action="store_true")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.strategies) - set(CAMPAIGN) - set(SUBGROUP))
    if unknown:
        parser.error(f"unknown strategies {unknown}; choose from {[*CAMPAIGN, *SUBGROUP]}")
    RESULTS.mkdir(exist_ok=True)
    for slug, (pool, target, goal) in datasets(args.datasets).items():
        start = time.perf_counter()
        names, stored = list(args.strategies), None
        if args.reuse_model_based:
            stored = stored_model_based(slug, range(args.seeds), args.budget)
            if stored is None:
                print(f"{slug}: no stored model-based traces for these seeds; running them")
            else:
                names = [n for n in names if n not in CAMPAIGN]
        traces, runs = run_all(pool, target, goal, names, range(args.seeds),
                               args.budget, args.n_initial, args.batch_size, args.n_jobs)
        if stored is not None:
            traces = pd.concat([stored[0][traces.columns], traces], ignore_index=True)
            runs = pd.concat([stored[1], runs], ignore_index=True)
        table = report(slug, pool, target, goal, traces, runs, args.budget,
                       tuple(args.fractions))
        traces.to_csv(RESULTS / f"subgroup_guided_traces_{slug}.csv", index=False)
        runs.to_csv(RESULTS / f"subgroup_guided_runs_{slug}.csv", index=False)
        table.to_csv(RESULTS / f"subgroup_guided_summary_{slug}.csv")
        sg = runs[runs["strategy"] == "subgroup"]
        if len(sg):
            print(f"rules per subgroup campaign (median): proposed "
                  f"{sg['n_rules_proposed'].median():.0f}, confirmed "
                  f"{sg['n_confirmed_rules'].median():.0f}, falsified "
                  f"{sg['n_falsified_rules'].median():.0f}; most tested rule (seed 0): "
                  f"{sg.sort_values('seed').iloc[0]['most_tested_rule']}")
        print(f"({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
