"""Sequential-learning benchmark (Rohr et al., Chem. Sci. 11, 2696 (2020) metrics).

Retrospective campaigns on bundled real data, every strategy on the same seeds (a seed
fixes the initial design):

* Rohr OER plates A and B (2,121 / 2,119 compositions, minimise the overpotential),
* Foppa et al. 2024 cubic ABO3 perovskites (504, maximise the DFT bulk modulus).

Strategies: random, and greedy / EI / UCB (kappa 2) / Thompson sampling with the SISSO
ensemble, a Gaussian process and a random forest. The target set is the top 1 % of each
pool. Prints per data set the median and IQR over seeds of the first hit, f(50), f(100),
f(150), EF(150), AF(0.5), the seconds per modelled round, and the formula the SISSO-EI
campaign ends with; writes the tables to ``benchmarks/results/``.

A second part times one round of a 50-member SISSO-ensemble campaign over a
2,000-candidate pool with 200 measured points (rung 2), split into fit and acquisition.

Run: ``.venv/bin/python -m benchmarks.bench_learning [--seeds 20] [--budget 150]
[--batch-size 5] [--datasets A B foppa] [--strategies random sisso-EI ...] [--n-jobs 2]
[--speed-only]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sisso_lite.datasets import load_foppa_perovskites, load_oer_plate
from sisso_lite.learning import Campaign
from sisso_lite.learning.metrics import summarize_traces
from sisso_lite.learning.retrospective import run_retrospective

RESULTS = Path(__file__).parent / "results"
ACQUISITIONS = {"greedy": "greedy", "EI": "ei", "UCB": "ucb", "TS": "thompson"}
SURROGATES = ("sisso", "gp", "rf")


def datasets(names: list[str]) -> dict[str, tuple[pd.DataFrame, str, str]]:
    """name -> (pool with target column, target, goal)."""
    out = {}
    for name in names:
        if name.lower() == "foppa":
            X, y, _, _ = load_foppa_perovskites()
            out["Foppa ABO3 bulk modulus"] = (X.assign(bulk_modulus=y.to_numpy())
                                              .reset_index(drop=True), "bulk_modulus",
                                              "maximize")
        else:
            X, y = load_oer_plate(name)
            out[f"OER plate {name.upper()}"] = (X.assign(overpotential_V=y), "overpotential_V",
                                                "minimize")
    return out


def strategies(surrogates=SURROGATES) -> dict[str, dict]:
    """Name -> Campaign options; Thompson batches draw one member per pick."""
    out = {"random": {"acquisition": "random"}}
    for sur in surrogates:
        for label, acq in ACQUISITIONS.items():
            out[f"{sur}-{label}"] = {"surrogate": sur, "acquisition": acq,
                                     "batch_strategy": "thompson" if acq == "thompson"
                                     else "top"}
    return out


def report(name: str, traces: pd.DataFrame, runs: pd.DataFrame, budget: int) -> pd.DataFrame:
    checkpoints = tuple(c for c in (50, 100, 150) if c <= budget) or (budget,)
    summary = summarize_traces(traces, checkpoints=checkpoints, f_star=0.5)
    per_round = runs.groupby("strategy", sort=False)["seconds_per_round"].median()
    summary["s_per_round"] = per_round.reindex(summary.index)
    cols = ["first_hit_median", "first_hit_q25", "first_hit_q75"]
    for c in checkpoints:
        cols += [f"f{c}_median", f"f{c}_q25", f"f{c}_q75"]
    cols += [f"ef{checkpoints[-1]}_median", "af_median", "af_reached", "s_per_round"]
    table = summary[cols]
    n_pool, n_targets = int(traces["n_pool"].iloc[0]), int(traces["n_targets"].iloc[0])
    print(f"\n## {name}: N={n_pool}, top-1% K={n_targets}, seeds={traces['seed'].nunique()}, "
          f"budget={budget}")
    with pd.option_context("display.width", 250, "display.max_columns", 40,
                           "display.float_format", "{:.3g}".format):
        print(table.to_string())
    sisso = runs[runs["strategy"] == "sisso-EI"]
    if len(sisso):
        seed0 = sisso.sort_values("seed").iloc[0]
        print(f"final law of sisso-EI (seed {int(seed0['seed'])}): {seed0['final_formula']}")
    return summary


def time_round(n_pool: int = 2000, n_measured: int = 200, repeat: int = 3) -> pd.DataFrame:
    """Seconds of one round of a 50-member SISSO campaign (plate A, warm numba)."""
    X, y = load_oer_plate("A")
    pool = X.assign(overpotential_V=y).iloc[:n_pool]
    rng = np.random.default_rng(0)
    measured = rng.choice(n_pool, n_measured, replace=False).tolist()
    rows = []
    for batch in (1, 5):
        camp = Campaign(pool, target="overpotential_V", goal="minimize", budget=n_measured + 50,
                        initial=measured, batch_size=batch, batch_strategy="top",
                        random_state=0, progress=False)
        camp.step()  # the initial design (no model)
        for _ in range(repeat):
            start = time.perf_counter()
            info = camp._choose(camp.round_, batch)
            wall = time.perf_counter() - start
            rows.append({"batch_size": batch, "wall_s": wall, "fit_s": info["fit_seconds"],
                         "acquisition_s": info["acquisition_seconds"]})
    table = pd.DataFrame(rows).groupby("batch_size").min()
    print(f"\n## one round: 50-member SISSO ensemble (max_complexity 3), pool {n_pool}, "
          f"{n_measured} measured; fastest of {repeat}")
    print(table.to_string(float_format="{:.3f}".format))
    return table


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=5)
    parser.add_argument("--datasets", nargs="+", default=["A", "B", "foppa"])
    parser.add_argument("--surrogates", nargs="+", default=list(SURROGATES))
    parser.add_argument("--strategies", nargs="+", default=None,
                        help="subset of strategy names, e.g. random sisso-EI gp-EI")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--verbose", type=int, default=0, help="joblib progress messages")
    args = parser.parse_args(argv)
    Campaign(datasets(["A"])["OER plate A"][0].iloc[:200], target="overpotential_V",
             budget=12, batch_size=2, random_state=0, progress=False).run()  # compile numba
    time_round()
    if args.speed_only:
        return
    RESULTS.mkdir(exist_ok=True)
    chosen = strategies(args.surrogates)
    if args.strategies:
        unknown = sorted(set(args.strategies) - set(chosen))
        if unknown:
            parser.error(f"unknown strategies {unknown}; choose from {sorted(chosen)}")
        chosen = {k: v for k, v in chosen.items() if k in args.strategies}
    for name, (pool, target, goal) in datasets(args.datasets).items():
        start = time.perf_counter()
        traces, runs = run_retrospective(
            pool, target, chosen, seeds=range(args.seeds), goal=goal,
            budget=args.budget, n_initial=10, batch_size=args.batch_size, n_jobs=args.n_jobs,
            verbose=args.verbose)
        slug = name.split()[-1] if name.startswith("OER") else "foppa"
        traces.to_csv(RESULTS / f"learning_traces_{slug}.csv", index=False)
        runs.to_csv(RESULTS / f"learning_runs_{slug}.csv", index=False)
        summary = report(name, traces, runs, args.budget)
        summary.to_csv(RESULTS / f"learning_summary_{slug}.csv")
        print(f"({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
